//! Agendas and occurrence details over a scripted shift at Harbor Kitchen (New York), with
//! Sam also working at a store in Tokyo.

mod common;

use common::*;
use proofline_core::agenda::{
    AgendaError, AgendaItem, CompletionStanding, ExcuseStanding, OccurrenceDetail, Resolution,
    SEARCH_DAYS, StepType, occurrence_detail, today,
};
use proofline_core::assignee::AssignmentReason;
use proofline_core::escalation::ChainEndCause;
use proofline_core::model::{History, OccurrenceId, PersonId, StepAnswer, StepResult};
use proofline_core::occurrence::{Status, occurrence_id};
use uuid::Uuid;

/// One agenda line: local due ("Mon 06:30"), site, title, status, from an earlier day,
/// assignment note.
type Line = (
    String,
    &'static str,
    &'static str,
    Status,
    bool,
    Option<&'static str>,
);

fn lines(items: &[AgendaItem]) -> Vec<(String, String, String, Status, bool, Option<String>)> {
    items
        .iter()
        .map(|i| {
            (
                i.local_due.format("%a %H:%M").to_string(),
                i.site_name.clone(),
                i.routine_title.clone(),
                i.status,
                i.from_earlier_day,
                i.assignment_note.clone(),
            )
        })
        .collect()
}

fn expect(lines: Vec<Line>) -> Vec<(String, String, String, Status, bool, Option<String>)> {
    lines
        .into_iter()
        .map(|(due, site, title, status, earlier, note)| {
            (
                due,
                site.to_string(),
                title.to_string(),
                status,
                earlier,
                note.map(str::to_string),
            )
        })
        .collect()
}

fn line(
    due: &str,
    site: &'static str,
    title: &'static str,
    status: Status,
    earlier: bool,
    note: Option<&'static str>,
) -> Line {
    (due.to_string(), site, title, status, earlier, note)
}

const HARBOR: &str = "Harbor Kitchen";

#[test]
fn today_over_a_scripted_shift() {
    let mut s = harbor_shift();
    s.add_tokyo_store();
    let monday = s.monday();
    let h = &s.h;
    let nothing_done = History::default();
    let cases: Vec<(&str, &History, PersonId, &str, Vec<Line>)> = vec![
        (
            "today lists my checks in due order including done ones",
            &monday,
            h.maria,
            "2026-03-09 15:10",
            vec![
                line(
                    "Mon 06:30",
                    HARBOR,
                    "Opening checklist",
                    Status::DoneOnTime,
                    false,
                    None,
                ),
                line(
                    "Mon 07:00",
                    HARBOR,
                    "Fridge temperatures",
                    Status::DoneLate,
                    false,
                    None,
                ),
                line(
                    "Mon 16:00",
                    HARBOR,
                    "Delivery log",
                    Status::Upcoming,
                    false,
                    None,
                ),
            ],
        ),
        (
            "covering backup sees the absent owner's check with the reason",
            &monday,
            h.sam,
            "2026-03-09 15:10",
            vec![
                line(
                    "Mon 11:00",
                    HARBOR,
                    "Handwash stations",
                    Status::DoneOnTime,
                    false,
                    None,
                ),
                line(
                    "Mon 14:00",
                    HARBOR,
                    "Hot holding",
                    Status::Excused,
                    false,
                    Some("covering for Maria Lopez (dentist)"),
                ),
                // 09:00 Tuesday in Tokyo is 20:00 Monday in New York: Sam's Tokyo day.
                line(
                    "Tue 09:00",
                    "Shibuya Store",
                    "Register count",
                    Status::Upcoming,
                    false,
                    None,
                ),
                line(
                    "Mon 23:00",
                    HARBOR,
                    "Closing checklist",
                    Status::Upcoming,
                    false,
                    None,
                ),
            ],
        ),
        (
            "yesterday's check still overdue after midnight is listed",
            &nothing_done,
            h.sam,
            "2026-03-10 00:20",
            vec![
                // 00:20 Tuesday in New York is 13:20 Tuesday in Tokyo: that day's register
                // count (20:00 Monday New York time) was missed.
                line(
                    "Tue 09:00",
                    "Shibuya Store",
                    "Register count",
                    Status::Missed,
                    false,
                    None,
                ),
                line(
                    "Mon 23:00",
                    HARBOR,
                    "Closing checklist",
                    Status::Overdue,
                    true,
                    None,
                ),
                line(
                    "Tue 11:00",
                    HARBOR,
                    "Handwash stations",
                    Status::Upcoming,
                    false,
                    None,
                ),
                line(
                    "Tue 23:00",
                    HARBOR,
                    "Closing checklist",
                    Status::Upcoming,
                    false,
                    None,
                ),
            ],
        ),
        (
            "yesterday's check done late before midnight is not carried over",
            &monday,
            h.sam,
            "2026-03-10 00:20",
            vec![
                line(
                    "Tue 09:00",
                    "Shibuya Store",
                    "Register count",
                    Status::Missed,
                    false,
                    None,
                ),
                line(
                    "Tue 11:00",
                    HARBOR,
                    "Handwash stations",
                    Status::Upcoming,
                    false,
                    None,
                ),
                line(
                    "Tue 23:00",
                    HARBOR,
                    "Closing checklist",
                    Status::Upcoming,
                    false,
                    None,
                ),
            ],
        ),
        (
            "yesterday's closed check drops off the agenda",
            &nothing_done,
            h.sam,
            "2026-03-10 01:30",
            vec![
                line(
                    "Tue 09:00",
                    "Shibuya Store",
                    "Register count",
                    Status::Missed,
                    false,
                    None,
                ),
                line(
                    "Tue 11:00",
                    HARBOR,
                    "Handwash stations",
                    Status::Upcoming,
                    false,
                    None,
                ),
                line(
                    "Tue 23:00",
                    HARBOR,
                    "Closing checklist",
                    Status::Upcoming,
                    false,
                    None,
                ),
            ],
        ),
        (
            "a person with nothing assigned has an empty agenda",
            &monday,
            h.lee,
            "2026-03-09 15:10",
            vec![],
        ),
    ];
    for (name, history, person, now, expected) in cases {
        let items = today(&h.org, history, person, ny(now)).expect(name);
        assert_eq!(lines(&items), expect(expected), "{name}");
        assert!(
            items.iter().all(|i| i.assignment.person == person),
            "{name}: only my checks"
        );
    }
}

#[test]
fn agenda_at_a_second_site_follows_that_sites_zone() {
    // The Tokyo register count (Tue 09:00 JST = Mon 20:00 EDT) sorts between 14:00 and
    // 23:00 New York time, as asserted above; check the instants behind it.
    let mut s = harbor_shift();
    let register = s.add_tokyo_store();
    let items = today(&s.h.org, &s.monday(), s.h.sam, ny("2026-03-09 15:10")).expect("agenda");
    let tokyo = items
        .iter()
        .find(|i| i.occurrence.routine == register)
        .expect("register count on the agenda");
    assert_eq!(tokyo.occurrence.due, ny("2026-03-09 20:00"));
    assert_eq!(tokyo.time_zone, chrono_tz::Asia::Tokyo);
    assert_eq!(tokyo.local_window.opens, naive("2026-03-10 08:30"));
    assert_eq!(tokyo.local_window.closes, naive("2026-03-10 11:00"));
}

#[test]
fn done_items_on_the_agenda_carry_who_did_them() {
    let s = harbor_shift();
    let h = &s.h;
    let items = today(&h.org, &s.monday(), h.sam, ny("2026-03-09 15:10")).expect("agenda");
    let resolutions: Vec<Option<(String, String, String)>> = items
        .iter()
        .map(|i| {
            i.resolution.as_ref().map(|r| {
                (
                    describe(&r.kind),
                    r.by_name.clone(),
                    r.local_at.format("%H:%M").to_string(),
                )
            })
        })
        .collect();
    let some = |k: &str, by: &str, at: &str| Some((k.to_string(), by.to_string(), at.to_string()));
    assert_eq!(
        resolutions,
        [
            some("completed", "Sam Reed", "11:05"),
            some("excused: Hot line down for repair", "Ana Diaz", "14:30"),
            None,
        ]
    );
    let hot = &items[1];
    assert_eq!(
        hot.assignment.reason,
        AssignmentReason::Backup {
            covering_for: h.maria
        }
    );
    assert_eq!(hot.covering_for_name.as_deref(), Some("Maria Lopez"));
}

fn describe(kind: &ChainEndCause) -> String {
    match kind {
        ChainEndCause::Completed => "completed".into(),
        ChainEndCause::Excused { reason } => format!("excused: {reason}"),
    }
}

#[test]
fn today_for_an_unknown_person_is_a_clear_error() {
    let s = harbor_shift();
    let nobody = PersonId(Uuid::from_u128(0xDEAD));
    let err = today(
        &s.h.org,
        &History::default(),
        nobody,
        ny("2026-03-09 12:00"),
    )
    .expect_err("unknown person");
    assert_eq!(
        err.to_string(),
        "person 00000000-0000-0000-0000-00000000dead is not in the org"
    );
}

/// The fridge check due Mon 07:00, done four times: Sam before the window opened, Maria
/// with a warm reading and no corrective action, Maria properly at 07:40, and Sam again at
/// 07:50 (offline, not knowing).
fn fridge_done_four_times(s: &Shift) -> History {
    let h = &s.h;
    let fridge = s.routine(h.fridge);
    let warm = vec![
        StepResult {
            step: "walk-in".into(),
            answer: StepAnswer::Reading {
                value: 7.5,
                corrective_action: None,
            },
        },
        StepResult {
            step: "seals".into(),
            answer: StepAnswer::Checked,
        },
    ];
    let due = "2026-03-09 07:00";
    History {
        completions: vec![
            completion(fridge, due, "2026-03-09 07:50", h.sam, fridge_ok()),
            completion(fridge, due, "2026-03-09 07:05", h.maria, warm),
            completion(fridge, due, "2026-03-09 06:20", h.sam, fridge_ok()),
            completion(fridge, due, "2026-03-09 07:40", h.maria, fridge_ok()),
        ],
        ..History::default()
    }
}

fn detail(s: &Shift, history: &History, id: OccurrenceId, now: &str) -> OccurrenceDetail {
    occurrence_detail(&s.h.org, history, id, ny(now)).expect("occurrence detail")
}

#[test]
fn occurrence_detail_lists_every_completion_and_which_counts() {
    let s = harbor_shift();
    let h = &s.h;
    let history = fridge_done_four_times(&s);
    let id = occurrence_id(h.fridge, ny("2026-03-09 07:00"));
    let d = detail(&s, &history, id, "2026-03-09 09:30");

    let completions: Vec<(&str, String, CompletionStanding, bool, usize)> = d
        .completions
        .iter()
        .map(|c| {
            (
                c.by_name.as_str(),
                c.local_at.format("%H:%M").to_string(),
                c.standing,
                c.counts,
                c.problems.len(),
            )
        })
        .collect();
    assert_eq!(
        completions,
        [
            (
                "Sam Reed",
                "06:20".into(),
                CompletionStanding::BeforeWindow,
                false,
                0
            ),
            (
                "Maria Lopez",
                "07:05".into(),
                CompletionStanding::InvalidProof,
                false,
                1
            ),
            (
                "Maria Lopez",
                "07:40".into(),
                CompletionStanding::Counts,
                true,
                0
            ),
            (
                "Sam Reed",
                "07:50".into(),
                CompletionStanding::Duplicate,
                false,
                0
            ),
        ]
    );
    assert_eq!(
        d.completions[1].problems[0].to_string(),
        "Walk-in fridge: 7.5 °C is outside 1–5 °C; add a corrective action"
    );
    assert_eq!(d.status, Status::DoneLate);
    assert_eq!(
        d.resolution,
        Some(Resolution {
            kind: ChainEndCause::Completed,
            event: d.completions[2].event,
            by: h.maria,
            by_name: "Maria Lopez".into(),
            at: ny("2026-03-09 07:40"),
            local_at: naive("2026-03-09 07:40"),
        })
    );
    assert!(d.excuses.is_empty());
}

#[test]
fn occurrence_detail_shows_steps_window_assignee_and_escalation() {
    let s = harbor_shift();
    let h = &s.h;
    let history = fridge_done_four_times(&s);
    let id = occurrence_id(h.fridge, ny("2026-03-09 07:00"));
    let d = detail(&s, &history, id, "2026-03-09 09:30");

    assert_eq!(d.routine_title, "Fridge temperatures");
    assert_eq!(d.site_name, "Harbor Kitchen");
    type StepLine<'a> = (
        &'a str,
        StepType,
        bool,
        Option<&'a str>,
        Option<f64>,
        Option<f64>,
        &'a str,
    );
    let steps: Vec<StepLine<'_>> = d
        .steps
        .iter()
        .map(|st| {
            (
                st.key.as_str(),
                st.kind,
                st.required,
                st.unit.as_deref(),
                st.min,
                st.max,
                st.requirement.as_str(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            (
                "walk-in",
                StepType::Reading,
                true,
                Some("°C"),
                Some(1.0),
                Some(5.0),
                "Required. A reading in °C between 1 and 5 °C; out of range needs a corrective action."
            ),
            (
                "seals",
                StepType::Check,
                true,
                None,
                None,
                None,
                "Required. A tick."
            ),
        ]
    );
    let w = d.local_window;
    assert_eq!(
        [w.opens, w.due, w.late_after, w.closes].map(|t| t.format("%H:%M").to_string()),
        ["06:30", "07:00", "07:15", "09:00"]
    );
    assert_eq!(d.occurrence.due, ny("2026-03-09 07:00"));
    assert_eq!(d.occurrence.closes, ny("2026-03-09 09:00"));
    assert_eq!(d.assignment.person, h.maria);
    assert_eq!(d.assignment.reason, AssignmentReason::Owner);
    assert_eq!(
        (
            d.assignee_name.as_str(),
            d.owner_name.as_str(),
            d.backup_name.as_deref()
        ),
        ("Maria Lopez", "Maria Lopez", Some("Sam Reed"))
    );
    assert_eq!(d.assignment_note, None);
    // Level 1 (07:20) fired before the 07:40 completion ended the chain; level 2 (08:00) never.
    let levels: Vec<(usize, String, bool)> = d
        .timeline
        .levels
        .iter()
        .map(|l| {
            (
                l.level,
                l.fires_at
                    .with_timezone(&NEW_YORK)
                    .format("%H:%M")
                    .to_string(),
                l.fired,
            )
        })
        .collect();
    assert_eq!(
        levels,
        [(1, "07:20".into(), true), (2, "08:00".into(), false)]
    );
    assert_eq!(
        d.timeline.ended.as_ref().map(|e| (e.at, e.by)),
        Some((ny("2026-03-09 07:40"), h.maria))
    );
    let people: Vec<&str> = d.people.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        people,
        ["Maria Lopez", "Sam Reed", "Ana Diaz", "Ben Cho", "Lee Park"]
    );
}

#[test]
fn occurrence_detail_of_an_excused_check_shows_which_excuse_counts() {
    let s = harbor_shift();
    let h = &s.h;
    let mut history = s.monday();
    history.excuses.push(excuse(
        s.routine(s.hot),
        "2026-03-09 14:00",
        "2026-03-09 14:40",
        h.ben,
        "Same: hot line down",
    ));
    let id = occurrence_id(s.hot, ny("2026-03-09 14:00"));
    let d = detail(&s, &history, id, "2026-03-09 17:00");
    assert_eq!(d.status, Status::Excused);
    let excuses: Vec<(&str, String, &str, ExcuseStanding, bool)> = d
        .excuses
        .iter()
        .map(|e| {
            (
                e.by_name.as_str(),
                e.local_at.format("%H:%M").to_string(),
                e.reason.as_str(),
                e.standing,
                e.counts,
            )
        })
        .collect();
    assert_eq!(
        excuses,
        [
            (
                "Ana Diaz",
                "14:30".into(),
                "Hot line down for repair",
                ExcuseStanding::Counts,
                true
            ),
            (
                "Ben Cho",
                "14:40".into(),
                "Same: hot line down",
                ExcuseStanding::Duplicate,
                false
            ),
        ]
    );
    assert_eq!(d.assignee_name, "Sam Reed");
    assert_eq!(d.covering_for_name.as_deref(), Some("Maria Lopez"));
    assert_eq!(
        d.assignment_note.as_deref(),
        Some("covering for Maria Lopez (dentist)")
    );
    // The excuse at 14:30 ended the chain at the moment level 1 would fire: it never did.
    assert_eq!(d.timeline.levels.len(), 1);
    assert!(!d.timeline.levels[0].fired);
}

#[test]
fn occurrence_detail_lists_recent_history_newest_first() {
    let s = harbor_shift();
    let h = &s.h;
    let fridge = s.routine(h.fridge);
    // Mon 9 .. Fri 20 Mar: Maria on time at 07:05, except the 12th (missed) and the 15th
    // (Sam, late at 08:00).
    let mut completions = Vec::new();
    for day in 9..=20 {
        let due = format!("2026-03-{day:02} 07:00");
        match day {
            12 => {}
            15 => completions.push(completion(
                fridge,
                &due,
                "2026-03-15 08:00",
                h.sam,
                fridge_ok(),
            )),
            _ => {
                let at = format!("2026-03-{day:02} 07:05");
                completions.push(completion(fridge, &due, &at, h.maria, fridge_ok()));
            }
        }
    }
    let history = History {
        completions,
        ..History::default()
    };
    let id = occurrence_id(h.fridge, ny("2026-03-21 07:00"));
    let d = detail(&s, &history, id, "2026-03-21 07:05");
    assert_eq!(d.status, Status::Due);
    let recent: Vec<(String, Status, Option<String>)> = d
        .recent
        .iter()
        .map(|r| {
            (
                r.local_due.format("%a %-d").to_string(),
                r.status,
                r.resolution
                    .as_ref()
                    .map(|x| format!("{} {}", x.by_name, x.local_at.format("%H:%M"))),
            )
        })
        .collect();
    let maria = || Some("Maria Lopez 07:05".to_string());
    assert_eq!(
        recent,
        [
            ("Fri 20".into(), Status::DoneOnTime, maria()),
            ("Thu 19".into(), Status::DoneOnTime, maria()),
            ("Wed 18".into(), Status::DoneOnTime, maria()),
            ("Tue 17".into(), Status::DoneOnTime, maria()),
            ("Mon 16".into(), Status::DoneOnTime, maria()),
            (
                "Sun 15".into(),
                Status::DoneLate,
                Some("Sam Reed 08:00".into())
            ),
            ("Sat 14".into(), Status::DoneOnTime, maria()),
            ("Fri 13".into(), Status::DoneOnTime, maria()),
            ("Thu 12".into(), Status::Missed, None),
            ("Wed 11".into(), Status::DoneOnTime, maria()),
        ]
    );
}

#[test]
fn occurrence_detail_resolution_of_ids() {
    let s = harbor_shift();
    let h = &s.h;
    let fridge = s.routine(h.fridge);
    // Done on Mon 9 Mar; looked at 60 days later, beyond the search around now.
    let history = completions(vec![completion(
        fridge,
        "2026-03-09 07:00",
        "2026-03-09 07:05",
        h.maria,
        fridge_ok(),
    )]);
    let long_ago = occurrence_id(h.fridge, ny("2026-03-09 07:00"));
    let unknown = OccurrenceId(Uuid::from_u128(0xBAD));
    type IdCase = (
        &'static str,
        OccurrenceId,
        &'static str,
        Result<(&'static str, Status), String>,
    );
    let cases: Vec<IdCase> = vec![
        (
            "a check of today is found",
            occurrence_id(s.hot, ny("2026-03-09 14:00")),
            "2026-03-09 12:00",
            Ok(("Mon 9 Mar 14:00", Status::Upcoming)),
        ),
        (
            "a check six weeks ahead is found",
            occurrence_id(s.closing, ny("2026-04-20 23:00")),
            "2026-03-09 12:00",
            Ok(("Mon 20 Apr 23:00", Status::Upcoming)),
        ),
        (
            "an old check is found through its completion",
            long_ago,
            "2026-05-08 12:00",
            Ok(("Mon 9 Mar 07:00", Status::DoneOnTime)),
        ),
        (
            "unknown occurrence id is a clear error",
            unknown,
            "2026-03-09 12:00",
            Err(
                "unknown occurrence 00000000-0000-0000-0000-000000000bad: no routine has an \
                 occurrence with this id due between 2026-01-23 16:00:00 UTC and 2026-04-23 \
                 16:00:00 UTC (45 days either side of now), and no completion or excuse of it \
                 leads to one"
                    .to_string(),
            ),
        ),
    ];
    for (name, id, now, expected) in cases {
        let got = occurrence_detail(&h.org, &history, id, ny(now)).map(|d| {
            (
                d.local_window.due.format("%a %-d %b %H:%M").to_string(),
                d.status,
            )
        });
        let got = got.map_err(|e| e.to_string());
        let expected = expected.map(|(due, status)| (due.to_string(), status));
        assert_eq!(got, expected, "{name}");
    }
    assert_eq!(SEARCH_DAYS, 45);
    let err =
        occurrence_detail(&h.org, &history, unknown, ny("2026-03-09 12:00")).expect_err("unknown");
    assert!(matches!(
        err,
        AgendaError::UnknownOccurrence { occurrence, .. } if occurrence == unknown
    ));
}

#[test]
fn agenda_and_detail_round_trip_through_json() {
    let s = harbor_shift();
    let h = &s.h;
    let history = fridge_done_four_times(&s);
    let now = ny("2026-03-09 09:30");
    let items = today(&h.org, &history, h.maria, now).expect("agenda");
    let json = serde_json::to_string(&items).expect("serialize agenda");
    let back: Vec<AgendaItem> = serde_json::from_str(&json).expect("deserialize agenda");
    assert_eq!(back, items);
    let id = occurrence_id(h.fridge, ny("2026-03-09 07:00"));
    let d = detail(&s, &history, id, "2026-03-09 09:30");
    let json = serde_json::to_string(&d).expect("serialize detail");
    assert!(json.contains(r#""time_zone":"America/New_York""#), "{json}");
    assert!(json.contains(r#""standing":"before_window""#), "{json}");
    let back: OccurrenceDetail = serde_json::from_str(&json).expect("deserialize detail");
    assert_eq!(back, d);
}
