//! A site lead's review of a scripted shift at Harbor Kitchen (New York): missed and late
//! checks, and compliance per routine and per person.

mod common;

use chrono::{DateTime, Utc};
use common::*;
use proofline_core::model::{History, SiteId};
use proofline_core::occurrence::Status;
use proofline_core::review::{
    ComplianceCounts, ComplianceReport, MissedItem, ReviewError, compliance, missed,
};
use uuid::Uuid;

/// One missed-or-late line: local due, title, status, assignee, assignment note, done by,
/// local time done, minutes late, how late in words.
type MissedLine = (
    String,
    String,
    Status,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
);

fn missed_lines(items: &[MissedItem]) -> Vec<MissedLine> {
    items
        .iter()
        .map(|i| {
            (
                i.local_due.format("%a %H:%M").to_string(),
                i.routine_title.clone(),
                i.status,
                i.assignee_name.clone(),
                i.assignment_note.clone(),
                i.done_by_name.clone(),
                i.local_done_at.map(|t| t.format("%a %H:%M").to_string()),
                i.late_by_min,
                i.late_by_text.clone(),
            )
        })
        .collect()
}

fn was_missed(due: &str, title: &str, assignee: &str, note: Option<&str>) -> MissedLine {
    (
        due.into(),
        title.into(),
        Status::Missed,
        assignee.into(),
        note.map(Into::into),
        None,
        None,
        None,
        None,
    )
}

fn done_late(due: &str, title: &str, by: &str, at: &str, min: i64, text: &str) -> MissedLine {
    (
        due.into(),
        title.into(),
        Status::DoneLate,
        by.into(),
        None,
        Some(by.into()),
        Some(at.into()),
        Some(min),
        Some(text.into()),
    )
}

/// Monday 9 Mar, midnight to midnight in New York.
fn monday_period() -> (DateTime<Utc>, DateTime<Utc>) {
    (ny("2026-03-09 00:00"), ny("2026-03-10 00:00"))
}

#[test]
fn missed_checks_over_a_scripted_shift() {
    let s = harbor_shift();
    let h = &s.h;
    let monday = s.monday();
    let nothing_done = History::default();
    let mut not_excused = s.monday();
    not_excused.excuses.clear();
    let cases: Vec<(&str, &History, &str, Vec<MissedLine>)> = vec![
        (
            "late completion counts as late with its delay; missed check shows",
            &monday,
            "2026-03-10 09:00",
            vec![
                done_late(
                    "Mon 07:00",
                    "Fridge temperatures",
                    "Maria Lopez",
                    "Mon 07:40",
                    40,
                    "40 min",
                ),
                was_missed("Mon 16:00", "Delivery log", "Maria Lopez", None),
                done_late(
                    "Mon 23:00",
                    "Closing checklist",
                    "Sam Reed",
                    "Mon 23:50",
                    50,
                    "50 min",
                ),
            ],
        ),
        (
            "a check still open at review time is neither missed nor late yet",
            &monday,
            "2026-03-09 23:30",
            vec![
                done_late(
                    "Mon 07:00",
                    "Fridge temperatures",
                    "Maria Lopez",
                    "Mon 07:40",
                    40,
                    "40 min",
                ),
                was_missed("Mon 16:00", "Delivery log", "Maria Lopez", None),
            ],
        ),
        (
            "missed check while covering names the covering backup and why",
            &not_excused,
            "2026-03-10 09:00",
            vec![
                done_late(
                    "Mon 07:00",
                    "Fridge temperatures",
                    "Maria Lopez",
                    "Mon 07:40",
                    40,
                    "40 min",
                ),
                was_missed(
                    "Mon 14:00",
                    "Hot holding",
                    "Sam Reed",
                    Some("covering for Maria Lopez (dentist)"),
                ),
                was_missed("Mon 16:00", "Delivery log", "Maria Lopez", None),
                done_late(
                    "Mon 23:00",
                    "Closing checklist",
                    "Sam Reed",
                    "Mon 23:50",
                    50,
                    "50 min",
                ),
            ],
        ),
        (
            "nothing is missed before anything was due",
            &nothing_done,
            "2026-03-09 06:00",
            vec![],
        ),
    ];
    let (from, until) = monday_period();
    for (name, history, now, expected) in cases {
        let items = missed(&h.org, history, h.site, from, until, ny(now)).expect(name);
        assert_eq!(missed_lines(&items), expected, "{name}");
    }
}

/// Counts as (on time, late, missed, excused, still open, total, on-time %).
type Counts = (u32, u32, u32, u32, u32, u32, Option<f64>);

fn counts(c: &ComplianceCounts) -> Counts {
    (
        c.on_time,
        c.late,
        c.missed,
        c.excused,
        c.still_open,
        c.total,
        c.on_time_percent,
    )
}

fn routine_rows(r: &ComplianceReport) -> Vec<(String, Counts)> {
    r.routines
        .iter()
        .map(|row| (row.routine_title.clone(), counts(&row.counts)))
        .collect()
}

fn people_rows(r: &ComplianceReport) -> Vec<(String, Counts)> {
    r.people
        .iter()
        .map(|row| (row.name.clone(), counts(&row.counts)))
        .collect()
}

fn rows(rows: &[(&str, Counts)]) -> Vec<(String, Counts)> {
    rows.iter().map(|(n, c)| (n.to_string(), *c)).collect()
}

struct ComplianceCase {
    name: &'static str,
    now: &'static str,
    until: &'static str,
    totals: Counts,
    routines: Vec<(&'static str, Counts)>,
    people: Vec<(&'static str, Counts)>,
}

#[test]
fn compliance_over_a_scripted_shift() {
    let s = harbor_shift();
    let h = &s.h;
    let monday = s.monday();
    let cases = vec![
        ComplianceCase {
            name: "excused occurrence is not in the on-time denominator",
            now: "2026-03-10 09:00",
            until: "2026-03-10 00:00",
            // 2 on time of 5 decided (the excused hot holding is left out): 40 %.
            totals: (2, 2, 1, 1, 0, 6, Some(40.0)),
            routines: vec![
                ("Closing checklist", (0, 1, 0, 0, 0, 1, Some(0.0))),
                ("Delivery log", (0, 0, 1, 0, 0, 1, Some(0.0))),
                ("Fridge temperatures", (0, 1, 0, 0, 0, 1, Some(0.0))),
                ("Handwash stations", (1, 0, 0, 0, 0, 1, Some(100.0))),
                ("Opening checklist", (1, 0, 0, 0, 0, 1, Some(100.0))),
                ("Hot holding", (0, 0, 0, 1, 0, 1, None)),
            ],
            people: vec![
                // Maria: opening on time, fridge late, delivery missed.
                ("Maria Lopez", (1, 1, 1, 0, 0, 3, Some(100.0 / 3.0))),
                // Sam: handwash on time, hot holding (covering) excused, closing late: 1 of 2.
                ("Sam Reed", (1, 1, 0, 1, 0, 3, Some(50.0))),
            ],
        },
        ComplianceCase {
            name: "a check still open is counted as still open, not missed",
            now: "2026-03-09 23:30",
            until: "2026-03-10 00:00",
            totals: (2, 1, 1, 1, 1, 6, Some(50.0)),
            routines: vec![
                ("Delivery log", (0, 0, 1, 0, 0, 1, Some(0.0))),
                ("Fridge temperatures", (0, 1, 0, 0, 0, 1, Some(0.0))),
                ("Handwash stations", (1, 0, 0, 0, 0, 1, Some(100.0))),
                ("Opening checklist", (1, 0, 0, 0, 0, 1, Some(100.0))),
                ("Closing checklist", (0, 0, 0, 0, 1, 1, None)),
                ("Hot holding", (0, 0, 0, 1, 0, 1, None)),
            ],
            people: vec![
                ("Maria Lopez", (1, 1, 1, 0, 0, 3, Some(100.0 / 3.0))),
                ("Sam Reed", (1, 0, 0, 1, 1, 3, Some(100.0))),
            ],
        },
        ComplianceCase {
            name: "two days: worst routine first, ties by title",
            now: "2026-03-11 09:00",
            until: "2026-03-11 00:00",
            // Nothing was done on Tuesday: six more misses.
            totals: (2, 2, 7, 1, 0, 12, Some(100.0 * 2.0 / 11.0)),
            routines: vec![
                ("Closing checklist", (0, 1, 1, 0, 0, 2, Some(0.0))),
                ("Delivery log", (0, 0, 2, 0, 0, 2, Some(0.0))),
                ("Fridge temperatures", (0, 1, 1, 0, 0, 2, Some(0.0))),
                ("Hot holding", (0, 0, 1, 1, 0, 2, Some(0.0))),
                ("Handwash stations", (1, 0, 1, 0, 0, 2, Some(50.0))),
                ("Opening checklist", (1, 0, 1, 0, 0, 2, Some(50.0))),
            ],
            people: vec![
                ("Maria Lopez", (1, 1, 5, 0, 0, 7, Some(100.0 / 7.0))),
                ("Sam Reed", (1, 1, 2, 1, 0, 5, Some(25.0))),
            ],
        },
        ComplianceCase {
            name: "an empty period has no rows and no percentage",
            now: "2026-03-10 09:00",
            until: "2026-03-09 00:00",
            totals: (0, 0, 0, 0, 0, 0, None),
            routines: vec![],
            people: vec![],
        },
    ];
    let from = ny("2026-03-09 00:00");
    for c in cases {
        let name = c.name;
        let report = compliance(&h.org, &monday, h.site, from, ny(c.until), ny(c.now)).expect(name);
        assert_eq!(counts(&report.totals), c.totals, "{name}: totals");
        assert_eq!(routine_rows(&report), rows(&c.routines), "{name}: routines");
        assert_eq!(people_rows(&report), rows(&c.people), "{name}: people");
        assert_eq!(report.site_name, "Harbor Kitchen", "{name}");
        assert_eq!(report.local_from, naive("2026-03-09 00:00"), "{name}");
    }
}

#[test]
fn missed_check_shows_in_missed_and_compliance() {
    let s = harbor_shift();
    let h = &s.h;
    let (from, until) = monday_period();
    let now = ny("2026-03-10 09:00");
    let history = s.monday();
    let items = missed(&h.org, &history, h.site, from, until, now).expect("missed");
    let delivery = items
        .iter()
        .find(|i| i.occurrence.routine == s.delivery)
        .expect("the delivery log was missed");
    assert_eq!(delivery.status, Status::Missed);
    assert_eq!(delivery.occurrence.due, ny("2026-03-09 16:00"));
    assert_eq!(delivery.assignment.person, h.maria);
    assert_eq!(delivery.done_at, None);
    let report = compliance(&h.org, &history, h.site, from, until, now).expect("compliance");
    let row = report
        .routines
        .iter()
        .find(|r| r.routine == s.delivery)
        .expect("delivery log row");
    assert_eq!(
        (row.counts.missed, row.counts.on_time_percent),
        (1, Some(0.0))
    );
}

#[test]
fn late_completion_counts_as_late_with_its_delay() {
    let s = harbor_shift();
    let h = &s.h;
    let (from, until) = monday_period();
    let items = missed(
        &h.org,
        &s.monday(),
        h.site,
        from,
        until,
        ny("2026-03-10 09:00"),
    )
    .expect("missed");
    let fridge = &items[0];
    assert_eq!(fridge.occurrence.routine, h.fridge);
    assert_eq!(fridge.status, Status::DoneLate);
    assert_eq!(fridge.done_at, Some(ny("2026-03-09 07:40")));
    assert_eq!(fridge.done_by, Some(h.maria));
    assert_eq!(fridge.late_by_min, Some(40));
}

#[test]
fn review_errors_name_the_site() {
    let s = harbor_shift();
    let h = &s.h;
    let history = History::default();
    let now = ny("2026-03-10 09:00");
    let (from, until) = monday_period();
    let nowhere = SiteId(Uuid::from_u128(0x5EA));
    type ErrorCase = (
        &'static str,
        SiteId,
        DateTime<Utc>,
        DateTime<Utc>,
        &'static str,
    );
    let cases: Vec<ErrorCase> = vec![
        (
            "unknown site",
            nowhere,
            from,
            until,
            "site 00000000-0000-0000-0000-0000000005ea is not in the org",
        ),
        (
            "period ending before it starts",
            h.site,
            until,
            from,
            "the review period for Harbor Kitchen ends (2026-03-09 04:00:00 UTC) before it \
             starts (2026-03-10 04:00:00 UTC)",
        ),
    ];
    for (name, site, from, until, message) in cases {
        let err = missed(&h.org, &history, site, from, until, now).expect_err(name);
        assert_eq!(err.to_string(), message, "{name}: missed");
        let err = compliance(&h.org, &history, site, from, until, now).expect_err(name);
        assert_eq!(err.to_string(), message, "{name}: compliance");
    }
    assert!(matches!(
        missed(&h.org, &history, nowhere, from, until, now),
        Err(ReviewError::UnknownSite { site }) if site == nowhere
    ));
}

#[test]
fn review_results_round_trip_through_json() {
    let s = harbor_shift();
    let h = &s.h;
    let (from, until) = monday_period();
    let now = ny("2026-03-10 09:00");
    let history = s.monday();
    let items = missed(&h.org, &history, h.site, from, until, now).expect("missed");
    let json = serde_json::to_string(&items).expect("serialize missed");
    let back: Vec<MissedItem> = serde_json::from_str(&json).expect("deserialize missed");
    assert_eq!(back, items);
    let report = compliance(&h.org, &history, h.site, from, until, now).expect("compliance");
    let json = serde_json::to_string(&report).expect("serialize report");
    assert!(json.contains(r#""on_time_percent":40.0"#), "{json}");
    let back: ComplianceReport = serde_json::from_str(&json).expect("deserialize report");
    assert_eq!(back, report);
}
