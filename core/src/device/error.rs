//! The device's two error layers (STYLE.md): `Error` inside, with a variant per module
//! it calls (`#[from]`), and [`DeviceError`] at the edge, whose variants tell the app what
//! to do. `to_public` is the one place that converts; nothing else does.

use std::fmt;

use thiserror::Error;

use crate::agenda::AgendaError;
use crate::completion::ProofProblem;
use crate::occurrence::OccurrenceError;
use crate::proof::{BlobStoreError, PhotoError};
use crate::reminders::ReminderError;
use crate::review::ReviewError;
use crate::store::StoreError;
use crate::sync::client::SyncError;

/// Why a device call failed, as the app needs to know it. Every message is a sentence a
/// person understands (names, not ids, where there are names).
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DeviceError {
    /// The check's proof is incomplete: every unmet requirement, by step, in step order
    /// (fix them all and try again).
    #[error("{}", ProofList(.0))]
    ProofIncomplete(Vec<ProofProblem>),
    /// Something the person typed or chose is wrong (fix it and try again).
    #[error("{0}")]
    InvalidInput(String),
    /// The person may not do this (the message names them, their role and what is needed).
    #[error("{0}")]
    NotAllowed(String),
    /// The device, check, escalation, person or site does not exist (here).
    #[error("{0}")]
    NotFound(String),
    /// The device's storage failed or holds data it cannot use (retry; report if it
    /// persists). Nothing was recorded by the failed call.
    #[error("{0}")]
    Storage(String),
    /// The server could not be reached (no network, refused, timing out, or failing):
    /// nothing was lost; try again later.
    #[error("{0}")]
    Offline(String),
    /// The server refused the enrollment code or this device's token (the message says
    /// what to do, e.g. ask a supervisor for a new enrollment code).
    #[error("{0}")]
    Unauthorized(String),
}

/// Problems as sentences: "Walk-in cooler: 7.5 °C is outside 1–5 °C; add a corrective
/// action. Photo of the line: no photo, at least 1 needed."
struct ProofList<'a>(&'a [ProofProblem]);

impl fmt::Display for ProofList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("the proof is incomplete");
        }
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{problem}.")?;
        }
        Ok(())
    }
}

/// What went wrong inside the device, before mapping.
#[derive(Debug, Error)]
pub(crate) enum Error {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Agenda(#[from] AgendaError),
    #[error(transparent)]
    Review(#[from] ReviewError),
    #[error(transparent)]
    Reminder(#[from] ReminderError),
    #[error(transparent)]
    Occurrence(#[from] OccurrenceError),
    #[error(transparent)]
    Photo(#[from] PhotoError),
    #[error(transparent)]
    Blobs(#[from] BlobStoreError),
    #[error("proof incomplete")]
    ProofIncomplete(Vec<ProofProblem>),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotAllowed(String),
    #[error("{0}")]
    NotFound(String),
    /// Enrolling failed (the code, the address or the network).
    #[error(transparent)]
    Enroll(SyncError),
    /// A sync stopped on an error that only the person can fix (a revoked token).
    #[error(transparent)]
    Sync(SyncError),
    /// The device has no sync server.
    #[error("not enrolled")]
    NotEnrolled,
}

/// The one conversion from inside to outside.
pub(crate) fn to_public(error: Error) -> DeviceError {
    match error {
        Error::ProofIncomplete(problems) => DeviceError::ProofIncomplete(problems),
        Error::Invalid(m) => DeviceError::InvalidInput(m),
        Error::NotAllowed(m) => DeviceError::NotAllowed(m),
        Error::NotFound(m) => DeviceError::NotFound(m),
        Error::Store(e) => match e {
            StoreError::NotInitialised => {
                DeviceError::NotFound("no device is set up here".to_string())
            }
            StoreError::AlreadyInitialised => {
                DeviceError::InvalidInput("a device is already set up here".to_string())
            }
            other => DeviceError::Storage(other.to_string()),
        },
        Error::Agenda(e) => match e {
            AgendaError::UnknownPerson { .. } | AgendaError::UnknownOccurrence { .. } => {
                DeviceError::NotFound(e.to_string())
            }
            AgendaError::UnknownSite { .. } | AgendaError::Occurrence(_) => definitions(&e),
        },
        Error::Review(e) => match e {
            ReviewError::InvalidPeriod { .. } => DeviceError::InvalidInput(e.to_string()),
            ReviewError::UnknownSite { .. } => DeviceError::NotFound(e.to_string()),
            ReviewError::Occurrence(_) => definitions(&e),
        },
        Error::Reminder(e) => match e {
            ReminderError::UnknownPerson { .. } => DeviceError::NotFound(e.to_string()),
            ReminderError::UnknownSite { .. } | ReminderError::Occurrence(_) => definitions(&e),
        },
        Error::Occurrence(e) => definitions(&e),
        Error::Photo(e) => match e {
            PhotoError::Empty
            | PhotoError::NotAnImage { .. }
            | PhotoError::Truncated { .. }
            | PhotoError::Corrupt { .. }
            | PhotoError::TooLarge { .. } => DeviceError::InvalidInput(e.to_string()),
            PhotoError::InvalidOptions(_) | PhotoError::Processing(_) | PhotoError::Store(_) => {
                DeviceError::Storage(e.to_string())
            }
        },
        Error::Blobs(e) => DeviceError::Storage(format!("the photo store failed: {e}")),
        Error::NotEnrolled => DeviceError::NotFound(
            "this device is not enrolled with a sync server (it was set up from a routines \
             file), so there is nothing to sync"
                .to_string(),
        ),
        Error::Enroll(e) => match e {
            SyncError::Unauthorized { message, .. } => DeviceError::Unauthorized(with_advice(
                &message,
                "ask your supervisor for a new enrollment code",
            )),
            SyncError::InvalidUrl { .. } => DeviceError::InvalidInput(e.to_string()),
            SyncError::BadAnswer { .. } => {
                DeviceError::InvalidInput(format!("{e} (is this a Proofline server?)"))
            }
            SyncError::Refused { status: 403, .. } => DeviceError::NotAllowed(e.to_string()),
            SyncError::Refused { status: 404, .. } => DeviceError::InvalidInput(format!(
                "{e} (is this the address of a Proofline server?)"
            )),
            SyncError::Refused { .. } => DeviceError::InvalidInput(e.to_string()),
            SyncError::Offline { .. } | SyncError::Unavailable { .. } | SyncError::Setup(_) => {
                DeviceError::Offline(format!(
                    "{e}; nothing was set up, try again when the server can be reached"
                ))
            }
        },
        Error::Sync(e) => match e {
            SyncError::Unauthorized { message, .. } => DeviceError::Unauthorized(format!(
                "the server no longer accepts this device: {}",
                with_advice(
                    &message,
                    "ask your supervisor for a new enrollment code and enroll again"
                )
            )),
            SyncError::InvalidUrl { .. } => {
                DeviceError::Storage(format!("the stored server address cannot be used: {e}"))
            }
            SyncError::Refused { status: 403, .. } => DeviceError::NotAllowed(e.to_string()),
            SyncError::Refused { .. } => DeviceError::InvalidInput(e.to_string()),
            SyncError::Offline { .. }
            | SyncError::Unavailable { .. }
            | SyncError::Setup(_)
            | SyncError::BadAnswer { .. } => {
                DeviceError::Offline(format!("{e}; nothing was lost, try again later"))
            }
        },
    }
}

/// A server's sentence continued with advice, unless it already says what to do.
fn with_advice(message: &str, advice: &str) -> String {
    let message = message.trim().trim_end_matches('.');
    let says_what_to_do = ["ask ", "enroll again", "enroll it again"]
        .iter()
        .any(|hint| message.contains(hint));
    if says_what_to_do {
        message.to_string()
    } else {
        format!("{message}; {advice}")
    }
}

/// Definitions that the engines cannot use (validated on import, so never expected).
fn definitions(e: &dyn std::error::Error) -> DeviceError {
    DeviceError::Storage(format!("the stored routines cannot be used: {e}"))
}
