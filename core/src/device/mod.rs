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
mod window;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};

pub use error::DeviceError;

use crate::agenda::{AgendaItem, OccurrenceDetail};
use crate::attention::AttentionItem;
use crate::model::{
    Absence, Acknowledgement, Completion, EscalationId, Excuse, OccurrenceId, Org, PersonId,
    SiteId, StepResult,
};
use crate::proof::PhotoRecord;
use crate::reminders::Reminder;
use crate::review::{ComplianceReport, MissedItem};
use crate::store::{ChainReport, DeviceIdentity, OutboxSummary};

use self::error::to_public;
use self::inner::Inner;

/// The blob directory inside a device directory.
pub const BLOB_DIR: &str = "blobs";

/// One device: a person's phone, or a headless device driven by the CLI.
#[derive(Debug)]
pub struct Device {
    inner: Mutex<Inner>,
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

    fn wrap(inner: Inner) -> Device {
        Device {
            inner: Mutex::new(inner),
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
}
