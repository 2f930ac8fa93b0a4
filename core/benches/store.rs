//! Local store benchmarks (`cargo bench -p proofline-core --bench store`).
//!
//! A 200-routine site with two years of history (~146,000 occurrences, ~95 % completed,
//! the rest missed or excused), in a real on-disk store (WAL, `synchronous = FULL`):
//!
//! - `attention/staff`: the attention feed of the person who owns every routine, at an
//!   afternoon instant: the hot path of the frontline app (target p99 < 5 ms);
//! - `attention/lead`: the site lead's feed (repeat failures of every routine);
//! - `today/staff`: the person's checks of the day;
//! - `complete/durable`: one completion, validated and committed (fsync) before it
//!   returns (target < 5 ms);
//! - printed only: reading the near-`now` window, and opening the device cold then
//!   computing the feed (app start).
//!
//! Before criterion runs, each is timed a few hundred times and p50/p99 printed, since
//! the targets are about the tail, not the mean.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use criterion::Criterion;
use proofline_core::device::Device;
use proofline_core::model::{
    Cadence, ClosedDayPolicy, Completion, DeviceId, EscalationLevel, EventId, Excuse, History,
    OccurrenceId, Org, Person, PersonId, Recipient, RepeatFailureRule, Role, Routine, RoutineId,
    Site, SiteId, SiteRole, Step, StepAnswer, StepKind, StepResult, Window,
};
use proofline_core::occurrence::{Occurrence, occurrences};
use proofline_core::store::{DB_FILE, Event, EventPayload, GENESIS_HASH, HistoryWindow, Store};
use proofline_core::zone::local_to_instant;
use uuid::Uuid;

const ROUTINES: usize = 200;
const DAYS: i64 = 730;
const TZ: chrono_tz::Tz = chrono_tz::America::New_York;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn local(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap_or_default()
}

fn person(n: u128, key: &str, name: &str, site: SiteId, role: Role) -> Person {
    Person {
        id: PersonId(id(n)),
        key: key.into(),
        name: name.into(),
        roles: vec![SiteRole { site, role }],
    }
}

/// A busy site: 200 daily routines spread over the day, each with a reading and a tick,
/// a three-level escalation chain and the default repeat-failure rule.
fn org() -> Org {
    let site = SiteId(id(1));
    let staff = person(10, "sam", "Sam Staff", site, Role::Staff);
    let sup = person(11, "sue", "Sue Supervisor", site, Role::Supervisor);
    let lead = person(12, "lee", "Lee Lead", site, Role::Lead);
    let routines = (0..ROUTINES)
        .map(|i| Routine {
            id: RoutineId(id(1000 + i as u128)),
            key: format!("r{i}"),
            version: 1,
            site,
            title: format!("Check {i}"),
            instructions: String::new(),
            steps: vec![
                Step {
                    key: "temp".into(),
                    title: "Temperature".into(),
                    required: true,
                    kind: StepKind::Reading {
                        unit: "°C".into(),
                        min: Some(1.0),
                        max: Some(5.0),
                    },
                },
                Step {
                    key: "clean".into(),
                    title: "Clean".into(),
                    required: true,
                    kind: StepKind::Check,
                },
            ],
            cadence: Cadence::Rule {
                rrule: format!("FREQ=DAILY;BYHOUR={};BYMINUTE={}", 6 + i % 16, (i * 7) % 60),
                start: local("2025-01-01 00:00"),
                exdates: Vec::new(),
            },
            closed_days: ClosedDayPolicy::RunAnyway,
            window: Window::default(),
            owner: staff.id,
            backup: Some(sup.id),
            fallback_role: Role::Supervisor,
            escalation: vec![
                EscalationLevel {
                    after_min: 15,
                    notify: vec![Recipient::Assignee],
                    renotify_every_min: None,
                },
                EscalationLevel {
                    after_min: 30,
                    notify: vec![Recipient::Role(Role::Supervisor)],
                    renotify_every_min: Some(15),
                },
                EscalationLevel {
                    after_min: 60,
                    notify: vec![Recipient::Role(Role::Lead)],
                    renotify_every_min: None,
                },
            ],
            repeat_failure: RepeatFailureRule::default(),
        })
        .collect();
    Org {
        name: "Bench Org".into(),
        sites: vec![Site {
            id: site,
            key: "bench".into(),
            name: "Bench Site".into(),
            time_zone: TZ,
            closed_weekdays: Vec::new(),
            holidays: Vec::new(),
        }],
        people: vec![staff, sup, lead],
        routines,
        absences: Vec::new(),
        index: Default::default(),
    }
}

/// A cheap deterministic hash of an occurrence, to decide its fate.
fn fate(o: &Occurrence) -> u64 {
    let (hi, lo) = o.id.0.as_u64_pair();
    (hi ^ lo.rotate_left(17)).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40
}

fn results(value: f64) -> Vec<StepResult> {
    vec![
        StepResult {
            step: "temp".into(),
            answer: StepAnswer::Reading {
                value,
                corrective_action: None,
            },
        },
        StepResult {
            step: "clean".into(),
            answer: StepAnswer::Checked,
        },
    ]
}

/// Two years of another device's work: 95 % done (a few late), 3 % missed, 2 % excused.
fn history_events(org: &Org, from: DateTime<Utc>, now: DateTime<Utc>) -> (Vec<Event>, usize) {
    let site = &org.sites[0];
    let other = DeviceId(id(0xabc));
    let by = org.people[0].id;
    let mut payloads: Vec<(DateTime<Utc>, EventPayload)> = Vec::new();
    let mut count = 0;
    let mut n = 0u128;
    for routine in &org.routines {
        let found =
            occurrences(routine, site, &History::default(), from, now, now).unwrap_or_default();
        count += found.len();
        for o in found {
            n += 1;
            let f = fate(&o) % 100;
            let late = if f == 50 { 40 } else { 4 };
            let at = o.due + Duration::minutes(late);
            if at >= now || f < 3 {
                continue; // missed (or not done yet)
            }
            let event = EventId(id(0x1_0000_0000 + n));
            if f < 5 {
                payloads.push((
                    o.due,
                    EventPayload::Excused(Excuse {
                        id: event,
                        occurrence: o.id,
                        routine: routine.id,
                        due: o.due,
                        by: org.people[1].id,
                        at: o.due - Duration::minutes(10),
                        reason: "out of service".into(),
                    }),
                ));
                continue;
            }
            payloads.push((
                at,
                EventPayload::Completed(Completion {
                    id: event,
                    occurrence: o.id,
                    due: o.due,
                    routine: routine.id,
                    routine_version: 1,
                    by,
                    at,
                    results: results(2.0 + (f % 30) as f64 / 10.0),
                    note: None,
                }),
            ));
        }
    }
    payloads.sort_by_key(|(at, _)| *at);
    let mut prev = GENESIS_HASH.to_string();
    let mut events = Vec::with_capacity(payloads.len());
    for (seq, (at, payload)) in (1u64..).zip(payloads) {
        let Ok(event) = Event::seal(
            EventId(id(0x2_0000_0000 + u128::from(seq))),
            site.id,
            by,
            other,
            seq,
            at,
            payload,
            prev.clone(),
        ) else {
            continue;
        };
        prev = event.hash.clone();
        events.push(event);
    }
    (events, count)
}

struct Fixture {
    _dir: tempfile::TempDir,
    staff: Device,
    lead: Device,
    now: DateTime<Utc>,
    /// Occurrences open at `now` (to complete).
    open: Vec<OccurrenceId>,
}

fn fixture() -> Option<Fixture> {
    let org = org();
    let start = local_to_instant(TZ, local("2025-01-01 00:00"));
    let now = start + Duration::days(DAYS) + Duration::hours(18) + Duration::minutes(7);
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(base).ok()?;
    let dir = tempfile::tempdir_in(base).ok()?;
    let staff_dir = dir.path().join("staff");
    let lead_dir = dir.path().join("lead");
    let staff = Device::create(&staff_dir, &org, org.people[0].id, start).ok()?;
    let lead = Device::create(&lead_dir, &org, org.people[2].id, start).ok()?;
    let built = Instant::now();
    let (events, occurrence_count) = history_events(&org, start, now);
    for d in [&staff_dir, &lead_dir] {
        let mut store = Store::open(&d.join(DB_FILE)).ok()?;
        for chunk in events.chunks(20_000) {
            store.insert_remote_batch(chunk).ok()?;
        }
    }
    let completions = events
        .iter()
        .filter(|e| matches!(e.payload, EventPayload::Completed(_)))
        .count();
    println!(
        "fixture: {ROUTINES} routines, {occurrence_count} occurrences over {DAYS} days, \
         {completions} completions, {} events stored per device (built in {:.1} s)",
        events.len(),
        built.elapsed().as_secs_f64()
    );
    let site = &org.sites[0];
    let open: Vec<OccurrenceId> = org
        .routines
        .iter()
        .flat_map(|r| {
            occurrences(
                r,
                site,
                &History::default(),
                now - Duration::minutes(15),
                now + Duration::minutes(30),
                now,
            )
            .unwrap_or_default()
        })
        .map(|o| o.id)
        .collect();
    Some(Fixture {
        _dir: dir,
        staff,
        lead,
        now,
        open,
    })
}

/// Times `f` `runs` times after a few warm-up runs; prints p50, p99 and max.
fn percentiles(name: &str, runs: usize, mut f: impl FnMut()) {
    for _ in 0..5 {
        f();
    }
    let mut samples: Vec<StdDuration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{name:<22} p50 {:>7.3} ms   p99 {:>7.3} ms   max {:>7.3} ms   ({runs} runs)",
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3,
    );
}

fn main() {
    let Some(fx) = fixture() else {
        eprintln!("cannot build the store fixture");
        return;
    };
    let now = fx.now;
    let staff_feed = fx.staff.attention(now).map(|f| f.len()).unwrap_or(0);
    let lead_feed = fx.lead.attention(now).map(|f| f.len()).unwrap_or(0);
    println!(
        "at {now}: staff feed {staff_feed} items, lead feed {lead_feed} items, {} open checks",
        fx.open.len()
    );
    // The parts of a feed call: reading the window (decoded payloads are cached per open
    // store), and a device opened cold (definitions rebuilt, nothing cached) to its feed.
    if let Ok(store) = Store::open(&fx.staff.dir().join(DB_FILE)) {
        let start = now - Duration::hours(2) - Duration::hours(26);
        let window = HistoryWindow {
            due: Some((start, DateTime::<Utc>::MAX_UTC)),
            acks_from: Some(start),
            ..HistoryWindow::default()
        };
        let rows = store
            .history(&window)
            .map(|h| h.completions.len())
            .unwrap_or(0);
        println!("near-now window: {rows} completions");
        percentiles("history/near-now", 300, || {
            black_box(store.history(&window).ok());
        });
    }
    let staff_dir = fx.staff.dir();
    percentiles("open+attention (cold)", 30, || {
        let device = Device::open(&staff_dir).ok();
        black_box(device.map(|d| d.attention(now).ok()));
    });
    percentiles("attention/staff", 300, || {
        black_box(fx.staff.attention(black_box(now)).ok());
    });
    percentiles("attention/lead", 100, || {
        black_box(fx.lead.attention(black_box(now)).ok());
    });
    percentiles("today/staff", 300, || {
        black_box(fx.staff.today(black_box(now)).ok());
    });
    let Some(&first_open) = fx.open.first() else {
        eprintln!("no open check at {now} to complete");
        return;
    };
    let mut i = 0usize;
    let mut complete = || {
        let occurrence = fx
            .open
            .get(i % fx.open.len())
            .copied()
            .unwrap_or(first_open);
        i += 1;
        black_box(
            fx.staff
                .complete(occurrence, results(3.0), Vec::new(), None, now)
                .ok(),
        );
    };
    percentiles("complete/durable", 300, &mut complete);

    let mut c = Criterion::default().configure_from_args();
    c.bench_function("attention/staff", |b| {
        b.iter(|| fx.staff.attention(black_box(now)))
    });
    c.bench_function("attention/lead", |b| {
        b.iter(|| fx.lead.attention(black_box(now)))
    });
    c.bench_function("today/staff", |b| b.iter(|| fx.staff.today(black_box(now))));
    c.bench_function("complete/durable", |b| b.iter(&mut complete));
    c.final_summary();
}
