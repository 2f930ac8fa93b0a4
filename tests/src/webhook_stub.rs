//! A stub chat webhook on loopback for the dispatcher tests: it checks each request's
//! signature, holds it a little while (so a test can SIGKILL the server while deliveries
//! are in flight), then counts it and answers 200.
//!
//! A request is counted once its handler finishes its hold and returns the answer. If the
//! client's connection drops during the hold (the server was killed), hyper drops the
//! handler's future: the request is counted as `dropped`, never as delivered (the test
//! `the_stub_does_not_count_a_request_whose_connection_drops` in `tests/dispatch_crash.rs`
//! checks that this holds).
//!
//! Requests are keyed by their `x-proofline-escalation-id` header, the escalation level's
//! id (or a repeat-failure streak's alert id). The body names no round, so re-notification
//! rounds of one level would share a key; the tests that use this stub have none.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use proofline_push::webhook::{
    DEFAULT_TOLERANCE, ESCALATION_HEADER, SIGNATURE_HEADER, verify_signature,
};
use uuid::Uuid;

/// What the stub has seen so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StubCounts {
    /// Requests that passed the checks and began their hold.
    pub arrived: u64,
    /// Requests being held right now.
    pub in_flight: u64,
    /// Requests held to the end, counted and answered 200.
    pub answered: u64,
    /// Requests whose connection dropped during the hold: not counted.
    pub dropped: u64,
    /// Requests refused (bad signature, missing or inconsistent escalation id), with why;
    /// answered 400 and not counted.
    pub refused: Vec<String>,
    /// Answered requests per `x-proofline-escalation-id`.
    pub per_key: BTreeMap<Uuid, u32>,
    /// The level (from the JSON body) of each key answered.
    pub levels: BTreeMap<Uuid, u64>,
}

impl StubCounts {
    /// Keys answered more than once, with their counts.
    pub fn duplicates(&self) -> Vec<(Uuid, u32)> {
        self.per_key
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(k, n)| (*k, *n))
            .collect()
    }
}

struct Shared {
    counts: Mutex<StubCounts>,
    changed: Condvar,
    secret: Vec<u8>,
    /// Shortest and longest hold, in milliseconds.
    hold_ms: (u64, u64),
    /// Requests arriving after this many are held, after their hold, until the gate opens.
    answer_first: Option<u64>,
    /// Whether the gate is open.
    gate: tokio::sync::watch::Sender<bool>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, StubCounts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update(&self, f: impl FnOnce(&mut StubCounts)) {
        f(&mut self.lock());
        self.changed.notify_all();
    }
}

/// A running stub webhook. Stopped (and its thread joined) on drop.
pub struct WebhookStub {
    url: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for WebhookStub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookStub")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl WebhookStub {
    /// Starts the stub on `127.0.0.1:0`, checking signatures made with `secret` and holding
    /// each request between `hold_ms.0` and `hold_ms.1` milliseconds (chosen from its key,
    /// so a rerun holds each alert as long).
    pub fn start(secret: &str, hold_ms: (u64, u64)) -> WebhookStub {
        WebhookStub::launch(secret, hold_ms, None)
    }

    /// Like [`WebhookStub::start`], but only the first `answer_first` requests are answered
    /// after their hold: later ones stay in flight until [`WebhookStub::open_gate`] (or until
    /// their connection drops). A test can then kill the server while requests are held and
    /// none of them has been answered.
    pub fn start_gated(secret: &str, hold_ms: (u64, u64), answer_first: u64) -> WebhookStub {
        WebhookStub::launch(secret, hold_ms, Some(answer_first))
    }

    fn launch(secret: &str, hold_ms: (u64, u64), answer_first: Option<u64>) -> WebhookStub {
        let shared = Arc::new(Shared {
            counts: Mutex::new(StubCounts::default()),
            changed: Condvar::new(),
            secret: secret.as_bytes().to_vec(),
            hold_ms: (hold_ms.0.min(hold_ms.1), hold_ms.0.max(hold_ms.1)),
            answer_first,
            gate: tokio::sync::watch::Sender::new(answer_first.is_none()),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<SocketAddr>();
        let state = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("webhook-stub".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the stub webhook");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .expect("the stub webhook binds a loopback port");
                    let addr = listener.local_addr().expect("the stub's address");
                    let _ = ready_tx.send(addr);
                    let app = Router::new().fallback(receive).with_state(state);
                    axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = stopped.await;
                        })
                        .await
                        .expect("the stub webhook serves");
                });
            })
            .expect("the stub webhook's thread starts");
        let addr = ready_rx.recv().expect("the stub webhook is ready");
        WebhookStub {
            url: format!("http://{addr}/hook"),
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Where to post.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Lets held requests (and every later one) be answered after their hold.
    pub fn open_gate(&self) {
        self.shared.gate.send_replace(true);
    }

    /// A copy of the counts now.
    pub fn counts(&self) -> StubCounts {
        self.shared.lock().clone()
    }

    /// Waits until `done` holds for the counts (checked at every change), at most
    /// `timeout`; returns the counts that satisfied it, or `None` on timeout.
    pub fn wait_until(
        &self,
        timeout: Duration,
        done: impl Fn(&StubCounts) -> bool,
    ) -> Option<StubCounts> {
        self.when(timeout, done, StubCounts::clone)
    }

    /// Runs `f` with the counts locked, the moment `done` first holds (the stub cannot
    /// count or answer anything while `f` runs); `None` on timeout, without running `f`.
    pub fn when<T>(
        &self,
        timeout: Duration,
        done: impl Fn(&StubCounts) -> bool,
        f: impl FnOnce(&StubCounts) -> T,
    ) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut counts = self.shared.lock();
        loop {
            if done(&counts) {
                return Some(f(&counts));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            counts = self
                .shared
                .changed
                .wait_timeout(counts, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

impl Drop for WebhookStub {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A request being held: in flight until answered or dropped.
struct Held {
    shared: Arc<Shared>,
    /// 1 for the first request that arrived.
    number: u64,
    answered: bool,
}

impl Held {
    fn begin(shared: &Arc<Shared>) -> Held {
        let mut number = 0;
        shared.update(|c| {
            c.arrived += 1;
            c.in_flight += 1;
            number = c.arrived;
        });
        Held {
            shared: Arc::clone(shared),
            number,
            answered: false,
        }
    }

    fn answer(mut self, key: Uuid, level: u64) {
        self.answered = true;
        self.shared.update(|c| {
            c.in_flight -= 1;
            c.answered += 1;
            *c.per_key.entry(key).or_insert(0) += 1;
            c.levels.insert(key, level);
        });
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if !self.answered {
            // The handler's future was dropped mid-hold: the client went away.
            self.shared.update(|c| {
                c.in_flight -= 1;
                c.dropped += 1;
            });
        }
    }
}

async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let (key, level) = match check(&shared, &headers, &body) {
        Ok(found) => found,
        Err(why) => {
            shared.update(|c| c.refused.push(why));
            return StatusCode::BAD_REQUEST;
        }
    };
    let held = Held::begin(&shared);
    let (lo, hi) = shared.hold_ms;
    let span = hi - lo + 1;
    let hold = lo + u64::try_from(key.as_u128() % u128::from(span)).unwrap_or(0);
    tokio::time::sleep(Duration::from_millis(hold)).await;
    if shared.answer_first.is_some_and(|first| held.number > first) {
        let mut gate = shared.gate.subscribe();
        // The sender lives in `shared`, so this only ends when the gate opens.
        let _ = gate.wait_for(|open| *open).await;
    }
    held.answer(key, level);
    StatusCode::OK
}

/// The request's key and level, or why it is refused.
fn check(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<(Uuid, u64), String> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| format!("no readable `{name}` header"))
    };
    verify_signature(
        &shared.secret,
        text(SIGNATURE_HEADER)?,
        body,
        Utc::now(),
        DEFAULT_TOLERANCE,
    )
    .map_err(|e| format!("signature: {e}"))?;
    let key: Uuid = text(ESCALATION_HEADER)?
        .parse()
        .map_err(|e| format!("`{ESCALATION_HEADER}` is not a UUID: {e}"))?;
    let json: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let in_body = json
        .get("escalation_id")
        .and_then(|v| v.as_str())
        .and_then(|v| v.parse::<Uuid>().ok());
    if in_body != Some(key) {
        return Err(format!(
            "the body's escalation_id {in_body:?} is not the header's {key}"
        ));
    }
    let level = json
        .get("level")
        .and_then(serde_json::Value::as_u64)
        .ok_or("the body has no level")?;
    Ok((key, level))
}
