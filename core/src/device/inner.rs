//! What the facade delegates to: setting up and opening a device, resolving occurrence
//! ids, permission checks, and writing events (one transaction each, via the store).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};

use crate::agenda::{self, AgendaItem, OccurrenceDetail};
use crate::attention::{self, AttentionItem, local_time};
use crate::completion::{self, ProofProblem};
use crate::device::Alert;
use crate::device::BLOB_DIR;
use crate::device::error::Error;
use crate::device::window;
use crate::escalation::timeline;
use crate::model::{
    Absence, Acknowledgement, Cadence, Completion, DeviceId, EscalationId, EventId, Excuse,
    History, OccurrenceId, Org, Person, PersonId, Recipient, Role, Routine, SiteId, StepAnswer,
    StepKind, StepResult,
};
use crate::notify::{self, NoticeKind};
use crate::occurrence::{Occurrence, occurrence_id, occurrences};
use crate::proof::blob_store::is_sha256_hex;
use crate::proof::{BlobStore, CaptureOptions, PhotoRecord, capture_photo};
use crate::reminders::{self, Reminder};
use crate::review::{self, ComplianceReport, MissedItem, OccurrenceStatus};
use crate::store::{
    BlobKind, BlobRecord, ChainReport, DB_FILE, DeviceIdentity, EventPayload, HistoryWindow,
    OutboxEntry, OutboxSummary, Store, UploadState, apply_definition, new_event_id,
};

/// How far either side of `now` an occurrence id is looked for (the check screen's span).
/// How far back the server's `escalation_fired` records are read to mark escalations
/// confirmed (alerts look back a day; a week leaves room for clocks and long chains).
const CONFIRMED_LOOKBACK_DAYS: i64 = 7;
const SEARCH_DAYS: i64 = agenda::SEARCH_DAYS;
/// The narrower span searched first.
const FIRST_SEARCH_DAYS: i64 = 2;

/// The device's state behind the facade's lock.
#[derive(Debug)]
pub(crate) struct Inner {
    dir: PathBuf,
    pub(super) store: Store,
    identity: DeviceIdentity,
    /// Derived from the definition events; updated as this device records more, and
    /// rebuilt when a sync pulls definitions or the server rejects one of this device's.
    pub(super) org: Org,
    /// Photo proof bytes, by SHA-256.
    pub(super) blobs: BlobStore,
}

impl Inner {
    pub(crate) fn create(
        dir: &Path,
        org: &Org,
        person: PersonId,
        now: DateTime<Utc>,
    ) -> Result<Inner, Error> {
        let Some(me) = org.person(person) else {
            return Err(Error::NotFound(format!(
                "person {person} is not in the org {:?}",
                org.name
            )));
        };
        let sites: Vec<SiteId> = me
            .roles
            .iter()
            .map(|r| r.site)
            .filter(|s| org.site(*s).is_some())
            .collect();
        if sites.is_empty() {
            return Err(Error::NotAllowed(format!(
                "{} has no role at any site of {}, so there is nothing for this device to do",
                me.name, org.name
            )));
        }
        std::fs::create_dir_all(dir.join(BLOB_DIR)).map_err(crate::store::StoreError::from)?;
        let mut store = Store::open(&dir.join(DB_FILE))?;
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
        let identity = DeviceIdentity {
            device: DeviceId(new_event_id(now).0),
            person,
            sites: sites.clone(),
            created_at: now,
        };
        store.initialise(&identity, definitions_for(org, &sites))?;
        let org = store.definitions()?;
        let blobs = BlobStore::open(dir.join(BLOB_DIR))?;
        Ok(Inner {
            dir: dir.to_path_buf(),
            store,
            identity,
            org,
            blobs,
        })
    }

    pub(crate) fn open(dir: &Path) -> Result<Inner, Error> {
        let path = dir.join(DB_FILE);
        if !path.is_file() {
            return Err(Error::NotFound(format!(
                "no device is set up in {}",
                dir.display()
            )));
        }
        let store = Store::open(&path)?;
        let Some(identity) = store.identity()? else {
            return Err(Error::NotFound(format!(
                "no device is set up in {}",
                dir.display()
            )));
        };
        let blobs = BlobStore::open(dir.join(BLOB_DIR))?;
        // Before anything writes: what a killed process left half-written is garbage.
        blobs.remove_interrupted_writes();
        let org = store.definitions()?;
        Ok(Inner {
            dir: dir.to_path_buf(),
            store,
            identity,
            org,
            blobs,
        })
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn identity(&self) -> &DeviceIdentity {
        &self.identity
    }

    pub(crate) fn org(&self) -> &Org {
        &self.org
    }

    fn me(&self) -> PersonId {
        self.identity.person
    }

    // ---------------------------------------------------------------------------------
    // Reads

    pub(crate) fn attention(&self, now: DateTime<Utc>) -> Result<Vec<AttentionItem>, Error> {
        let history = window::attention_history(&self.store, &self.org, self.me(), now)?;
        let mut items = attention::attention(&self.org, &history, self.me(), now);
        let confirmed = self.confirmed_escalations(now)?;
        for escalation in items.iter_mut().filter_map(|i| i.escalation.as_mut()) {
            escalation.confirmed_by_server = confirmed.contains(&escalation.id);
        }
        Ok(items)
    }

    /// The alerts the engine says are due for this device's person at `now`, computed from
    /// the local store (so offline too), each marked with whether the server has
    /// confirmed it.
    pub(crate) fn alerts(&self, now: DateTime<Utc>) -> Result<Vec<Alert>, Error> {
        let history = window::attention_history(&self.store, &self.org, self.me(), now)?;
        let confirmed = self.confirmed_escalations(now)?;
        Ok(notify::notices(&self.org, &history, None, now)
            .into_iter()
            .filter(|n| n.recipient == self.me())
            .map(|notice| Alert {
                confirmed_by_server: match notice.kind {
                    NoticeKind::Escalation { escalation, .. } => confirmed.contains(&escalation),
                    NoticeKind::RepeatFailure { .. } => false,
                },
                notice,
            })
            .collect())
    }

    /// Escalation levels the server recorded as fired recently enough to still matter.
    fn confirmed_escalations(&self, now: DateTime<Utc>) -> Result<HashSet<EscalationId>, Error> {
        let since = now
            .checked_sub_signed(chrono::Duration::days(CONFIRMED_LOOKBACK_DAYS))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        Ok(self.store.fired_escalations(since)?)
    }

    pub(crate) fn today(&self, now: DateTime<Utc>) -> Result<Vec<AgendaItem>, Error> {
        let history = self.store.history(&window::near_now(&self.org, now))?;
        Ok(agenda::today(&self.org, &history, self.me(), now)?)
    }

    pub(crate) fn occurrence(
        &self,
        id: OccurrenceId,
        now: DateTime<Utc>,
    ) -> Result<OccurrenceDetail, Error> {
        let (routine, occ) = self.resolve(id, now)?;
        let history = self
            .store
            .history(&window::occurrence(&self.org, &routine, occ.due, now))?;
        Ok(agenda::occurrence_detail(&self.org, &history, id, now)?)
    }

    pub(crate) fn missed(
        &self,
        site: SiteId,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<MissedItem>, Error> {
        self.require_member(site, "reviewing its checks")?;
        let history = self
            .store
            .history(&window::period(&self.org, site, from, until))?;
        Ok(review::missed(&self.org, &history, site, from, until, now)?)
    }

    pub(crate) fn compliance(
        &self,
        site: SiteId,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<ComplianceReport, Error> {
        self.require_member(site, "reviewing its compliance")?;
        let history = self
            .store
            .history(&window::period(&self.org, site, from, until))?;
        Ok(review::compliance(
            &self.org, &history, site, from, until, now,
        )?)
    }

    pub(crate) fn statuses(
        &self,
        site: SiteId,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<OccurrenceStatus>, Error> {
        self.require_member(site, "reviewing its checks")?;
        let history = self
            .store
            .history(&window::period(&self.org, site, from, until))?;
        Ok(review::statuses(
            &self.org, &history, site, from, until, now,
        )?)
    }

    pub(crate) fn outbox(&self) -> Result<Vec<OutboxEntry>, Error> {
        Ok(self.store.outbox()?)
    }

    pub(crate) fn skewed_completions(&self) -> Result<Vec<EventId>, Error> {
        Ok(self.store.skewed_completions()?)
    }

    /// The thumbnail bytes of a photo (captured here or fetched by a sync), if held.
    pub(crate) fn thumbnail(&self, photo: &str) -> Result<Option<Vec<u8>>, Error> {
        let photo = photo.trim().to_ascii_lowercase();
        if !is_sha256_hex(&photo) {
            return Err(Error::Invalid(format!(
                "\"{}\" is not a photo's SHA-256 (64 hexadecimal digits)",
                short(&photo)
            )));
        }
        let Some(thumb) = self.store.thumbnail_of(&photo)? else {
            return Ok(None);
        };
        Ok(self.blobs.get(&thumb.sha256)?)
    }

    pub(crate) fn upcoming_reminders(
        &self,
        now: DateTime<Utc>,
        horizon: Duration,
    ) -> Result<Vec<Reminder>, Error> {
        let history = self.store.history(&window::near_now(&self.org, now))?;
        Ok(reminders::upcoming_reminders(
            &self.org,
            &history,
            self.me(),
            now,
            horizon,
        )?)
    }

    pub(crate) fn capture_photo(
        &mut self,
        bytes: &[u8],
        captured_at: DateTime<Utc>,
    ) -> Result<PhotoRecord, Error> {
        let photo = capture_photo(bytes, captured_at, &CaptureOptions::default(), &self.blobs)?;
        let thumb_bytes = std::fs::metadata(self.blobs.path(&photo.thumb_sha256)?)
            .map(|m| m.len())
            .map_err(crate::store::StoreError::from)?;
        self.store.put_blobs(&[
            BlobRecord {
                sha256: photo.sha256.clone(),
                kind: BlobKind::Photo,
                bytes: photo.bytes,
                width: photo.width,
                height: photo.height,
                captured_at,
                upload: UploadState::Pending,
                photo: None,
            },
            BlobRecord {
                sha256: photo.thumb_sha256.clone(),
                kind: BlobKind::Thumbnail,
                bytes: thumb_bytes,
                width: photo.thumb_width,
                height: photo.thumb_height,
                captured_at,
                upload: UploadState::Pending,
                photo: Some(photo.sha256.clone()),
            },
        ])?;
        Ok(photo)
    }

    pub(crate) fn verify_chain(&self) -> Result<ChainReport, Error> {
        Ok(self.store.verify_chain()?)
    }

    pub(crate) fn outbox_summary(&self) -> Result<OutboxSummary, Error> {
        Ok(self.store.outbox_summary()?)
    }

    // ---------------------------------------------------------------------------------
    // Writes

    /// The proof problems `complete` would refuse these answers for, without recording
    /// anything: the check screen enables its submit button when the list is empty.
    pub(crate) fn check_proof(
        &mut self,
        id: OccurrenceId,
        mut results: Vec<StepResult>,
        photos: Vec<String>,
        now: DateTime<Utc>,
    ) -> Result<Vec<ProofProblem>, Error> {
        let (routine, _) = self.resolve(id, now)?;
        attach_photos(&routine, &mut results, photos)?;
        self.check_photos_captured(&results)?;
        Ok(completion::validate(&routine, &results)
            .err()
            .unwrap_or_default())
    }

    pub(crate) fn complete(
        &mut self,
        id: OccurrenceId,
        mut results: Vec<StepResult>,
        photos: Vec<String>,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Completion, Error> {
        let (routine, occ) = self.resolve(id, now)?;
        self.require_member(routine.site, "completing its checks")?;
        if now < occ.opens {
            let tz = self.zone(routine.site);
            return Err(Error::Invalid(format!(
                "{} (due {}) opens at {}; it cannot be completed before then",
                self.subject(&routine),
                local_time(tz, occ.due, now),
                local_time(tz, occ.opens, now)
            )));
        }
        attach_photos(&routine, &mut results, photos)?;
        self.check_photos_captured(&results)?;
        completion::validate(&routine, &results).map_err(Error::ProofIncomplete)?;
        let event = new_event_id(now);
        let completion = Completion {
            id: event,
            occurrence: occ.id,
            due: occ.due,
            routine: routine.id,
            routine_version: routine.version,
            by: self.me(),
            at: now,
            results,
            note: note.filter(|n| !n.trim().is_empty()),
        };
        self.store.append_local(
            event,
            routine.site,
            self.me(),
            now,
            EventPayload::Completed(completion.clone()),
        )?;
        Ok(completion)
    }

    pub(crate) fn excuse(
        &mut self,
        id: OccurrenceId,
        reason: String,
        now: DateTime<Utc>,
    ) -> Result<Excuse, Error> {
        let (routine, occ) = self.resolve(id, now)?;
        self.require_role(routine.site, Role::Supervisor, "excusing a check")?;
        let reason = reason.trim().to_string();
        if reason.is_empty() {
            return Err(Error::Invalid(format!(
                "give a reason for excusing {}",
                self.subject(&routine)
            )));
        }
        let event = new_event_id(now);
        let excuse = Excuse {
            id: event,
            occurrence: occ.id,
            routine: routine.id,
            due: occ.due,
            by: self.me(),
            at: now,
            reason,
        };
        self.store.append_local(
            event,
            routine.site,
            self.me(),
            now,
            EventPayload::Excused(excuse.clone()),
        )?;
        Ok(excuse)
    }

    pub(crate) fn record_absence(
        &mut self,
        person: PersonId,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Absence, Error> {
        let Some(away) = self.org.person(person).cloned() else {
            return Err(Error::NotFound(format!(
                "person {person} is not known on this device"
            )));
        };
        if until <= from {
            return Err(Error::Invalid(format!(
                "the absence of {} must end after it starts",
                away.name
            )));
        }
        let sites: Vec<SiteId> = away.roles.iter().map(|r| r.site).collect();
        let Some(&first) = sites.first() else {
            return Err(Error::Invalid(format!(
                "{} has no role at any site, so an absence changes nothing",
                away.name
            )));
        };
        for site in &sites {
            let action = format!("recording an absence of {}", away.name);
            self.require_role(*site, Role::Supervisor, &action)?;
        }
        let absence = Absence {
            person,
            from,
            until,
            reason: reason.filter(|r| !r.trim().is_empty()),
        };
        let payload = EventPayload::AbsenceRecorded(absence.clone());
        self.store
            .append_local(new_event_id(now), first, self.me(), now, payload.clone())?;
        apply_definition(&mut self.org, &payload);
        Ok(absence)
    }

    pub(crate) fn acknowledge(
        &mut self,
        escalation: EscalationId,
        now: DateTime<Utc>,
    ) -> Result<Acknowledgement, Error> {
        let history = self.store.history(&window::near_now(&self.org, now))?;
        let from = window::near_start(&self.org, now);
        let until = now
            .checked_add_signed(Duration::seconds(1))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut found = None;
        'routines: for routine in &self.org.routines {
            let Some(site) = self.org.site(routine.site) else {
                continue;
            };
            if routine.escalation.is_empty() {
                continue;
            }
            for occ in occurrences(routine, site, &history, from, until, now)? {
                let t = timeline(&self.org, routine, &occ, &history, now);
                if let Some(level) = t.levels.into_iter().find(|l| l.id == escalation) {
                    found = Some((routine.clone(), occ, level));
                    break 'routines;
                }
            }
        }
        let Some((routine, occ, level)) = found else {
            return Err(Error::NotFound(format!(
                "no escalation {escalation} of a check due since {} was found",
                from.format("%Y-%m-%d %H:%M UTC")
            )));
        };
        let tz = self.zone(routine.site);
        let what = format!(
            "level {} of {} (due {})",
            level.level,
            self.subject(&routine),
            local_time(tz, occ.due, now)
        );
        if !level.fired {
            return Err(Error::Invalid(format!(
                "{what} has not fired (it would fire at {}), so there is nothing to acknowledge",
                local_time(tz, level.fires_at, now)
            )));
        }
        if !level.recipients.contains(&self.me()) {
            let notifies: Vec<String> = level
                .recipients
                .iter()
                .map(|p| self.org.person_name(*p))
                .collect();
            return Err(Error::NotAllowed(format!(
                "{} is not notified by {what}; only {} can acknowledge it",
                self.org.person_name(self.me()),
                if notifies.is_empty() {
                    "its recipients".to_string()
                } else {
                    notifies.join(", ")
                }
            )));
        }
        let event = new_event_id(now);
        let ack = Acknowledgement {
            id: event,
            escalation,
            by: self.me(),
            at: now,
        };
        self.store.append_local(
            event,
            routine.site,
            self.me(),
            now,
            EventPayload::Acknowledged(ack.clone()),
        )?;
        Ok(ack)
    }

    // ---------------------------------------------------------------------------------
    // Helpers

    /// The routine and occurrence an id names: first from a completion or excuse already
    /// recorded for it (they carry routine and due), else by searching every routine's
    /// occurrences due within [`FIRST_SEARCH_DAYS`], then [`SEARCH_DAYS`], of `now`.
    fn resolve(
        &self,
        id: OccurrenceId,
        now: DateTime<Utc>,
    ) -> Result<(Routine, Occurrence), Error> {
        if let Some((routine_id, due)) = self.store.occurrence_due(id)?
            && occurrence_id(routine_id, due) == id
            && let Some(routine) = self.org.routine(routine_id)
        {
            return Ok((routine.clone(), Occurrence::new(routine, due)));
        }
        // Due times of rule cadences do not depend on history; after-completion chains do.
        let chains: Vec<_> = self
            .org
            .routines
            .iter()
            .filter(|r| matches!(r.cadence, Cadence::AfterCompletion { .. }))
            .map(|r| (r.id, None))
            .collect();
        let history = if chains.is_empty() {
            History::default()
        } else {
            self.store.history(&HistoryWindow {
                routines: chains,
                ..HistoryWindow::default()
            })?
        };
        for days in [FIRST_SEARCH_DAYS, SEARCH_DAYS] {
            let span = Duration::days(days);
            let from = now
                .checked_sub_signed(span)
                .unwrap_or(DateTime::<Utc>::MIN_UTC);
            let until = now
                .checked_add_signed(span)
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
            for routine in &self.org.routines {
                let Some(site) = self.org.site(routine.site) else {
                    continue;
                };
                let Ok(found) = occurrences(routine, site, &history, from, until, now) else {
                    continue;
                };
                if let Some(occ) = found.into_iter().find(|o| o.id == id) {
                    return Ok((routine.clone(), occ));
                }
            }
        }
        Err(Error::NotFound(format!(
            "no check has the id {id} (searched every routine's occurrences due within \
             {SEARCH_DAYS} days of now)"
        )))
    }

    /// "Fridge temperatures (Harbor Kitchen)".
    fn subject(&self, routine: &Routine) -> String {
        match self.org.site(routine.site) {
            Some(site) => format!("{} ({})", routine.title, site.name),
            None => routine.title.clone(),
        }
    }

    fn zone(&self, site: SiteId) -> chrono_tz::Tz {
        self.org.site(site).map_or(chrono_tz::UTC, |s| s.time_zone)
    }

    fn site_name(&self, site: SiteId) -> String {
        self.org
            .site(site)
            .map_or_else(|| site.to_string(), |s| s.name.clone())
    }

    /// The device's person must hold a role at `site`.
    fn require_member(&self, site: SiteId, action: &str) -> Result<(), Error> {
        self.require_role(site, Role::Staff, action)
    }

    /// The device's person must hold `min` or a higher role at `site`.
    fn require_role(&self, site: SiteId, min: Role, action: &str) -> Result<(), Error> {
        let name = self.org.person_name(self.me());
        let role = self.org.person(self.me()).and_then(|p| p.role_at(site));
        if role.is_some_and(|r| r >= min) {
            return Ok(());
        }
        let site_name = self.site_name(site);
        let needed = roles_from(min);
        Err(Error::NotAllowed(match role {
            Some(role) => format!("{name} is {role} at {site_name}; {action} needs {needed} there"),
            None => format!("{name} has no role at {site_name}; {action} needs {needed} there"),
        }))
    }

    /// Every photo a result references must be a photo captured on this device.
    fn check_photos_captured(&self, results: &[StepResult]) -> Result<(), Error> {
        for result in results {
            let StepAnswer::Photos { sha256 } = &result.answer else {
                continue;
            };
            for sha in sha256 {
                let known = is_sha256(sha)
                    && self
                        .store
                        .blob(sha)?
                        .is_some_and(|b| b.kind == BlobKind::Photo);
                if !known {
                    return Err(Error::Invalid(format!(
                        "photo {} was not captured on this device; capture it first",
                        short(sha)
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Attaches `photos` that no answer references to photo steps (see the module
/// documentation of [`crate::device`]).
fn attach_photos(
    routine: &Routine,
    results: &mut Vec<StepResult>,
    photos: Vec<String>,
) -> Result<(), Error> {
    let mut referenced: HashSet<String> = HashSet::new();
    for r in results.iter_mut() {
        if let StepAnswer::Photos { sha256 } = &mut r.answer {
            for sha in sha256.iter_mut() {
                *sha = sha.trim().to_ascii_lowercase();
                referenced.insert(sha.clone());
            }
        }
    }
    let photo_steps: Vec<(&str, u32)> = routine
        .steps
        .iter()
        .filter_map(|s| match s.kind {
            StepKind::Photo { min_count } => Some((s.key.as_str(), min_count)),
            _ => None,
        })
        .collect();
    for sha in photos {
        let sha = sha.trim().to_ascii_lowercase();
        if !referenced.insert(sha.clone()) {
            continue;
        }
        let count = |key: &str, results: &[StepResult]| -> usize {
            results
                .iter()
                .filter(|r| r.step == key)
                .map(|r| match &r.answer {
                    StepAnswer::Photos { sha256 } => sha256.len(),
                    _ => 0,
                })
                .sum()
        };
        let target = photo_steps
            .iter()
            .find(|(key, min)| count(key, results) < usize::try_from(*min).unwrap_or(usize::MAX))
            .or(photo_steps.first());
        let Some((key, _)) = target else {
            return Err(Error::Invalid(format!(
                "{} has no photo step, so photo {} cannot be attached",
                routine.title,
                short(&sha)
            )));
        };
        let existing = results
            .iter_mut()
            .find(|r| r.step == *key && matches!(r.answer, StepAnswer::Photos { .. }));
        match existing {
            Some(StepResult {
                answer: StepAnswer::Photos { sha256 },
                ..
            }) => sha256.push(sha),
            _ => results.push(StepResult {
                step: (*key).to_string(),
                answer: StepAnswer::Photos { sha256: vec![sha] },
            }),
        }
    }
    Ok(())
}

/// "supervisor, lead or admin": `min` and every role above it.
fn roles_from(min: Role) -> String {
    let roles: Vec<&str> = [Role::Staff, Role::Supervisor, Role::Lead, Role::Admin]
        .into_iter()
        .filter(|r| *r >= min)
        .map(Role::as_str)
        .collect();
    match roles.as_slice() {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The first 12 characters of a hash, for messages.
fn short(sha: &str) -> String {
    sha.chars().take(12).collect()
}

/// The definitions a device of `sites` imports: the org's name, those sites, the people
/// with a role there or named by their routines, their routines, and those people's
/// absences. Each is filed under a site it belongs to.
fn definitions_for(org: &Org, sites: &[SiteId]) -> Vec<(SiteId, EventPayload)> {
    let Some(&home) = sites.first() else {
        return Vec::new();
    };
    let routines: Vec<&Routine> = org
        .routines
        .iter()
        .filter(|r| sites.contains(&r.site))
        .collect();
    let named = |p: &Person| {
        routines.iter().any(|r| {
            r.owner == p.id
                || r.backup == Some(p.id)
                || r.escalation
                    .iter()
                    .any(|l| l.notify.contains(&Recipient::Person(p.id)))
        })
    };
    let people: Vec<&Person> = org
        .people
        .iter()
        .filter(|p| p.roles.iter().any(|r| sites.contains(&r.site)) || named(p))
        .collect();
    let site_of = |p: PersonId| {
        org.person(p)
            .and_then(|p| p.roles.iter().map(|r| r.site).find(|s| sites.contains(s)))
            .unwrap_or(home)
    };
    let mut out = vec![(
        home,
        EventPayload::OrgNamed {
            name: org.name.clone(),
        },
    )];
    out.extend(
        org.sites
            .iter()
            .filter(|s| sites.contains(&s.id))
            .map(|s| (s.id, EventPayload::SiteDefined(s.clone()))),
    );
    out.extend(
        people
            .iter()
            .map(|p| (site_of(p.id), EventPayload::PersonDefined((*p).clone()))),
    );
    out.extend(
        routines
            .iter()
            .map(|r| (r.site, EventPayload::RoutineDefined((*r).clone()))),
    );
    out.extend(
        org.absences
            .iter()
            .filter(|a| people.iter().any(|p| p.id == a.person))
            .map(|a| (site_of(a.person), EventPayload::AbsenceRecorded(a.clone()))),
    );
    out
}
