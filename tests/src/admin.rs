//! The admin API client the tests use to set up a server and to read its view of the
//! world (docs/sync.md, "Admin API"): import a routines file, issue enrollment codes, read
//! statuses, compliance and attention as the server computes them, inspect blobs and
//! rejected events.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use proofline_core::attention::AttentionItem;
use proofline_core::notify::{Notice, NoticeKind};
use proofline_core::review::{ComplianceReport, OccurrenceStatus};
use reqwest::blocking::{Client, RequestBuilder};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// An admin request that failed: transport error, or an HTTP status with the body.
#[derive(Debug)]
pub struct AdminError(pub String);

impl std::fmt::Display for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AdminError {}

/// `POST /v1/admin/enrollment-codes` answer.
#[derive(Debug, Clone, Deserialize)]
pub struct EnrollmentCode {
    /// The one-time code, `XXXX-XXXX-XXXX`.
    pub code: String,
    /// The person it is for.
    pub person: Value,
    /// Their name.
    #[serde(default)]
    pub person_name: Option<String>,
    /// When it expires.
    #[serde(default)]
    pub expires_at: Option<Value>,
}

/// `GET /v1/admin/blobs/{sha256}` answer.
#[derive(Debug, Clone, Deserialize)]
pub struct BlobInfo {
    /// The blob's SHA-256.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
    /// `photo` or `thumbnail`.
    pub kind: String,
    /// For a thumbnail, the photo it previews.
    #[serde(default)]
    pub photo: Option<String>,
    /// The sites it was uploaded for.
    #[serde(default)]
    pub sites: Value,
    /// Whether the stored file hashes to its name (re-hashed on every request).
    pub verified: bool,
}

/// One entry of `GET /v1/admin/rejected`.
#[derive(Debug, Clone, Deserialize)]
pub struct RejectedRuling {
    /// The event.
    pub id: uuid::Uuid,
    /// Its device.
    pub device: uuid::Uuid,
    /// Its seq.
    pub seq: u64,
    /// The reject code.
    pub code: String,
    /// The reason.
    pub reason: String,
    /// When it was ruled on.
    #[serde(default)]
    pub at: Option<Value>,
}

/// One row of `GET /v1/admin/notifications`: a queued alert for one target.
#[derive(Debug, Clone, Deserialize)]
pub struct OutboxRow {
    /// The notice (its id is half the outbox key).
    pub notice: Notice,
    /// Where it goes (the other half): `{"kind":"webhook"}` or
    /// `{"kind":"push","platform":…,"token":…}`.
    pub target: Value,
    /// `pending`, `sent` or `dead`.
    pub state: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// Why the last attempt failed, if it did.
    #[serde(default)]
    pub last_error: Option<String>,
    /// When it was queued.
    pub queued_at: DateTime<Utc>,
    /// When it was delivered.
    #[serde(default)]
    pub sent_at: Option<DateTime<Utc>>,
    /// The recipient's name.
    #[serde(default)]
    pub recipient_name: Option<String>,
}

impl OutboxRow {
    /// Whether the row goes to the org's webhook.
    pub fn is_webhook(&self) -> bool {
        self.target.get("kind").and_then(Value::as_str) == Some("webhook")
    }

    /// What the webhook request for this row carries in `x-proofline-escalation-id` (the
    /// escalation level's id, or a repeat-failure streak's alert id), and the round (0 for
    /// repeat failures).
    pub fn escalation_key(&self) -> (uuid::Uuid, u32) {
        match self.notice.kind {
            NoticeKind::Escalation {
                escalation, round, ..
            } => (escalation.0, round),
            NoticeKind::RepeatFailure { alert } => (alert.0, 0),
        }
    }
}

/// A blocking client for the admin API of one server.
#[derive(Debug, Clone)]
pub struct AdminClient {
    base: String,
    token: String,
    http: Client,
}

impl AdminClient {
    /// A client for the server at `base` (`http://ADDR`) with the admin `token`.
    pub fn new(base: &str, token: &str) -> AdminClient {
        let http = Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("a reqwest client builds");
        AdminClient {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http,
        }
    }

    /// Points the client at another address (after a restart on a new port).
    pub fn set_base(&mut self, base: &str) {
        self.base = base.trim_end_matches('/').to_string();
    }

    /// `POST /v1/admin/import` with a routines file's text → the summary.
    pub fn import(&self, toml: &str) -> Result<Value, AdminError> {
        self.send(
            self.http
                .post(self.url("/v1/admin/import"))
                .header("content-type", "application/toml")
                .body(toml.to_string()),
        )
    }

    /// A one-time enrollment code for `person` (id or key).
    pub fn enrollment_code(&self, person: &str) -> Result<EnrollmentCode, AdminError> {
        self.send(
            self.http
                .post(self.url("/v1/admin/enrollment-codes"))
                .json(&serde_json::json!({ "person": person })),
        )
    }

    /// `GET /v1/admin/org`.
    pub fn org(&self) -> Result<Value, AdminError> {
        self.send(self.http.get(self.url("/v1/admin/org")))
    }

    /// `GET /v1/admin/devices`.
    pub fn devices(&self) -> Result<Value, AdminError> {
        self.send(self.http.get(self.url("/v1/admin/devices")))
    }

    /// The server's statuses of `site`'s occurrences due in `[from, until)` at `now`.
    pub fn statuses(
        &self,
        site: &str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<OccurrenceStatus>, AdminError> {
        self.send(
            self.http
                .get(self.url(&format!("/v1/admin/sites/{site}/statuses")))
                .query(&period(from, until, now)),
        )
    }

    /// The server's compliance report of `site` over `[from, until)` at `now`.
    pub fn compliance(
        &self,
        site: &str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<ComplianceReport, AdminError> {
        self.send(
            self.http
                .get(self.url(&format!("/v1/admin/sites/{site}/compliance")))
                .query(&period(from, until, now)),
        )
    }

    /// The server's attention feed of `person` at `now`.
    pub fn attention(
        &self,
        person: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<AttentionItem>, AdminError> {
        self.send(
            self.http
                .get(self.url(&format!("/v1/admin/people/{person}/attention")))
                .query(&[("now", rfc3339(now))]),
        )
    }

    /// What the server holds for a blob (`None` if it holds nothing).
    pub fn blob(&self, sha256: &str) -> Result<Option<BlobInfo>, AdminError> {
        let response = self
            .http
            .get(self.url(&format!("/v1/admin/blobs/{sha256}")))
            .bearer_auth(&self.token)
            .send()
            .map_err(|e| AdminError(format!("GET blob {sha256}: {e}")))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        decode(response).map(Some)
    }

    /// Every rejected event ruling.
    pub fn rejected(&self) -> Result<Vec<RejectedRuling>, AdminError> {
        self.send(self.http.get(self.url("/v1/admin/rejected")))
    }

    /// The notification outbox (`GET /v1/admin/notifications`), every row in `state`
    /// (`pending`, `sent`, `dead`; every state when `None`), newest first.
    pub fn notifications(&self, state: Option<&str>) -> Result<Vec<OutboxRow>, AdminError> {
        let mut query = vec![("limit", "1000000".to_string())];
        if let Some(state) = state {
            query.push(("state", state.to_string()));
        }
        self.send(
            self.http
                .get(self.url("/v1/admin/notifications"))
                .query(&query),
        )
    }

    /// `GET /healthz` answers `ok`.
    pub fn healthy(&self) -> bool {
        self.http
            .get(self.url("/healthz"))
            .timeout(Duration::from_secs(5))
            .send()
            .is_ok_and(|r| r.status().is_success())
    }

    /// `GET /metrics` as text.
    pub fn metrics(&self) -> Result<String, AdminError> {
        self.http
            .get(self.url("/metrics"))
            .send()
            .and_then(|r| r.text())
            .map_err(|e| AdminError(format!("GET /metrics: {e}")))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn send<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, AdminError> {
        let request = request.bearer_auth(&self.token);
        let described = format!("{request:?}");
        let response = request
            .send()
            .map_err(|e| AdminError(format!("{described}: {e}")))?;
        decode(response)
    }
}

fn decode<T: DeserializeOwned>(response: reqwest::blocking::Response) -> Result<T, AdminError> {
    let status = response.status();
    let url = response.url().to_string();
    let body = response
        .text()
        .map_err(|e| AdminError(format!("{url}: reading the body: {e}")))?;
    if !status.is_success() {
        return Err(AdminError(format!("{url}: {status}: {body}")));
    }
    serde_json::from_str(&body).map_err(|e| {
        let head: String = body.chars().take(600).collect();
        AdminError(format!("{url}: decoding {e}: {head}"))
    })
}

/// An instant as the admin API reads it (RFC 3339, `Z`).
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn period(
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> [(&'static str, String); 3] {
    [
        ("from", rfc3339(from)),
        ("until", rfc3339(until)),
        ("now", rfc3339(now)),
    ]
}
