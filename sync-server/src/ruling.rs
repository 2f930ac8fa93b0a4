//! Ruling on pushed events: the per-device chain rules of the protocol (the next `seq`
//! only, linked to the previous event's hash; replays answered as before; a gap stops the
//! batch) and then [`trust::judge`] for what the event says.
//!
//! Definitions accepted earlier in a batch count for the events after them (a routine
//! defined, then completed): the ruler works on its own copy of the org, made on the
//! first accepted definition and handed back to be published once the batch is durable.

use std::collections::HashSet;
use std::sync::Arc;

use proofline_core::model::EventId;
use proofline_core::sync::protocol::{PushOutcome, RejectCode};

use crate::org::OrgState;
use crate::storage::{
    DeviceRecord, EventIds, Known, PreparedEvent, RecordedOutcome, Ruler, Ruling, StorageError,
};
use crate::trust;

/// Rules on one device's push.
#[derive(Debug)]
pub struct PushRuler<'a> {
    device: &'a DeviceRecord,
    device_label: &'a str,
    base: Arc<OrgState>,
    working: Option<OrgState>,
    accepted: HashSet<EventId>,
    gap: bool,
}

impl<'a> PushRuler<'a> {
    /// A ruler for a push by `device` against the org `base`. `device_label` names the
    /// device in messages ("Maria Lopez's device Kitchen phone").
    pub fn new(device: &'a DeviceRecord, device_label: &'a str, base: Arc<OrgState>) -> Self {
        PushRuler {
            device,
            device_label,
            base,
            working: None,
            accepted: HashSet::new(),
            gap: false,
        }
    }

    /// The org after the batch's accepted definitions, if there were any.
    pub fn into_changed_org(self) -> Option<OrgState> {
        self.working
    }

    fn org(&self) -> &OrgState {
        self.working.as_ref().unwrap_or(&self.base)
    }

    fn judge(&mut self, prepared: &PreparedEvent) -> Ruling {
        let event = &prepared.event;
        let Some(person) = self.org().org().person(self.device.person) else {
            return Ruling::Reject {
                code: RejectCode::NotAllowed,
                reason: format!(
                    "the person {} that {} belongs to is not defined on this server",
                    self.device.person, self.device_label
                ),
            };
        };
        match trust::judge(self.org(), person, prepared) {
            Ok(()) => {
                if event.payload.is_definition() {
                    self.working
                        .get_or_insert_with(|| (*self.base).clone())
                        .apply(event.site, &event.payload);
                }
                self.accepted.insert(event.id);
                Ruling::Accept
            }
            Err(refusal) => Ruling::Reject {
                code: refusal.code,
                reason: refusal.reason,
            },
        }
    }
}

fn reply(code: RejectCode, reason: String, expected_seq: Option<u64>) -> Ruling {
    Ruling::Reply(PushOutcome::Rejected {
        code,
        reason,
        expected_seq,
    })
}

fn id_used(id: EventId) -> (RejectCode, String) {
    (
        RejectCode::Invalid,
        format!("event id {id} is already used by another event"),
    )
}

fn reject((code, reason): (RejectCode, String)) -> Ruling {
    Ruling::Reject { code, reason }
}

impl Ruler for PushRuler<'_> {
    fn rule(
        &mut self,
        prepared: &PreparedEvent,
        known: &Known<'_>,
        ids: &mut dyn EventIds,
    ) -> Result<Ruling, StorageError> {
        let event = &prepared.event;
        if event.device != self.device.id {
            return Ok(reply(
                RejectCode::WrongDevice,
                format!(
                    "event {} belongs to the chain of device {}, but it was pushed by {}",
                    event.id, event.device, self.device_label
                ),
                None,
            ));
        }
        if event.seq == 0 {
            return Ok(reply(
                RejectCode::Invalid,
                format!(
                    "event {} has seq 0; a device numbers its events from 1",
                    event.id
                ),
                None,
            ));
        }
        if let Some(prior) = &known.at_seq {
            if prior.id != event.id {
                return Ok(reply(
                    RejectCode::SequenceConflict,
                    format!(
                        "seq {} of {} is already taken by event {}; event {} forks the chain",
                        event.seq, self.device_label, prior.id, event.id
                    ),
                    None,
                ));
            }
            if prior.hash != event.hash {
                return Ok(reply(
                    RejectCode::SequenceConflict,
                    format!(
                        "event {} (seq {}) was received before with different content",
                        event.id, event.seq
                    ),
                    None,
                ));
            }
            return Ok(Ruling::Reply(match &prior.outcome {
                RecordedOutcome::Accepted { .. } => PushOutcome::Duplicate,
                RecordedOutcome::Rejected { code, reason } => PushOutcome::Rejected {
                    code: *code,
                    reason: reason.clone(),
                    expected_seq: None,
                },
            }));
        }
        let expected = known.head.seq.saturating_add(1);
        if event.seq < expected {
            return Ok(reply(
                RejectCode::SequenceConflict,
                format!(
                    "seq {} of {} was already used",
                    event.seq, self.device_label
                ),
                None,
            ));
        }
        if self.gap || event.seq != expected {
            self.gap = true;
            return Ok(reply(
                RejectCode::SequenceGap,
                format!(
                    "{} sent seq {} but the server expects seq {expected} next; push the \
                     earlier events first",
                    self.device_label, event.seq
                ),
                Some(expected),
            ));
        }
        // From here on the ruling is recorded and the chain moves past this seq.
        if !prepared.hash_is_valid() {
            return Ok(Ruling::Reject {
                code: RejectCode::BadHash,
                reason: format!(
                    "the hash of event {} (seq {}) does not match its content",
                    event.id, event.seq
                ),
            });
        }
        if event.prev_hash != known.head.hash {
            return Ok(Ruling::Reject {
                code: RejectCode::BadHash,
                reason: format!(
                    "event {} (seq {}) links to previous hash {}, but the previous event of {} \
                     has hash {}",
                    event.id,
                    event.seq,
                    short(&event.prev_hash),
                    self.device_label,
                    short(&known.head.hash)
                ),
            });
        }
        if event.author != self.device.person {
            return Ok(Ruling::Reject {
                code: RejectCode::WrongDevice,
                reason: format!(
                    "event {} is authored by {}, but {} belongs to {}",
                    event.id,
                    self.org().org().person_name(event.author),
                    self.device_label,
                    self.org().org().person_name(self.device.person)
                ),
            });
        }
        if self.accepted.contains(&event.id) {
            return Ok(reject(id_used(event.id)));
        }
        // A definition changes the org when accepted, so its id is looked up first. Work
        // is judged first: an accepted one's id is checked by the storage's UNIQUE
        // constraint as it is inserted (`id_reused`), a refused one's looked up here, so
        // a reused id is named whatever else is wrong.
        let definition = event.payload.is_definition();
        if definition && ids.taken(event.id)? {
            return Ok(reject(id_used(event.id)));
        }
        Ok(match self.judge(prepared) {
            Ruling::Reject { .. } if !definition && ids.taken(event.id)? => {
                reject(id_used(event.id))
            }
            ruling => ruling,
        })
    }

    fn id_reused(&mut self, prepared: &PreparedEvent) -> (RejectCode, String) {
        self.accepted.remove(&prepared.event.id);
        id_used(prepared.event.id)
    }
}

/// Accepts every event of the server's own chain (the admin API has checked them).
#[derive(Debug, Default)]
pub struct ServerChainRuler;

impl Ruler for ServerChainRuler {
    fn rule(
        &mut self,
        prepared: &PreparedEvent,
        _known: &Known<'_>,
        ids: &mut dyn EventIds,
    ) -> Result<Ruling, StorageError> {
        // Definitions change the org: look the id up rather than find out on insert.
        if ids.taken(prepared.event.id)? {
            return Ok(reject(id_used(prepared.event.id)));
        }
        Ok(Ruling::Accept)
    }

    fn id_reused(&mut self, prepared: &PreparedEvent) -> (RejectCode, String) {
        id_used(prepared.event.id)
    }
}

/// The first 12 characters of a hash, for messages.
fn short(hash: &str) -> String {
    hash.chars().take(12).collect()
}
