//! The dispatcher evaluates a routine again only when something its notices depend on
//! changed (its events, acknowledgements of its levels, definitions and absences, a
//! recipient's new device) or when the engine says time alone changes them. This checks
//! that it queues exactly what a fresh full evaluation would.
//!
//! Two servers get the same scripted days: completions (some without proof), excuses,
//! acknowledgements, absences, push tokens registered and removed, ticks at irregular
//! instants. One ticks incrementally throughout; the other is restarted on its data dir
//! before every tick, so each of its ticks evaluates every routine from the log and the
//! outbox (a fresh dispatcher). After every tick both report the same notices due, rows
//! queued, unreachable notices and levels fired; at the end both outboxes hold the same
//! rows, words and queue times included.
//!
//! The same comparison with the incremental server evaluating its routines on several threads
//! at every tick checks the parallel evaluation of a busy tick against one thread.

mod common;

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use common::{ADMIN_TOKEN, TestDevice, at};
use proofline_core::escalation::escalation_id;
use proofline_core::model::{
    Absence, Acknowledgement, Completion, Excuse, History, Org, StepAnswer, StepResult,
};
use proofline_core::occurrence::occurrences;
use proofline_core::routines_file::{parse_routines_file, site_id};
use proofline_core::store::{EventPayload, GENESIS_HASH, new_event_id};
use proofline_core::sync::protocol::{EnrollResponse, PushOutcome, PushRequest, PushTokenRequest};
use proofline_server::dispatch::settings::WebhookSettings;
use proofline_server::dispatch::{DispatchSettings, TickReport};
use proofline_server::{Config, RunningServer, start};
use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::{Value, json};

const ORG: &str = r#"
org = "Harbor Group"

[[sites]]
key = "harbor"
name = "Harbor Kitchen"
time_zone = "America/New_York"

[[sites]]
key = "bay"
name = "Bay Deli"
time_zone = "Europe/Berlin"

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
roles = { harbor = "lead", bay = "lead" }

[[people]]
key = "lee"
name = "Lee Park"
roles = { bay = "staff" }

[[people]]
key = "kim"
name = "Kim Olsen"
roles = { bay = "supervisor" }

[[routines]]
key = "fridge"
site = "harbor"
title = "Fridge temperatures"
owner = "maria"
backup = "sam"
rrule = "FREQ=HOURLY;INTERVAL=2"
start = "2026-01-01T06:00"
window = { opens_before = "30m", grace = "15m", closes_after = "90m" }
repeat_failure = { missed = 2, of_last = 3 }

[[routines.steps]]
key = "done"
title = "Checked"
kind = "check"

[[routines.escalation]]
after = "0m"
notify = ["assignee"]

[[routines.escalation]]
after = "15m"
notify = ["role:supervisor"]
renotify_every = "20m"

[[routines.escalation]]
after = "1h"
notify = ["role:lead"]

[[routines]]
key = "opening"
site = "harbor"
title = "Opening checks"
owner = "maria"
rrule = "FREQ=DAILY;BYHOUR=7;BYMINUTE=0"
start = "2026-01-01T07:00"
window = { opens_before = "1h", grace = "30m", closes_after = "4h" }

[[routines.steps]]
key = "done"
title = "Checked"
kind = "check"

[[routines.escalation]]
after = "0m"
notify = ["assignee"]

[[routines.escalation]]
after = "30m"
notify = ["sam", "role:lead"]

[[routines]]
key = "line"
site = "bay"
title = "Line check"
owner = "lee"
backup = "kim"
rrule = "FREQ=MINUTELY;INTERVAL=45"
start = "2026-01-01T06:00"
window = { opens_before = "10m", grace = "10m", closes_after = "40m" }
repeat_failure = { missed = 1, of_last = 2 }

[[routines.steps]]
key = "done"
title = "Checked"
kind = "check"

[[routines.escalation]]
after = "0m"
notify = ["assignee"]

[[routines.escalation]]
after = "10m"
notify = ["role:supervisor"]
renotify_every = "15m"
"#;

const PEOPLE: [&str; 5] = ["maria", "sam", "dana", "lee", "kim"];

/// A small deterministic generator (xorshift64*), so a failing seed replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// The servers' configuration; `parallel_from`: from how many routines to evaluate a
/// tick evaluates them on several threads.
fn config(dir: &std::path::Path, parallel_from: usize) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        admin_token: Some(ADMIN_TOKEN.into()),
        dispatch: DispatchSettings {
            tick: None,
            webhook: Some(WebhookSettings {
                url: "http://127.0.0.1:9/chat".into(),
                secret: "secret".into(),
            }),
            parallel_from,
            ..DispatchSettings::default()
        },
        ..Config::new(dir)
    }
}

/// One server and the devices of its people (in [`PEOPLE`] order).
struct Server {
    server: Option<RunningServer>,
    dir: tempfile::TempDir,
    /// [`DispatchSettings::parallel_from`].
    parallel_from: usize,
    client: Client,
    devices: Vec<TestDevice>,
}

impl Server {
    /// A server that evaluates routines on one thread (the fixture has three).
    fn new() -> Server {
        Server::evaluating_in_parallel_from(DispatchSettings::default().parallel_from)
    }

    fn evaluating_in_parallel_from(parallel_from: usize) -> Server {
        Server::importing(ORG, parallel_from)
    }

    /// A server with the routines file `org` imported (naming the people of [`PEOPLE`]).
    fn importing(org: &'static str, parallel_from: usize) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let server = start(config(dir.path(), parallel_from)).expect("server starts");
        let mut s = Server {
            server: Some(server),
            dir,
            parallel_from,
            client: Client::new(),
            devices: Vec::new(),
        };
        let r = s
            .client
            .post(s.url("/v1/admin/import"))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", "application/toml")
            .body(org)
            .send()
            .expect("import");
        assert_eq!(r.status(), StatusCode::OK, "import");
        for person in PEOPLE {
            let device = s.enroll(person);
            s.devices.push(device);
        }
        s
    }

    fn running(&self) -> &RunningServer {
        self.server.as_ref().expect("running")
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running().base_url())
    }

    fn enroll(&self, person: &str) -> TestDevice {
        let r = self
            .client
            .post(self.url("/v1/admin/enrollment-codes"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({ "person": person }))
            .send()
            .expect("code");
        assert_eq!(r.status(), StatusCode::CREATED);
        let body: Value = r.json().expect("json");
        let code = body["code"].as_str().expect("code");
        let r = self
            .client
            .post(self.url("/v1/enroll"))
            .json(&json!({ "code": code, "platform": "cli" }))
            .send()
            .expect("enroll");
        assert_eq!(r.status(), StatusCode::OK);
        let e: EnrollResponse = r.json().expect("enroll response");
        TestDevice {
            token: e.token,
            device: e.device,
            person: e.person,
            seq: 0,
            prev_hash: GENESIS_HASH.to_string(),
        }
    }

    /// Pushes `payload` from `person`'s device; whether it was accepted.
    fn push(&mut self, person: usize, site: &str, at: DateTime<Utc>, payload: &Planned) -> bool {
        let device = &mut self.devices[person];
        let event = device.seal(payload.0, site_id(site), at, payload.1.clone());
        let r = self
            .client
            .post(self.url("/v1/sync/push"))
            .bearer_auth(&self.devices[person].token)
            .json(&PushRequest {
                events: vec![event],
                clock_offset_ms: Some(0),
            })
            .send()
            .expect("push");
        assert_eq!(r.status(), StatusCode::OK);
        let answer: proofline_core::sync::protocol::PushResponse = r.json().expect("answer");
        let accepted = matches!(answer.results[0].outcome, PushOutcome::Accepted { .. });
        if !accepted {
            // Not in the chain: the next event reuses the sequence number.
            let device = &mut self.devices[person];
            device.seq -= 1;
        }
        accepted
    }

    fn token(&self, person: usize, token: &str, register: bool) {
        let request = self
            .client
            .request(
                if register {
                    reqwest::Method::POST
                } else {
                    reqwest::Method::DELETE
                },
                self.url("/v1/push-token"),
            )
            .bearer_auth(&self.devices[person].token)
            .json(&PushTokenRequest {
                platform: "fcm".into(),
                token: token.into(),
            });
        assert_eq!(
            request.send().expect("push token").status(),
            StatusCode::NO_CONTENT
        );
    }

    fn restart(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().expect("stops");
        }
        self.server = Some(start(config(self.dir.path(), self.parallel_from)).expect("restarts"));
    }

    fn tick(&self, now: DateTime<Utc>) -> TickReport {
        self.running().dispatch_tick(now).expect("tick")
    }

    /// The outbox: (notice id, target, body, queued at), in order.
    fn outbox(&self) -> BTreeSet<(String, String, String, String)> {
        self.running()
            .notifications(None)
            .expect("outbox")
            .into_iter()
            .map(|n| {
                (
                    n.notice.id.to_string(),
                    n.target.key(),
                    serde_json::to_string(&n.notice).expect("json"),
                    n.queued_at.to_rfc3339(),
                )
            })
            .collect()
    }
}

/// An event to push to both servers: its id and payload.
type Planned = (proofline_core::model::EventId, EventPayload);

/// What the report says about notices (events read and routines evaluated differ by
/// design).
fn notices_of(r: TickReport) -> (usize, usize, usize, usize, usize) {
    (r.notices_due, r.queued, r.unreachable, r.fired, r.reminded)
}

/// Runs one scripted scenario on both servers; `incremental` is the one that ticks
/// throughout.
fn scenario(seed: u64, steps: usize, mut incremental: Server) {
    let org: Org = parse_routines_file("org.toml", ORG).expect("org");
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut fresh = Server::new();
    let mut now = at("2026-03-07T20:03:00Z");
    let mut tokens: Vec<(usize, String)> = Vec::new();
    let mut queued_any = false;
    let mut partly = false;
    for step in 0..steps {
        now += match rng.below(10) {
            0 => Duration::hours(3 + rng.below(6) as i64),
            1 => Duration::seconds(1 + rng.below(30) as i64),
            _ => Duration::minutes(1 + rng.below(40) as i64),
        };
        now += Duration::milliseconds(rng.below(1000) as i64);
        let mut payloads: Vec<(usize, &str, DateTime<Utc>, Planned)> = Vec::new();
        for _ in 0..rng.below(4) {
            let routine = &org.routines[rng.below(org.routines.len() as u64) as usize];
            let site = org.site(routine.site).expect("site");
            let due = occurrences(
                routine,
                site,
                &History::default(),
                now - Duration::hours(8),
                now + Duration::hours(1),
                now,
            )
            .expect("occurrences");
            let Some(occurrence) =
                (!due.is_empty()).then(|| &due[rng.below(due.len() as u64) as usize])
            else {
                continue;
            };
            let harbor = site.key == "harbor";
            let (owner, supervisor) = if harbor { (0, 1) } else { (3, 4) };
            // Some events carry a device time ahead of the tick that reads them.
            let when = now + Duration::minutes(rng.below(5) as i64 * 7)
                - Duration::minutes(rng.below(3) as i64 * 20);
            let id = new_event_id(when);
            let (person, payload) = match rng.below(5) {
                0 | 1 => (
                    owner,
                    EventPayload::Completed(Completion {
                        id,
                        occurrence: occurrence.id,
                        due: occurrence.due,
                        routine: routine.id,
                        routine_version: routine.version,
                        by: incremental.devices[owner].person,
                        at: when,
                        results: if rng.chance(80) {
                            vec![StepResult {
                                step: "done".into(),
                                answer: StepAnswer::Checked,
                            }]
                        } else {
                            Vec::new()
                        },
                        note: None,
                    }),
                ),
                2 => (
                    supervisor,
                    EventPayload::Excused(Excuse {
                        id,
                        occurrence: occurrence.id,
                        routine: routine.id,
                        due: occurrence.due,
                        by: incremental.devices[supervisor].person,
                        at: when,
                        reason: "delivery came late".into(),
                    }),
                ),
                3 => {
                    let by = if rng.chance(50) { supervisor } else { 2 };
                    let level = 1 + rng.below(routine.escalation.len() as u64) as usize;
                    (
                        by,
                        EventPayload::Acknowledged(Acknowledgement {
                            id,
                            escalation: escalation_id(occurrence.id, level),
                            by: incremental.devices[by].person,
                            at: when,
                        }),
                    )
                }
                _ => {
                    let away = owner;
                    let from = now - Duration::hours(rng.below(4) as i64);
                    (
                        supervisor,
                        EventPayload::AbsenceRecorded(Absence {
                            person: incremental.devices[away].person,
                            from,
                            until: from + Duration::hours(1 + rng.below(6) as i64),
                            reason: Some("sick".into()),
                        }),
                    )
                }
            };
            payloads.push((
                person,
                if harbor { "harbor" } else { "bay" },
                when,
                (id, payload),
            ));
        }
        for (person, site, when, planned) in &payloads {
            let a = incremental.push(*person, site, *when, planned);
            let b = fresh.push(*person, site, *when, planned);
            assert_eq!(a, b, "seed {seed} step {step}: both servers rule alike");
        }
        if rng.chance(25) {
            let person = rng.below(PEOPLE.len() as u64) as usize;
            let token = format!("fcm-{seed}-{step}");
            incremental.token(person, &token, true);
            fresh.token(person, &token, true);
            tokens.push((person, token));
        }
        if !tokens.is_empty() && rng.chance(8) {
            let (person, token) = tokens.remove(rng.below(tokens.len() as u64) as usize);
            incremental.token(person, &token, false);
            fresh.token(person, &token, false);
        }
        fresh.restart();
        let a = incremental.tick(now);
        let b = fresh.tick(now);
        assert_eq!(
            notices_of(a),
            notices_of(b),
            "seed {seed} step {step} at {now}: incremental {a:?}, fresh {b:?}"
        );
        queued_any |= a.queued > 0;
        // Some routine evaluated with some of its occurrences settled (the fresh server
        // evaluates every occurrence of every routine).
        partly |= a.evaluated > 0 && a.occurrences_evaluated < b.occurrences_evaluated;
        if rng.chance(20) {
            // The same instant again: nothing new.
            let again = incremental.tick(now);
            assert_eq!(
                (again.queued, again.fired),
                (0, 0),
                "seed {seed} step {step}"
            );
        }
    }
    assert!(queued_any, "seed {seed}: the scenario queued something");
    assert!(
        partly,
        "seed {seed}: some tick evaluated only some occurrences"
    );
    assert_eq!(
        incremental.outbox(),
        fresh.outbox(),
        "seed {seed}: both outboxes hold the same rows"
    );
}

#[test]
fn incremental_ticks_queue_what_a_fresh_full_evaluation_queues() {
    for seed in 1..=4 {
        scenario(seed, 45, Server::new());
    }
}

/// Routines evaluated on several threads (as when hundreds are due at once) queue what
/// one thread queues: here every tick evaluates in parallel, against a fresh server on
/// one thread.
#[test]
fn parallel_evaluation_queues_what_one_thread_queues() {
    for seed in 5..=6 {
        scenario(seed, 45, Server::evaluating_in_parallel_from(1));
    }
}

/// A chat channel hears of each level once (when it fires, or at the first tick that
/// finds it due); the re-notification rounds go to the recipients' phones only.
#[test]
fn the_webhook_hears_of_each_level_once_and_of_no_reminder() {
    use proofline_core::notify::NoticeKind;
    use proofline_server::storage::notifications::Target;

    let server = Server::new();
    // Sam (harbor's supervisor) and Kim (bay's) are re-notified every 20 and 15 minutes.
    server.token(1, "sam-phone", true);
    server.token(4, "kim-phone", true);
    let mut now = at("2026-03-07T10:01:00Z");
    for _ in 0..96 {
        server.tick(now);
        now += Duration::minutes(5);
    }
    let rows = server.running().notifications(None).expect("outbox");
    let mut levels_told = BTreeSet::new();
    let mut reminders_to_phones = 0;
    for row in &rows {
        match (&row.target, row.notice.kind) {
            (Target::Webhook, NoticeKind::Escalation { escalation, .. }) => {
                assert!(
                    levels_told.insert(escalation),
                    "the chat heard of a level twice: {}",
                    row.notice.body
                );
            }
            (Target::Push { .. }, NoticeKind::Escalation { round, .. }) if round > 0 => {
                reminders_to_phones += 1;
            }
            _ => {}
        }
    }
    // Every level that reached anyone was told to the chat.
    let fired: BTreeSet<_> = rows
        .iter()
        .filter_map(|row| match row.notice.kind {
            NoticeKind::Escalation { escalation, .. } => Some(escalation),
            NoticeKind::RepeatFailure { .. } => None,
        })
        .collect();
    assert_eq!(levels_told, fired);
    assert!(levels_told.len() > 20, "{} levels", levels_told.len());
    assert!(reminders_to_phones > 10, "{reminders_to_phones} reminders");
}

/// Re-notification rounds due to one person at one tick reach each of their phones as one
/// reminder: the round itself when there is one (see
/// `a_single_round_is_told_in_the_engines_words`), a digest of the oldest checks
/// otherwise, collapsed per person. A round told is not told again, by a later tick or
/// after a restart.
#[test]
fn the_rounds_due_to_a_person_at_once_are_one_reminder_told_once() {
    use std::collections::BTreeMap;

    use proofline_core::notify::NoticeKind;
    use proofline_server::storage::notifications::Target;

    let mut server = Server::new();
    // Sam (harbor's supervisor) is re-notified every 20 minutes of each undone fridge
    // check; the checks are two hours apart, so their rounds come due together.
    server.token(1, "sam-phone", true);
    let mut now = at("2026-03-07T10:01:00Z");
    let mut digests = 0;
    for step in 0..60 {
        if step == 30 {
            // Same instant again after a restart: what was told is not told again.
            server.restart();
            let again = server.tick(now - Duration::minutes(5));
            assert_eq!((again.queued, again.reminded), (0, 0), "{again:?}");
        }
        let before = server.running().notifications(None).expect("outbox").len();
        let report = server.tick(now);
        let rows = server.running().notifications(None).expect("outbox");
        let new = &rows[..rows.len() - before];
        let reminders: Vec<_> = new
            .iter()
            .filter(|r| {
                matches!(r.target, Target::Push { .. })
                    && (r.notice.collapse_key.starts_with("reminders-")
                        || matches!(r.notice.kind, NoticeKind::Escalation { round, .. } if round > 0))
            })
            .collect();
        assert!(reminders.len() <= 1, "one reminder a tick: {reminders:#?}");
        if step > 0 {
            // Nobody pushed anything: the levels the last tick recorded as fired are known
            // to it, not read back.
            assert_eq!(report.events_read, 0, "{report:?}");
        }
        assert_eq!(report.reminded, reminders.len(), "{report:?}");
        for reminder in reminders {
            if reminder.notice.collapse_key.starts_with("reminders-") {
                digests += 1;
                let n = &reminder.notice;
                assert!(
                    n.title.ends_with("checks still waiting (Harbor Kitchen)"),
                    "{}",
                    n.title
                );
                assert!(
                    n.body.starts_with("Not done and not acknowledged: Fridge temperatures (Harbor Kitchen), alerted "),
                    "{}",
                    n.body
                );
                assert_eq!(n.collapse_key, format!("reminders-{}", n.recipient.0));
            }
        }
        now += Duration::minutes(5);
    }
    assert!(digests >= 5, "{digests} digests");
    // Each row a reminder of rounds due later than the last one's: none told twice.
    let rows = server.running().notifications(None).expect("outbox");
    let mut last: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    for row in rows.iter().rev() {
        let round = matches!(row.notice.kind, NoticeKind::Escalation { round, .. } if round > 0);
        let phone = matches!(row.target, Target::Push { .. });
        if phone && (round || row.notice.collapse_key.starts_with("reminders-")) {
            let key = row.target.key();
            if let Some(&before) = last.get(&key) {
                assert!(row.notice.due_at > before, "{row:#?}");
            }
            last.insert(key, row.notice.due_at);
        }
    }
}

/// A person with one re-notifying check waiting is reminded of each of its rounds with the
/// round itself, word for word as the engine lists it (as their phone shows it offline),
/// also when the dispatcher knew the level before (its rounds then reach the reminder
/// unworded, and only a person's single round is worded) and after a restart.
#[test]
fn a_single_round_is_told_in_the_engines_words() {
    use proofline_core::notify::{NoticeKind, notices};
    use proofline_server::storage::notifications::Target;

    // ORG's sites, people and fridge check, but once a day from today on: one occurrence
    // waiting.
    static ONE_CHECK: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let second = ORG
            .match_indices("[[routines]]")
            .nth(1)
            .expect("two routines")
            .0;
        let every_two_hours = "rrule = \"FREQ=HOURLY;INTERVAL=2\"\nstart = \"2026-01-01T06:00\"";
        assert!(
            ORG[..second].contains(every_two_hours),
            "the fridge check's cadence"
        );
        ORG[..second].replace(
            every_two_hours,
            "rrule = \"FREQ=DAILY;BYHOUR=6;BYMINUTE=0\"\nstart = \"2026-03-07T06:00\"",
        )
    });
    let org = parse_routines_file("org.toml", &ONE_CHECK).expect("org");
    // Worded on the tick's thread, and (from one routine on) on several.
    for parallel_from in [DispatchSettings::default().parallel_from, 1] {
        let mut server = Server::importing(&ONE_CHECK, parallel_from);
        server.token(1, "sam-phone", true);
        // 06:00 New York is 11:00 UTC; level 2 fires at 11:15, rounds every 20 minutes.
        let mut now = at("2026-03-07T11:01:00Z");
        let mut told = Vec::new();
        for step in 0..36 {
            if step == 18 {
                server.restart();
            }
            let before = server.running().notifications(None).expect("outbox").len();
            server.tick(now);
            let rows = server.running().notifications(None).expect("outbox");
            for row in &rows[..rows.len() - before] {
                let round =
                    matches!(row.notice.kind, NoticeKind::Escalation { round, .. } if round > 0);
                if matches!(row.target, Target::Push { .. }) && round {
                    // Nothing is ever done: the engine's notices follow from the org alone.
                    let listed = notices(&org, &Default::default(), None, now);
                    assert!(
                        listed.contains(&row.notice),
                        "the engine's words at {now}: {:#?}",
                        row.notice
                    );
                    assert!(
                        row.notice.body.contains("escalated to you at"),
                        "{}",
                        row.notice.body
                    );
                    told.push(row.notice.due_at);
                }
            }
            now += Duration::minutes(5);
        }
        // 11:35, 11:55, … 13:55: every round once, in order.
        let expected: Vec<_> = (0..8)
            .map(|k| at("2026-03-07T11:35:00Z") + Duration::minutes(20 * k))
            .collect();
        assert_eq!(told, expected, "parallel from {parallel_from}");
    }
}
