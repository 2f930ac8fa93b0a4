//! What the cadence benches share: a bench routine, instants and dates from text, and the
//! expansion of compiled cadences over a span.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use proofline_core::cadence::CompiledCadence;
use proofline_core::model::{
    Cadence, ClosedDayPolicy, PersonId, RepeatFailureRule, Role, Routine, RoutineId, SiteId, Window,
};
use uuid::Uuid;

/// Routine `i` of site 1, on `rrule` from `start`, with the given closed-day policy.
pub fn routine(
    i: usize,
    rrule: &str,
    start: NaiveDateTime,
    closed_days: ClosedDayPolicy,
) -> Routine {
    Routine {
        id: RoutineId(Uuid::from_u128(1000 + i as u128)),
        key: format!("r{i}"),
        version: 1,
        site: SiteId(Uuid::from_u128(1)),
        title: format!("Routine {i}"),
        instructions: String::new(),
        steps: Vec::new(),
        cadence: Cadence::Rule {
            rrule: rrule.to_string(),
            start,
            exdates: Vec::new(),
        },
        closed_days,
        window: Window::default(),
        owner: PersonId(Uuid::from_u128(7)),
        backup: None,
        fallback_role: Role::Supervisor,
        escalation: Vec::new(),
        repeat_failure: RepeatFailureRule::default(),
    }
}

/// An RFC 3339 instant.
pub fn instant(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.to_utc())
        .unwrap_or_default()
}

/// Local midnight of a `YYYY-MM-DD` date.
pub fn local(date: &str) -> NaiveDateTime {
    NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .unwrap_or_default()
        .and_time(NaiveTime::MIN)
}

fn no_completions(_: DateTime<Utc>) -> Option<DateTime<Utc>> {
    None
}

/// How many occurrences `cadences` have in `[from, until)`, all told.
pub fn expand_all(
    cadences: &[CompiledCadence],
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> usize {
    cadences
        .iter()
        .map(|c| c.due_times(from, until, from, &no_completions).len())
        .sum()
}
