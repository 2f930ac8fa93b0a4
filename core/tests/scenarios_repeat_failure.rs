//! Repeat failures of the fridge check (2 of the last 5 by default) over scripted weeks.
//!
//! A script has one letter per day from Mon 9 Mar 2026 (the routine's first day):
//! `d` done 07:05, `l` done late 07:30, `x` excused the evening before, `M` missed.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::*;
use proofline_core::model::{History, RepeatFailureRule, Routine};
use proofline_core::repeat_failure::{RepeatFailureAlert, alert_id, repeat_failures};
use uuid::Uuid;

fn day(n: usize) -> String {
    format!("2026-03-{:02}", 9 + n)
}

fn scripted(fridge: &Routine, h: &Harbor, script: &str) -> History {
    let mut history = History::default();
    for (i, c) in script.chars().enumerate() {
        let due = format!("{} 07:00", day(i));
        match c {
            'd' => history.completions.push(completion(
                fridge,
                &due,
                &format!("{} 07:05", day(i)),
                h.maria,
                fridge_ok(),
            )),
            'l' => history.completions.push(completion(
                fridge,
                &due,
                &format!("{} 07:30", day(i)),
                h.maria,
                fridge_ok(),
            )),
            'x' => history.excuses.push(excuse(
                fridge,
                &due,
                &format!("2026-03-{:02} 20:00", 8 + i),
                h.ana,
                "closed for a private event",
            )),
            _ => {}
        }
    }
    history
}

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&NEW_YORK).format("%d %H:%M").to_string()
}

/// (raised, missed days, streak ended).
type Seen = (String, Vec<String>, Option<String>);

fn seen(h: &Harbor, alerts: &[RepeatFailureAlert]) -> Vec<Seen> {
    let fridge = h.routine(h.fridge);
    alerts
        .iter()
        .map(|a| {
            let missed = a
                .missed_occurrences
                .iter()
                .map(|id| {
                    (0..40)
                        .map(|n| format!("{} 07:00", day(n)))
                        .find(|due| h.occ(fridge.id, due).id == *id)
                        .map(|due| due[8..10].to_string())
                        .unwrap_or_else(|| id.to_string())
                })
                .collect();
            (local(a.raised_at), missed, a.streak_ended_at.map(local))
        })
        .collect()
}

fn seen_str(raised: &str, missed: &[&str], ended: Option<&str>) -> Seen {
    (
        raised.into(),
        missed.iter().map(|m| m.to_string()).collect(),
        ended.map(Into::into),
    )
}

#[test]
fn repeat_failures_over_scripted_weeks() {
    let cases: Vec<(&str, &str, Vec<Seen>)> = vec![
        ("all done raises nothing", "ddddddd", vec![]),
        ("one miss in five raises nothing", "dMdddd", vec![]),
        (
            "2 of 5 missed raises one alert",
            "dMdMddd",
            vec![seen_str("12 09:00", &["10", "12"], Some("15 07:05"))],
        ),
        (
            "streak raises only one alert",
            "MMMMMMM",
            vec![seen_str("10 09:00", &["09", "10"], None)],
        ),
        (
            "new streak after recovery raises a new alert",
            "MMddddddMM",
            vec![
                seen_str("10 09:00", &["09", "10"], Some("14 07:05")),
                seen_str("18 09:00", &["17", "18"], None),
            ],
        ),
        (
            "misses further apart than five raise nothing",
            "MddddM",
            vec![],
        ),
        ("excused is not a miss", "Mx", vec![]),
        (
            "excused days end a streak like done ones",
            "MxMxxx",
            vec![seen_str("11 09:00", &["09", "11"], Some("13 20:00"))],
        ),
        ("excused days fill the window", "MxxxxM", vec![]),
        (
            "done late is not a miss",
            "MlMldddd",
            vec![seen_str("11 09:00", &["09", "11"], Some("14 07:05"))],
        ),
    ];
    for (name, script, expected) in cases {
        let h = harbor();
        let fridge = h.routine(h.fridge);
        let history = scripted(fridge, &h, script);
        let now = ny(&format!("{} 12:00", day(script.len() - 1)));
        let alerts = repeat_failures(
            &h.org,
            fridge,
            &history,
            ny("2026-03-01 00:00"),
            ny("2026-04-01 00:00"),
            now,
        )
        .expect("computes");
        assert_eq!(seen(&h, &alerts), expected, "{name}");
    }
}

#[test]
fn an_undecided_occurrence_does_not_count_yet() {
    let h = harbor();
    let fridge = h.routine(h.fridge);
    let history = scripted(fridge, &h, "M");
    let at = |now: &str| {
        repeat_failures(
            &h.org,
            fridge,
            &history,
            ny("2026-03-01 00:00"),
            ny("2026-04-01 00:00"),
            ny(now),
        )
        .expect("computes")
        .len()
    };
    assert_eq!(at("2026-03-10 08:59"), 0, "the second miss is only overdue");
    assert_eq!(at("2026-03-10 09:00"), 1, "raised when it closes");
}

#[test]
fn alerts_are_those_raised_in_the_range() {
    let h = harbor();
    let fridge = h.routine(h.fridge);
    let history = scripted(fridge, &h, "MMMMMMM");
    let now = ny("2026-03-15 12:00");
    let count = |from: &str, until: &str| {
        repeat_failures(&h.org, fridge, &history, ny(from), ny(until), now)
            .expect("computes")
            .len()
    };
    assert_eq!(
        count("2026-03-10 09:00", "2026-03-10 09:01"),
        1,
        "raised at 09:00 on the 10th"
    );
    assert_eq!(
        count("2026-03-10 08:00", "2026-03-10 09:00"),
        0,
        "until is exclusive"
    );
    assert_eq!(
        count("2026-03-12 00:00", "2026-04-01 00:00"),
        0,
        "a streak running before the range raises nothing in it"
    );
}

#[test]
fn the_rule_is_the_routines() {
    let mut h = harbor();
    let fridge_id = h.fridge;
    h.routine_mut(fridge_id).repeat_failure = RepeatFailureRule {
        missed: 3,
        of_last: 4,
    };
    let fridge = h.routine(fridge_id);
    let now = ny("2026-03-16 12:00");
    let alerts = |script: &str| {
        let history = scripted(fridge, &h, script);
        seen(
            &h,
            &repeat_failures(&h.org, fridge, &history, ny("2026-03-01 00:00"), now, now)
                .expect("computes"),
        )
    };
    assert_eq!(alerts("MMdddddd"), vec![]);
    assert_eq!(
        alerts("MMdMdddd"),
        vec![seen_str("12 09:00", &["09", "10", "12"], Some("13 07:05"))]
    );
}

#[test]
fn alert_names_the_site_leads_and_has_a_derived_id() {
    let h = harbor();
    let fridge = h.routine(h.fridge);
    let history = scripted(fridge, &h, "MM");
    let alerts = repeat_failures(
        &h.org,
        fridge,
        &history,
        ny("2026-03-01 00:00"),
        ny("2026-04-01 00:00"),
        ny("2026-03-10 12:00"),
    )
    .expect("computes");
    assert_eq!(alerts.len(), 1);
    let alert = &alerts[0];
    let trigger = h.occ(h.fridge, "2026-03-10 07:00").id;
    assert_eq!(alert.id, alert_id(h.fridge, trigger));
    assert_eq!(
        alert.id.0,
        Uuid::new_v5(&h.fridge.0, format!("repeat-failure:{trigger}").as_bytes())
    );
    assert_eq!((alert.routine, alert.site), (h.fridge, h.site));
    assert_eq!(alert.notify, vec![h.lee]);
    assert_eq!(alert.raised_at, ny("2026-03-10 07:00") + Duration::hours(2));
}
