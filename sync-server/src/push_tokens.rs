//! `POST /v1/push-token` and `DELETE /v1/push-token`: a device registers (or forgets) the
//! token its push service gave the app, so the dispatcher can alert its person.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use proofline_core::sync::protocol::{MAX_PUSH_TOKEN_CHARS, PushTokenRequest};

use crate::app::AppState;
use crate::error::ApiError;
use crate::http::{DeviceAuth, JsonBody};
use crate::storage::notifications::{PushPlatform, PushToken};

/// Checks a request: a known platform and a token of sane length and characters.
fn parse(request: &PushTokenRequest) -> Result<(PushPlatform, String), ApiError> {
    let platform = PushPlatform::parse(request.platform.trim()).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "unknown push platform `{}`: use `apns` (iOS) or `fcm` (Android)",
            request.platform.chars().take(40).collect::<String>()
        ))
    })?;
    let token = request.token.trim();
    if token.is_empty()
        || token.len() > MAX_PUSH_TOKEN_CHARS
        || !token.chars().all(|c| c.is_ascii_graphic())
    {
        return Err(ApiError::BadRequest(format!(
            "the push token must be 1 to {MAX_PUSH_TOKEN_CHARS} printable ASCII characters, \
             as the push service gave it to the app"
        )));
    }
    Ok((platform, token.to_string()))
}

/// `POST /v1/push-token`: registers the calling device's token (204).
pub async fn register(
    State(state): State<Arc<AppState>>,
    DeviceAuth(device): DeviceAuth,
    JsonBody(request): JsonBody<PushTokenRequest>,
) -> Result<StatusCode, ApiError> {
    let (platform, token) = parse(&request)?;
    let record = PushToken {
        device: device.id,
        person: device.person,
        platform,
        token,
        registered_at: Utc::now(),
    };
    tokio::task::spawn_blocking(move || {
        state.storage.register_push_token(&record)?;
        // Durable now: the dispatcher's copy of the tokens is read again next tick.
        state.dispatcher.push_tokens_changed();
        Ok::<_, ApiError>(())
    })
    .await??;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /v1/push-token`: forgets a token (204 whether or not it was known).
pub async fn unregister(
    State(state): State<Arc<AppState>>,
    DeviceAuth(_device): DeviceAuth,
    JsonBody(request): JsonBody<PushTokenRequest>,
) -> Result<StatusCode, ApiError> {
    let (platform, token) = parse(&request)?;
    tokio::task::spawn_blocking(move || {
        if state.storage.remove_push_token(platform, &token)? {
            state.dispatcher.push_tokens_changed();
        }
        Ok::<_, ApiError>(())
    })
    .await??;
    Ok(StatusCode::NO_CONTENT)
}
