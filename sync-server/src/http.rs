//! HTTP plumbing shared by the routes: bearer-token extractors for devices and admins,
//! the JSON body extractor (content type, size limit, decoding — each failure an
//! [`ApiError`]), the middleware that counts every answer and turns any error response
//! made outside our handlers (axum's own rejections) into an [`ErrorBody`], and the
//! health, metrics and fallback handlers.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use proofline_core::sync::protocol::ErrorBody;
use serde::de::DeserializeOwned;

use crate::app::AppState;
use crate::auth;
use crate::devices::Lookup;
use crate::error::{ApiError, code_for_status, is_json};
use crate::metrics::Gauges;
use crate::storage::DeviceRecord;

/// The device a request's bearer token belongs to (active, not revoked).
#[derive(Debug, Clone)]
pub struct DeviceAuth(pub DeviceRecord);

/// A request carrying the admin token.
#[derive(Debug, Clone, Copy)]
pub struct AdminAuth;

fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Err(ApiError::Unauthorized(
            "this route needs `Authorization: Bearer <token>`".into(),
        ));
    };
    value.to_str().ok().and_then(auth::bearer).ok_or_else(|| {
        ApiError::Unauthorized("the Authorization header is not `Bearer <token>`".into())
    })
}

impl FromRequestParts<Arc<AppState>> for DeviceAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers)?;
        match state.devices.lookup(&auth::sha256_hex(token)) {
            Lookup::Active(device) => {
                let now = Utc::now();
                if state.devices.seen(device.id, now) {
                    let storage = Arc::clone(&state.storage);
                    let id = device.id;
                    tokio::task::spawn_blocking(move || {
                        if let Err(e) = storage.touch_device(id, now) {
                            tracing::warn!(device = %id, error = %e, "could not record last_seen");
                        }
                    });
                }
                Ok(DeviceAuth(device))
            }
            Lookup::Revoked(device) => Err(ApiError::Unauthorized(format!(
                "{} was revoked by an admin; enroll it again with a new code",
                device_label(state, &device)
            ))),
            Lookup::Unknown if state.is_admin_token(token) => Err(ApiError::Forbidden(
                "this route is for enrolled devices; the admin token cannot be used here".into(),
            )),
            Lookup::Unknown => Err(ApiError::Unauthorized(
                "the device token is not known to this server; enroll the device with a code"
                    .into(),
            )),
        }
    }
}

impl FromRequestParts<Arc<AppState>> for AdminAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers)?;
        if state.is_admin_token(token) {
            return Ok(AdminAuth);
        }
        match state.devices.lookup(&auth::sha256_hex(token)) {
            Lookup::Active(_) => Err(ApiError::Forbidden(
                "admin routes need the admin token; a device token was sent".into(),
            )),
            Lookup::Revoked(_) | Lookup::Unknown => Err(ApiError::Unauthorized(
                "the token is not the admin token".into(),
            )),
        }
    }
}

/// "Maria Lopez's device “Kitchen phone”" (or the device id when unnamed).
pub fn device_label(state: &AppState, device: &DeviceRecord) -> String {
    let person = state.org().org().person_name(device.person);
    match device.name.as_deref().filter(|n| !n.trim().is_empty()) {
        Some(name) => format!("{person}'s device \u{201c}{name}\u{201d}"),
        None => format!("{person}'s device {}", device.id),
    }
}

/// A JSON request body, not yet decoded: the content type checked and the size limit
/// applied.
#[derive(Debug, Clone)]
pub struct JsonBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(ApiError::UnsupportedMediaType(format!(
                "send the body as JSON with `Content-Type: application/json` (got {})",
                if content_type.is_empty() {
                    "no content type".to_string()
                } else {
                    format!("`{content_type}`")
                }
            )));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        Ok(JsonBytes(bytes))
    }
}

impl JsonBytes {
    /// Decodes the body.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        decode_json(&self.0)
    }
}

/// Decodes a JSON body, naming what is wrong with it.
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::BadRequest(format!("the body is not the JSON this route expects: {e}"))
    })
}

/// A decoded JSON request body.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = JsonBytes::from_request(req, state).await?;
        Ok(JsonBody(bytes.decode()?))
    }
}

/// A failed body read: too large (413) or broken (400).
pub fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge("the request body is larger than this route accepts".to_string())
    } else {
        ApiError::BadRequest(format!(
            "the request body could not be read: {}",
            rejection.body_text()
        ))
    }
}

/// The route pattern that answered, for metrics.
#[derive(Debug, Clone)]
struct RouteLabel(String);

/// Route middleware: tags the response with the route pattern.
pub async fn label_route(req: Request, next: Next) -> Response {
    let label = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let mut response = next.run(req).await;
    if let Some(label) = label {
        response.extensions_mut().insert(RouteLabel(label));
    }
    response
}

/// Outer middleware: counts the answer and gives every error an [`ErrorBody`].
pub async fn finish_response(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().clone();
    let response = next.run(req).await;
    let status = response.status();
    let route = response
        .extensions()
        .get::<RouteLabel>()
        .map_or("unmatched", |l| l.0.as_str())
        .to_string();
    state.metrics.request(&route, status.as_u16());
    if !(status.is_client_error() || status.is_server_error())
        || is_json(&response)
        || method == Method::HEAD
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let message = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("the request failed")
            .to_string()
    } else {
        text
    };
    let body = ErrorBody {
        error: code_for_status(status).to_string(),
        message,
    };
    let json = serde_json::to_vec(&body).unwrap_or_default();
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(json))
}

/// `GET /healthz`.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let now = Utc::now();
    let text = state.metrics.render(Gauges {
        devices: state.devices.active_count(),
        sync_lag: state.devices.max_lag(now),
    });
    (
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

/// Unknown paths.
pub async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::NotFound(format!(
        "there is no route {method} {}; see docs/sync.md for the routes",
        uri.path()
    ))
}

/// Known paths, wrong method.
pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!(
        "{} does not take {method}; see docs/sync.md for the routes",
        uri.path()
    ))
}
