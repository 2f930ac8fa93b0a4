//! Storing what a pull brought: a page of other devices' events and the cursor after it,
//! in one transaction, so a crash or a refused event never leaves the cursor past events
//! that were not stored (or events stored under an old cursor that a retry would skip).
//!
//! A fresh device pulls its sites' whole history this way (tens of thousands of events),
//! so each event costs one payload encoding, one SHA-256 and one `INSERT`: the table's
//! unique constraints (`id`, `(device, seq)`) find an event already stored or a forked
//! chain, and only then is the row holding the position looked up. Checking a page needs
//! no database ([`CheckedPage`]), so a device checks the next page on the thread that
//! fetched it while it stores this one.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use crate::store::events::Origin;
use crate::store::{
    Event, EventRow, INSERT_EVENT_IF_NEW, Store, StoreError, insert_event_row, timestamp,
};
use crate::sync::protocol::PulledEvent;

/// The event at position `?2` of chain `?1` (the unique `(device, seq)`).
pub(super) const CHAIN_POSITION: &str = "SELECT id FROM events WHERE device = ?1 AND seq = ?2";

/// A pulled page ready to store: every event's hash checked over its payload encoded as
/// the store keeps it (the bytes the hash covers, so they are encoded once), and its
/// sequence number in range. See [`Store::apply_checked_page`].
#[derive(Debug, Clone)]
pub struct CheckedPage {
    events: Vec<PulledEvent>,
    /// Per event, in page order: `seq` as stored and the payload's JSON.
    rows: Vec<(i64, String)>,
}

impl CheckedPage {
    /// Checks a pulled page: [`StoreError::BadPulledEvent`] for the first event whose hash
    /// does not match its fields or whose sequence number is out of range.
    pub fn check(events: Vec<PulledEvent>) -> Result<CheckedPage, StoreError> {
        let rows = check_rows(&events)?;
        Ok(CheckedPage { events, rows })
    }

    /// The page's events, in page order.
    pub fn events(&self) -> &[PulledEvent] {
        &self.events
    }
}

/// For each event, in order: its `seq` as stored and its payload's JSON, once its hash
/// is checked over those very bytes.
fn check_rows(page: &[PulledEvent]) -> Result<Vec<(i64, String)>, StoreError> {
    let mut rows = Vec::with_capacity(page.len());
    for pulled in page {
        let event = &pulled.event;
        let payload = serde_json::to_string(&event.payload)?;
        if !event.hash_matches_payload(&payload) {
            return Err(StoreError::BadPulledEvent {
                event: event.id,
                detail: "its hash does not match its fields (damaged or altered)".to_string(),
            });
        }
        let seq = i64::try_from(event.seq)
            .ok()
            .filter(|&s| s >= 1)
            .ok_or_else(|| StoreError::BadPulledEvent {
                event: event.id,
                detail: format!("its sequence number {} is out of range", event.seq),
            })?;
        rows.push((seq, payload));
    }
    Ok(rows)
}

impl Store {
    /// Stores a pulled page and the cursor `next_cursor` for `server`, all in one
    /// transaction. Idempotent: events already stored (by id) are skipped, and only the new
    /// ones are returned, in page order. Refuses the whole page, storing nothing and
    /// leaving the cursor where it was, when an event's hash does not match its fields or
    /// it claims a `(device, seq)` that another stored event holds
    /// ([`StoreError::BadPulledEvent`]). Each event keeps the clock skew the server flagged
    /// on it.
    pub fn apply_pull_page(
        &mut self,
        server: &str,
        page: &[PulledEvent],
        next_cursor: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Event>, StoreError> {
        let rows = check_rows(page)?;
        self.write_page(server, page, &rows, next_cursor, now)
    }

    /// [`Store::apply_pull_page`] for a page already checked ([`CheckedPage::check`]):
    /// the same transaction, without checking the hashes again.
    pub fn apply_checked_page(
        &mut self,
        server: &str,
        page: &CheckedPage,
        next_cursor: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Event>, StoreError> {
        self.write_page(server, &page.events, &page.rows, next_cursor, now)
    }

    /// Writes checked events (`rows` from [`check_rows`] for `page`) and the cursor in one
    /// immediate transaction.
    fn write_page(
        &mut self,
        server: &str,
        page: &[PulledEvent],
        rows: &[(i64, String)],
        next_cursor: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Event>, StoreError> {
        // Every row written here is `origin = 'remote'` with a `seq` checked to be at least
        // 1: its CHECK constraints hold by construction, and SQLite would evaluate
        // `origin IN ('local', 'import', 'remote')` by building a temporary table for each
        // row (a sixth of the write's time). They are waived for this transaction only:
        // the guard restores them however it ends (the pragma recompiles the cached
        // statements either way), so every other write is checked as before.
        let waived = ChecksWaived::new(&self.conn)?;
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let mut new = Vec::new();
        for (pulled, (seq, payload)) in page.iter().zip(rows) {
            let event = &pulled.event;
            let row = EventRow {
                event,
                origin: Origin::Remote,
                seq: *seq,
                payload,
                clock_skew_ms: pulled.clock_skew_ms,
            };
            if insert_event_row(&tx, INSERT_EVENT_IF_NEW, &row)? == 1 {
                new.push(event.clone());
                continue;
            }
            // Not written: its id or its chain position is taken. Stored already (the
            // position holds this very event, or the id is known) is fine; another event
            // at the position is a forked chain.
            let holder: Option<String> = tx
                .prepare_cached(CHAIN_POSITION)?
                .query_row(params![event.device.to_string(), seq], |r| r.get(0))
                .optional()?;
            if let Some(holder) = holder
                && holder != event.id.to_string()
            {
                return Err(StoreError::BadPulledEvent {
                    event: event.id,
                    detail: format!(
                        "it claims position {} of device {}, which event {holder} already holds",
                        event.seq, event.device
                    ),
                });
            }
        }
        tx.prepare_cached(
            "INSERT INTO sync_cursors (server, cursor, changed_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (server) DO UPDATE SET cursor = excluded.cursor,
                                                changed_at = excluded.changed_at",
        )?
        .execute(params![server, next_cursor, timestamp(now)])?;
        tx.commit()?;
        waived.restore()?;
        Ok(new)
    }
}

/// CHECK constraints waived on a connection (`PRAGMA ignore_check_constraints`) until
/// [`ChecksWaived::restore`] or drop.
struct ChecksWaived<'c> {
    conn: &'c Connection,
    restored: bool,
}

impl<'c> ChecksWaived<'c> {
    fn new(conn: &'c Connection) -> Result<ChecksWaived<'c>, StoreError> {
        conn.pragma_update(None, "ignore_check_constraints", true)?;
        Ok(ChecksWaived {
            conn,
            restored: false,
        })
    }

    /// Enforces the constraints again, reporting a failure.
    fn restore(mut self) -> Result<(), StoreError> {
        self.restored = true;
        self.conn
            .pragma_update(None, "ignore_check_constraints", false)?;
        Ok(())
    }
}

impl Drop for ChecksWaived<'_> {
    fn drop(&mut self) {
        if !self.restored {
            // An early return (a refused page, a failed write): the transaction is already
            // rolled back; this only flips a flag of the connection.
            let _ = self
                .conn
                .pragma_update(None, "ignore_check_constraints", false);
        }
    }
}
