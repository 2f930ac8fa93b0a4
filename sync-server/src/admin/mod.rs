//! The admin API (`/v1/admin/…`, admin token only): the org, sites and people, routines
//! file import, enrollment codes, devices, review (statuses, compliance, attention), blob
//! audit and rejected events. See docs/sync.md for the table of routes.
//!
//! Definitions written here go into the server's own chain ([`AppState::define`]); the
//! plan of what to write is [`plan`]'s. The wire types are
//! `proofline_core::sync::admin_protocol`'s, shared with the admin client.

pub mod plan;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use proofline_core::attention::{AttentionItem, attention as attention_feed};
use proofline_core::model::{DeviceId, Person, Role, Site, SiteId, SiteRole};
use proofline_core::review::{self, ComplianceReport, OccurrenceStatus, ReviewError};
use proofline_core::routines_file::{parse_routines_file, person_id, site_id};
use proofline_core::sync::admin_protocol::{
    AdminOrg, BlobAudit, CodeRequest, DeviceInfo, ImportSummary, IssuedCode, NewPerson, NewSite,
    RoutineSummary,
};
use uuid::Uuid;

use crate::app::AppState;
use crate::blobs::is_sha256;
use crate::enroll::issue_code;
use crate::error::ApiError;
use crate::http::{AdminAuth, JsonBody, body_rejection};
use crate::storage::RejectedRuling;
use crate::storage::notifications::{DeliveryState, QueuedNotification};

use plan::Planner;

/// Default life of an enrollment code: 72 hours.
pub const DEFAULT_CODE_MINUTES: i64 = 72 * 60;
/// Longest life of an enrollment code: 90 days.
const MAX_CODE_MINUTES: i64 = 90 * 24 * 60;
/// Default review period: the last 7 days.
const DEFAULT_REVIEW_DAYS: i64 = 7;

/// The admin routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/admin/org", get(org))
        .route("/v1/admin/sites", post(add_site))
        .route("/v1/admin/people", post(add_person))
        .route("/v1/admin/import", post(import))
        .route("/v1/admin/enrollment-codes", post(enrollment_code))
        .route("/v1/admin/devices", get(devices))
        .route("/v1/admin/devices/{id}/revoke", post(revoke))
        .route("/v1/admin/sites/{site}/statuses", get(statuses))
        .route("/v1/admin/sites/{site}/compliance", get(compliance))
        .route("/v1/admin/people/{person}/attention", get(attention))
        .route("/v1/admin/blobs/{sha256}", get(blob))
        .route("/v1/admin/rejected", get(rejected))
        .route("/v1/admin/notifications", get(notifications))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await?
}

fn path_value(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(p)| p)
        .map_err(|e| ApiError::BadRequest(format!("the path cannot be read: {}", e.body_text())))
}

fn query_map(
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<HashMap<String, String>, ApiError> {
    query.map(|Query(q)| q).map_err(|e| {
        ApiError::BadRequest(format!(
            "the query string cannot be read: {}",
            e.body_text()
        ))
    })
}

// ---------------------------------------------------------------------------------------
// The org, sites and people

async fn org(_: AdminAuth, State(state): State<Arc<AppState>>) -> Json<AdminOrg> {
    let snapshot = state.org();
    let org = snapshot.org();
    Json(AdminOrg {
        name: org.name.clone(),
        sites: org.sites.clone(),
        people: org.people.clone(),
        routines: org
            .routines
            .iter()
            .map(|r| RoutineSummary {
                id: r.id,
                key: r.key.clone(),
                title: r.title.clone(),
                site: r.site,
                version: r.version,
            })
            .collect(),
    })
}

fn check_key(what: &str, key: &str) -> Result<(), ApiError> {
    let ok = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "the {what} key {key:?} must be letters, digits, '-' or '_'"
        )))
    }
}

fn check_name(what: &str, name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        Err(ApiError::BadRequest(format!("the {what} needs a name")))
    } else {
        Ok(name.to_string())
    }
}

async fn add_site(
    _: AdminAuth,
    State(state): State<Arc<AppState>>,
    JsonBody(request): JsonBody<NewSite>,
) -> Result<(StatusCode, Json<Site>), ApiError> {
    check_key("site", &request.key)?;
    let name = check_name("site", &request.name)?;
    let time_zone = Tz::from_str(request.time_zone.trim()).map_err(|_| {
        ApiError::BadRequest(format!(
            "{:?} is not an IANA time zone (like America/New_York)",
            request.time_zone
        ))
    })?;
    let now = Utc::now();
    let (_, (site, created)) = blocking(move || {
        state.define(now, |current| {
            let existing = current.org().sites.iter().find(|s| s.key == request.key);
            let site = Site {
                id: existing.map_or_else(|| site_id(&request.key), |s| s.id),
                key: request.key.clone(),
                name,
                time_zone,
                closed_weekdays: request
                    .closed_weekdays
                    .clone()
                    .or_else(|| existing.map(|s| s.closed_weekdays.clone()))
                    .unwrap_or_default(),
                holidays: request
                    .holidays
                    .clone()
                    .or_else(|| existing.map(|s| s.holidays.clone()))
                    .unwrap_or_default(),
            };
            let mut planner = Planner::new(current);
            planner.site(&site);
            Ok((planner.finish(), (site, existing.is_none())))
        })
    })
    .await?;
    Ok((status_for(created), Json(site)))
}

fn status_for(created: bool) -> StatusCode {
    if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

async fn add_person(
    _: AdminAuth,
    State(state): State<Arc<AppState>>,
    JsonBody(request): JsonBody<NewPerson>,
) -> Result<(StatusCode, Json<Person>), ApiError> {
    check_key("person", &request.key)?;
    let name = check_name("person", &request.name)?;
    let now = Utc::now();
    let (_, (person, created)) = blocking(move || {
        state.define(now, |current| {
            let mut roles = Vec::new();
            for (site_ref, role) in &request.roles {
                let Some(site) = current.site_by_ref(site_ref) else {
                    return Err(ApiError::NotFound(format!(
                        "there is no site {site_ref:?}; add it first"
                    )));
                };
                let Some(role) = Role::parse(role.trim()) else {
                    return Err(ApiError::BadRequest(format!(
                        "{role:?} is not a role; a role is staff, supervisor, lead or admin"
                    )));
                };
                roles.push(SiteRole {
                    site: site.id,
                    role,
                });
            }
            let existing = current.org().people.iter().find(|p| p.key == request.key);
            let person = Person {
                id: existing.map_or_else(|| person_id(&request.key), |p| p.id),
                key: request.key.clone(),
                name,
                roles,
            };
            let mut planner = Planner::new(current);
            planner.person(&person);
            Ok((planner.finish(), (person, existing.is_none())))
        })
    })
    .await?;
    Ok((status_for(created), Json(person)))
}

// ---------------------------------------------------------------------------------------
// Import

async fn import(
    _: AdminAuth,
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ImportSummary>, ApiError> {
    let body = body.map_err(body_rejection)?;
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::InvalidRoutinesFile("the routines file is not UTF-8 text".into()))?;
    let now = Utc::now();
    Ok(Json(
        blocking(move || import_text(&state, &text, now)).await?,
    ))
}

/// Imports a routines file's text at `now`. Blocking.
pub fn import_text(
    state: &AppState,
    text: &str,
    now: DateTime<Utc>,
) -> Result<ImportSummary, ApiError> {
    let file = parse_routines_file("the uploaded routines file", text)
        .map_err(|e| ApiError::InvalidRoutinesFile(e.to_string()))?;
    let (events_written, ()) = state.define(now, |current| {
        let mut planner = Planner::new(current);
        planner.import(&file);
        Ok((planner.finish(), ()))
    })?;
    Ok(ImportSummary {
        sites: file.sites.len(),
        people: file.people.len(),
        routines: file.routines.len(),
        absences: file.absences.len(),
        events_written,
    })
}

// ---------------------------------------------------------------------------------------
// Enrollment codes and devices

async fn enrollment_code(
    _: AdminAuth,
    State(state): State<Arc<AppState>>,
    JsonBody(request): JsonBody<CodeRequest>,
) -> Result<(StatusCode, Json<IssuedCode>), ApiError> {
    let now = Utc::now();
    let issued = blocking(move || issue(&state, &request, now)).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// Issues a code for the request at `now`. Blocking.
pub fn issue(
    state: &AppState,
    request: &CodeRequest,
    now: DateTime<Utc>,
) -> Result<IssuedCode, ApiError> {
    let org = state.org();
    let Some(person) = org.person_by_ref(&request.person) else {
        return Err(ApiError::NotFound(format!(
            "there is no person {:?}; add them (or import the routines file) first",
            request.person
        )));
    };
    let expires_at = match (request.expires_at, request.expires_in_minutes) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "give expires_at or expires_in_minutes, not both".into(),
            ));
        }
        (Some(at), None) => at,
        (None, minutes) => {
            let minutes = minutes.unwrap_or(DEFAULT_CODE_MINUTES);
            if !(1..=MAX_CODE_MINUTES).contains(&minutes) {
                return Err(ApiError::BadRequest(format!(
                    "expires_in_minutes must be 1 to {MAX_CODE_MINUTES} (90 days)"
                )));
            }
            now + Duration::minutes(minutes)
        }
    };
    if expires_at <= now {
        return Err(ApiError::BadRequest(format!(
            "expires_at {} is not in the future",
            expires_at.format("%Y-%m-%d %H:%M UTC")
        )));
    }
    if expires_at > now + Duration::minutes(MAX_CODE_MINUTES) {
        return Err(ApiError::BadRequest(
            "an enrollment code is valid for at most 90 days".into(),
        ));
    }
    let code = issue_code(state, person.id, expires_at, now)?;
    Ok(IssuedCode {
        code,
        person: person.id,
        person_name: person.name.clone(),
        expires_at,
    })
}

async fn devices(_: AdminAuth, State(state): State<Arc<AppState>>) -> Json<Vec<DeviceInfo>> {
    let org = state.org();
    Json(
        state
            .devices
            .list()
            .into_iter()
            .map(|d| DeviceInfo {
                device: d.id,
                person: d.person,
                person_name: org.org().person_name(d.person),
                name: d.name,
                platform: d.platform,
                created_at: d.created_at,
                last_seen: d.last_seen,
                clock_offset_ms: d.clock_offset_ms,
                revoked: d.revoked_at.is_some(),
            })
            .collect(),
    )
}

async fn revoke(
    _: AdminAuth,
    State(state): State<Arc<AppState>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let text = path_value(path)?;
    let id = Uuid::parse_str(text.trim())
        .map(DeviceId)
        .map_err(|_| ApiError::BadRequest(format!("{text:?} is not a device id")))?;
    let now = Utc::now();
    let task_state = Arc::clone(&state);
    let found = blocking(move || Ok(task_state.storage.revoke_device(id, now)?)).await?;
    if !found {
        return Err(ApiError::NotFound(format!("there is no device {id}")));
    }
    state.devices.revoke(id, now);
    tracing::info!(device = %id, "device revoked");
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------
// Review

fn instant(
    query: &HashMap<String, String>,
    name: &str,
    default: DateTime<Utc>,
) -> Result<DateTime<Utc>, ApiError> {
    match query.get(name).map(|t| t.trim()).filter(|t| !t.is_empty()) {
        None => Ok(default),
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                ApiError::BadRequest(format!(
                    "{name}={text:?} is not an RFC 3339 instant (like 2026-12-01T10:00:00Z)"
                ))
            }),
    }
}

/// `from`, `until` and `now` of a review.
type Period = (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>);

/// The period and `now` of a review request: `now` defaults to the server clock, the
/// period to the 7 days before `now`.
fn period(query: &HashMap<String, String>, clock: DateTime<Utc>) -> Result<Period, ApiError> {
    let now = instant(query, "now", clock)?;
    let until = instant(query, "until", now)?;
    let from = instant(query, "from", until - Duration::days(DEFAULT_REVIEW_DAYS))?;
    Ok((from, until, now))
}

fn review_error(e: ReviewError) -> ApiError {
    match e {
        ReviewError::UnknownSite { .. } => ApiError::NotFound(e.to_string()),
        ReviewError::InvalidPeriod { .. } | ReviewError::Occurrence(_) => {
            ApiError::BadRequest(e.to_string())
        }
    }
}

fn site_ref(state: &AppState, text: &str) -> Result<SiteId, ApiError> {
    state
        .org()
        .site_by_ref(text)
        .map(|s| s.id)
        .ok_or_else(|| ApiError::NotFound(format!("there is no site {text:?}")))
}

async fn statuses(
    _: AdminAuth,
    State(state): State<Arc<AppState>>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Vec<OccurrenceStatus>>, ApiError> {
    let site = site_ref(&state, &path_value(path)?)?;
    let (from, until, now) = period(&query_map(query)?, Utc::now())?;
    let rows = blocking(move || {
        let org = state.org();
        let history = state.storage.history(Some(&[site]))?;
        review::statuses(org.org(), &history, site, from, until, now).map_err(review_error)
    })
    .await?;
    Ok(Json(rows))
}

async fn compliance(
    _: AdminAuth,
    State(state): State<Arc<AppState>>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<ComplianceReport>, ApiError> {
    let site = site_ref(&state, &path_value(path)?)?;
    let (from, until, now) = period(&query_map(query)?, Utc::now())?;
    let report = blocking(move || {
        let org = state.org();
        let history = state.storage.history(Some(&[site]))?;
        review::compliance(org.org(), &history, site, from, until, now).map_err(review_error)
    })
    .await?;
    Ok(Json(report))
}

async fn attention(
    _: AdminAuth,
    State(state): State<Arc<AppState>>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Vec<AttentionItem>>, ApiError> {
    let text = path_value(path)?;
    let person = state
        .org()
        .person_by_ref(&text)
        .map(|p| p.id)
        .ok_or_else(|| ApiError::NotFound(format!("there is no person {text:?}")))?;
    let now = instant(&query_map(query)?, "now", Utc::now())?;
    let items = blocking(move || {
        let org = state.org();
        let history = state.storage.history(None)?;
        Ok(attention_feed(org.org(), &history, person, now))
    })
    .await?;
    Ok(Json(items))
}

// ---------------------------------------------------------------------------------------
// Blobs and rejections

async fn blob(
    _: AdminAuth,
    State(state): State<Arc<AppState>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<BlobAudit>, ApiError> {
    let sha = path_value(path)?.trim().to_ascii_lowercase();
    if !is_sha256(&sha) {
        return Err(ApiError::BadRequest(format!(
            "{sha:?} is not a SHA-256; blobs are named by 64 hex characters"
        )));
    }
    let audit = blocking(move || {
        let Some(blob) = state.storage.blob(&sha)? else {
            return Err(ApiError::NotFound(format!("blob {sha} is not stored")));
        };
        let verified = state.blobs.verify(&sha).unwrap_or(false);
        Ok(BlobAudit {
            sha256: blob.sha256,
            bytes: blob.bytes,
            kind: blob.kind,
            photo: blob.photo,
            sites: blob.sites,
            verified,
        })
    })
    .await?;
    Ok(Json(audit))
}

async fn rejected(
    _: AdminAuth,
    State(state): State<Arc<AppState>>,
) -> Result<Json<Vec<RejectedRuling>>, ApiError> {
    Ok(Json(blocking(move || Ok(state.storage.rejected()?)).await?))
}

/// A queued escalation alert with its recipient's name, for admins.
#[derive(Debug, serde::Serialize)]
struct NotificationInfo {
    #[serde(flatten)]
    row: QueuedNotification,
    recipient_name: String,
}

/// `GET /v1/admin/notifications?state=dead&limit=N`: the outbox, newest first; `state`
/// is `pending`, `sent` or `dead` (the dead letters), every state when absent.
async fn notifications(
    _: AdminAuth,
    State(state): State<Arc<AppState>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Vec<NotificationInfo>>, ApiError> {
    let query = query_map(query)?;
    let wanted = match query.get("state").map(String::as_str) {
        None | Some("") => None,
        Some(text) => Some(DeliveryState::parse(text).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "unknown state `{}`: use pending, sent or dead",
                text.chars().take(40).collect::<String>()
            ))
        })?),
    };
    let limit = match query.get("limit") {
        None => 500,
        Some(text) => text.parse::<usize>().map_err(|_| {
            ApiError::BadRequest("`limit` must be a whole number of rows".to_string())
        })?,
    };
    let rows = {
        let state = Arc::clone(&state);
        blocking(move || Ok(state.storage.notifications(wanted, limit)?)).await?
    };
    let org = state.org();
    Ok(Json(
        rows.into_iter()
            .map(|row| NotificationInfo {
                recipient_name: org.org().person_name(row.notice.recipient),
                row,
            })
            .collect(),
    ))
}
