//! A shift at Harbor Kitchen (examples/restaurant.toml), driven from the outside of the
//! device facade the way the apps and the CLI drive it: checks surface in the feed when
//! they open, proof is enforced, misses show in the review, only supervisors excuse, the
//! state survives reopening, and the hash chain catches tampering.
//!
//! Wed 9 Dec 2026 in America/New_York (UTC−5). Maria Lopez (staff) owns the opening checks
//! (07:00, two ticks and a photo) and the fridge temperatures (06:00, 10:00, 14:00, 18:00,
//! 22:00; two readings in 1–5 °C). Sam Reed is a supervisor, Dana Kim the site lead.

use std::path::Path;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use proofline_core::attention::{AttentionKind, attention};
use proofline_core::completion::ProblemKind;
use proofline_core::device::{Device, DeviceError};
use proofline_core::model::{
    Completion, DeviceId, EventId, Excuse, History, OccurrenceId, Org, PersonId, Routine,
    RoutineId, StepAnswer, StepKind, StepResult,
};
use proofline_core::occurrence::{Status, occurrence_id};
use proofline_core::routines_file::{load_routines_file, person_id, routine_id};
use proofline_core::store::{
    ChainProblem, DB_FILE, Event, EventPayload, GENESIS_HASH, HistoryWindow, Origin, Store,
};
use proofline_core::zone::local_to_instant;
use uuid::Uuid;

const NEW_YORK: chrono_tz::Tz = chrono_tz::America::New_York;

fn restaurant() -> Org {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/restaurant.toml");
    load_routines_file(&path).expect("the example loads")
}

/// "2026-12-09 06:00" in New York.
fn ny(s: &str) -> DateTime<Utc> {
    let local = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("test time");
    local_to_instant(NEW_YORK, local)
}

/// Wed 9 Dec at `hm` in New York.
fn dec9(hm: &str) -> DateTime<Utc> {
    ny(&format!("2026-12-09 {hm}"))
}

fn fridge() -> RoutineId {
    routine_id("harbor", "fridge-temps")
}

fn opening() -> RoutineId {
    routine_id("harbor", "opening-checks")
}

fn occ(routine: RoutineId, due: DateTime<Utc>) -> OccurrenceId {
    occurrence_id(routine, due)
}

fn reading(step: &str, value: f64) -> StepResult {
    StepResult {
        step: step.into(),
        answer: StepAnswer::Reading {
            value,
            corrective_action: None,
        },
    }
}

fn checked(step: &str) -> StepResult {
    StepResult {
        step: step.into(),
        answer: StepAnswer::Checked,
    }
}

fn feed_item(
    device: &Device,
    id: OccurrenceId,
    now: DateTime<Utc>,
) -> Option<(AttentionKind, Status)> {
    device
        .attention(now)
        .expect("attention")
        .into_iter()
        .find(|i| i.occurrence == Some(id))
        .map(|i| (i.kind, i.status.unwrap_or(Status::Upcoming)))
}

fn leaf_photo() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/photos/leaf-2560x1600.jpg");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn day() -> (DateTime<Utc>, DateTime<Utc>) {
    (dec9("00:00"), ny("2026-12-10 00:00"))
}

/// The bindings share one device between threads (uniffi objects are `Arc`s).
#[test]
fn a_device_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Device>();
}

#[test]
fn a_shift_at_harbor_kitchen() {
    let org = restaurant();
    let site = org.sites[0].id;
    let (maria, sam) = (person_id("maria"), person_id("sam"));
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("maria");
    let device = Device::create(&dir, &org, maria, dec9("05:00")).expect("create");
    assert_eq!(device.identity().person, maria);
    assert_eq!(device.identity().sites, vec![site]);

    // The 06:00 fridge check opens at 05:45, is due at 06:00, late after 06:15.
    let fridge6 = occ(fridge(), dec9("06:00"));
    assert_eq!(feed_item(&device, fridge6, dec9("05:40")), None);
    assert_eq!(
        feed_item(&device, fridge6, dec9("05:50")),
        Some((AttentionKind::DueNow, Status::Open))
    );
    assert_eq!(
        feed_item(&device, fridge6, dec9("06:05")),
        Some((AttentionKind::DueNow, Status::Due))
    );
    assert_eq!(
        feed_item(&device, fridge6, dec9("06:20")),
        Some((AttentionKind::Overdue, Status::Overdue))
    );
    let today = device.today(dec9("05:50")).expect("today");
    let titles: Vec<(&str, NaiveDateTime)> = today
        .iter()
        .filter(|i| !i.from_earlier_day)
        .map(|i| (i.routine_title.as_str(), i.local_due))
        .collect();
    assert_eq!(
        titles
            .iter()
            .map(|(t, d)| format!("{} {t}", d.format("%H:%M")))
            .collect::<Vec<_>>(),
        vec![
            "06:00 Fridge temperatures",
            "07:00 Opening checks",
            "10:00 Fridge temperatures",
            "14:00 Fridge temperatures",
            "18:00 Fridge temperatures",
            "22:00 Fridge temperatures",
        ]
    );

    // In-range readings at 06:10: done on time, gone from the feed.
    let done = device
        .complete(
            fridge6,
            vec![reading("walk-in", 3.5), reading("reach-in", 4.0)],
            Vec::new(),
            None,
            dec9("06:10"),
        )
        .expect("in-range readings complete the check");
    assert_eq!(
        (done.routine, done.due, done.by),
        (fridge(), dec9("06:00"), maria)
    );
    assert_eq!(feed_item(&device, fridge6, dec9("06:12")), None);

    // Opening checks with a photo captured on the device.
    let opening7 = occ(opening(), dec9("07:00"));
    let photo = device
        .capture_photo(&leaf_photo(), dec9("07:03"))
        .expect("the photo is captured");
    let missing_photo = device
        .complete(
            opening7,
            vec![checked("handwash"), checked("sanitizer")],
            Vec::new(),
            None,
            dec9("07:04"),
        )
        .expect_err("the photo step is required");
    match &missing_photo {
        DeviceError::ProofIncomplete(problems) => {
            assert_eq!(problems.len(), 1);
            assert_eq!(problems[0].step, "line-photo");
        }
        other => panic!("expected ProofIncomplete, got {other:?}"),
    }
    let done = device
        .complete(
            opening7,
            vec![checked("handwash"), checked("sanitizer")],
            vec![photo.sha256.clone()],
            Some("all good".into()),
            dec9("07:05"),
        )
        .expect("with the photo it completes");
    assert!(done.results.contains(&StepResult {
        step: "line-photo".into(),
        answer: StepAnswer::Photos {
            sha256: vec![photo.sha256.clone()]
        },
    }));
    let not_captured = device
        .complete(
            opening7,
            vec![checked("handwash"), checked("sanitizer")],
            vec!["ab".repeat(32)],
            None,
            dec9("07:06"),
        )
        .expect_err("a photo not captured here is refused");
    assert!(
        matches!(&not_captured, DeviceError::InvalidInput(m) if m.contains("was not captured on this device")),
        "{not_captured:?}"
    );

    // Out of range without a corrective action: refused, naming the step and the range.
    let fridge10 = occ(fridge(), dec9("10:00"));
    // The check screen asks first, recording nothing: the same problems `complete` gives.
    let asked = device
        .check_proof(
            fridge10,
            vec![reading("walk-in", 7.5)],
            Vec::new(),
            dec9("10:01"),
        )
        .expect("a dry run");
    let asked: Vec<(&str, bool)> = asked
        .iter()
        .map(|p| {
            (
                p.step.as_str(),
                matches!(p.problem, ProblemKind::OutOfRange { .. }),
            )
        })
        .collect();
    assert_eq!(asked, [("walk-in", true), ("reach-in", false)]);
    assert!(
        device
            .check_proof(
                fridge10,
                vec![reading("walk-in", 3.0), reading("reach-in", 4.0)],
                Vec::new(),
                dec9("10:01"),
            )
            .expect("a dry run")
            .is_empty(),
        "in range: nothing to fix"
    );
    assert!(
        feed_item(&device, fridge10, dec9("10:01")).is_some(),
        "asking records nothing: the check is still open"
    );
    let refused = device
        .complete(
            fridge10,
            vec![reading("walk-in", 7.5), reading("reach-in", 4.0)],
            Vec::new(),
            None,
            dec9("10:02"),
        )
        .expect_err("out of range needs a corrective action");
    assert_eq!(
        refused.to_string(),
        "Walk-in cooler: 7.5 °C is outside 1–5 °C; add a corrective action."
    );
    match &refused {
        DeviceError::ProofIncomplete(problems) => {
            assert_eq!(problems[0].step, "walk-in");
            assert!(matches!(
                problems[0].problem,
                ProblemKind::OutOfRange { .. }
            ));
        }
        other => panic!("expected ProofIncomplete, got {other:?}"),
    }
    device
        .complete(
            fridge10,
            vec![
                StepResult {
                    step: "walk-in".into(),
                    answer: StepAnswer::Reading {
                        value: 7.5,
                        corrective_action: Some(
                            "moved stock to the reach-in, called maintenance".into(),
                        ),
                    },
                },
                reading("reach-in", 4.0),
            ],
            Vec::new(),
            None,
            dec9("10:03"),
        )
        .expect("with a corrective action it completes");

    // Completing before the window opens is refused.
    let fridge18 = occ(fridge(), dec9("18:00"));
    let early = device
        .complete(
            fridge18,
            vec![reading("walk-in", 3.0), reading("reach-in", 3.0)],
            Vec::new(),
            None,
            dec9("12:00"),
        )
        .expect_err("not open yet");
    assert_eq!(
        early.to_string(),
        "Fridge temperatures (Harbor Kitchen) (due 18:00) opens at 17:45; it cannot be completed before then"
    );

    // The 14:00 check is never done: missed at 15:00, in the review.
    let fridge14 = occ(fridge(), dec9("14:00"));
    let (from, until) = day();
    let now = dec9("15:30");
    let missed = device.missed(site, from, until, now).expect("missed");
    let missed_today: Vec<_> = missed.iter().map(|m| (m.occurrence.id, m.status)).collect();
    assert_eq!(missed_today, vec![(fridge14, Status::Missed)]);
    let report = device
        .compliance(site, from, until, now)
        .expect("compliance");
    assert_eq!(
        (
            report.totals.on_time,
            report.totals.late,
            report.totals.missed,
            report.totals.excused,
            report.totals.still_open
        ),
        (3, 0, 1, 0, 2)
    );

    // Staff cannot excuse; a supervisor can.
    let refused = device
        .excuse(fridge18, "walk-in defrost".into(), dec9("16:00"))
        .expect_err("staff cannot excuse");
    assert_eq!(
        refused,
        DeviceError::NotAllowed(
            "Maria Lopez is staff at Harbor Kitchen; excusing a check needs supervisor, lead or admin there".into()
        )
    );
    let sam_device =
        Device::create(&tmp.path().join("sam"), &org, sam, dec9("15:55")).expect("sam's device");
    let excuse = sam_device
        .excuse(fridge18, "walk-in defrost".into(), dec9("16:00"))
        .expect("a supervisor excuses");
    assert_eq!(
        (excuse.routine, excuse.due, excuse.by),
        (fridge(), dec9("18:00"), sam)
    );
    let empty = sam_device
        .excuse(fridge14, "  ".into(), dec9("16:00"))
        .expect_err("a reason is required");
    assert!(matches!(empty, DeviceError::InvalidInput(_)), "{empty:?}");
    let sam_report = sam_device
        .compliance(site, from, until, dec9("16:00"))
        .expect("compliance");
    assert_eq!(sam_report.totals.excused, 1);

    // Reopening shows the same state.
    let before = (
        device.today(now).expect("today"),
        device.attention(now).expect("attention"),
        device.missed(site, from, until, now).expect("missed"),
        device
            .compliance(site, from, until, now)
            .expect("compliance"),
        device.org(),
        device.identity(),
    );
    drop(device);
    let device = Device::open(&dir).expect("reopen");
    let after = (
        device.today(now).expect("today"),
        device.attention(now).expect("attention"),
        device.missed(site, from, until, now).expect("missed"),
        device
            .compliance(site, from, until, now)
            .expect("compliance"),
        device.org(),
        device.identity(),
    );
    assert_eq!(before, after);
    let detail = device.occurrence(fridge10, now).expect("detail");
    assert_eq!(detail.status, Status::DoneOnTime);
    assert_eq!(detail.completions.len(), 1);

    // The chain verifies: three completions, the imported definitions.
    let report = device.verify_chain().expect("verify");
    assert!(report.is_intact(), "{:?}", report.first_broken);
    assert_eq!(report.local_events, 3);
    assert!(report.import_events > 6);
    assert_eq!(device.outbox_summary().expect("outbox").pending, 3);
    drop(device);

    // Altering a reading in SQLite is caught.
    let conn = rusqlite::Connection::open(dir.join(DB_FILE)).expect("open db");
    let changed = conn
        .execute(
            "UPDATE events SET payload = replace(payload, '\"value\":3.5', '\"value\":4.5')
              WHERE origin = 'local' AND seq = 1",
            [],
        )
        .expect("tamper");
    assert_eq!(changed, 1);
    drop(conn);
    let device = Device::open(&dir).expect("reopen");
    let report = device.verify_chain().expect("verify");
    let broken = report.first_broken.expect("the altered event is reported");
    assert_eq!(
        (broken.chain, broken.seq, broken.event),
        (Origin::Local, 1, Some(done_id(&dir, 1)))
    );
    assert!(
        matches!(broken.problem, ChainProblem::Altered { .. }),
        "{broken:?}"
    );
}

/// The id of this device's event `seq`, read without the facade.
fn done_id(dir: &Path, seq: i64) -> EventId {
    let conn = rusqlite::Connection::open(dir.join(DB_FILE)).expect("open db");
    let id: String = conn
        .query_row(
            "SELECT id FROM events WHERE origin = 'local' AND seq = ?1",
            [seq],
            |r| r.get(0),
        )
        .expect("event");
    EventId(Uuid::parse_str(&id).expect("uuid"))
}

#[test]
fn deleting_or_editing_rows_breaks_the_chain_where_it_happened() {
    let org = restaurant();
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("maria");
    let device = Device::create(&dir, &org, person_id("maria"), dec9("05:00")).expect("create");
    for (i, hour) in ["06:00", "10:00", "14:00", "18:00"].into_iter().enumerate() {
        let at = dec9(hour) + Duration::minutes(5);
        device
            .complete(
                occ(fridge(), dec9(hour)),
                vec![
                    reading("walk-in", 3.0 + i as f64 * 0.1),
                    reading("reach-in", 4.0),
                ],
                Vec::new(),
                None,
                at,
            )
            .expect("complete");
    }
    assert!(device.verify_chain().expect("verify").is_intact());
    drop(device);

    let conn = rusqlite::Connection::open(dir.join(DB_FILE)).expect("open db");
    conn.execute_batch(
        "DELETE FROM outbox WHERE event = (SELECT id FROM events WHERE origin = 'local' AND seq = 2);
         DELETE FROM events WHERE origin = 'local' AND seq = 2;",
    )
    .expect("delete");
    drop(conn);
    let report = Device::open(&dir)
        .expect("open")
        .verify_chain()
        .expect("verify");
    let broken = report.first_broken.expect("the gap is reported");
    assert_eq!(broken.seq, 2);
    assert_eq!(broken.problem, ChainProblem::Missing { found_seq: 3 });
    assert!(
        broken.to_string().contains("events were deleted"),
        "{broken}"
    );

    // Moving a completion's indexed due time (to hide it from windowed reads) is caught too.
    let conn = rusqlite::Connection::open(dir.join(DB_FILE)).expect("open db");
    conn.execute(
        "UPDATE events SET due = due - 86400 WHERE origin = 'local' AND seq = 1",
        [],
    )
    .expect("tamper");
    drop(conn);
    let report = Device::open(&dir)
        .expect("open")
        .verify_chain()
        .expect("verify");
    let broken = report.first_broken.expect("reported");
    assert_eq!(
        (broken.seq, broken.problem),
        (1, ChainProblem::IndexAltered)
    );
}

#[test]
fn permissions_and_unknown_ids_give_typed_errors() {
    let org = restaurant();
    let tmp = tempfile::tempdir().expect("temp dir");
    let maria = Device::create(
        &tmp.path().join("m"),
        &org,
        person_id("maria"),
        dec9("05:00"),
    )
    .expect("create");
    let err = maria
        .record_absence(
            person_id("luis"),
            dec9("08:00"),
            dec9("20:00"),
            None,
            dec9("07:00"),
        )
        .expect_err("staff cannot record absences");
    assert_eq!(
        err.to_string(),
        "Maria Lopez is staff at Harbor Kitchen; recording an absence of Luis Ortega needs supervisor, lead or admin there"
    );
    let unknown = OccurrenceId(Uuid::from_u128(42));
    assert!(matches!(
        maria.complete(unknown, Vec::new(), Vec::new(), None, dec9("07:00")),
        Err(DeviceError::NotFound(_))
    ));
    assert!(matches!(
        Device::create(
            &tmp.path().join("m"),
            &org,
            person_id("maria"),
            dec9("05:00")
        ),
        Err(DeviceError::InvalidInput(_))
    ));
    assert!(matches!(
        Device::open(&tmp.path().join("nothing-here")),
        Err(DeviceError::NotFound(_))
    ));
    assert!(
        !tmp.path().join("nothing-here").exists(),
        "open creates nothing"
    );

    // A supervisor records an absence: Maria's checks go to her backup, Luis.
    let sam = Device::create(&tmp.path().join("s"), &org, person_id("sam"), dec9("05:00"))
        .expect("create");
    let absence = sam
        .record_absence(
            person_id("maria"),
            dec9("12:00"),
            ny("2026-12-10 00:00"),
            Some("sick".into()),
            dec9("11:00"),
        )
        .expect("a supervisor records it");
    assert_eq!(absence.reason.as_deref(), Some("sick"));
    assert!(sam.org().absences.contains(&absence));
    let sam = {
        drop(sam);
        Device::open(&tmp.path().join("s")).expect("reopen")
    };
    assert!(
        sam.org().absences.contains(&absence),
        "absences are events too"
    );
    assert!(matches!(
        sam.record_absence(
            person_id("maria"),
            dec9("12:00"),
            dec9("11:00"),
            None,
            dec9("11:00")
        ),
        Err(DeviceError::InvalidInput(_))
    ));
}

#[test]
fn only_a_recipient_acknowledges_a_fired_level() {
    let org = restaurant();
    let tmp = tempfile::tempdir().expect("temp dir");
    let dana = Device::create(
        &tmp.path().join("d"),
        &org,
        person_id("dana"),
        dec9("05:00"),
    )
    .expect("create");
    let sam = Device::create(&tmp.path().join("s"), &org, person_id("sam"), dec9("05:00"))
        .expect("create");
    // Opening checks at 07:00: level 2 (+30m) notifies Sam, level 3 (+1h) Dana.
    let opening7 = occ(opening(), dec9("07:00"));
    let level2 = proofline_core::escalation::escalation_id(opening7, 2);
    let level3 = proofline_core::escalation::escalation_id(opening7, 3);
    let not_yet = sam
        .acknowledge(level2, dec9("07:20"))
        .expect_err("not fired");
    assert!(
        matches!(not_yet, DeviceError::InvalidInput(_)),
        "{not_yet:?}"
    );
    let ack = sam
        .acknowledge(level2, dec9("07:35"))
        .expect("Sam is notified");
    assert_eq!(ack.escalation, level2);
    let item = sam
        .attention(dec9("07:40"))
        .expect("feed")
        .into_iter()
        .find(|i| i.occurrence == Some(opening7))
        .expect("still escalated to Sam");
    assert!(item.escalation.is_some_and(|e| e.acknowledged));
    let err = dana
        .acknowledge(level2, dec9("07:35"))
        .expect_err("Dana is not notified");
    assert_eq!(
        err.to_string(),
        "Dana Kim is not notified by level 2 of Opening checks (Harbor Kitchen) (due 07:00); only Sam Reed can acknowledge it"
    );
    dana.acknowledge(level3, dec9("08:05"))
        .expect("Dana is level 3");
}

// ---------------------------------------------------------------------------------------
// Windowed reads against the whole history

/// A valid completion of `routine`'s occurrence due at `due`, made at `at` by `by`.
fn valid_completion(
    routine: &Routine,
    due: DateTime<Utc>,
    at: DateTime<Utc>,
    by: PersonId,
    n: u128,
) -> Completion {
    let results = routine
        .steps
        .iter()
        .map(|s| StepResult {
            step: s.key.clone(),
            answer: match &s.kind {
                StepKind::Check => StepAnswer::Checked,
                StepKind::Reading { min, max, .. } => StepAnswer::Reading {
                    value: min.or(*max).unwrap_or(0.0),
                    corrective_action: None,
                },
                StepKind::Photo { min_count } => StepAnswer::Photos {
                    sha256: (0..*min_count)
                        .map(|i| format!("{:064x}", n * 10 + u128::from(i)))
                        .collect(),
                },
                StepKind::Choice { options } => StepAnswer::Choice {
                    option: options.first().cloned().unwrap_or_default(),
                },
                StepKind::Text => StepAnswer::Text { text: "ok".into() },
                StepKind::Signature => StepAnswer::Signature { data: "sig".into() },
            },
        })
        .collect();
    Completion {
        id: EventId(Uuid::from_u128(0xc000_0000 + n)),
        occurrence: occurrence_id(routine.id, due),
        due,
        routine: routine.id,
        routine_version: routine.version,
        by,
        at,
        results,
        note: None,
    }
}

/// Five weeks of another device's work at Harbor Kitchen, as a pulled chain: most checks
/// done (some late), the fridge check missed two of every five times for the last three
/// weeks (a repeat-failure streak that started well before the last week), a few excuses.
fn five_weeks_of_remote_events(org: &Org) -> Vec<Event> {
    let other = DeviceId(Uuid::from_u128(0xabc));
    let site = org.sites[0].id;
    let luis = person_id("luis");
    let mut payloads = Vec::new();
    let from = ny("2026-10-25 00:00");
    let until = dec9("12:00");
    let mut n = 0u128;
    for routine in &org.routines {
        let occurrences = proofline_core::occurrence::occurrences(
            routine,
            &org.sites[0],
            &History::default(),
            from,
            until,
            until,
        )
        .expect("occurrences");
        for (i, o) in occurrences.iter().enumerate() {
            n += 1;
            let streak = routine.id == fridge() && o.due >= ny("2026-11-18 00:00") && i % 5 < 2;
            if streak || i % 17 == 3 {
                continue; // missed
            }
            if i % 13 == 5 {
                payloads.push(EventPayload::Excused(Excuse {
                    id: EventId(Uuid::from_u128(0xe000_0000 + n)),
                    occurrence: o.id,
                    routine: routine.id,
                    due: o.due,
                    by: person_id("sam"),
                    at: o.due - Duration::minutes(5),
                    reason: "closed for maintenance".into(),
                }));
                continue;
            }
            let late = if i % 7 == 2 { 40 } else { 5 };
            let at = o.due + Duration::minutes(late);
            if at < until {
                payloads.push(EventPayload::Completed(valid_completion(
                    routine, o.due, at, luis, n,
                )));
            }
        }
    }
    payloads.sort_by_key(|p| p.acted_at());
    let mut prev = GENESIS_HASH.to_string();
    let mut events = Vec::new();
    for (i, payload) in payloads.into_iter().enumerate() {
        let time = payload.acted_at().unwrap_or(from);
        let event = Event::seal(
            EventId(Uuid::from_u128(0xf000_0000 + i as u128)),
            site,
            luis,
            other,
            i as u64 + 1,
            time,
            payload,
            prev,
        )
        .expect("seal");
        prev = event.hash.clone();
        events.push(event);
    }
    events
}

fn pull(dir: &Path, events: &[Event]) {
    let mut store = Store::open(&dir.join(DB_FILE)).expect("store");
    for event in events {
        assert!(store.insert_remote(event).expect("insert"));
    }
    assert!(
        !store.insert_remote(&events[0]).expect("again"),
        "idempotent"
    );
}

#[test]
fn windowed_reads_give_what_the_whole_history_gives() {
    windowed_reads_match(restaurant());
}

/// With only the daily checks (no day-long windows), the near-`now` window is as short as
/// it gets: the feed's day of stale items and a 25-hour local day must still be covered.
#[test]
fn windowed_reads_of_daily_checks_only_give_what_the_whole_history_gives() {
    let mut org = restaurant();
    org.routines
        .retain(|r| r.id == fridge() || r.id == opening());
    windowed_reads_match(org);
}

fn windowed_reads_match(org: Org) {
    let events = five_weeks_of_remote_events(&org);
    let tmp = tempfile::tempdir().expect("temp dir");
    let site = org.sites[0].id;
    let people = ["maria", "luis", "sam", "dana", "owen"];
    let instants = [
        dec9("05:50"),
        dec9("06:20"),
        dec9("07:45"),
        dec9("10:59"),
        ny("2026-12-07 23:10"),
        ny("2026-12-01 10:30"),
        ny("2026-11-20 09:30"),
        ny("2026-11-01 23:50"), // a 25-hour day (DST ends)
        ny("2026-11-02 00:40"),
    ];
    let mut saw_repeat_failure = false;
    for key in people {
        let dir = tmp.path().join(key);
        let device =
            Device::create(&dir, &org, person_id(key), ny("2026-11-01 00:00")).expect("create");
        pull(&dir, &events);
        let store = Store::open(&dir.join(DB_FILE)).expect("store");
        let whole = store
            .history(&HistoryWindow::everything())
            .expect("history");
        let device_org = device.org();
        for now in instants {
            let me = person_id(key);
            let feed = device.attention(now).expect("attention");
            assert_eq!(
                feed,
                attention(&device_org, &whole, me, now),
                "{key} at {now}"
            );
            saw_repeat_failure |= feed.iter().any(|i| i.kind == AttentionKind::RepeatFailure);
            assert_eq!(
                device.today(now).expect("today"),
                proofline_core::agenda::today(&device_org, &whole, me, now).expect("today"),
                "{key} at {now}"
            );
            let horizon = Duration::hours(12);
            assert_eq!(
                device.upcoming_reminders(now, horizon).expect("reminders"),
                proofline_core::reminders::upcoming_reminders(
                    &device_org,
                    &whole,
                    me,
                    now,
                    horizon
                )
                .expect("reminders"),
                "{key} at {now}"
            );
        }
        let (from, until) = (ny("2026-11-16 00:00"), ny("2026-11-23 00:00"));
        let now = dec9("12:00");
        assert_eq!(
            device
                .compliance(site, from, until, now)
                .expect("compliance"),
            proofline_core::review::compliance(&device_org, &whole, site, from, until, now)
                .expect("compliance")
        );
        assert_eq!(
            device.missed(site, from, until, now).expect("missed"),
            proofline_core::review::missed(&device_org, &whole, site, from, until, now)
                .expect("missed")
        );
        let fridge_dec1 = occ(fridge(), ny("2026-12-01 10:00"));
        assert_eq!(
            device.occurrence(fridge_dec1, now).expect("detail"),
            proofline_core::agenda::occurrence_detail(&device_org, &whole, fridge_dec1, now)
                .expect("detail")
        );
    }
    assert!(
        saw_repeat_failure,
        "the lead's feed shows the running streak"
    );
}
