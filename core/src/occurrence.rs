//! Occurrences: deterministic ids, windows and status.
//!
//! An occurrence is one due instance of a routine. It is never stored: its id is derived
//! from (routine id, due instant) so that every phone and the server name it the same way
//! without talking (see [`occurrence_id`]). Its status is a pure function of the routine,
//! the recorded events and `now`.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::cadence::{CadenceError, CompiledCadence};
use crate::completion;
use crate::ids::uuid_v5;
use crate::model::{
    Acknowledgement, Completion, EscalationId, Excuse, History, OccurrenceId, Routine, RoutineId,
    Site, SiteId,
};

/// How far [`occurrences_before`] looks back at most (two years).
pub(crate) const MAX_LOOKBACK_DAYS: i64 = 731;
/// First look-back span of [`occurrences_before`], in minutes; doubled until enough are
/// found (the answer does not depend on it; a short first span keeps frequent cadences
/// cheap: a repeat-failure scan asks for a few occurrences at every evaluation).
const FIRST_LOOKBACK_MIN: i64 = 6 * 60;

/// One due instance of a routine, with its window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrence {
    /// Derived id: see [`occurrence_id`].
    pub id: OccurrenceId,
    /// The routine.
    pub routine: RoutineId,
    /// The routine version it was computed from.
    pub routine_version: u32,
    /// The routine's site.
    pub site: SiteId,
    /// Due instant.
    pub due: DateTime<Utc>,
    /// From here the check can be done (`due - opens_before`).
    pub opens: DateTime<Utc>,
    /// Done after this is late (`due + grace`).
    pub late_after: DateTime<Utc>,
    /// Not done by this is missed (`due + closes_after`).
    pub closes: DateTime<Utc>,
}

impl Occurrence {
    /// The occurrence of `routine` due at `due`, with the routine's window around it.
    pub fn new(routine: &Routine, due: DateTime<Utc>) -> Occurrence {
        let w = routine.window;
        Occurrence {
            id: occurrence_id(routine.id, due),
            routine: routine.id,
            routine_version: routine.version,
            site: routine.site,
            due,
            opens: minus_minutes(due, w.opens_before_min),
            late_after: plus_minutes(due, w.grace_min),
            closes: plus_minutes(due, w.closes_after_min),
        }
    }
}

/// The id of the occurrence of `routine` due at `due`.
///
/// The formula is part of the sync contract; the Kotlin and Swift apps and the server must
/// reproduce it bit for bit:
///
/// ```text
/// UUIDv5(namespace = routine id, name = UTF-8 of the due instant in UTC as "%Y-%m-%dT%H:%M:%SZ")
/// ```
///
/// e.g. name `2026-03-08T07:30:00Z` (whole seconds, `Z` suffix, no offset, no fraction).
pub fn occurrence_id(routine: RoutineId, due: DateTime<Utc>) -> OccurrenceId {
    use chrono::{Datelike, Timelike};
    // Computed for every occurrence the engine looks at: written on the stack, not through
    // a parsed format string (years outside 0..=9999 take chrono's `%Y`, with a sign, and
    // a leap second its `60`).
    let year = due.year();
    if !(0..=9999).contains(&year) || due.nanosecond() >= 1_000_000_000 {
        let name = due.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        return OccurrenceId(uuid_v5(&routine.0, name.as_bytes()));
    }
    // `YYYY-MM-DDTHH:MM:SSZ`, digit by digit (`write!` took as long as the SHA-1).
    let mut name = *b"0000-00-00T00:00:00Z";
    let year = year.unsigned_abs();
    let digits = [
        (0, year / 1000),
        (1, year / 100 % 10),
        (2, year / 10 % 10),
        (3, year % 10),
        (5, due.month() / 10),
        (6, due.month() % 10),
        (8, due.day() / 10),
        (9, due.day() % 10),
        (11, due.hour() / 10),
        (12, due.hour() % 10),
        (14, due.minute() / 10),
        (15, due.minute() % 10),
        (17, due.second() / 10),
        (18, due.second() % 10),
    ];
    for (at, digit) in digits {
        // Every digit is below 10 (the year is in 0..=9999).
        name[at] = b'0' + u8::try_from(digit).unwrap_or(0);
    }
    OccurrenceId(uuid_v5(&routine.0, &name))
}

/// Where an occurrence stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not open yet.
    Upcoming,
    /// Open, before the due time.
    Open,
    /// Past due, still within grace (on time if done now).
    Due,
    /// Past grace, not closed yet (late if done now).
    Overdue,
    /// Closed, not done, not excused.
    Missed,
    /// Done within grace.
    DoneOnTime,
    /// Done after grace (possibly after close: the work happened, late).
    DoneLate,
    /// Released by a supervisor with a reason.
    Excused,
}

impl Status {
    /// The snake_case name used in files, JSON and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Upcoming => "upcoming",
            Status::Open => "open",
            Status::Due => "due",
            Status::Overdue => "overdue",
            Status::Missed => "missed",
            Status::DoneOnTime => "done_on_time",
            Status::DoneLate => "done_late",
            Status::Excused => "excused",
        }
    }

    /// Whether the status can no longer change by time alone (missed, done or excused).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Missed | Status::DoneOnTime | Status::DoneLate | Status::Excused
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why occurrences of a routine cannot be listed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OccurrenceError {
    /// The routine's cadence cannot be compiled.
    #[error("routine `{routine_key}` ({routine_title}): {source}")]
    Cadence {
        /// The routine's key.
        routine_key: String,
        /// The routine's title.
        routine_title: String,
        /// What is wrong with the cadence.
        #[source]
        source: CadenceError,
    },
    /// The routine was given a site it does not run at.
    #[error("routine `{routine_key}` ({routine_title}) does not run at site `{site_key}`")]
    WrongSite {
        /// The routine's key.
        routine_key: String,
        /// The routine's title.
        routine_title: String,
        /// The key of the site given.
        site_key: String,
    },
}

/// Occurrences of `routine` at `site` due in `[from, until)`, in due order.
///
/// `history` and `now` matter only for `after_completion` cadences, whose next due time
/// follows the earliest valid completion (at or before `now`) of the previous one.
pub fn occurrences(
    routine: &Routine,
    site: &Site,
    history: &History,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<Occurrence>, OccurrenceError> {
    let events = Events::new(history);
    occurrences_in(routine, site, &events, from, until, now)
}

/// Up to `count` occurrences of `routine` due before `before`, the latest ones, in due
/// order. Looks back in growing windows, at most two years.
pub fn occurrences_before(
    routine: &Routine,
    site: &Site,
    history: &History,
    before: DateTime<Utc>,
    count: usize,
    now: DateTime<Utc>,
) -> Result<Vec<Occurrence>, OccurrenceError> {
    let events = Events::new(history);
    occurrences_before_in(routine, site, &events, before, count, now)
}

/// The earliest valid completion of `occurrence` recorded at or before `now`.
///
/// Valid: it names this occurrence, it was made once the window opened, and its step
/// results meet every proof requirement of the routine ([`completion::validate`]).
pub fn first_valid_completion<'h>(
    routine: &Routine,
    occurrence: &Occurrence,
    history: &'h History,
    now: DateTime<Utc>,
) -> Option<&'h Completion> {
    let events = Events::new(history);
    valid_completion_in(routine, occurrence, &events, now)
}

/// The status of `occurrence` at `now`.
///
/// The earliest valid completion at or before `now` decides done (on time up to
/// `late_after`, late after); else an excuse at or before `now` makes it excused; else the
/// window decides: upcoming, open, due, overdue, missed.
pub fn status(
    routine: &Routine,
    occurrence: &Occurrence,
    history: &History,
    now: DateTime<Utc>,
) -> Status {
    let events = Events::new(history);
    status_in(routine, occurrence, &events, now)
}

/// History indexed by occurrence and escalation id, so bulk computations (attention,
/// plans, repeat failures) do not rescan every event per occurrence.
pub(crate) struct Events<'h> {
    completions: HashMap<OccurrenceId, Vec<&'h Completion>>,
    excuses: HashMap<OccurrenceId, Vec<&'h Excuse>>,
    acks: Acks<'h>,
}

/// Acknowledgements by escalation: indexed from a history, or an index kept by the caller
/// (the server's dispatcher keeps one for every routine and evaluates routines one by one).
enum Acks<'h> {
    Indexed(HashMap<EscalationId, Vec<&'h Acknowledgement>>),
    Shared(&'h HashMap<EscalationId, Vec<Acknowledgement>>),
}

impl<'h> Events<'h> {
    pub(crate) fn new(history: &'h History) -> Self {
        let mut completions: HashMap<_, Vec<_>> = HashMap::new();
        for c in &history.completions {
            completions.entry(c.occurrence).or_default().push(c);
        }
        let mut excuses: HashMap<_, Vec<_>> = HashMap::new();
        for e in &history.excuses {
            excuses.entry(e.occurrence).or_default().push(e);
        }
        let mut acks: HashMap<_, Vec<_>> = HashMap::new();
        for a in &history.acknowledgements {
            acks.entry(a.escalation).or_default().push(a);
        }
        Events {
            completions,
            excuses,
            acks: Acks::Indexed(acks),
        }
    }

    /// One routine's completions and excuses, with acknowledgements from an index the
    /// caller keeps.
    pub(crate) fn of_routine(
        completions: &'h [Completion],
        excuses: &'h [Excuse],
        acks: &'h HashMap<EscalationId, Vec<Acknowledgement>>,
    ) -> Self {
        let mut by_occurrence: HashMap<_, Vec<_>> = HashMap::new();
        for c in completions {
            by_occurrence.entry(c.occurrence).or_default().push(c);
        }
        let mut excused: HashMap<_, Vec<_>> = HashMap::new();
        for e in excuses {
            excused.entry(e.occurrence).or_default().push(e);
        }
        Events {
            completions: by_occurrence,
            excuses: excused,
            acks: Acks::Shared(acks),
        }
    }

    fn completions(&self, occurrence: OccurrenceId) -> &[&'h Completion] {
        self.completions
            .get(&occurrence)
            .map_or(&[], |v| v.as_slice())
    }

    /// The earliest excuse of `occurrence` at or before `now`.
    pub(crate) fn first_excuse(
        &self,
        occurrence: OccurrenceId,
        now: DateTime<Utc>,
    ) -> Option<&'h Excuse> {
        self.excuses
            .get(&occurrence)?
            .iter()
            .copied()
            .filter(|e| e.at <= now)
            .min_by_key(|e| (e.at, e.id))
    }

    /// The earliest acknowledgement of escalation `id` at or before `now`.
    pub(crate) fn first_ack(
        &self,
        id: EscalationId,
        now: DateTime<Utc>,
    ) -> Option<&'h Acknowledgement> {
        match &self.acks {
            Acks::Indexed(acks) => acks
                .get(&id)?
                .iter()
                .copied()
                .filter(|a| a.at <= now)
                .min_by_key(|a| (a.at, a.id)),
            Acks::Shared(acks) => acks
                .get(&id)?
                .iter()
                .filter(|a| a.at <= now)
                .min_by_key(|a| (a.at, a.id)),
        }
    }
}

pub(crate) fn valid_completion_in<'h>(
    routine: &Routine,
    occurrence: &Occurrence,
    events: &Events<'h>,
    now: DateTime<Utc>,
) -> Option<&'h Completion> {
    events
        .completions(occurrence.id)
        .iter()
        .copied()
        .filter(|c| c.at <= now && c.at >= occurrence.opens)
        .filter(|c| completion::validate(routine, &c.results).is_ok())
        .min_by_key(|c| (c.at, c.id))
}

pub(crate) fn status_in(
    routine: &Routine,
    occurrence: &Occurrence,
    events: &Events<'_>,
    now: DateTime<Utc>,
) -> Status {
    if let Some(done) = valid_completion_in(routine, occurrence, events, now) {
        return if done.at <= occurrence.late_after {
            Status::DoneOnTime
        } else {
            Status::DoneLate
        };
    }
    if events.first_excuse(occurrence.id, now).is_some() {
        return Status::Excused;
    }
    if now < occurrence.opens {
        Status::Upcoming
    } else if now < occurrence.due {
        Status::Open
    } else if now < occurrence.late_after {
        Status::Due
    } else if now < occurrence.closes {
        Status::Overdue
    } else {
        Status::Missed
    }
}

pub(crate) fn compile(routine: &Routine, site: &Site) -> Result<CompiledCadence, OccurrenceError> {
    if routine.site != site.id {
        return Err(OccurrenceError::WrongSite {
            routine_key: routine.key.clone(),
            routine_title: routine.title.clone(),
            site_key: site.key.clone(),
        });
    }
    CompiledCadence::new(routine, site).map_err(|source| OccurrenceError::Cadence {
        routine_key: routine.key.clone(),
        routine_title: routine.title.clone(),
        source,
    })
}

pub(crate) fn occurrences_in(
    routine: &Routine,
    site: &Site,
    events: &Events<'_>,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<Occurrence>, OccurrenceError> {
    Ok(due_times_in(routine, site, events, from, until, now)?
        .into_iter()
        .map(|due| Occurrence::new(routine, due))
        .collect())
}

/// A routine's occurrences over a stretch: every one due in `[from, until)`, in due
/// order. Expanded once and shared by computations over parts of the stretch.
pub(crate) struct Nearby {
    pub(crate) occurrences: Vec<Occurrence>,
    pub(crate) from: DateTime<Utc>,
    pub(crate) until: DateTime<Utc>,
}

/// The due instants of [`occurrences_in`], without the occurrences: for callers that need
/// only some of them (an occurrence's id is a SHA-1).
pub(crate) fn due_times_in(
    routine: &Routine,
    site: &Site,
    events: &Events<'_>,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, OccurrenceError> {
    let cadence = compile(routine, site)?;
    let completed_at = |due: DateTime<Utc>| {
        let occurrence = Occurrence::new(routine, due);
        valid_completion_in(routine, &occurrence, events, now).map(|c| c.at)
    };
    Ok(cadence.due_times(from, until, now, &completed_at))
}

pub(crate) fn occurrences_before_in(
    routine: &Routine,
    site: &Site,
    events: &Events<'_>,
    before: DateTime<Utc>,
    count: usize,
    now: DateTime<Utc>,
) -> Result<Vec<Occurrence>, OccurrenceError> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let most = MAX_LOOKBACK_DAYS * 24 * 60;
    let mut minutes = FIRST_LOOKBACK_MIN;
    loop {
        let from = before
            .checked_sub_signed(Duration::minutes(minutes))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let mut found = due_times_in(routine, site, events, from, before, now)?;
        if found.len() >= count || minutes >= most {
            // Only the kept ones become occurrences (each id is a SHA-1).
            let skip = found.len().saturating_sub(count);
            found.drain(..skip);
            return Ok(found
                .into_iter()
                .map(|due| Occurrence::new(routine, due))
                .collect());
        }
        minutes = (minutes * 2).min(most);
    }
}

/// `at + minutes`, saturating at the end of representable time.
pub(crate) fn plus_minutes(at: DateTime<Utc>, minutes: u32) -> DateTime<Utc> {
    at.checked_add_signed(Duration::minutes(i64::from(minutes)))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `at - minutes`, saturating at the start of representable time.
pub(crate) fn minus_minutes(at: DateTime<Utc>, minutes: u32) -> DateTime<Utc> {
    at.checked_sub_signed(Duration::minutes(i64::from(minutes)))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}
