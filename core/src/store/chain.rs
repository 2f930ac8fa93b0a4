//! Auditing the hash chains: every event this device wrote (and the definitions it
//! imported) is re-hashed and re-linked, so a deleted, inserted, reordered or altered row
//! is found.

use std::fmt;

use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::model::{DeviceId, EventId};
use crate::store::events::{GENESIS_HASH, Origin, import_chain};
use crate::store::{EVENT_COLUMNS, RawEvent, Store, StoreError, raw_event};

/// The outcome of [`Store::verify_chain`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainReport {
    /// The device whose chain was checked.
    pub device: DeviceId,
    /// Events of the device's own chain checked.
    pub local_events: u64,
    /// Imported definition events checked.
    pub import_events: u64,
    /// The first problem found (own chain first, then the import chain); `None` when both
    /// chains are intact.
    pub first_broken: Option<BrokenEvent>,
}

impl ChainReport {
    /// Whether no problem was found.
    pub fn is_intact(&self) -> bool {
        self.first_broken.is_none()
    }
}

/// The first broken event of a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokenEvent {
    /// Which chain: [`Origin::Local`] (the device's own) or [`Origin::Import`].
    pub chain: Origin,
    /// The position where the chain breaks (the `seq` expected there).
    pub seq: u64,
    /// The event found there, when it has a readable id.
    pub event: Option<EventId>,
    /// What is wrong.
    pub problem: ChainProblem,
}

impl fmt::Display for BrokenEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chain = match self.chain {
            Origin::Import => "imported definition",
            _ => "event",
        };
        write!(f, "{chain} #{}", self.seq)?;
        if let Some(id) = self.event {
            write!(f, " ({id})")?;
        }
        write!(f, ": {}", self.problem)
    }
}

/// What is wrong at a chain's first broken event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChainProblem {
    /// Events are missing: the sequence jumps (deleted rows).
    Missing {
        /// The sequence number found instead.
        found_seq: u64,
    },
    /// The event does not link to the previous one (inserted, reordered or replaced).
    BrokenLink {
        /// The previous event's hash.
        expected: String,
        /// The `prev_hash` stored.
        found: String,
    },
    /// The event's fields do not give its hash (altered after it was written).
    Altered {
        /// The hash stored.
        stored: String,
        /// The hash of the fields as they are now.
        computed: String,
    },
    /// The event's indexed columns (kind, occurrence, routine, due, time) disagree with its
    /// payload, which would hide it from windowed reads.
    IndexAltered,
    /// The row cannot be decoded at all.
    Unreadable {
        /// Why.
        detail: String,
    },
    /// A row claims to belong to this chain but names another device.
    ForeignDevice {
        /// The device it names.
        device: String,
    },
}

impl fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainProblem::Missing { found_seq } => {
                write!(f, "missing: the next event stored is #{found_seq} (events were deleted)")
            }
            ChainProblem::BrokenLink { .. } => f.write_str(
                "does not link to the event before it (an event was inserted, replaced or reordered)",
            ),
            ChainProblem::Altered { .. } => {
                f.write_str("was changed after it was written (its hash does not match)")
            }
            ChainProblem::IndexAltered => {
                f.write_str("its indexed columns were changed (they disagree with its contents)")
            }
            ChainProblem::Unreadable { detail } => write!(f, "cannot be read: {detail}"),
            ChainProblem::ForeignDevice { device } => {
                write!(f, "names another device ({device})")
            }
        }
    }
}

impl Store {
    /// Re-hashes and re-links this device's chain and its import chain: `seq` from 1
    /// without gaps, each `prev_hash` the previous `hash` ([`GENESIS_HASH`] first), each
    /// `hash` recomputed from the fields, indexed columns matching the payload. Reports the
    /// first broken event; an `Err` only when the database cannot be read.
    pub fn verify_chain(&self) -> Result<ChainReport, StoreError> {
        let identity = self.identity()?.ok_or(StoreError::NotInitialised)?;
        let device = identity.device;
        let (local_events, local_broken) = self.check_chain(Origin::Local, device)?;
        let (import_events, import_broken) =
            self.check_chain(Origin::Import, import_chain(device))?;
        Ok(ChainReport {
            device,
            local_events,
            import_events,
            first_broken: local_broken.or(import_broken),
        })
    }

    fn check_chain(
        &self,
        origin: Origin,
        device: DeviceId,
    ) -> Result<(u64, Option<BrokenEvent>), StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE origin = ?1 OR device = ?2 ORDER BY seq, pos"
        ))?;
        let rows = stmt.query_map(params![origin.as_str(), device.to_string()], raw_event)?;
        let mut checked = 0u64;
        let mut prev = GENESIS_HASH.to_string();
        for (expected_seq, row) in (1u64..).zip(rows) {
            let raw = row?;
            checked = expected_seq;
            if let Some(problem) = check_one(&raw, origin, device, expected_seq, &prev) {
                let broken = BrokenEvent {
                    chain: origin,
                    seq: expected_seq,
                    event: uuid::Uuid::parse_str(&raw.id).ok().map(EventId),
                    problem,
                };
                return Ok((checked, Some(broken)));
            }
            prev = raw.hash;
        }
        Ok((checked, None))
    }
}

fn check_one(
    raw: &RawEvent,
    origin: Origin,
    device: DeviceId,
    expected_seq: u64,
    prev: &str,
) -> Option<ChainProblem> {
    if raw.device != device.to_string() || raw.origin != origin.as_str() {
        return Some(ChainProblem::ForeignDevice {
            device: raw.device.clone(),
        });
    }
    let seq = u64::try_from(raw.seq).unwrap_or(0);
    if seq != expected_seq {
        return Some(ChainProblem::Missing { found_seq: seq });
    }
    let event = match raw.decode() {
        Ok(event) => event,
        Err(e) => {
            return Some(ChainProblem::Unreadable {
                detail: e.to_string(),
            });
        }
    };
    if event.prev_hash != prev {
        return Some(ChainProblem::BrokenLink {
            expected: prev.to_string(),
            found: event.prev_hash,
        });
    }
    match event.compute_hash() {
        Ok(computed) if computed == event.hash => {}
        Ok(computed) => {
            return Some(ChainProblem::Altered {
                stored: event.hash.clone(),
                computed,
            });
        }
        Err(e) => {
            return Some(ChainProblem::Unreadable {
                detail: e.to_string(),
            });
        }
    }
    if !raw.index_matches(&event) {
        return Some(ChainProblem::IndexAltered);
    }
    None
}
