//! `notify::routine_notices_where` against the whole-history `notify::notices_where`, and
//! its `next_change`: for random routines (cadences, windows, chains with re-notification,
//! repeat-failure rules, absences) and random completions, excuses and acknowledgements
//! (some recorded with a time ahead of the evaluation instant), the notices due at any
//! instant before `next_change` are the ones due at the evaluation instant; and an
//! occurrence whose own next change has not come keeps its notices, so evaluating only
//! the others (and the repeat failures) gives what evaluating everything does. This is
//! what lets the server's dispatcher evaluate a routine again only when something
//! changed, and then only the occurrences that did.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use proofline_core::escalation::escalation_id;
use proofline_core::model::OccurrenceId;
use proofline_core::model::{
    Acknowledgement, Completion, EscalationId, EventId, Excuse, History, Org, StepAnswer,
    StepResult,
};
use proofline_core::notify::{
    Notice, RoutineEvents, nothing_settled, notices_where, routine_notices_where,
};
use proofline_core::occurrence::occurrences;
use proofline_core::routines_file::{parse_routines_file, person_id};
use proptest::prelude::*;
use uuid::Uuid;

const CADENCES: [&str; 7] = [
    "rrule = \"FREQ=MINUTELY;INTERVAL=15\"",
    "rrule = \"FREQ=HOURLY;INTERVAL=3\"",
    "rrule = \"FREQ=DAILY;BYHOUR=10;BYMINUTE=0\"",
    "rrule = \"FREQ=DAILY;BYHOUR=2;BYMINUTE=30\"",
    "rrule = \"FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=9;BYMINUTE=30\"",
    "rrule = \"FREQ=MONTHLY;BYMONTHDAY=1,5,9;BYHOUR=8;BYMINUTE=0\"",
    "after_completion = { days = 1, at = \"09:00\" }",
];
const ZONES: [&str; 3] = ["America/New_York", "Asia/Kathmandu", "Europe/Berlin"];
const NOTIFY: [&str; 4] = [
    "\"assignee\"",
    "\"role:supervisor\"",
    "\"role:lead\"",
    "\"sam\"",
];

/// One generated routine and what happened to it.
#[derive(Debug, Clone)]
struct Case {
    cadence: usize,
    zone: usize,
    opens_before: u32,
    grace: u32,
    closes_extra: u32,
    /// (after, notify, renotify every) per level; `after` as increments.
    levels: Vec<(u32, usize, Option<u32>)>,
    missed: u32,
    of_last: u32,
    maria_away: Option<(i64, i64)>,
    /// Seconds (and nanoseconds) after the base instant.
    now: (i64, u32),
    /// (occurrence index, minutes after due, kind: 0 completion, 1 bad completion,
    /// 2 excuse, 3..=5 acknowledgement of level kind-2).
    events: Vec<(usize, i64, u8)>,
    /// Fractions of the way to `next_change` to check at.
    probes: Vec<f64>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        (0..CADENCES.len(), 0..ZONES.len()),
        (0u32..=24, 0u32..=12, 0u32..=36),
        prop::collection::vec(
            (0u32..=12, 0..NOTIFY.len(), prop::option::of(1u32..=9)),
            0..=3,
        ),
        (1u32..=3, 0u32..=3),
        prop::option::of((-3000i64..3000, 1i64..4000)),
        (0i64..(12 * 86_400), 0u32..1_000_000_000),
        prop::collection::vec((0usize..60, -120i64..900, 0u8..=5), 0..14),
        prop::collection::vec(0.0f64..1.0, 1..4),
    )
        .prop_map(
            |(
                (cadence, zone),
                (opens, grace, closes_extra),
                levels,
                (missed, extra),
                away,
                now,
                events,
                probes,
            )| Case {
                cadence,
                zone,
                opens_before: opens * 5,
                grace: grace * 5,
                closes_extra: closes_extra * 5,
                levels: levels
                    .into_iter()
                    .map(|(after, notify, every)| (after * 5, notify, every.map(|e| e * 5)))
                    .collect(),
                missed,
                of_last: missed + extra,
                maria_away: away,
                now,
                events,
                probes,
            },
        )
}

fn base() -> DateTime<Utc> {
    "2026-03-02T00:00:00Z".parse().expect("base instant")
}

fn org_of(case: &Case) -> Org {
    let mut text = format!(
        r#"org = "Props"

[[sites]]
key = "harbor"
name = "Harbor Kitchen"
time_zone = "{zone}"

[[people]]
key = "maria"
name = "Maria Lopez"
roles = {{ harbor = "staff" }}

[[people]]
key = "sam"
name = "Sam Reed"
roles = {{ harbor = "supervisor" }}

[[people]]
key = "dana"
name = "Dana Kim"
roles = {{ harbor = "lead" }}
"#,
        zone = ZONES[case.zone]
    );
    if let Some((from, len)) = case.maria_away {
        let from = base() + Duration::minutes(from * 5);
        let until = from + Duration::minutes(len * 5);
        text.push_str(&format!(
            "\n[[absences]]\nperson = \"maria\"\nfrom = \"{}\"\nuntil = \"{}\"\nreason = \"leave\"\n",
            from.to_rfc3339(),
            until.to_rfc3339()
        ));
    }
    text.push_str(&format!(
        r#"
[[routines]]
key = "fridge"
site = "harbor"
title = "Fridge temperatures"
owner = "maria"
backup = "sam"
{cadence}
start = "2026-01-01T06:00"
window = {{ opens_before = "{opens}m", grace = "{grace}m", closes_after = "{closes}m" }}
repeat_failure = {{ missed = {missed}, of_last = {of_last} }}

[[routines.steps]]
key = "done"
title = "Done"
kind = "check"
"#,
        cadence = CADENCES[case.cadence],
        opens = case.opens_before,
        grace = case.grace,
        closes = case.grace + case.closes_extra,
        missed = case.missed,
        of_last = case.of_last,
    ));
    let mut after = 0;
    for &(step, notify, every) in &case.levels {
        after += step;
        text.push_str(&format!(
            "\n[[routines.escalation]]\nafter = \"{after}m\"\nnotify = [{}]\n",
            NOTIFY[notify]
        ));
        if let Some(every) = every {
            text.push_str(&format!("renotify_every = \"{every}m\"\n"));
        }
        after += 1;
    }
    parse_routines_file("props.toml", &text).expect("the generated file parses")
}

/// What a notice is, without its words (which name times relative to the instant).
fn keys(notices: &[Notice]) -> Vec<(Uuid, String, String)> {
    notices
        .iter()
        .map(|n| (n.id, n.recipient.to_string(), format!("{:?}", n.kind)))
        .collect()
}

fn history_of(org: &Org, case: &Case, now: DateTime<Utc>) -> History {
    let routine = &org.routines[0];
    let site = &org.sites[0];
    let due: Vec<_> = occurrences(
        routine,
        site,
        &History::default(),
        now - Duration::days(3),
        now + Duration::days(1),
        now,
    )
    .expect("the cadence expands");
    let mut history = History::default();
    let maria = person_id("maria");
    let sam = person_id("sam");
    for (n, &(index, minutes, kind)) in case.events.iter().enumerate() {
        let Some(occurrence) = (!due.is_empty()).then(|| &due[index % due.len()]) else {
            continue;
        };
        let at = occurrence.due + Duration::minutes(minutes);
        let id = EventId(Uuid::from_u128(n as u128 + 1));
        match kind {
            0 | 1 => history.completions.push(Completion {
                id,
                occurrence: occurrence.id,
                due: occurrence.due,
                routine: routine.id,
                routine_version: routine.version,
                by: maria,
                at,
                results: if kind == 0 {
                    vec![StepResult {
                        step: "done".into(),
                        answer: StepAnswer::Checked,
                    }]
                } else {
                    Vec::new()
                },
                note: None,
            }),
            2 => history.excuses.push(Excuse {
                id,
                occurrence: occurrence.id,
                routine: routine.id,
                due: occurrence.due,
                by: sam,
                at,
                reason: "closed for a delivery".into(),
            }),
            level => history.acknowledgements.push(Acknowledgement {
                id,
                escalation: escalation_id(occurrence.id, usize::from(level - 2)),
                by: sam,
                at,
            }),
        }
    }
    history
}

/// Acknowledgements by the escalation they acknowledge.
type Acks = HashMap<EscalationId, Vec<Acknowledgement>>;

/// The case's org, evaluation instant, history, and acknowledgements by escalation.
fn scenario(case: &Case) -> (Org, DateTime<Utc>, History, Acks) {
    let org = org_of(case);
    let now = base() + Duration::seconds(case.now.0) + Duration::nanoseconds(i64::from(case.now.1));
    let history = history_of(&org, case, now);
    let mut acks = Acks::new();
    for a in &history.acknowledgements {
        acks.entry(a.escalation).or_default().push(a.clone());
    }
    (org, now, history, acks)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    /// The id written without a format string is the contract's formula.
    #[test]
    fn occurrence_ids_follow_the_formula(secs in -70_000_000_000i64..300_000_000_000, nanos in 0u32..2_000_000_000) {
        let routine = proofline_core::model::RoutineId(Uuid::from_u128(42));
        if let Some(due) = DateTime::<Utc>::from_timestamp(secs, nanos) {
            let name = due.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            prop_assert_eq!(
                proofline_core::occurrence::occurrence_id(routine, due).0,
                Uuid::new_v5(&routine.0, name.as_bytes())
            );
        }
    }

    #[test]
    fn notices_hold_until_next_change(case in case()) {
        let (org, now, history, acks) = scenario(&case);
        let routine = &org.routines[0];
        let events = RoutineEvents {
            completions: &history.completions,
            excuses: &history.excuses,
            acknowledgements: &acks,
        };
        let at_now = routine_notices_where(&org, routine, events, now, &nothing_settled, &mut |_| true);
        // The per-routine entry point lists what the whole-history one does.
        let whole = notices_where(&org, &history, None, now, &mut |_| true);
        prop_assert_eq!(&at_now.notices, &whole);
        prop_assert_eq!(at_now.due, whole.len());
        let next = at_now.next_change;
        prop_assert!(next.is_some_and(|n| n > now && n <= now + Duration::days(1)),
            "next change {:?} at {}", next, now);
        let next = next.unwrap_or(now);
        let gap = (next - now).num_nanoseconds().unwrap_or(i64::MAX);
        let mut probes: Vec<DateTime<Utc>> = case
            .probes
            .iter()
            .map(|f| now + Duration::nanoseconds((gap as f64 * f) as i64))
            .collect();
        probes.push(now + Duration::nanoseconds(1));
        probes.push(next - Duration::nanoseconds(1));
        for t in probes.into_iter().filter(|&t| now <= t && t < next) {
            let later = routine_notices_where(&org, routine, events, t, &nothing_settled, &mut |_| true);
            prop_assert_eq!(keys(&later.notices), keys(&at_now.notices),
                "at {} (evaluated at {}, next change {})", t, now, next);
        }
    }

    /// Evaluated again at `t` before the shared next change, with every occurrence whose
    /// own next change is still ahead settled: the notices of the evaluated occurrences
    /// and those the settled ones had at `now` are what evaluating everything at `t`
    /// gives, and so is the count of due notices.
    #[test]
    fn settled_occurrences_keep_their_notices(case in case()) {
        let (org, now, history, acks) = scenario(&case);
        let routine = &org.routines[0];
        let events = RoutineEvents {
            completions: &history.completions,
            excuses: &history.excuses,
            acknowledgements: &acks,
        };
        let first = routine_notices_where(&org, routine, events, now, &nothing_settled, &mut |_| true);
        prop_assert_eq!(first.next_change,
            first.occurrences.iter().filter_map(|o| o.next_change).chain(first.shared_change).min());
        let shared = first.shared_change.unwrap_or(now + Duration::days(1));
        let gap = (shared - now).num_nanoseconds().unwrap_or(i64::MAX);
        let mut probes: Vec<DateTime<Utc>> = case
            .probes
            .iter()
            .map(|f| now + Duration::nanoseconds((gap as f64 * f) as i64))
            .collect();
        probes.push(shared - Duration::nanoseconds(1));
        if let Some(next) = first.next_change {
            probes.push(next);
        }
        let due_then: HashMap<OccurrenceId, usize> = first
            .occurrences
            .iter()
            .map(|o| (o.occurrence, o.due))
            .collect();
        for t in probes.into_iter().filter(|&t| now < t && t < shared) {
            let settled_ids: HashSet<OccurrenceId> = first
                .occurrences
                .iter()
                .filter(|o| o.next_change.is_none_or(|at| at > t))
                .map(|o| o.occurrence)
                .collect();
            let settled = |o: OccurrenceId| settled_ids.contains(&o);
            let partial = routine_notices_where(&org, routine, events, t, &settled, &mut |_| true);
            let whole = routine_notices_where(&org, routine, events, t, &nothing_settled, &mut |_| true);
            let mut expected = keys(&whole.notices);
            expected.sort();
            let mut got = keys(&partial.notices);
            got.extend(keys(
                &first
                    .notices
                    .iter()
                    .filter(|n| n.occurrence.is_some_and(|o| settled_ids.contains(&o)))
                    .cloned()
                    .collect::<Vec<_>>(),
            ));
            got.sort();
            prop_assert_eq!(got, expected, "at {} (evaluated at {}, shared change {})", t, now, shared);
            // Each occurrence is either evaluated again or settled, and its due count is
            // the one it has now or the one it had.
            prop_assert!(partial
                .occurrences
                .iter()
                .all(|o| !settled_ids.contains(&o.occurrence)));
            let evaluated: HashMap<OccurrenceId, usize> =
                partial.occurrences.iter().map(|o| (o.occurrence, o.due)).collect();
            for o in &whole.occurrences {
                let had = evaluated.get(&o.occurrence).copied().or_else(|| {
                    settled_ids
                        .contains(&o.occurrence)
                        .then(|| due_then.get(&o.occurrence).copied().unwrap_or(0))
                });
                prop_assert_eq!(had, Some(o.due), "occurrence due {} at {}", o.due_at, t);
            }
            let counted: usize = partial.repeat_failure_due
                + partial.occurrences.iter().map(|o| o.due).sum::<usize>()
                + settled_ids
                    .iter()
                    .map(|o| due_then.get(o).copied().unwrap_or(0))
                    .sum::<usize>();
            prop_assert_eq!(counted, whole.due, "due at {}", t);
            // What the caller keeps for the settled ones and what was evaluated give the
            // next change of a whole evaluation.
            let kept = first
                .occurrences
                .iter()
                .filter(|o| settled_ids.contains(&o.occurrence) && o.due_at >= partial.kept_from)
                .filter_map(|o| o.next_change);
            prop_assert_eq!(partial.next_change.into_iter().chain(kept).min(), whole.next_change);
        }
    }
}
