//! The outbox: the sync state of every event this device wrote. Pending until the server
//! answers; then accepted, duplicate, or rejected with the server's reason. Rejected
//! events stay visible (and in the log): nothing a person did is ever deleted.

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::model::EventId;
use crate::store::{
    EVENT_COLUMNS, Event, Store, StoreError, parse_time, parse_uuid, raw_event, timestamp,
};

/// Up to `?1` pending local events, lowest `seq` first (`outbox_state`, then each event
/// by id).
pub(super) fn pending_sql() -> String {
    format!(
        "SELECT {EVENT_COLUMNS} FROM events JOIN outbox ON outbox.event = events.id
          WHERE outbox.state = 'pending' ORDER BY events.seq LIMIT ?1"
    )
}

/// Where a local event stands with the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SyncState {
    /// Not acknowledged by the server yet.
    Pending,
    /// Stored by the server.
    Accepted,
    /// The server already had it (an earlier push whose answer was lost).
    Duplicate,
    /// Refused; kept here so a person can see why.
    Rejected {
        /// The server's reason.
        reason: String,
    },
}

impl SyncState {
    fn columns(&self) -> (&'static str, Option<&str>) {
        match self {
            SyncState::Pending => ("pending", None),
            SyncState::Accepted => ("accepted", None),
            SyncState::Duplicate => ("duplicate", None),
            SyncState::Rejected { reason } => ("rejected", Some(reason)),
        }
    }

    fn from_columns(state: &str, reason: Option<String>) -> Result<SyncState, StoreError> {
        match state {
            "pending" => Ok(SyncState::Pending),
            "accepted" => Ok(SyncState::Accepted),
            "duplicate" => Ok(SyncState::Duplicate),
            "rejected" => Ok(SyncState::Rejected {
                reason: reason.unwrap_or_default(),
            }),
            other => Err(StoreError::corrupt(
                "outbox entry",
                format!("unknown state {other:?}"),
            )),
        }
    }
}

/// One local event's sync state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The event.
    pub event: EventId,
    /// Its position in the device's chain.
    pub seq: u64,
    /// Its kind (`completed`, `excused`…).
    pub kind: String,
    /// Where it stands.
    pub state: SyncState,
    /// When the state last changed.
    pub changed_at: DateTime<Utc>,
}

/// How many local events are in each sync state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxSummary {
    /// Not yet acknowledged.
    pub pending: u64,
    /// Accepted.
    pub accepted: u64,
    /// Already known to the server.
    pub duplicate: u64,
    /// Refused.
    pub rejected: u64,
}

impl Store {
    /// Up to `limit` pending local events, oldest (lowest `seq`) first: the next batch to
    /// push.
    pub fn pending_events(&self, limit: usize) -> Result<Vec<Event>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare_cached(&pending_sql())?;
        let rows = stmt.query_map(params![limit], raw_event)?;
        let mut events = Vec::new();
        for row in rows {
            events.push(row?.decode()?);
        }
        Ok(events)
    }

    /// Records the server's answer for a local event. Returns `false` when the event is not
    /// in the outbox (not a local event).
    pub fn set_sync_state(
        &mut self,
        event: EventId,
        state: &SyncState,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (state, reason) = state.columns();
        let changed = self.conn.execute(
            "UPDATE outbox SET state = ?2, reason = ?3, changed_at = ?4 WHERE event = ?1",
            params![event.to_string(), state, reason, timestamp(now)],
        )?;
        Ok(changed > 0)
    }

    /// Records the server's answer to a whole push in one transaction: each `(event,
    /// state)`, in order. Events not in the outbox are skipped. Returns how many entries
    /// changed.
    pub fn set_sync_states(
        &mut self,
        rulings: &[(EventId, SyncState)],
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut changed = 0;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE outbox SET state = ?2, reason = ?3, changed_at = ?4 WHERE event = ?1",
            )?;
            let at = timestamp(now);
            for (event, state) in rulings {
                let (state, reason) = state.columns();
                changed += stmt.execute(params![event.to_string(), state, reason, at])?;
            }
        }
        tx.commit()?;
        Ok(changed)
    }

    /// Every local event's sync state, in `seq` order.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT outbox.event, events.seq, events.kind, outbox.state, outbox.reason,
                    outbox.changed_at
               FROM outbox JOIN events ON events.id = outbox.event
              ORDER BY events.seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut entries = Vec::new();
        for row in rows {
            let (event, seq, kind, state, reason, changed_at) = row?;
            entries.push(OutboxEntry {
                event: EventId(parse_uuid("outbox entry", &event)?),
                seq: u64::try_from(seq).unwrap_or(0),
                kind,
                state: SyncState::from_columns(&state, reason)?,
                changed_at: parse_time("outbox entry", &changed_at)?,
            });
        }
        Ok(entries)
    }

    /// How many local events are in each sync state.
    pub fn outbox_summary(&self) -> Result<OutboxSummary, StoreError> {
        let mut summary = OutboxSummary::default();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT state, count(*) FROM outbox GROUP BY state")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (state, n) = row?;
            let n = u64::try_from(n).unwrap_or(0);
            match state.as_str() {
                "pending" => summary.pending = n,
                "accepted" => summary.accepted = n,
                "duplicate" => summary.duplicate = n,
                "rejected" => summary.rejected = n,
                _ => {}
            }
        }
        Ok(summary)
    }
}
