//! The push writer: one thread records every push, in group commits.
//!
//! A push's request thread decodes the body and checks every hash ([`PreparedEvent`]),
//! then queues the push here and waits. The writer takes the first push waiting, drains
//! whatever else is queued behind it (at most [`MAX_GROUP_PUSHES`] pushes and about
//! [`MAX_GROUP_EVENTS`] events), rules on them in order in ONE write transaction, commits
//! once (one fsync for the whole group), and only then publishes the org, counts the
//! rulings and answers each push. A push that fails to be recorded (a storage error) does
//! not take the others down: the transaction is rolled back and the group recorded again
//! without it (see [`record`]). Under load the group grows by itself: while
//! one group commits, the next one queues.
//!
//! The fsync is pipelined: the writer commits a group ([`Storage::ingest_group`] leaves
//! it unsynced) and hands its answers to the sync thread, which makes every group
//! committed so far durable with one fsync ([`Storage::sync_commits`]) and only then
//! answers them, while the writer already records the next group. A push's latency is
//! then its group's CPU work plus one fsync, not a queue of fsyncs.
//!
//! [`Storage::ingest_group`]: crate::storage::Storage::ingest_group
//! [`Storage::sync_commits`]: crate::storage::Storage::sync_commits
//!
//! What a push sees is what it would see alone: pushes are ruled in arrival order, each
//! against the org as the group's earlier pushes left it (a routine defined by one push
//! can be completed by the next), and against every earlier ruling (they are in the same
//! transaction). Nothing is answered before it is durable; when the commit fails, every
//! push of the group is answered with an error and nothing of it is kept.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;

use chrono::{DateTime, Utc};
use proofline_core::sync::protocol::PushOutcome;
use tokio::sync::oneshot;

use crate::app::AppState;
use crate::error::ApiError;
use crate::ruling::PushRuler;
use crate::storage::{DeviceRecord, IngestBatch, PreparedEvent, Storage, StorageError};

/// Most pushes recorded in one group commit.
pub const MAX_GROUP_PUSHES: usize = 64;
/// Events after which a group takes no more pushes (a single push may be larger).
pub const MAX_GROUP_EVENTS: usize = 5_000;

/// The answer to a queued push: one outcome per event, in order.
pub type PushAnswer = Result<Vec<PushOutcome>, ApiError>;

/// The answer to a submitted push, to wait for.
#[derive(Debug)]
pub struct Answer(oneshot::Receiver<PushAnswer>);

impl Answer {
    /// Waits for the answer.
    pub async fn recorded(self) -> PushAnswer {
        self.0.await.map_err(|_| {
            ApiError::internal(
                "recording a push",
                "the writer thread dropped the push without answering",
            )
        })?
    }
}

/// One push, decoded, waiting to be recorded.
#[derive(Debug)]
pub struct PushJob {
    /// The pushing device.
    pub device: DeviceRecord,
    /// How messages name it.
    pub device_label: String,
    /// Its events, in the order sent (shared with the request's thread, which may still be
    /// checking them).
    pub events: Arc<[PreparedEvent]>,
    /// The server's clock when the push arrived.
    pub now: DateTime<Utc>,
    /// The device's reported clock offset.
    pub clock_offset_ms: Option<i64>,
    /// Stored on every accepted event when the device's clock is off too far.
    pub clock_skew_ms: Option<i64>,
}

#[derive(Debug)]
enum Message {
    Push(Box<PushJob>, oneshot::Sender<PushAnswer>),
    Stop,
}

/// The queue into the writer thread and the thread itself.
#[derive(Debug)]
pub struct Writer {
    queue: Sender<Message>,
    inbox: Mutex<Option<Receiver<Message>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Default for Writer {
    fn default() -> Self {
        Writer::new()
    }
}

impl Writer {
    /// A writer whose queue accepts pushes; they are recorded once [`Writer::start`] runs.
    pub fn new() -> Writer {
        let (queue, inbox) = mpsc::channel();
        Writer {
            queue,
            inbox: Mutex::new(Some(inbox)),
            thread: Mutex::new(None),
        }
    }

    /// Starts the writer thread for `state` (once; later calls do nothing). The thread
    /// holds the state weakly: it ends when the state is dropped or [`Writer::stop`] runs.
    pub fn start(state: &Arc<AppState>) -> std::io::Result<()> {
        let writer = &state.writer;
        let Some(inbox) = lock(&writer.inbox).take() else {
            return Ok(());
        };
        let weak = Arc::downgrade(state);
        let thread = std::thread::Builder::new()
            .name("proofline-writer".into())
            .spawn(move || run(&weak, &inbox))?;
        *lock(&writer.thread) = Some(thread);
        Ok(())
    }

    /// Queues `job`; its answer comes once the group it is recorded in is committed.
    pub fn submit(&self, job: PushJob) -> Result<Answer, ApiError> {
        let (answer, answered) = oneshot::channel();
        self.queue
            .send(Message::Push(Box::new(job), answer))
            .map_err(|_| ApiError::internal("recording a push", "the writer thread is gone"))?;
        Ok(Answer(answered))
    }

    /// Records what is queued, then ends the thread and waits for it. Blocking.
    pub fn stop(&self) {
        let _ = self.queue.send(Message::Stop);
        if let Some(thread) = lock(&self.thread).take()
            && thread.join().is_err()
        {
            tracing::error!("the writer thread panicked");
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

type Queued = (PushJob, oneshot::Sender<PushAnswer>);

/// The writer thread: starts the sync thread, records groups until told to stop or the
/// state is gone, then waits for the sync thread to answer what it was handed.
fn run(state: &Weak<AppState>, inbox: &Receiver<Message>) {
    let Some(storage) = state.upgrade().map(|s| Arc::clone(&s.storage)) else {
        return;
    };
    let (committed, to_sync) = mpsc::channel::<Committed>();
    let syncer = std::thread::Builder::new()
        .name("proofline-sync".into())
        .spawn(move || sync_and_answer(&storage, &to_sync));
    let syncer = match syncer {
        Ok(thread) => thread,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the commit sync thread; pushes will fail");
            return;
        }
    };
    record_groups(state, inbox, &committed);
    drop(committed);
    if syncer.join().is_err() {
        tracing::error!("the commit sync thread panicked");
    }
}

/// Takes groups off the queue and records each (see [`record`]).
fn record_groups(state: &Weak<AppState>, inbox: &Receiver<Message>, committed: &Sender<Committed>) {
    let mut carried: Option<Queued> = None;
    let mut stopping = false;
    loop {
        let first = match carried.take() {
            Some(queued) => queued,
            None if stopping => match inbox.try_recv() {
                Ok(Message::Push(job, answer)) => (*job, answer),
                Ok(Message::Stop) => continue,
                Err(_) => return,
            },
            None => match inbox.recv() {
                Ok(Message::Push(job, answer)) => (*job, answer),
                Ok(Message::Stop) => {
                    stopping = true;
                    continue;
                }
                Err(_) => return,
            },
        };
        let mut events = first.0.events.len();
        let mut group = vec![first];
        while group.len() < MAX_GROUP_PUSHES && events < MAX_GROUP_EVENTS {
            match inbox.try_recv() {
                Ok(Message::Push(job, answer)) => {
                    if events + job.events.len() > MAX_GROUP_EVENTS {
                        carried = Some((*job, answer));
                        break;
                    }
                    events += job.events.len();
                    group.push((*job, answer));
                }
                Ok(Message::Stop) => stopping = true,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    stopping = true;
                    break;
                }
            }
        }
        // Dropping the group unanswered (state gone, or a bug panicking) answers each of
        // its pushes with an error: their senders are dropped.
        let Some(state) = state.upgrade() else {
            return;
        };
        if catch_unwind(AssertUnwindSafe(|| record(&state, group, committed))).is_err() {
            tracing::error!("recording a group of pushes panicked; it was rolled back");
        }
    }
}

/// Answers of a committed group, waiting for its fsync.
type Committed = Vec<(oneshot::Sender<PushAnswer>, PushAnswer)>;

/// The sync thread: makes committed groups durable, then answers them. It ends once the
/// writer thread (holding the sender) ends and every group handed over is answered.
fn sync_and_answer(storage: &Arc<dyn Storage>, committed: &Receiver<Committed>) {
    while let Ok(first) = committed.recv() {
        let mut groups = vec![first];
        groups.extend(committed.try_iter());
        let synced = storage.sync_commits();
        if let Err(e) = &synced {
            tracing::error!(error = %e, groups = groups.len(), "syncing group commits failed");
        }
        for (answer, answer_to) in groups.into_iter().flatten() {
            let answer_to = match &synced {
                Ok(()) => answer_to,
                // Committed but maybe not durable: the device pushes again and hears
                // `duplicate` for what was kept.
                Err(e) => Err(ApiError::internal("recording a push", e)),
            };
            let _ = answer.send(answer_to);
        }
    }
}

/// Rules on and records a group in one transaction, then hands each push's answer to the
/// sync thread (`to_sync`).
///
/// A push whose recording fails (a storage error; its rulings are never the cause) may
/// be half written, so the transaction is rolled back and the group recorded again
/// without it: each attempt drops at least one push, and failures are the rare
/// exception, so a failed push costs the others one more attempt and nothing else.
fn record(state: &AppState, group: Vec<Queued>, to_sync: &Sender<Committed>) {
    let _guard = lock(&state.ingest);
    let base = state.org();
    let mut failures: Vec<Option<StorageError>> = group.iter().map(|_| None).collect();
    loop {
        let mut org = Arc::clone(&base);
        let mut org_changed = false;
        let mut recorded: Vec<Option<Vec<PushOutcome>>> = group.iter().map(|_| None).collect();
        let mut failed: Option<(usize, StorageError)> = None;
        let committed = state.storage.ingest_group(&mut |writing| {
            for (n, (job, _)) in group.iter().enumerate() {
                if failures[n].is_some() {
                    continue;
                }
                let mut ruler = PushRuler::new(&job.device, &job.device_label, Arc::clone(&org));
                let batch = IngestBatch {
                    device: job.device.id,
                    events: &job.events,
                    now: job.now,
                    clock_offset_ms: job.clock_offset_ms,
                    clock_skew_ms: job.clock_skew_ms,
                };
                match writing.ingest(batch, &mut ruler) {
                    Ok(outcomes) => {
                        if let Some(changed) = ruler.into_changed_org() {
                            org = Arc::new(changed);
                            org_changed = true;
                        }
                        recorded[n] = Some(outcomes);
                    }
                    Err(e) => {
                        failed = Some((n, e));
                        return false;
                    }
                }
            }
            true
        });
        match (committed, failed) {
            (Ok(true), _) => {
                if org_changed {
                    state.publish_org_arc(org);
                }
                let mut answers = Vec::with_capacity(group.len());
                for (((job, answer), outcomes), failure) in
                    group.into_iter().zip(recorded).zip(failures)
                {
                    let answer_to = match (outcomes, failure) {
                        (Some(outcomes), _) => {
                            state
                                .devices
                                .pushed(job.device.id, job.now, job.clock_offset_ms);
                            state.metrics.rulings(&outcomes);
                            Ok(outcomes)
                        }
                        (None, Some(e)) => Err(ApiError::from(e)),
                        (None, None) => Err(ApiError::internal(
                            "recording a push",
                            "the push was left out of its group",
                        )),
                    };
                    answers.push((answer, answer_to));
                }
                if let Err(mpsc::SendError(answers)) = to_sync.send(answers) {
                    for (answer, _) in answers {
                        let _ = answer.send(Err(ApiError::internal(
                            "recording a push",
                            "the commit sync thread is gone",
                        )));
                    }
                }
                return;
            }
            (Ok(false), Some((n, e))) => {
                tracing::warn!(error = %e, device = %group[n].0.device.id, "a push failed; recording its group again without it");
                failures[n] = Some(e);
            }
            (Ok(false), None) => {
                fail_all(group, &"the group was rolled back");
                return;
            }
            (Err(e), _) => {
                fail_all(group, &e);
                return;
            }
        }
    }
}

/// Answers every push of a group that could not be committed with an error.
fn fail_all(group: Vec<Queued>, why: &dyn std::fmt::Display) {
    tracing::error!(error = %why, pushes = group.len(), "a group commit failed");
    for (_, answer) in group {
        let _ = answer.send(Err(ApiError::internal("recording a push", why)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use proofline_core::model::{Completion, DeviceId, EventId, PersonId, StepAnswer, StepResult};
    use proofline_core::occurrence::occurrence_id;
    use proofline_core::routines_file::{parse_routines_file, person_id, site_id};
    use proofline_core::store::{Event, EventPayload, GENESIS_HASH, new_event_id};
    use uuid::Uuid;

    const PEOPLE: &str = r#"
org = "Group"

[[sites]]
key = "harbor"
name = "Harbor Kitchen"
time_zone = "America/New_York"

[[people]]
key = "dana"
name = "Dana Kim"
roles = { harbor = "lead" }

[[people]]
key = "maria"
name = "Maria Lopez"
roles = { harbor = "staff" }
"#;

    const ROUTINE: &str = r#"
[[routines]]
key = "opening"
site = "harbor"
title = "Opening checks"
owner = "maria"
rrule = "FREQ=DAILY;BYHOUR=7;BYMINUTE=0"
start = "2026-01-01T07:00"

[[routines.steps]]
key = "handwash"
title = "Hand-wash sinks stocked"
kind = "check"
"#;

    /// Records `group` and makes it durable, as the writer and sync threads do.
    fn record_synced(state: &AppState, group: Vec<Queued>) {
        let (to_sync, committed) = mpsc::channel();
        record(state, group, &to_sync);
        drop(to_sync);
        sync_and_answer(&state.storage, &committed);
    }

    fn device(n: u128, person: PersonId) -> DeviceRecord {
        DeviceRecord {
            id: DeviceId(Uuid::from_u128(n)),
            person,
            token_sha256: format!("{n:064x}"),
            name: None,
            platform: None,
            created_at: Utc::now(),
            last_seen: None,
            clock_offset_ms: None,
            revoked_at: None,
        }
    }

    fn job(state: &AppState, device: &DeviceRecord, payload: EventPayload, id: EventId) -> PushJob {
        let now = Utc::now();
        let event = Event::seal(
            id,
            site_id("harbor"),
            device.person,
            device.id,
            1,
            now,
            payload,
            GENESIS_HASH.to_string(),
        )
        .expect("seal");
        PushJob {
            device: device.clone(),
            device_label: crate::http::device_label(state, device),
            events: Arc::new([PreparedEvent::checked(event)]),
            now,
            clock_offset_ms: None,
            clock_skew_ms: None,
        }
    }

    #[test]
    fn a_push_sees_the_definitions_of_an_earlier_push_in_its_group() {
        let dir = tempfile::tempdir().expect("dir");
        let state = crate::server::open_state(
            dir.path(),
            "admin".into(),
            1 << 20,
            crate::dispatch::Dispatcher::idle(),
        )
        .expect("state");
        crate::admin::import_text(&state, PEOPLE, Utc::now()).expect("import");
        let file = parse_routines_file("test", &format!("{PEOPLE}{ROUTINE}")).expect("file");
        let routine = file.routines[0].clone();
        let dana = device(1, person_id("dana"));
        let maria = device(2, person_id("maria"));
        let due = DateTime::parse_from_rfc3339("2026-03-02T12:00:00Z")
            .expect("due")
            .with_timezone(&Utc);
        let at = due + Duration::minutes(5);
        let done = new_event_id(at);
        let completion = Completion {
            id: done,
            occurrence: occurrence_id(routine.id, due),
            due,
            routine: routine.id,
            routine_version: routine.version,
            by: maria.person,
            at,
            results: vec![StepResult {
                step: "handwash".into(),
                answer: StepAnswer::Checked,
            }],
            note: None,
        };
        let define = job(
            &state,
            &dana,
            EventPayload::RoutineDefined(routine.clone()),
            new_event_id(at),
        );
        let complete = job(&state, &maria, EventPayload::Completed(completion), done);
        let (first, first_answer) = oneshot::channel();
        let (second, second_answer) = oneshot::channel();
        record_synced(&state, vec![(define, first), (complete, second)]);
        for answer in [first_answer, second_answer] {
            let outcomes = answer.blocking_recv().expect("answered").expect("recorded");
            assert!(
                matches!(outcomes[..], [PushOutcome::Accepted { .. }]),
                "{outcomes:?}"
            );
        }
        assert!(state.org().org().routine(routine.id).is_some(), "published");
    }

    /// The server's SQLite storage, except that recording a push of one device fails
    /// after writing it (a half-written push).
    use crate::storage::notifications::{
        Attempt, DeliveryState, PushPlatform, PushToken, QueuedNotification,
    };

    struct FailingFor {
        inner: crate::storage::SqliteStorage,
        device: DeviceId,
    }

    struct FailingGroup<'g> {
        inner: &'g mut dyn crate::storage::IngestGroup,
        device: DeviceId,
        failed: bool,
    }

    impl crate::storage::IngestGroup for FailingGroup<'_> {
        fn ingest(
            &mut self,
            batch: IngestBatch<'_>,
            ruler: &mut dyn crate::storage::Ruler,
        ) -> Result<Vec<PushOutcome>, StorageError> {
            let device = batch.device;
            let outcomes = self.inner.ingest(batch, ruler)?;
            if device == self.device {
                self.failed = true;
                return Err(StorageError::corrupt("test", "failing after writing"));
            }
            Ok(outcomes)
        }
    }

    impl crate::storage::NotificationStore for FailingFor {
        fn register_push_token(&self, token: &PushToken) -> Result<(), StorageError> {
            self.inner.register_push_token(token)
        }
        fn remove_push_token(
            &self,
            platform: PushPlatform,
            token: &str,
        ) -> Result<bool, StorageError> {
            self.inner.remove_push_token(platform, token)
        }
        fn push_tokens(&self) -> Result<Vec<PushToken>, StorageError> {
            self.inner.push_tokens()
        }
        fn queued_keys(&self) -> Result<Vec<(Uuid, String)>, StorageError> {
            self.inner.queued_keys()
        }
        fn enqueue(&self, rows: &[QueuedNotification]) -> Result<usize, StorageError> {
            self.inner.enqueue(rows)
        }
        fn reminded(&self) -> Result<Vec<crate::storage::notifications::Reminded>, StorageError> {
            self.inner.reminded()
        }
        fn due_notifications(
            &self,
            now: DateTime<Utc>,
            limit: usize,
        ) -> Result<Vec<QueuedNotification>, StorageError> {
            self.inner.due_notifications(now, limit)
        }
        fn record_attempts(
            &self,
            attempts: &[(crate::storage::notifications::RowKey, Attempt)],
            gone: &[(PushPlatform, String)],
        ) -> Result<usize, StorageError> {
            self.inner.record_attempts(attempts, gone)
        }
        fn notifications(
            &self,
            state: Option<DeliveryState>,
            limit: usize,
        ) -> Result<Vec<QueuedNotification>, StorageError> {
            self.inner.notifications(state, limit)
        }
    }

    impl crate::storage::Storage for FailingFor {
        fn ingest(
            &self,
            batch: IngestBatch<'_>,
            ruler: &mut dyn crate::storage::Ruler,
        ) -> Result<Vec<PushOutcome>, StorageError> {
            self.inner.ingest(batch, ruler)
        }
        fn enqueue_and_ingest(
            &self,
            rows: &[QueuedNotification],
            reminded: &[crate::storage::notifications::Reminded],
            own: Option<crate::storage::OwnEvents<'_>>,
            ruler: &mut dyn crate::storage::Ruler,
        ) -> Result<crate::storage::QueuedAndIngested, StorageError> {
            self.inner.enqueue_and_ingest(rows, reminded, own, ruler)
        }
        fn ingest_group(
            &self,
            record: &mut dyn FnMut(&mut dyn crate::storage::IngestGroup) -> bool,
        ) -> Result<bool, StorageError> {
            self.inner.ingest_group(&mut |group| {
                let mut failing = FailingGroup {
                    inner: group,
                    device: self.device,
                    failed: false,
                };
                record(&mut failing) && !failing.failed
            })
        }
        fn sync_commits(&self) -> Result<(), StorageError> {
            self.inner.sync_commits()
        }
        fn chain_head(&self, device: DeviceId) -> Result<crate::storage::ChainHead, StorageError> {
            self.inner.chain_head(device)
        }
        fn definitions(&self) -> Result<Vec<Event>, StorageError> {
            self.inner.definitions()
        }
        fn pull(
            &self,
            sites: &[proofline_core::model::SiteId],
            exclude: DeviceId,
            after: u64,
            limit: usize,
            visit: &mut dyn FnMut(crate::storage::StoredEvent<'_>),
        ) -> Result<crate::storage::PullPage, StorageError> {
            self.inner.pull(sites, exclude, after, limit, visit)
        }
        fn pull_everything(
            &self,
            after: u64,
            limit: usize,
            visit: &mut dyn FnMut(crate::storage::StoredEvent<'_>),
        ) -> Result<crate::storage::PullPage, StorageError> {
            self.inner.pull_everything(after, limit, visit)
        }
        fn history(
            &self,
            sites: Option<&[proofline_core::model::SiteId]>,
        ) -> Result<proofline_core::model::History, StorageError> {
            self.inner.history(sites)
        }
        fn rejected(&self) -> Result<Vec<crate::storage::RejectedRuling>, StorageError> {
            self.inner.rejected()
        }
        fn server_device(
            &self,
            candidate: DeviceId,
            now: DateTime<Utc>,
        ) -> Result<DeviceId, StorageError> {
            self.inner.server_device(candidate, now)
        }
        fn add_enrollment_code(
            &self,
            code: &crate::storage::EnrollmentCode,
        ) -> Result<(), StorageError> {
            self.inner.add_enrollment_code(code)
        }
        fn redeem_enrollment_code(
            &self,
            code_sha256: &str,
            device: DeviceRecord,
            now: DateTime<Utc>,
        ) -> Result<crate::storage::Redeemed, StorageError> {
            self.inner.redeem_enrollment_code(code_sha256, device, now)
        }
        fn devices(&self) -> Result<Vec<DeviceRecord>, StorageError> {
            self.inner.devices()
        }
        fn revoke_device(
            &self,
            device: DeviceId,
            now: DateTime<Utc>,
        ) -> Result<bool, StorageError> {
            self.inner.revoke_device(device, now)
        }
        fn touch_device(&self, device: DeviceId, at: DateTime<Utc>) -> Result<(), StorageError> {
            self.inner.touch_device(device, at)
        }
        fn blob(&self, sha256: &str) -> Result<Option<crate::storage::StoredBlob>, StorageError> {
            self.inner.blob(sha256)
        }
        fn thumbnail_of(
            &self,
            photo: &str,
        ) -> Result<Option<crate::storage::StoredBlob>, StorageError> {
            self.inner.thumbnail_of(photo)
        }
        fn put_blob(&self, blob: &crate::storage::StoredBlob) -> Result<bool, StorageError> {
            self.inner.put_blob(blob)
        }
        fn blob_bytes(&self) -> Result<u64, StorageError> {
            self.inner.blob_bytes()
        }
    }

    #[test]
    fn a_push_that_fails_to_be_recorded_does_not_take_its_group_down() {
        use crate::storage::Storage as _;
        let dir = tempfile::tempdir().expect("dir");
        let failing = DeviceId(Uuid::from_u128(3));
        let storage = FailingFor {
            inner: crate::storage::SqliteStorage::open(dir.path()).expect("open"),
            device: failing,
        };
        let server_device = storage
            .server_device(DeviceId(Uuid::from_u128(99)), Utc::now())
            .expect("server chain");
        let storage = Arc::new(storage);
        let state = AppState::new(crate::app::StateParts {
            storage: Arc::clone(&storage) as Arc<dyn crate::storage::Storage>,
            org: crate::org::OrgState::default(),
            devices: crate::devices::Devices::new(Vec::new()),
            metrics: crate::metrics::Metrics::new(0),
            blobs: crate::blob_files::BlobFiles::open(dir.path()).expect("blobs"),
            admin_token: "admin".into(),
            max_blob_bytes: 1 << 20,
            server_device,
            dispatcher: crate::dispatch::Dispatcher::idle(),
        });
        crate::admin::import_text(&state, &format!("{PEOPLE}{ROUTINE}"), Utc::now())
            .expect("import");
        let routine = state.org().org().routines[0].clone();
        let maria = person_id("maria");
        let devices = [device(1, maria), device(3, maria), device(2, maria)];
        let mut group = Vec::new();
        let mut answers = Vec::new();
        for (n, device) in devices.iter().enumerate() {
            let due = DateTime::parse_from_rfc3339("2026-03-02T12:00:00Z")
                .expect("due")
                .with_timezone(&Utc)
                + Duration::days(i64::try_from(n).expect("small"));
            let at = due + Duration::minutes(5);
            let id = new_event_id(at);
            let completion = Completion {
                id,
                occurrence: occurrence_id(routine.id, due),
                due,
                routine: routine.id,
                routine_version: routine.version,
                by: maria,
                at,
                results: vec![StepResult {
                    step: "handwash".into(),
                    answer: StepAnswer::Checked,
                }],
                note: None,
            };
            let (answer, answered) = oneshot::channel();
            group.push((
                job(&state, device, EventPayload::Completed(completion), id),
                answer,
            ));
            answers.push(answered);
        }
        record_synced(&state, group);
        let answers: Vec<PushAnswer> = answers
            .into_iter()
            .map(|a| a.blocking_recv().expect("answered"))
            .collect();
        assert!(matches!(
            answers[0].as_deref(),
            Ok([PushOutcome::Accepted { .. }])
        ));
        assert!(matches!(answers[1], Err(ApiError::Internal(_))));
        assert!(matches!(
            answers[2].as_deref(),
            Ok([PushOutcome::Accepted { .. }])
        ));
        assert_eq!(storage.chain_head(devices[0].id).expect("head").seq, 1);
        assert_eq!(
            storage.chain_head(failing).expect("head").seq,
            0,
            "rolled back"
        );
        assert_eq!(storage.chain_head(devices[2].id).expect("head").seq, 1);
    }
}
