//! Sync for an enrolled device: enrolling with a one-time code, and `sync(now)`, the five
//! steps of `docs/sync.md` ("The device side"):
//!
//! 1. upload the pending photos local completions reference, each followed by its
//!    thumbnail (resuming partial uploads);
//! 2. push pending events in batches of at most [`MAX_PUSH_EVENTS`], recording every
//!    ruling in the outbox in one transaction per batch (a sequence gap leaves the event
//!    pending; every other rejection is final and stays visible);
//! 3. pull pages until the server says there are no more, each page stored with its
//!    cursor in one transaction; new definitions refresh the org. Pages grow to
//!    [`MAX_PULL_LIMIT`] when the link is fast enough (a device far behind), and the next
//!    page is fetched while one is stored;
//! 4. fetch the thumbnails of other devices' photo proof this device lacks;
//! 5. record the clock offset (`server_time − now`) and whether it is beyond
//!    [`MAX_CLOCK_SKEW_MS`].
//!
//! The facade's lock is held only for local reads and writes, never across a request, so
//! the app keeps working while a sync waits on the network; a second lock lets one sync
//! run at a time. Network trouble never fails the call: it goes into
//! [`SyncReport::errors`] and the next sync resumes where this one stopped (every step is
//! idempotent). Only a local storage failure, a device that is not enrolled, or a refused
//! token is an `Err`.
//!
//! `now` is the device's clock when the sync starts. The clock offset is measured against
//! the first server answer that states the server's time, with the time the sync took
//! until then (a monotonic measure, not a clock reading) added to `now`, so a long upload
//! never looks like a skewed clock.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::device::error::Error;
use crate::device::inner::Inner;
use crate::device::{BLOB_DIR, Device};
use crate::model::{EventId, Org, SiteId};
use crate::proof::{BlobStore, BlobStoreError, sha256_hex};
use crate::store::{
    BlobKind, BlobRecord, CheckedPage, DB_FILE, DeviceIdentity, Event, EventPayload, Store,
    StoreError, SyncServer, SyncState, UploadState,
};
use crate::sync::client::{BlobUpload, ClientOptions, SyncClient, SyncError};
use crate::sync::protocol::{
    DEFAULT_PULL_LIMIT, EnrollRequest, MAX_CLOCK_SKEW_MS, MAX_PULL_LIMIT, MAX_PUSH_EVENTS,
    PullResponse, PushOutcome, PushRequest, PushTokenRequest, RejectCode,
};

/// Most pull pages one sync asks for (a guard against a server that always says "more").
const MAX_PULL_PAGES: u32 = 100_000;
/// A pull page is sized to arrive in about this long at the pace of the previous one
/// (a sixth of the client's default request timeout).
const PULL_PAGE_SECONDS: f64 = 5.0;

/// What a device tells the server about itself when enrolling.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollOptions {
    /// `ios`, `android` or `cli`.
    pub platform: Option<String>,
    /// A name for the device ("Maria's phone"), shown to admins.
    pub device_name: Option<String>,
}

/// One of this device's events the server finally rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedEvent {
    /// The event.
    pub event: EventId,
    /// Its kind (`completed`, `excused`…).
    pub kind: String,
    /// Why, for programs.
    pub code: RejectCode,
    /// Why, for people (the server's sentence).
    pub reason: String,
    /// What the event was, by name ("completion of Fridge temperatures (Harbor Kitchen)
    /// due Wed 9 Dec 2026 07:00", in the site's zone).
    pub subject: String,
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncReport {
    /// Events sent in push requests.
    pub pushed: u32,
    /// Of those, accepted.
    pub accepted: u32,
    /// Of those, already accepted by an earlier push.
    pub duplicates: u32,
    /// Of those, finally rejected (they count in no state; see [`Device::outbox`]).
    pub rejected: Vec<RejectedEvent>,
    /// New events pulled and stored.
    pub pulled: u32,
    /// Blobs (photos and thumbnails) the server now holds that it did not before this
    /// sync recorded them.
    pub uploaded_blobs: u32,
    /// Bytes sent for them.
    pub uploaded_bytes: u64,
    /// Thumbnails of other devices' photos fetched.
    pub thumbnails_fetched: u32,
    /// The clock offset measured (server − device, ms), if the server answered.
    pub clock_offset_ms: Option<i64>,
    /// Whether that offset is beyond 5 minutes: this device's completions are flagged.
    pub clock_skew_warning: bool,
    /// What went wrong, as sentences (the network, a refused upload, a bad answer).
    pub errors: Vec<String>,
    /// Whether every step finished without an error.
    pub complete: bool,
}

/// Where this device stands with its server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    /// The server's address (`None`: not enrolled, set up from a routines file).
    pub server: Option<String>,
    /// When the device enrolled.
    pub enrolled_at: Option<DateTime<Utc>>,
    /// Events not yet acknowledged by the server.
    pub pending_events: u64,
    /// Events the server finally rejected (see [`Device::outbox`] for the reasons).
    pub rejected_events: u64,
    /// Photos of this device's completions not uploaded yet.
    pub pending_uploads: u64,
    /// When a sync last completed.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// The clock offset last measured (server − device, ms).
    pub last_clock_offset_ms: Option<i64>,
    /// Whether that offset is beyond 5 minutes.
    pub clock_skew_warning: bool,
    /// What went wrong in the last sync, if it did not complete.
    pub last_error: Option<String>,
}

// -----------------------------------------------------------------------------------------
// Enroll

/// Enrolls a new device in `dir` with the server at `server`, then runs a first sync. The
/// device exists once the server has answered, whatever the first sync does (its outcome
/// is in [`Device::sync_status`]; the next sync completes it).
pub(crate) fn enroll(
    dir: &Path,
    server: &str,
    code: &str,
    options: EnrollOptions,
    now: DateTime<Utc>,
) -> Result<Device, Error> {
    let db = dir.join(DB_FILE);
    if db.is_file() {
        let store = Store::open(&db)?;
        if let Some(existing) = store.identity()? {
            let who = store
                .definitions()
                .ok()
                .map(|o| o.person_name(existing.person))
                .unwrap_or_else(|| existing.person.to_string());
            return Err(Error::Invalid(format!(
                "a device is already set up in {} (for {who}); open it instead",
                dir.display()
            )));
        }
    }
    let code = code.trim();
    if code.is_empty() {
        return Err(Error::Invalid(
            "give the enrollment code your supervisor issued (e.g. 7KQ2-M9XD-4FHP)".to_string(),
        ));
    }
    let client = SyncClient::new(server, None, ClientOptions::default()).map_err(Error::Enroll)?;
    let started = Instant::now();
    let answer = client
        .enroll(&EnrollRequest {
            code: code.to_string(),
            platform: options.platform,
            device_name: options.device_name,
        })
        .map_err(Error::Enroll)?;
    let offset = offset_ms(answer.server_time, now, started);
    std::fs::create_dir_all(dir.join(BLOB_DIR)).map_err(StoreError::from)?;
    let mut store = Store::open(&db)?;
    let identity = DeviceIdentity {
        device: answer.device,
        person: answer.person,
        sites: answer.sites.iter().map(|s| s.site).collect(),
        created_at: now,
    };
    let record = SyncServer::enrolled(client.base_url(), &answer.token, now, Some(offset));
    store.initialise_enrolled(&identity, &record)?;
    drop(store);
    let device = Device::wrap(Inner::open(dir)?);
    // Its outcome is recorded in the store; a failure leaves the device for the next sync.
    let _first = run(&device, now);
    Ok(device)
}

// -----------------------------------------------------------------------------------------
// Status

pub(crate) fn status(inner: &Inner) -> Result<SyncStatus, Error> {
    let server = inner.store.sync_server()?;
    let outbox = inner.store.outbox_summary()?;
    let pending_uploads = inner
        .store
        .pending_uploads()?
        .iter()
        .filter(|u| u.blob.kind == BlobKind::Photo)
        .count();
    Ok(SyncStatus {
        server: server.as_ref().map(|s| s.base_url.clone()),
        enrolled_at: server.as_ref().map(|s| s.enrolled_at),
        pending_events: outbox.pending,
        rejected_events: outbox.rejected,
        pending_uploads: pending_uploads as u64,
        last_sync_at: server.as_ref().and_then(|s| s.last_sync_at),
        last_clock_offset_ms: server.as_ref().and_then(|s| s.clock_offset_ms),
        clock_skew_warning: server.as_ref().is_some_and(SyncServer::clock_is_skewed),
        last_error: server.and_then(|s| s.last_error),
    })
}

// -----------------------------------------------------------------------------------------
// Sync

/// Why the steps stopped early.
enum Stop {
    /// The server cannot be reached (already in the report's errors).
    Unreachable,
    /// The token was refused.
    Unauthorized(SyncError),
    /// Local storage failed.
    Local(Error),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Stop {
        Stop::Local(Error::Store(e))
    }
}

impl From<BlobStoreError> for Stop {
    fn from(e: BlobStoreError) -> Stop {
        Stop::Local(Error::Blobs(e))
    }
}

/// One sync in progress.
struct Run<'d> {
    device: &'d Device,
    client: SyncClient,
    blobs: BlobStore,
    /// The server's base URL (the pull cursor's key).
    url: String,
    now: DateTime<Utc>,
    started: Instant,
    offset: Option<i64>,
    report: SyncReport,
}

/// Registers `token` of push service `platform` (`apns` or `fcm`) for this device with its
/// server, so escalation alerts reach the person here.
pub(crate) fn register_push_token(
    device: &Device,
    platform: &str,
    token: &str,
) -> Result<(), Error> {
    let server = device
        .lock()
        .store
        .sync_server()?
        .ok_or(Error::NotEnrolled)?;
    let client = SyncClient::new(
        &server.base_url,
        Some(&server.token),
        ClientOptions::default(),
    )
    .map_err(Error::Sync)?;
    client
        .register_push_token(&PushTokenRequest {
            platform: platform.to_string(),
            token: token.to_string(),
        })
        .map_err(Error::Sync)
}

pub(crate) fn run(device: &Device, now: DateTime<Utc>) -> Result<SyncReport, Error> {
    let _one_at_a_time = device.sync_gate.lock().unwrap_or_else(|e| e.into_inner());
    let (server, blobs) = {
        let inner = device.lock();
        let server = inner.store.sync_server()?.ok_or(Error::NotEnrolled)?;
        (server, inner.blobs.clone())
    };
    let client = SyncClient::new(
        &server.base_url,
        Some(&server.token),
        ClientOptions::default(),
    )
    .map_err(Error::Sync)?;
    let mut run = Run {
        device,
        client,
        blobs,
        url: server.base_url.clone(),
        now,
        started: Instant::now(),
        offset: None,
        report: SyncReport::default(),
    };
    let stop = run.steps().err();
    let mut report = run.report;
    report.clock_offset_ms = run.offset;
    report.clock_skew_warning = run.offset.is_some_and(|o| o.abs() > MAX_CLOCK_SKEW_MS);
    report.complete = report.errors.is_empty() && stop.is_none();
    let error = match &stop {
        Some(Stop::Unauthorized(e)) => Some(e.to_string()),
        Some(Stop::Local(e)) => Some(e.to_string()),
        _ => report.errors.first().cloned(),
    };
    let recorded = device
        .lock()
        .store
        .record_sync(now, run.offset, error.as_deref());
    match stop {
        Some(Stop::Local(e)) => Err(e),
        Some(Stop::Unauthorized(e)) => {
            recorded?;
            Err(Error::Sync(e))
        }
        None | Some(Stop::Unreachable) => {
            recorded?;
            Ok(report)
        }
    }
}

impl Run<'_> {
    fn steps(&mut self) -> Result<(), Stop> {
        self.upload_blobs()?;
        self.push()?;
        self.pull()?;
        self.fetch_thumbnails()
    }

    /// A network result: the value, or `None` after recording an error that does not stop
    /// the sync (a refused request, a bad answer); unreachable servers and refused tokens
    /// stop it.
    fn net<T>(&mut self, what: &str, result: Result<T, SyncError>) -> Result<Option<T>, Stop> {
        match result {
            Ok(value) => Ok(Some(value)),
            Err(e @ SyncError::Unauthorized { .. }) => Err(Stop::Unauthorized(e)),
            Err(e) if e.is_unreachable() => {
                self.report
                    .errors
                    .push(format!("{e}; nothing is lost, the next sync resumes"));
                Err(Stop::Unreachable)
            }
            Err(e) => {
                self.report.errors.push(format!("{what}: {e}"));
                Ok(None)
            }
        }
    }

    /// Notes the server's clock from an answer (the first one counts).
    fn observe(&mut self, server_time: DateTime<Utc>) {
        if self.offset.is_none() {
            self.offset = Some(offset_ms(server_time, self.now, self.started));
        }
    }

    fn site_name(&self, site: SiteId) -> String {
        self.device
            .lock()
            .org
            .site(site)
            .map_or_else(|| "its site".to_string(), |s| s.name.clone())
    }

    // Step 1.
    fn upload_blobs(&mut self) -> Result<(), Stop> {
        let pending = self.device.lock().store.pending_uploads()?;
        for upload in pending {
            let blob = &upload.blob;
            let what = format!(
                "uploading {} {} ({})",
                blob.kind.as_str(),
                short(&blob.sha256),
                self.site_name(upload.site)
            );
            let bytes = match self.blobs.get(&blob.sha256) {
                Ok(Some(bytes)) => bytes,
                Ok(None) => {
                    self.report.errors.push(format!(
                        "{what}: it is missing from this device's photo store"
                    ));
                    continue;
                }
                Err(e) => {
                    self.report.errors.push(format!("{what}: {e}"));
                    continue;
                }
            };
            if sha256_hex(&bytes) != blob.sha256 {
                self.report.errors.push(format!(
                    "{what}: it is damaged on this device (its bytes no longer match its SHA-256)"
                ));
                continue;
            }
            let result = self.client.upload_blob(&BlobUpload {
                sha256: &blob.sha256,
                bytes: &bytes,
                kind: blob.kind,
                site: upload.site,
                photo: blob.photo.as_deref(),
                width: blob.width,
                height: blob.height,
                captured_at: blob.captured_at,
            });
            let Some(outcome) = self.net(&what, result)? else {
                continue;
            };
            self.device.lock().store.mark_uploaded(&blob.sha256)?;
            self.report.uploaded_blobs += 1;
            self.report.uploaded_bytes += outcome.sent_bytes;
        }
        Ok(())
    }

    // Step 2.
    fn push(&mut self) -> Result<(), Stop> {
        loop {
            let (events, clock_offset_ms) = {
                let inner = self.device.lock();
                let events = inner.store.pending_events(MAX_PUSH_EVENTS)?;
                let offset = inner.store.sync_server()?.and_then(|s| s.clock_offset_ms);
                (events, offset)
            };
            if events.is_empty() {
                return Ok(());
            }
            let sent = events.len();
            let what = format!("pushing {}", count(sent, "event"));
            let request = PushRequest {
                events,
                clock_offset_ms,
            };
            let result = self.client.push(&request);
            let Some(answer) = self.net(&what, result)? else {
                return Ok(());
            };
            self.observe(answer.server_time);
            self.report.pushed += u32::try_from(sent).unwrap_or(u32::MAX);
            let outcomes: HashMap<EventId, &PushOutcome> =
                answer.results.iter().map(|r| (r.id, &r.outcome)).collect();
            let mut rulings = Vec::new();
            let mut rejected: Vec<(&Event, RejectCode, String)> = Vec::new();
            let mut gap = None;
            let mut unanswered = 0usize;
            for event in &request.events {
                match outcomes.get(&event.id) {
                    None => unanswered += 1,
                    Some(PushOutcome::Accepted { .. }) => {
                        rulings.push((event.id, SyncState::Accepted));
                        self.report.accepted += 1;
                    }
                    Some(PushOutcome::Duplicate) => {
                        rulings.push((event.id, SyncState::Duplicate));
                        self.report.duplicates += 1;
                    }
                    Some(PushOutcome::Rejected {
                        code,
                        reason,
                        expected_seq,
                    }) if code.is_retryable() => {
                        gap.get_or_insert((event.seq, *expected_seq, reason.clone()));
                    }
                    Some(PushOutcome::Rejected { code, reason, .. }) => {
                        rulings.push((
                            event.id,
                            SyncState::Rejected {
                                reason: reason.clone(),
                            },
                        ));
                        rejected.push((event, *code, reason.clone()));
                    }
                }
            }
            {
                let mut inner = self.device.lock();
                inner.store.set_sync_states(&rulings, self.now)?;
                for (event, code, reason) in &rejected {
                    self.report.rejected.push(RejectedEvent {
                        event: event.id,
                        kind: event.payload.kind().to_string(),
                        code: *code,
                        reason: reason.clone(),
                        subject: describe(&inner.org, event),
                    });
                }
                if rejected.iter().any(|(e, _, _)| e.payload.is_definition()) {
                    inner.org = inner.store.definitions()?;
                }
            }
            if unanswered > 0 {
                self.report.errors.push(format!(
                    "{what}: the server ruled on {} of them; the rest stay pending",
                    sent - unanswered
                ));
            }
            if rulings.is_empty() {
                if let Some((seq, expected, reason)) = gap {
                    let expected = expected.map_or_else(String::new, |e| format!(" #{e}"));
                    self.report.errors.push(format!(
                        "{what}: the server expects event{expected} of this device next, not \
                         #{seq} ({reason}); the events stay pending and are sent again at the \
                         next sync"
                    ));
                }
                return Ok(());
            }
        }
    }

    // Step 3.
    fn pull(&mut self) -> Result<(), Stop> {
        const WHAT: &str = "pulling the sites' events";
        let mut cursor = self.device.lock().store.cursor(&self.url)?;
        let mut fetched = fetch_page(&self.client, cursor.as_deref(), DEFAULT_PULL_LIMIT);
        for _ in 0..MAX_PULL_PAGES {
            let Some(Fetched {
                page,
                checked,
                took,
            }) = self.net(WHAT, fetched)?
            else {
                return Ok(());
            };
            self.observe(page.server_time);
            let got = checked.as_ref().map_or(0, |c| c.events().len());
            let stalled = got == 0 && cursor.as_deref() == Some(page.next.as_str());
            let ahead = page.more && !stalled && checked.is_ok();
            let limit = next_pull_limit(got, took);
            // The next page is fetched and checked while this one is stored: the network,
            // the server's work and the hash checks overlap the device's writes. It is
            // stored only once this page and its cursor are committed.
            let (applied, next) = std::thread::scope(|scope| {
                let client = &self.client;
                let after = page.next.as_str();
                let prefetch =
                    ahead.then(|| scope.spawn(move || fetch_page(client, Some(after), limit)));
                let applied = store_page(self.device, &self.url, checked, &page.next, self.now);
                let next =
                    prefetch.map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
                (applied, next)
            });
            match applied? {
                Ok(new) => self.report.pulled += u32::try_from(new).unwrap_or(u32::MAX),
                Err(problem) => {
                    self.report.errors.push(format!(
                        "{WHAT}: {problem}; nothing of that page was stored"
                    ));
                    return Ok(());
                }
            }
            if page.more && stalled {
                self.report.errors.push(format!(
                    "{WHAT}: the server says more are waiting but sent none; the next sync \
                     asks again"
                ));
                return Ok(());
            }
            let Some(next) = next else {
                return Ok(());
            };
            cursor = Some(page.next);
            fetched = next;
        }
        self.report.errors.push(format!(
            "{WHAT}: stopped after {MAX_PULL_PAGES} pages; the next sync goes on from there"
        ));
        Ok(())
    }

    // Step 4.
    fn fetch_thumbnails(&mut self) -> Result<(), Stop> {
        let wanted = self.device.lock().store.thumbnails_wanted()?;
        for want in wanted {
            let what = format!(
                "fetching the thumbnail of photo {} ({})",
                short(&want.photo),
                self.site_name(want.site)
            );
            let result = self.client.thumbnail(&want.photo);
            let Some(found) = self.net(&what, result)? else {
                continue;
            };
            // Not on the server yet: its device has not uploaded it.
            let Some(download) = found else {
                continue;
            };
            let sha = download
                .sha256
                .clone()
                .unwrap_or_else(|| sha256_hex(&download.bytes));
            match self.blobs.put_verified(&sha, &download.bytes) {
                Ok(()) => {}
                Err(
                    e @ (BlobStoreError::HashMismatch { .. } | BlobStoreError::InvalidSha256(_)),
                ) => {
                    self.report.errors.push(format!("{what}: {e}"));
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
            self.device.lock().store.put_blob(&BlobRecord {
                sha256: sha,
                kind: BlobKind::Thumbnail,
                bytes: download.bytes.len() as u64,
                width: download.width.unwrap_or(0),
                height: download.height.unwrap_or(0),
                captured_at: download
                    .captured_at
                    .or(want.completed_at)
                    .unwrap_or(self.now),
                upload: UploadState::Uploaded,
                photo: Some(want.photo.clone()),
            })?;
            self.report.thumbnails_fetched += 1;
        }
        Ok(())
    }
}

/// A pulled page: the server's answer (its events moved into `checked`), its events
/// checked for storing, and how long the request took.
struct Fetched {
    page: PullResponse,
    checked: Result<CheckedPage, StoreError>,
    took: std::time::Duration,
}

/// Pulls the page after `after` and checks its events ([`CheckedPage::check`]).
fn fetch_page(
    client: &SyncClient,
    after: Option<&str>,
    limit: usize,
) -> Result<Fetched, SyncError> {
    let started = Instant::now();
    let mut page = client.pull(after, limit)?;
    let took = started.elapsed();
    let checked = CheckedPage::check(std::mem::take(&mut page.events));
    Ok(Fetched {
        page,
        checked,
        took,
    })
}

/// The size of the next pull page after one of `got` events that took `took` to arrive:
/// as many as arrive in [`PULL_PAGE_SECONDS`] at that pace, from [`DEFAULT_PULL_LIMIT`]
/// up to [`MAX_PULL_LIMIT`]. A device far behind (a fresh one pulls its sites' whole
/// history) asks for the largest pages a fast link brings, so fewer requests and fewer
/// commits; a slow link keeps pages it fetches well within the request timeout.
fn next_pull_limit(got: usize, took: std::time::Duration) -> usize {
    let per_second = got as f64 / took.as_secs_f64().max(0.001);
    let fits = (per_second * PULL_PAGE_SECONDS).min(MAX_PULL_LIMIT as f64) as usize;
    fits.clamp(DEFAULT_PULL_LIMIT, MAX_PULL_LIMIT)
}

/// Stores a checked page and its cursor `next` (one transaction) and refreshes the org
/// when the page brought definitions: the number of new events, or why the page was
/// refused (nothing of it stored).
fn store_page(
    device: &Device,
    url: &str,
    checked: Result<CheckedPage, StoreError>,
    next: &str,
    now: DateTime<Utc>,
) -> Result<Result<usize, String>, Stop> {
    let stored = checked.and_then(|page| {
        let mut inner = device.lock();
        let new = inner.store.apply_checked_page(url, &page, next, now)?;
        if new.iter().any(|e| e.payload.is_definition()) {
            inner.org = inner.store.definitions()?;
        }
        Ok(new.len())
    });
    match stored {
        Ok(new) => Ok(Ok(new)),
        Err(e @ StoreError::BadPulledEvent { .. }) => Ok(Err(e.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// `server_time − (now + time elapsed since started)`, in milliseconds.
fn offset_ms(server_time: DateTime<Utc>, now: DateTime<Utc>, started: Instant) -> i64 {
    let elapsed = Duration::from_std(started.elapsed()).unwrap_or(Duration::zero());
    let device_time = now.checked_add_signed(elapsed).unwrap_or(now);
    server_time
        .signed_duration_since(device_time)
        .num_milliseconds()
}

/// What an event was, by name: "completion of Fridge temperatures (Harbor Kitchen) due
/// Wed 9 Dec 2026 07:00" (the site's local time).
pub(crate) fn describe(org: &Org, event: &Event) -> String {
    let check = |routine, due| {
        let Some(r) = org.routine(routine) else {
            return format!("a check due {}", due_text(due));
        };
        match org.site(r.site) {
            Some(site) => format!(
                "{} ({}) due {}",
                r.title,
                site.name,
                due.with_timezone(&site.time_zone)
                    .format("%a %-d %b %Y %H:%M")
            ),
            None => format!("{} due {}", r.title, due_text(due)),
        }
    };
    match &event.payload {
        EventPayload::Completed(c) => format!("completion of {}", check(c.routine, c.due)),
        EventPayload::Excused(e) => format!("excuse of {}", check(e.routine, e.due)),
        EventPayload::Acknowledged(a) => format!(
            "acknowledgement by {} of an escalation",
            org.person_name(a.by)
        ),
        EventPayload::EscalationFired(f) => format!(
            "record of escalation level {} of {}",
            f.level,
            org.routine(f.routine)
                .map_or("a check", |r| r.title.as_str())
        ),
        EventPayload::AbsenceRecorded(a) => format!(
            "absence of {} from {} until {}",
            org.person_name(a.person),
            due_text(a.from),
            due_text(a.until)
        ),
        EventPayload::RoutineDefined(r) => format!("routine {} version {}", r.title, r.version),
        EventPayload::SiteDefined(s) => format!("site {}", s.name),
        EventPayload::PersonDefined(p) => format!("person {}", p.name),
        EventPayload::OrgNamed { name } => format!("org name {name}"),
    }
}

fn due_text(at: DateTime<Utc>) -> String {
    at.format("%a %-d %b %Y %H:%M UTC").to_string()
}

/// "1 event", "3 events".
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The first 12 characters of a hash, for messages.
fn short(sha: &str) -> String {
    sha.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration as StdDuration;

    use super::*;

    #[test]
    fn pull_pages_grow_with_the_link_and_never_beyond_the_server_limit() {
        // Loopback or a fast link: the largest page.
        assert_eq!(
            next_pull_limit(1000, StdDuration::from_millis(40)),
            MAX_PULL_LIMIT
        );
        // 400 events/s: 2,000 arrive in 5 s.
        assert_eq!(next_pull_limit(1000, StdDuration::from_millis(2500)), 2000);
        // A slow link, an empty page or a zero time never go below the default.
        assert_eq!(
            next_pull_limit(1000, StdDuration::from_secs(20)),
            DEFAULT_PULL_LIMIT
        );
        assert_eq!(
            next_pull_limit(0, StdDuration::from_millis(5)),
            DEFAULT_PULL_LIMIT
        );
        assert_eq!(next_pull_limit(5000, StdDuration::ZERO), MAX_PULL_LIMIT);
    }
}
