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
use chrono::{DateTime, Utc};
use proofline_core::sync::protocol::{
    DEFAULT_PULL_LIMIT, MAX_CLOCK_SKEW_MS, MAX_PULL_LIMIT, MAX_PUSH_EVENTS, PullResponse,
    PushRequest, PushResponse, PushResult,
};

use crate::app::AppState;
use crate::error::ApiError;
use crate::http::{DeviceAuth, JsonBytes, decode_json, device_label};
use crate::ruling::PushRuler;
use crate::storage::{DeviceRecord, IngestBatch};

/// `POST /v1/sync/push`.
pub async fn push(
    State(state): State<Arc<AppState>>,
    DeviceAuth(device): DeviceAuth,
    body: JsonBytes,
) -> Result<Json<PushResponse>, ApiError> {
    let now = Utc::now();
    let response =
        tokio::task::spawn_blocking(move || ingest(&state, &device, &body.0, now)).await??;
    Ok(Json(response))
}

/// Decodes, rules on and records one push from `device` at `now`. Blocking.
pub fn ingest(
    state: &AppState,
    device: &DeviceRecord,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<PushResponse, ApiError> {
    let request: PushRequest = decode_json(body)?;
    if request.events.len() > MAX_PUSH_EVENTS {
        return Err(ApiError::PayloadTooLarge(format!(
            "a push carries at most {MAX_PUSH_EVENTS} events; this one has {}; send them in \
             batches",
            request.events.len()
        )));
    }
    let clock_skew_ms = request
        .clock_offset_ms
        .filter(|offset| offset.saturating_abs() > MAX_CLOCK_SKEW_MS);
    let label = device_label(state, device);
    let outcomes = {
        let _guard = state.ingest.lock().unwrap_or_else(|e| e.into_inner());
        let mut ruler = PushRuler::new(device, label, state.org());
        let outcomes = state.storage.ingest(
            IngestBatch {
                device: device.id,
                events: &request.events,
                now,
                clock_offset_ms: request.clock_offset_ms,
                clock_skew_ms,
            },
            &mut ruler,
        )?;
        if let Some(org) = ruler.into_changed_org() {
            state.publish_org(org);
        }
        outcomes
    };
    state
        .devices
        .pushed(device.id, now, request.clock_offset_ms);
    state.metrics.rulings(&outcomes);
    let results = request
        .events
        .iter()
        .zip(outcomes)
        .map(|(event, outcome)| PushResult {
            id: event.id,
            outcome,
        })
        .collect();
    Ok(PushResponse {
        results,
        server_time: now,
    })
}

/// `GET /v1/sync/pull?after=C&limit=N`.
pub async fn pull(
    State(state): State<Arc<AppState>>,
    DeviceAuth(device): DeviceAuth,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<PullResponse>, ApiError> {
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
    let page = tokio::task::spawn_blocking(move || storage.pull(&sites, device.id, cursor, limit))
        .await??;
    let next = page
        .events
        .last()
        .map_or_else(|| after.to_string(), |e| e.server_seq.to_string());
    Ok(Json(PullResponse {
        events: page.events,
        next,
        more: page.more,
        server_time: now,
    }))
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
