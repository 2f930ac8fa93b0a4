//! The one error the apps see. Every core failure arrives as a
//! [`proofline_core::device::DeviceError`] and is converted here, in [`ProoflineError::from`]
//! — nowhere else. The variants are what the app does about it; the message is a sentence to
//! show the person (it names the check, the step, the person, and says what to do).
//!
//! The enum is *flat* for the bindings: Kotlin gets a sealed `ProoflineException` whose
//! `message` is the sentence, Swift an `enum ProoflineError: Error` whose cases carry
//! `message:`. (A non-flat uniffi error renders Kotlin messages as `field=value`.)

use proofline_core::device::DeviceError;

/// Why a Proofline call failed, as the app needs to know it. Each message is a sentence for
/// the person using the app.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum ProoflineError {
    /// The check's proof is incomplete. The message lists every unmet requirement, by step,
    /// in step order: show it, let the person fix them all, then complete again.
    #[error("{0}")]
    ProofIncomplete(String),
    /// Something the person typed or chose is wrong (an empty reason, a photo that is not
    /// an image, a check completed before its window opens…): show the message and let
    /// them correct it.
    #[error("{0}")]
    InvalidInput(String),
    /// The person may not do this (the message names them, their role and the role
    /// needed): hide or disable the action.
    #[error("{0}")]
    NotAllowed(String),
    /// The device, check, escalation, person or site does not exist here (e.g. no device
    /// is set up in this folder: enroll first; or the check is not known yet: sync).
    #[error("{0}")]
    NotFound(String),
    /// The device's storage failed. Nothing was recorded by the failed call: retry, and
    /// report it if it keeps happening.
    #[error("{0}")]
    Storage(String),
    /// The server could not be reached. Nothing was lost: try again later.
    #[error("{0}")]
    Offline(String),
    /// The server refused the enrollment code or this device's token: ask a supervisor for
    /// a new enrollment code and enroll again.
    #[error("{0}")]
    Unauthorized(String),
}

impl From<DeviceError> for ProoflineError {
    /// The one conversion from the core's errors. The core's sentences are kept; where a
    /// variant's sentence does not yet say what to do next, the advice is added here.
    fn from(error: DeviceError) -> Self {
        let message = error.to_string();
        match error {
            DeviceError::ProofIncomplete(_) => ProoflineError::ProofIncomplete(format!(
                "{message} Fix every item listed and complete the check again."
            )),
            DeviceError::InvalidInput(_) => ProoflineError::InvalidInput(message),
            DeviceError::NotAllowed(_) => ProoflineError::NotAllowed(message),
            DeviceError::NotFound(_) => ProoflineError::NotFound(message),
            DeviceError::Storage(_) => ProoflineError::Storage(format!(
                "{message}; nothing was recorded: try again, and report the problem if it \
                 keeps happening"
            )),
            DeviceError::Offline(_) => ProoflineError::Offline(message),
            DeviceError::Unauthorized(_) => ProoflineError::Unauthorized(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proofline_core::completion::{ProblemKind, ProofProblem};

    #[test]
    fn a_missing_reading_says_which_step_and_what_to_do() {
        let error = ProoflineError::from(DeviceError::ProofIncomplete(vec![ProofProblem {
            step: "reach-in".into(),
            step_title: "Line reach-in fridge".into(),
            problem: ProblemKind::Unanswered,
        }]));
        assert_eq!(
            error,
            ProoflineError::ProofIncomplete(
                "Line reach-in fridge: required, but not answered. Fix every item listed and \
                 complete the check again."
                    .into()
            )
        );
    }

    #[test]
    fn a_storage_failure_says_nothing_was_recorded() {
        let error = ProoflineError::from(DeviceError::Storage("disk I/O error".into()));
        assert_eq!(
            error.to_string(),
            "disk I/O error; nothing was recorded: try again, and report the problem if it \
             keeps happening"
        );
    }

    #[test]
    fn other_variants_keep_the_core_sentence() {
        let cases = [
            (
                DeviceError::Offline("the server did not answer; try again later".into()),
                ProoflineError::Offline("the server did not answer; try again later".into()),
            ),
            (
                DeviceError::NotFound("no device is set up here".into()),
                ProoflineError::NotFound("no device is set up here".into()),
            ),
            (
                DeviceError::Unauthorized("code used; ask your supervisor".into()),
                ProoflineError::Unauthorized("code used; ask your supervisor".into()),
            ),
            (
                DeviceError::NotAllowed("Maria Lopez is staff".into()),
                ProoflineError::NotAllowed("Maria Lopez is staff".into()),
            ),
            (
                DeviceError::InvalidInput("give a reason".into()),
                ProoflineError::InvalidInput("give a reason".into()),
            ),
        ];
        for (core, expected) in cases {
            assert_eq!(ProoflineError::from(core), expected);
        }
    }
}
