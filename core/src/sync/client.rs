//! The device's HTTP client for the sync protocol (reqwest, blocking, rustls).
//!
//! One method per device route of [`crate::sync::protocol`]: enroll, push, pull, blob
//! upload (HEAD, then PUT or PATCH chunks resuming from the server's offset) and thumbnail
//! download. Every request has a connect timeout and an overall timeout; connection
//! failures, timeouts, 5xx and 429 answers are retried a few times with growing pauses
//! (every device route is idempotent by design; enrolling is retried only when the request
//! could not be sent, since a lost answer would have used the one-time code). Errors are
//! typed ([`SyncError`]) so the device can tell "offline, retry later" from "the token was
//! revoked" from "the server refused this".
//!
//! It owns no state beyond the connection pool and never touches the store: the device's
//! sync step decides what to send and records what comes back. Blocking: call it from a
//! plain thread, never from inside an async runtime.

use std::io::Read;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

use crate::model::SiteId;
use crate::proof::blob_store::is_sha256_hex;
use crate::store::BlobKind;
use crate::sync::protocol::{
    BlobReceipt, EnrollRequest, EnrollResponse, ErrorBody, HEADER_CAPTURED_AT, HEADER_HEIGHT,
    HEADER_KIND, HEADER_PHOTO, HEADER_SHA256, HEADER_SITE, HEADER_UPLOAD_LENGTH,
    HEADER_UPLOAD_OFFSET, HEADER_WIDTH, MAX_BLOB_BYTES, MAX_PULL_LIMIT, PullResponse, PushRequest,
    PushResponse, PushTokenRequest, UPLOAD_CHUNK_BYTES,
};

/// Largest JSON answer read (a full pull page of large completions fits many times).
const MAX_ANSWER_BYTES: u64 = 64 * 1024 * 1024;
/// Longest pause a 429's `Retry-After` may ask for before a retry.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);
/// How many times an upload restarts from the offset a 409 reports before giving up.
const MAX_OFFSET_RESTARTS: u32 = 3;

/// Why a request to the server did not give what was asked.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SyncError {
    /// The server address cannot be used.
    #[error("\"{url}\" is not a server address ({reason}); use e.g. https://sync.example.com")]
    InvalidUrl {
        /// What was given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The server could not be reached (no network, refused, timed out), even after
    /// retrying: nothing was lost, try again later.
    #[error("cannot reach the server at {url}: {detail}")]
    Offline {
        /// The server's base URL.
        url: String,
        /// What failed.
        detail: String,
    },
    /// The server kept failing (5xx or 429) after retries: try again later.
    #[error("the server at {url} is not working right now ({status}: {message})")]
    Unavailable {
        /// The server's base URL.
        url: String,
        /// The last HTTP status.
        status: u16,
        /// The server's message, if any.
        message: String,
    },
    /// The code or the device token was refused (401): enroll again.
    #[error("{message}")]
    Unauthorized {
        /// The server's code (`invalid_code`, `code_expired`, `code_used`,
        /// `unauthorized`).
        code: String,
        /// The server's sentence.
        message: String,
    },
    /// The server refused the request (4xx other than 401), with its reason.
    #[error("{message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The server's code (`forbidden`, `payload_too_large`, `hash_mismatch`…).
        code: String,
        /// The server's sentence.
        message: String,
    },
    /// The server's answer cannot be used (not the protocol, wrong length, damaged).
    #[error("the server's answer to {what} cannot be used: {detail}")]
    BadAnswer {
        /// What was asked.
        what: String,
        /// What is wrong with the answer.
        detail: String,
    },
    /// The HTTP client cannot be set up (TLS).
    #[error("the connection to the server cannot be set up: {0}")]
    Setup(String),
}

impl SyncError {
    /// Whether this means "could not talk to the server now" (offline, timing out, or the
    /// server failing): the rest of a sync would fail the same way.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            SyncError::Offline { .. } | SyncError::Unavailable { .. } | SyncError::Setup(_)
        )
    }
}

/// Timeouts and retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOptions {
    /// Longest wait for a connection.
    pub connect_timeout: Duration,
    /// Longest wait for a whole request and its answer.
    pub request_timeout: Duration,
    /// Retries after the first attempt (connection failures, timeouts, 5xx, 429).
    pub retries: u32,
    /// Pause before the first retry; doubled for each later one.
    pub backoff: Duration,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            retries: 3,
            backoff: Duration::from_millis(250),
        }
    }
}

/// Whether the server already holds a blob, or how much of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobPresence {
    /// Stored and verified.
    Stored,
    /// Not complete: the server holds this many bytes of it (0: none).
    Partial(u64),
}

/// A blob to upload and what the server needs to know about it.
#[derive(Debug, Clone, Copy)]
pub struct BlobUpload<'a> {
    /// Its SHA-256 (lowercase hex).
    pub sha256: &'a str,
    /// Its bytes.
    pub bytes: &'a [u8],
    /// Photo or thumbnail.
    pub kind: BlobKind,
    /// The site it is uploaded for.
    pub site: SiteId,
    /// For a thumbnail: the photo it previews.
    pub photo: Option<&'a str>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// When the photo was taken.
    pub captured_at: DateTime<Utc>,
}

/// How an upload went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadOutcome {
    /// Bytes sent in this call (0 when the server had it already).
    pub sent_bytes: u64,
    /// Whether the server had the whole blob before this call.
    pub already_stored: bool,
}

/// A downloaded blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Their SHA-256 as the server states it ([`HEADER_SHA256`]), if it did.
    pub sha256: Option<String>,
    /// Width in pixels, if the server said.
    pub width: Option<u32>,
    /// Height in pixels, if the server said.
    pub height: Option<u32>,
    /// When the photo was taken, if the server said.
    pub captured_at: Option<DateTime<Utc>>,
}

/// Whether a request may be sent again after a failure whose outcome is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Idempotent: retry connection failures, timeouts, 5xx and 429.
    Always,
    /// Retry only when the request could not be sent at all.
    ConnectOnly,
}

/// A blocking client for one server (and, once enrolled, one device token).
#[derive(Clone)]
pub struct SyncClient {
    base_url: String,
    token: Option<String>,
    http: Client,
    options: ClientOptions,
}

impl std::fmt::Debug for SyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncClient")
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .field("options", &self.options)
            .finish()
    }
}

/// `https://host:port/prefix` without a trailing slash, or why `url` cannot be a server
/// address.
pub fn normalise_base_url(url: &str) -> Result<String, SyncError> {
    let invalid = |reason: &str| SyncError::InvalidUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = url.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(trimmed).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("it must start with http:// or https://"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid("it must not have a query or a fragment"));
    }
    Ok(trimmed.to_string())
}

impl SyncClient {
    /// A client for the server at `base_url` (checked and normalised), sending `token` as
    /// the bearer token when given.
    pub fn new(
        base_url: &str,
        token: Option<&str>,
        options: ClientOptions,
    ) -> Result<SyncClient, SyncError> {
        let base_url = normalise_base_url(base_url)?;
        let http = Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .user_agent(concat!("proofline/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SyncError::Setup(error_chain(&e)))?;
        Ok(SyncClient {
            base_url,
            token: token.map(str::to_string),
            http,
            options,
        })
    }

    /// The server's base URL, normalised.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `POST /v1/enroll`: exchanges a one-time code for a device token.
    pub fn enroll(&self, request: &EnrollRequest) -> Result<EnrollResponse, SyncError> {
        let what = "the enrollment";
        let response = self.send(what, Retry::ConnectOnly, || {
            self.http.post(self.url("/v1/enroll")).json(request)
        })?;
        self.json(what, response)
    }

    /// `POST /v1/sync/push`: one batch of pending events; one ruling per event.
    pub fn push(&self, request: &PushRequest) -> Result<PushResponse, SyncError> {
        let what = "a push";
        let response = self.send(what, Retry::Always, || {
            self.authorised(self.http.post(self.url("/v1/sync/push")))
                .json(request)
        })?;
        self.json(what, response)
    }

    /// `POST /v1/push-token`: registers this device's push token for escalation alerts.
    pub fn register_push_token(&self, request: &PushTokenRequest) -> Result<(), SyncError> {
        let what = "registering the push token";
        self.send(what, Retry::Always, || {
            self.authorised(self.http.post(self.url("/v1/push-token")))
                .json(request)
        })?;
        Ok(())
    }

    /// `GET /v1/sync/pull?after=C&limit=N`: the next page of the sites' events.
    pub fn pull(&self, after: Option<&str>, limit: usize) -> Result<PullResponse, SyncError> {
        let what = "a pull";
        let limit = limit.clamp(1, MAX_PULL_LIMIT).to_string();
        let response = self.send(what, Retry::Always, || {
            let mut query: Vec<(&str, &str)> = vec![("limit", limit.as_str())];
            if let Some(after) = after {
                query.push(("after", after));
            }
            self.authorised(self.http.get(self.url("/v1/sync/pull")))
                .query(&query)
        })?;
        self.json(what, response)
    }

    /// `HEAD /v1/blobs/{sha256}`: whether the server holds the blob, or how much of it.
    pub fn blob_presence(&self, sha256: &str) -> Result<BlobPresence, SyncError> {
        let what = format!("asking for blob {}", short(sha256));
        let path = blob_path(sha256, &what)?;
        let response = self.send(&what, Retry::Always, || {
            self.authorised(self.http.head(self.url(&path)))
        })?;
        match response.status() {
            s if s.is_success() => Ok(BlobPresence::Stored),
            StatusCode::NOT_FOUND => Ok(BlobPresence::Partial(
                upload_offset(response.headers()).unwrap_or(0),
            )),
            _ => Err(self.failure(&what, response)),
        }
    }

    /// Uploads a blob, resuming what the server already holds: `HEAD`, then one `PUT` for
    /// a small blob sent from the start, else `PATCH` chunks of [`UPLOAD_CHUNK_BYTES`] from
    /// the server's offset (a 409 reports the offset the server expects; the upload
    /// continues from there).
    pub fn upload_blob(&self, blob: &BlobUpload<'_>) -> Result<UploadOutcome, SyncError> {
        let what = format!("uploading {} {}", blob.kind.as_str(), short(blob.sha256));
        let path = blob_path(blob.sha256, &what)?;
        let total = blob.bytes.len() as u64;
        if total > MAX_BLOB_BYTES {
            return Err(SyncError::Refused {
                status: StatusCode::PAYLOAD_TOO_LARGE.as_u16(),
                code: "payload_too_large".to_string(),
                message: format!(
                    "{} {} is {total} bytes, more than the {MAX_BLOB_BYTES} bytes the server keeps",
                    blob.kind.as_str(),
                    short(blob.sha256)
                ),
            });
        }
        let mut offset = match self.blob_presence(blob.sha256)? {
            BlobPresence::Stored => {
                return Ok(UploadOutcome {
                    sent_bytes: 0,
                    already_stored: true,
                });
            }
            BlobPresence::Partial(offset) if offset <= total => offset,
            BlobPresence::Partial(_) => 0,
        };
        let mut sent = 0u64;
        if offset == 0 && blob.bytes.len() <= UPLOAD_CHUNK_BYTES {
            let response = self.send(&what, Retry::Always, || {
                self.blob_request(self.http.put(self.url(&path)), blob)
                    .body(blob.bytes.to_vec())
            })?;
            let receipt: BlobReceipt = self.json(&what, response)?;
            sent += total;
            return finish(&what, receipt, blob, sent);
        }
        let mut restarts = 0;
        loop {
            let start = usize::try_from(offset).unwrap_or(usize::MAX);
            let end = start
                .saturating_add(UPLOAD_CHUNK_BYTES)
                .min(blob.bytes.len());
            let Some(chunk) = blob.bytes.get(start..end) else {
                return Err(bad(&what, format!("the server asked for offset {offset}")));
            };
            let response = self.send(&what, Retry::Always, || {
                self.blob_request(self.http.patch(self.url(&path)), blob)
                    .header(HEADER_UPLOAD_OFFSET, offset.to_string())
                    .header(HEADER_UPLOAD_LENGTH, total.to_string())
                    .body(chunk.to_vec())
            })?;
            if response.status() == StatusCode::CONFLICT {
                let Some(expected) = upload_offset(response.headers()) else {
                    return Err(self.failure(&what, response));
                };
                restarts += 1;
                if restarts > MAX_OFFSET_RESTARTS || expected > total {
                    return Err(bad(
                        &what,
                        format!("the server keeps asking for offset {expected} of {total}"),
                    ));
                }
                offset = expected;
                continue;
            }
            let receipt: BlobReceipt = self.json(&what, response)?;
            sent += chunk.len() as u64;
            if receipt.complete {
                return finish(&what, receipt, blob, sent);
            }
            if receipt.received <= offset || receipt.received >= total {
                return Err(bad(
                    &what,
                    format!(
                        "after a chunk at {offset} it holds {} of {total} bytes and is not complete",
                        receipt.received
                    ),
                ));
            }
            offset = receipt.received;
        }
    }

    /// `GET /v1/blobs/{photo}/thumbnail`: the thumbnail of a photo, or `None` when the
    /// server does not have it (yet).
    pub fn thumbnail(&self, photo_sha256: &str) -> Result<Option<Download>, SyncError> {
        let what = format!("the thumbnail of photo {}", short(photo_sha256));
        let path = format!("{}/thumbnail", blob_path(photo_sha256, &what)?);
        self.download(&what, &path)
    }

    /// `GET /v1/blobs/{sha256}`: a blob's bytes, or `None` when the server does not have
    /// it.
    pub fn blob(&self, sha256: &str) -> Result<Option<Download>, SyncError> {
        let what = format!("blob {}", short(sha256));
        let path = blob_path(sha256, &what)?;
        self.download(&what, &path)
    }

    fn download(&self, what: &str, path: &str) -> Result<Option<Download>, SyncError> {
        let response = self.send(what, Retry::Always, || {
            self.authorised(self.http.get(self.url(path)))
        })?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(self.failure(what, response));
        }
        let headers = response.headers().clone();
        let bytes = self.body(what, response, MAX_BLOB_BYTES)?;
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let number = |name: &str| text(name).and_then(|v| v.trim().parse::<u32>().ok());
        Ok(Some(Download {
            bytes,
            sha256: text(HEADER_SHA256).map(|s| s.trim().to_ascii_lowercase()),
            width: number(HEADER_WIDTH),
            height: number(HEADER_HEIGHT),
            captured_at: text(HEADER_CAPTURED_AT)
                .and_then(|t| DateTime::parse_from_rfc3339(t.trim()).ok())
                .map(|t| t.with_timezone(&Utc)),
        }))
    }

    // -------------------------------------------------------------------------------------
    // Generic requests (the admin client)

    /// `GET path` (idempotent, retried), decoded as `T`.
    pub(crate) fn get_json<T: DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
    ) -> Result<T, SyncError> {
        let response = self.send(what, Retry::Always, || {
            self.authorised(self.http.get(self.url(path)))
        })?;
        self.json(what, response)
    }

    /// `POST path` with a JSON body (retried only when it could not be sent), decoded as
    /// `T`.
    pub(crate) fn post_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        body: &B,
    ) -> Result<T, SyncError> {
        let response = self.send(what, Retry::ConnectOnly, || {
            self.authorised(self.http.post(self.url(path))).json(body)
        })?;
        self.json(what, response)
    }

    /// `POST path` with a raw body of `content_type`, decoded as `T`.
    pub(crate) fn post_raw<T: DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<T, SyncError> {
        let response = self.send(what, Retry::ConnectOnly, || {
            self.authorised(self.http.post(self.url(path)))
                .header(CONTENT_TYPE, content_type)
                .body(body.to_vec())
        })?;
        self.json(what, response)
    }

    /// `POST path` without a body, expecting no answer body (204).
    pub(crate) fn post_empty(&self, what: &str, path: &str) -> Result<(), SyncError> {
        let response = self.send(what, Retry::ConnectOnly, || {
            self.authorised(self.http.post(self.url(path)))
        })?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(self.failure(what, response))
        }
    }

    // -------------------------------------------------------------------------------------
    // Plumbing

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    fn authorised(&self, request: RequestBuilder) -> RequestBuilder {
        match &self.token {
            Some(token) => request.header(AUTHORIZATION, format!("Bearer {token}")),
            None => request,
        }
    }

    fn blob_request(&self, request: RequestBuilder, blob: &BlobUpload<'_>) -> RequestBuilder {
        let mut request = self
            .authorised(request)
            .header(CONTENT_TYPE, "application/octet-stream")
            .header(HEADER_SITE, blob.site.to_string())
            .header(HEADER_KIND, blob.kind.as_str())
            .header(HEADER_WIDTH, blob.width.to_string())
            .header(HEADER_HEIGHT, blob.height.to_string())
            .header(
                HEADER_CAPTURED_AT,
                blob.captured_at
                    .to_rfc3339_opts(SecondsFormat::AutoSi, true),
            );
        if let Some(photo) = blob.photo {
            request = request.header(HEADER_PHOTO, photo);
        }
        request
    }

    /// Sends a request built by `build` (again for each retry). Returns the last answer,
    /// whatever its status, unless it could not be had at all.
    fn send(
        &self,
        what: &str,
        retry: Retry,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Response, SyncError> {
        let mut attempt = 0u32;
        loop {
            let more = attempt < self.options.retries;
            match build().send() {
                Ok(response) => {
                    let status = response.status();
                    let busy = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
                    if busy && more && retry == Retry::Always {
                        let wait =
                            retry_after(response.headers()).unwrap_or_else(|| self.pause(attempt));
                        drop(response);
                        std::thread::sleep(wait);
                        attempt += 1;
                        continue;
                    }
                    return Ok(response);
                }
                Err(e) => {
                    let retryable = match retry {
                        Retry::Always => e.is_connect() || e.is_timeout() || e.is_request(),
                        Retry::ConnectOnly => e.is_connect(),
                    };
                    if retryable && more {
                        std::thread::sleep(self.pause(attempt));
                        attempt += 1;
                        continue;
                    }
                    return Err(SyncError::Offline {
                        url: self.base_url.clone(),
                        detail: describe_send_error(&e, what, self.options.request_timeout),
                    });
                }
            }
        }
    }

    fn pause(&self, attempt: u32) -> Duration {
        self.options
            .backoff
            .saturating_mul(2u32.saturating_pow(attempt))
    }

    /// A successful answer decoded as `T`, or the error the answer stands for.
    fn json<T: DeserializeOwned>(&self, what: &str, response: Response) -> Result<T, SyncError> {
        if !response.status().is_success() {
            return Err(self.failure(what, response));
        }
        let bytes = self.body(what, response, MAX_ANSWER_BYTES)?;
        serde_json::from_slice(&bytes).map_err(|e| bad(what, format!("not the expected JSON: {e}")))
    }

    /// Reads an answer's body, at most `limit` bytes.
    fn body(&self, what: &str, response: Response, limit: u64) -> Result<Vec<u8>, SyncError> {
        let mut bytes = Vec::new();
        let mut reader = response.take(limit.saturating_add(1));
        reader
            .read_to_end(&mut bytes)
            .map_err(|e| SyncError::Offline {
                url: self.base_url.clone(),
                detail: format!("the answer to {what} broke off: {e}"),
            })?;
        if bytes.len() as u64 > limit {
            return Err(bad(what, format!("it is larger than {limit} bytes")));
        }
        Ok(bytes)
    }

    /// The error an unsuccessful answer stands for.
    fn failure(&self, what: &str, response: Response) -> SyncError {
        let status = response.status();
        let body = self
            .body(what, response, 64 * 1024)
            .ok()
            .and_then(|b| serde_json::from_slice::<ErrorBody>(&b).ok());
        let (code, message) = match body {
            Some(ErrorBody { error, message }) => (error, message),
            None => (
                status
                    .canonical_reason()
                    .unwrap_or("error")
                    .to_ascii_lowercase()
                    .replace(' ', "_"),
                format!(
                    "the server refused {what} ({} {})",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or("")
                )
                .trim_end()
                .to_string(),
            ),
        };
        if status == StatusCode::UNAUTHORIZED {
            SyncError::Unauthorized { code, message }
        } else if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            SyncError::Unavailable {
                url: self.base_url.clone(),
                status: status.as_u16(),
                message,
            }
        } else if status.is_client_error() {
            SyncError::Refused {
                status: status.as_u16(),
                code,
                message,
            }
        } else {
            bad(what, format!("unexpected status {status}"))
        }
    }
}

/// A completed upload's receipt must be for this blob and whole.
fn finish(
    what: &str,
    receipt: BlobReceipt,
    blob: &BlobUpload<'_>,
    sent: u64,
) -> Result<UploadOutcome, SyncError> {
    if !receipt.sha256.eq_ignore_ascii_case(blob.sha256) {
        return Err(bad(
            what,
            format!("the receipt names blob {}", receipt.sha256),
        ));
    }
    if !receipt.complete {
        return Err(bad(
            what,
            format!(
                "the server holds {} of {} bytes and says it is not complete",
                receipt.received,
                blob.bytes.len()
            ),
        ));
    }
    Ok(UploadOutcome {
        sent_bytes: sent,
        already_stored: false,
    })
}

fn bad(what: &str, detail: String) -> SyncError {
    SyncError::BadAnswer {
        what: what.to_string(),
        detail,
    }
}

/// `/v1/blobs/{sha256}` for a well-formed name.
fn blob_path(sha256: &str, what: &str) -> Result<String, SyncError> {
    if !is_sha256_hex(sha256) {
        return Err(SyncError::InvalidUrl {
            url: sha256.to_string(),
            reason: format!("{what}: not a SHA-256 (64 lowercase hexadecimal digits)"),
        });
    }
    Ok(format!("/v1/blobs/{sha256}"))
}

fn upload_offset(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(HEADER_UPLOAD_OFFSET)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// A 429's or 503's `Retry-After` in seconds, capped.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER))
}

/// "connection refused", "no answer within 30 s", with the innermost cause.
fn describe_send_error(e: &reqwest::Error, what: &str, timeout: Duration) -> String {
    let cause = innermost(e);
    if e.is_timeout() {
        format!("no answer to {what} within {} s", timeout.as_secs())
    } else if e.is_connect() {
        format!("could not connect ({cause})")
    } else {
        format!("{what} failed ({cause})")
    }
}

fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut current = e;
    while let Some(next) = current.source() {
        parts.push(next.to_string());
        current = next;
    }
    parts.join(": ")
}

/// The first 12 characters of a hash, for messages.
fn short(sha: &str) -> String {
    sha.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses_are_checked_and_normalised() {
        assert_eq!(
            normalise_base_url(" https://sync.example.com/ ").as_deref(),
            Ok("https://sync.example.com")
        );
        assert_eq!(
            normalise_base_url("http://127.0.0.1:8787/proofline/").as_deref(),
            Ok("http://127.0.0.1:8787/proofline")
        );
        for bad in [
            "sync.example.com",
            "ftp://x",
            "https://",
            "http://h/?a=1",
            "",
        ] {
            assert!(
                matches!(normalise_base_url(bad), Err(SyncError::InvalidUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_unreachable_server_is_offline_after_retries() {
        let options = ClientOptions {
            connect_timeout: Duration::from_millis(500),
            request_timeout: Duration::from_secs(2),
            retries: 1,
            backoff: Duration::from_millis(10),
        };
        // Port 1 on the loopback: nothing listens, the connection is refused at once.
        let client = SyncClient::new("http://127.0.0.1:1", Some("pl_x"), options).expect("client");
        let err = client.pull(None, 10).expect_err("offline");
        assert!(err.is_unreachable(), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("cannot reach the server at http://127.0.0.1:1: could not connect"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_blob_name_is_refused_before_sending() {
        let client =
            SyncClient::new("http://127.0.0.1:1", None, ClientOptions::default()).expect("client");
        assert!(matches!(
            client.thumbnail("../../etc/passwd"),
            Err(SyncError::InvalidUrl { .. })
        ));
    }
}
