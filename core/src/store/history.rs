//! Windowed reads of the work history (completions, excuses, acknowledgements).
//!
//! The engines take a [`History`]; the device asks only for the part a call needs, read
//! through the `due`, `routine` and `acted_at` indexes (migration 2), so two years of
//! completions cost nothing when the attention feed looks at the last day.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use crate::model::{History, OccurrenceId, RoutineId};
use crate::store::events::EventPayload;
use crate::store::{Store, StoreError, decode_payload, parse_uuid};

/// Every completion, excuse and acknowledgement (audits, tests).
pub(super) const EVERYTHING: &str = concat!(
    "SELECT pos, payload FROM events
      WHERE kind IN ('completed', 'excused', 'acknowledged') AND ",
    not_rejected!()
);
/// Completions and excuses due in `[?1, ?2)` (`events_due`).
pub(super) const DUE: &str = concat!(
    "SELECT pos, payload FROM events WHERE due >= ?1 AND due < ?2 AND ",
    not_rejected!()
);
/// Completions and excuses of routine `?1` due at or after `?2` (`events_routine_due`).
pub(super) const ROUTINE: &str = concat!(
    "SELECT pos, payload FROM events WHERE routine = ?1 AND due >= ?2 AND ",
    not_rejected!()
);
/// Acknowledgements made at or after `?1` (`events_acks`).
pub(super) const ACKS: &str = concat!(
    "SELECT pos, payload FROM events WHERE kind = 'acknowledged' AND acted_at >= ?1 AND ",
    not_rejected!()
);
/// The routine and due instant of occurrence `?1`, from its first completion or excuse
/// (`events_occurrence_prefix`: the first 8 hex digits, then the whole id).
pub(super) const OCCURRENCE_DUE: &str = "SELECT routine, due FROM events
      WHERE substr(occurrence, 1, 8) = substr(?1, 1, 8) AND occurrence = ?1
        AND routine IS NOT NULL AND due IS NOT NULL
      ORDER BY pos LIMIT 1";

/// Which completions, excuses and acknowledgements to read. The parts are unioned; an
/// event matching several is read once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryWindow {
    /// Everything (audits and tests); the other fields are then ignored.
    pub everything: bool,
    /// Completions and excuses of occurrences due in `[from, until)`, of every routine.
    pub due: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Completions and excuses of one routine due at or after an instant (`None`: all of
    /// them), for routines that need a deeper look-back than `due`.
    pub routines: Vec<(RoutineId, Option<DateTime<Utc>>)>,
    /// Acknowledgements made at or after this instant.
    pub acks_from: Option<DateTime<Utc>>,
}

impl HistoryWindow {
    /// The whole history.
    pub fn everything() -> HistoryWindow {
        HistoryWindow {
            everything: true,
            ..HistoryWindow::default()
        }
    }
}

impl Store {
    /// The completions, excuses and acknowledgements `window` selects, of every origin,
    /// leaving out this device's events the server finally rejected (they stay in the log
    /// and the outbox, but count in no state).
    pub fn history(&self, window: &HistoryWindow) -> Result<History, StoreError> {
        let mut reader = Reader {
            store: self,
            seen: HashSet::new(),
            history: History::default(),
        };
        if window.everything {
            reader.read(EVERYTHING, [])?;
            return Ok(reader.history);
        }
        if let Some((from, until)) = window.due {
            reader.read(DUE, params![from.timestamp(), until.timestamp()])?;
        }
        for (routine, from) in &window.routines {
            let from = from.map_or(i64::MIN, |f| f.timestamp());
            reader.read(ROUTINE, params![routine.to_string(), from])?;
        }
        if let Some(from) = window.acks_from {
            reader.read(ACKS, params![from.timestamp()])?;
        }
        Ok(reader.history)
    }

    /// The routine and due instant of an occurrence, from the first completion or excuse
    /// recorded for it (they carry both), if any.
    pub fn occurrence_due(
        &self,
        occurrence: OccurrenceId,
    ) -> Result<Option<(RoutineId, DateTime<Utc>)>, StoreError> {
        let row: Option<(String, i64)> = self
            .conn
            .prepare_cached(OCCURRENCE_DUE)?
            .query_row(params![occurrence.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let Some((routine, due)) = row else {
            return Ok(None);
        };
        let routine = RoutineId(parse_uuid("event", &routine)?);
        let due = DateTime::from_timestamp(due, 0)
            .ok_or_else(|| StoreError::corrupt("event", format!("due {due}")))?;
        Ok(Some((routine, due)))
    }
}

struct Reader<'s> {
    store: &'s Store,
    /// Rows already read (by `pos`), so overlapping parts are read once.
    seen: HashSet<i64>,
    history: History,
}

impl Reader<'_> {
    /// Reads `(pos, payload)` rows, decoding each payload once per store (events never
    /// change, so decoded payloads are kept by `pos`).
    fn read(&mut self, sql: &str, params: impl rusqlite::Params) -> Result<(), StoreError> {
        let mut stmt = self.store.conn.prepare_cached(sql)?;
        let mut rows = stmt.query(params)?;
        let mut cache = self.store.decoded.borrow_mut();
        if cache.len() > DECODED_CAPACITY {
            cache.clear();
        }
        while let Some(row) = rows.next()? {
            let pos: i64 = row.get(0)?;
            if !self.seen.insert(pos) {
                continue;
            }
            let payload = match cache.get(&pos) {
                Some(payload) => payload,
                None => {
                    let text = row.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
                    cache.entry(pos).or_insert(decode_payload(text)?)
                }
            };
            match payload {
                EventPayload::Completed(c) => self.history.completions.push(c.clone()),
                EventPayload::Excused(e) => self.history.excuses.push(e.clone()),
                EventPayload::Acknowledged(a) => self.history.acknowledgements.push(a.clone()),
                _ => {}
            }
        }
        Ok(())
    }
}

/// Decoded payloads kept per store; past this many the cache starts over (a window of a
/// busy site is a few thousand events).
const DECODED_CAPACITY: usize = 50_000;
