//! Occurrence status over a scripted morning at Harbor Kitchen (New York), and the
//! occurrence ids every client must agree on.

mod common;

use chrono::{DateTime, Utc};
use common::*;
use proofline_core::escalation::escalation_id;
use proofline_core::model::{Cadence, History, RoutineId, StepAnswer, StepResult};
use proofline_core::occurrence::{
    Occurrence, Status, first_valid_completion, occurrence_id, occurrences, occurrences_before,
    status,
};
use uuid::Uuid;

/// Fridge temperatures due Mon 9 Mar 2026 07:00 New York: opens 06:30, on time until 07:15,
/// closes 09:00.
const DUE: &str = "2026-03-09 07:00";

fn out_of_range() -> Vec<StepResult> {
    let mut results = fridge_ok();
    results[0].answer = StepAnswer::Reading {
        value: 7.5,
        corrective_action: None,
    };
    results
}

#[test]
fn status_over_a_scripted_morning() {
    let h = harbor();
    let fridge = h.routine(h.fridge);
    let done = |at: &str| completion(fridge, DUE, at, h.maria, fridge_ok());
    let bad = |at: &str| completion(fridge, DUE, at, h.maria, out_of_range());
    let cases: Vec<(&str, History, &str, Status)> = vec![
        (
            "before the window opens is upcoming",
            History::default(),
            "2026-03-09 06:29",
            Status::Upcoming,
        ),
        (
            "window open before due is open",
            History::default(),
            "2026-03-09 06:30",
            Status::Open,
        ),
        (
            "at the due time is due",
            History::default(),
            "2026-03-09 07:00",
            Status::Due,
        ),
        (
            "within grace is still due",
            History::default(),
            "2026-03-09 07:14",
            Status::Due,
        ),
        (
            "past grace is overdue",
            History::default(),
            "2026-03-09 07:15",
            Status::Overdue,
        ),
        (
            "just before close is overdue",
            History::default(),
            "2026-03-09 08:59",
            Status::Overdue,
        ),
        (
            "not done by close is missed",
            History::default(),
            "2026-03-09 09:00",
            Status::Missed,
        ),
        (
            "done 07:14 with 15 min grace is on time",
            completions(vec![done("2026-03-09 07:14")]),
            "2026-03-09 08:00",
            Status::DoneOnTime,
        ),
        (
            "done at the end of grace is on time",
            completions(vec![done("2026-03-09 07:15")]),
            "2026-03-09 08:00",
            Status::DoneOnTime,
        ),
        (
            "done 07:16 with 15 min grace is late",
            completions(vec![done("2026-03-09 07:16")]),
            "2026-03-09 08:00",
            Status::DoneLate,
        ),
        (
            "done early in the window is on time",
            completions(vec![done("2026-03-09 06:31")]),
            "2026-03-09 06:40",
            Status::DoneOnTime,
        ),
        (
            "done after close is done late",
            completions(vec![done("2026-03-09 09:30")]),
            "2026-03-09 10:00",
            Status::DoneLate,
        ),
        (
            "a completion after now does not count yet",
            completions(vec![done("2026-03-09 07:10")]),
            "2026-03-09 07:05",
            Status::Due,
        ),
        (
            "done before the window opens does not count",
            completions(vec![done("2026-03-09 06:20")]),
            "2026-03-09 09:00",
            Status::Missed,
        ),
        (
            "excused occurrence is excused",
            History {
                excuses: vec![excuse(
                    fridge,
                    DUE,
                    "2026-03-09 06:00",
                    h.ana,
                    "walk-in being repaired",
                )],
                ..History::default()
            },
            "2026-03-09 09:30",
            Status::Excused,
        ),
        (
            "an excuse after now does not count yet",
            History {
                excuses: vec![excuse(
                    fridge,
                    DUE,
                    "2026-03-09 08:00",
                    h.ana,
                    "walk-in being repaired",
                )],
                ..History::default()
            },
            "2026-03-09 07:30",
            Status::Overdue,
        ),
        (
            "a valid completion beats an excuse",
            History {
                completions: vec![done("2026-03-09 07:20")],
                excuses: vec![excuse(
                    fridge,
                    DUE,
                    "2026-03-09 07:10",
                    h.ana,
                    "short staffed",
                )],
                ..History::default()
            },
            "2026-03-09 08:00",
            Status::DoneLate,
        ),
        (
            "two completions: earliest valid counts",
            completions(vec![done("2026-03-09 07:20"), done("2026-03-09 07:10")]),
            "2026-03-09 08:00",
            Status::DoneOnTime,
        ),
        (
            "invalid earlier completion is ignored",
            completions(vec![bad("2026-03-09 07:10"), done("2026-03-09 07:20")]),
            "2026-03-09 08:00",
            Status::DoneLate,
        ),
        (
            "an invalid completion alone leaves it missed",
            completions(vec![bad("2026-03-09 07:10")]),
            "2026-03-09 09:00",
            Status::Missed,
        ),
        (
            "a completion of another day does not count",
            completions(vec![completion(
                fridge,
                "2026-03-10 07:00",
                "2026-03-09 07:10",
                h.maria,
                fridge_ok(),
            )]),
            "2026-03-09 09:00",
            Status::Missed,
        ),
    ];
    let occurrence = h.occ(h.fridge, DUE);
    for (name, history, now, expected) in cases {
        assert_eq!(
            status(fridge, &occurrence, &history, ny(now)),
            expected,
            "{name}"
        );
    }
}

#[test]
fn two_completions_earliest_valid_is_the_one_that_counts() {
    let h = harbor();
    let fridge = h.routine(h.fridge);
    let late = completion(fridge, DUE, "2026-03-09 07:40", h.sam, fridge_ok());
    let bad = completion(fridge, DUE, "2026-03-09 07:05", h.maria, out_of_range());
    let first = completion(fridge, DUE, "2026-03-09 07:12", h.maria, fridge_ok());
    let history = completions(vec![late, bad, first.clone()]);
    let counted = first_valid_completion(
        fridge,
        &h.occ(h.fridge, DUE),
        &history,
        ny("2026-03-09 08:00"),
    );
    assert_eq!(counted, Some(&first));
}

#[test]
fn status_is_shown_as_snake_case() {
    let shown: Vec<String> = [
        Status::Upcoming,
        Status::Open,
        Status::Due,
        Status::Overdue,
        Status::Missed,
        Status::DoneOnTime,
        Status::DoneLate,
        Status::Excused,
    ]
    .iter()
    .map(|s| format!("{s}={}", serde_json::to_string(s).unwrap_or_default()))
    .collect();
    assert_eq!(
        shown,
        [
            "upcoming=\"upcoming\"",
            "open=\"open\"",
            "due=\"due\"",
            "overdue=\"overdue\"",
            "missed=\"missed\"",
            "done_on_time=\"done_on_time\"",
            "done_late=\"done_late\"",
            "excused=\"excused\""
        ]
    );
}

#[test]
fn occurrence_window_follows_the_routine() {
    let h = harbor();
    let o = h.occ(h.fridge, DUE);
    let iso = |t: DateTime<Utc>| t.to_rfc3339();
    assert_eq!(
        (iso(o.opens), iso(o.due), iso(o.late_after), iso(o.closes)),
        (
            "2026-03-09T10:30:00+00:00".to_string(),
            "2026-03-09T11:00:00+00:00".to_string(),
            "2026-03-09T11:15:00+00:00".to_string(),
            "2026-03-09T13:00:00+00:00".to_string()
        )
    );
    assert_eq!(
        (o.routine, o.routine_version, o.site),
        (h.fridge, 1, h.site)
    );
}

#[test]
fn occurrence_ids_are_stable() {
    // Pinned (cross-checked with Python uuid.uuid5): every client must derive the same ids.
    let routine = RoutineId(Uuid::from_u128(0x0195_7a1c_2b3d_7e4f_8a9b_0c1d_2e3f_4a5b));
    let due: DateTime<Utc> = "2026-03-08T07:30:00Z".parse().expect("instant");
    let id = occurrence_id(routine, due);
    assert_eq!(id.0.to_string(), "3c7852d5-74e8-5208-a6a0-b73053d7cb73");
    assert_eq!(id.0, Uuid::new_v5(&routine.0, b"2026-03-08T07:30:00Z"));
    assert_eq!(
        escalation_id(id, 1).0.to_string(),
        "1101297f-842a-52b7-a6ef-b38f04a5c55c"
    );
}

#[test]
fn occurrence_ids_do_not_depend_on_the_expansion_window() {
    let h = harbor();
    let fridge = h.routine(h.fridge);
    let site = &h.org.sites[0];
    let now = ny("2026-03-20 00:00");
    let wide = occurrences(
        fridge,
        site,
        &History::default(),
        ny("2026-03-01 00:00"),
        ny("2026-04-01 00:00"),
        now,
    )
    .expect("expands");
    let narrow = occurrences(
        fridge,
        site,
        &History::default(),
        ny("2026-03-12 06:00"),
        ny("2026-03-12 08:00"),
        now,
    )
    .expect("expands");
    assert_eq!(wide.len(), 23, "9 to 31 March");
    assert_eq!(narrow.len(), 1);
    let same = wide
        .iter()
        .find(|o| o.due == narrow[0].due)
        .expect("in both");
    assert_eq!(same, &narrow[0]);
    assert_eq!(
        narrow[0].id,
        occurrence_id(h.fridge, ny("2026-03-12 07:00"))
    );
}

#[test]
fn occurrences_keep_local_time_across_dst() {
    let mut h = harbor();
    if let Cadence::Rule { start, .. } = &mut h.routine_mut(h.fridge).cadence {
        *start = naive("2026-03-06 07:00");
    }
    let fridge = h.routine(h.fridge);
    let found = occurrences(
        fridge,
        &h.org.sites[0],
        &History::default(),
        ny("2026-03-07 00:00"),
        ny("2026-03-10 00:00"),
        ny("2026-03-07 00:00"),
    )
    .expect("expands");
    let dues: Vec<String> = found.iter().map(|o| o.due.to_rfc3339()).collect();
    assert_eq!(
        dues,
        [
            "2026-03-07T12:00:00+00:00",
            "2026-03-08T11:00:00+00:00",
            "2026-03-09T11:00:00+00:00"
        ]
    );
}

#[test]
fn last_occurrences_before_an_instant() {
    let h = harbor();
    let fridge = h.routine(h.fridge);
    let site = &h.org.sites[0];
    let before = occurrences_before(
        fridge,
        site,
        &History::default(),
        ny("2026-05-01 00:00"),
        5,
        ny("2026-05-01 00:00"),
    )
    .expect("expands");
    let days: Vec<String> = before
        .iter()
        .map(|o: &Occurrence| o.due.with_timezone(&NEW_YORK).format("%d %b").to_string())
        .collect();
    assert_eq!(days, ["26 Apr", "27 Apr", "28 Apr", "29 Apr", "30 Apr"]);
    let from_start = occurrences_before(
        fridge,
        site,
        &History::default(),
        ny("2026-03-11 00:00"),
        5,
        ny("2026-03-11 00:00"),
    )
    .expect("expands");
    assert_eq!(from_start.len(), 2, "only two since the routine started");
}

#[test]
fn after_completion_next_due_follows_the_completion() {
    let mut h = harbor();
    let hood = {
        let mut r = daily(
            0xA1,
            h.site,
            "hood-filters",
            "Hood filters",
            h.maria,
            "2026-03-09 10:00",
        );
        r.cadence = Cadence::AfterCompletion {
            days: 3,
            at: hm(10, 0),
            start: naive("2026-03-09 10:00"),
        };
        r
    };
    h.org.routines.push(hood.clone());
    // Done a day late on the 10th: next due three days after that, on the 13th.
    let history = completions(vec![completion(
        &hood,
        "2026-03-09 10:00",
        "2026-03-10 15:00",
        h.sam,
        ticked(),
    )]);
    let found = occurrences(
        &hood,
        &h.org.sites[0],
        &history,
        ny("2026-03-01 00:00"),
        ny("2026-03-20 00:00"),
        ny("2026-03-14 12:00"),
    )
    .expect("expands");
    let dues: Vec<String> = found
        .iter()
        .map(|o| {
            o.due
                .with_timezone(&NEW_YORK)
                .format("%d %H:%M")
                .to_string()
        })
        .collect();
    // 13th not done by close (12:00 on the 13th) → missed, next three days after it: the 16th.
    assert_eq!(dues, ["09 10:00", "13 10:00", "16 10:00"]);
}

#[test]
fn broken_cadence_names_the_routine() {
    let mut h = harbor();
    if let Cadence::Rule { rrule, .. } = &mut h.routine_mut(h.fridge).cadence {
        *rrule = "FREQ=SOMETIMES".into();
    }
    let fridge = h.routine(h.fridge);
    let err = occurrences(
        fridge,
        &h.org.sites[0],
        &History::default(),
        ny("2026-03-09 00:00"),
        ny("2026-03-10 00:00"),
        ny("2026-03-09 00:00"),
    )
    .expect_err("broken rule");
    assert!(
        err.to_string()
            .starts_with("routine `fridge-temps` (Fridge temperatures): invalid rrule"),
        "{err}"
    );
}
