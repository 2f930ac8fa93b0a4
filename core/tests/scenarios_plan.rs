//! Site plans, as `proofline plan` prints them: a projection, and the state at `now`.

mod common;

use common::*;
use proofline_core::assignee::AssignmentReason;
use proofline_core::attention::AttentionKind;
use proofline_core::model::{History, Role, SiteId};
use proofline_core::occurrence::Status;
use proofline_core::plan::{PlanError, plan};

fn two_days(h: &mut Harbor) -> History {
    h.away(
        h.maria,
        "2026-03-10 00:00",
        "2026-03-11 00:00",
        Some("dentist"),
    );
    let (site, ana) = (h.site, h.ana);
    h.org.routines.push(daily(
        0xA1,
        site,
        "opening",
        "Opening checklist",
        ana,
        "2026-03-09 06:45",
    ));
    let fridge = h.routine(h.fridge);
    completions(vec![completion(
        fridge,
        "2026-03-09 07:00",
        "2026-03-09 07:05",
        h.maria,
        fridge_ok(),
    )])
}

#[test]
fn projection_as_if_nothing_was_done() {
    let mut h = harbor();
    let history = two_days(&mut h);
    let plans = plan(
        &h.org,
        &history,
        ny("2026-03-09 00:00"),
        ny("2026-03-11 00:00"),
        None,
    )
    .expect("plans");
    assert_eq!(plans.len(), 1);
    let p = &plans[0];
    assert_eq!(
        (
            p.site,
            p.site_key.as_str(),
            p.site_name.as_str(),
            p.time_zone
        ),
        (h.site, "harbor", "Harbor Kitchen", NEW_YORK)
    );
    let rows: Vec<(String, &str, &str, Option<Status>)> = p
        .occurrences
        .iter()
        .map(|o| {
            (
                o.local_due.format("%d %H:%M").to_string(),
                o.routine_key.as_str(),
                o.assignee_name.as_str(),
                o.status,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("09 06:45".to_string(), "opening", "Ana Diaz", None),
            ("09 07:00".to_string(), "fridge-temps", "Maria Lopez", None),
            ("10 06:45".to_string(), "opening", "Ana Diaz", None),
            ("10 07:00".to_string(), "fridge-temps", "Sam Reed", None),
        ]
    );
    let sams = &p.occurrences[3];
    assert_eq!(
        sams.assignment.reason,
        AssignmentReason::Backup {
            covering_for: h.maria
        }
    );
    assert!(
        p.occurrences
            .iter()
            .all(|o| o.timeline.ended.is_none() && o.timeline.fired().count() == 0)
    );
    assert_eq!(p.occurrences[1].timeline.levels.len(), 2);
    assert!(p.attention.is_empty());
}

#[test]
fn plan_at_now_has_statuses_and_everyones_attention() {
    let mut h = harbor();
    let history = two_days(&mut h);
    let plans = plan(
        &h.org,
        &history,
        ny("2026-03-09 00:00"),
        ny("2026-03-11 00:00"),
        Some(ny("2026-03-09 07:30")),
    )
    .expect("plans");
    let p = &plans[0];
    let statuses: Vec<Option<Status>> = p.occurrences.iter().map(|o| o.status).collect();
    assert_eq!(
        statuses,
        [
            Some(Status::Overdue),
            Some(Status::DoneOnTime),
            Some(Status::Upcoming),
            Some(Status::Upcoming)
        ]
    );
    assert!(p.occurrences[1].timeline.ended.is_some());
    let people: Vec<(&str, Vec<AttentionKind>)> = p
        .attention
        .iter()
        .map(|(_, name, items)| (name.as_str(), items.iter().map(|i| i.kind).collect()))
        .collect();
    assert_eq!(
        people,
        [
            ("Maria Lopez", vec![]),
            ("Sam Reed", vec![]),
            ("Ana Diaz", vec![AttentionKind::Overdue]),
            ("Ben Cho", vec![]),
            ("Lee Park", vec![]),
        ]
    );
    let json = serde_json::to_value(&plans).expect("serializes");
    assert_eq!(json[0]["occurrences"][0]["status"], "overdue");
    assert_eq!(json[0]["time_zone"], "America/New_York");
    assert_eq!(
        json[0]["occurrences"][3]["assignment"]["reason"]["kind"],
        "backup"
    );
}

#[test]
fn each_site_gets_its_own_plan() {
    let mut h = harbor();
    let tokyo = site(0x52, "shibuya", "Shibuya Store", chrono_tz::Asia::Tokyo);
    let kenji = person(0x201, "kenji", "Kenji Sato", &[(tokyo.id, Role::Staff)]);
    h.org.routines.push(daily(
        0xD1,
        tokyo.id,
        "register",
        "Register count",
        kenji.id,
        "2026-03-09 09:00",
    ));
    h.org.sites.push(tokyo);
    h.org.people.push(kenji);
    let plans = plan(
        &h.org,
        &History::default(),
        ny("2026-03-09 00:00"),
        ny("2026-03-10 00:00"),
        Some(ny("2026-03-09 12:00")),
    )
    .expect("plans");
    let summary: Vec<(&str, Vec<String>, usize)> = plans
        .iter()
        .map(|p| {
            (
                p.site_key.as_str(),
                p.occurrences
                    .iter()
                    .map(|o| o.local_due.format("%d %H:%M").to_string())
                    .collect(),
                p.attention.len(),
            )
        })
        .collect();
    // Tokyo's 9 Mar 09:00 is before New York's midnight; its 10 Mar 09:00 is
    // still the 9th in New York.
    assert_eq!(
        summary,
        [
            ("harbor", vec!["09 07:00".to_string()], 5),
            ("shibuya", vec!["10 09:00".to_string()], 1),
        ]
    );
}

#[test]
fn a_routine_at_an_unknown_site_is_an_error() {
    let mut h = harbor();
    let fridge = h.fridge;
    h.routine_mut(fridge).site = SiteId(id(0xDEAD));
    let err = plan(
        &h.org,
        &History::default(),
        ny("2026-03-09 00:00"),
        ny("2026-03-10 00:00"),
        None,
    )
    .expect_err("unknown site");
    assert!(matches!(err, PlanError::UnknownSite { .. }));
    assert_eq!(
        err.to_string(),
        "routine `fridge-temps` (Fridge temperatures) names a site that does not exist: 00000000-0000-0000-0000-00000000dead"
    );
}
