//! A device's offline view of escalations against what the server's dispatcher computed:
//! the same alerts, word for word, for any routines and history; and once the device has
//! pulled the server's `escalation_fired` records, each escalation is marked confirmed.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{Harness, TestDevice, at};
use proofline_core::device::{Device, EnrollOptions};
use proofline_core::escalation::escalation_id;
use proofline_core::model::{Acknowledgement, Completion, Excuse, StepAnswer, StepResult};
use proofline_core::notify::{Notice, NoticeKind};
use proofline_core::occurrence::occurrence_id;
use proofline_core::routines_file::{routine_id, site_id};
use proofline_core::store::{EventPayload, new_event_id};
use proofline_core::sync::protocol::{PushOutcome, PushTokenRequest};
use proofline_server::storage::notifications::{PushPlatform, Target};
use proptest::prelude::*;

/// People of the generated site, by key, with their roles.
const PEOPLE: &str = r#"
[[people]]
key = "maria"
name = "Maria Lopez"
roles = { harbor = "staff" }

[[people]]
key = "sam"
name = "Sam Reed"
roles = { harbor = "supervisor" }

[[people]]
key = "dana"
name = "Dana Kim"
roles = { harbor = "lead" }
"#;

/// Who can be named in a level.
const NOTIFY: [&str; 4] = ["assignee", "role:supervisor", "role:lead", "sam"];

/// One generated routine: its cadence and chain.
#[derive(Debug, Clone)]
struct GenRoutine {
    every_min: u32,
    levels: Vec<(u32, usize, Option<u32>)>,
}

/// One generated action on an occurrence (by index from the latest due backwards).
#[derive(Debug, Clone)]
enum Action {
    Complete {
        routine: usize,
        back: usize,
        after_min: i64,
    },
    Excuse {
        routine: usize,
        back: usize,
        after_min: i64,
    },
    Ack {
        routine: usize,
        back: usize,
        level: usize,
        after_min: i64,
    },
}

fn routines_file(routines: &[GenRoutine]) -> String {
    let mut text = String::from(
        "org = \"Harbor Group\"\n\n[[sites]]\nkey = \"harbor\"\nname = \"Harbor Kitchen\"\n\
         time_zone = \"Asia/Tokyo\"\n",
    );
    text.push_str(PEOPLE);
    for (i, r) in routines.iter().enumerate() {
        text.push_str(&format!(
            "\n[[routines]]\nkey = \"r{i}\"\nsite = \"harbor\"\ntitle = \"Check {i}\"\n\
             owner = \"maria\"\nbackup = \"sam\"\n\
             rrule = \"FREQ=MINUTELY;INTERVAL={}\"\nstart = \"2026-03-01T00:00\"\n\
             window = {{ opens_before = \"10m\", grace = \"10m\", closes_after = \"2h\" }}\n\n\
             [[routines.steps]]\nkey = \"done\"\ntitle = \"Done\"\nkind = \"check\"\n",
            r.every_min
        ));
        for &(after, notify, renotify) in &r.levels {
            text.push_str(&format!(
                "\n[[routines.escalation]]\nafter = \"{after}m\"\nnotify = [\"{}\"]\n",
                NOTIFY[notify]
            ));
            if let Some(every) = renotify {
                text.push_str(&format!("renotify_every = \"{every}m\"\n"));
            }
        }
    }
    text
}

/// The due instants of routine `r` at or before `now`, latest first (the cadence is
/// every `every_min` minutes from 2026-03-01 00:00 in Tokyo, UTC+9 all year).
fn due_back(r: &GenRoutine, now: DateTime<Utc>, back: usize) -> DateTime<Utc> {
    let start = at("2026-02-28T15:00:00Z");
    let every = i64::from(r.every_min);
    let n = (now - start).num_minutes() / every;
    start + Duration::minutes((n - back as i64) * every)
}

fn accepted(harness: &Harness, device: &TestDevice, events: Vec<proofline_core::store::Event>) {
    if events.is_empty() {
        return;
    }
    let response = harness.push(device, &events);
    for r in &response.results {
        assert!(
            matches!(r.outcome, PushOutcome::Accepted { .. }),
            "{:?}",
            r.outcome
        );
    }
}

fn register(harness: &Harness, device: &TestDevice, token: &str) {
    let r = harness
        .client
        .post(harness.url("/v1/push-token"))
        .bearer_auth(&device.token)
        .json(&PushTokenRequest {
            platform: "fcm".into(),
            token: token.into(),
        })
        .send()
        .expect("register");
    assert_eq!(r.status(), reqwest::StatusCode::NO_CONTENT);
}

/// Sets up the site, plays `actions` (as Maria and Sam), ticks the server at `now`, and
/// checks each person's device computes the alerts the server queued for them.
fn same_alerts_on_device_and_server(routines: &[GenRoutine], actions: &[Action], now_min: i64) {
    let harness = Harness::empty();
    let file = routines_file(routines);
    let r = harness.admin_post_text("/v1/admin/import", &file);
    assert_eq!(
        r.status(),
        reqwest::StatusCode::OK,
        "import: {}\n{file}",
        r.text().unwrap_or_default()
    );
    let now = at("2026-03-10T15:00:00Z") + Duration::minutes(now_min);
    let harbor = site_id("harbor");
    let mut maria = harness.enroll("maria");
    let mut sam = harness.enroll("sam");
    let mut by_maria = Vec::new();
    let mut by_sam = Vec::new();
    for action in actions {
        match *action {
            Action::Complete {
                routine,
                back,
                after_min,
            } => {
                let due = due_back(&routines[routine], now, back);
                let at = (due + Duration::minutes(after_min)).min(now);
                let id = new_event_id(at);
                let routine_id = routine_id("harbor", &format!("r{routine}"));
                by_maria.push(maria.seal(
                    id,
                    harbor,
                    at,
                    EventPayload::Completed(Completion {
                        id,
                        occurrence: occurrence_id(routine_id, due),
                        due,
                        routine: routine_id,
                        routine_version: 1,
                        by: maria.person,
                        at,
                        results: vec![StepResult {
                            step: "done".into(),
                            answer: StepAnswer::Checked,
                        }],
                        note: None,
                    }),
                ));
            }
            Action::Excuse {
                routine,
                back,
                after_min,
            } => {
                let due = due_back(&routines[routine], now, back);
                let at = (due + Duration::minutes(after_min)).min(now);
                let id = new_event_id(at);
                let routine_id = routine_id("harbor", &format!("r{routine}"));
                by_sam.push(sam.seal(
                    id,
                    harbor,
                    at,
                    EventPayload::Excused(Excuse {
                        id,
                        occurrence: occurrence_id(routine_id, due),
                        routine: routine_id,
                        due,
                        by: sam.person,
                        at,
                        reason: "delivery late".into(),
                    }),
                ));
            }
            Action::Ack {
                routine,
                back,
                level,
                after_min,
            } => {
                let due = due_back(&routines[routine], now, back);
                let at = (due + Duration::minutes(after_min)).min(now);
                let id = new_event_id(at);
                let routine_id = routine_id("harbor", &format!("r{routine}"));
                by_sam.push(sam.seal(
                    id,
                    harbor,
                    at,
                    EventPayload::Acknowledged(Acknowledgement {
                        id,
                        escalation: escalation_id(occurrence_id(routine_id, due), level),
                        by: sam.person,
                        at,
                    }),
                ));
            }
        }
    }
    accepted(&harness, &maria, by_maria);
    accepted(&harness, &sam, by_sam);
    let dana = harness.enroll("dana");
    for (device, token) in [
        (&maria, "maria-phone"),
        (&sam, "sam-phone"),
        (&dana, "dana-phone"),
    ] {
        register(&harness, device, token);
    }

    // Each person's phone, enrolled and synced before the server ticks: offline view.
    let dirs: Vec<_> = ["maria", "sam", "dana"]
        .iter()
        .map(|person| {
            let dir = tempfile::tempdir().expect("dir");
            let device = Device::enroll(
                dir.path(),
                &harness.server.base_url(),
                &harness.code_for(person),
                EnrollOptions::default(),
                now,
            )
            .expect("enroll");
            device
                .register_push_token("fcm", &format!("{person}-app"))
                .expect("the app registers its push token");
            (person.to_string(), dir, device)
        })
        .collect();
    let before: Vec<_> = dirs
        .iter()
        .map(|(_, _, d)| d.alerts(now).expect("alerts"))
        .collect();
    assert!(
        before.iter().flatten().all(|a| !a.confirmed_by_server),
        "nothing is confirmed before the server ticks"
    );

    harness.server.dispatch_tick(now).expect("tick");
    let outbox = harness.server.notifications(None).expect("outbox");
    for ((person, _, device), offline) in dirs.iter().zip(&before) {
        let me = common::person(person);
        let to = |token: String| {
            let target = Target::Push {
                platform: PushPlatform::Fcm,
                token,
            };
            let mut notices: Vec<_> = outbox
                .iter()
                .filter(|n| n.notice.recipient == me && n.target == target)
                .map(|n| n.notice.clone())
                .collect();
            notices.sort_by_key(|n| n.id);
            notices
        };
        let server = to(format!("{person}-phone"));
        assert_eq!(
            to(format!("{person}-app")),
            server,
            "the token the app registered through the device gets the same alerts"
        );
        let mut mine: Vec<_> = offline.iter().map(|a| a.notice.clone()).collect();
        mine.sort_by_key(|n| n.id);
        assert_eq!(
            sent_for(&mine),
            unworded_digests(server.clone()),
            "{person}'s device computes what the server queued (re-notification rounds \
             due together: one digest)"
        );
        // The digest's sentence itself is checked word for word in the reminders module.
        for digest in server
            .iter()
            .filter(|n| n.collapse_key.starts_with("reminders-"))
        {
            assert!(
                digest.body.starts_with("Not done and not acknowledged: ")
                    && digest.body.contains(" (Harbor Kitchen), alerted "),
                "{}",
                digest.body
            );
        }

        device.sync(now).expect("sync");
        let after = device.alerts(now).expect("alerts");
        assert_eq!(after.len(), mine.len());
        for alert in &after {
            let escalation = matches!(
                alert.notice.kind,
                proofline_core::notify::NoticeKind::Escalation { .. }
            );
            assert_eq!(
                alert.confirmed_by_server, escalation,
                "after a pull, every escalation the server fired is confirmed: {alert:?}"
            );
        }
    }
}

/// What the server sends for `alerts` (a person's, sorted by id), as the dispatcher's
/// reminders module says: every alert word for word, except that several re-notification
/// rounds due at once become one digest, checked here for what it stands in for: the
/// oldest round's level, "N checks still waiting" with N the checks reminded of, named
/// and collapsed per person, due with the latest round (its sentence left out: see
/// [`unworded_digests`]).
fn sent_for(alerts: &[Notice]) -> Vec<Notice> {
    let (rounds, mut sent): (Vec<Notice>, Vec<Notice>) = alerts
        .iter()
        .cloned()
        .partition(|n| matches!(n.kind, NoticeKind::Escalation { round, .. } if round > 0));
    if rounds.len() == 1 {
        sent.extend(rounds);
    } else if let Some(latest) = rounds.iter().map(|n| n.due_at).max() {
        let oldest = rounds
            .iter()
            .min_by_key(|n| match n.kind {
                NoticeKind::Escalation { fired_at, .. } => (fired_at, n.id),
                NoticeKind::RepeatFailure { .. } => (n.due_at, n.id),
            })
            .expect("rounds");
        let mut checks: Vec<_> = rounds.iter().map(|n| n.occurrence).collect();
        checks.sort();
        checks.dedup();
        let person = oldest.recipient;
        sent.push(Notice {
            id: proofline_core::ids::uuid_v5(
                &person.0,
                format!("reminders:through:{}", latest.timestamp_micros()).as_bytes(),
            ),
            due_at: latest,
            collapse_key: format!("reminders-{}", person.0),
            title: format!("{} checks still waiting (Harbor Kitchen)", checks.len()),
            body: String::new(),
            ..oldest.clone()
        });
    }
    sent.sort_by_key(|n| n.id);
    sent
}

/// `notices` with the sentences of digests left out.
fn unworded_digests(mut notices: Vec<Notice>) -> Vec<Notice> {
    for n in &mut notices {
        if n.collapse_key.starts_with("reminders-") {
            n.body.clear();
        }
    }
    notices
}

fn gen_routine() -> impl Strategy<Value = GenRoutine> {
    (
        prop::sample::select(vec![15u32, 30, 60, 240]),
        prop::collection::vec(
            (
                0u32..120,
                0usize..NOTIFY.len(),
                prop::option::weighted(0.3, 10u32..60),
            ),
            1..=3,
        ),
    )
        .prop_map(|(every_min, mut levels)| {
            // Levels must fire in strictly increasing order.
            levels.sort_by_key(|l| l.0);
            levels.dedup_by_key(|l| l.0);
            GenRoutine { every_min, levels }
        })
}

fn gen_action(routines: usize) -> impl Strategy<Value = Action> {
    let r = 0..routines;
    prop_oneof![
        (r.clone(), 0usize..6, 0i64..150).prop_map(|(routine, back, after_min)| {
            Action::Complete {
                routine,
                back,
                after_min,
            }
        }),
        (r.clone(), 0usize..6, 0i64..150).prop_map(|(routine, back, after_min)| {
            Action::Excuse {
                routine,
                back,
                after_min,
            }
        }),
        (r, 0usize..6, 1usize..=3, 0i64..150).prop_map(|(routine, back, level, after_min)| {
            Action::Ack {
                routine,
                back,
                level,
                after_min,
            }
        }),
    ]
}

fn gen_case() -> impl Strategy<Value = (Vec<GenRoutine>, Vec<Action>, i64)> {
    prop::collection::vec(gen_routine(), 1..=3).prop_flat_map(|routines| {
        let n = routines.len();
        (
            Just(routines),
            prop::collection::vec(gen_action(n), 0..12),
            0i64..(24 * 60),
        )
    })
}

proptest! {
    // Each case starts a server and three devices: a few dozen cases are plenty.
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn a_devices_offline_alerts_equal_what_the_server_dispatched(
        (routines, actions, now_min) in gen_case()
    ) {
        same_alerts_on_device_and_server(&routines, &actions, now_min);
    }
}

#[test]
fn an_acknowledged_supervisor_level_and_an_overdue_check_on_a_fixed_history() {
    let routines = [GenRoutine {
        every_min: 60,
        levels: vec![(0, 0, None), (15, 1, Some(20)), (60, 2, None)],
    }];
    let actions = [
        Action::Complete {
            routine: 0,
            back: 3,
            after_min: 5,
        },
        Action::Ack {
            routine: 0,
            back: 1,
            level: 2,
            after_min: 17,
        },
        Action::Excuse {
            routine: 0,
            back: 2,
            after_min: 30,
        },
    ];
    same_alerts_on_device_and_server(&routines, &actions, 50);
}
