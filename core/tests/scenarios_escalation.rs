//! The fridge check's escalation chain over a scripted morning: level 1 at 07:20 to the
//! assignee and supervisors (re-notify every 10 min), level 2 at 08:00 to the lead.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::*;
use proofline_core::escalation::{ChainEndCause, Timeline, escalation_id, timeline};
use proofline_core::model::{History, Recipient, StepAnswer};

const DUE: &str = "2026-03-09 07:00";

fn hhmm(t: DateTime<Utc>) -> String {
    t.with_timezone(&NEW_YORK).format("%H:%M").to_string()
}

/// Per level: (fired, acknowledged by, next re-notification); then how the chain ended.
type Summary = (Vec<(bool, Option<String>, Option<String>)>, Option<String>);

fn summary(h: &Harbor, t: &Timeline) -> Summary {
    let levels = t
        .levels
        .iter()
        .map(|l| {
            (
                l.fired,
                l.acknowledgement.map(|a| h.org.person_name(a.by)),
                l.next_renotify.map(hhmm),
            )
        })
        .collect();
    let ended = t.ended.as_ref().map(|e| match &e.cause {
        ChainEndCause::Completed => {
            format!("completed {} by {}", hhmm(e.at), h.org.person_name(e.by))
        }
        ChainEndCause::Excused { reason } => format!("excused {} ({reason})", hhmm(e.at)),
    });
    (levels, ended)
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

#[test]
fn escalation_chain_over_a_scripted_morning() {
    let h = harbor();
    let fridge = h.routine(h.fridge);
    let occurrence = h.occ(h.fridge, DUE);
    let l1 = escalation_id(occurrence.id, 1);
    let l2 = escalation_id(occurrence.id, 2);
    let mut bad = fridge_ok();
    bad[0].answer = StepAnswer::Reading {
        value: 9.0,
        corrective_action: None,
    };
    let cases: Vec<(&str, History, &str, Summary)> = vec![
        (
            "nothing fires before the first level",
            History::default(),
            "07:19",
            (vec![(false, None, None), (false, None, None)], None),
        ),
        (
            "first level fires at its time",
            History::default(),
            "07:20",
            (vec![(true, None, s("07:30")), (false, None, None)], None),
        ),
        (
            "unacknowledged level re-notifies",
            History::default(),
            "07:35",
            (vec![(true, None, s("07:40")), (false, None, None)], None),
        ),
        (
            "ack silences re-notification of its level",
            History {
                acknowledgements: vec![ack(l1, "2026-03-09 07:25", h.ana)],
                ..History::default()
            },
            "07:35",
            (vec![(true, s("Ana Diaz"), None), (false, None, None)], None),
        ),
        (
            "ack does not stop the chain",
            History {
                acknowledgements: vec![ack(l1, "2026-03-09 07:25", h.ana)],
                ..History::default()
            },
            "08:05",
            (vec![(true, s("Ana Diaz"), None), (true, None, None)], None),
        ),
        (
            "an ack after now is not seen yet",
            History {
                acknowledgements: vec![ack(l1, "2026-03-09 07:45", h.ana)],
                ..History::default()
            },
            "07:35",
            (vec![(true, None, s("07:40")), (false, None, None)], None),
        ),
        (
            "acking the last level leaves the first re-notifying",
            History {
                acknowledgements: vec![ack(l2, "2026-03-09 08:01", h.lee)],
                ..History::default()
            },
            "08:05",
            (
                vec![(true, None, s("08:10")), (true, s("Lee Park"), None)],
                None,
            ),
        ),
        (
            "completion ends the chain",
            completions(vec![completion(
                fridge,
                DUE,
                "2026-03-09 07:45",
                h.maria,
                fridge_ok(),
            )]),
            "08:30",
            (
                vec![(true, None, None), (false, None, None)],
                s("completed 07:45 by Maria Lopez"),
            ),
        ),
        (
            "completion before the first level: nothing fires",
            completions(vec![completion(
                fridge,
                DUE,
                "2026-03-09 07:05",
                h.maria,
                fridge_ok(),
            )]),
            "12:00",
            (
                vec![(false, None, None), (false, None, None)],
                s("completed 07:05 by Maria Lopez"),
            ),
        ),
        (
            "a level due the moment the chain ends does not fire",
            completions(vec![completion(
                fridge,
                DUE,
                "2026-03-09 08:00",
                h.sam,
                fridge_ok(),
            )]),
            "08:30",
            (
                vec![(true, None, None), (false, None, None)],
                s("completed 08:00 by Sam Reed"),
            ),
        ),
        (
            "excuse ends the chain",
            History {
                excuses: vec![excuse(
                    fridge,
                    DUE,
                    "2026-03-09 07:10",
                    h.ana,
                    "walk-in being repaired",
                )],
                ..History::default()
            },
            "09:30",
            (
                vec![(false, None, None), (false, None, None)],
                s("excused 07:10 (walk-in being repaired)"),
            ),
        ),
        (
            "invalid completion does not end the chain",
            completions(vec![completion(
                fridge,
                DUE,
                "2026-03-09 07:10",
                h.maria,
                bad,
            )]),
            "08:05",
            (vec![(true, None, s("08:10")), (true, None, None)], None),
        ),
        (
            "whichever ends it first: excuse before a late completion",
            History {
                completions: vec![completion(
                    fridge,
                    DUE,
                    "2026-03-09 07:50",
                    h.maria,
                    fridge_ok(),
                )],
                excuses: vec![excuse(
                    fridge,
                    DUE,
                    "2026-03-09 07:30",
                    h.ana,
                    "delivery blocked the walk-in",
                )],
                ..History::default()
            },
            "09:00",
            (
                vec![(true, None, None), (false, None, None)],
                s("excused 07:30 (delivery blocked the walk-in)"),
            ),
        ),
    ];
    for (name, history, now, expected) in cases {
        let t = timeline(
            &h.org,
            fridge,
            &occurrence,
            &history,
            ny(&format!("2026-03-09 {now}")),
        );
        assert_eq!(summary(&h, &t), expected, "{name}");
    }
}

#[test]
fn each_level_fires_once() {
    let h = harbor();
    let fridge = h.routine(h.fridge);
    let occurrence = h.occ(h.fridge, DUE);
    let history = History::default();
    let mut fired_at: Vec<Vec<String>> = vec![vec![]; 2];
    let mut was = [false, false];
    let mut now = ny("2026-03-09 06:00");
    while now < ny("2026-03-09 13:00") {
        let t = timeline(&h.org, fridge, &occurrence, &history, now);
        for (i, level) in t.levels.iter().enumerate() {
            assert_eq!(level.id, escalation_id(occurrence.id, i + 1));
            if level.fired && !was[i] {
                fired_at[i].push(hhmm(now));
            }
            assert!(level.fired || !was[i], "a fired level stays fired");
            was[i] = level.fired;
        }
        now += Duration::minutes(1);
    }
    assert_eq!(fired_at, [vec!["07:20"], vec!["08:00"]]);
    assert_ne!(
        escalation_id(occurrence.id, 1),
        escalation_id(occurrence.id, 2)
    );
}

#[test]
fn recipients_resolve_to_people() {
    let mut h = harbor();
    let occurrence = h.occ(h.fridge, DUE);
    let now = ny("2026-03-09 08:00");
    let recipients = |h: &Harbor| -> Vec<Vec<String>> {
        timeline(
            &h.org,
            h.routine(h.fridge),
            &occurrence,
            &History::default(),
            now,
        )
        .levels
        .iter()
        .map(|l| l.recipients.iter().map(|p| h.org.person_name(*p)).collect())
        .collect()
    };
    assert_eq!(
        recipients(&h),
        [vec!["Maria Lopez", "Ana Diaz", "Ben Cho"], vec!["Lee Park"]]
    );

    // The assignee follows absences; a person named twice is notified once.
    h.away(h.maria, "2026-03-09 00:00", "2026-03-10 00:00", None);
    let fridge = h.fridge;
    let (ana, ben) = (h.ana, h.ben);
    h.routine_mut(fridge).escalation[1].notify = vec![
        Recipient::Person(ben),
        Recipient::Role(proofline_core::model::Role::Supervisor),
        Recipient::Person(ana),
    ];
    assert_eq!(
        recipients(&h),
        [
            vec!["Sam Reed", "Ana Diaz", "Ben Cho"],
            vec!["Ben Cho", "Ana Diaz"]
        ]
    );
}
