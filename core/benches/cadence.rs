//! Cadence engine benchmarks (`cargo bench -p proofline-core`).
//!
//! - `site_year/500_routines`: expanding one year of a 500-routine site (elements = occurrences,
//!   so criterion reports occurrences per second);
//! - `two_day_window/{started_yesterday,started_10_years_ago}`: the cost of the window an
//!   attention query expands, for the same rules anchored recently and long ago.
//!
//! These go through the same `CompiledCadence` the apps and the server use.

use std::hint::black_box;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use proofline_core::cadence::CompiledCadence;
use proofline_core::model::{
    Cadence, ClosedDayPolicy, Holiday, PersonId, RepeatFailureRule, Role, Routine, RoutineId, Site,
    SiteId, Window,
};
use uuid::Uuid;

/// The rule mix of a busy site: what restaurants, clinics and plants actually schedule.
const RULES: &[&str] = &[
    "FREQ=DAILY;BYHOUR=7;BYMINUTE=0",
    "FREQ=DAILY;BYHOUR=6,10,14,18,22;BYMINUTE=0",
    "FREQ=HOURLY;BYHOUR=8,9,10,11,12,13,14,15,16,17,18,19,20;BYMINUTE=0",
    "FREQ=MINUTELY;INTERVAL=30;BYHOUR=11,12,13,14",
    "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0",
    "FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=15;BYMINUTE=30",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;BYHOUR=17;BYMINUTE=0",
    "FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=8;BYMINUTE=0",
    "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=8,12,16;BYMINUTE=0",
    "FREQ=YEARLY;BYMONTH=3,9;BYDAY=1TU;BYHOUR=10;BYMINUTE=0",
];

fn site() -> Site {
    Site {
        id: SiteId(Uuid::from_u128(1)),
        key: "bench".into(),
        name: "Bench Site".into(),
        time_zone: chrono_tz::America::New_York,
        closed_weekdays: vec![chrono::Weekday::Sun],
        holidays: vec![Holiday {
            date: NaiveDate::from_ymd_opt(2026, 12, 25).unwrap_or_default(),
            name: "Christmas Day".into(),
        }],
    }
}

fn routine(i: usize, rrule: &str, start: NaiveDateTime) -> Routine {
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
        closed_days: if i.is_multiple_of(3) {
            ClosedDayPolicy::MoveLater
        } else {
            ClosedDayPolicy::Skip
        },
        window: Window::default(),
        owner: PersonId(Uuid::from_u128(7)),
        backup: None,
        fallback_role: Role::Supervisor,
        escalation: Vec::new(),
        repeat_failure: RepeatFailureRule::default(),
    }
}

fn instant(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.to_utc())
        .unwrap_or_default()
}

fn local(date: &str) -> NaiveDateTime {
    NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .unwrap_or_default()
        .and_time(NaiveTime::MIN)
}

fn compile(routines: &[Routine], site: &Site) -> Vec<CompiledCadence> {
    routines
        .iter()
        .filter_map(|r| CompiledCadence::new(r, site).ok())
        .collect()
}

fn no_completions(_: DateTime<Utc>) -> Option<DateTime<Utc>> {
    None
}

fn expand_all(cadences: &[CompiledCadence], from: DateTime<Utc>, until: DateTime<Utc>) -> usize {
    cadences
        .iter()
        .map(|c| c.due_times(from, until, from, &no_completions).len())
        .sum()
}

fn site_year(c: &mut Criterion) {
    let site = site();
    let routines: Vec<Routine> = (0..500)
        .map(|i| routine(i, RULES[i % RULES.len()], local("2024-01-01")))
        .collect();
    let cadences = compile(&routines, &site);
    let (from, until) = (
        instant("2026-01-01T00:00:00Z"),
        instant("2027-01-01T00:00:00Z"),
    );
    let total = expand_all(&cadences, from, until);
    let mut group = c.benchmark_group("site_year");
    group.throughput(Throughput::Elements(total as u64));
    group.sample_size(20);
    group.bench_function("500_routines", |b| {
        b.iter(|| expand_all(black_box(&cadences), from, until))
    });
    group.finish();
}

fn two_day_window(c: &mut Criterion) {
    let site = site();
    let now = instant("2026-06-15T12:00:00Z");
    let (from, until) = (now - Duration::hours(24), now + Duration::hours(24));
    let mut group = c.benchmark_group("two_day_window");
    for (name, start) in [
        ("started_yesterday", local("2026-06-14")),
        ("started_10_years_ago", local("2016-06-14")),
    ] {
        let routines: Vec<Routine> = RULES
            .iter()
            .enumerate()
            .map(|(i, r)| routine(i, r, start))
            .collect();
        let cadences = compile(&routines, &site);
        group.bench_function(name, |b| {
            b.iter(|| expand_all(black_box(&cadences), from, until))
        });
    }
    group.finish();
}

criterion_group!(benches, site_year, two_day_window);
criterion_main!(benches);
