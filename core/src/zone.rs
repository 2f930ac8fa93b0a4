//! Site time zones: mapping local wall-clock times to instants under the DST policy.
//!
//! Owns the one rule every client must agree on (RFC 5545 §3.3.5, DESIGN.md): a local time
//! inside a spring-forward gap is read with the offset *before* the gap (02:30 → 03:30), and an
//! ambiguous local time in a fall-back overlap is the *first* of the two. It must never consult
//! a clock: callers pass every instant.
//!
//! Why a transition table: a full chrono-tz lookup per occurrence costs ~35 ns, a third of the
//! budget of a 10 M occurrences/s engine. Offsets only change at a zone's transitions, so we
//! find those once per zone and year (by probing chrono-tz, whose table is private), cache
//! them process-wide, and map each local time with a comparison against the next transition.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use chrono::{DateTime, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// Seconds since the Unix epoch of a local wall-clock time read as if it were UTC.
pub type LocalSeconds = i64;
/// Seconds since the Unix epoch (UTC).
pub type UnixSeconds = i64;

const SECONDS_PER_DAY: i64 = 86_400;
/// Probe step when searching a year for transitions. No zone has had two transitions within
/// six hours of each other, so a change between two probes is exactly one transition.
const PROBE_STEP: i64 = 6 * 3600;
/// How far past a local time a re-centred [`LocalMapper`] covers; engines build mappers over
/// at most this much ahead and let them move along, so a window of centuries costs no
/// up-front probing of zone years it never reaches.
pub const SPAN_AHEAD: LocalSeconds = 400 * SECONDS_PER_DAY;

/// One change of a zone's UTC offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The instant of the change.
    pub at: UnixSeconds,
    /// Offset (seconds east of UTC) in force before `at`.
    pub before: i32,
    /// Offset in force from `at` on.
    pub after: i32,
}

impl Transition {
    /// Local times strictly before this threshold take the `before` offset. It covers the
    /// ordinary times before the change, the spring-forward gap (offset before the gap) and
    /// the fall-back overlap (first occurrence), which is exactly the DST policy.
    fn local_threshold(&self) -> LocalSeconds {
        self.at + i64::from(self.before.max(self.after))
    }
}

/// Offset of `tz` at a UTC instant, in seconds east of UTC.
pub fn offset_at(tz: Tz, at: UnixSeconds) -> i32 {
    let naive = DateTime::from_timestamp(at, 0)
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
        .naive_utc();
    tz.offset_from_utc_datetime(&naive).fix().local_minus_utc()
}

fn year_start(year: i32) -> UnixSeconds {
    crate::civil::days_from_civil(year, 1, 1) * SECONDS_PER_DAY
}

/// Finds the transitions of `tz` with `at` in `[start of year, start of next year]`.
fn probe_year(tz: Tz, year: i32) -> Vec<Transition> {
    let start = year_start(year);
    let end = year_start(year + 1);
    let mut found = Vec::new();
    let mut t = start;
    let mut off = offset_at(tz, t);
    while t < end {
        let next = (t + PROBE_STEP).min(end);
        let next_off = offset_at(tz, next);
        if next_off != off {
            // Binary search the first second with the new offset in (t, next].
            let (mut lo, mut hi) = (t, next);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset_at(tz, mid) == off {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            found.push(Transition {
                at: hi,
                before: off,
                after: next_off,
            });
        }
        t = next;
        off = next_off;
    }
    // A transition exactly at the year's end is reported again by the next year's probe
    // only if the offset at its start differs from the one before; it does not, so keep it.
    found
}

type YearKey = (Tz, i32);

fn cache() -> &'static RwLock<HashMap<YearKey, Arc<[Transition]>>> {
    static CACHE: OnceLock<RwLock<HashMap<YearKey, Arc<[Transition]>>>> = OnceLock::new();
    CACHE.get_or_init(|| RwLock::new(HashMap::new()))
}

/// Transitions of `tz` in one UTC calendar year, from the process-wide cache.
pub fn transitions_in_year(tz: Tz, year: i32) -> Arc<[Transition]> {
    if let Ok(map) = cache().read()
        && let Some(found) = map.get(&(tz, year))
    {
        return Arc::clone(found);
    }
    let probed: Arc<[Transition]> = probe_year(tz, year).into();
    if let Ok(mut map) = cache().write() {
        map.entry((tz, year)).or_insert_with(|| Arc::clone(&probed));
    }
    probed
}

/// Maps local times to instants for one zone over a bounded span, in O(1) amortised per call
/// when the local times come (mostly) in order.
#[derive(Debug, Clone)]
pub struct LocalMapper {
    tz: Tz,
    /// Local times in `[covered_lo, covered_hi]` are mapped from `transitions`; any other
    /// takes the slow path (their year's transitions may be missing from the table).
    covered_lo: LocalSeconds,
    covered_hi: LocalSeconds,
    transitions: Vec<Transition>,
    /// Offset before the first transition in `transitions` (or throughout, if none).
    initial: i32,
    cursor: usize,
}

impl LocalMapper {
    /// A mapper for local times in `[from, until]` (with a margin of two days either side).
    /// Outside that it stays correct: the first such call re-centres it (a rebuild).
    pub fn new(tz: Tz, from: LocalSeconds, until: LocalSeconds) -> Self {
        let lo = from - 2 * SECONDS_PER_DAY;
        let hi = until.max(from) + 2 * SECONDS_PER_DAY;
        let first_year = crate::civil::year_of(lo.div_euclid(SECONDS_PER_DAY));
        let last_year = crate::civil::year_of(hi.div_euclid(SECONDS_PER_DAY));
        let mut transitions = Vec::new();
        for year in first_year..=last_year {
            transitions.extend_from_slice(&transitions_in_year(tz, year));
        }
        let initial = offset_at(tz, year_start(first_year));
        LocalMapper {
            tz,
            // The table holds every transition of these UTC years; a local time is less than
            // a day from its instant, so a day's margin keeps its transitions in the table.
            covered_lo: year_start(first_year) + SECONDS_PER_DAY,
            covered_hi: year_start(last_year + 1) - SECONDS_PER_DAY,
            transitions,
            initial,
            cursor: 0,
        }
    }

    /// The instant of local time `local` under the DST policy.
    #[inline]
    pub fn instant(&mut self, local: LocalSeconds) -> UnixSeconds {
        if local < self.covered_lo || local > self.covered_hi {
            return self.instant_outside(local);
        }
        let ts = &self.transitions;
        // Move the cursor to the first transition whose threshold lies after `local`.
        while self.cursor < ts.len() && local >= ts[self.cursor].local_threshold() {
            self.cursor += 1;
        }
        while self.cursor > 0 && local < ts[self.cursor - 1].local_threshold() {
            self.cursor -= 1;
        }
        let offset = if self.cursor < ts.len() {
            ts[self.cursor].before
        } else if let Some(last) = ts.last() {
            last.after
        } else {
            self.initial
        };
        local - i64::from(offset)
    }

    /// A local time outside the span the table covers: re-centre the table on it and the
    /// [`SPAN_AHEAD`] after it (callers mostly walk forward), then map it.
    #[cold]
    fn instant_outside(&mut self, local: LocalSeconds) -> UnixSeconds {
        *self = LocalMapper::new(self.tz, local, local + SPAN_AHEAD);
        self.instant(local)
    }
}

/// The instant of a naive local time in `tz` under the DST policy (one-off conversions; the
/// cadence engine uses a [`LocalMapper`]).
pub fn local_to_instant(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let secs = local.and_utc().timestamp();
    let mut mapper = LocalMapper::new(tz, secs, secs);
    let at = mapper.instant(secs);
    DateTime::from_timestamp(at, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The local wall-clock time in `tz` of an instant, as [`LocalSeconds`].
pub fn instant_to_local(tz: Tz, at: UnixSeconds) -> LocalSeconds {
    at + i64::from(offset_at(tz, at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(h, min, 0))
            .expect("valid test date")
    }

    #[test]
    fn new_york_spring_forward_gap_takes_offset_before_gap() {
        let at = local_to_instant(chrono_tz::America::New_York, local(2026, 3, 8, 2, 30));
        assert_eq!(at.to_rfc3339(), "2026-03-08T07:30:00+00:00");
    }

    #[test]
    fn new_york_fall_back_overlap_takes_first() {
        let at = local_to_instant(chrono_tz::America::New_York, local(2026, 11, 1, 1, 30));
        assert_eq!(at.to_rfc3339(), "2026-11-01T05:30:00+00:00");
    }

    #[test]
    fn finds_both_new_york_transitions_of_2026() {
        let ts = transitions_in_year(chrono_tz::America::New_York, 2026);
        assert_eq!(ts.len(), 2);
        assert_eq!(ts[0].before, -5 * 3600);
        assert_eq!(ts[0].after, -4 * 3600);
        assert_eq!(
            DateTime::from_timestamp(ts[0].at, 0).map(|d| d.to_rfc3339()),
            Some("2026-03-08T07:00:00+00:00".to_string())
        );
    }

    #[test]
    fn mapper_stays_correct_outside_its_span() {
        let tz = chrono_tz::America::New_York;
        let secs = |l: NaiveDateTime| l.and_utc().timestamp();
        // Built for January 2026 only: July 2025 and July 2027 are EDT, not the EST of the
        // nearest transitions' far sides.
        let mut mapper = LocalMapper::new(
            tz,
            secs(local(2026, 1, 10, 0, 0)),
            secs(local(2026, 1, 20, 0, 0)),
        );
        for (l, utc) in [
            (local(2025, 7, 1, 12, 0), local(2025, 7, 1, 16, 0)),
            (local(2026, 1, 15, 12, 0), local(2026, 1, 15, 17, 0)),
            (local(2027, 7, 1, 12, 0), local(2027, 7, 1, 16, 0)),
            (local(2027, 3, 14, 2, 30), local(2027, 3, 14, 7, 30)),
        ] {
            assert_eq!(mapper.instant(secs(l)), secs(utc), "{l}");
        }
    }

    #[test]
    fn kolkata_has_no_transitions() {
        assert!(transitions_in_year(chrono_tz::Asia::Kolkata, 2026).is_empty());
    }
}
