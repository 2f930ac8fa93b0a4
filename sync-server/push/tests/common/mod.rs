//! Shared test helpers: a scripted loopback HTTP stub (HTTP/1.1 and HTTP/2 cleartext) that
//! records every request, fixtures, a sample notification and a retry environment that
//! never sleeps. Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Version};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeZone, Utc};
use proofline_push::{Notification, Priority, RetryEnv};
use serde_json::Value;
use uuid::Uuid;

/// One request the stub received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub version: Version,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the request body is JSON")
    }
}

/// A scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }

    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

#[derive(Default)]
struct Script {
    /// (path fragment, queued replies, reply once the queue is empty)
    routes: Vec<(String, VecDeque<Reply>, Reply)>,
    requests: Vec<Recorded>,
}

/// A loopback stub server on 127.0.0.1:0, stopped by [`Stub::stop`] (or when dropped).
pub struct Stub {
    url: String,
    script: Arc<Mutex<Script>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Stub {
    pub async fn start() -> Stub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let script = Arc::new(Mutex::new(Script::default()));
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&script));
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Stub {
            url,
            script,
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Requests whose path contains `fragment` get `queued` in order, then `then` forever.
    pub fn route(&self, fragment: &str, queued: Vec<Reply>, then: Reply) {
        self.script.lock().expect("script lock").routes.push((
            fragment.to_owned(),
            queued.into(),
            then,
        ));
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.script.lock().expect("script lock").requests.clone()
    }

    pub fn requests_to(&self, fragment: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|request| request.path.contains(fragment))
            .collect()
    }

    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            // Pooled client connections may keep a graceful shutdown waiting: cut it short.
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn handle(State(script): State<Arc<Mutex<Script>>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .map(|bytes| bytes.to_vec())
        .unwrap_or_default();
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let mut script = script.lock().expect("script lock");
    script.requests.push(Recorded {
        method: parts.method,
        path: path.clone(),
        version: parts.version,
        headers: parts.headers,
        body,
    });
    let reply = script
        .routes
        .iter_mut()
        .find(|(fragment, _, _)| path.contains(fragment.as_str()))
        .map(|(_, queued, then)| queued.pop_front().unwrap_or_else(|| then.clone()))
        .unwrap_or_else(|| Reply::json(200, serde_json::json!({})));
    let mut response =
        Response::builder().status(StatusCode::from_u16(reply.status).expect("a valid status"));
    for (name, value) in &reply.headers {
        response = response.header(name, value);
    }
    response
        .body(Body::from(reply.body))
        .map(IntoResponse::into_response)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

pub fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()))
}

/// 2026-11-30 12:00:00 UTC.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap()
}

pub fn minutes(n: i64) -> chrono::Duration {
    chrono::Duration::minutes(n)
}

pub const SENTENCE: &str = "Fridge temperatures (Kitchen) is 20 min overdue — owner Maria is on \
                            leave, Sam is covering; you are next in the chain.";

pub fn notification() -> Notification {
    Notification {
        alert_id: Uuid::parse_str("0191f7a2-5b6c-7d8e-9f00-aabbccddeeff").unwrap(),
        escalation_id: Uuid::parse_str("0191f7a2-5b6c-7d8e-9f00-112233445566").unwrap(),
        occurrence_id: Uuid::parse_str("6f1c2b3a-4d5e-5f60-8a7b-9c0d1e2f3a4b").unwrap(),
        collapse_key: "6f1c2b3a-4d5e-5f60-8a7b-9c0d1e2f3a4b".into(),
        site_id: Uuid::parse_str("11111111-2222-5333-8444-555555555555").unwrap(),
        routine_id: Uuid::parse_str("aaaaaaaa-bbbb-5ccc-8ddd-eeeeeeeeeeee").unwrap(),
        level: 1,
        site_name: "Kitchen".into(),
        check_title: "Fridge temperatures".into(),
        title: "Fridge temperatures is overdue".into(),
        body: SENTENCE.into(),
        priority: Priority::High,
        expires_at: Some(t0() + chrono::Duration::hours(2)),
    }
}

/// A JWT split into its decoded header and claims, the signed input and the signature.
pub struct DecodedJwt {
    pub header: Value,
    pub claims: Value,
    pub signing_input: String,
    pub signature: Vec<u8>,
}

pub fn decode_jwt(jwt: &str) -> DecodedJwt {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWT has three parts: {jwt}");
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .expect("base64url without padding")
    };
    DecodedJwt {
        header: serde_json::from_slice(&decode(parts[0])).expect("JSON header"),
        claims: serde_json::from_slice(&decode(parts[1])).expect("JSON claims"),
        signing_input: format!("{}.{}", parts[0], parts[1]),
        signature: decode(parts[2]),
    }
}

/// A retry environment with a scripted clock that advances by each sleep, a fixed jitter
/// input, and no real waiting.
pub struct InstantEnv {
    pub now: DateTime<Utc>,
    pub jitter: f64,
    pub slept: Vec<Duration>,
}

impl InstantEnv {
    pub fn at(now: DateTime<Utc>) -> InstantEnv {
        InstantEnv {
            now,
            jitter: 0.5,
            slept: Vec::new(),
        }
    }
}

impl RetryEnv for InstantEnv {
    fn now(&mut self) -> DateTime<Utc> {
        self.now
    }

    fn jitter(&mut self) -> f64 {
        self.jitter
    }

    fn sleep(&mut self, delay: Duration) -> impl Future<Output = ()> + Send {
        self.slept.push(delay);
        self.now += chrono::Duration::from_std(delay).expect("a short delay");
        std::future::ready(())
    }
}
