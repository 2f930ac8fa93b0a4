//! The escalation chain end to end with a scripted clock: the server's dispatcher (driven
//! tick by tick at chosen instants) queues alerts from the events devices pushed, and
//! delivers them to a stub APNs on loopback that records every request.
//!
//! Chain of the test routine: the owner at due, the supervisor at +15 min, the lead at
//! +60 min.

mod common;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use common::{ADMIN_TOKEN, Harness, TestDevice, at};
use proofline_core::escalation::escalation_id;
use proofline_core::model::{Acknowledgement, Completion, OccurrenceId, StepAnswer, StepResult};
use proofline_core::occurrence::occurrence_id;
use proofline_core::routines_file::{routine_id, site_id};
use proofline_core::store::{EventPayload, new_event_id};
use proofline_core::sync::protocol::{PushOutcome, PushTokenRequest};
use proofline_server::dispatch::DispatchSettings;
use proofline_server::dispatch::settings::ApnsSettings;
use proofline_server::storage::notifications::DeliveryState;

const SITE: &str = r#"
org = "Harbor Group"

[[sites]]
key = "harbor"
name = "Harbor Kitchen"
time_zone = "America/New_York"

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

[[routines]]
key = "fridge"
site = "harbor"
title = "Fridge temperatures"
owner = "maria"
rrule = "FREQ=DAILY;BYHOUR=10;BYMINUTE=0"
start = "2026-01-01T10:00"
window = { opens_before = "30m", grace = "15m", closes_after = "3h" }

[[routines.steps]]
key = "walk-in"
title = "Walk-in cooler"
kind = "reading"
unit = "°C"
min = 1
max = 5

[[routines.escalation]]
after = "0m"
notify = ["assignee"]

[[routines.escalation]]
after = "15m"
notify = ["role:supervisor"]

[[routines.escalation]]
after = "1h"
notify = ["role:lead"]
"#;

/// One request the stub APNs received.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    apns_id: String,
    collapse_id: String,
    body: serde_json::Value,
}

/// A stub APNs on loopback (HTTP/2 cleartext) answering 200 to every request.
struct StubApns {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StubApns {
    fn start() -> StubApns {
        let received = Arc::new(Mutex::new(Vec::new()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let recorded = Arc::clone(&received);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                ready_tx
                    .send(listener.local_addr().expect("addr"))
                    .expect("ready");
                let app = Router::new().fallback(record).with_state(recorded);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .expect("stub serves");
            });
        });
        let addr = ready_rx.recv().expect("stub ready");
        StubApns {
            url: format!("http://{addr}"),
            received,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    /// Requests for `person`'s phone about `occurrence`.
    fn to(&self, person: &str, occurrence: OccurrenceId) -> Vec<Received> {
        let path = format!("/3/device/{}", token(person));
        self.received()
            .into_iter()
            .filter(|r| r.path == path && r.collapse_id == occurrence.to_string())
            .collect()
    }
}

impl Drop for StubApns {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn record(State(log): State<Arc<Mutex<Vec<Received>>>>, request: Request) -> StatusCode {
    let (parts, body) = request.into_parts();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (path, apns_id, collapse_id) = (
        parts.uri.path().to_string(),
        header("apns-id"),
        header("apns-collapse-id"),
    );
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    log.lock().expect("lock").push(Received {
        path,
        apns_id,
        collapse_id,
        body: serde_json::from_slice(&bytes).unwrap_or_default(),
    });
    StatusCode::OK
}

/// The server with the site imported, dispatching to `apns` only when driven.
fn harness(apns: &StubApns) -> Harness {
    let key_file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("push/tests/fixtures/AuthKey_TESTKEY01.p8");
    let harness = Harness::empty_with(DispatchSettings {
        tick: None,
        apns: Some(ApnsSettings {
            endpoint: apns.url.clone(),
            key_file,
            key_id: "TESTKEY01".into(),
            team_id: "TEAMID1234".into(),
            topic: "app.proofline.ios".into(),
        }),
        ..DispatchSettings::default()
    });
    let r = harness.admin_post_text("/v1/admin/import", SITE);
    assert_eq!(r.status(), reqwest::StatusCode::OK, "import");
    harness
}

/// The APNs device token of `person`'s phone (hex, as APNs tokens are).
fn token(person: &str) -> String {
    hex::encode(format!("phone of {person}"))
}

/// Enrolls `person` and registers the APNs token [`token`].
fn phone(harness: &Harness, person: &str) -> TestDevice {
    let device = harness.enroll(person);
    let r = harness
        .client
        .post(harness.url("/v1/push-token"))
        .bearer_auth(&device.token)
        .json(&PushTokenRequest {
            platform: "apns".into(),
            token: token(person),
        })
        .send()
        .expect("register");
    assert_eq!(r.status(), reqwest::StatusCode::NO_CONTENT);
    device
}

/// Ticks and delivers at each of `minutes` after `due`.
fn run_clock(harness: &Harness, due: DateTime<Utc>, minutes: &[i64]) {
    for &m in minutes {
        let now = due + Duration::minutes(m);
        harness.server.dispatch_tick(now).expect("tick");
        let report = harness.server.deliver_due(now).expect("deliver");
        let dead = harness
            .server
            .notifications(Some(DeliveryState::Dead))
            .expect("dead letters");
        assert_eq!(report.dead, 0, "no dead letter at +{m} min: {dead:#?}");
    }
}

fn accepted(harness: &Harness, device: &TestDevice, event: proofline_core::store::Event) {
    let response = harness.push(device, &[event]);
    assert!(
        matches!(response.results[0].outcome, PushOutcome::Accepted { .. }),
        "{:?}",
        response.results[0].outcome
    );
}

#[test]
fn each_level_fires_once_per_recipient_and_an_acknowledgement_does_not_stop_the_chain() {
    let apns = StubApns::start();
    let harness = harness(&apns);
    let _maria = phone(&harness, "maria");
    let mut sam = phone(&harness, "sam");
    let _dana = phone(&harness, "dana");
    let (fridge, harbor) = (routine_id("harbor", "fridge"), site_id("harbor"));
    let due = at("2026-03-10T14:00:00Z"); // 10:00 in New York (EDT)
    let occurrence = occurrence_id(fridge, due);

    run_clock(&harness, due, &[-10, 0, 1, 5, 14, 15]);
    // The supervisor acknowledges level 2 at +16.
    let ack_at = due + Duration::minutes(16);
    let id = new_event_id(ack_at);
    let ack = sam.seal(
        id,
        harbor,
        ack_at,
        EventPayload::Acknowledged(Acknowledgement {
            id,
            escalation: escalation_id(occurrence, 2),
            by: sam.person,
            at: ack_at,
        }),
    );
    accepted(&harness, &sam, ack);
    run_clock(&harness, due, &[16, 20, 45, 59, 60, 61, 90, 120]);

    let (to_maria, to_sam, to_dana) = (
        apns.to("maria", occurrence),
        apns.to("sam", occurrence),
        apns.to("dana", occurrence),
    );
    assert_eq!(
        to_maria.len(),
        1,
        "the owner hears once, at due: {to_maria:?}"
    );
    assert_eq!(
        to_sam.len(),
        1,
        "the supervisor hears once, at +15: {to_sam:?}"
    );
    assert_eq!(
        to_dana.len(),
        1,
        "the lead still hears at +60 despite the ack: {to_dana:?}"
    );
    for (received, level) in [(&to_maria[0], 1), (&to_sam[0], 2), (&to_dana[0], 3)] {
        assert_eq!(
            received.apns_id,
            escalation_id(occurrence, level).to_string()
        );
        assert_eq!(
            received.collapse_id,
            occurrence.to_string(),
            "one notification per check"
        );
        let body = received.body["aps"]["alert"]["body"]
            .as_str()
            .unwrap_or_default();
        assert!(
            body.contains("Fridge temperatures (Harbor Kitchen)"),
            "the alert names the check and the site: {body}"
        );
    }
    let to_dana_body = to_dana[0].body["aps"]["alert"]["body"]
        .as_str()
        .unwrap_or_default();
    assert!(
        to_dana_body.contains("1 h overdue") && to_dana_body.contains("(level 3)"),
        "the lead reads how late it is and which level reached them: {to_dana_body}"
    );
    let outbox: Vec<_> = harness
        .server
        .notifications(None)
        .expect("outbox")
        .into_iter()
        .filter(|n| n.notice.occurrence == Some(occurrence))
        .collect();
    assert_eq!(outbox.len(), 3);
    assert!(
        outbox
            .iter()
            .all(|n| n.state == DeliveryState::Sent && n.attempts == 1)
    );
    let _ = ADMIN_TOKEN;
}

#[test]
fn a_completion_ends_the_chain_before_the_lead_hears() {
    let apns = StubApns::start();
    let harness = harness(&apns);
    let mut maria = phone(&harness, "maria");
    let _sam = phone(&harness, "sam");
    let _dana = phone(&harness, "dana");
    let (fridge, harbor) = (routine_id("harbor", "fridge"), site_id("harbor"));
    let due = at("2026-03-11T14:00:00Z");
    let occurrence = occurrence_id(fridge, due);

    run_clock(&harness, due, &[0, 15, 19]);
    let done_at = due + Duration::minutes(20);
    let id = new_event_id(done_at);
    let completion = maria.seal(
        id,
        harbor,
        done_at,
        EventPayload::Completed(Completion {
            id,
            occurrence,
            due,
            routine: fridge,
            routine_version: 1,
            by: maria.person,
            at: done_at,
            results: vec![StepResult {
                step: "walk-in".into(),
                answer: StepAnswer::Reading {
                    value: 3.5,
                    corrective_action: None,
                },
            }],
            note: None,
        }),
    );
    accepted(&harness, &maria, completion);
    run_clock(&harness, due, &[20, 30, 60, 61, 120, 200]);

    assert_eq!(apns.to("maria", occurrence).len(), 1);
    assert_eq!(apns.to("sam", occurrence).len(), 1);
    assert!(
        apns.to("dana", occurrence).is_empty(),
        "a valid completion at +20 ends the chain: the lead is never alerted"
    );
    let about_it: Vec<_> = apns
        .received()
        .into_iter()
        .filter(|r| r.collapse_id == occurrence.to_string())
        .collect();
    assert_eq!(about_it.len(), 2, "{about_it:?}");
}
