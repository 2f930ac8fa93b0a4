//! Cadence engine benchmarks (`cargo bench -p proofline-core`).
//!
//! - `site_year/500_routines`: expanding one year of a 500-routine site (elements = occurrences,
//!   so criterion reports occurrences per second);
//! - `two_day_window/{started_yesterday,started_10_years_ago}`: the cost of the window an
//!   attention query expands, for the same rules anchored recently and long ago.
//!
//! These go through the same `CompiledCadence` the apps and the server use.

mod common;

use common::{expand_all, instant, local, routine};

use std::hint::black_box;

use chrono::{Duration, NaiveDate};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use proofline_core::cadence::CompiledCadence;
use proofline_core::model::{ClosedDayPolicy, Holiday, Routine, Site, SiteId};
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

/// Every third routine moves to the next open day; the others skip closed days.
fn closed_days(i: usize) -> ClosedDayPolicy {
    if i.is_multiple_of(3) {
        ClosedDayPolicy::MoveLater
    } else {
        ClosedDayPolicy::Skip
    }
}

fn compile(routines: &[Routine], site: &Site) -> Vec<CompiledCadence> {
    routines
        .iter()
        .filter_map(|r| CompiledCadence::new(r, site).ok())
        .collect()
}

fn site_year(c: &mut Criterion) {
    let site = site();
    let routines: Vec<Routine> = (0..500)
        .map(|i| {
            routine(
                i,
                RULES[i % RULES.len()],
                local("2024-01-01"),
                closed_days(i),
            )
        })
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
            .map(|(i, r)| routine(i, r, start, closed_days(i)))
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
