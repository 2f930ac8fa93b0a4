//! Offline reminders over a scripted shift at Harbor Kitchen (New York), with Sam also
//! working at a store in Tokyo: who is reminded of what, when, in what words.

mod common;

use chrono::Duration;
use common::*;
use proofline_core::escalation::escalation_id;
use proofline_core::model::{History, PersonId};
use proofline_core::occurrence::occurrence_id;
use proofline_core::reminders::{
    Reminder, ReminderError, ReminderKind, reminder_id, upcoming_reminders,
};
use uuid::Uuid;

/// One reminder: fire time in New York ("Mon 13:30"), kind, escalation level, title, body.
type Line = (String, ReminderKind, Option<usize>, String, String);

fn lines(reminders: &[Reminder]) -> Vec<Line> {
    reminders
        .iter()
        .map(|r| {
            (
                r.fire_at
                    .with_timezone(&NEW_YORK)
                    .format("%a %H:%M")
                    .to_string(),
                r.kind,
                r.escalation_level,
                r.title.clone(),
                r.body.clone(),
            )
        })
        .collect()
}

fn line(at: &str, kind: ReminderKind, title: &str, body: &str) -> Line {
    (at.into(), kind, None, title.into(), body.into())
}

fn escalation(at: &str, level: usize, title: &str, body: &str) -> Line {
    (
        at.into(),
        ReminderKind::Escalation,
        Some(level),
        title.into(),
        body.into(),
    )
}

struct Case<'a> {
    name: &'static str,
    person: PersonId,
    history: &'a History,
    now: &'static str,
    horizon_h: i64,
    expected: Vec<Line>,
}

#[test]
fn reminders_over_a_scripted_shift() {
    let mut s = harbor_shift();
    s.add_tokyo_store();
    let h = &s.h;
    let nothing_done = History::default();
    let monday = s.monday();
    let fridge_at_0710 = completions(vec![completion(
        s.routine(h.fridge),
        "2026-03-09 07:00",
        "2026-03-09 07:10",
        h.maria,
        fridge_ok(),
    )]);
    use ReminderKind::{Due, Opens, Overdue};
    let cases = vec![
        Case {
            name: "covering backup gets the reminders, not the absent owner",
            person: h.sam,
            history: &nothing_done,
            now: "2026-03-09 12:00",
            horizon_h: 4,
            expected: vec![
                line(
                    "Mon 13:30",
                    Opens,
                    "Hot holding can be done now",
                    "Hot holding at Harbor Kitchen is open; it is due at 14:00. You are covering for Maria Lopez.",
                ),
                line(
                    "Mon 14:00",
                    Due,
                    "Hot holding is due",
                    "Hot holding at Harbor Kitchen is due at 14:00. You are covering for Maria Lopez.",
                ),
                line(
                    "Mon 14:15",
                    Overdue,
                    "Hot holding is overdue",
                    "Hot holding at Harbor Kitchen was due at 14:00 and is now late; it closes at 16:00. You are covering for Maria Lopez.",
                ),
            ],
        },
        Case {
            name: "the absent owner is reminded only of her checks after she is back",
            person: h.maria,
            history: &nothing_done,
            now: "2026-03-09 12:00",
            horizon_h: 4,
            expected: vec![line(
                "Mon 15:30",
                Opens,
                "Delivery log can be done now",
                "Delivery log at Harbor Kitchen is open; it is due at 16:00.",
            )],
        },
        Case {
            name: "done check is not reminded",
            person: h.maria,
            history: &monday,
            now: "2026-03-09 06:42",
            horizon_h: 1,
            expected: vec![
                line(
                    "Mon 07:00",
                    Due,
                    "Fridge temperatures is due",
                    "Fridge temperatures at Harbor Kitchen is due at 07:00.",
                ),
                line(
                    "Mon 07:15",
                    Overdue,
                    "Fridge temperatures is overdue",
                    "Fridge temperatures at Harbor Kitchen was due at 07:00 and is now late; it closes at 09:00.",
                ),
                escalation(
                    "Mon 07:20",
                    1,
                    "Fridge temperatures is not done",
                    "Fridge temperatures at Harbor Kitchen was due at 07:00 and is not done (assigned to you); escalated to you (level 1).",
                ),
            ],
        },
        Case {
            name: "the same check not done yet is reminded when overdue",
            person: h.maria,
            history: &nothing_done,
            now: "2026-03-09 06:42",
            horizon_h: 1,
            expected: vec![
                line(
                    "Mon 06:45",
                    Overdue,
                    "Opening checklist is overdue",
                    "Opening checklist at Harbor Kitchen was due at 06:30 and is now late; it closes at 08:30.",
                ),
                line(
                    "Mon 07:00",
                    Due,
                    "Fridge temperatures is due",
                    "Fridge temperatures at Harbor Kitchen is due at 07:00.",
                ),
                line(
                    "Mon 07:15",
                    Overdue,
                    "Fridge temperatures is overdue",
                    "Fridge temperatures at Harbor Kitchen was due at 07:00 and is now late; it closes at 09:00.",
                ),
                escalation(
                    "Mon 07:20",
                    1,
                    "Fridge temperatures is not done",
                    "Fridge temperatures at Harbor Kitchen was due at 07:00 and is not done (assigned to you); escalated to you (level 1).",
                ),
            ],
        },
        Case {
            name: "escalation reaches the supervisor if the check stays undone",
            person: h.ana,
            history: &nothing_done,
            now: "2026-03-09 07:00",
            horizon_h: 2,
            expected: vec![escalation(
                "Mon 07:20",
                1,
                "Fridge temperatures is not done",
                "Fridge temperatures at Harbor Kitchen was due at 07:00 and is not done (assigned to Maria Lopez); escalated to you (level 1).",
            )],
        },
        Case {
            name: "the lead hears of the second level only",
            person: h.lee,
            history: &nothing_done,
            now: "2026-03-09 07:00",
            horizon_h: 2,
            expected: vec![escalation(
                "Mon 08:00",
                2,
                "Fridge temperatures is not done",
                "Fridge temperatures at Harbor Kitchen was due at 07:00 and is not done (assigned to Maria Lopez); escalated to you (level 2).",
            )],
        },
        Case {
            name: "a completion ends the escalation reminders",
            person: h.ana,
            history: &fridge_at_0710,
            now: "2026-03-09 07:12",
            horizon_h: 2,
            expected: vec![],
        },
        Case {
            name: "reminder text uses the site's zone",
            person: h.sam,
            history: &nothing_done,
            now: "2026-03-09 19:00",
            horizon_h: 2,
            // 19:30–20:15 in New York is 08:30–09:15 Tuesday in Tokyo.
            expected: vec![
                line(
                    "Mon 19:30",
                    Opens,
                    "Register count can be done now",
                    "Register count at Shibuya Store is open; it is due at 09:00.",
                ),
                line(
                    "Mon 20:00",
                    Due,
                    "Register count is due",
                    "Register count at Shibuya Store is due at 09:00.",
                ),
                line(
                    "Mon 20:15",
                    Overdue,
                    "Register count is overdue",
                    "Register count at Shibuya Store was due at 09:00 and is now late; it closes at 11:00.",
                ),
            ],
        },
        Case {
            name: "a zero horizon schedules nothing",
            person: h.maria,
            history: &nothing_done,
            now: "2026-03-09 06:42",
            horizon_h: 0,
            expected: vec![],
        },
    ];
    for c in cases {
        let name = c.name;
        let got = upcoming_reminders(
            &h.org,
            c.history,
            c.person,
            ny(c.now),
            Duration::hours(c.horizon_h),
        )
        .expect(name);
        assert_eq!(lines(&got), c.expected, "{name}");
    }
}

#[test]
fn reminder_fires_at_the_site_instant_whatever_the_phone_zone() {
    let mut s = harbor_shift();
    let register = s.add_tokyo_store();
    let h = &s.h;
    let got = upcoming_reminders(
        &h.org,
        &History::default(),
        h.sam,
        ny("2026-03-09 19:00"),
        Duration::hours(2),
    )
    .expect("reminders");
    let due = got
        .iter()
        .find(|r| r.kind == ReminderKind::Due)
        .expect("due reminder");
    // 09:00 Tokyo (UTC+9) on Tue 10 Mar is 00:00 UTC.
    assert_eq!(due.fire_at.to_rfc3339(), "2026-03-10T00:00:00+00:00");
    assert_eq!(due.routine, register);
    assert_eq!(due.site, h.org.sites[1].id);
    assert_eq!(due.occurrence, occurrence_id(register, due.due));
}

#[test]
fn reminder_ids_are_stable_across_reschedules() {
    let s = harbor_shift();
    let h = &s.h;
    let history = History::default();
    let at = |now: &str| {
        upcoming_reminders(&h.org, &history, h.sam, ny(now), Duration::hours(4)).expect("reminders")
    };
    let (first, later) = (at("2026-03-09 12:00"), at("2026-03-09 13:45"));
    let hot = occurrence_id(s.hot, ny("2026-03-09 14:00"));
    let due_id = reminder_id(hot, ReminderKind::Due, None);
    let ids = |rs: &[Reminder]| rs.iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(&first),
        [
            reminder_id(hot, ReminderKind::Opens, None),
            due_id,
            reminder_id(hot, ReminderKind::Overdue, None),
        ]
    );
    // Rescheduled later: the passed "opens" is gone, the others keep their ids.
    assert_eq!(ids(&later)[..2], ids(&first)[1..]);
    assert!(first.iter().all(|r| r.occurrence == hot));
    assert_eq!(
        due_id.0,
        Uuid::new_v5(&hot.0, b"reminder:due"),
        "the id formula is part of the contract with the shells"
    );
}

#[test]
fn escalation_reminders_name_their_level() {
    let s = harbor_shift();
    let h = &s.h;
    let got = upcoming_reminders(
        &h.org,
        &History::default(),
        h.ana,
        ny("2026-03-09 13:00"),
        Duration::hours(2),
    )
    .expect("reminders");
    let hot = occurrence_id(s.hot, ny("2026-03-09 14:00"));
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.fire_at, ny("2026-03-09 14:30"));
    assert_eq!(r.escalation, Some(escalation_id(hot, 1)));
    assert_eq!(r.id, reminder_id(hot, ReminderKind::Escalation, Some(1)));
    assert_eq!(
        r.body,
        "Hot holding at Harbor Kitchen was due at 14:00 and is not done (assigned to Sam \
         Reed); escalated to you (level 1)."
    );
}

#[test]
fn reminders_for_an_unknown_person_is_a_clear_error() {
    let s = harbor_shift();
    let nobody = PersonId(Uuid::from_u128(0xDEAD));
    let err = upcoming_reminders(
        &s.h.org,
        &History::default(),
        nobody,
        ny("2026-03-09 12:00"),
        Duration::hours(4),
    )
    .expect_err("unknown person");
    assert!(matches!(err, ReminderError::UnknownPerson { person } if person == nobody));
    assert_eq!(
        err.to_string(),
        "person 00000000-0000-0000-0000-00000000dead is not in the org"
    );
}

#[test]
fn reminders_round_trip_through_json() {
    let s = harbor_shift();
    let h = &s.h;
    let got = upcoming_reminders(
        &h.org,
        &History::default(),
        h.maria,
        ny("2026-03-09 06:42"),
        Duration::hours(1),
    )
    .expect("reminders");
    let json = serde_json::to_string(&got).expect("serialize");
    assert!(json.contains(r#""kind":"overdue""#), "{json}");
    let back: Vec<Reminder> = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back, got);
}
