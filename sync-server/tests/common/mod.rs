//! Shared test harness: a server started in-process on a free port with a two-site org
//! (Harbor Kitchen and Bay Café), devices enrolled through the real routes, and events
//! sealed the way a device seals them.

#![allow(dead_code)]

use chrono::{DateTime, Utc};
use proofline_core::model::{
    Completion, DeviceId, EventId, Excuse, PersonId, RoutineId, SiteId, StepAnswer, StepResult,
};
use proofline_core::occurrence::occurrence_id;
use proofline_core::routines_file::{person_id, routine_id, site_id};
use proofline_core::store::{Event, EventPayload, GENESIS_HASH, new_event_id};
use proofline_core::sync::protocol::{
    EnrollResponse, ErrorBody, PullResponse, PushOutcome, PushRequest, PushResponse,
};
use proofline_server::dispatch::DispatchSettings;
use proofline_server::{Config, RunningServer, start};
use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

pub const ADMIN_TOKEN: &str = "test-admin-token";

/// Two sites, a few people, three routines.
pub const TWO_SITES: &str = r#"
org = "Harbor Group"

[[sites]]
key = "harbor"
name = "Harbor Kitchen"
time_zone = "America/New_York"

[[sites]]
key = "bay"
name = "Bay Café"
time_zone = "Europe/Lisbon"

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

[[people]]
key = "bea"
name = "Bea Costa"
roles = { bay = "staff" }

[[routines]]
key = "opening"
site = "harbor"
title = "Opening checks"
owner = "maria"
backup = "sam"
rrule = "FREQ=DAILY;BYHOUR=7;BYMINUTE=0"
start = "2026-01-01T07:00"

[[routines.steps]]
key = "handwash"
title = "Hand-wash sinks stocked"
kind = "check"

[[routines]]
key = "fridge"
site = "harbor"
title = "Fridge temperatures"
owner = "maria"
rrule = "FREQ=DAILY;BYHOUR=10;BYMINUTE=0"
start = "2026-01-01T10:00"

[[routines.steps]]
key = "walk-in"
title = "Walk-in cooler"
kind = "reading"
unit = "°C"
min = 1
max = 5

[[routines]]
key = "closing"
site = "bay"
title = "Closing checks"
owner = "bea"
rrule = "FREQ=DAILY;BYHOUR=22;BYMINUTE=0"
start = "2026-01-01T22:00"

[[routines.steps]]
key = "lights"
title = "Lights off"
kind = "check"
"#;

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test instant")
        .with_timezone(&Utc)
}

pub fn harbor() -> SiteId {
    site_id("harbor")
}

pub fn bay() -> SiteId {
    site_id("bay")
}

pub fn opening() -> RoutineId {
    routine_id("harbor", "opening")
}

pub fn fridge() -> RoutineId {
    routine_id("harbor", "fridge")
}

pub fn closing() -> RoutineId {
    routine_id("bay", "closing")
}

/// 07:00 in New York on 2 March 2026 (EST).
pub fn opening_due() -> DateTime<Utc> {
    at("2026-03-02T12:00:00Z")
}

/// A running server with the two-site org imported.
pub struct Harness {
    pub server: RunningServer,
    pub client: Client,
    pub dir: tempfile::TempDir,
}

impl Harness {
    pub fn new() -> Harness {
        let harness = Harness::empty();
        let r = harness.admin_post_text("/v1/admin/import", TWO_SITES);
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "import: {}",
            r.text().unwrap_or_default()
        );
        harness
    }

    /// A server with nothing imported.
    pub fn empty() -> Harness {
        Harness::empty_with(DispatchSettings {
            tick: None,
            ..DispatchSettings::default()
        })
    }

    /// A server with nothing imported and this dispatcher.
    pub fn empty_with(dispatch: DispatchSettings) -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Config {
            listen: "127.0.0.1:0".parse().expect("addr"),
            admin_token: Some(ADMIN_TOKEN.into()),
            dispatch,
            ..Config::new(dir.path())
        };
        let server = start(config).expect("server starts");
        Harness {
            server,
            client: Client::new(),
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    pub fn admin_get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .expect("request")
    }

    pub fn admin_post(&self, path: &str, body: Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .json(&body)
            .send()
            .expect("request")
    }

    pub fn admin_post_text(&self, path: &str, body: &str) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", "application/toml")
            .body(body.to_string())
            .send()
            .expect("request")
    }

    /// A fresh code for a person (by key).
    pub fn code_for(&self, person: &str) -> String {
        let r = self.admin_post("/v1/admin/enrollment-codes", json!({ "person": person }));
        assert_eq!(r.status(), StatusCode::CREATED);
        let body: Value = r.json().expect("json");
        body["code"].as_str().expect("code").to_string()
    }

    /// Enrolls a device for a person (by key).
    pub fn enroll(&self, person: &str) -> TestDevice {
        let code = self.code_for(person);
        let r = self
            .client
            .post(self.url("/v1/enroll"))
            .json(&json!({ "code": code, "platform": "cli", "device_name": format!("{person}'s phone") }))
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

    pub fn push(&self, device: &TestDevice, events: &[Event]) -> PushResponse {
        let r = self.push_raw(device, events);
        assert_eq!(r.status(), StatusCode::OK);
        r.json().expect("push response")
    }

    pub fn push_raw(&self, device: &TestDevice, events: &[Event]) -> Response {
        self.client
            .post(self.url("/v1/sync/push"))
            .bearer_auth(&device.token)
            .json(&PushRequest {
                events: events.to_vec(),
                clock_offset_ms: Some(0),
            })
            .send()
            .expect("push")
    }

    pub fn pull(&self, device: &TestDevice, after: &str, limit: usize) -> PullResponse {
        let r = self
            .client
            .get(self.url(&format!("/v1/sync/pull?after={after}&limit={limit}")))
            .bearer_auth(&device.token)
            .send()
            .expect("pull");
        assert_eq!(r.status(), StatusCode::OK);
        r.json().expect("pull response")
    }

    /// Whether the server still answers (on a fresh connection: one the server closed
    /// after refusing a body unread cannot be reused).
    pub fn healthy(&self) -> bool {
        Client::new()
            .get(self.url("/healthz"))
            .send()
            .is_ok_and(|r| r.status() == StatusCode::OK && r.text().unwrap_or_default() == "ok")
    }
}

/// The error body of a response, checking its status.
pub fn error_of(r: Response, status: StatusCode) -> ErrorBody {
    assert_eq!(r.status(), status, "unexpected status");
    r.json().expect("an ErrorBody")
}

/// An enrolled device and its chain.
pub struct TestDevice {
    pub token: String,
    pub device: DeviceId,
    pub person: PersonId,
    pub seq: u64,
    pub prev_hash: String,
}

impl TestDevice {
    /// Seals the next event of this device's chain.
    pub fn seal(
        &mut self,
        id: EventId,
        site: SiteId,
        now: DateTime<Utc>,
        payload: EventPayload,
    ) -> Event {
        self.seq += 1;
        let event = Event::seal(
            id,
            site,
            self.person,
            self.device,
            self.seq,
            now,
            payload,
            self.prev_hash.clone(),
        )
        .expect("seal");
        self.prev_hash = event.hash.clone();
        event
    }

    /// A valid completion of the opening checks (version 1) due at `due`.
    pub fn complete_opening(&mut self, due: DateTime<Utc>) -> Event {
        self.complete_opening_version(due, 1)
    }

    /// A completion of the opening checks due at `due`, against `version`.
    pub fn complete_opening_version(&mut self, due: DateTime<Utc>, version: u32) -> Event {
        let now = due;
        let id = new_event_id(now);
        let c = Completion {
            id,
            occurrence: occurrence_id(opening(), due),
            due,
            routine: opening(),
            routine_version: version,
            by: self.person,
            at: now,
            results: vec![StepResult {
                step: "handwash".into(),
                answer: StepAnswer::Checked,
            }],
            note: None,
        };
        self.seal(id, harbor(), now, EventPayload::Completed(c))
    }

    /// An excuse of the opening checks due at `due`.
    pub fn excuse_opening(&mut self, due: DateTime<Utc>, reason: &str) -> Event {
        let id = new_event_id(due);
        let x = Excuse {
            id,
            occurrence: occurrence_id(opening(), due),
            routine: opening(),
            due,
            by: self.person,
            at: due,
            reason: reason.into(),
        };
        self.seal(id, harbor(), due, EventPayload::Excused(x))
    }
}

/// The person id of a key.
pub fn person(key: &str) -> PersonId {
    person_id(key)
}

/// The rejection code and reason of an outcome.
pub fn rejection(outcome: &PushOutcome) -> (String, String, Option<u64>) {
    match outcome {
        PushOutcome::Rejected {
            code,
            reason,
            expected_seq,
        } => (
            serde_json::to_value(code)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            reason.clone(),
            *expected_seq,
        ),
        other => panic!("expected a rejection, got {other:?}"),
    }
}
