//! The device sync routes: `POST /v1/sync/push` (rule on a batch, record it in one
//! transaction, answer per event) and `GET /v1/sync/pull` (the events of the device's
//! sites after a cursor, in server order, paged).
//!
//! Cursors are the last `server_seq` seen, as a decimal string; empty means the start.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_TYPE, HeaderValue};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use proofline_core::model::EventId;
use proofline_core::sync::protocol::{
    DEFAULT_PULL_LIMIT, MAX_CLOCK_SKEW_MS, MAX_PULL_LIMIT, MAX_PUSH_EVENTS, PushResponse,
    PushResult,
};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::app::AppState;
use crate::error::ApiError;
use crate::http::{DeviceAuth, JsonBytes, device_label};
use crate::storage::{DeviceRecord, PreparedEvent, StoredEvent};
use crate::writer::PushJob;

/// Bodies up to this size are decoded and checked on the async worker itself; larger
/// ones (up to [`MAX_PUSH_EVENTS`] events, a few milliseconds of CPU) on a blocking
/// thread.
const DECODE_INLINE_BYTES: usize = 32 * 1024;

/// `POST /v1/sync/push`: decode and check here, record in the writer's next group commit,
/// answer once it is durable.
///
/// A large push is queued as soon as it is decoded, and its events are checked (hashes,
/// occurrence ids) on this request's thread from the last one backwards while the writer
/// rules on them from the first one forwards: each check is made once, by whichever of
/// the two gets to it first, and the writer rarely waits.
pub async fn push(
    State(state): State<Arc<AppState>>,
    DeviceAuth(device): DeviceAuth,
    body: JsonBytes,
) -> Result<Json<PushResponse>, ApiError> {
    let now = Utc::now();
    let (ids, answer) = if body.0.len() <= DECODE_INLINE_BYTES {
        let job = prepare(&state, device, &body.0, now)?;
        job.events.iter().for_each(PreparedEvent::check);
        let ids = event_ids(&job);
        (ids, state.writer.submit(job)?)
    } else {
        let state = Arc::clone(&state);
        tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
            let job = prepare(&state, device, &body.0, now)?;
            let ids = event_ids(&job);
            let events = Arc::clone(&job.events);
            let answer = state.writer.submit(job)?;
            events.iter().rev().for_each(PreparedEvent::check);
            Ok((ids, answer))
        })
        .await??
    };
    let outcomes = answer.recorded().await?;
    let results = ids
        .into_iter()
        .zip(outcomes)
        .map(|(id, outcome)| PushResult { id, outcome })
        .collect();
    Ok(Json(PushResponse {
        results,
        server_time: now,
    }))
}

fn event_ids(job: &PushJob) -> Vec<EventId> {
    job.events.iter().map(|e| e.event.id).collect()
}

/// Pushes with at least this many events are decoded on two threads.
const PARALLEL_DECODE_EVENTS: usize = 128;

/// A push as first read: the events split out, not decoded yet (`PushRequest` on the
/// wire).
#[derive(Debug, Deserialize)]
struct RawPush<'a> {
    #[serde(borrow)]
    events: Vec<&'a RawValue>,
    #[serde(default)]
    clock_offset_ms: Option<i64>,
}

/// Decodes a push from `device` at `now`: what the writer needs to rule on it (its
/// events not checked yet).
pub fn prepare(
    state: &AppState,
    device: DeviceRecord,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<PushJob, ApiError> {
    let request: RawPush<'_> = serde_json::from_slice(body).map_err(|e| {
        ApiError::BadRequest(format!("the body is not the JSON this route expects: {e}"))
    })?;
    if request.events.len() > MAX_PUSH_EVENTS {
        return Err(ApiError::PayloadTooLarge(format!(
            "a push carries at most {MAX_PUSH_EVENTS} events; this one has {}; send them in \
             batches",
            request.events.len()
        )));
    }
    let events = decode_events(&request.events)?;
    let clock_skew_ms = request
        .clock_offset_ms
        .filter(|offset| offset.saturating_abs() > MAX_CLOCK_SKEW_MS);
    let device_label = device_label(state, &device);
    Ok(PushJob {
        device,
        device_label,
        events: events.into(),
        now,
        clock_offset_ms: request.clock_offset_ms,
        clock_skew_ms,
    })
}

/// Decodes the events of a push, a large one on two threads (a push is CPU work for the
/// request's thread alone until it reaches the writer).
fn decode_events(raw: &[&RawValue]) -> Result<Vec<PreparedEvent>, ApiError> {
    let decode = |offset: usize, part: &[&RawValue]| -> Result<Vec<PreparedEvent>, ApiError> {
        part.iter()
            .enumerate()
            .map(|(n, raw)| {
                serde_json::from_str(raw.get())
                    .map(PreparedEvent::new)
                    .map_err(|e| {
                        ApiError::BadRequest(format!(
                            "the body is not the JSON this route expects: event {} of the \
                             push: {e}",
                            offset + n + 1
                        ))
                    })
            })
            .collect()
    };
    if raw.len() < PARALLEL_DECODE_EVENTS {
        return decode(0, raw);
    }
    let (front, back) = raw.split_at(raw.len() / 2);
    std::thread::scope(|scope| {
        let helper = std::thread::Builder::new()
            .name("proofline-decode".into())
            .spawn_scoped(scope, || decode(front.len(), back));
        let mut events = decode(0, front)?;
        let back = match helper {
            Ok(thread) => thread.join().map_err(|_| {
                ApiError::internal("decoding a push", "the decoding thread panicked")
            })??,
            // No thread to spare: decode the rest here.
            Err(_) => decode(front.len(), back)?,
        };
        events.extend(back);
        Ok(events)
    })
}

/// `GET /v1/sync/pull?after=C&limit=N`. The page is written straight from the stored
/// JSON of each event (a [`proofline_core::sync::protocol::PullResponse`] on the wire),
/// never decoded and encoded again.
pub async fn pull(
    State(state): State<Arc<AppState>>,
    DeviceAuth(device): DeviceAuth,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| {
        ApiError::BadRequest(format!(
            "the query string cannot be read: {}",
            e.body_text()
        ))
    })?;
    let now = Utc::now();
    let after = query.get("after").map(String::as_str).unwrap_or("");
    let cursor = parse_cursor(after)?;
    let limit = parse_limit(query.get("limit").map(String::as_str))?;
    let sites = state.org().sites_of(device.person);
    let storage = Arc::clone(&state.storage);
    let after = after.to_string();
    let body = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, ApiError> {
        let mut page = PageWriter::new();
        let found = storage.pull(&sites, device.id, cursor, limit, &mut |e| page.event(e))?;
        let next = found.last.map_or(after, |seq| seq.to_string());
        Ok(page.finish(&next, found.more, now))
    })
    .await??;
    Ok((
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response())
}

/// Writes a pull's JSON answer event by event.
struct PageWriter {
    out: Vec<u8>,
    first: bool,
}

impl PageWriter {
    fn new() -> PageWriter {
        let mut out = Vec::with_capacity(64 * 1024);
        out.extend_from_slice(b"{\"events\":[");
        PageWriter { out, first: true }
    }

    /// One `PulledEvent`: `{"server_seq":…,"event":…,"received_at":…,"clock_skew_ms":…}`.
    fn event(&mut self, e: StoredEvent<'_>) {
        let out = &mut self.out;
        if !std::mem::take(&mut self.first) {
            out.push(b',');
        }
        out.reserve(e.json.len() + 128);
        out.extend_from_slice(b"{\"server_seq\":");
        out.extend_from_slice(e.server_seq.to_string().as_bytes());
        out.extend_from_slice(b",\"event\":");
        out.extend_from_slice(e.json.as_bytes());
        out.extend_from_slice(b",\"received_at\":");
        json_string(out, e.received_at);
        out.extend_from_slice(b",\"clock_skew_ms\":");
        match e.clock_skew_ms {
            Some(ms) => out.extend_from_slice(ms.to_string().as_bytes()),
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
    }

    /// The rest: `],"next":…,"more":…,"server_time":…}`.
    fn finish(mut self, next: &str, more: bool, now: DateTime<Utc>) -> Vec<u8> {
        let out = &mut self.out;
        out.extend_from_slice(b"],\"next\":");
        json_string(out, next);
        out.extend_from_slice(if more {
            b",\"more\":true"
        } else {
            b",\"more\":false"
        });
        out.extend_from_slice(b",\"server_time\":");
        // chrono's own serde form, as every other answer carries it.
        if serde_json::to_writer(&mut *out, &now).is_err() {
            out.extend_from_slice(b"null");
        }
        out.push(b'}');
        self.out
    }
}

/// Appends `text` as a JSON string.
fn json_string(out: &mut Vec<u8>, text: &str) {
    if serde_json::to_writer(&mut *out, text).is_err() {
        out.extend_from_slice(b"\"\"");
    }
}

/// A cursor as given: empty for the start, else a `server_seq`.
pub fn parse_cursor(text: &str) -> Result<u64, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(0);
    }
    text.parse::<u64>().map_err(|_| {
        ApiError::BadRequest(format!(
            "the cursor {text:?} is not one this server gives out; send the `next` of the \
             last page, or nothing to start over"
        ))
    })
}

/// A page size as given: absent for the default, else 1 to the maximum (larger asks are
/// served the maximum).
pub fn parse_limit(text: Option<&str>) -> Result<usize, ApiError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(DEFAULT_PULL_LIMIT);
    };
    match text.parse::<usize>() {
        Ok(0) | Err(_) => Err(ApiError::BadRequest(format!(
            "limit {text:?} is not a page size; ask for 1 to {MAX_PULL_LIMIT} events"
        ))),
        Ok(n) => Ok(n.min(MAX_PULL_LIMIT)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_written_from_stored_json_reads_as_a_pull_response() {
        use proofline_core::model::{DeviceId, EventId, PersonId, SiteId};
        use proofline_core::store::{Event, EventPayload, GENESIS_HASH};
        use proofline_core::sync::protocol::{PullResponse, PulledEvent};
        let now = DateTime::from_timestamp(1_770_000_000, 123_456_000).expect("instant");
        let event = Event::seal(
            EventId(uuid::Uuid::from_u128(4)),
            SiteId(uuid::Uuid::from_u128(1)),
            PersonId(uuid::Uuid::from_u128(2)),
            DeviceId(uuid::Uuid::from_u128(3)),
            1,
            now,
            EventPayload::OrgNamed {
                name: "Caf\u{e9} \"Harbor\"".into(),
            },
            GENESIS_HASH.to_string(),
        )
        .expect("seal");
        let prepared = PreparedEvent::new(event.clone());
        let json = prepared.json().expect("valid");
        for (events, more) in [(0, false), (1, true), (2, false)] {
            let mut page = PageWriter::new();
            let mut expected = Vec::new();
            for n in 0..events {
                let skew = (n == 1).then_some(-600_000);
                page.event(StoredEvent {
                    server_seq: 7 + n,
                    json,
                    received_at: "2026-02-02T02:40:00.123456Z",
                    clock_skew_ms: skew,
                });
                expected.push(PulledEvent {
                    server_seq: 7 + n,
                    event: event.clone(),
                    received_at: "2026-02-02T02:40:00.123456Z".parse().expect("instant"),
                    clock_skew_ms: skew,
                });
            }
            let body = page.finish("42", more, now);
            let read: PullResponse = serde_json::from_slice(&body).expect("a pull response");
            assert_eq!(
                read,
                PullResponse {
                    events: expected,
                    next: "42".into(),
                    more,
                    server_time: now,
                }
            );
        }
    }

    #[test]
    fn cursors_are_decimal_server_positions() {
        assert_eq!(parse_cursor("").ok(), Some(0));
        assert_eq!(parse_cursor("42").ok(), Some(42));
        assert!(parse_cursor("-1").is_err());
        assert!(parse_cursor("abc").is_err());
    }

    #[test]
    fn page_sizes_are_clamped_to_the_maximum() {
        assert_eq!(parse_limit(None).ok(), Some(DEFAULT_PULL_LIMIT));
        assert_eq!(parse_limit(Some("10")).ok(), Some(10));
        assert_eq!(parse_limit(Some("999999")).ok(), Some(MAX_PULL_LIMIT));
        assert!(parse_limit(Some("0")).is_err());
        assert!(parse_limit(Some("x")).is_err());
    }
}
