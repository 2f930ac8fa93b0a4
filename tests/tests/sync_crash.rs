//! Pushes interrupted at the worst moments lose nothing and apply nothing twice.
//!
//! 1. The server is SIGKILLed while three devices push large batches, then restarted on
//!    the same data dir; the devices retry until they converge.
//! 2. Every answer is lost on the way back (the proxy cuts each connection a few bytes
//!    into the server's answer): the server applied the pushes, the devices do not know;
//!    when the network heals, each event is ruled a duplicate, never applied twice.
//!
//! Harbor Kitchen (examples/restaurant.toml), autumn 2026: each cycle covers a stretch of
//! days the devices recorded offline — Luis every fridge check (5 a day), Ana the same
//! checks again a few minutes later (double completions) and the opening checks with a
//! photo, Sam an acknowledgement of each opening checks' level 2 and an excuse of each
//! 22:00 fridge check. Then all three sync at once while a killer thread SIGKILLs the
//! server after a seeded delay; the server is restarted on the same data dir (same port
//! when it can be bound again; the devices reach it through a plain forwarding proxy, so
//! a new port only repoints the proxy).

use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use proofline_core::store::SyncState;
use proofline_e2e::proxy::FaultConfig;
use proofline_e2e::restaurant::{checked, fridge_readings, ny, occurrence, photo_fixture, site};
use proofline_e2e::rng::{Rng, seeds};
use proofline_e2e::scenario::{Network, SyncOutcome, World};
use proofline_e2e::server_bin;

const PEOPLE: [&str; 3] = ["luis", "ana", "sam"];
/// Cycles of offline work, concurrent sync and a SIGKILL.
const CYCLES: usize = 4;
/// Days of work per cycle (about 200 events a cycle, 75–90 per device).
const DAYS_PER_CYCLE: i64 = 15;
/// The SIGKILL comes this many milliseconds after the syncs start, drawn from the seed:
/// the pushes of a cycle take roughly the first 100–300 ms in a debug build.
const KILL_AFTER_MS: (u64, u64) = (10, 300);
/// The first day worked.
const FIRST_DAY: &str = "2026-10-01";

fn day(n: i64) -> NaiveDate {
    let first = NaiveDate::parse_from_str(FIRST_DAY, "%Y-%m-%d").expect("date");
    first + Duration::days(n)
}

fn at(date: NaiveDate, hm: &str) -> DateTime<Utc> {
    ny(&format!("{} {hm}", date.format("%Y-%m-%d")))
}

/// The offline work of days `[first, first + DAYS_PER_CYCLE)`, in time order per device.
/// Returns the number of events written.
fn work(world: &mut World, first: i64) -> usize {
    let mut written = 0;
    for n in first..first + DAYS_PER_CYCLE {
        let date = day(n);
        let date_s = date.format("%Y-%m-%d").to_string();
        // The opening checks skip closed days (Thanksgiving); the fridges run anyway.
        let closed = world.members[0]
            .device
            .org()
            .site(site())
            .is_some_and(|s| s.is_closed(date));
        let luis = world.member("luis");
        for (i, hour) in ["06", "10", "14", "18", "22"].iter().enumerate() {
            let occ = occurrence("fridge-temps", &format!("{date_s} {hour}:00"));
            let done = luis
                .device
                .complete(
                    occ,
                    fridge_readings(2.0 + i as f64 * 0.5, 3.0),
                    Vec::new(),
                    None,
                    at(date, &format!("{hour}:05")),
                )
                .unwrap_or_else(|e| panic!("Luis, fridge {date_s} {hour}:00: {e}"));
            luis.wrote(done.id);
            written += 1;
        }
        let ana = world.member("ana");
        if ana.photos.is_empty() {
            // The 12 MP original: its stored JPEG (~0.5 MB) goes up in resumable chunks.
            let bytes = photo_fixture("forest-4032x3024-orient6.jpg");
            ana.capture("the clean line", &bytes, at(date, "06:50"));
        }
        let photo = ana.photos[0].sha256.clone();
        for hour in ["06", "07", "10", "14", "18", "22"] {
            if hour == "07" && closed {
                continue;
            }
            let done = if hour == "07" {
                ana.device.complete(
                    occurrence("opening-checks", &format!("{date_s} 07:00")),
                    vec![checked("handwash"), checked("sanitizer")],
                    vec![photo.clone()],
                    None,
                    at(date, "07:45"),
                )
            } else {
                ana.device.complete(
                    occurrence("fridge-temps", &format!("{date_s} {hour}:00")),
                    fridge_readings(4.0, 4.5),
                    Vec::new(),
                    Some("second reading".into()),
                    at(date, &format!("{hour}:12")),
                )
            }
            .unwrap_or_else(|e| panic!("Ana, {date_s} {hour}:00: {e}"));
            ana.wrote(done.id);
            written += 1;
        }
        let sam = world.member("sam");
        if !closed {
            let opening = occurrence("opening-checks", &format!("{date_s} 07:00"));
            let level = proofline_core::escalation::escalation_id(opening, 2);
            let ack = sam
                .device
                .acknowledge(level, at(date, "07:35"))
                .unwrap_or_else(|e| panic!("Sam acknowledges {date_s}'s opening checks: {e}"));
            sam.wrote(ack.id);
            written += 1;
        }
        let excuse = sam
            .device
            .excuse(
                occurrence("fridge-temps", &format!("{date_s} 22:00")),
                "late close, walk-in locked".into(),
                at(date, "21:00"),
            )
            .unwrap_or_else(|e| panic!("Sam excuses {date_s} 22:00: {e}"));
        sam.wrote(excuse.id);
        written += 1;
    }
    written
}

#[test]
fn a_server_killed_mid_push_loses_nothing() {
    let seed = seeds("server crash", &[0xC2A5])[0];
    let mut rng = Rng::new(seed);
    let enrolled = at(day(0), "05:00");
    let mut world = World::start(
        server_bin!(),
        Network::Proxy {
            seed,
            faults: FaultConfig::none(),
        },
        &PEOPLE,
        enrolled,
    );
    for i in 0..PEOPLE.len() {
        world.sync_until_complete(i, 5);
    }

    let mut interrupted_cycles = 0;
    for cycle in 0..CYCLES {
        let first = cycle as i64 * DAYS_PER_CYCLE;
        let events = work(&mut world, first);
        let now = at(day(first + DAYS_PER_CYCLE - 1), "23:50");
        let delay = rng.between(KILL_AFTER_MS.0, KILL_AFTER_MS.1);
        let killer = world.server.kill_handle();
        let started = Instant::now();
        let (outcomes, killed_running, synced_in) = std::thread::scope(|scope| {
            let kill = scope.spawn(move || {
                std::thread::sleep(StdDuration::from_millis(delay));
                killer.kill()
            });
            let syncs: Vec<_> = world
                .members
                .iter()
                .map(|m| {
                    scope.spawn(move || {
                        let result = m.device.sync(now).map_err(|e| e.to_string());
                        (SyncOutcome { key: m.key, result }, started.elapsed())
                    })
                })
                .collect();
            let outcomes: Vec<(SyncOutcome, StdDuration)> = syncs
                .into_iter()
                .map(|h| h.join().expect("a sync thread panicked"))
                .collect();
            let killed = kill.join().expect("killer");
            let longest = outcomes.iter().map(|(_, d)| *d).max().unwrap_or_default();
            (outcomes, killed, longest)
        });
        let interrupted = outcomes.iter().filter(|(o, _)| !o.complete()).count();
        if interrupted > 0 {
            interrupted_cycles += 1;
        }
        println!(
            "cycle {cycle}: {events} events written offline; SIGKILL after {delay} ms (server {}), syncs took up to {} ms, {interrupted} of {} interrupted",
            if killed_running {
                "was running"
            } else {
                "already down"
            },
            synced_in.as_millis(),
            outcomes.len()
        );
        for (o, d) in &outcomes {
            println!("  after {} ms: {}", d.as_millis(), o.line());
            world.record(now, o);
        }
        let moved = world.server.restart().expect("the server restarts");
        world.server_moved();
        println!(
            "  restarted (start {}) on {}{}",
            world.server.starts(),
            world.server.addr(),
            if moved { ", a new port" } else { "" }
        );
    }
    println!("{interrupted_cycles} of {CYCLES} cycles had a sync interrupted by the kill");

    world.sync_clock = at(day(CYCLES as i64 * DAYS_PER_CYCLE), "06:00");
    let rounds = world.converge(&mut rng, 40);
    println!(
        "converged in {} rounds ({} incomplete syncs); all syncs: {}",
        rounds.rounds, rounds.incomplete_syncs, world.totals
    );

    let log = world.assert_nothing_lost();
    world.assert_nothing_rejected();
    let written: usize = world.members.iter().map(|m| m.written.len()).sum();
    let from_devices = log
        .iter()
        .filter(|p| {
            world
                .members
                .iter()
                .any(|m| m.device_id() == p.event.device)
        })
        .count();
    assert_eq!(
        from_devices, written,
        "the server holds each event the devices wrote exactly once"
    );
    let from = at(day(0), "00:00");
    let until = at(day(CYCLES as i64 * DAYS_PER_CYCLE), "00:00");
    println!("{}", world.assert_converged(from, until, &[until]));
    world.assert_photos_everywhere(&log);
}

#[test]
fn pushes_whose_answers_are_lost_are_applied_once() {
    let seed = seeds("lost answers", &[0x1057])[0];
    let mut world = World::start(
        server_bin!(),
        Network::Proxy {
            seed,
            faults: FaultConfig::none(),
        },
        &["luis", "sam"],
        at(day(0), "05:00"),
    );
    for i in 0..2 {
        world.sync_until_complete(i, 5);
    }
    // Three days offline, no photos (so a sync's first request is its push).
    for n in 0..3 {
        let date = day(n);
        let date_s = date.format("%Y-%m-%d").to_string();
        let luis = world.member("luis");
        for hour in ["06", "10", "14", "18", "22"] {
            let done = luis
                .device
                .complete(
                    occurrence("fridge-temps", &format!("{date_s} {hour}:00")),
                    fridge_readings(3.0, 4.0),
                    Vec::new(),
                    None,
                    at(date, &format!("{hour}:04")),
                )
                .unwrap_or_else(|e| panic!("Luis, fridge {date_s} {hour}:00: {e}"));
            luis.wrote(done.id);
        }
        let sam = world.member("sam");
        let opening = occurrence("opening-checks", &format!("{date_s} 07:00"));
        let ack = sam
            .device
            .acknowledge(
                proofline_core::escalation::escalation_id(opening, 2),
                at(date, "07:40"),
            )
            .expect("Sam acknowledges level 2");
        sam.wrote(ack.id);
        let excuse = sam
            .device
            .excuse(
                opening,
                "kitchen closed for a gas leak".into(),
                at(date, "08:30"),
            )
            .expect("Sam excuses the opening checks");
        sam.wrote(excuse.id);
    }

    // Every answer broken off within its first 64 bytes (the status line).
    let lost = FaultConfig {
        cut_server_to_client: 1.0,
        cut_after_bytes: (1, 64),
        ..FaultConfig::none()
    };
    world.proxy.as_ref().expect("proxy").set_faults(lost);
    world.sync_clock = at(day(3), "06:00");
    for i in 0..2 {
        let outcome = world.sync(i);
        assert!(!outcome.complete(), "{}", outcome.line());
    }
    // The server applied every push; the devices still hold them as pending.
    let log = world.server_log();
    for m in &world.members {
        for id in &m.written {
            assert_eq!(
                log.iter().filter(|p| p.event.id == *id).count(),
                1,
                "{}'s event {id} on the server after its answer was lost",
                m.key
            );
        }
        let outbox = m.device.outbox().expect("outbox");
        assert!(
            outbox.iter().all(|e| e.state == SyncState::Pending),
            "{}: the device cannot know its pushes arrived: {outbox:?}",
            m.key
        );
    }

    world
        .proxy
        .as_ref()
        .expect("proxy")
        .set_faults(FaultConfig::none());
    let mut rng = Rng::new(seed);
    let rounds = world.converge(&mut rng, 10);
    println!(
        "converged in {} rounds; all syncs: {}; {}",
        rounds.rounds,
        world.totals,
        world.proxy_report()
    );
    let written: usize = world.members.iter().map(|m| m.written.len()).sum();
    assert_eq!(
        world.totals.duplicates, written as u64,
        "each event is ruled a duplicate once the answers get through"
    );
    for m in &world.members {
        let outbox = m.device.outbox().expect("outbox");
        assert!(
            outbox.iter().all(|e| e.state == SyncState::Duplicate),
            "{}: {outbox:?}",
            m.key
        );
    }
    world.assert_nothing_lost();
    world.assert_nothing_rejected();
    let from = at(day(0), "00:00");
    let until = at(day(3), "00:00");
    println!(
        "{}",
        world.assert_converged(from, until, &[at(day(1), "12:00"), until])
    );
}

/// The harness itself: a server restarted while its old port is taken comes up on a new
/// port, with its data, and the proxy follows it so the devices' address still works.
#[test]
fn a_restarted_server_keeps_its_data_even_on_a_new_port() {
    let seed = seeds("restart on a new port", &[0x9047])[0];
    let mut world = World::start(
        server_bin!(),
        Network::Proxy {
            seed,
            faults: FaultConfig::none(),
        },
        &["luis"],
        at(day(0), "05:00"),
    );
    world.sync_until_complete(0, 3);
    let luis = world.member("luis");
    let done = luis
        .device
        .complete(
            occurrence("fridge-temps", &format!("{FIRST_DAY} 06:00")),
            fridge_readings(3.0, 4.0),
            Vec::new(),
            None,
            at(day(0), "06:03"),
        )
        .expect("Luis reads the fridges");
    luis.wrote(done.id);
    world.sync_until_complete(0, 3);

    let old = world.server.addr();
    world.server.kill();
    let squatter = std::net::TcpListener::bind(old).expect("take the old port");
    let moved = world.server.restart().expect("restart");
    drop(squatter);
    assert!(moved, "the old port was taken");
    assert_ne!(world.server.addr(), old);
    assert_eq!(world.server.starts(), 2);
    world.server_moved();

    let outcome = world.sync_until_complete(0, 3);
    println!("after the move: {}", outcome.line());
    world.assert_nothing_lost();
    let from = at(day(0), "00:00");
    let until = at(day(1), "00:00");
    println!("{}", world.assert_converged(from, until, &[until]));
}
