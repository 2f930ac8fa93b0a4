//! The `Device` object the apps hold: one per device folder. Each method converts its
//! arguments, calls the same method of [`proofline_core::device::Device`] and converts the
//! result or the error — nothing else. The core reads no clock, so neither does this: every
//! call that depends on time takes `now` (the shells pass their clock).
//!
//! Calls block (SQLite writes with fsync, photo processing, network for `enroll` and
//! `sync`): the shells call from a background thread or coroutine. One `Device` may be
//! used from several threads; the core serialises them.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use proofline_core::device::{self as core, EnrollOptions};
use proofline_core::model::{EscalationId, OccurrenceId, PersonId, SiteId, StepResult as Answer};
use uuid::Uuid;

use crate::convert::{span, utc};
use crate::error::ProoflineError;
use crate::records::{
    Absence, Acknowledgement, AgendaItem, Alert, AttentionItem, ChainReport, Completion,
    ComplianceReport, DeviceIdentity, Excuse, MissedItem, OccurrenceDetail, OccurrenceStatus, Org,
    OutboxEntry, OutboxSummary, PhotoRecord, ProofProblem, Reminder, StepResult, SyncReport,
    SyncStatus,
};

/// One device — a person's phone — over its folder: a local store (the append-only event
/// log) and the photo proof. Everything is written durably before a call returns and works
/// offline; [`Device::sync`] exchanges events with the server when there is a network.
#[derive(Debug, uniffi::Object)]
pub struct Device {
    inner: core::Device,
}

/// Results of this module's calls.
type Result<T> = std::result::Result<T, ProoflineError>;

#[uniffi::export]
impl Device {
    /// Opens the device set up in folder `dir` (by [`Device::enroll`] earlier).
    /// `NotFound` when no device is set up there.
    #[uniffi::constructor]
    pub fn open(dir: String) -> Result<Arc<Device>> {
        Ok(wrap(core::Device::open(Path::new(&dir))?))
    }

    /// Enrolls a new device in folder `dir` (created if needed) with the sync server at
    /// `server` (`https://…`) using the one-time `code` a supervisor issued, then runs a
    /// first sync to fetch the person's sites, people and routines. `platform` is `ios` or
    /// `android`; `device_name` ("Maria's phone") is shown to admins. `now` is the device's
    /// clock. A refused code is `Unauthorized`; an unreachable server `Offline` (nothing is
    /// set up then). Once the server has answered the device exists even if the first sync
    /// failed ([`Device::sync_status`] says; the next sync completes it).
    #[uniffi::constructor]
    pub fn enroll(
        dir: String,
        server: String,
        code: String,
        platform: Option<String>,
        device_name: Option<String>,
        now: SystemTime,
    ) -> Result<Arc<Device>> {
        let options = EnrollOptions {
            platform,
            device_name,
        };
        let now = utc(now, "now")?;
        Ok(wrap(core::Device::enroll(
            Path::new(&dir),
            &server,
            &code,
            options,
            now,
        )?))
    }

    /// The device folder.
    pub fn dir(&self) -> String {
        self.inner.dir().to_string_lossy().into_owned()
    }

    /// Who this device is: its id, the person and their sites.
    pub fn identity(&self) -> DeviceIdentity {
        self.inner.identity().into()
    }

    /// The org's sites and people as this device knows them (names for ids).
    pub fn org(&self) -> Org {
        self.inner.org().into()
    }

    /// The person's attention feed at `now`, most urgent first: my overdue checks, my
    /// checks due now, escalations that reached me, repeat failures at my sites. Empty
    /// when all is well.
    pub fn attention(&self, now: SystemTime) -> Result<Vec<AttentionItem>> {
        let items = self.inner.attention(utc(now, "now")?)?;
        Ok(items.into_iter().map(AttentionItem::from).collect())
    }

    /// The person's checks of the site-local day containing `now` (done ones included),
    /// plus earlier checks still open, in due order: the home screen.
    pub fn today(&self, now: SystemTime) -> Result<Vec<AgendaItem>> {
        let items = self.inner.today(utc(now, "now")?)?;
        Ok(items.into_iter().map(AgendaItem::from).collect())
    }

    /// Everything about one occurrence at `now`: steps and proof requirements, window,
    /// assignee, escalation timeline, completions, excuses, recent history. The check
    /// screen.
    pub fn occurrence(&self, occurrence: Uuid, now: SystemTime) -> Result<OccurrenceDetail> {
        let detail = self
            .inner
            .occurrence(OccurrenceId(occurrence), utc(now, "now")?)?;
        Ok(detail.into())
    }

    /// The unmet proof requirements of these answers, as `complete` would list them,
    /// without recording anything: empty when the check can be completed. The check
    /// screen enables its submit button by it and shows each problem on its step.
    pub fn check_proof(
        &self,
        occurrence: Uuid,
        results: Vec<StepResult>,
        photos: Vec<String>,
        now: SystemTime,
    ) -> Result<Vec<ProofProblem>> {
        let results = results.into_iter().map(Answer::from).collect();
        let problems =
            self.inner
                .check_proof(OccurrenceId(occurrence), results, photos, utc(now, "now")?)?;
        Ok(problems.into_iter().map(ProofProblem::from).collect())
    }

    /// Completes an occurrence at `now` with step results, photos (SHA-256s from
    /// [`Device::capture_photo`], attached to the first photo step still short of its
    /// minimum) and an optional note. Every proof requirement is checked first:
    /// `ProofIncomplete` lists every unmet one. Recorded durably, offline; returned.
    pub fn complete(
        &self,
        occurrence: Uuid,
        results: Vec<StepResult>,
        photos: Vec<String>,
        note: Option<String>,
        now: SystemTime,
    ) -> Result<Completion> {
        let results = results.into_iter().map(Answer::from).collect();
        let completion = self.inner.complete(
            OccurrenceId(occurrence),
            results,
            photos,
            note,
            utc(now, "now")?,
        )?;
        Ok(completion.into())
    }

    /// Excuses an occurrence with a reason (supervisor, lead or admin at its site).
    pub fn excuse(&self, occurrence: Uuid, reason: String, now: SystemTime) -> Result<Excuse> {
        let excuse = self
            .inner
            .excuse(OccurrenceId(occurrence), reason, utc(now, "now")?)?;
        Ok(excuse.into())
    }

    /// Records that `person` is away in `[from, until)` (supervisor, lead or admin at every
    /// site of that person); their checks go to the backup.
    pub fn record_absence(
        &self,
        person: Uuid,
        from: SystemTime,
        until: SystemTime,
        reason: Option<String>,
        now: SystemTime,
    ) -> Result<Absence> {
        let absence = self.inner.record_absence(
            PersonId(person),
            utc(from, "the start of the absence")?,
            utc(until, "the end of the absence")?,
            reason,
            utc(now, "now")?,
        )?;
        Ok(absence.into())
    }

    /// Acknowledges an escalation level that has fired and notifies this person
    /// ([`crate::EscalationRef::id`]). It silences re-notification of that level; only a
    /// completion or an excuse ends the chain.
    pub fn acknowledge(&self, escalation: Uuid, now: SystemTime) -> Result<Acknowledgement> {
        let ack = self
            .inner
            .acknowledge(EscalationId(escalation), utc(now, "now")?)?;
        Ok(ack.into())
    }

    /// Missed and late checks of `site` due in `[from, until)`, as of `now`.
    pub fn missed(
        &self,
        site: Uuid,
        from: SystemTime,
        until: SystemTime,
        now: SystemTime,
    ) -> Result<Vec<MissedItem>> {
        let items = self.inner.missed(
            SiteId(site),
            utc(from, "the start of the period")?,
            utc(until, "the end of the period")?,
            utc(now, "now")?,
        )?;
        Ok(items.into_iter().map(MissedItem::from).collect())
    }

    /// Compliance of `site` over occurrences due in `[from, until)`, as of `now`: totals,
    /// one row per routine and one per person.
    pub fn compliance(
        &self,
        site: Uuid,
        from: SystemTime,
        until: SystemTime,
        now: SystemTime,
    ) -> Result<ComplianceReport> {
        let report = self.inner.compliance(
            SiteId(site),
            utc(from, "the start of the period")?,
            utc(until, "the end of the period")?,
            utc(now, "now")?,
        )?;
        Ok(report.into())
    }

    /// Every occurrence of `site` due in `[from, until)` with its status at `now` (what the
    /// server computes from the same events).
    pub fn statuses(
        &self,
        site: Uuid,
        from: SystemTime,
        until: SystemTime,
        now: SystemTime,
    ) -> Result<Vec<OccurrenceStatus>> {
        let rows = self.inner.statuses(
            SiteId(site),
            utc(from, "the start of the period")?,
            utc(until, "the end of the period")?,
            utc(now, "now")?,
        )?;
        Ok(rows.into_iter().map(OccurrenceStatus::from).collect())
    }

    /// Local notifications to schedule for `[now, now + horizon)`, in firing order (ids are
    /// stable: rescheduling replaces).
    pub fn upcoming_reminders(&self, now: SystemTime, horizon: Duration) -> Result<Vec<Reminder>> {
        let reminders = self
            .inner
            .upcoming_reminders(utc(now, "now")?, span(horizon, "the horizon")?)?;
        Ok(reminders.into_iter().map(Reminder::from).collect())
    }

    /// Captures a photo (JPEG or PNG bytes from the camera): turned upright, scaled to
    /// 1600 px, re-encoded without metadata (no GPS), with a thumbnail, stored and queued
    /// for upload. Pass its `sha256` to [`Device::complete`]. Capturing the same bytes
    /// again is harmless. Not an image: `InvalidInput`.
    pub fn capture_photo(&self, bytes: Vec<u8>, captured_at: SystemTime) -> Result<PhotoRecord> {
        let record = self
            .inner
            .capture_photo(&bytes, utc(captured_at, "the capture time")?)?;
        Ok(record.into())
    }

    /// The thumbnail (JPEG bytes) of a photo, captured here or fetched by a sync; absent
    /// when this device does not hold it (yet).
    pub fn thumbnail(&self, photo_sha256: String) -> Result<Option<Vec<u8>>> {
        Ok(self.inner.thumbnail(&photo_sha256)?)
    }

    /// Syncs with the server at `now` (the device's clock): uploads photo proof, pushes
    /// pending events, pulls the sites' events, fetches thumbnails, measures the clock
    /// offset. Network trouble is in the report (`complete` false, `errors`), never lost;
    /// the next sync resumes. Fails only when local storage fails, the device is not
    /// enrolled (`NotFound`) or the server refuses its token (`Unauthorized`).
    pub fn sync(&self, now: SystemTime) -> Result<SyncReport> {
        Ok(self.inner.sync(utc(now, "now")?)?.into())
    }

    /// The escalation and repeat-failure alerts due for the person at `now`, computed on
    /// the device with the server's engine (so they show offline), each marked with
    /// whether the server has confirmed it.
    pub fn alerts(&self, now: SystemTime) -> Result<Vec<Alert>> {
        Ok(self
            .inner
            .alerts(utc(now, "now")?)?
            .into_iter()
            .map(Alert::from)
            .collect())
    }

    /// Registers the push token the phone's push service gave the app (`platform`:
    /// `apns` or `fcm`) with the server, so escalation alerts reach this device. Needs
    /// the network (`Offline` when the server cannot be reached: try again later).
    pub fn register_push_token(&self, platform: String, token: String) -> Result<()> {
        Ok(self.inner.register_push_token(&platform, &token)?)
    }

    /// Where this device stands with its server: address, pending and rejected events,
    /// photos waiting for upload, the last sync and clock offset.
    pub fn sync_status(&self) -> Result<SyncStatus> {
        Ok(self.inner.sync_status()?.into())
    }

    /// How many of this device's events are pending, accepted, duplicate or rejected.
    pub fn outbox_summary(&self) -> Result<OutboxSummary> {
        Ok(self.inner.outbox_summary()?.into())
    }

    /// Every event this device wrote with its sync state, oldest first; rejected ones carry
    /// the server's reason.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        let entries = self.inner.outbox()?;
        Ok(entries.into_iter().map(OutboxEntry::from).collect())
    }

    /// Completions whose times are suspect (clock skew beyond 5 minutes), by event id.
    pub fn skewed_completions(&self) -> Result<Vec<Uuid>> {
        let events = self.inner.skewed_completions()?;
        Ok(events.into_iter().map(|e| e.0).collect())
    }

    /// Re-checks this device's hash chain (and its imported definitions) for deleted or
    /// altered events.
    pub fn verify_chain(&self) -> Result<ChainReport> {
        Ok(self.inner.verify_chain()?.into())
    }
}

fn wrap(inner: core::Device) -> Arc<Device> {
    Arc::new(Device { inner })
}
