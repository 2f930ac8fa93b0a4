//! Three devices at Harbor Kitchen (examples/restaurant.toml, America/New_York) work a day
//! offline, then sync in seeded random orders — straight to the server, and through a
//! network that delays and cuts connections — until nothing changes; afterwards every
//! device and the server agree on everything.
//!
//! The day, Tue 1 – Wed 2 Dec 2026 (Maria is on leave 1–8 Dec, so Luis covers her checks):
//! - Sam (supervisor) does the 1 Dec fire-extinguisher check with a photo of the tag;
//! - Luis takes the 06:00 fridge readings, does the 07:00 opening checks late (07:50) with
//!   a photo, and reads an out-of-range walk-in at 14:00 with a corrective action;
//! - the opening checks' level 2 fires at 07:30 and notifies Sam, who finds it in his feed
//!   and acknowledges it at 07:35;
//! - Ana (staff) does the 10:00 fridge readings at 10:08; Luis, not knowing, does them
//!   again at 10:25: both completions are kept, Ana's (the earliest valid) counts;
//! - Ana changes the ice-machine filter (overdue since 20 Nov) with a photo;
//! - Sam excuses the 18:00 fridge check ("walk-in defrost") and records that Luis went
//!   home sick at 15:00, so the evening checks fall to the role fallback (Sam);
//! - nobody does the 22:00 fridge check: missed, against Sam.
//!
//! Afterwards, at five instants of the day: the same statuses (with the same counted
//! completion), compliance report and attention feed of each person on every device and
//! on the server; every event each device wrote on the server exactly once; every photo
//! on the server and verified, its thumbnail on every other device; the double completion
//! kept twice everywhere.
//!
//! Variants: three sync orders straight to the server; the offline day then sync rounds
//! through a flaky network (20% of connections cut); devices syncing after every action
//! through a storm (50% cut, more than the client's retries absorb).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use proofline_core::model::{EscalationId, EventId, OccurrenceId};
use proofline_core::occurrence::Status;
use proofline_core::store::EventPayload;
use proofline_e2e::proxy::FaultConfig;
use proofline_e2e::restaurant::{
    camera_photo, checked, choice, fridge_readings, ny, occurrence, person, photo_fixture, reading,
    site, text,
};
use proofline_e2e::rng::{Rng, seeds};
use proofline_e2e::scenario::{Network, World};
use proofline_e2e::server_bin;

const PEOPLE: [&str; 3] = ["luis", "ana", "sam"];
/// Long edge of the camera-sized photos.
const CAMERA_EDGE: u32 = 800;

/// What the day did, to check after the sync.
struct Day {
    /// The 10:00 fridge check, done by Ana (earliest) and Luis.
    double: OccurrenceId,
    ana_first: EventId,
    luis_second: EventId,
    /// The opening checks' level 2, acknowledged by Sam.
    acknowledged: EscalationId,
    /// The 22:00 fridge check, assigned to Sam (Maria on leave, Luis sent home).
    fallback: OccurrenceId,
    /// What each occurrence must end as (at 06:30 the next morning), and which completion
    /// counts.
    expected: Vec<(&'static str, OccurrenceId, Status, Option<EventId>)>,
}

/// Statuses, compliance and attention are compared over this period…
fn period() -> (DateTime<Utc>, DateTime<Utc>) {
    (ny("2026-11-20 00:00"), ny("2026-12-04 00:00"))
}

/// …at these instants: mid-escalation, around the double completion, at the missed check,
/// and the next morning.
fn check_times() -> Vec<DateTime<Utc>> {
    [
        "2026-12-01 12:00",
        "2026-12-02 07:40",
        "2026-12-02 10:15",
        "2026-12-02 22:20",
        "2026-12-03 06:30",
    ]
    .into_iter()
    .map(ny)
    .collect()
}

/// How the day is played.
#[derive(Clone, Copy)]
struct Style {
    /// Ana's cartridge photo is the 12 MP original (else a camera-sized copy).
    big_photo: bool,
    /// Each device syncs right after each of its actions (through a bad network), instead
    /// of staying offline all day.
    chatty: bool,
}

/// In a chatty day, `key` syncs a minute after acting at `at` (finished or not).
fn chat(world: &mut World, style: Style, key: &str, at: &str) {
    if style.chatty {
        world.sync_clock = ny(at) + Duration::minutes(1);
        let i = world.index(key);
        world.sync(i);
    }
}

fn play_the_day(world: &mut World, style: Style) -> Day {
    let fire = occurrence("fire-extinguishers", "2026-12-01 10:00");
    let fridge6 = occurrence("fridge-temps", "2026-12-02 06:00");
    let opening = occurrence("opening-checks", "2026-12-02 07:00");
    let fridge10 = occurrence("fridge-temps", "2026-12-02 10:00");
    let fridge14 = occurrence("fridge-temps", "2026-12-02 14:00");
    let fridge18 = occurrence("fridge-temps", "2026-12-02 18:00");
    let fridge22 = occurrence("fridge-temps", "2026-12-02 22:00");
    let filter = occurrence("ice-machine-filter", "2026-11-20 09:00");

    // Tue 1 Dec, 10:30: Sam's fire-extinguisher check.
    let sam = world.member("sam");
    let tag = sam.capture(
        "the extinguisher tag",
        &camera_photo("cups-2560x1600-orient3.jpg", CAMERA_EDGE),
        ny("2026-12-01 10:28"),
    );
    let done = sam
        .device
        .complete(
            fire,
            vec![checked("gauges"), choice("condition", "All good")],
            vec![tag.sha256.clone()],
            None,
            ny("2026-12-01 10:30"),
        )
        .expect("Sam completes the fire-extinguisher check");
    let sam_fire = sam.wrote(done.id);
    chat(world, style, "sam", "2026-12-01 10:30");

    // Wed 2 Dec, 06:05: Luis's fridge readings.
    let luis = world.member("luis");
    let done = luis
        .device
        .complete(
            fridge6,
            fridge_readings(3.5, 4.0),
            Vec::new(),
            None,
            ny("2026-12-02 06:05"),
        )
        .expect("Luis reads the fridges at 06:05");
    let luis_fridge6 = luis.wrote(done.id);
    chat(world, style, "luis", "2026-12-02 06:05");

    // 07:35: the opening checks are overdue; level 2 (+30 min) reached Sam.
    let sam = world.member("sam");
    let feed = sam.device.attention(ny("2026-12-02 07:35")).expect("feed");
    let level = feed
        .iter()
        .find(|i| i.occurrence == Some(opening))
        .and_then(|i| i.escalation)
        .unwrap_or_else(|| {
            panic!("the opening checks' escalation is not in Sam's feed: {feed:#?}")
        });
    assert_eq!(level.level, 2, "{level:?}");
    assert!(!level.acknowledged);
    let ack = sam
        .device
        .acknowledge(level.id, ny("2026-12-02 07:35"))
        .expect("Sam acknowledges level 2");
    sam.wrote(ack.id);
    chat(world, style, "sam", "2026-12-02 07:35");

    // 07:50: Luis does the opening checks, late, with a photo of the line.
    let luis = world.member("luis");
    let line = luis.capture(
        "the clean line",
        &camera_photo("leaf-2560x1600.jpg", CAMERA_EDGE),
        ny("2026-12-02 07:48"),
    );
    let done = luis
        .device
        .complete(
            opening,
            vec![checked("handwash"), checked("sanitizer")],
            vec![line.sha256.clone()],
            Some("line clean, one soap dispenser refilled".into()),
            ny("2026-12-02 07:50"),
        )
        .expect("Luis completes the opening checks");
    let luis_opening = luis.wrote(done.id);
    chat(world, style, "luis", "2026-12-02 07:50");

    // 10:08 Ana and 10:25 Luis both take the 10:00 readings.
    let ana = world.member("ana");
    let done = ana
        .device
        .complete(
            fridge10,
            fridge_readings(3.0, 4.5),
            Vec::new(),
            None,
            ny("2026-12-02 10:08"),
        )
        .expect("Ana reads the fridges at 10:08");
    let ana_first = ana.wrote(done.id);
    chat(world, style, "ana", "2026-12-02 10:08");
    let luis = world.member("luis");
    let done = luis
        .device
        .complete(
            fridge10,
            fridge_readings(2.0, 3.0),
            Vec::new(),
            None,
            ny("2026-12-02 10:25"),
        )
        .expect("Luis reads the fridges at 10:25");
    let luis_second = luis.wrote(done.id);
    // Offline, Luis's device counts his own completion (late).
    if !style.chatty {
        let mine = luis
            .device
            .statuses(
                site(),
                ny("2026-12-02 00:00"),
                ny("2026-12-03 00:00"),
                ny("2026-12-02 11:00"),
            )
            .expect("statuses")
            .into_iter()
            .find(|s| s.occurrence == fridge10)
            .expect("the 10:00 check");
        assert_eq!(
            (mine.status, mine.counted_completion),
            (Status::DoneLate, Some(luis_second)),
            "before syncing, Luis's device knows only his own completion"
        );
    }
    chat(world, style, "luis", "2026-12-02 10:25");

    // 11:00: Ana changes the ice-machine filter (due 20 Nov, long missed) with a photo.
    let ana = world.member("ana");
    // Through the faulty network the 12 MP original, whose stored JPEG (~0.5 MB) goes up
    // in resumable chunks; otherwise a camera-sized copy (debug builds capture slowly).
    let forest = "forest-4032x3024-orient6.jpg";
    let bytes = if style.big_photo {
        Arc::new(photo_fixture(forest))
    } else {
        camera_photo(forest, CAMERA_EDGE)
    };
    let cartridge = ana.capture("the new cartridge", &bytes, ny("2026-12-02 10:58"));
    let done = ana
        .device
        .complete(
            filter,
            Vec::new(),
            vec![cartridge.sha256.clone()],
            None,
            ny("2026-12-02 11:00"),
        )
        .expect("Ana changes the ice-machine filter");
    let ana_filter = ana.wrote(done.id);
    chat(world, style, "ana", "2026-12-02 11:00");

    // 14:05: the walk-in reads 7.5 °C; Luis notes what he did.
    let luis = world.member("luis");
    let mut results = vec![
        reading(
            "walk-in",
            7.5,
            Some("moved stock to the reach-in, called maintenance"),
        ),
        reading("reach-in", 4.0, None),
    ];
    results.push(text("corrective-action", "maintenance booked for 16:00"));
    let done = luis
        .device
        .complete(fridge14, results, Vec::new(), None, ny("2026-12-02 14:05"))
        .expect("Luis records an out-of-range reading with a corrective action");
    let luis_fridge14 = luis.wrote(done.id);
    chat(world, style, "luis", "2026-12-02 14:05");

    // 16:00: Sam excuses the 18:00 check.
    let sam = world.member("sam");
    let excuse = sam
        .device
        .excuse(
            fridge18,
            "walk-in defrost: unit emptied for maintenance".into(),
            ny("2026-12-02 16:00"),
        )
        .expect("Sam excuses the 18:00 check");
    sam.wrote(excuse.id);
    chat(world, style, "sam", "2026-12-02 16:00");

    // 16:05: Luis went home sick at 15:00; Sam records it. With Maria on leave too, the
    // evening checks fall to the role fallback (the supervisor: Sam himself).
    let sam = world.member("sam");
    sam.device
        .record_absence(
            person("luis"),
            ny("2026-12-02 15:00"),
            ny("2026-12-03 00:00"),
            Some("sent home sick".into()),
            ny("2026-12-02 16:05"),
        )
        .expect("Sam records Luis's absence");
    sam.wrote_last();
    chat(world, style, "sam", "2026-12-02 16:05");

    Day {
        double: fridge10,
        ana_first,
        luis_second,
        acknowledged: level.id,
        fallback: fridge22,
        expected: vec![
            (
                "ice-machine filter",
                filter,
                Status::DoneLate,
                Some(ana_filter),
            ),
            (
                "fire extinguishers 1 Dec",
                fire,
                Status::DoneOnTime,
                Some(sam_fire),
            ),
            (
                "fridge 06:00",
                fridge6,
                Status::DoneOnTime,
                Some(luis_fridge6),
            ),
            (
                "opening 07:00",
                opening,
                Status::DoneLate,
                Some(luis_opening),
            ),
            (
                "fridge 10:00",
                fridge10,
                Status::DoneOnTime,
                Some(ana_first),
            ),
            (
                "fridge 14:00",
                fridge14,
                Status::DoneOnTime,
                Some(luis_fridge14),
            ),
            ("fridge 18:00", fridge18, Status::Excused, None),
            ("fridge 22:00", fridge22, Status::Missed, None),
        ],
    }
}

/// The day, then sync rounds in an order drawn from `order_seed`, then every check.
fn the_day_converges(network: Network, style: Style, order_seed: u64, max_rounds: usize) {
    let mut world = World::start(server_bin!(), network, &PEOPLE, ny("2026-12-01 08:00"));
    // Sync once, then go offline.
    for i in 0..PEOPLE.len() {
        world.sync_until_complete(i, 40);
    }
    let day = play_the_day(&mut world, style);

    world.sync_clock = ny("2026-12-03 06:35");
    let mut rng = Rng::new(order_seed);
    let rounds = world.converge(&mut rng, max_rounds);
    println!(
        "order seed {order_seed}: converged in {} rounds ({} incomplete syncs), orders {:?}",
        rounds.rounds, rounds.incomplete_syncs, rounds.orders
    );
    println!("{}; all syncs: {}", world.proxy_report(), world.totals);
    println!("syncs:\n{}", world.sync_log_tail(usize::MAX));

    let (from, until) = period();
    println!("{}", world.assert_converged(from, until, &check_times()));
    let log = world.assert_nothing_lost();
    world.assert_nothing_rejected();
    world.assert_photos_everywhere(&log);

    // The server's statuses are the ones the day should have produced.
    let morning = ny("2026-12-03 06:30");
    let statuses = world
        .admin
        .statuses("harbor", from, until, morning)
        .expect("server statuses");
    for (what, occ, status, counted) in &day.expected {
        let row = statuses
            .iter()
            .find(|s| s.occurrence == *occ)
            .unwrap_or_else(|| panic!("{what} is not in the server's statuses"));
        assert_eq!(
            (row.status, row.counted_completion),
            (*status, *counted),
            "{what} on the server"
        );
    }

    // The double completion: both kept on the server and on every device, once each;
    // the earliest counts everywhere (the statuses above are the same on every device).
    for id in [day.ana_first, day.luis_second] {
        let copies = log.iter().filter(|p| p.event.id == id).count();
        assert_eq!(
            copies, 1,
            "completion {id} of the 10:00 check on the server"
        );
        for m in &world.members {
            let event = m
                .store()
                .event(id)
                .expect("read the device's log")
                .unwrap_or_else(|| panic!("{} lacks completion {id} of the 10:00 check", m.key));
            assert!(
                matches!(&event.payload, EventPayload::Completed(c) if c.occurrence == day.double),
                "{event:?}"
            );
        }
    }
    let completions_of_double = log
        .iter()
        .filter(|p| matches!(&p.event.payload, EventPayload::Completed(c) if c.occurrence == day.double))
        .count();
    assert_eq!(completions_of_double, 2);

    // The missed 22:00 check counts against Sam, the fallback, on the server as on every
    // device (the compliance reports are compared above).
    let report = world
        .admin
        .compliance(
            "harbor",
            ny("2026-12-02 22:00"),
            ny("2026-12-02 22:01"),
            morning,
        )
        .expect("compliance of the 22:00 check");
    assert_eq!(report.totals.missed, 1, "{report:#?}");
    assert_eq!(
        report
            .people
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Sam Reed"],
        "the 22:00 check of {:?} falls to the fallback",
        day.fallback
    );

    // Sam's acknowledgement is in his feed on the server as on his device (compared above).
    let feed = world
        .admin
        .attention("sam", ny("2026-12-02 07:40"))
        .expect("Sam's feed on the server");
    let item = feed
        .iter()
        .find(|i| i.escalation.is_some_and(|e| e.id == day.acknowledged))
        .unwrap_or_else(|| panic!("the acknowledged level is not in Sam's feed: {feed:#?}"));
    assert!(item.escalation.is_some_and(|e| e.acknowledged));
}

fn seed(defaults: u64, name: &str) -> u64 {
    seeds(name, &[defaults])[0]
}

/// The day offline, camera-sized photos.
const OFFLINE: Style = Style {
    big_photo: false,
    chatty: false,
};

#[test]
fn the_day_converges_in_sync_order_a() {
    the_day_converges(Network::Direct, OFFLINE, seed(0xA11CE, "sync order a"), 8);
}

#[test]
fn the_day_converges_in_sync_order_b() {
    the_day_converges(Network::Direct, OFFLINE, seed(0xB0B, "sync order b"), 8);
}

#[test]
fn the_day_converges_in_sync_order_c() {
    the_day_converges(Network::Direct, OFFLINE, seed(0xC0FFEE, "sync order c"), 8);
}

/// The day offline, then sync rounds through a network that cuts 20% of connections
/// (half of them mid-request, half mid-answer) and delays 25%.
#[test]
fn the_day_converges_through_a_faulty_network() {
    let seed = seed(0xFA17, "faulty network");
    let faults = FaultConfig::flaky();
    let style = Style {
        big_photo: true,
        chatty: false,
    };
    the_day_converges(Network::Proxy { seed, faults }, style, seed, 40);
}

/// Every device syncs after each action, through a network that cuts half the
/// connections: more than the client's retries absorb, so syncs break off mid-push,
/// mid-upload and mid-pull and must resume.
#[test]
fn the_day_converges_through_a_storm() {
    let seed = seed(0x5708, "storm");
    let faults = FaultConfig::storm();
    let style = Style {
        big_photo: true,
        chatty: true,
    };
    the_day_converges(Network::Proxy { seed, faults }, style, seed, 40);
}
