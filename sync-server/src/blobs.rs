//! The blob routes: photo proof and thumbnails, content addressed by SHA-256, uploaded
//! whole (`PUT`) or in chunks (`PATCH`, resumable: `HEAD` tells the offset), verified
//! before they are kept, and served only to members of a site they were uploaded for.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use proofline_core::model::SiteId;
use proofline_core::store::BlobKind;
use proofline_core::sync::protocol::{
    BlobReceipt, HEADER_CAPTURED_AT, HEADER_HEIGHT, HEADER_KIND, HEADER_PHOTO, HEADER_SHA256,
    HEADER_SITE, HEADER_UPLOAD_LENGTH, HEADER_UPLOAD_OFFSET, HEADER_WIDTH,
};

use crate::app::AppState;
use crate::blob_files::{BlobFileError, ChunkResult};
use crate::error::ApiError;
use crate::http::{DeviceAuth, body_rejection};
use crate::storage::sqlite::parse_kind;
use crate::storage::{DeviceRecord, StoredBlob};

/// Whether `text` is a SHA-256 in lowercase hex.
pub fn is_sha256(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The SHA-256 a path names, lowercased; 400 when it is not one.
fn sha_from_path(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    let Path(text) = path.map_err(|e| {
        ApiError::BadRequest(format!("the blob path cannot be read: {}", e.body_text()))
    })?;
    let sha = text.trim().to_ascii_lowercase();
    if is_sha256(&sha) {
        Ok(sha)
    } else {
        Err(ApiError::BadRequest(format!(
            "{:?} is not a SHA-256; blobs are named by 64 hex characters",
            short(&text)
        )))
    }
}

/// What an upload says about its blob, from the request headers.
#[derive(Debug, Clone)]
struct UploadMeta {
    site: SiteId,
    kind: BlobKind,
    photo: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    captured_at: Option<DateTime<Utc>>,
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, ApiError> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .map(|v| Some(v.trim()))
            .map_err(|_| ApiError::BadRequest(format!("the {name} header is not plain text"))),
    }
}

fn number<T: std::str::FromStr>(headers: &HeaderMap, name: &str) -> Result<Option<T>, ApiError> {
    header(headers, name)?
        .map(|text| {
            text.parse::<T>().map_err(|_| {
                ApiError::BadRequest(format!("the {name} header {text:?} is not a whole number"))
            })
        })
        .transpose()
}

fn upload_meta(
    state: &AppState,
    device: &DeviceRecord,
    headers: &HeaderMap,
) -> Result<UploadMeta, ApiError> {
    let Some(site_ref) = header(headers, HEADER_SITE)? else {
        return Err(ApiError::BadRequest(format!(
            "an upload names the site it is for in the {HEADER_SITE} header"
        )));
    };
    let org = state.org();
    let Some(site) = org.site_by_ref(site_ref) else {
        return Err(ApiError::NotFound(format!(
            "there is no site {site_ref:?} on this server"
        )));
    };
    if org.role_at(device.person, site.id).is_none() {
        return Err(ApiError::Forbidden(format!(
            "{} has no role at {}; photos are uploaded only for a site you belong to",
            org.org().person_name(device.person),
            site.name
        )));
    }
    let kind = match header(headers, HEADER_KIND)? {
        None => BlobKind::Photo,
        Some(text) => parse_kind(text).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "the {HEADER_KIND} header is {text:?}; it is `photo` or `thumbnail`"
            ))
        })?,
    };
    let photo = match header(headers, HEADER_PHOTO)? {
        Some(p) => {
            let p = p.to_ascii_lowercase();
            if !is_sha256(&p) {
                return Err(ApiError::BadRequest(format!(
                    "the {HEADER_PHOTO} header is not the SHA-256 of a photo"
                )));
            }
            Some(p)
        }
        None if kind == BlobKind::Thumbnail => {
            return Err(ApiError::BadRequest(format!(
                "a thumbnail names the photo it previews in the {HEADER_PHOTO} header"
            )));
        }
        None => None,
    };
    let captured_at = header(headers, HEADER_CAPTURED_AT)?
        .map(|text| {
            DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    ApiError::BadRequest(format!(
                        "the {HEADER_CAPTURED_AT} header {text:?} is not an RFC 3339 instant"
                    ))
                })
        })
        .transpose()?;
    Ok(UploadMeta {
        site: site.id,
        kind,
        photo: if kind == BlobKind::Thumbnail {
            photo
        } else {
            None
        },
        width: number(headers, HEADER_WIDTH)?,
        height: number(headers, HEADER_HEIGHT)?,
        captured_at,
    })
}

/// Whether the device's person belongs to a site the blob was uploaded for.
fn may_read(state: &AppState, device: &DeviceRecord, blob: &StoredBlob) -> bool {
    let org = state.org();
    blob.sites
        .iter()
        .any(|site| org.role_at(device.person, *site).is_some())
}

fn forbidden(state: &AppState, device: &DeviceRecord, sha256: &str) -> ApiError {
    ApiError::Forbidden(format!(
        "blob {} belongs to a site {} is not a member of",
        short(sha256),
        state.org().org().person_name(device.person)
    ))
}

async fn stored(state: &Arc<AppState>, sha256: &str) -> Result<Option<StoredBlob>, ApiError> {
    let storage = Arc::clone(&state.storage);
    let sha = sha256.to_string();
    Ok(tokio::task::spawn_blocking(move || storage.blob(&sha)).await??)
}

fn blob_headers(blob: &StoredBlob) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(CONTENT_LENGTH, HeaderValue::from(blob.bytes));
    headers.insert(
        HeaderName::from_static(HEADER_UPLOAD_OFFSET),
        HeaderValue::from(blob.bytes),
    );
    if let Ok(sha) = HeaderValue::from_str(&blob.sha256) {
        headers.insert(HeaderName::from_static(HEADER_SHA256), sha);
    }
    headers.insert(
        HeaderName::from_static(HEADER_KIND),
        HeaderValue::from_static(blob.kind.as_str()),
    );
    if let Some(w) = blob.width {
        headers.insert(HeaderName::from_static(HEADER_WIDTH), HeaderValue::from(w));
    }
    if let Some(h) = blob.height {
        headers.insert(HeaderName::from_static(HEADER_HEIGHT), HeaderValue::from(h));
    }
    if let Some(at) = blob.captured_at
        && let Ok(value) = HeaderValue::from_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    {
        headers.insert(HeaderName::from_static(HEADER_CAPTURED_AT), value);
    }
    headers
}

/// `HEAD /v1/blobs/{sha256}`: 200 when stored (and readable by the device), else 404
/// with the bytes held of an upload in progress.
pub async fn head(
    State(state): State<Arc<AppState>>,
    DeviceAuth(device): DeviceAuth,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let sha = sha_from_path(path)?;
    match stored(&state, &sha).await? {
        Some(blob) if may_read(&state, &device, &blob) => {
            Ok((StatusCode::OK, blob_headers(&blob)).into_response())
        }
        Some(_) => Err(forbidden(&state, &device, &sha)),
        None => {
            let offset = state.blobs.upload_offset(&sha);
            Ok((
                StatusCode::NOT_FOUND,
                [(
                    HeaderName::from_static(HEADER_UPLOAD_OFFSET),
                    HeaderValue::from(offset),
                )],
            )
                .into_response())
        }
    }
}

/// `GET /v1/blobs/{sha256}`: the bytes.
pub async fn get(
    State(state): State<Arc<AppState>>,
    DeviceAuth(device): DeviceAuth,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let sha = sha_from_path(path)?;
    match stored(&state, &sha).await? {
        Some(blob) if may_read(&state, &device, &blob) => serve(&state, blob).await,
        Some(_) => Err(forbidden(&state, &device, &sha)),
        None => Err(ApiError::NotFound(format!(
            "blob {} has not been uploaded",
            short(&sha)
        ))),
    }
}

/// `GET /v1/blobs/{sha256}/thumbnail`: the thumbnail uploaded for a photo.
pub async fn thumbnail(
    State(state): State<Arc<AppState>>,
    DeviceAuth(device): DeviceAuth,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let sha = sha_from_path(path)?;
    let storage = Arc::clone(&state.storage);
    let photo = sha.clone();
    let found = tokio::task::spawn_blocking(move || storage.thumbnail_of(&photo)).await??;
    match found {
        Some(blob) if may_read(&state, &device, &blob) => serve(&state, blob).await,
        Some(_) => Err(forbidden(&state, &device, &sha)),
        None => Err(ApiError::NotFound(format!(
            "no thumbnail of photo {} has been uploaded",
            short(&sha)
        ))),
    }
}

async fn serve(state: &Arc<AppState>, blob: StoredBlob) -> Result<Response, ApiError> {
    let files = state.blobs.clone();
    let sha = blob.sha256.clone();
    let bytes = tokio::task::spawn_blocking(move || files.read(&sha))
        .await?
        .map_err(|e| ApiError::internal("reading a blob", e))?;
    Ok((StatusCode::OK, blob_headers(&blob), bytes).into_response())
}

/// `PUT /v1/blobs/{sha256}`: the whole blob.
pub async fn put(
    State(state): State<Arc<AppState>>,
    DeviceAuth(device): DeviceAuth,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<BlobReceipt>, ApiError> {
    let sha = sha_from_path(path)?;
    let meta = upload_meta(&state, &device, &headers)?;
    let bytes = body.map_err(body_rejection)?;
    if bytes.len() as u64 > state.max_blob_bytes {
        return Err(too_large(&state, bytes.len() as u64));
    }
    let lock = state.upload_lock(&sha);
    let _guard = lock.lock().await;
    let now = Utc::now();
    let task_state = Arc::clone(&state);
    let receipt = tokio::task::spawn_blocking(move || {
        task_state
            .blobs
            .put(&sha, &bytes)
            .map_err(|e| file_error(e, &sha))?;
        index(&task_state, &sha, bytes.len() as u64, &meta, now)
    })
    .await??;
    Ok(Json(receipt))
}

/// `PATCH /v1/blobs/{sha256}`: one chunk at `upload-offset` of a blob `upload-length`
/// bytes long.
pub async fn patch(
    State(state): State<Arc<AppState>>,
    DeviceAuth(device): DeviceAuth,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<BlobReceipt>, ApiError> {
    let sha = sha_from_path(path)?;
    let meta = upload_meta(&state, &device, &headers)?;
    let Some(offset) = number::<u64>(&headers, HEADER_UPLOAD_OFFSET)? else {
        return Err(ApiError::BadRequest(format!(
            "a chunk says where it starts in the {HEADER_UPLOAD_OFFSET} header"
        )));
    };
    let Some(length) = number::<u64>(&headers, HEADER_UPLOAD_LENGTH)? else {
        return Err(ApiError::BadRequest(format!(
            "a chunk gives the blob's total length in the {HEADER_UPLOAD_LENGTH} header"
        )));
    };
    if length > state.max_blob_bytes {
        return Err(too_large(&state, length));
    }
    let chunk = body.map_err(body_rejection)?;
    if let Some(blob) = stored(&state, &sha).await?
        && blob.sites.contains(&meta.site)
    {
        return Ok(Json(BlobReceipt {
            sha256: sha,
            received: blob.bytes,
            complete: true,
            kind: blob.kind,
        }));
    }
    let lock = state.upload_lock(&sha);
    let _guard = lock.lock().await;
    let now = Utc::now();
    let task_state = Arc::clone(&state);
    let receipt = tokio::task::spawn_blocking(move || {
        match task_state
            .blobs
            .append(&sha, offset, length, &chunk)
            .map_err(|e| file_error(e, &sha))?
        {
            ChunkResult::Partial(received) => Ok(BlobReceipt {
                sha256: sha,
                received,
                complete: false,
                kind: meta.kind,
            }),
            ChunkResult::Complete(bytes) => index(&task_state, &sha, bytes, &meta, now),
        }
    })
    .await??;
    Ok(Json(receipt))
}

/// Records a verified blob in the index. Blocking.
fn index(
    state: &AppState,
    sha256: &str,
    bytes: u64,
    meta: &UploadMeta,
    now: DateTime<Utc>,
) -> Result<BlobReceipt, ApiError> {
    let blob = StoredBlob {
        sha256: sha256.to_string(),
        bytes,
        kind: meta.kind,
        photo: meta.photo.clone(),
        width: meta.width,
        height: meta.height,
        captured_at: meta.captured_at,
        uploaded_at: now,
        sites: vec![meta.site],
    };
    if state.storage.put_blob(&blob)? {
        state.metrics.blob_stored(bytes);
    }
    let kind = state
        .storage
        .blob(sha256)?
        .map_or(meta.kind, |stored| stored.kind);
    Ok(BlobReceipt {
        sha256: sha256.to_string(),
        received: bytes,
        complete: true,
        kind,
    })
}

fn file_error(e: BlobFileError, sha256: &str) -> ApiError {
    match e {
        BlobFileError::HashMismatch { actual, .. } => ApiError::HashMismatch(format!(
            "the bytes received hash to {}, not {}; the upload was dropped, send it again",
            short(&actual),
            short(sha256)
        )),
        BlobFileError::Offset { given, held } => ApiError::OffsetMismatch {
            message: format!(
                "the chunk starts at byte {given} but the server holds {held} bytes of blob {}; \
                 resume from {held}",
                short(sha256)
            ),
            offset: held,
        },
        e @ BlobFileError::PastEnd { .. } => {
            ApiError::BadRequest(format!("blob {}: {e}", short(sha256)))
        }
        e @ BlobFileError::Io { .. } => ApiError::internal("storing a blob", e),
    }
}

fn too_large(state: &AppState, bytes: u64) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the blob is {bytes} bytes; this server keeps blobs of at most {} bytes",
        state.max_blob_bytes
    ))
}

/// The first 12 characters, for messages.
fn short(text: &str) -> String {
    text.chars().take(12).collect()
}
