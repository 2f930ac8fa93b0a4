//! Enrollment: a one-time code, issued by an admin for a person, exchanged for a device
//! and its bearer token (`POST /v1/enroll`), and the issuing of codes itself.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use proofline_core::model::{DeviceId, PersonId};
use proofline_core::sync::protocol::{EnrollRequest, EnrollResponse, SiteMembership};

use crate::app::AppState;
use crate::auth;
use crate::error::ApiError;
use crate::http::JsonBody;
use crate::storage::{DeviceRecord, EnrollmentCode, Redeemed};

/// Longest device name or platform kept.
const MAX_LABEL_CHARS: usize = 100;

/// `POST /v1/enroll`.
pub async fn enroll(
    State(state): State<Arc<AppState>>,
    JsonBody(request): JsonBody<EnrollRequest>,
) -> Result<Json<EnrollResponse>, ApiError> {
    let now = Utc::now();
    let response = tokio::task::spawn_blocking(move || redeem(&state, request, now)).await??;
    Ok(Json(response))
}

/// Redeems a code at `now`. Blocking.
pub fn redeem(
    state: &AppState,
    request: EnrollRequest,
    now: DateTime<Utc>,
) -> Result<EnrollResponse, ApiError> {
    let Some(code) = auth::normalize_code(&request.code) else {
        return Err(ApiError::InvalidCode(
            "that is not an enrollment code (12 letters and digits, like 7KQ2-M9XD-4FHP); \
             check it with whoever issued it"
                .into(),
        ));
    };
    let token = auth::new_device_token()?;
    let device = DeviceRecord {
        id: DeviceId(auth::random_uuid()?),
        person: PersonId(uuid::Uuid::nil()),
        token_sha256: auth::sha256_hex(&token),
        name: label(request.device_name),
        platform: label(request.platform),
        created_at: now,
        last_seen: Some(now),
        clock_offset_ms: None,
        revoked_at: None,
    };
    let device =
        match state
            .storage
            .redeem_enrollment_code(&auth::sha256_hex(&code), device, now)?
        {
            Redeemed::Enrolled(device) => device,
            Redeemed::Unknown => {
                return Err(ApiError::InvalidCode(
                    "this enrollment code is not known to this server; check it, or ask an admin \
                 for a new one"
                        .into(),
                ));
            }
            Redeemed::Used => {
                return Err(ApiError::CodeUsed(
                    "this enrollment code was already used to enroll a device; each code works \
                 once, so ask an admin for a new one"
                        .into(),
                ));
            }
            Redeemed::Expired(at) => {
                return Err(ApiError::CodeExpired(format!(
                    "this enrollment code expired at {}; ask an admin for a new one",
                    at.format("%Y-%m-%d %H:%M UTC")
                )));
            }
        };
    state.devices.insert(device.clone());
    let org = state.org();
    let person = org.org().person(device.person);
    let sites = person
        .map(|p| {
            p.roles
                .iter()
                .map(|r| SiteMembership {
                    site: r.site,
                    site_name: org.site_name(r.site),
                    role: r.role,
                })
                .collect()
        })
        .unwrap_or_default();
    tracing::info!(device = %device.id, person = %device.person, "device enrolled");
    Ok(EnrollResponse {
        token,
        device: device.id,
        person: device.person,
        person_name: org.org().person_name(device.person),
        org_name: org.org().name.clone(),
        sites,
        server_time: now,
    })
}

/// Issues a new code for `person`, valid until `expires_at`. Returns the code as printed.
/// Blocking.
pub fn issue_code(
    state: &AppState,
    person: PersonId,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<String, ApiError> {
    let code = auth::new_enrollment_code()?;
    let normalized = auth::normalize_code(&code).ok_or_else(|| {
        ApiError::internal("making an enrollment code", "a fresh code is invalid")
    })?;
    state.storage.add_enrollment_code(&EnrollmentCode {
        code_sha256: auth::sha256_hex(&normalized),
        person,
        created_at: now,
        expires_at,
    })?;
    Ok(code)
}

fn label(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().chars().take(MAX_LABEL_CHARS).collect::<String>())
        .filter(|t| !t.is_empty())
}
