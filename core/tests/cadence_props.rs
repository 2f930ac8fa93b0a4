//! Property tests of the cadence engine over random rules, anchors, windows and DST-heavy zones.
//!
//! - output strictly increasing (no duplicate instants);
//! - each instant's local time matches the rule's BY-filters, except where the DST policy
//!   moved a nonexistent local time forward by the gap;
//! - expanding [a, c) equals [a, b) followed by [b, c);
//! - expansion does not depend on how old the anchor is (same rule, anchors years apart on
//!   the same grid, same instants in a window after both);
//! - occurrence ids are stable: the same due instant gives the same id in any window.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone,
    Timelike, Utc,
};
use chrono_tz::Tz;
use proofline_core::cadence::{RRule, Schedule, expand_rule};
use proofline_core::model::RoutineId;
use proofline_core::occurrence::occurrence_id;
use proofline_core::zone::local_to_instant;
use proptest::prelude::*;
use uuid::Uuid;

const ZONES: &[Tz] = &[
    chrono_tz::America::New_York,
    chrono_tz::Europe::London,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::Pacific::Chatham,
    chrono_tz::Asia::Kolkata,
    chrono_tz::America::Sao_Paulo,
];
const WEEKDAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// A rule with plain BY-filters, so that "matches the rule" has a simple independent check.
#[derive(Debug, Clone)]
struct PlainRule {
    freq: &'static str,
    interval: u32,
    by_month: Vec<u32>,
    by_month_day: Vec<i32>,
    by_day: Vec<u32>,
    by_hour: Vec<u32>,
    by_minute: Vec<u32>,
}

impl PlainRule {
    fn text(&self) -> String {
        fn join<T: ToString>(v: &[T]) -> String {
            v.iter().map(T::to_string).collect::<Vec<_>>().join(",")
        }
        let mut s = format!("FREQ={};INTERVAL={}", self.freq, self.interval);
        if !self.by_month.is_empty() {
            s += &format!(";BYMONTH={}", join(&self.by_month));
        }
        if !self.by_month_day.is_empty() {
            s += &format!(";BYMONTHDAY={}", join(&self.by_month_day));
        }
        if !self.by_day.is_empty() {
            let days: Vec<&str> = self.by_day.iter().map(|d| WEEKDAYS[*d as usize]).collect();
            s += &format!(";BYDAY={}", days.join(","));
        }
        if !self.by_hour.is_empty() {
            s += &format!(";BYHOUR={}", join(&self.by_hour));
        }
        if !self.by_minute.is_empty() {
            s += &format!(";BYMINUTE={}", join(&self.by_minute));
        }
        s
    }

    /// Whether a local time passes every explicit BY-filter of the rule.
    fn matches(&self, local: NaiveDateTime) -> bool {
        let date = local.date();
        let dim = days_in_month(date.year(), date.month()) as i32;
        let dom = date.day() as i32;
        (self.by_month.is_empty() || self.by_month.contains(&date.month()))
            && (self.by_month_day.is_empty()
                || self
                    .by_month_day
                    .iter()
                    .any(|d| *d == dom || (*d < 0 && dim + d + 1 == dom)))
            && (self.by_day.is_empty()
                || self.by_day.contains(&date.weekday().num_days_from_monday()))
            && (self.by_hour.is_empty() || self.by_hour.contains(&local.hour()))
            && (self.by_minute.is_empty() || self.by_minute.contains(&local.minute()))
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    next.and_then(|n| n.pred_opt()).map_or(28, |d| d.day())
}

fn sorted_unique<T: Ord + Clone>(v: Vec<T>) -> Vec<T> {
    let mut v = v;
    v.sort();
    v.dedup();
    v
}

fn plain_rule() -> impl Strategy<Value = PlainRule> {
    (
        prop::sample::select(vec![
            "DAILY", "WEEKLY", "MONTHLY", "YEARLY", "HOURLY", "MINUTELY",
        ]),
        1u32..4,
        prop::collection::vec(1u32..=12, 0..3),
        prop::collection::vec(
            prop::sample::select(vec![1, 2, 15, 28, 29, 30, 31, -1, -2]),
            0..2,
        ),
        prop::collection::vec(0u32..7, 0..4),
        prop::collection::vec(0u32..24, 0..4),
        prop::collection::vec(prop::sample::select(vec![0u32, 15, 30, 45]), 0..3),
    )
        .prop_map(
            |(freq, interval, by_month, by_month_day, by_day, by_hour, by_minute)| {
                let weekly = freq == "WEEKLY";
                let sub_daily = freq == "HOURLY" || freq == "MINUTELY";
                PlainRule {
                    freq,
                    // Keep sub-daily rules dense enough to cross DST nights within a window.
                    interval: if freq == "MINUTELY" {
                        interval * 15
                    } else {
                        interval
                    },
                    by_month: sorted_unique(by_month),
                    by_month_day: if weekly {
                        Vec::new()
                    } else {
                        sorted_unique(by_month_day)
                    },
                    by_day: sorted_unique(by_day),
                    // Sub-daily rules without BYHOUR fire around the clock, through every gap.
                    by_hour: if sub_daily && by_hour.len() < 2 {
                        Vec::new()
                    } else {
                        sorted_unique(by_hour)
                    },
                    by_minute: sorted_unique(by_minute),
                }
            },
        )
}

fn start_local() -> impl Strategy<Value = NaiveDateTime> {
    (
        2015i32..2027,
        1u32..=12,
        1u32..=28,
        0u32..24,
        prop::sample::select(vec![0u32, 15, 30, 45]),
    )
        .prop_map(|(y, m, d, h, min)| {
            NaiveDate::from_ymd_opt(y, m, d)
                .and_then(|date| date.and_hms_opt(h, min, 0))
                .unwrap_or_default()
        })
}

/// A window start near a DST transition in one of the years, and a length in hours.
fn window() -> impl Strategy<Value = (DateTime<Utc>, i64)> {
    (
        2025i32..2028,
        prop::sample::select(vec![1u32, 3, 4, 9, 10, 11]),
        1u32..=28,
        1i64..(60 * 24),
    )
        .prop_map(|(y, m, d, hours)| {
            let from = Utc
                .with_ymd_and_hms(y, m, d, 0, 0, 0)
                .single()
                .unwrap_or_default();
            (from, hours)
        })
}

fn expand(
    rule: &str,
    start: NaiveDateTime,
    tz: Tz,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    expand_rule(rule, start, tz, &[], from, until).unwrap_or_else(|e| panic!("{rule}: {e}"))
}

/// Whether `at` is explained by the DST policy: its local time is the image of a nonexistent
/// local time (in a spring-forward gap) that matches the rule.
fn moved_by_gap(rule: &PlainRule, tz: Tz, at: DateTime<Utc>) -> bool {
    let local = at.with_timezone(&tz).naive_local();
    [15, 30, 45, 60, 90, 120].iter().any(|shift| {
        let original = local - Duration::minutes(*shift);
        matches!(tz.from_local_datetime(&original), LocalResult::None)
            && rule.matches(original)
            && local_to_instant(tz, original) == at
    })
}

/// Brute force: every local time on a 15-minute grid that the rule (interval 1, defaults
/// filled from the anchor as RFC 5545 says) selects, mapped by the DST policy, deduplicated.
fn brute_force(
    rule: &PlainRule,
    start: NaiveDateTime,
    tz: Tz,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    let mut full = rule.clone();
    let coarse = !matches!(rule.freq, "HOURLY" | "MINUTELY");
    if full.by_day.is_empty() && full.by_month_day.is_empty() {
        match rule.freq {
            "WEEKLY" => full.by_day = vec![start.weekday().num_days_from_monday()],
            "MONTHLY" => full.by_month_day = vec![start.day() as i32],
            "YEARLY" => {
                if full.by_month.is_empty() {
                    full.by_month = vec![start.month()];
                }
                full.by_month_day = vec![start.day() as i32];
            }
            _ => {}
        }
    }
    if coarse && full.by_hour.is_empty() {
        full.by_hour = vec![start.hour()];
    }
    if rule.freq != "MINUTELY" && full.by_minute.is_empty() {
        full.by_minute = vec![start.minute()];
    }
    let mut local = (from - Duration::days(1))
        .naive_utc()
        .date()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default();
    let end = (until + Duration::days(1)).naive_utc();
    let mut out = Vec::new();
    while local <= end {
        let on_grid = rule.freq != "MINUTELY" || (local - start).num_minutes().rem_euclid(15) == 0;
        if local >= start && on_grid && full.matches(local) {
            let at = local_to_instant(tz, local);
            if at >= from && at < until {
                out.push(at);
            }
        }
        local += Duration::minutes(15);
    }
    sorted_unique(out)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn nothing_is_dropped_compared_with_brute_force(
        rule in plain_rule(),
        start in start_local(),
        zone in 0usize..ZONES.len(),
        (from, hours) in window(),
    ) {
        let tz = ZONES[zone];
        let mut rule = rule;
        rule.interval = if rule.freq == "MINUTELY" { 15 } else { 1 };
        let until = from + Duration::hours(hours.min(24 * 20));
        let text = rule.text();
        prop_assert_eq!(
            expand(&text, start, tz, from, until),
            brute_force(&rule, start, tz, from, until),
            "{} from {} in {}", text, start, tz
        );
    }

    #[test]
    fn output_is_strictly_increasing_and_matches_the_rule(
        rule in plain_rule(),
        start in start_local(),
        zone in 0usize..ZONES.len(),
        (from, hours) in window(),
    ) {
        let tz = ZONES[zone];
        let until = from + Duration::hours(hours);
        let text = rule.text();
        let out = expand(&text, start, tz, from, until);
        for pair in out.windows(2) {
            prop_assert!(pair[0] < pair[1], "{text}: {} then {}", pair[0], pair[1]);
        }
        let anchor = local_to_instant(tz, start);
        for at in &out {
            prop_assert!(*at >= from && *at < until);
            prop_assert!(*at >= anchor, "{text}: {at} before the anchor");
            let local = at.with_timezone(&tz).naive_local();
            prop_assert!(
                rule.matches(local) || moved_by_gap(&rule, tz, *at),
                "{text} from {start} in {tz}: {at} (local {local}) does not match the rule"
            );
        }
    }

    #[test]
    fn adjacent_windows_concatenate(
        rule in plain_rule(),
        start in start_local(),
        zone in 0usize..ZONES.len(),
        (from, hours) in window(),
        split in 0.0f64..1.0,
    ) {
        let tz = ZONES[zone];
        let until = from + Duration::hours(hours);
        let middle = from + Duration::seconds((hours as f64 * 3600.0 * split) as i64);
        let text = rule.text();
        let whole = expand(&text, start, tz, from, until);
        let mut parts = expand(&text, start, tz, from, middle);
        parts.extend(expand(&text, start, tz, middle, until));
        prop_assert_eq!(whole, parts, "{} split at {}", text, middle);
    }

    #[test]
    fn an_old_anchor_gives_the_same_window_as_a_recent_one(
        rule in plain_rule(),
        zone in 0usize..ZONES.len(),
        (from, hours) in window(),
        years_back in 1i32..12,
    ) {
        // Anchors on the same day of the week/month and time of day, `years_back` years
        // apart; the interval is 1 so both sit on the same grid.
        let tz = ZONES[zone];
        let mut rule = rule;
        rule.interval = if rule.freq == "MINUTELY" { 15 } else { 1 };
        let text = rule.text();
        let recent = NaiveDate::from_ymd_opt(2024, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
        let weekday_aligned_old = recent - Duration::weeks(52 * i64::from(years_back));
        let old = if rule.freq == "MONTHLY" || rule.freq == "YEARLY" {
            recent.with_year(2024 - years_back).unwrap_or(recent)
        } else {
            weekday_aligned_old
        };
        let until = from + Duration::hours(hours);
        prop_assert_eq!(
            expand(&text, recent, tz, from, until),
            expand(&text, old, tz, from, until),
            "{}", text
        );
    }

    #[test]
    fn occurrence_ids_are_stable_across_windows(
        rule in plain_rule(),
        start in start_local(),
        zone in 0usize..ZONES.len(),
        (from, hours) in window(),
        routine in any::<u128>(),
    ) {
        let tz = ZONES[zone];
        let routine = RoutineId(Uuid::from_u128(routine));
        let until = from + Duration::hours(hours);
        let text = rule.text();
        let wide: Vec<_> = expand(&text, start, tz, from - Duration::days(3), until)
            .into_iter()
            .filter(|d| *d >= from)
            .map(|d| occurrence_id(routine, d))
            .collect();
        let narrow: Vec<_> = expand(&text, start, tz, from, until)
            .into_iter()
            .map(|d| occurrence_id(routine, d))
            .collect();
        prop_assert_eq!(&wide, &narrow);
        let again: Vec<_> = expand(&text, start, tz, from, until)
            .into_iter()
            .map(|d| occurrence_id(routine, d))
            .collect();
        prop_assert_eq!(narrow, again);
    }
}

#[test]
fn parsed_rules_print_back_to_an_equivalent_rule() {
    for text in [
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=17;BYMINUTE=0;BYSETPOS=-1",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;WKST=SU",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1",
        "FREQ=DAILY;UNTIL=20261231T235959Z",
    ] {
        let rule: RRule = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(rule.to_string(), text);
        let start = NaiveDate::from_ymd_opt(2026, 1, 1)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .unwrap_or_default();
        let from = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        let a = Schedule::new(rule.clone(), start, chrono_tz::UTC, &[])
            .expand(from.timestamp(), from.timestamp() + 400 * 86_400);
        let reparsed: RRule = rule
            .to_string()
            .parse()
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        let b = Schedule::new(reparsed, start, chrono_tz::UTC, &[])
            .expand(from.timestamp(), from.timestamp() + 400 * 86_400);
        assert_eq!(a, b, "{text}");
        assert!(!a.is_empty(), "{text} produced nothing");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// The transition-table mapper agrees with chrono-tz's own local-time resolution under
    /// the DST policy: single → that, ambiguous → earliest, nonexistent → offset before the gap.
    #[test]
    fn local_to_instant_follows_the_dst_policy(
        zone in 0usize..ZONES.len(),
        (from, hours) in window(),
        minute in 0i64..(24 * 60),
    ) {
        let tz = ZONES[zone];
        let local = from.naive_utc() + Duration::hours(hours % 48) + Duration::minutes(minute);
        let expected = match tz.from_local_datetime(&local) {
            LocalResult::Single(d) => d.to_utc(),
            LocalResult::Ambiguous(a, b) => a.to_utc().min(b.to_utc()),
            LocalResult::None => {
                let before = tz
                    .from_local_datetime(&(local - Duration::hours(3)))
                    .earliest()
                    .map(|d| d.offset().fix().local_minus_utc())
                    .unwrap_or_default();
                (local - Duration::seconds(i64::from(before))).and_utc()
            }
        };
        prop_assert_eq!(local_to_instant(tz, local), expected, "{} in {}", local, tz);
    }
}

/// Every minute within three hours of every transition in 2025–2027, in every test zone.
#[test]
fn local_to_instant_follows_the_dst_policy_at_every_transition_minute() {
    let mut checked = 0;
    for tz in ZONES {
        for year in 2025..=2027 {
            for t in proofline_core::zone::transitions_in_year(*tz, year).iter() {
                let centre = DateTime::from_timestamp(t.at + i64::from(t.before), 0)
                    .unwrap_or_default()
                    .naive_utc();
                for minute in -180..=180 {
                    let local = centre + Duration::minutes(minute);
                    let expected = match tz.from_local_datetime(&local) {
                        LocalResult::Single(d) => d.to_utc(),
                        LocalResult::Ambiguous(a, b) => a.to_utc().min(b.to_utc()),
                        LocalResult::None => {
                            (local - Duration::seconds(i64::from(t.before))).and_utc()
                        }
                    };
                    assert_eq!(local_to_instant(*tz, local), expected, "{local} in {tz}");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 8_000, "only {checked} minutes checked");
}
