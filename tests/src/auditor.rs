//! An auditor: a device enrolled through the protocol itself (a one-time code, a bearer
//! token) that never writes and pulls the whole log of its sites, to check what the server
//! holds — every event once, in one order — independently of any device's store.

use std::time::Duration;

use proofline_core::sync::protocol::{EnrollRequest, EnrollResponse, PullResponse, PulledEvent};
use reqwest::blocking::Client;

use crate::admin::AdminError;

/// A read-only protocol client.
#[derive(Debug, Clone)]
pub struct Auditor {
    base: String,
    token: String,
    http: Client,
    /// What the server answered to the enrollment.
    pub enrollment: EnrollResponse,
}

impl Auditor {
    /// Enrolls with `code` at the server at `base` (`http://ADDR`).
    pub fn enroll(base: &str, code: &str) -> Result<Auditor, AdminError> {
        let http = Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("a reqwest client builds");
        let base = base.trim_end_matches('/').to_string();
        let request = EnrollRequest {
            code: code.to_string(),
            platform: Some("cli".into()),
            device_name: Some("e2e auditor".into()),
        };
        let response = http
            .post(format!("{base}/v1/enroll"))
            .json(&request)
            .send()
            .map_err(|e| AdminError(format!("enroll: {e}")))?;
        let status = response.status();
        let body = response
            .text()
            .map_err(|e| AdminError(format!("enroll: {e}")))?;
        if !status.is_success() {
            return Err(AdminError(format!("enroll: {status}: {body}")));
        }
        let enrollment: EnrollResponse =
            serde_json::from_str(&body).map_err(|e| AdminError(format!("enroll: {e}: {body}")))?;
        Ok(Auditor {
            base,
            token: enrollment.token.clone(),
            http,
            enrollment,
        })
    }

    /// Points the auditor at another address (after a restart on a new port).
    pub fn set_base(&mut self, base: &str) {
        self.base = base.trim_end_matches('/').to_string();
    }

    /// Every event of the auditor's sites the server holds, from the start, in server
    /// order, following `next` while `more` (pages of `limit`).
    pub fn pull_all(&self, limit: usize) -> Result<Vec<PulledEvent>, AdminError> {
        let mut events = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..10_000 {
            let mut request = self
                .http
                .get(format!("{}/v1/sync/pull", self.base))
                .bearer_auth(&self.token)
                .query(&[("limit", limit.to_string())]);
            if let Some(cursor) = &after {
                request = request.query(&[("after", cursor)]);
            }
            let response = request
                .send()
                .map_err(|e| AdminError(format!("pull: {e}")))?;
            let status = response.status();
            let body = response
                .text()
                .map_err(|e| AdminError(format!("pull: {e}")))?;
            if !status.is_success() {
                return Err(AdminError(format!(
                    "pull after {after:?}: {status}: {body}"
                )));
            }
            let page: PullResponse = serde_json::from_str(&body)
                .map_err(|e| AdminError(format!("pull: decoding: {e}")))?;
            events.extend(page.events);
            if !page.more {
                return Ok(events);
            }
            if after.as_deref() == Some(page.next.as_str()) {
                return Err(AdminError(format!(
                    "pull: `more` with an unchanged cursor {:?}",
                    page.next
                )));
            }
            after = Some(page.next);
        }
        Err(AdminError("pull: more than 10 000 pages".into()))
    }
}
