//! Escalation timeline: which levels fired, whom they notify, what ends the chain.
//!
//! Levels are measured from the due time and each fires once. An acknowledgement silences
//! re-notification of its own level only: later levels still fire. Only valid proof (a
//! completion) or an excuse ends the chain; a level due at or after the end never fires.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::assignee::{Assignment, assignee};
use crate::ids::uuid_v5;
use crate::model::{
    EscalationId, EventId, History, OccurrenceId, Org, PersonId, Recipient, Routine,
};
use crate::occurrence::{Events, Occurrence, plus_minutes, valid_completion_in};

/// The id of escalation level `level` (1-based) of an occurrence.
///
/// Part of the sync contract (acknowledgements name it), reproduced by every client:
/// `UUIDv5(namespace = occurrence id, name = UTF-8 of "level:{level}")`.
pub fn escalation_id(occurrence: OccurrenceId, level: usize) -> EscalationId {
    // Derived for every level of every occurrence the engine looks at: on the stack.
    use std::io::Write as _;
    let mut name = [0u8; 32];
    let mut cursor = std::io::Cursor::new(&mut name[..]);
    let _ = write!(cursor, "level:{level}");
    let len = usize::try_from(cursor.position()).unwrap_or(0);
    EscalationId(uuid_v5(&occurrence.0, &name[..len]))
}

/// The ids of the first `levels` escalation levels of `occurrence`, in order.
pub(crate) fn level_ids(occurrence: OccurrenceId, levels: usize) -> Vec<EscalationId> {
    (1..=levels)
        .map(|level| escalation_id(occurrence, level))
        .collect()
}

/// The escalation chain of one occurrence as it stands at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    /// The occurrence.
    pub occurrence: OccurrenceId,
    /// Its assignee (whom [`Recipient::Assignee`] resolves to).
    pub assignment: Assignment,
    /// Every level of the routine's chain, in order.
    pub levels: Vec<LevelState>,
    /// What ended the chain, if anything has by the evaluation instant.
    pub ended: Option<ChainEnd>,
}

impl Timeline {
    /// Levels that have fired.
    pub fn fired(&self) -> impl Iterator<Item = &LevelState> {
        self.levels.iter().filter(|l| l.fired)
    }
}

/// One level of an occurrence's escalation chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelState {
    /// Level number, 1-based.
    pub level: usize,
    /// Its id: see [`escalation_id`].
    pub id: EscalationId,
    /// When it fires: due + `after_min`.
    pub fires_at: DateTime<Utc>,
    /// Whether it has fired: `fires_at` has passed and the chain had not ended before.
    pub fired: bool,
    /// Who it notifies, deduplicated, in the order the level names them.
    pub recipients: Vec<PersonId>,
    /// The first acknowledgement of this level, if any.
    pub acknowledgement: Option<LevelAck>,
    /// The next re-notification (strictly after the evaluation instant), while the level
    /// has fired and is neither acknowledged nor ended; only when the level re-notifies.
    /// It keeps going after the window closes: a missed check still needs someone to act.
    pub next_renotify: Option<DateTime<Utc>>,
}

/// An acknowledgement of one level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelAck {
    /// The acknowledgement event.
    pub event: EventId,
    /// Who acknowledged.
    pub by: PersonId,
    /// When.
    pub at: DateTime<Utc>,
}

/// What ended an escalation chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainEnd {
    /// When.
    pub at: DateTime<Utc>,
    /// The completion or excuse event.
    pub event: EventId,
    /// Who completed or excused.
    pub by: PersonId,
    /// Completion or excuse.
    pub cause: ChainEndCause,
}

/// Why a chain ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChainEndCause {
    /// A valid completion.
    Completed,
    /// An excuse.
    Excused {
        /// The excuse's reason.
        reason: String,
    },
}

/// The escalation timeline of `occurrence` at `now`.
pub fn timeline(
    org: &Org,
    routine: &Routine,
    occurrence: &Occurrence,
    history: &History,
    now: DateTime<Utc>,
) -> Timeline {
    let events = Events::new(history);
    timeline_in(org, routine, occurrence, &events, now)
}

pub(crate) fn timeline_in(
    org: &Org,
    routine: &Routine,
    occurrence: &Occurrence,
    events: &Events<'_>,
    now: DateTime<Utc>,
) -> Timeline {
    let chain = ResolvedChain::new(org, routine);
    let ids = level_ids(occurrence.id, routine.escalation.len());
    timeline_resolved(org, routine, &chain, occurrence, &ids, events, now)
}

/// A routine's escalation chain with roles and named people resolved (they depend only on
/// the routine's site, not on the occurrence), so evaluating many occurrences of one
/// routine looks them up once.
pub(crate) struct ResolvedChain {
    /// Per level, in the order the level names them: a person, or `None` for the
    /// occurrence's assignee.
    levels: Vec<Vec<Option<PersonId>>>,
}

impl ResolvedChain {
    /// Resolves `routine`'s chain against `org`.
    pub(crate) fn new(org: &Org, routine: &Routine) -> ResolvedChain {
        let levels = routine
            .escalation
            .iter()
            .map(|spec| {
                let mut people = Vec::new();
                for recipient in &spec.notify {
                    match *recipient {
                        Recipient::Assignee => people.push(None),
                        Recipient::Person(p) => people.push(Some(p)),
                        Recipient::Role(role) => people
                            .extend(org.people_with_role(routine.site, role).map(|p| Some(p.id))),
                    }
                }
                people
            })
            .collect();
        ResolvedChain { levels }
    }
}

/// [`timeline_in`] with the routine's chain already resolved and the occurrence's level
/// ids ([`level_ids`]) already derived.
pub(crate) fn timeline_resolved(
    org: &Org,
    routine: &Routine,
    chain: &ResolvedChain,
    occurrence: &Occurrence,
    ids: &[EscalationId],
    events: &Events<'_>,
    now: DateTime<Utc>,
) -> Timeline {
    let assignment = assignee(org, routine, occurrence.due);
    let ended = chain_end(routine, occurrence, events, now);
    let levels = routine
        .escalation
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let level = i + 1;
            let id = ids
                .get(i)
                .copied()
                .unwrap_or_else(|| escalation_id(occurrence.id, level));
            let fires_at = plus_minutes(occurrence.due, spec.after_min);
            let fired = fires_at <= now && ended.as_ref().is_none_or(|end| fires_at < end.at);
            let acknowledgement = events.first_ack(id, now).map(|a| LevelAck {
                event: a.id,
                by: a.by,
                at: a.at,
            });
            let next_renotify = match spec.renotify_every_min {
                Some(every)
                    if every > 0 && fired && acknowledgement.is_none() && ended.is_none() =>
                {
                    next_after(fires_at, every, now)
                }
                _ => None,
            };
            LevelState {
                level,
                id,
                fires_at,
                fired,
                recipients: recipients(&assignment, chain.levels.get(i).map_or(&[], Vec::as_slice)),
                acknowledgement,
                next_renotify,
            }
        })
        .collect();
    Timeline {
        occurrence: occurrence.id,
        assignment,
        levels,
        ended,
    }
}

/// The earliest of the first valid completion and the first excuse, at or before `now`
/// (a completion wins a tie).
fn chain_end(
    routine: &Routine,
    occurrence: &Occurrence,
    events: &Events<'_>,
    now: DateTime<Utc>,
) -> Option<ChainEnd> {
    let done = valid_completion_in(routine, occurrence, events, now).map(|c| ChainEnd {
        at: c.at,
        event: c.id,
        by: c.by,
        cause: ChainEndCause::Completed,
    });
    let excused = events.first_excuse(occurrence.id, now).map(|e| ChainEnd {
        at: e.at,
        event: e.id,
        by: e.by,
        cause: ChainEndCause::Excused {
            reason: e.reason.clone(),
        },
    });
    match (done, excused) {
        (Some(d), Some(e)) => Some(if e.at < d.at { e } else { d }),
        (d, e) => d.or(e),
    }
}

/// A level's recipients as people: the assignee where the level names it, and the people
/// its roles and names resolved to; first mention wins.
fn recipients(assignment: &Assignment, resolved: &[Option<PersonId>]) -> Vec<PersonId> {
    let mut people = Vec::with_capacity(resolved.len());
    for person in resolved.iter().map(|p| p.unwrap_or(assignment.person)) {
        if !people.contains(&person) {
            people.push(person);
        }
    }
    people
}

/// The first `fired + k·every` (k ≥ 1) strictly after `now`.
pub(crate) fn next_after(
    fired: DateTime<Utc>,
    every_min: u32,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let every = i64::from(every_min) * 60;
    let elapsed = (now - fired).num_seconds().max(0);
    let k = elapsed / every + 1;
    fired.checked_add_signed(Duration::seconds(k.checked_mul(every)?))
}
