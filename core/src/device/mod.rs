//! The device facade: one object the shells and the CLI call; it owns a store and a
//! person/site context.
//!
//! [`Device`] is plain Rust, tested directly; the uniffi bindings wrap it one method to
//! one method. Each method here is one line: lock the inner state, call it, convert the
//! error ([`error`]). The logic lives in `inner` (writes, permissions, occurrence
//! resolution) and `window` (which part of the history a call reads); the domain rules
//! live in the engines (`attention`, `agenda`, `review`, `reminders`, `completion`).
//!
//! A device directory holds `proofline.db` (the store) and `blobs/` (photo proof). Every
//! write is durable before the call returns. Nothing here reads a clock: `now` is always
//! a parameter.
//!
//! # Sync
//!
//! A device is set up either from a routines file ([`Device::create`], offline only) or by
//! enrolling with a sync server ([`Device::enroll`]: a one-time code, then every
//! definition arrives by pull). [`Device::sync`] uploads photo proof, pushes the outbox,
//! pulls the sites' events and fetches thumbnails (see `sync`); events the server finally
//! rejects stay visible in [`Device::outbox`] but count in no state, so the device and
//! the server compute the same statuses ([`Device::statuses`]).
//!
//! # Who may do what (at the routine's site)
//!
//! - complete a check: any member of the site (any role);
//! - excuse a check, record an absence: supervisor, lead or admin (an absence: at every
//!   site of the absent person);
//! - acknowledge an escalation level: a person that level notifies, once it has fired;
//! - read a site's missed checks and compliance: any member of the site.
//!
//! # Photos on a completion
//!
//! A photo step's answer lists SHA-256s of photos captured on this device
//! ([`Device::capture_photo`]). The `photos` passed to [`Device::complete`] that no answer
//! references are attached in order to the first photo step that still has fewer photos
//! than its minimum (creating its answer if needed), else to the first photo step. A
//! routine without photo steps refuses them. Every photo referenced must be in this
//! device's blob index.

pub mod error;
mod inner;
mod sync;
mod window;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};

pub use error::DeviceError;
pub use sync::{EnrollOptions, RejectedEvent, SyncReport, SyncStatus};

use crate::agenda::{AgendaItem, OccurrenceDetail};
use crate::attention::AttentionItem;
use crate::completion::ProofProblem;
use crate::model::{
    Absence, Acknowledgement, Completion, EscalationId, EventId, Excuse, OccurrenceId, Org,
    PersonId, SiteId, StepResult,
};
use crate::proof::PhotoRecord;
use crate::reminders::Reminder;
use crate::review::{ComplianceReport, MissedItem, OccurrenceStatus};
use crate::store::{ChainReport, DeviceIdentity, OutboxEntry, OutboxSummary};

use self::error::to_public;
use crate::notify::Notice;

/// An alert the engine says is due for the device's person (see [`Device::alerts`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Alert {
    /// The notice, as the server's dispatcher computes it (same id, same words).
    pub notice: Notice,
    /// Whether the server has recorded this escalation level as fired (its
    /// `escalation_fired` event arrived by pull); `false` while the device is offline or
    /// the server has not ticked yet. Always `false` for repeat-failure alerts.
    pub confirmed_by_server: bool,
}
use self::inner::Inner;

/// The blob directory inside a device directory.
pub const BLOB_DIR: &str = "blobs";

/// One device: a person's phone, or a headless device driven by the CLI.
#[derive(Debug)]
pub struct Device {
    inner: Mutex<Inner>,
    /// Held for a whole sync (one at a time), while `inner` is held only for local steps.
    sync_gate: Mutex<()>,
}

impl Device {
    /// Sets up a device in `dir` (created if needed) for `person`, importing the
    /// definitions of the person's sites from `org` (sites, their people, routines and
    /// absences) as events of origin `import`. Fails if a device is already set up there.
    pub fn create(
        dir: &Path,
        org: &Org,
        person: PersonId,
        now: DateTime<Utc>,
    ) -> Result<Device, DeviceError> {
        Inner::create(dir, org, person, now)
            .map(Device::wrap)
            .map_err(to_public)
    }

    /// Opens the device set up in `dir`, rebuilding the org from its events.
    pub fn open(dir: &Path) -> Result<Device, DeviceError> {
        Inner::open(dir).map(Device::wrap).map_err(to_public)
    }

    /// Enrolls a new device in `dir` (created if needed) with the sync server at `server`
    /// using a one-time enrollment `code`: the server assigns the device id, the person
    /// and the sites; the device keeps the server's address and its token, then runs a
    /// first sync to pull the definitions. Once the server has answered the device exists,
    /// even if that first sync fails ([`Device::sync_status`] says; the next sync
    /// completes it). A refused code is [`DeviceError::Unauthorized`]; an unreachable
    /// server [`DeviceError::Offline`] (nothing is set up then).
    pub fn enroll(
        dir: &Path,
        server: &str,
        code: &str,
        options: EnrollOptions,
        now: DateTime<Utc>,
    ) -> Result<Device, DeviceError> {
        sync::enroll(dir, server, code, options, now).map_err(to_public)
    }

    fn wrap(inner: Inner) -> Device {
        Device {
            inner: Mutex::new(inner),
            sync_gate: Mutex::new(()),
        }
    }

    /// The inner state. A panic while holding the lock cannot leave a half-written event
    /// (writes are transactions), so a poisoned lock is used as is.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The device directory.
    pub fn dir(&self) -> PathBuf {
        self.lock().dir().to_path_buf()
    }

    /// Who this device is: its id, the person and the sites.
    pub fn identity(&self) -> DeviceIdentity {
        self.lock().identity().clone()
    }

    /// The org as the device's events define it now.
    pub fn org(&self) -> Org {
        self.lock().org().clone()
    }

    /// The person's attention feed at `now`, most urgent first (empty when all is well).
    pub fn attention(&self, now: DateTime<Utc>) -> Result<Vec<AttentionItem>, DeviceError> {
        self.lock().attention(now).map_err(to_public)
    }

    /// The escalation and repeat-failure alerts due for the person at `now`, computed
    /// from the local store with the same engine as the server's dispatcher (so they show
    /// offline too); each says whether the server has confirmed it yet.
    pub fn alerts(&self, now: DateTime<Utc>) -> Result<Vec<Alert>, DeviceError> {
        self.lock().alerts(now).map_err(to_public)
    }

    /// The person's checks of the site-local day containing `now`.
    pub fn today(&self, now: DateTime<Utc>) -> Result<Vec<AgendaItem>, DeviceError> {
        self.lock().today(now).map_err(to_public)
    }

    /// Everything about one occurrence, for the check screen.
    pub fn occurrence(
        &self,
        occurrence: OccurrenceId,
        now: DateTime<Utc>,
    ) -> Result<OccurrenceDetail, DeviceError> {
        self.lock().occurrence(occurrence, now).map_err(to_public)
    }

    /// The unmet proof requirements of these answers, as [`Device::complete`] would list
    /// them, without recording anything (empty: the check can be completed). For the
    /// check screen: its submit button is enabled by this, and each problem is shown on
    /// its step.
    pub fn check_proof(
        &self,
        occurrence: OccurrenceId,
        results: Vec<StepResult>,
        photos: Vec<String>,
        now: DateTime<Utc>,
    ) -> Result<Vec<ProofProblem>, DeviceError> {
        self.lock()
            .check_proof(occurrence, results, photos, now)
            .map_err(to_public)
    }

    /// Completes an occurrence with step results, photos (SHA-256s captured on this
    /// device; see the module documentation) and an optional note. Every proof requirement
    /// is checked first ([`DeviceError::ProofIncomplete`] lists every unmet one); on
    /// success the completion is recorded durably and returned.
    pub fn complete(
        &self,
        occurrence: OccurrenceId,
        results: Vec<StepResult>,
        photos: Vec<String>,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Completion, DeviceError> {
        self.lock()
            .complete(occurrence, results, photos, note, now)
            .map_err(to_public)
    }

    /// Excuses an occurrence with a reason (supervisor, lead or admin at its site).
    pub fn excuse(
        &self,
        occurrence: OccurrenceId,
        reason: String,
        now: DateTime<Utc>,
    ) -> Result<Excuse, DeviceError> {
        self.lock()
            .excuse(occurrence, reason, now)
            .map_err(to_public)
    }

    /// Records that `person` is away in `[from, until)` (supervisor, lead or admin at
    /// every site of that person); their checks go to the backup.
    pub fn record_absence(
        &self,
        person: PersonId,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Absence, DeviceError> {
        self.lock()
            .record_absence(person, from, until, reason, now)
            .map_err(to_public)
    }

    /// Acknowledges an escalation level that has fired and notifies this person.
    pub fn acknowledge(
        &self,
        escalation: EscalationId,
        now: DateTime<Utc>,
    ) -> Result<Acknowledgement, DeviceError> {
        self.lock().acknowledge(escalation, now).map_err(to_public)
    }

    /// Missed and late checks of `site` due in `[from, until)`, as of `now`.
    pub fn missed(
        &self,
        site: SiteId,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<MissedItem>, DeviceError> {
        self.lock()
            .missed(site, from, until, now)
            .map_err(to_public)
    }

    /// Compliance of `site` over occurrences due in `[from, until)`, as of `now`.
    pub fn compliance(
        &self,
        site: SiteId,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<ComplianceReport, DeviceError> {
        self.lock()
            .compliance(site, from, until, now)
            .map_err(to_public)
    }

    /// Local notifications to schedule for `[now, now + horizon)`.
    pub fn upcoming_reminders(
        &self,
        now: DateTime<Utc>,
        horizon: Duration,
    ) -> Result<Vec<Reminder>, DeviceError> {
        self.lock()
            .upcoming_reminders(now, horizon)
            .map_err(to_public)
    }

    /// Captures a photo (decoded, turned upright, scaled, re-encoded without metadata,
    /// with a thumbnail) into the device's blob store and indexes both as pending upload.
    /// Its `sha256` is what [`Device::complete`] takes. Capturing the same bytes again is
    /// harmless.
    pub fn capture_photo(
        &self,
        bytes: &[u8],
        captured_at: DateTime<Utc>,
    ) -> Result<PhotoRecord, DeviceError> {
        self.lock()
            .capture_photo(bytes, captured_at)
            .map_err(to_public)
    }

    /// Re-checks this device's hash chain (and its imported definitions): the first broken
    /// event, if any, is in the report.
    pub fn verify_chain(&self) -> Result<ChainReport, DeviceError> {
        self.lock().verify_chain().map_err(to_public)
    }

    /// How many of this device's events are pending, accepted, duplicate or rejected.
    pub fn outbox_summary(&self) -> Result<OutboxSummary, DeviceError> {
        self.lock().outbox_summary().map_err(to_public)
    }

    /// Every event this device wrote with its sync state, in `seq` order; rejected ones
    /// carry the server's reason.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>, DeviceError> {
        self.lock().outbox().map_err(to_public)
    }

    /// Syncs with the server at `now` (the device's clock): uploads pending photo proof,
    /// pushes pending events, pulls the sites' events, fetches missing thumbnails and
    /// measures the clock offset. Network trouble is reported in the report
    /// ([`SyncReport::errors`], `complete: false`), never lost; the next sync resumes. An
    /// `Err` only when local storage fails, the device is not enrolled
    /// ([`DeviceError::NotFound`]) or the server refuses its token
    /// ([`DeviceError::Unauthorized`]).
    pub fn sync(&self, now: DateTime<Utc>) -> Result<SyncReport, DeviceError> {
        sync::run(self, now).map_err(to_public)
    }

    /// Registers the token the phone's push service gave the app (`platform`: `apns` or
    /// `fcm`) with the server, so escalation alerts reach this device. Call at enrollment
    /// and whenever the service issues a new token. Needs the network:
    /// [`DeviceError::Offline`] when the server cannot be reached (try again later).
    pub fn register_push_token(&self, platform: &str, token: &str) -> Result<(), DeviceError> {
        sync::register_push_token(self, platform, token).map_err(to_public)
    }

    /// Where this device stands with its server: address, pending and rejected events,
    /// photos waiting for upload, the last sync and the last clock offset.
    pub fn sync_status(&self) -> Result<SyncStatus, DeviceError> {
        sync::status(&self.lock()).map_err(to_public)
    }

    /// Every occurrence of `site` due in `[from, until)` with its status at `now` (what
    /// the server computes from the same events).
    pub fn statuses(
        &self,
        site: SiteId,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<OccurrenceStatus>, DeviceError> {
        self.lock()
            .statuses(site, from, until, now)
            .map_err(to_public)
    }

    /// The thumbnail (JPEG bytes) of a photo, captured here or fetched by a sync; `None`
    /// when this device does not hold it (yet).
    pub fn thumbnail(&self, photo_sha256: &str) -> Result<Option<Vec<u8>>, DeviceError> {
        self.lock().thumbnail(photo_sha256).map_err(to_public)
    }

    /// Completions whose times are suspect, in arrival order: other devices' the server
    /// flagged for clock skew, and this device's own written while its last measured clock
    /// offset was beyond 5 minutes.
    pub fn skewed_completions(&self) -> Result<Vec<EventId>, DeviceError> {
        self.lock().skewed_completions().map_err(to_public)
    }
}
