//! Who does the fridge check at Harbor Kitchen when people are away.

mod common;

use common::*;
use proofline_core::assignee::{Assignment, AssignmentReason, assignee};
use proofline_core::model::Role;

/// Mon 9 to Mon 16 March.
const WEEK: (&str, &str) = ("2026-03-09 00:00", "2026-03-16 00:00");

#[test]
fn assignee_when_people_are_away() {
    let base = harbor();
    let (maria, sam, ana, ben) = (base.maria, base.sam, base.ana, base.ben);
    let due = "2026-03-11 07:00";
    type Setup = fn(&mut Harbor);
    let cases: Vec<(&str, Setup, Assignment)> = vec![
        (
            "owner available: owner is assignee",
            |_| {},
            Assignment {
                person: maria,
                reason: AssignmentReason::Owner,
            },
        ),
        (
            "owner on leave: backup is assignee",
            |h| h.away(h.maria, WEEK.0, WEEK.1, Some("annual leave")),
            Assignment {
                person: sam,
                reason: AssignmentReason::Backup {
                    covering_for: maria,
                },
            },
        ),
        (
            "owner and backup both out: first supervisor covers",
            |h| {
                h.away(h.maria, WEEK.0, WEEK.1, None);
                h.away(h.sam, WEEK.0, WEEK.1, None);
            },
            Assignment {
                person: ana,
                reason: AssignmentReason::RoleFallback {
                    role: Role::Supervisor,
                    covering_for: maria,
                },
            },
        ),
        (
            "first supervisor also out: next supervisor covers",
            |h| {
                h.away(h.maria, WEEK.0, WEEK.1, None);
                h.away(h.sam, WEEK.0, WEEK.1, None);
                h.away(
                    h.ana,
                    "2026-03-11 06:00",
                    "2026-03-11 15:00",
                    Some("training"),
                );
            },
            Assignment {
                person: ben,
                reason: AssignmentReason::RoleFallback {
                    role: Role::Supervisor,
                    covering_for: maria,
                },
            },
        ),
        (
            "no backup: fallback role covers",
            |h| {
                let fridge = h.fridge;
                h.routine_mut(fridge).backup = None;
                h.away(h.maria, WEEK.0, WEEK.1, None);
            },
            Assignment {
                person: ana,
                reason: AssignmentReason::RoleFallback {
                    role: Role::Supervisor,
                    covering_for: maria,
                },
            },
        ),
        (
            "fallback role is the routine's: lead covers",
            |h| {
                let fridge = h.fridge;
                h.routine_mut(fridge).fallback_role = Role::Lead;
                h.away(h.maria, WEEK.0, WEEK.1, None);
                h.away(h.sam, WEEK.0, WEEK.1, None);
            },
            Assignment {
                person: base_lee(),
                reason: AssignmentReason::RoleFallback {
                    role: Role::Lead,
                    covering_for: maria,
                },
            },
        ),
        (
            "everyone out: still the owner, flagged",
            |h| {
                for p in [h.maria, h.sam, h.ana, h.ben] {
                    h.away(p, WEEK.0, WEEK.1, None);
                }
            },
            Assignment {
                person: maria,
                reason: AssignmentReason::OwnerUnavailable,
            },
        ),
        (
            "absence ending at the due time does not count",
            |h| h.away(h.maria, "2026-03-10 00:00", "2026-03-11 07:00", None),
            Assignment {
                person: maria,
                reason: AssignmentReason::Owner,
            },
        ),
        (
            "absence starting at the due time counts",
            |h| h.away(h.maria, "2026-03-11 07:00", "2026-03-12 00:00", None),
            Assignment {
                person: sam,
                reason: AssignmentReason::Backup {
                    covering_for: maria,
                },
            },
        ),
        (
            "someone else's absence changes nothing",
            |h| h.away(h.ben, WEEK.0, WEEK.1, None),
            Assignment {
                person: maria,
                reason: AssignmentReason::Owner,
            },
        ),
    ];
    for (name, setup, expected) in cases {
        let mut h = harbor();
        setup(&mut h);
        assert_eq!(
            assignee(&h.org, h.routine(h.fridge), ny(due)),
            expected,
            "{name}"
        );
    }
}

fn base_lee() -> proofline_core::model::PersonId {
    harbor().lee
}

#[test]
fn absence_is_judged_at_each_due_time() {
    let mut h = harbor();
    h.away(h.maria, "2026-03-10 12:00", "2026-03-12 12:00", None);
    let fridge = h.routine(h.fridge);
    let people: Vec<_> = [
        "2026-03-10 07:00",
        "2026-03-11 07:00",
        "2026-03-12 07:00",
        "2026-03-13 07:00",
    ]
    .iter()
    .map(|d| assignee(&h.org, fridge, ny(d)).person)
    .collect();
    assert_eq!(people, [h.maria, h.sam, h.sam, h.maria]);
}
