//! The sync protocol, version 1: the JSON the devices and the server exchange, and the
//! limits both sides enforce. Plain data only (serde), so the server, the device's sync
//! client and the tests share one definition.
//!
//! # Routes
//!
//! | route | who | body → answer |
//! |---|---|---|
//! | `POST /v1/enroll` | anyone with a code | [`EnrollRequest`] → [`EnrollResponse`] |
//! | `POST /v1/sync/push` | device | [`PushRequest`] → [`PushResponse`] |
//! | `GET /v1/sync/pull?after=C&limit=N` | device | → [`PullResponse`] |
//! | `HEAD /v1/blobs/{sha256}` | device | 200 if stored; 404 with [`HEADER_UPLOAD_OFFSET`] |
//! | `PUT /v1/blobs/{sha256}` | device | the whole blob → [`BlobReceipt`] |
//! | `PATCH /v1/blobs/{sha256}` | device | one chunk at [`HEADER_UPLOAD_OFFSET`] → [`BlobReceipt`] |
//! | `GET /v1/blobs/{sha256}` | device | the bytes |
//! | `GET /v1/blobs/{sha256}/thumbnail` | device | the photo's thumbnail bytes |
//! | `GET /healthz`, `GET /metrics` | anyone | `ok`; Prometheus text |
//! | `/v1/admin/…` | admin token | see the server's `admin` module |
//!
//! Devices send `Authorization: Bearer <device token>`; admin routes take the admin token
//! the same way. Every error is an [`ErrorBody`] with the right HTTP status.
//!
//! # Push
//!
//! The device sends its pending events in `seq` order, at most [`MAX_PUSH_EVENTS`] per
//! request. The server rules on each, in order, and answers one [`PushResult`] per event:
//! - [`PushOutcome::Accepted`]: stored, with its position in the server's order;
//! - [`PushOutcome::Duplicate`]: the server already accepted this event id (an earlier
//!   push whose answer was lost);
//! - [`PushOutcome::Rejected`]: refused with a [`RejectCode`] and a sentence. A
//!   [`RejectCode::SequenceGap`] carries the `seq` the server expects next and is the only
//!   retryable rejection (the device keeps the event pending); every other rejection is
//!   final and stays visible on the device. Replaying a finally rejected event gets the
//!   same rejection again.
//!
//! A device's `seq` numbers every event it ever wrote, rejected ones included, so the
//! server's expected `seq` advances past a rejected event too.
//!
//! # Pull
//!
//! The events of the device's sites accepted after the cursor, in server order (the
//! device's own events left out), at most `limit` ([`MAX_PULL_LIMIT`]) per page. `next` is
//! the cursor to send for the following page; `more` says whether to ask at once.
//!
//! # Blobs
//!
//! Content-addressed by lowercase hex SHA-256. A blob no larger than [`UPLOAD_CHUNK_BYTES`]
//! goes up in one `PUT`; a larger one in `PATCH` chunks: `HEAD` tells how many bytes the
//! server already holds ([`HEADER_UPLOAD_OFFSET`]), each `PATCH` carries the offset it
//! starts at and the total length ([`HEADER_UPLOAD_LENGTH`]); an interrupted upload
//! resumes where it stopped. The server verifies the hash of the whole blob before keeping
//! it (422 `hash_mismatch` otherwise, and the partial bytes are dropped). Uploads carry the
//! site they belong to ([`HEADER_SITE`]), the kind ([`HEADER_KIND`]) and, for thumbnails,
//! the photo they preview ([`HEADER_PHOTO`]); a blob is served only to members of a site
//! it was uploaded for.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{DeviceId, EventId, PersonId, Role, SiteId};
use crate::store::{BlobKind, Event};

/// The protocol version, the first segment of every route.
pub const API_VERSION: &str = "v1";

/// Most events in one push.
pub const MAX_PUSH_EVENTS: usize = 500;
/// Page size when the device does not ask for one.
pub const DEFAULT_PULL_LIMIT: usize = 1000;
/// Largest page a pull returns.
pub const MAX_PULL_LIMIT: usize = 5000;
/// Largest JSON request body the server reads (a full push of large completions).
pub const MAX_JSON_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Largest blob the server keeps (a proof photo is about 0.3–1 MB).
pub const MAX_BLOB_BYTES: u64 = 16 * 1024 * 1024;
/// Size of one upload request; larger blobs go in chunks of this size.
pub const UPLOAD_CHUNK_BYTES: usize = 256 * 1024;
/// A device whose clock is off by more than this (5 minutes) has its completions
/// flagged.
pub const MAX_CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// Request header: the site a blob is uploaded for.
pub const HEADER_SITE: &str = "x-proofline-site";
/// Request header: `photo` or `thumbnail` ([`BlobKind`]).
pub const HEADER_KIND: &str = "x-proofline-kind";
/// Request header on a thumbnail: the SHA-256 of the photo it previews.
pub const HEADER_PHOTO: &str = "x-proofline-photo";
/// Request header: width in pixels.
pub const HEADER_WIDTH: &str = "x-proofline-width";
/// Request header: height in pixels.
pub const HEADER_HEIGHT: &str = "x-proofline-height";
/// Request header: when the photo was taken (RFC 3339).
pub const HEADER_CAPTURED_AT: &str = "x-proofline-captured-at";
/// Request and response header: bytes of the blob already received (`PATCH` start).
pub const HEADER_UPLOAD_OFFSET: &str = "upload-offset";
/// Request header on `PATCH`: the blob's total length.
pub const HEADER_UPLOAD_LENGTH: &str = "upload-length";
/// Response header on blob reads: the SHA-256 of the bytes served (a thumbnail's own).
pub const HEADER_SHA256: &str = "x-proofline-sha256";

/// Every error the server returns: `{"error": CODE, "message": TEXT}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable machine code, snake_case (e.g. `unauthorized`, `bad_request`,
    /// `payload_too_large`, `hash_mismatch`, `forbidden`, `not_found`, `code_expired`).
    pub error: String,
    /// A sentence a person understands.
    pub message: String,
}

/// `POST /v1/enroll`: exchange a one-time code for a device token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    /// The one-time code, as printed (case and dashes do not matter).
    pub code: String,
    /// `ios`, `android` or `cli`.
    #[serde(default)]
    pub platform: Option<String>,
    /// A name for the device ("Maria's phone"), shown to admins.
    #[serde(default)]
    pub device_name: Option<String>,
}

/// `POST /v1/push-token` (register) and `DELETE /v1/push-token` (forget): the push token
/// the phone's push service gave the app, so escalation alerts reach this device. A person
/// may have several devices; re-registering a token moves it to the calling device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushTokenRequest {
    /// `apns` (iOS) or `fcm` (Android).
    pub platform: String,
    /// The token (APNs: the device token in hex; FCM: the registration token).
    pub token: String,
}

/// Longest push token accepted.
pub const MAX_PUSH_TOKEN_CHARS: usize = 4096;

/// A site the enrolled person belongs to, with their role there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteMembership {
    /// The site.
    pub site: SiteId,
    /// Its name.
    pub site_name: String,
    /// The person's role there.
    pub role: Role,
}

/// The answer to an enrollment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    /// The bearer token for every later request. Shown once; the server keeps only its
    /// hash.
    pub token: String,
    /// The device id the server assigned (the device's hash chain).
    pub device: DeviceId,
    /// The person the code was issued for.
    pub person: PersonId,
    /// Their name.
    pub person_name: String,
    /// The org's name.
    pub org_name: String,
    /// The sites the device reads and writes.
    pub sites: Vec<SiteMembership>,
    /// The server's clock when it answered.
    pub server_time: DateTime<Utc>,
}

/// `POST /v1/sync/push`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    /// The device's pending events in `seq` order (at most [`MAX_PUSH_EVENTS`]).
    pub events: Vec<Event>,
    /// The device's last measured clock offset (server − device, milliseconds), if any:
    /// the server flags completions from a device off by more than
    /// [`MAX_CLOCK_SKEW_MS`].
    #[serde(default)]
    pub clock_offset_ms: Option<i64>,
}

/// Why the server refused an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectCode {
    /// The event's `seq` is not the next one the server expects (retryable: push the
    /// earlier events first).
    SequenceGap,
    /// The `seq` is already taken by a different event of this device (a forked chain).
    SequenceConflict,
    /// The hash does not match the fields, or `prev_hash` does not match the previous
    /// event.
    BadHash,
    /// The event names another device or author than the token's.
    WrongDevice,
    /// The author may not do this at this site (role or membership).
    NotAllowed,
    /// The site, routine, version, occurrence or escalation does not exist.
    UnknownReference,
    /// The occurrence is not an occurrence of that routine version.
    NotAnOccurrence,
    /// A completion's proof does not meet the routine's requirements.
    ProofIncomplete,
    /// The payload is well-formed JSON but not a valid event (e.g. empty reason).
    Invalid,
}

impl RejectCode {
    /// Every code, in declaration order.
    pub const ALL: [RejectCode; 9] = [
        RejectCode::SequenceGap,
        RejectCode::SequenceConflict,
        RejectCode::BadHash,
        RejectCode::WrongDevice,
        RejectCode::NotAllowed,
        RejectCode::UnknownReference,
        RejectCode::NotAnOccurrence,
        RejectCode::ProofIncomplete,
        RejectCode::Invalid,
    ];

    /// Whether the device should keep the event pending and push it again later.
    pub fn is_retryable(self) -> bool {
        matches!(self, RejectCode::SequenceGap)
    }

    /// The snake_case name, as sent (`sequence_gap`, `bad_hash`…).
    pub fn as_str(self) -> &'static str {
        match self {
            RejectCode::SequenceGap => "sequence_gap",
            RejectCode::SequenceConflict => "sequence_conflict",
            RejectCode::BadHash => "bad_hash",
            RejectCode::WrongDevice => "wrong_device",
            RejectCode::NotAllowed => "not_allowed",
            RejectCode::UnknownReference => "unknown_reference",
            RejectCode::NotAnOccurrence => "not_an_occurrence",
            RejectCode::ProofIncomplete => "proof_incomplete",
            RejectCode::Invalid => "invalid",
        }
    }

    /// Parses [`RejectCode::as_str`].
    pub fn parse(text: &str) -> Option<RejectCode> {
        RejectCode::ALL
            .into_iter()
            .find(|code| code.as_str() == text)
    }
}

/// The server's ruling on one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PushOutcome {
    /// Stored.
    Accepted {
        /// Its position in the server's order (what pull cursors count).
        server_seq: u64,
    },
    /// Already stored by an earlier push.
    Duplicate,
    /// Refused.
    Rejected {
        /// Why, for programs.
        code: RejectCode,
        /// Why, for people ("Sam is staff at Harbor Kitchen; excusing a check needs a
        /// supervisor, lead or admin").
        reason: String,
        /// For [`RejectCode::SequenceGap`]: the `seq` the server expects next.
        #[serde(default)]
        expected_seq: Option<u64>,
    },
}

/// One event's ruling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResult {
    /// The event.
    pub id: EventId,
    /// The ruling.
    #[serde(flatten)]
    pub outcome: PushOutcome,
}

/// The answer to a push: one result per event sent, in the same order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    /// One per event.
    pub results: Vec<PushResult>,
    /// The server's clock when it answered.
    pub server_time: DateTime<Utc>,
}

/// An event as pulled: the event and what the server recorded when accepting it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PulledEvent {
    /// Position in the server's order.
    pub server_seq: u64,
    /// The event, exactly as its device sealed it.
    pub event: Event,
    /// When the server accepted it.
    pub received_at: DateTime<Utc>,
    /// The writing device's clock offset (server − device, ms) when it pushed this event,
    /// if it was off by more than [`MAX_CLOCK_SKEW_MS`]: its times are suspect.
    #[serde(default)]
    pub clock_skew_ms: Option<i64>,
}

/// The answer to a pull.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    /// Events after the cursor, in server order.
    pub events: Vec<PulledEvent>,
    /// The cursor to send next (unchanged when there was nothing new).
    pub next: String,
    /// Whether more events are waiting.
    pub more: bool,
    /// The server's clock when it answered.
    pub server_time: DateTime<Utc>,
}

/// The answer to a blob upload (`PUT`, or the `PATCH` that completed or continued it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobReceipt {
    /// The blob.
    pub sha256: String,
    /// Bytes the server holds for it so far.
    pub received: u64,
    /// Whether the whole blob is stored and verified.
    pub complete: bool,
    /// Photo or thumbnail.
    pub kind: BlobKind,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_result_reads_flat() {
        let r = PushResult {
            id: EventId(uuid::Uuid::from_u128(5)),
            outcome: PushOutcome::Rejected {
                code: RejectCode::SequenceGap,
                reason: "expected 3".into(),
                expected_seq: Some(3),
            },
        };
        let json = serde_json::to_string(&r).expect("encode");
        assert_eq!(
            json,
            concat!(
                r#"{"id":"00000000-0000-0000-0000-000000000005","outcome":"rejected","#,
                r#""code":"sequence_gap","reason":"expected 3","expected_seq":3}"#
            )
        );
        let back: PushResult = serde_json::from_str(&json).expect("decode");
        assert_eq!(back, r);
        let ok: PushResult = serde_json::from_str(
            r#"{"id":"00000000-0000-0000-0000-000000000005","outcome":"accepted","server_seq":9}"#,
        )
        .expect("decode accepted");
        assert_eq!(ok.outcome, PushOutcome::Accepted { server_seq: 9 });
    }

    #[test]
    fn reject_code_names_are_their_wire_form() {
        for code in RejectCode::ALL {
            let json = serde_json::to_string(&code).expect("encode");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(RejectCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(RejectCode::parse("nope"), None);
    }

    #[test]
    fn only_a_gap_is_retryable() {
        assert!(RejectCode::SequenceGap.is_retryable());
        assert!(!RejectCode::NotAllowed.is_retryable());
        assert!(!RejectCode::ProofIncomplete.is_retryable());
    }
}
