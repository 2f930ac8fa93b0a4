//! Cadence side of the side-by-side comparison (`scripts/bench`; `cargo bench -p
//! proofline-core --bench cadence_compare`).
//!
//! Expands the rule set in `bench/rules.txt`, the file `bench/ref_cadence.py` gives
//! python-dateutil, through the same [`CompiledCadence`] the apps and the server use. To
//! compare like with like, the site is on UTC with no closed days and no holidays (dateutil
//! knows neither time zones nor closed days), so both sides expand the same instants:
//!
//! - `year`: 500 routines (the rules in turn), started 2024-01-01, expanded over 2026
//!   (`[2026-01-01, 2027-01-01)`): occurrences per second;
//! - `two_day_window/{started_yesterday,started_10_years_ago}`: each rule once, the 48 hours
//!   around 2026-06-15 12:00, for rules started the day before vs ten years before: the
//!   cost of the window an attention query expands.
//!
//! Each figure is the median of several samples (a sample averages a batch of calls) with
//! the min–max; the last line, `BENCH_JSON {...}`, is what `scripts/bench` reads.

mod common;

use common::{expand_all, instant, local, routine};

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use chrono::{Duration, NaiveDateTime};
use proofline_core::cadence::CompiledCadence;
use proofline_core::model::{ClosedDayPolicy, Site, SiteId};
use uuid::Uuid;

/// Routines in the year expansion (the rules in turn).
const YEAR_ROUTINES: usize = 500;
/// Samples per figure.
const SAMPLES: usize = 9;

fn rules() -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../bench/rules.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

fn site() -> Site {
    Site {
        id: SiteId(Uuid::from_u128(1)),
        key: "bench".into(),
        name: "Bench Site".into(),
        time_zone: chrono_tz::UTC,
        closed_weekdays: Vec::new(),
        holidays: Vec::new(),
    }
}

fn compile(rules: &[String], count: usize, start: NaiveDateTime) -> Vec<CompiledCadence> {
    let site = site();
    (0..count)
        .map(|i| {
            CompiledCadence::new(
                &routine(
                    i,
                    &rules[i % rules.len()],
                    start,
                    ClosedDayPolicy::RunAnyway,
                ),
                &site,
            )
            .unwrap_or_else(|e| panic!("rule {}: {e}", rules[i % rules.len()]))
        })
        .collect()
}

/// Seconds per call of `f`: `SAMPLES` samples of `batch` calls each, after one warm-up
/// batch; returns (median, min, max).
fn time(batch: usize, mut f: impl FnMut() -> usize) -> (f64, f64, f64) {
    for _ in 0..batch {
        black_box(f());
    }
    let mut samples: Vec<f64> = (0..SAMPLES)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..batch {
                black_box(f());
            }
            t.elapsed().as_secs_f64() / batch as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    (samples[SAMPLES / 2], samples[0], samples[SAMPLES - 1])
}

/// Calls per batch so that one batch takes about `target` seconds.
fn batch_for(target: f64, mut f: impl FnMut() -> usize) -> usize {
    let t = Instant::now();
    black_box(f());
    let once = t.elapsed().as_secs_f64().max(1e-7);
    ((target / once) as usize).clamp(1, 100_000)
}

fn main() {
    let rules = rules();
    let (from, until) = (
        instant("2026-01-01T00:00:00Z"),
        instant("2027-01-01T00:00:00Z"),
    );
    let year = compile(&rules, YEAR_ROUTINES, local("2024-01-01"));
    let occurrences = expand_all(&year, from, until);
    let (med, min, max) = time(1, || expand_all(black_box(&year), from, until));
    println!(
        "year: {YEAR_ROUTINES} routines, {occurrences} occurrences: {:.2} ms ({:.2}–{:.2}), \
         {:.2} M occurrences/s",
        med * 1e3,
        min * 1e3,
        max * 1e3,
        occurrences as f64 / med / 1e6
    );
    let mut json = format!(
        "{{\"rules\": {}, \"year\": {{\"routines\": {YEAR_ROUTINES}, \"occurrences\": \
         {occurrences}, \"seconds\": [{med}, {min}, {max}]}}",
        rules.len()
    );

    let now = instant("2026-06-15T12:00:00Z");
    let (from, until) = (now - Duration::hours(24), now + Duration::hours(24));
    for (name, start) in [
        ("started_yesterday", local("2026-06-14")),
        ("started_10_years_ago", local("2016-06-14")),
    ] {
        let cadences = compile(&rules, rules.len(), start);
        let count = expand_all(&cadences, from, until);
        let batch = batch_for(0.05, || expand_all(&cadences, from, until));
        let (med, min, max) = time(batch, || expand_all(black_box(&cadences), from, until));
        println!(
            "two_day_window/{name}: {} rules, {count} occurrences: {:.2} µs ({:.2}–{:.2})",
            rules.len(),
            med * 1e6,
            min * 1e6,
            max * 1e6
        );
        json.push_str(&format!(
            ", \"{name}\": {{\"occurrences\": {count}, \"seconds\": [{med}, {min}, {max}]}}"
        ));
    }
    json.push('}');
    println!("BENCH_JSON {json}");
}
