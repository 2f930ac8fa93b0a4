//! The cadence engine: when a routine is due.
//!
//! Owns RRULE parsing ([`rrule`]), windowed expansion in the site's zone ([`schedule`]),
//! closed-day policies ([`closed_days`]) and the `after_completion` chain. Every function
//! takes the instants it needs (`from`, `until`, `now`); nothing here reads a clock.

pub mod closed_days;
pub mod rrule;
pub mod schedule;

use chrono::{DateTime, NaiveDateTime, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;
use thiserror::Error;

pub use closed_days::ClosedDays;
pub use rrule::{Frequency, RRule, RuleError, Until, WeekdayNum};
pub use schedule::Schedule;

use crate::model::{Cadence, ClosedDayPolicy, Routine, Site};
use crate::zone::{LocalMapper, LocalSeconds, SPAN_AHEAD, UnixSeconds};

/// Why a cadence cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CadenceError {
    /// The RRULE text is broken.
    #[error("invalid rrule: {0}")]
    Rule(#[from] RuleError),
    /// `after_completion` with zero days would never advance.
    #[error("after_completion needs at least 1 day between occurrences")]
    ZeroDays,
}

/// Longest after-completion chain followed in one expansion (a guard, never reached in use).
const MAX_CHAIN: usize = 100_000;

/// A routine's cadence compiled against its site, ready to expand.
#[derive(Debug, Clone)]
pub enum CompiledCadence {
    /// A recurrence rule.
    Rule(Box<Schedule>),
    /// Next due a number of days after the last completion.
    AfterCompletion(AfterCompletion),
}

/// The `after_completion` cadence, compiled.
#[derive(Debug, Clone)]
pub struct AfterCompletion {
    days: i64,
    at: NaiveTime,
    start: NaiveDateTime,
    tz: Tz,
    closed: ClosedDays,
    policy: ClosedDayPolicy,
    closes_after: i64,
}

impl CompiledCadence {
    /// Compiles a routine's cadence for its site.
    pub fn new(routine: &Routine, site: &Site) -> Result<Self, CadenceError> {
        let closed = ClosedDays::of_site(site);
        match &routine.cadence {
            Cadence::Rule {
                rrule,
                start,
                exdates,
            } => {
                let rule: RRule = rrule.parse()?;
                Ok(CompiledCadence::Rule(Box::new(
                    Schedule::new(rule, *start, site.time_zone, exdates)
                        .with_closed_days(closed, routine.closed_days),
                )))
            }
            Cadence::AfterCompletion { days, at, start } => {
                if *days == 0 {
                    return Err(CadenceError::ZeroDays);
                }
                // Skipping would end the chain for good; a closed day moves it later instead.
                let policy = match routine.closed_days {
                    ClosedDayPolicy::Skip => ClosedDayPolicy::MoveLater,
                    other => other,
                };
                Ok(CompiledCadence::AfterCompletion(AfterCompletion {
                    days: i64::from(*days),
                    at: *at,
                    start: *start,
                    tz: site.time_zone,
                    closed,
                    policy,
                    closes_after: i64::from(routine.window.closes_after_min) * 60,
                }))
            }
        }
    }

    /// Due instants in `[from, until)`, sorted, without duplicates. `completed_at(due)` gives
    /// the time of the earliest valid completion of the occurrence due then (only
    /// after-completion cadences ask); `now` decides whether an uncompleted one is missed.
    pub fn due_times(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
        completed_at: &dyn Fn(DateTime<Utc>) -> Option<DateTime<Utc>>,
    ) -> Vec<DateTime<Utc>> {
        let instants = match self {
            CompiledCadence::Rule(s) => s.expand(from.timestamp(), until.timestamp()),
            CompiledCadence::AfterCompletion(a) => a.expand(
                from.timestamp(),
                until.timestamp(),
                now.timestamp(),
                &|due| completed_at(to_utc(due)).map(|c| c.timestamp()),
            ),
        };
        instants.into_iter().map(to_utc).collect()
    }
}

impl AfterCompletion {
    /// Follows the chain from the first occurrence: after a completion the next is due
    /// `days` after the completion's local date at `at`; after a miss (window closed by
    /// `now`, no completion), `days` after the missed one's date, so misses keep counting.
    pub fn expand(
        &self,
        from: UnixSeconds,
        until: UnixSeconds,
        now: UnixSeconds,
        completed_at: &dyn Fn(UnixSeconds) -> Option<UnixSeconds>,
    ) -> Vec<UnixSeconds> {
        let start = self.start.and_utc().timestamp();
        let at_secs = i64::from(self.at.num_seconds_from_midnight());
        // The chain walks forward from `start` (a move may first step back a few days); the
        // mapper re-centres itself if the chain runs past the span it covers.
        let span_lo = start - (closed_days::MAX_MOVE_DAYS + 1) * 86_400;
        let mut mapper = LocalMapper::new(self.tz, span_lo, span_lo + SPAN_AHEAD);
        let mut out = Vec::new();
        let mut local = start;
        let mut previous: Option<LocalSeconds> = None;
        for _ in 0..MAX_CHAIN {
            let Some(mut moved) = self.closed.apply(self.policy, local) else {
                break;
            };
            // Moving earlier must not land on or before the previous occurrence (that would
            // repeat it or run the chain backwards); like an impossible move, it stays.
            if previous.is_some_and(|p| moved <= p) {
                moved = local;
            }
            previous = Some(moved);
            let due = mapper.instant(moved);
            if due >= until {
                break;
            }
            if due >= from && out.last().is_none_or(|last| *last < due) {
                out.push(due);
            }
            let base = match completed_at(due) {
                Some(done) => done + i64::from(crate::zone::offset_at(self.tz, done)),
                None if now >= due + self.closes_after => moved,
                None => break,
            };
            let mut next = (base.div_euclid(86_400) + self.days) * 86_400 + at_secs;
            // An early completion on the local day before could point at (or before) this
            // occurrence: never repeat or go backwards, but keep the time of day `at`.
            while next <= moved {
                next += 86_400;
            }
            local = next;
        }
        out
    }
}

fn to_utc(secs: UnixSeconds) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Expands a rule given as text, as `proofline cadence expand` does: local anchor `start` in
/// `tz`, `[from, until)`, EXDATEs as local times.
pub fn expand_rule(
    rrule: &str,
    start: NaiveDateTime,
    tz: Tz,
    exdates: &[NaiveDateTime],
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, CadenceError> {
    let rule: RRule = rrule.parse()?;
    let schedule = Schedule::new(rule, start, tz, exdates);
    Ok(schedule
        .expand(from.timestamp(), until.timestamp())
        .into_iter()
        .map(to_utc)
        .collect())
}
