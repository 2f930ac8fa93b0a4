//! Storing what a pull brought: a page of other devices' events and the cursor after it,
//! in one transaction, so a crash or a refused event never leaves the cursor past events
//! that were not stored (or events stored under an old cursor that a retry would skip).

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use crate::store::events::Origin;
use crate::store::{Event, Store, StoreError, insert_event, timestamp};
use crate::sync::protocol::PulledEvent;

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
        if let Some(bad) = page.iter().find(|p| !p.event.hash_is_valid()) {
            return Err(StoreError::BadPulledEvent {
                event: bad.event.id,
                detail: "its hash does not match its fields (damaged or altered)".to_string(),
            });
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut new = Vec::new();
        for pulled in page {
            let event = &pulled.event;
            let id = event.id.to_string();
            let known: Option<i64> = tx
                .prepare_cached("SELECT pos FROM events WHERE id = ?1")?
                .query_row(params![id], |r| r.get(0))
                .optional()?;
            if known.is_some() {
                continue;
            }
            let seq = i64::try_from(event.seq).map_err(|_| StoreError::BadPulledEvent {
                event: event.id,
                detail: format!("its sequence number {} is out of range", event.seq),
            })?;
            let holder: Option<String> = tx
                .prepare_cached("SELECT id FROM events WHERE device = ?1 AND seq = ?2")?
                .query_row(params![event.device.to_string(), seq], |r| r.get(0))
                .optional()?;
            if let Some(holder) = holder {
                return Err(StoreError::BadPulledEvent {
                    event: event.id,
                    detail: format!(
                        "it claims position {} of device {}, which event {holder} already holds",
                        event.seq, event.device
                    ),
                });
            }
            insert_event(&tx, event, Origin::Remote, pulled.clock_skew_ms)?;
            new.push(event.clone());
        }
        tx.execute(
            "INSERT INTO sync_cursors (server, cursor, changed_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (server) DO UPDATE SET cursor = excluded.cursor,
                                                changed_at = excluded.changed_at",
            params![server, next_cursor, timestamp(now)],
        )?;
        tx.commit()?;
        Ok(new)
    }
}
