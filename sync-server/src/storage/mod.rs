//! Storage: what the server keeps durably — the event log in server order, each device's
//! rulings (its chain), devices and enrollment codes, the blob index and the server's own
//! chain — behind the [`Storage`] trait the routes use. [`sqlite`] is the implementation.
//!
//! Storage owns queries and transactions, never trust decisions: a push is ruled by a
//! [`Ruler`] the caller passes in, which the storage asks about each event with what it
//! knows of the device's chain, inside the one transaction that records the batch.

pub mod migrations;
pub mod sqlite;

use chrono::{DateTime, Utc};
use proofline_core::model::{DeviceId, EventId, History, PersonId, SiteId};
use proofline_core::store::{BlobKind, Event};
use proofline_core::sync::protocol::{PulledEvent, PushOutcome, RejectCode};
use thiserror::Error;

pub use sqlite::SqliteStorage;

/// Why the storage failed. Always the server's fault (disk, database), never the
/// request's.
#[derive(Debug, Error)]
pub enum StorageError {
    /// SQLite refused.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored JSON value could not be written or read.
    #[error("stored JSON could not be encoded or decoded: {0}")]
    Json(#[from] serde_json::Error),
    /// A file could not be read or written.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A stored row does not read back as it was written.
    #[error("corrupt {what}: {detail}")]
    Corrupt {
        /// Which record.
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// The storage was closed (the server is shutting down).
    #[error("the database is closed")]
    Closed,
}

impl StorageError {
    pub(crate) fn corrupt(what: &'static str, detail: impl std::fmt::Display) -> StorageError {
        StorageError::Corrupt {
            what,
            detail: detail.to_string(),
        }
    }
}

/// An enrolled device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    /// Its id (the chain it writes).
    pub id: DeviceId,
    /// The person it belongs to.
    pub person: PersonId,
    /// SHA-256 (hex) of its bearer token.
    pub token_sha256: String,
    /// The name given at enrollment.
    pub name: Option<String>,
    /// `ios`, `android`, `cli`…
    pub platform: Option<String>,
    /// When it enrolled.
    pub created_at: DateTime<Utc>,
    /// When it last made an authenticated request (as last persisted).
    pub last_seen: Option<DateTime<Utc>>,
    /// Its last reported clock offset (server − device, ms).
    pub clock_offset_ms: Option<i64>,
    /// When an admin revoked it.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A one-time enrollment code, as stored (hashed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentCode {
    /// SHA-256 (hex) of the normalised code.
    pub code_sha256: String,
    /// The person it enrolls a device for.
    pub person: PersonId,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// The result of redeeming an enrollment code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// The device was created.
    Enrolled(DeviceRecord),
    /// No such code.
    Unknown,
    /// The code was used before.
    Used,
    /// The code expired at this instant.
    Expired(DateTime<Utc>),
}

/// The last ruled event of a device's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    /// Its `seq` (0 before the first event).
    pub seq: u64,
    /// Its hash (the genesis hash before the first event).
    pub hash: String,
}

/// A ruling recorded for one `seq` of a device's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorRuling {
    /// The event ruled at that `seq`.
    pub id: EventId,
    /// Its hash.
    pub hash: String,
    /// What was decided.
    pub outcome: RecordedOutcome,
}

/// A final ruling, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordedOutcome {
    /// Stored at this position.
    Accepted {
        /// Its server order.
        server_seq: u64,
    },
    /// Refused for good.
    Rejected {
        /// Why, for programs.
        code: RejectCode,
        /// Why, for people.
        reason: String,
    },
}

/// What the storage knows about an event it asks a [`Ruler`] about.
#[derive(Debug, Clone)]
pub struct Known<'a> {
    /// The device chain's last ruled event (earlier events of this batch included).
    pub head: &'a ChainHead,
    /// The ruling already recorded at the event's `seq`, when that `seq` is not new.
    pub at_seq: Option<PriorRuling>,
    /// Whether an accepted event already has this id (looked up only for the next `seq`).
    pub id_taken: bool,
}

/// A ruler's decision on one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ruling {
    /// Answer this without recording anything (duplicates, replays of rejections, gaps,
    /// conflicts, events of another chain): the chain does not move.
    Reply(PushOutcome),
    /// Store the event; the chain advances.
    Accept,
    /// Refuse the event for good and record why; the chain advances past it.
    Reject {
        /// Why, for programs.
        code: RejectCode,
        /// Why, for people.
        reason: String,
    },
}

/// Decides on the events of a push, one at a time, in order.
pub trait Ruler {
    /// The ruling on `event`, given what the storage knows of its chain.
    fn rule(&mut self, event: &Event, known: &Known<'_>) -> Ruling;
}

/// One push (or one batch of the server's own definitions) to record.
#[derive(Debug, Clone, Copy)]
pub struct IngestBatch<'a> {
    /// The chain the events are pushed into.
    pub device: DeviceId,
    /// The events, in the order given.
    pub events: &'a [Event],
    /// The server's clock.
    pub now: DateTime<Utc>,
    /// The device's reported clock offset, recorded on the device when present.
    pub clock_offset_ms: Option<i64>,
    /// Stored on every accepted event when the device's clock is off too far.
    pub clock_skew_ms: Option<i64>,
}

/// A page of pulled events.
#[derive(Debug, Clone, PartialEq)]
pub struct PullPage {
    /// The events, in server order.
    pub events: Vec<PulledEvent>,
    /// Whether more wait after them.
    pub more: bool,
}

/// A blob as indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    /// SHA-256 (hex) of the bytes.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Photo or thumbnail.
    pub kind: BlobKind,
    /// For a thumbnail: the photo it previews.
    pub photo: Option<String>,
    /// Width in pixels, when given.
    pub width: Option<u32>,
    /// Height in pixels, when given.
    pub height: Option<u32>,
    /// When the photo was taken, when given.
    pub captured_at: Option<DateTime<Utc>>,
    /// When the server stored it.
    pub uploaded_at: DateTime<Utc>,
    /// The sites it was uploaded for (who may read it).
    pub sites: Vec<SiteId>,
}

/// A rejection ruling, for the admins' list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RejectedRuling {
    /// The event.
    pub id: EventId,
    /// Its device.
    pub device: DeviceId,
    /// Its `seq`.
    pub seq: u64,
    /// Why, for programs.
    pub code: RejectCode,
    /// Why, for people.
    pub reason: String,
    /// When it was ruled.
    pub at: DateTime<Utc>,
}

/// Everything the routes need kept durably. Every method is blocking: call it from
/// `spawn_blocking`.
pub trait Storage: Send + Sync {
    /// Records a batch in one transaction, asking `ruler` about each event in order, and
    /// returns one outcome per event. Also records the device's clock offset and
    /// `last_seen = now`.
    fn ingest(
        &self,
        batch: IngestBatch<'_>,
        ruler: &mut dyn Ruler,
    ) -> Result<Vec<PushOutcome>, StorageError>;

    /// The head of a device's chain.
    fn chain_head(&self, device: DeviceId) -> Result<ChainHead, StorageError>;

    /// Every accepted definition event, in server order (to rebuild the org).
    fn definitions(&self) -> Result<Vec<Event>, StorageError>;

    /// Accepted events of `sites` after `after`, in server order, leaving out `exclude`'s,
    /// at most `limit`.
    fn pull(
        &self,
        sites: &[SiteId],
        exclude: DeviceId,
        after: u64,
        limit: usize,
    ) -> Result<PullPage, StorageError>;

    /// The completions, excuses and acknowledgements accepted at `sites` (every site when
    /// `None`).
    fn history(&self, sites: Option<&[SiteId]>) -> Result<History, StorageError>;

    /// Every ruling that refused an event, oldest first.
    fn rejected(&self) -> Result<Vec<RejectedRuling>, StorageError>;

    /// The server's own chain: the device id stored for it, or `candidate` stored now
    /// when there is none yet.
    fn server_device(
        &self,
        candidate: DeviceId,
        now: DateTime<Utc>,
    ) -> Result<DeviceId, StorageError>;

    /// Stores a new enrollment code.
    fn add_enrollment_code(&self, code: &EnrollmentCode) -> Result<(), StorageError>;

    /// Redeems a code at `now` for a new device (`device.person` is replaced by the code's
    /// person), in one transaction.
    fn redeem_enrollment_code(
        &self,
        code_sha256: &str,
        device: DeviceRecord,
        now: DateTime<Utc>,
    ) -> Result<Redeemed, StorageError>;

    /// Every device, oldest first.
    fn devices(&self) -> Result<Vec<DeviceRecord>, StorageError>;

    /// Marks a device revoked; `false` if there is no such device.
    fn revoke_device(&self, device: DeviceId, now: DateTime<Utc>) -> Result<bool, StorageError>;

    /// Records when a device was last seen.
    fn touch_device(&self, device: DeviceId, at: DateTime<Utc>) -> Result<(), StorageError>;

    /// A blob's index entry with its sites.
    fn blob(&self, sha256: &str) -> Result<Option<StoredBlob>, StorageError>;

    /// The thumbnail uploaded for a photo.
    fn thumbnail_of(&self, photo_sha256: &str) -> Result<Option<StoredBlob>, StorageError>;

    /// Indexes a blob whose bytes are in place (or adds `blob.sites` to an indexed one).
    /// Returns `true` when the blob was new.
    fn put_blob(&self, blob: &StoredBlob) -> Result<bool, StorageError>;

    /// Total bytes of stored blobs.
    fn blob_bytes(&self) -> Result<u64, StorageError>;
}
