//! The one mapping from everything that can go wrong in a request to an HTTP status and
//! an [`ErrorBody`]. Module errors convert into [`ApiError`] here and nowhere else; bad
//! input is always a 4xx, and a 5xx is logged with its cause and answered with a sentence
//! that says what to do.

use axum::http::header::{CONTENT_TYPE, HeaderValue};
use axum::http::{HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use proofline_core::sync::protocol::{ErrorBody, HEADER_UPLOAD_OFFSET};
use thiserror::Error;

use crate::auth::NoRandomness;
use crate::storage::StorageError;

/// An error answered to a request.
#[derive(Debug, Error)]
pub enum ApiError {
    /// 400 `bad_request`: malformed or invalid input.
    #[error("{0}")]
    BadRequest(String),
    /// 401 `unauthorized`: missing, unknown or revoked credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 401 `invalid_code`: no such enrollment code.
    #[error("{0}")]
    InvalidCode(String),
    /// 401 `code_expired`.
    #[error("{0}")]
    CodeExpired(String),
    /// 401 `code_used`.
    #[error("{0}")]
    CodeUsed(String),
    /// 403 `forbidden`: authenticated, but not allowed this.
    #[error("{0}")]
    Forbidden(String),
    /// 404 `not_found`.
    #[error("{0}")]
    NotFound(String),
    /// 405 `method_not_allowed`.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 409 `offset_mismatch`: a chunk does not start where the stored bytes end.
    #[error("{message}")]
    OffsetMismatch {
        /// What happened.
        message: String,
        /// Bytes the server holds (sent in the `upload-offset` header too).
        offset: u64,
    },
    /// 413 `payload_too_large`.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 415 `unsupported_media_type`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422 `hash_mismatch`: uploaded bytes do not hash to the name they were sent under.
    #[error("{0}")]
    HashMismatch(String),
    /// 400 `invalid_routines_file`: an import that does not parse or validate.
    #[error("{0}")]
    InvalidRoutinesFile(String),
    /// 500 `internal`: the server's fault (storage, disk); the detail is logged.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// The status and the `error` code.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::InvalidCode(_) => (StatusCode::UNAUTHORIZED, "invalid_code"),
            ApiError::CodeExpired(_) => (StatusCode::UNAUTHORIZED, "code_expired"),
            ApiError::CodeUsed(_) => (StatusCode::UNAUTHORIZED, "code_used"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::OffsetMismatch { .. } => (StatusCode::CONFLICT, "offset_mismatch"),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::HashMismatch(_) => (StatusCode::UNPROCESSABLE_ENTITY, "hash_mismatch"),
            ApiError::InvalidRoutinesFile(_) => (StatusCode::BAD_REQUEST, "invalid_routines_file"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// An internal error: logs `detail` and answers with a sentence about `doing`.
    pub fn internal(doing: &str, detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(%detail, "failed while {doing}");
        ApiError::Internal(format!(
            "the server failed while {doing}; nothing was lost, try again (the server log has \
             the details)"
        ))
    }

    /// The body for this error.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: self.status_and_code().1.to_string(),
            message: self.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, _) = self.status_and_code();
        let offset = match &self {
            ApiError::OffsetMismatch { offset, .. } => Some(*offset),
            _ => None,
        };
        let mut response = (status, axum::Json(self.body())).into_response();
        if let Some(offset) = offset {
            response.headers_mut().insert(
                HeaderName::from_static(HEADER_UPLOAD_OFFSET),
                HeaderValue::from(offset),
            );
        }
        response
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> ApiError {
        ApiError::internal("using the database", e)
    }
}

impl From<NoRandomness> for ApiError {
    fn from(e: NoRandomness) -> ApiError {
        ApiError::internal("making a secret", e)
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> ApiError {
        ApiError::internal("running a request", e)
    }
}

/// The error code for a bare status (responses made outside our handlers).
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    }
}

/// Whether a response already carries a JSON body.
pub fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}
