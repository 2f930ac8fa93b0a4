//! The running server's shared state and its router: storage, the org snapshot, the device
//! registry, blob files and counters, and which handler answers which route with which
//! body limit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, head, patch, post, put};
use chrono::{DateTime, Utc};
use proofline_core::model::{DeviceId, PROOFLINE_NAMESPACE, PersonId, SiteId};
use proofline_core::store::{Event, EventPayload, new_event_id};
use proofline_core::sync::protocol::{MAX_JSON_BODY_BYTES, PushOutcome, UPLOAD_CHUNK_BYTES};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;
use uuid::Uuid;

use crate::blob_files::BlobFiles;
use crate::devices::Devices;
use crate::dispatch::Dispatcher;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::org::OrgState;
use crate::ruling::ServerChainRuler;
use crate::storage::notifications::{QueuedNotification, Reminded};
use crate::storage::{ChainHead, IngestBatch, OwnEvents, PreparedEvent, Storage, StorageError};
use crate::writer::Writer;
use crate::{admin, blobs, enroll, http, push_tokens, sync};

/// Slack allowed over [`UPLOAD_CHUNK_BYTES`] on a `PATCH`.
const CHUNK_SLACK_BYTES: usize = 64 * 1024;

/// The admin pseudo-person who authors the server's own definitions.
pub fn admin_person() -> PersonId {
    PersonId(Uuid::new_v5(&PROOFLINE_NAMESPACE, b"person:@admin"))
}

/// Everything the handlers share.
pub struct AppState {
    /// Durable storage.
    pub storage: Arc<dyn Storage>,
    org: RwLock<Arc<OrgState>>,
    /// Held while a batch (or the writer's group of pushes) is ruled and recorded, so
    /// rulings see every earlier batch and the org they publish is the latest.
    pub ingest: Mutex<()>,
    /// The push writer (group commits).
    pub writer: Writer,
    /// The escalation dispatcher.
    pub dispatcher: Dispatcher,
    /// Enrolled devices.
    pub devices: Devices,
    /// Counters.
    pub metrics: Metrics,
    /// Blob bytes on disk.
    pub blobs: BlobFiles,
    admin_token: String,
    /// Largest blob accepted.
    pub max_blob_bytes: u64,
    /// The server's own chain.
    pub server_device: DeviceId,
    upload_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("server_device", &self.server_device)
            .field("max_blob_bytes", &self.max_blob_bytes)
            .finish_non_exhaustive()
    }
}

/// What [`AppState::new`] needs.
pub struct StateParts {
    /// Storage, opened.
    pub storage: Arc<dyn Storage>,
    /// The org rebuilt from storage.
    pub org: OrgState,
    /// Devices from storage.
    pub devices: Devices,
    /// Counters.
    pub metrics: Metrics,
    /// Blob files.
    pub blobs: BlobFiles,
    /// The admin token.
    pub admin_token: String,
    /// Largest blob.
    pub max_blob_bytes: u64,
    /// The server's chain.
    pub server_device: DeviceId,
    /// The escalation dispatcher.
    pub dispatcher: Dispatcher,
}

impl AppState {
    /// The state from its parts.
    pub fn new(parts: StateParts) -> AppState {
        AppState {
            storage: parts.storage,
            org: RwLock::new(Arc::new(parts.org)),
            ingest: Mutex::new(()),
            writer: Writer::new(),
            dispatcher: parts.dispatcher,
            devices: parts.devices,
            metrics: parts.metrics,
            blobs: parts.blobs,
            admin_token: parts.admin_token,
            max_blob_bytes: parts.max_blob_bytes,
            server_device: parts.server_device,
            upload_locks: Mutex::new(HashMap::new()),
        }
    }

    /// The current org snapshot.
    pub fn org(&self) -> Arc<OrgState> {
        Arc::clone(&self.org.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Replaces the org snapshot (call while holding [`AppState::ingest`]).
    pub fn publish_org(&self, org: OrgState) {
        self.publish_org_arc(Arc::new(org));
    }

    /// Replaces the org snapshot with a shared one (call while holding
    /// [`AppState::ingest`]).
    pub fn publish_org_arc(&self, org: Arc<OrgState>) {
        *self.org.write().unwrap_or_else(|e| e.into_inner()) = org;
    }

    /// Whether `token` is the admin token.
    pub fn is_admin_token(&self, token: &str) -> bool {
        crate::auth::secrets_match(token, &self.admin_token)
    }

    /// The admin token (for the start-up lines and the in-process handle).
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// The lock serialising uploads of one blob.
    pub fn upload_lock(&self, sha256: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.upload_locks.lock().unwrap_or_else(|e| e.into_inner());
        locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        Arc::clone(locks.entry(sha256.to_string()).or_default())
    }

    /// Writes definitions into the server's own chain: `plan` sees the current org and
    /// returns what to write (site filed under, payload) and a value to hand back. One
    /// transaction; the org is republished once it is durable. Blocking.
    pub fn define<T>(
        &self,
        now: DateTime<Utc>,
        plan: impl FnOnce(&OrgState) -> Result<(Vec<(SiteId, EventPayload)>, T), ApiError>,
    ) -> Result<(usize, T), ApiError> {
        let _guard = self.ingest.lock().unwrap_or_else(|e| e.into_inner());
        let base = self.org();
        let (definitions, value) = plan(&base)?;
        if definitions.is_empty() {
            return Ok((0, value));
        }
        let events = self.write_own(definitions, now)?;
        let mut org = (*base).clone();
        for event in &events {
            org.apply(event.site, &event.payload);
        }
        self.publish_org(org);
        Ok((events.len(), value))
    }

    /// Queues `rows` in the notification outbox, moves the reminder marks `reminded`
    /// forward and records the server's own work events `entries` (the escalation levels
    /// a dispatcher tick found fired) in its chain, in one transaction: the alerts, the
    /// reminders they tell and the levels they fire are kept together or not at all, with
    /// one commit. Blocking.
    ///
    /// The events are sealed (a hash chain: one after the other) on a second thread while
    /// this one writes the rows; `alongside`, work of the caller's that does not depend
    /// on the outcome (a dispatcher settles its routines), runs on that thread once the
    /// events are sealed (with no events, after the write), and is done when this
    /// returns.
    pub fn queue_and_record(
        &self,
        rows: &[QueuedNotification],
        reminded: &[Reminded],
        entries: Vec<(SiteId, EventPayload)>,
        now: DateTime<Utc>,
        alongside: impl FnOnce() + Send,
    ) -> Result<QueuedAndRecorded, ApiError> {
        if entries.is_empty() {
            // Nothing to seal, no second thread.
            let written =
                self.storage
                    .enqueue_and_ingest(rows, reminded, None, &mut ServerChainRuler);
            alongside();
            let written = written?;
            return Ok(QueuedAndRecorded {
                queued: written.queued,
                recorded: 0,
                server_seqs: None,
            });
        }
        let _guard = self.ingest.lock().unwrap_or_else(|e| e.into_inner());
        let head = self.storage.chain_head(self.server_device)?;
        let device = self.server_device;
        let written = std::thread::scope(|scope| {
            let (send, sealed_events) = std::sync::mpsc::sync_channel(1);
            scope.spawn(move || {
                // The receiver is gone only when the write stopped before it needed them.
                let _ = send.send(seal_chain(device, head, entries, now));
                alongside();
            });
            let mut sealed = || match sealed_events.recv() {
                Ok(events) => events.map_err(StorageError::from),
                // The sealing thread panicked: nothing is written (the transaction rolls
                // back on the error) and the scope's end reports the panic.
                Err(_) => Err(StorageError::Io {
                    what: "sealing the fired escalation levels".into(),
                    source: std::io::Error::other("the sealing thread stopped"),
                }),
            };
            self.storage.enqueue_and_ingest(
                rows,
                reminded,
                Some(OwnEvents {
                    device,
                    now,
                    sealed: &mut sealed,
                }),
                &mut ServerChainRuler,
            )
        })?;
        let seq = |outcome: Option<&PushOutcome>| match outcome {
            Some(PushOutcome::Accepted { server_seq }) => Some(*server_seq),
            _ => None,
        };
        let server_seqs = seq(written.outcomes.first()).zip(seq(written.outcomes.last()));
        Ok(QueuedAndRecorded {
            queued: written.queued,
            recorded: accepted(written.events, &written.outcomes)?.len(),
            server_seqs,
        })
    }

    /// Seals `entries` into the server's chain (authored by the admin pseudo-person) and
    /// records them in one transaction. Call with [`AppState::ingest`] held.
    fn write_own(
        &self,
        entries: Vec<(SiteId, EventPayload)>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Event>, ApiError> {
        let events = self.seal_own(entries, now)?;
        let outcomes = self
            .storage
            .ingest(self.own_batch(&events, now), &mut ServerChainRuler)?;
        accepted(events, &outcomes)
    }

    /// Seals `entries` as the next events of the server's chain. Call with
    /// [`AppState::ingest`] held, and record them before letting it go.
    fn seal_own(
        &self,
        entries: Vec<(SiteId, EventPayload)>,
        now: DateTime<Utc>,
    ) -> Result<Vec<PreparedEvent>, ApiError> {
        let head = self.storage.chain_head(self.server_device)?;
        seal_chain(self.server_device, head, entries, now)
            .map_err(|e| ApiError::internal("sealing a server event", e))
    }

    fn own_batch<'e>(&self, events: &'e [PreparedEvent], now: DateTime<Utc>) -> IngestBatch<'e> {
        IngestBatch::own(self.server_device, events, now)
    }
}

/// `entries` sealed as the events of the server's chain `device` that follow `head`
/// (authored by the admin pseudo-person, at `now`).
fn seal_chain(
    device: DeviceId,
    head: ChainHead,
    entries: Vec<(SiteId, EventPayload)>,
    now: DateTime<Utc>,
) -> Result<Vec<PreparedEvent>, serde_json::Error> {
    let mut prev = head.hash;
    let mut events = Vec::with_capacity(entries.len());
    for ((site, payload), seq) in entries.into_iter().zip(head.seq + 1..) {
        // A payload that names its event (as work events do) keeps that id.
        let id = match &payload {
            EventPayload::EscalationFired(f) => f.id,
            _ => new_event_id(now),
        };
        let event = Event::seal(id, site, admin_person(), device, seq, now, payload, prev)?;
        prev = event.hash.clone();
        events.push(PreparedEvent::checked(event));
    }
    Ok(events)
}

/// What [`AppState::queue_and_record`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueuedAndRecorded {
    /// Outbox rows that were new.
    pub queued: usize,
    /// The server's own events recorded.
    pub recorded: usize,
    /// Their first and last `server_seq` (one transaction under the ingest lock: every
    /// seq between is theirs), when there were any.
    pub server_seqs: Option<(u64, u64)>,
}

/// The server's own `events`, each of which its storage must have accepted (its chain has
/// one writer): anything else is an internal error.
fn accepted(events: Vec<PreparedEvent>, outcomes: &[PushOutcome]) -> Result<Vec<Event>, ApiError> {
    let mut written = Vec::with_capacity(events.len());
    for (prepared, outcome) in events.into_iter().zip(outcomes) {
        match outcome {
            PushOutcome::Accepted { .. } => written.push(prepared.event),
            other => {
                return Err(ApiError::internal(
                    "recording a server event",
                    format!(
                        "the server's own event {} was ruled {other:?}",
                        prepared.event.id
                    ),
                ));
            }
        }
    }
    Ok(written)
}

/// Every route, with its body limit, the error-body and metrics middleware and request
/// logs.
pub fn router(state: Arc<AppState>) -> Router {
    let json_limit = DefaultBodyLimit::max(MAX_JSON_BODY_BYTES);
    let blob_limit =
        DefaultBodyLimit::max(usize::try_from(state.max_blob_bytes).unwrap_or(usize::MAX));
    let chunk_limit = DefaultBodyLimit::max(UPLOAD_CHUNK_BYTES + CHUNK_SLACK_BYTES);
    let blob_routes = head(blobs::head)
        .get(blobs::get)
        .merge(put(blobs::put).layer(blob_limit))
        .merge(patch(blobs::patch).layer(chunk_limit));
    Router::new()
        .route("/healthz", get(http::healthz))
        .route("/metrics", get(http::metrics))
        .route("/v1/enroll", post(enroll::enroll).layer(json_limit))
        .route("/v1/sync/push", post(sync::push).layer(json_limit))
        .route("/v1/sync/pull", get(sync::pull))
        .route(
            "/v1/push-token",
            post(push_tokens::register)
                .delete(push_tokens::unregister)
                .layer(json_limit),
        )
        .route("/v1/blobs/{sha256}", blob_routes)
        .route("/v1/blobs/{sha256}/thumbnail", get(blobs::thumbnail))
        .merge(admin::routes().layer(json_limit))
        .route_layer(axum::middleware::from_fn(http::label_route))
        .fallback(http::not_found)
        .method_not_allowed_fallback(http::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            http::finish_response,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}
