//! Attention feeds at Harbor Kitchen (New York) and at a Tokyo store: who sees what, in
//! which order, in what words.

mod common;

use common::*;
use proofline_core::attention::{AttentionItem, AttentionKind, attention};
use proofline_core::escalation::escalation_id;
use proofline_core::model::{EscalationLevel, History, PersonId, Recipient, Role};
use proofline_core::occurrence::{Occurrence, Status};

fn kinds(items: &[AttentionItem]) -> Vec<AttentionKind> {
    items.iter().map(|i| i.kind).collect()
}

fn messages(items: &[AttentionItem]) -> Vec<&str> {
    items.iter().map(|i| i.message.as_str()).collect()
}

fn supervisors_after(after_min: u32) -> EscalationLevel {
    EscalationLevel {
        after_min,
        notify: vec![Recipient::Role(Role::Supervisor)],
        renotify_every_min: None,
    }
}

/// Harbor Kitchen on Mon 9 Mar 2026 with Ana (supervisor) owning four checks of her own,
/// and three of Maria's and Sam's checks escalating to supervisors. Nothing done yet,
/// except that Ana acknowledged the prep labels escalation at 07:20.
fn busy_morning() -> (Harbor, History) {
    let mut h = harbor();
    let (site, ana, maria, sam) = (h.site, h.ana, h.maria, h.sam);
    h.org.routines.extend([
        daily(
            0xA1,
            site,
            "opening",
            "Opening checklist",
            ana,
            "2026-03-09 06:45",
        ),
        daily(
            0xA2,
            site,
            "dish-temp",
            "Dish machine temperature",
            ana,
            "2026-03-09 07:10",
        ),
        daily(
            0xA3,
            site,
            "handwash",
            "Handwash stations",
            ana,
            "2026-03-09 07:30",
        ),
        daily(
            0xA4,
            site,
            "delivery",
            "Delivery log",
            ana,
            "2026-03-09 08:00",
        ),
    ]);
    let mut hot = daily(
        0xB1,
        site,
        "hot-holding",
        "Hot holding",
        maria,
        "2026-03-09 06:30",
    );
    hot.escalation = vec![supervisors_after(10), supervisors_after(30)];
    let mut labels = daily(
        0xB2,
        site,
        "prep-labels",
        "Prep labels",
        sam,
        "2026-03-09 07:00",
    );
    labels.escalation = vec![supervisors_after(15)];
    let labels_l1 = escalation_id(Occurrence::new(&labels, ny("2026-03-09 07:00")).id, 1);
    h.org.routines.extend([hot, labels]);
    let history = History {
        acknowledgements: vec![ack(labels_l1, "2026-03-09 07:20", ana)],
        ..History::default()
    };
    (h, history)
}

#[test]
fn attention_overdue_before_due_now_before_escalations() {
    let (h, history) = busy_morning();
    let feed = attention(&h.org, &history, h.ana, ny("2026-03-09 07:40"));
    assert_eq!(
        kinds(&feed),
        [
            AttentionKind::Overdue,
            AttentionKind::Overdue,
            AttentionKind::DueNow,
            AttentionKind::DueNow,
            AttentionKind::Escalation,
            AttentionKind::Escalation,
            AttentionKind::Escalation,
        ]
    );
    assert_eq!(
        messages(&feed),
        [
            "Opening checklist (Harbor Kitchen) is 55 min overdue — due at 06:45.",
            "Dish machine temperature (Harbor Kitchen) is 30 min overdue — due at 07:10.",
            "Handwash stations (Harbor Kitchen) is due now — due at 07:30, on time until 07:45.",
            "Delivery log (Harbor Kitchen) is open — due at 08:00.",
            "Hot holding (Harbor Kitchen) is 1 h 10 min overdue — assigned to Maria Lopez; escalated to you at 07:00 (level 2).",
            "Fridge temperatures (Harbor Kitchen) is 40 min overdue — assigned to Maria Lopez; escalated to you at 07:20 (level 1).",
            "Prep labels (Harbor Kitchen) is 40 min overdue — assigned to Sam Reed; escalated to you at 07:15 (level 1); you acknowledged at 07:20.",
        ]
    );
    let statuses: Vec<Option<Status>> = feed.iter().map(|i| i.status).collect();
    assert_eq!(
        statuses,
        [
            Status::Overdue,
            Status::Overdue,
            Status::Due,
            Status::Open,
            Status::Overdue,
            Status::Overdue,
            Status::Overdue
        ]
        .map(Some)
    );
    let levels: Vec<Option<(usize, bool)>> = feed
        .iter()
        .map(|i| i.escalation.map(|e| (e.level, e.acknowledged)))
        .collect();
    assert_eq!(
        levels[4..],
        [Some((2, false)), Some((1, false)), Some((1, true))]
    );
    assert!(
        feed.iter()
            .all(|i| i.site == h.site && i.occurrence.is_some())
    );
}

#[test]
fn my_own_overdue_check_is_not_repeated_as_an_escalation() {
    let (h, history) = busy_morning();
    let feed = attention(&h.org, &history, h.maria, ny("2026-03-09 07:40"));
    assert_eq!(
        messages(&feed),
        [
            "Hot holding (Harbor Kitchen) is 1 h 10 min overdue — due at 06:30.",
            "Fridge temperatures (Harbor Kitchen) is 40 min overdue — due at 07:00.",
        ]
    );
}

#[test]
fn attention_empty_when_all_is_well() {
    let (h, _) = busy_morning();
    let routines: Vec<_> = h.org.routines.iter().collect();
    let mut history = History::default();
    for r in &routines {
        let (results, due) = if r.id == h.fridge {
            (fridge_ok(), ny("2026-03-09 07:00"))
        } else {
            let due = proofline_core::occurrence::occurrences(
                r,
                &h.org.sites[0],
                &History::default(),
                ny("2026-03-09 00:00"),
                ny("2026-03-10 00:00"),
                ny("2026-03-09 00:00"),
            )
            .expect("expands")[0]
                .due;
            (ticked(), due)
        };
        history
            .completions
            .push(completion_at(r, due, due, r.owner, results));
    }
    for now in ["2026-03-09 05:00", "2026-03-09 09:30", "2026-03-09 23:00"] {
        for p in &h.org.people {
            let feed = attention(&h.org, &history, p.id, ny(now));
            assert_eq!(feed, vec![], "{} at {now}", p.name);
        }
    }
}

#[test]
fn messages_use_site_time_zone_and_names() {
    let mut h = harbor();
    h.away(
        h.maria,
        "2026-03-07 00:00",
        "2026-03-21 00:00",
        Some("annual leave"),
    );
    let now = ny("2026-03-09 07:20");
    let history = History::default();
    let feed = |p: PersonId| -> Vec<String> {
        attention(&h.org, &history, p, now)
            .into_iter()
            .map(|i| i.message)
            .collect()
    };
    assert_eq!(
        feed(h.sam),
        [
            "Fridge temperatures (Harbor Kitchen) is 20 min overdue — due at 07:00; you are covering for Maria Lopez, who is away (annual leave)."
        ]
    );
    assert_eq!(
        feed(h.ana),
        [
            "Fridge temperatures (Harbor Kitchen) is 20 min overdue — owner Maria Lopez is away (annual leave), Sam Reed is covering; escalated to you at 07:20 (level 1)."
        ]
    );
    assert_eq!(
        feed(h.maria),
        Vec::<String>::new(),
        "away and not the assignee"
    );
    assert_eq!(feed(h.lee), Vec::<String>::new(), "level 2 has not fired");

    // Sam out too: Ana covers; Ben hears of it as the other supervisor.
    h.away(h.sam, "2026-03-09 00:00", "2026-03-10 00:00", None);
    let feed = |p: PersonId| -> Vec<String> {
        attention(&h.org, &history, p, now)
            .into_iter()
            .map(|i| i.message)
            .collect()
    };
    assert_eq!(
        feed(h.ana),
        [
            "Fridge temperatures (Harbor Kitchen) is 20 min overdue — due at 07:00; you are covering as supervisor: owner Maria Lopez and backup Sam Reed are away."
        ]
    );
    assert_eq!(
        feed(h.ben),
        [
            "Fridge temperatures (Harbor Kitchen) is 20 min overdue — owner Maria Lopez and backup Sam Reed are away, Ana Diaz (supervisor) is covering; escalated to you at 07:20 (level 1)."
        ]
    );
}

#[test]
fn messages_use_the_zone_of_a_tokyo_site() {
    let tokyo = chrono_tz::Asia::Tokyo;
    let mut org = harbor().org;
    let shibuya = site(0x52, "shibuya", "Shibuya Store", tokyo);
    let kenji = person(0x201, "kenji", "Kenji Sato", &[(shibuya.id, Role::Staff)]);
    let yui = person(
        0x202,
        "yui",
        "Yui Tanaka",
        &[(shibuya.id, Role::Supervisor)],
    );
    let mut count = daily(
        0xD1,
        shibuya.id,
        "register",
        "Register count",
        kenji.id,
        "2026-03-09 09:00",
    );
    count.escalation = vec![supervisors_after(15)];
    let (kenji_id, yui_id) = (kenji.id, yui.id);
    org.sites.push(shibuya);
    org.people.extend([kenji, yui]);
    org.routines.push(count);
    // 09:20 in Tokyo is 00:20 UTC and 20:20 the evening before in New York.
    let now = local_in(tokyo, "2026-03-09 09:20");
    assert_eq!(now.to_rfc3339(), "2026-03-09T00:20:00+00:00");
    let history = History::default();
    let kenji_feed = attention(&org, &history, kenji_id, now);
    let yui_feed = attention(&org, &history, yui_id, now);
    assert_eq!(
        messages(&kenji_feed),
        ["Register count (Shibuya Store) is 20 min overdue — due at 09:00."]
    );
    assert_eq!(
        messages(&yui_feed),
        [
            "Register count (Shibuya Store) is 20 min overdue — assigned to Kenji Sato; escalated to you at 09:15 (level 1)."
        ]
    );
}

#[test]
fn yesterdays_missed_check_shows_its_date() {
    let h = harbor();
    let feed = attention(&h.org, &History::default(), h.lee, ny("2026-03-10 06:00"));
    assert_eq!(
        messages(&feed),
        [
            "Fridge temperatures (Harbor Kitchen) was missed (closed at Mon 9 Mar 09:00) — assigned to Maria Lopez; escalated to you at Mon 9 Mar 08:00 (level 2)."
        ]
    );
}

#[test]
fn done_or_excused_checks_leave_the_feed() {
    let h = harbor();
    let fridge = h.routine(h.fridge);
    let now = ny("2026-03-09 08:10");
    let cases = [
        (
            "done late",
            completions(vec![completion(
                fridge,
                "2026-03-09 07:00",
                "2026-03-09 08:05",
                h.sam,
                fridge_ok(),
            )]),
        ),
        (
            "excused",
            History {
                excuses: vec![excuse(
                    fridge,
                    "2026-03-09 07:00",
                    "2026-03-09 08:05",
                    h.ana,
                    "power cut",
                )],
                ..History::default()
            },
        ),
    ];
    assert_eq!(
        attention(&h.org, &History::default(), h.lee, now).len(),
        1,
        "escalated to the lead at 08:00"
    );
    for (name, history) in cases {
        for p in &h.org.people {
            assert_eq!(
                attention(&h.org, &history, p.id, now),
                vec![],
                "{name}: {}",
                p.name
            );
        }
    }
}

#[test]
fn repeat_failure_reaches_the_site_lead() {
    let h = harbor();
    let now = ny("2026-03-11 06:00");
    let lee = attention(&h.org, &History::default(), h.lee, now);
    assert_eq!(
        kinds(&lee),
        [AttentionKind::Escalation, AttentionKind::RepeatFailure]
    );
    assert_eq!(
        lee[1].message,
        "Fridge temperatures (Harbor Kitchen) was missed 2 of the last 5 times (Mon 9 Mar 07:00, Tue 10 Mar 07:00); owner Maria Lopez."
    );
    assert!(lee[1].alert.is_some() && lee[1].occurrence.is_none());
    let ana = attention(&h.org, &History::default(), h.ana, now);
    assert_eq!(
        kinds(&ana),
        [AttentionKind::Escalation],
        "supervisors get escalations, not repeat failures"
    );
}

#[test]
fn repeat_failure_stays_while_the_streak_runs() {
    let h = harbor();
    let fridge = h.routine(h.fridge);
    let now = ny("2026-03-21 06:00");
    let repeat = |history: &History| -> Vec<String> {
        attention(&h.org, history, h.lee, now)
            .into_iter()
            .filter(|i| i.kind == AttentionKind::RepeatFailure)
            .map(|i| i.message)
            .collect()
    };
    // Missed every day since the 9th: raised on the 10th, eleven days ago, still running.
    assert_eq!(
        repeat(&History::default()),
        [
            "Fridge temperatures (Harbor Kitchen) was missed 2 of the last 5 times (Mon 9 Mar 07:00, Tue 10 Mar 07:00); owner Maria Lopez."
        ]
    );
    // Back on track since the 14th: raised more than a week ago and over, so gone.
    let mut history = History::default();
    for d in 11..=20 {
        let due = format!("2026-03-{d} 07:00");
        history.completions.push(completion(
            fridge,
            &due,
            &format!("2026-03-{d} 07:05"),
            h.maria,
            fridge_ok(),
        ));
    }
    assert_eq!(repeat(&history), Vec::<String>::new());
    // Seen on the 16th, the ended streak is still within the week.
    let on_16 = attention(&h.org, &history, h.lee, ny("2026-03-16 06:00"));
    assert_eq!(
        messages(&on_16),
        [
            "Fridge temperatures (Harbor Kitchen) was missed 2 of the last 5 times (Mon 9 Mar 07:00, Tue 10 Mar 07:00); owner Maria Lopez; back on track since Sat 14 Mar 07:05."
        ]
    );
}
