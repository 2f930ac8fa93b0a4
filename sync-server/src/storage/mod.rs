//! Storage: what the server keeps durably — the event log in server order, each device's
//! rulings (its chain), devices and enrollment codes, the blob index and the server's own
//! chain — behind the [`Storage`] trait the routes use. [`sqlite`] is the implementation.
//!
//! Storage owns queries and transactions, never trust decisions: a push is ruled by a
//! [`Ruler`] the caller passes in, which the storage asks about each event with what it
//! knows of the device's chain, inside the one transaction that records the batch.

pub mod migrations;
pub mod notifications;
pub mod sqlite;

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use proofline_core::model::{DeviceId, EventId, History, PersonId, SiteId};
use proofline_core::occurrence::occurrence_id;
use proofline_core::store::{BlobKind, Event, EventPayload};
use proofline_core::sync::protocol::{PushOutcome, RejectCode};
use sha2::{Digest, Sha256};
use thiserror::Error;

pub use notifications::NotificationStore;
use notifications::QueuedNotification;
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
    /// An earlier push of the same group commit failed: the group is rolled back.
    #[error("an earlier push of the group failed; the group is rolled back")]
    GroupFailed,
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
}

/// Whether an accepted event already has an id, asked by a [`Ruler`] when it needs to
/// know before deciding (the storage looks it up in the transaction being written).
pub trait EventIds {
    /// Whether an accepted event has `id`.
    fn taken(&mut self, id: EventId) -> Result<bool, StorageError>;
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
///
/// Event ids are unique: a ruler that accepts an event without asking [`EventIds`] leaves
/// the check to the storage, whose `UNIQUE` constraint finds a reused id when the event is
/// inserted; the storage then records [`Ruler::id_reused`]'s rejection instead (the chain
/// still moves past the event). A ruler that changes state of its own on accepting an
/// event (the org, for definitions) asks first.
pub trait Ruler {
    /// The ruling on `event`, given what the storage knows of its chain.
    fn rule(
        &mut self,
        event: &PreparedEvent,
        known: &Known<'_>,
        ids: &mut dyn EventIds,
    ) -> Result<Ruling, StorageError>;

    /// `event`, accepted by [`Ruler::rule`], reuses the id of an accepted event: the
    /// rejection to record instead. The ruler forgets it accepted the event.
    fn id_reused(&mut self, event: &PreparedEvent) -> (RejectCode, String);
}

/// A pushed event with the checks that depend on nothing but the event itself: whether
/// its hash holds (and, when it does, the JSON stored and served for it) and whether a
/// completion or excuse names its occurrence's id. Each is computed once, by whichever
/// thread asks first: the request's thread computes them before (or, for a large push,
/// while) the writer rules on the push, so the writer — the one thread every push goes
/// through — seldom has to.
///
/// The stored JSON is built from the very bytes the hash was checked over (the canonical
/// layout of `proofline_core::store::events`, every field but `hash` in declaration
/// order) with `"hash"` appended: byte for byte what `serde_json` writes for the
/// [`Event`] — what the device sealed and sent — without encoding the event a second
/// time.
#[derive(Debug)]
pub struct PreparedEvent {
    /// The event as decoded.
    pub event: Event,
    json: OnceLock<Option<String>>,
    names_occurrence: OnceLock<bool>,
}

impl PreparedEvent {
    /// `event`, nothing checked yet.
    pub fn new(event: Event) -> PreparedEvent {
        PreparedEvent {
            event,
            json: OnceLock::new(),
            names_occurrence: OnceLock::new(),
        }
    }

    /// `event` with every check made now.
    pub fn checked(event: Event) -> PreparedEvent {
        let prepared = PreparedEvent::new(event);
        prepared.check();
        prepared
    }

    /// Makes every check not made yet.
    pub fn check(&self) {
        self.json();
        self.names_its_occurrence();
    }

    /// Whether the event's `hash` matches its other fields.
    pub fn hash_is_valid(&self) -> bool {
        self.json().is_some()
    }

    /// The JSON to store and serve: `None` when the hash does not hold (such an event is
    /// never stored).
    pub fn json(&self) -> Option<&str> {
        self.json
            .get_or_init(|| canonical_json(&self.event))
            .as_deref()
    }

    /// For a completion or excuse: whether its occurrence id is the one its routine and
    /// due time make. `true` for every other payload.
    pub fn names_its_occurrence(&self) -> bool {
        *self
            .names_occurrence
            .get_or_init(|| match &self.event.payload {
                EventPayload::Completed(c) => c.occurrence == occurrence_id(c.routine, c.due),
                EventPayload::Excused(x) => x.occurrence == occurrence_id(x.routine, x.due),
                _ => true,
            })
    }
}

/// The event's JSON when its hash is valid: the canonical bytes with `"hash"` appended.
fn canonical_json(event: &Event) -> Option<String> {
    let mut bytes = event.canonical_bytes().ok()?;
    let digest = Sha256::digest(&bytes);
    let mut hex = [0u8; 64];
    hex::encode_to_slice(digest, &mut hex).ok()?;
    if hex[..] != *event.hash.as_bytes() {
        return None;
    }
    // `{…,"prev_hash":"…"}` becomes `{…,"prev_hash":"…","hash":"…"}`; a valid hash is
    // lowercase hex, which needs no escaping.
    if bytes.pop() != Some(b'}') {
        return None;
    }
    bytes.reserve_exact(12 + hex.len());
    bytes.extend_from_slice(b",\"hash\":\"");
    bytes.extend_from_slice(&hex);
    bytes.extend_from_slice(b"\"}");
    String::from_utf8(bytes).ok()
}

/// One push (or one batch of the server's own definitions) to record.
#[derive(Debug, Clone, Copy)]
pub struct IngestBatch<'a> {
    /// The chain the events are pushed into.
    pub device: DeviceId,
    /// The events, in the order given.
    pub events: &'a [PreparedEvent],
    /// The server's clock.
    pub now: DateTime<Utc>,
    /// The device's reported clock offset, recorded on the device when present.
    pub clock_offset_ms: Option<i64>,
    /// Stored on every accepted event when the device's clock is off too far.
    pub clock_skew_ms: Option<i64>,
}

/// The server's own events of a dispatcher tick (see [`Storage::enqueue_and_ingest`]).
pub struct OwnEvents<'a> {
    /// The server's chain.
    pub device: DeviceId,
    /// The server's clock.
    pub now: DateTime<Utc>,
    /// Hands the sealed events over; called once, inside the transaction, after the rows
    /// are written (so they can be sealed meanwhile).
    pub sealed: &'a mut dyn FnMut() -> Result<Vec<PreparedEvent>, StorageError>,
}

/// What [`Storage::enqueue_and_ingest`] wrote.
#[derive(Debug, Default)]
pub struct QueuedAndIngested {
    /// Outbox rows that were new.
    pub queued: usize,
    /// The events recorded, as handed over.
    pub events: Vec<PreparedEvent>,
    /// Their outcomes, in order.
    pub outcomes: Vec<PushOutcome>,
}

impl<'a> IngestBatch<'a> {
    /// The server's own `events` in its chain `device`, at `now` (no clock of a device to
    /// record).
    pub fn own(device: DeviceId, events: &'a [PreparedEvent], now: DateTime<Utc>) -> Self {
        IngestBatch {
            device,
            events,
            now,
            clock_offset_ms: None,
            clock_skew_ms: None,
        }
    }
}

/// One accepted event as stored, handed to a pull's visitor (borrowed from the row).
#[derive(Debug, Clone, Copy)]
pub struct StoredEvent<'a> {
    /// Its position in the server's order.
    pub server_seq: u64,
    /// Its JSON exactly as stored (see [`PreparedEvent`]).
    pub json: &'a str,
    /// When the server accepted it: RFC 3339, UTC, `Z`.
    pub received_at: &'a str,
    /// The device's clock skew when it was pushed, if flagged.
    pub clock_skew_ms: Option<i64>,
}

/// What a pull found besides the events it handed to its visitor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PullPage {
    /// Events handed over.
    pub count: usize,
    /// The `server_seq` of the last one.
    pub last: Option<u64>,
    /// Whether more wait after them.
    pub more: bool,
}

/// Records pushes inside one group commit ([`Storage::ingest_group`]).
pub trait IngestGroup {
    /// Records one push in the group's transaction, asking `ruler` about each event in
    /// order; returns one outcome per event. Also records the device's clock offset and
    /// `last_seen = now`. When it fails, part of the push may be written: the group must
    /// then be rolled back (the storage refuses to commit it, and to record more in it).
    fn ingest(
        &mut self,
        batch: IngestBatch<'_>,
        ruler: &mut dyn Ruler,
    ) -> Result<Vec<PushOutcome>, StorageError>;
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
pub trait Storage: NotificationStore + Send + Sync {
    /// Records a batch in one transaction, asking `ruler` about each event in order, and
    /// returns one outcome per event. Also records the device's clock offset and
    /// `last_seen = now`.
    fn ingest(
        &self,
        batch: IngestBatch<'_>,
        ruler: &mut dyn Ruler,
    ) -> Result<Vec<PushOutcome>, StorageError>;

    /// Queues `rows` in the notification outbox (as [`NotificationStore::enqueue`]: a
    /// queued key is left as it is), moves each person's reminder mark in `reminded`
    /// forward (never back) and records the events `own` hands over once the rows are in
    /// (as [`Storage::ingest`]), in one transaction, durable at its one commit: the
    /// escalation dispatcher's write of a tick, whose new alerts, the reminders they tell
    /// and the levels they record as fired are kept together or not at all. Returns how
    /// many rows were new, the events and their outcomes (none without `own`).
    fn enqueue_and_ingest(
        &self,
        rows: &[QueuedNotification],
        reminded: &[notifications::Reminded],
        own: Option<OwnEvents<'_>>,
        ruler: &mut dyn Ruler,
    ) -> Result<QueuedAndIngested, StorageError>;

    /// A group commit: runs `record` with one write transaction open and, when it returns
    /// `true` and every push it recorded succeeded, commits once: `Ok(true)`. Otherwise the
    /// transaction is rolled back and nothing of the group is kept: `Ok(false)`. An error
    /// means the transaction could not be begun or committed: nothing of the group is kept
    /// either.
    ///
    /// The commit may be left for [`Storage::sync_commits`] to make durable (the SQLite
    /// storage defers its fsync so the next group can be recorded while this one syncs):
    /// answer nobody about the group before `sync_commits` returns `Ok`. Until then the
    /// group is invisible to [`Storage::pull`], so no device can hold an event the server
    /// could still lose.
    fn ingest_group(
        &self,
        record: &mut dyn FnMut(&mut dyn IngestGroup) -> bool,
    ) -> Result<bool, StorageError>;

    /// Makes every group committed so far by [`Storage::ingest_group`] durable (one fsync
    /// however many groups wait) and visible to pulls. Blocking; safe to call from another
    /// thread while the next group is being recorded.
    fn sync_commits(&self) -> Result<(), StorageError>;

    /// The head of a device's chain.
    fn chain_head(&self, device: DeviceId) -> Result<ChainHead, StorageError>;

    /// Every accepted definition event, in server order (to rebuild the org).
    fn definitions(&self) -> Result<Vec<Event>, StorageError>;

    /// Accepted events of `sites` after `after`, in server order, leaving out `exclude`'s,
    /// at most `limit`, each handed to `visit` as stored (no decoding).
    fn pull(
        &self,
        sites: &[SiteId],
        exclude: DeviceId,
        after: u64,
        limit: usize,
        visit: &mut dyn FnMut(StoredEvent<'_>),
    ) -> Result<PullPage, StorageError>;

    /// Every accepted event after `after`, whatever its site or device, in server order, at
    /// most `limit`, each handed to `visit` as stored: the server's own view (its
    /// dispatcher catches up with it), read along the table's key.
    fn pull_everything(
        &self,
        after: u64,
        limit: usize,
        visit: &mut dyn FnMut(StoredEvent<'_>),
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proofline_core::model::{Completion, OccurrenceId, RoutineId, StepAnswer, StepResult};
    use proofline_core::store::GENESIS_HASH;
    use uuid::Uuid;

    fn completion(note: &str, value: f64) -> Event {
        let at = Utc
            .with_ymd_and_hms(2026, 3, 9, 11, 5, 0)
            .single()
            .expect("instant");
        let c = Completion {
            id: EventId(Uuid::from_u128(7)),
            occurrence: OccurrenceId(Uuid::from_u128(8)),
            due: at - chrono::Duration::minutes(5),
            routine: RoutineId(Uuid::from_u128(9)),
            routine_version: 3,
            by: PersonId(Uuid::from_u128(2)),
            at: at + chrono::Duration::milliseconds(250),
            results: vec![
                StepResult {
                    step: "walk-in".into(),
                    answer: StepAnswer::Reading {
                        value,
                        corrective_action: Some("moved stock \u{2014} \"door\" left\nopen".into()),
                    },
                },
                StepResult {
                    step: "clean".into(),
                    answer: StepAnswer::Checked,
                },
            ],
            note: Some(note.into()),
        };
        Event::seal(
            EventId(Uuid::from_u128(7)),
            SiteId(Uuid::from_u128(1)),
            PersonId(Uuid::from_u128(2)),
            DeviceId(Uuid::from_u128(3)),
            12,
            at,
            EventPayload::Completed(c),
            GENESIS_HASH.to_string(),
        )
        .expect("seal")
    }

    #[test]
    fn the_stored_json_is_the_events_own_encoding() {
        for (note, value) in [("", 3.5), ("caf\u{e9} \\ \t", -0.1), ("\u{1f9ca}", 1e-7)] {
            let event = completion(note, value);
            let prepared = PreparedEvent::new(event.clone());
            assert!(prepared.hash_is_valid());
            let expected = serde_json::to_string(&event).expect("encode");
            assert_eq!(prepared.json(), Some(expected.as_str()));
            let back: Event = serde_json::from_str(prepared.json().expect("json")).expect("decode");
            assert_eq!(back, event);
            assert!(back.hash_is_valid());
        }
    }

    #[test]
    fn an_event_whose_hash_does_not_hold_has_no_json() {
        let mut tampered = completion("", 3.5);
        tampered.seq += 1;
        assert!(!PreparedEvent::new(tampered).hash_is_valid());
        let mut upper = completion("", 3.5);
        upper.hash = upper.hash.to_uppercase();
        assert!(!PreparedEvent::new(upper).hash_is_valid());
    }
}
