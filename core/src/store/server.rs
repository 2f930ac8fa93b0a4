//! The sync server a device is enrolled with (one at most): its address, the device's
//! bearer token, and how the last sync went (when it last completed, the clock offset last
//! measured, the last error). Also the clock-skew flags of events.
//!
//! The token is kept in the device's private database (the app's sandbox); it is never
//! printed ([`SyncServer`]'s `Debug` hides it).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::model::{EscalationId, EventId};
use crate::store::{
    EventPayload, Store, StoreError, decode_payload, parse_time, parse_uuid, timestamp,
};
use crate::sync::protocol::MAX_CLOCK_SKEW_MS;

/// Completions whose times are suspect, in arrival order (`events_skewed`).
pub(super) const SKEWED: &str = concat!(
    "SELECT id FROM events
      WHERE kind = 'completed' AND clock_skew_ms IS NOT NULL AND ",
    not_rejected!(),
    " ORDER BY pos"
);

/// Escalation levels the server fired at or after `?1` (`events_fired`).
pub(super) const FIRED: &str =
    "SELECT payload FROM events WHERE kind = 'escalation_fired' AND acted_at >= ?1";

/// The server this device syncs with, and how its last sync went.
#[derive(Clone, PartialEq, Eq)]
pub struct SyncServer {
    /// Base URL, without a trailing slash (`https://sync.example.com`).
    pub base_url: String,
    /// The device's bearer token (secret).
    pub token: String,
    /// When the device enrolled.
    pub enrolled_at: DateTime<Utc>,
    /// When a sync last completed without an error.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// The clock offset last measured (server − device, milliseconds).
    pub clock_offset_ms: Option<i64>,
    /// When it was measured (the device's clock).
    pub clock_offset_at: Option<DateTime<Utc>>,
    /// What went wrong in the last sync that did not complete (cleared by one that does).
    pub last_error: Option<String>,
    /// When that was.
    pub last_error_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for SyncServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncServer")
            .field("base_url", &self.base_url)
            .field("token", &"<hidden>")
            .field("enrolled_at", &self.enrolled_at)
            .field("last_sync_at", &self.last_sync_at)
            .field("clock_offset_ms", &self.clock_offset_ms)
            .field("clock_offset_at", &self.clock_offset_at)
            .field("last_error", &self.last_error)
            .field("last_error_at", &self.last_error_at)
            .finish()
    }
}

impl SyncServer {
    /// A server just enrolled with: nothing synced yet, the offset measured on enrolling.
    pub fn enrolled(
        base_url: &str,
        token: &str,
        enrolled_at: DateTime<Utc>,
        clock_offset_ms: Option<i64>,
    ) -> SyncServer {
        SyncServer {
            base_url: base_url.to_string(),
            token: token.to_string(),
            enrolled_at,
            last_sync_at: None,
            clock_offset_ms,
            clock_offset_at: clock_offset_ms.map(|_| enrolled_at),
            last_error: None,
            last_error_at: None,
        }
    }

    /// Whether the last measured offset is beyond [`MAX_CLOCK_SKEW_MS`].
    pub fn clock_is_skewed(&self) -> bool {
        self.clock_offset_ms.is_some_and(is_skewed)
    }
}

/// Whether an offset (ms) is beyond [`MAX_CLOCK_SKEW_MS`] either way.
pub(crate) fn is_skewed(offset_ms: i64) -> bool {
    offset_ms
        .checked_abs()
        .is_none_or(|a| a > MAX_CLOCK_SKEW_MS)
}

pub(crate) fn insert_server(conn: &Connection, server: &SyncServer) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO sync_server (id, base_url, token, enrolled_at, last_sync_at,
                                  clock_offset_ms, clock_offset_at, last_error, last_error_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            server.base_url,
            server.token,
            timestamp(server.enrolled_at),
            server.last_sync_at.map(timestamp),
            server.clock_offset_ms,
            server.clock_offset_at.map(timestamp),
            server.last_error,
            server.last_error_at.map(timestamp),
        ],
    )?;
    Ok(())
}

/// The last measured clock offset when it is beyond the allowed skew (read inside the
/// transaction that writes a local event, which records it on the event).
pub(crate) fn skew_beyond_limit(conn: &Connection) -> Result<Option<i64>, StoreError> {
    let offset: Option<Option<i64>> = conn
        .prepare_cached("SELECT clock_offset_ms FROM sync_server WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?;
    Ok(offset.flatten().filter(|o| is_skewed(*o)))
}

type ServerRow = (
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl Store {
    /// The server this device is enrolled with, if any.
    pub fn sync_server(&self) -> Result<Option<SyncServer>, StoreError> {
        let row: Option<ServerRow> = self
            .conn
            .prepare_cached(
                "SELECT base_url, token, enrolled_at, last_sync_at, clock_offset_ms,
                        clock_offset_at, last_error, last_error_at
                   FROM sync_server WHERE id = 1",
            )?
            .query_row([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            })
            .optional()?;
        let Some((base_url, token, enrolled_at, last_sync_at, offset, offset_at, error, error_at)) =
            row
        else {
            return Ok(None);
        };
        let time = |t: Option<String>| t.map(|t| parse_time("sync server", &t)).transpose();
        Ok(Some(SyncServer {
            base_url,
            token,
            enrolled_at: parse_time("sync server", &enrolled_at)?,
            last_sync_at: time(last_sync_at)?,
            clock_offset_ms: offset,
            clock_offset_at: time(offset_at)?,
            last_error: error,
            last_error_at: time(error_at)?,
        }))
    }

    /// Records how a sync at `now` ended: the clock offset it measured (if any; the last
    /// one is kept otherwise), and either completion (`error` `None`: last sync time set,
    /// last error cleared) or the first thing that went wrong. One transaction. Returns
    /// `false` when the device is not enrolled.
    pub fn record_sync(
        &mut self,
        now: DateTime<Utc>,
        clock_offset_ms: Option<i64>,
        error: Option<&str>,
    ) -> Result<bool, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let at = timestamp(now);
        let mut changed = 0;
        if let Some(offset) = clock_offset_ms {
            changed += tx.execute(
                "UPDATE sync_server SET clock_offset_ms = ?1, clock_offset_at = ?2 WHERE id = 1",
                params![offset, at],
            )?;
        }
        changed += match error {
            None => tx.execute(
                "UPDATE sync_server SET last_sync_at = ?1, last_error = NULL,
                                        last_error_at = NULL WHERE id = 1",
                params![at],
            )?,
            Some(error) => tx.execute(
                "UPDATE sync_server SET last_error = ?1, last_error_at = ?2 WHERE id = 1",
                params![error, at],
            )?,
        };
        tx.commit()?;
        Ok(changed > 0)
    }

    /// Completions whose times are suspect, in arrival order: pulled ones the server
    /// flagged for clock skew, and this device's own written while its last measured clock
    /// offset was beyond the allowed skew (finally rejected ones left out).
    pub fn skewed_completions(&self) -> Result<Vec<EventId>, StoreError> {
        let mut stmt = self.conn.prepare_cached(SKEWED)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut ids = Vec::new();
        for id in rows {
            ids.push(EventId(parse_uuid("event", &id?)?));
        }
        Ok(ids)
    }

    /// The escalation levels the server recorded as fired (`escalation_fired` events from
    /// its chain, arrived by pull) at or after `since`.
    pub fn fired_escalations(
        &self,
        since: DateTime<Utc>,
    ) -> Result<HashSet<EscalationId>, StoreError> {
        let mut stmt = self.conn.prepare_cached(FIRED)?;
        let rows = stmt.query_map(params![since.timestamp()], |r| r.get::<_, String>(0))?;
        let mut fired = HashSet::new();
        for payload in rows {
            if let EventPayload::EscalationFired(f) = decode_payload(&payload?)? {
                fired.insert(f.escalation);
            }
        }
        Ok(fired)
    }

    /// How far the writing device's clock was off when `event` was written or pushed, if it
    /// was beyond the allowed skew (milliseconds, server − device).
    pub fn clock_skew(&self, event: EventId) -> Result<Option<i64>, StoreError> {
        let skew: Option<Option<i64>> = self
            .conn
            .prepare_cached("SELECT clock_skew_ms FROM events WHERE id = ?1")?
            .query_row(params![event.to_string()], |r| r.get(0))
            .optional()?;
        Ok(skew.flatten())
    }
}
