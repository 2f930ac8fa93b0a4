//! The escalation dispatcher: the server's authority over push alerts.
//!
//! Every tick it brings its copy of the recent history up to date (the events accepted
//! since its last tick, read in server order, filed by routine), asks the core engine which
//! notices are due (`proofline_core::notify`: the same code the phones run offline), and
//! queues the new ones in the durable outbox, one row per notice and device token of the
//! recipient, and one per level for the webhook when one is configured; re-notification
//! rounds due to one person at one tick go out as one reminder ([`reminders`]: a digest
//! when several), and each person's reminder mark moves with them. The levels that newly
//! fired are recorded (`escalation_fired` events) in the same transaction. The outbox key
//! is the notice's deterministic id and the target, so a second tick or a restart never
//! queues an alert twice.
//!
//! The engine evaluates a routine only when its notices may have changed since its last
//! evaluation: new completions or excuses of it, an acknowledgement of one of its levels,
//! a change of its definition, its site, the people or their absences, a new device of one
//! of its recipients, or the instant the engine named as its next change
//! (`RoutineNotices::next_change`: a level firing, a window edge, a re-notification round,
//! a look-back edge) having passed; and when only time has passed, only the occurrences
//! whose own next change came are evaluated (`settled`: the engine gives each occurrence
//! its next change), and of their notices only those not yet due at their last evaluation
//! are looked up in the outbox. Evaluating the others would list the same notices, all
//! queued already, so a tick queues exactly what evaluating every routine would
//! (`tests/dispatch_incremental.rs` checks it against a restarted dispatcher) and a quiet
//! tick costs a glance at each routine. A tick with hundreds of routines to evaluate (a
//! quarter hour at which something comes due everywhere) evaluates them on several threads.
//! Push tokens are kept in memory too, read again after a registration or removal
//! ([`Dispatcher::push_tokens_changed`]). Delivery ([`deliver`]) then works through the due
//! rows with retries, removes tokens the push services say are gone, and parks what cannot
//! be delivered as dead letters (`GET /v1/admin/notifications?state=dead`).

pub mod deliver;
mod reminders;
pub mod settings;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use proofline_core::attention::check_title;
use proofline_core::ids::uuid_v5;
use proofline_core::model::{
    Acknowledgement, Completion, EscalationFired, EscalationId, Excuse, OccurrenceId, Org,
    PersonId, Routine, RoutineId, SiteId,
};
use proofline_core::notify::{
    ALERT_HORIZON_MIN, Notice, NoticeKey, NoticeKind, RoutineEvents, RoutineNotices,
    nothing_settled, routine_notices_where,
};
use proofline_core::store::{Event, EventPayload, new_event_id};
use proofline_push::{Providers, RetryPolicy, WebhookTarget};
use rustc_hash::{FxHashMap, FxHashSet};
use uuid::Uuid;

use crate::app::AppState;
use crate::error::ApiError;
use crate::org::OrgState;
use crate::storage::StorageError;
use crate::storage::notifications::{DeliveryState, QueuedNotification, Target};
use reminders::{Gathered, Marks, Round, is_round};

pub use settings::DispatchSettings;

/// Events read per storage query while catching up.
const CATCH_UP_PAGE: usize = 5_000;
/// Work events older than this (by their occurrence's due time, or an acknowledgement's
/// time) are dropped from the dispatcher's copy: notices look back a day, repeat failures
/// a few occurrences.
const RETAIN_DAYS: i64 = 62;

/// What one tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Events read since the last tick.
    pub events_read: usize,
    /// Notices the engine says are due now.
    pub notices_due: usize,
    /// Outbox rows queued by this tick (new notices times their targets).
    pub queued: usize,
    /// People reminded by this tick of re-notification rounds due to them (one reminder
    /// each, a digest when several rounds came due; see `reminders`).
    pub reminded: usize,
    /// Due notices whose recipient has no device token and no webhook is configured.
    pub unreachable: usize,
    /// Escalation levels recorded as fired by this tick (`escalation_fired` events, which
    /// devices pull to mark the escalations they computed as confirmed).
    pub fired: usize,
    /// Routines the engine evaluated (the others' notices could not have changed).
    pub evaluated: usize,
    /// Occurrences of those routines the engine evaluated (the others' own next change
    /// had not come).
    pub occurrences_evaluated: usize,
    /// Wall time spent reading new events and evaluating (for logs and benchmarks; no
    /// decision depends on it).
    pub evaluating: Duration,
    /// Wall time spent sealing the escalation-fired events and writing them and the
    /// outbox rows (one transaction), the settling included.
    pub writing: Duration,
    /// Wall time spent settling the evaluated routines until their next change (on a
    /// second thread, during the writing).
    pub settling: Duration,
}

/// The outbox's keys, kept in memory: asked about every due notice of every routine
/// evaluated, so one flat set of (notice id, target number) with the target keys
/// (tokens up to a few hundred characters) numbered once.
#[derive(Debug, Default)]
struct Queued {
    /// (notice id, target number) of every row.
    keys: FxHashSet<(Uuid, u32)>,
    /// Target key → its number.
    targets: HashMap<String, u32>,
}

impl Queued {
    /// The number of target `key`, numbered now if new.
    fn target(&mut self, key: String) -> u32 {
        let next = u32::try_from(self.targets.len()).unwrap_or(u32::MAX);
        *self.targets.entry(key).or_insert(next)
    }

    /// Whether `(notice, target)` is in the outbox.
    fn contains(&self, notice: Uuid, target: u32) -> bool {
        self.keys.contains(&(notice, target))
    }

    /// Records that `(notice, target)` is in the outbox.
    fn insert(&mut self, notice: Uuid, target: u32) {
        self.keys.insert((notice, target));
    }
}

/// Each person's push targets, with their numbers in [`Queued`].
type TargetsOf = HashMap<PersonId, Vec<(Target, u32)>>;

/// What the dispatcher keeps of one routine.
#[derive(Debug, Default)]
struct RoutineState {
    /// The routine's completions of the last [`RETAIN_DAYS`].
    completions: Vec<Completion>,
    /// Its excuses of the last [`RETAIN_DAYS`].
    excuses: Vec<Excuse>,
    /// Evaluated at least once since the dispatcher started.
    evaluated: bool,
    /// Must be evaluated at the next tick (new events, new definitions, a recipient's new
    /// device, an evaluation that failed to be written out).
    dirty: bool,
    /// Evaluate again at the first tick at or after this instant (the engine's
    /// `next_change`, or when a retained event is due to be dropped).
    wake: Option<DateTime<Utc>>,
    /// From this instant on, evaluate every occurrence again (the engine's
    /// `shared_change`); before it, only those whose own next change has come.
    shared_wake: Option<DateTime<Utc>>,
    /// The occurrences near the last evaluations: what each had when last evaluated.
    occurrences: FxHashMap<OccurrenceId, KeptOccurrence>,
    /// Notices due at the last evaluation.
    due: usize,
    /// Their recipients.
    recipients: Vec<PersonId>,
}

/// What the dispatcher keeps of one occurrence between its evaluations.
#[derive(Debug)]
struct KeptOccurrence {
    /// When it is due (out of the engine's look-back, it is forgotten).
    due_at: DateTime<Utc>,
    /// Notices due at its last evaluation.
    due: usize,
    /// When they can next change with time alone.
    next_change: Option<DateTime<Utc>>,
    /// Its escalation levels in the look-back (acknowledgements of them make the routine
    /// dirty).
    escalations: Vec<EscalationId>,
    /// When it was last evaluated (and what was new then written out).
    evaluated_at: DateTime<Utc>,
}

impl RoutineState {
    /// Whether the routine must be evaluated at `now`.
    fn needs_evaluation(&self, now: DateTime<Utc>) -> bool {
        !self.evaluated || self.dirty || self.wake.is_some_and(|w| w <= now)
    }

    /// Whether only time has passed since the last evaluation (same events, same org,
    /// nothing shared has changed): then the occurrences whose own next change is still
    /// ahead are settled and are not evaluated again.
    fn only_time_passed(&self, now: DateTime<Utc>) -> bool {
        self.evaluated && !self.dirty && self.shared_wake.is_none_or(|w| w > now)
    }

    /// Whether `occurrence`'s notices are those of the last evaluation at `now`.
    fn settled(&self, occurrence: OccurrenceId, now: DateTime<Utc>) -> bool {
        self.occurrences
            .get(&occurrence)
            .is_some_and(|kept| kept.settled(now))
    }

    /// Whether the notice `key` was already due when its occurrence was last evaluated.
    /// Asked only when nothing but time passed since (an evaluation in part): then what
    /// was due was written out, to every target the recipient has now, and the level
    /// recorded as fired, so the notice is not new; the outbox need not be asked.
    fn seen(&self, key: &NoticeKey) -> bool {
        key.occurrence
            .and_then(|o| self.occurrences.get(&o))
            .is_some_and(|kept| key.due_at <= kept.evaluated_at)
    }

    /// Whether the level of the escalation notice `key` had fired when its occurrence was
    /// last evaluated, within [`ALERT_HORIZON_MIN`] (so a round of it was due then). Asked
    /// only in an evaluation in part, like [`RoutineState::seen`]: the level was then
    /// recorded as fired and the webhook told of it, whichever round is due now.
    fn level_seen(&self, key: &NoticeKey) -> bool {
        let NoticeKind::Escalation { fired_at, .. } = key.kind else {
            return false;
        };
        let horizon = chrono::Duration::minutes(i64::from(ALERT_HORIZON_MIN));
        key.occurrence
            .and_then(|o| self.occurrences.get(&o))
            .is_some_and(|kept| {
                fired_at <= kept.evaluated_at
                    && kept
                        .evaluated_at
                        .checked_sub_signed(horizon)
                        .is_some_and(|expired| expired < fired_at)
            })
    }

    /// Records an evaluation at `now` of `routine` (`partial`: of the occurrences not
    /// settled only; the engine lists only those): what is due, to whom, when to evaluate
    /// again, and which escalation levels are the routine's (`level_of`).
    fn settle(
        &mut self,
        routine: RoutineId,
        found: RoutineNotices,
        partial: bool,
        now: DateTime<Utc>,
        level_of: &mut FxHashMap<EscalationId, RoutineId>,
    ) {
        // What the evaluation found replaces what it had; its levels (the same ids when
        // the occurrence was evaluated before, as it nearly always was) are filed under
        // the routine.
        let forget = |levels: &[EscalationId],
                      level_of: &mut FxHashMap<EscalationId, RoutineId>| {
            for level in levels {
                if level_of.get(level) == Some(&routine) {
                    level_of.remove(level);
                }
            }
        };
        let mut fresh = FxHashSet::default();
        for o in found.occurrences {
            fresh.insert(o.occurrence);
            let filed = match self.occurrences.get(&o.occurrence) {
                Some(old) if old.escalations == o.escalations => true,
                Some(old) => {
                    forget(&old.escalations, level_of);
                    false
                }
                None => false,
            };
            if !filed {
                for &level in &o.escalations {
                    level_of.insert(level, routine);
                }
            }
            self.occurrences.insert(
                o.occurrence,
                KeptOccurrence {
                    due_at: o.due_at,
                    due: o.due,
                    next_change: o.next_change,
                    escalations: o.escalations,
                    evaluated_at: now,
                },
            );
        }
        // Forget what the evaluation did not find again (whole: everything else) and what
        // left the look-back; a settled occurrence keeps what it had.
        let kept_from = found.kept_from;
        self.occurrences.retain(|occurrence, kept| {
            let keep = fresh.contains(occurrence)
                || (partial && kept.settled(now) && kept.due_at >= kept_from);
            if !keep {
                forget(&kept.escalations, level_of);
            }
            keep
        });
        self.due = found.repeat_failure_due
            + self
                .occurrences
                .values()
                .map(|kept| kept.due)
                .sum::<usize>();
        if partial {
            // The settled occurrences' recipients still get notices.
            for person in found.recipients {
                if !self.recipients.contains(&person) {
                    self.recipients.push(person);
                }
            }
        } else {
            self.recipients = found.recipients;
        }
        self.evaluated = true;
        self.dirty = false;
        self.shared_wake = found.shared_change;
        let kept = self.occurrences.values().filter_map(|k| k.next_change);
        self.wake = found
            .next_change
            .into_iter()
            .chain(kept)
            .chain(self.prune_at())
            .min();
    }

    /// Its events, with every acknowledgement (`acks`), as the engine reads them.
    fn events<'a>(
        &'a self,
        acks: &'a HashMap<EscalationId, Vec<Acknowledgement>>,
    ) -> RoutineEvents<'a> {
        RoutineEvents {
            completions: &self.completions,
            excuses: &self.excuses,
            acknowledgements: acks,
        }
    }

    /// Drops events due before `horizon`; whether any was dropped.
    fn prune(&mut self, horizon: DateTime<Utc>) -> bool {
        let before = self.completions.len() + self.excuses.len();
        self.completions.retain(|c| c.due >= horizon);
        self.excuses.retain(|e| e.due >= horizon);
        before != self.completions.len() + self.excuses.len()
    }

    /// When the oldest retained event is to be dropped (just after its due time plus
    /// [`RETAIN_DAYS`]).
    fn prune_at(&self) -> Option<DateTime<Utc>> {
        let oldest = self
            .completions
            .iter()
            .map(|c| c.due)
            .chain(self.excuses.iter().map(|e| e.due))
            .min()?;
        oldest.checked_add_signed(retain() + chrono::Duration::nanoseconds(1))
    }
}

impl KeptOccurrence {
    /// Whether its notices at `now` are those of its last evaluation.
    fn settled(&self, now: DateTime<Utc>) -> bool {
        self.next_change.is_none_or(|at| at > now)
    }
}

/// How long work events are kept.
fn retain() -> chrono::Duration {
    chrono::Duration::days(RETAIN_DAYS)
}

/// The dispatcher's copy of the recent history, what it knows of each routine and what
/// it has queued.
///
/// A routine is evaluated again only when something its notices depend on changed: its
/// completions or excuses, an acknowledgement of one of its levels, its definition, its
/// site, the people or absences (org changes), a new device of one of its recipients, or
/// the passing of time (the engine says when: `next_change`). Between those, evaluating
/// it would list the same notices, all of them queued already; so a tick with nothing new
/// costs a look at each routine's wake-up time.
#[derive(Debug, Default)]
struct Recent {
    /// The last `server_seq` read.
    cursor: u64,
    /// Per routine (also routines not defined, or no longer: their events are kept).
    routines: FxHashMap<RoutineId, RoutineState>,
    /// Acknowledgements of the last [`RETAIN_DAYS`], by escalation.
    acks: HashMap<EscalationId, Vec<Acknowledgement>>,
    /// When the oldest acknowledgement is to be dropped.
    acks_prune_at: Option<DateTime<Utc>>,
    /// Which routine looked at which escalation level at its last evaluation.
    level_of: FxHashMap<EscalationId, RoutineId>,
    /// Keys (notice id, target key) of every row in the outbox; `None` until loaded.
    queued: Option<Queued>,
    /// How far each person has been reminded of re-notification rounds; loaded with
    /// `queued`.
    marks: Marks,
    /// Escalation levels recorded as fired (read back from the log, and written).
    fired: FxHashSet<EscalationId>,
    /// The org the routines were last evaluated against.
    org: Option<Arc<OrgState>>,
    /// Push targets by person; `None` until loaded (and when the tokens changed).
    targets: Option<TargetsOf>,
}

impl Recent {
    /// The state of `routine`, created empty.
    fn routine(&mut self, routine: RoutineId) -> &mut RoutineState {
        self.routines.entry(routine).or_default()
    }

    /// Marks `routine` for evaluation at the next tick.
    fn touch(&mut self, routine: RoutineId) {
        self.routine(routine).dirty = true;
    }

    /// Files one accepted work event.
    fn file(&mut self, payload: EventPayload) {
        match payload {
            EventPayload::Completed(c) => {
                let state = self.routine(c.routine);
                state.dirty = true;
                state.completions.push(c);
            }
            EventPayload::Excused(e) => {
                let state = self.routine(e.routine);
                state.dirty = true;
                state.excuses.push(e);
            }
            EventPayload::Acknowledged(a) => {
                // A level no routine looked at cannot change a notice until its occurrence
                // comes into view, when its routine is evaluated anyway.
                if let Some(&routine) = self.level_of.get(&a.escalation) {
                    self.touch(routine);
                }
                let drop_at =
                    a.at.checked_add_signed(retain() + chrono::Duration::nanoseconds(1));
                if let Some(at) = drop_at
                    && self.acks_prune_at.is_none_or(|p| at < p)
                {
                    self.acks_prune_at = Some(at);
                }
                self.acks.entry(a.escalation).or_default().push(a);
            }
            EventPayload::EscalationFired(f) => {
                // Only ever makes fewer notices new: nobody to wake.
                self.fired.insert(f.escalation);
            }
            _ => {}
        }
    }

    /// Drops acknowledgements older than [`RETAIN_DAYS`] (when one is), waking the
    /// routines that looked at their levels.
    fn prune_acks(&mut self, now: DateTime<Utc>) {
        if self.acks_prune_at.is_none_or(|at| at > now) {
            return;
        }
        let Some(horizon) = now.checked_sub_signed(retain()) else {
            return;
        };
        let mut woken = Vec::new();
        self.acks.retain(|escalation, acks| {
            let before = acks.len();
            acks.retain(|a| a.at >= horizon);
            if acks.len() != before {
                woken.push(*escalation);
            }
            !acks.is_empty()
        });
        for escalation in woken {
            if let Some(&routine) = self.level_of.get(&escalation) {
                self.touch(routine);
            }
        }
        self.acks_prune_at = self
            .acks
            .values()
            .flatten()
            .map(|a| a.at)
            .min()
            .and_then(|at| at.checked_add_signed(retain() + chrono::Duration::nanoseconds(1)));
    }

    /// Compares `org` with the org last evaluated against and marks what it changed: a
    /// routine's own definition, anything about its site, people or absences.
    fn org_changed(&mut self, current: &Arc<OrgState>) {
        let Some(previous) = self.org.as_ref() else {
            return;
        };
        if Arc::ptr_eq(previous, current) {
            return;
        }
        let (old, new) = (previous.org(), current.org());
        let everything = old.name != new.name || old.sites != new.sites || old.people != new.people;
        let mut touched: Vec<RoutineId> = Vec::new();
        if everything {
            touched.extend(new.routines.iter().map(|r| r.id));
        } else {
            let before: HashMap<RoutineId, &proofline_core::model::Routine> =
                old.routines.iter().map(|r| (r.id, r)).collect();
            touched.extend(
                new.routines
                    .iter()
                    .filter(|r| before.get(&r.id).is_none_or(|b| *b != *r))
                    .map(|r| r.id),
            );
            if old.absences != new.absences {
                let away = changed_absences(old, new);
                touched.extend(
                    new.routines
                        .iter()
                        .filter(|r| concerns(new, r, &away))
                        .map(|r| r.id),
                );
            }
        }
        for routine in touched {
            self.touch(routine);
        }
    }

    /// Replaces the push targets with `fresh`, marking the routines whose due notices go
    /// to a person with a target they did not have (those notices are new to it).
    fn targets_changed(&mut self, fresh: TargetsOf) {
        let old = self.targets.take().unwrap_or_default();
        let gained: HashSet<PersonId> = fresh
            .iter()
            .filter(|(person, targets)| {
                let before = old.get(*person);
                targets.iter().any(|(_, key)| {
                    before.is_none_or(|b| b.iter().all(|(_, old_key)| old_key != key))
                })
            })
            .map(|(person, _)| *person)
            .collect();
        if !gained.is_empty() {
            for state in self.routines.values_mut() {
                if state.recipients.iter().any(|p| gained.contains(p)) {
                    state.dirty = true;
                }
            }
        }
        self.targets = Some(fresh);
    }
}

/// The people whose absences differ between `old` and `new`.
fn changed_absences(old: &Org, new: &Org) -> HashSet<PersonId> {
    let mut away = HashSet::new();
    for a in &new.absences {
        if !old.absences.contains(a) {
            away.insert(a.person);
        }
    }
    for a in &old.absences {
        if !new.absences.contains(a) {
            away.insert(a.person);
        }
    }
    away
}

/// Whether an absence of one of `away` can change `routine`'s notices: they hold a role at
/// its site (owner, backup, fallback, roles of the chain, leads) or it names them.
fn concerns(org: &Org, routine: &proofline_core::model::Routine, away: &HashSet<PersonId>) -> bool {
    let named = away.contains(&routine.owner)
        || routine.backup.is_some_and(|b| away.contains(&b))
        || routine.escalation.iter().any(|level| {
            level.notify.iter().any(
                |r| matches!(r, proofline_core::model::Recipient::Person(p) if away.contains(p)),
            )
        });
    named
        || away.iter().any(|&p| {
            org.person(p)
                .is_some_and(|person| person.role_at(routine.site).is_some())
        })
}

/// The dispatcher (see the module docs). Shared by the tick loop, the delivery loop and
/// tests that drive it with a scripted clock.
pub struct Dispatcher {
    recent: Mutex<Recent>,
    /// Set when push tokens were registered or removed: the next tick reloads them.
    tokens_stale: AtomicBool,
    /// The push services and the webhook client.
    pub providers: Arc<Providers>,
    /// The org's webhook, when configured.
    pub webhook: Option<WebhookTarget>,
    /// Backoff between delivery attempts.
    pub retry: RetryPolicy,
    /// How often the loop ticks; `None`: only when driven ([`Dispatcher::tick`]).
    pub every: Option<Duration>,
    /// From this many routines to evaluate, a tick evaluates them on several threads
    /// ([`DispatchSettings::parallel_from`]).
    pub parallel_from: usize,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("every", &self.every)
            .field("webhook", &self.webhook)
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    /// A dispatcher sending through `providers`.
    pub fn new(
        providers: Providers,
        webhook: Option<WebhookTarget>,
        retry: RetryPolicy,
        every: Option<Duration>,
    ) -> Dispatcher {
        Dispatcher {
            recent: Mutex::new(Recent::default()),
            tokens_stale: AtomicBool::new(true),
            providers: Arc::new(providers),
            webhook,
            retry,
            every,
            parallel_from: PARALLEL_FROM,
        }
    }

    /// A dispatcher that never ticks by itself and has no provider (tests of other parts).
    pub fn idle() -> Dispatcher {
        Dispatcher::new(Providers::default(), None, RetryPolicy::default(), None)
    }

    /// Tells the dispatcher that push tokens were registered or removed (call once the
    /// change is durable): the next tick reads them again.
    pub fn push_tokens_changed(&self) {
        self.tokens_stale.store(true, Ordering::SeqCst);
    }

    /// One tick at `now`: catch up with accepted events, compute the due notices of the
    /// routines that may have new ones, queue the new ones durably. Blocking (storage).
    pub fn tick(&self, app: &AppState, now: DateTime<Utc>) -> Result<TickReport, ApiError> {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let mut report = TickReport::default();
        let started = Instant::now();
        if recent.queued.is_none() {
            let mut queued = Queued::default();
            let keys = app.storage.queued_keys()?;
            queued.keys.reserve(keys.len());
            for (notice, target) in keys {
                let target = queued.target(target);
                queued.insert(notice, target);
            }
            recent.queued = Some(queued);
            recent.marks = Marks::from_stored(app.storage.reminded()?);
        }
        let org_state = app.org();
        let org = org_state.org();
        loop {
            let mut decoded = Vec::new();
            let mut bad = None;
            // Every site's events (those of sites the org does not name file under no
            // routine evaluated), along the table's key.
            let page =
                app.storage
                    .pull_everything(recent.cursor, CATCH_UP_PAGE, &mut |stored| {
                        match serde_json::from_str::<Event>(stored.json) {
                            Ok(event) => decoded.push(event.payload),
                            Err(e) => bad = Some((stored.server_seq, e)),
                        }
                    })?;
            if let Some((seq, e)) = bad {
                return Err(StorageError::corrupt(
                    "event",
                    format!("server_seq {seq} cannot be read: {e}"),
                )
                .into());
            }
            report.events_read += page.count;
            for payload in decoded {
                recent.file(payload);
            }
            if let Some(last) = page.last {
                recent.cursor = last;
            }
            if !page.more {
                break;
            }
        }
        recent.prune_acks(now);
        recent.org_changed(&org_state);
        // Cleared before reading, so a change made while reading is read next tick.
        if self.tokens_stale.swap(false, Ordering::SeqCst) || recent.targets.is_none() {
            let queued = recent.queued.get_or_insert_with(Queued::default);
            match load_targets(app, queued) {
                Ok(fresh) => recent.targets_changed(fresh),
                Err(e) => {
                    self.tokens_stale.store(true, Ordering::SeqCst);
                    return Err(e);
                }
            }
        }
        let has_webhook = self.webhook.is_some();
        let horizon = now.checked_sub_signed(retain());
        let Recent {
            cursor,
            routines,
            acks,
            level_of,
            fired: recorded,
            queued,
            marks,
            targets,
            org: evaluated_against,
            ..
        } = &mut *recent;
        let queued = queued.get_or_insert_with(Queued::default);
        let webhook_key = queued.target(Target::Webhook.key());
        let targets_of = targets.get_or_insert_with(TargetsOf::new);
        // Which routines to evaluate, and how (a routine's old events are dropped first).
        let mut plan: Vec<(&Routine, bool)> = Vec::new();
        for routine in &org.routines {
            let state = routines.entry(routine.id).or_default();
            if !state.needs_evaluation(now) {
                continue;
            }
            let pruned = horizon.is_some_and(|h| state.prune(h));
            // Woken by time alone, only the occurrences whose next change came are looked
            // at: the others' notices were queued at the last evaluation.
            let partial = !pruned && state.only_time_passed(now);
            plan.push((routine, partial));
        }
        let known = Known {
            routines,
            acks,
            recorded,
            queued,
            marks,
            targets_of,
            webhook_key: has_webhook.then_some(webhook_key),
        };
        // Routines are evaluated independently of each other: in parallel when there are
        // enough of them (a quarter hour at which something comes due everywhere).
        let threads = evaluation_threads(plan.len(), self.parallel_from);
        let mut evaluated = if threads > 1 {
            known.evaluate_in_parallel(org, &plan, now, threads)
        } else {
            known.evaluate(org, &plan, now)
        };
        let mut due = Vec::new();
        for e in &mut evaluated {
            report.occurrences_evaluated += e.found.occurrences.len();
            due.extend(std::mem::take(&mut e.found.notices));
        }
        report.evaluated = evaluated.len();
        let fired = newly_fired(&due, recorded, now);
        let mut rows = Vec::new();
        // Each row's (notice id, target number), recorded in `queued` once written.
        let mut row_keys = Vec::new();
        // The webhook hears of each level once, not once per recipient.
        let mut told_webhook = FxHashSet::default();
        // Re-notification rounds: one reminder per person, once all are gathered.
        let mut rounds = Gathered::default();
        for notice in due {
            if has_webhook {
                let id = webhook_notice_id(&notice.kind);
                if !queued.contains(id, webhook_key) && told_webhook.insert(id) {
                    rows.push(queued_row(
                        Notice {
                            id,
                            ..notice.clone()
                        },
                        Target::Webhook,
                        now,
                    ));
                    row_keys.push((id, webhook_key));
                }
            }
            let targets = phones_of(targets_of, notice.recipient);
            if targets.is_empty() && !has_webhook {
                report.unreachable += 1;
            }
            if is_round(&notice.kind) {
                if !targets.is_empty() && !marks.told(notice.recipient, notice.due_at) {
                    rounds.add(Round::worded(notice));
                }
                continue;
            }
            queue_to_phones(&notice, targets, queued, now, &mut rows, &mut row_keys);
        }
        for e in &mut evaluated {
            gather_unworded(org, e.routine, std::mem::take(&mut e.rounds), &mut rounds);
        }
        for notice in known.word_singles(org, &rounds, now, self.parallel_from) {
            rounds.word(notice);
        }
        let mut reminded = Vec::new();
        for (notice, mark) in rounds.into_reminders(org, now) {
            let targets = phones_of(targets_of, notice.recipient);
            queue_to_phones(&notice, targets, queued, now, &mut rows, &mut row_keys);
            reminded.push(mark);
        }
        report.evaluating = started.elapsed();
        // The new rows and the levels they fire, in one transaction: kept together or not
        // at all (then the next tick finds them new again).
        let ids: Vec<EscalationId> = fired.iter().map(|(_, f)| f.escalation).collect();
        let entries = fired
            .into_iter()
            .map(|(site, f)| (site, EventPayload::EscalationFired(f)))
            .collect();
        // Written out, the evaluated routines are settled until their next change. They
        // are settled on the thread that seals the fired levels, once sealed, while the
        // rows and events are written (a core the write leaves mostly idle); should the
        // write fail, they are marked for a whole evaluation at the next tick, which asks
        // the outbox about every notice again.
        let settled: Vec<RoutineId> = evaluated.iter().map(|e| e.routine.id).collect();
        let settling = Mutex::new(Duration::ZERO);
        let written = app.queue_and_record(&rows, &reminded, entries, now, || {
            let began = Instant::now();
            settle_all(routines, level_of, evaluated, now);
            *settling.lock().unwrap_or_else(|e| e.into_inner()) = began.elapsed();
        });
        report.writing = started.elapsed().saturating_sub(report.evaluating);
        report.settling = settling.into_inner().unwrap_or_else(|e| e.into_inner());
        let written = match written {
            Ok(written) => written,
            Err(e) => {
                for routine in settled {
                    routines.entry(routine).or_default().dirty = true;
                }
                return Err(e);
            }
        };
        (report.queued, report.fired) = (written.queued, written.recorded);
        // The fired levels just recorded come right after what was read (nothing was
        // accepted in between): they are known, so the next tick need not read them back.
        if let Some((first, last)) = written.server_seqs
            && first == *cursor + 1
        {
            *cursor = last;
        }
        for (notice, target) in row_keys {
            queued.insert(notice, target);
        }
        marks.advance(&reminded);
        report.reminded = reminded.len();
        app.metrics
            .notifications_queued
            .fetch_add(report.queued as u64, Ordering::Relaxed);
        recorded.extend(ids);
        report.notices_due = org
            .routines
            .iter()
            .filter_map(|r| routines.get(&r.id))
            .map(|s| s.due)
            .sum();
        *evaluated_against = Some(Arc::clone(&org_state));
        Ok(report)
    }
}

/// Settles each routine of `evaluated` until its next change ([`RoutineState::settle`]).
fn settle_all(
    routines: &mut FxHashMap<RoutineId, RoutineState>,
    level_of: &mut FxHashMap<EscalationId, RoutineId>,
    evaluated: Vec<Evaluated<'_>>,
    now: DateTime<Utc>,
) {
    for e in evaluated {
        let id = e.routine.id;
        routines
            .entry(id)
            .or_default()
            .settle(id, e.found, e.partial, now, level_of);
    }
}

/// By default, below this many routines to evaluate, a tick evaluates them on its own
/// thread (a thread costs more than a few routines' evaluation).
pub(crate) const PARALLEL_FROM: usize = 256;
/// At most this many threads evaluate routines.
const MAX_EVALUATION_THREADS: usize = 4;
/// Routines a thread evaluating in parallel takes at a time.
const EVALUATION_PIECE: usize = 16;

/// How many threads evaluate `routines` routines: one, or the machine's cores (up to
/// [`MAX_EVALUATION_THREADS`]) when there are at least `parallel_from`.
fn evaluation_threads(routines: usize, parallel_from: usize) -> usize {
    if routines < parallel_from.max(1) {
        return 1;
    }
    std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, MAX_EVALUATION_THREADS)
}

/// What the evaluation of routines reads (and never changes) of the dispatcher's state:
/// shared by the threads that evaluate routines in parallel.
struct Known<'a> {
    routines: &'a FxHashMap<RoutineId, RoutineState>,
    acks: &'a HashMap<EscalationId, Vec<Acknowledgement>>,
    /// Levels recorded as fired.
    recorded: &'a FxHashSet<EscalationId>,
    queued: &'a Queued,
    /// How far each person has been reminded.
    marks: &'a Marks,
    targets_of: &'a TargetsOf,
    /// The webhook's target number, when one is configured.
    webhook_key: Option<u32>,
}

impl Known<'_> {
    /// Evaluates each routine of `plan` (`partial`: only its occurrences whose own next
    /// change came), in order, keeping only the notices that are new ([`Known::wants`]):
    /// with their words, or (re-notification rounds that go into a reminder) their keys.
    fn evaluate<'r>(
        &self,
        org: &Org,
        plan: &[(&'r Routine, bool)],
        now: DateTime<Utc>,
    ) -> Vec<Evaluated<'r>> {
        let empty = RoutineState::default();
        plan.iter()
            .map(|&(routine, partial)| {
                let state = self.routines.get(&routine.id).unwrap_or(&empty);
                let settled = |o: OccurrenceId| state.settled(o, now);
                let settled: &dyn Fn(OccurrenceId) -> bool =
                    if partial { &settled } else { &nothing_settled };
                let mut rounds = Vec::new();
                let found = routine_notices_where(
                    org,
                    routine,
                    state.events(self.acks),
                    now,
                    settled,
                    &mut |key| match self.wants(state, partial, key) {
                        Want::Nothing => false,
                        Want::Notice => true,
                        Want::Round => {
                            rounds.push(*key);
                            false
                        }
                    },
                );
                Evaluated {
                    routine,
                    partial,
                    found,
                    rounds,
                }
            })
            .collect()
    }

    /// [`Known::evaluate`] on `threads` threads ([`in_pieces`]; routines differ in work: a
    /// re-notifying one has dozens of occurrences to word), the answers in plan order.
    fn evaluate_in_parallel<'r>(
        &self,
        org: &Org,
        plan: &[(&'r Routine, bool)],
        now: DateTime<Utc>,
        threads: usize,
    ) -> Vec<Evaluated<'r>> {
        in_pieces(plan, threads, |piece| self.evaluate(org, piece, now))
    }

    /// What the tick does with the due notice `key` of a routine in `state` (evaluated in
    /// part when `partial`): its words are wanted when its level is not recorded as
    /// fired, the webhook has not heard of the level, or a target of its recipient has no
    /// row for it; a re-notification round of a level known is wanted for a reminder
    /// when its recipient has a target and has not been reminded of it; nothing else is.
    fn wants(&self, state: &RoutineState, partial: bool, key: &NoticeKey) -> Want {
        if partial && state.seen(key) {
            return Want::Nothing;
        }
        // Recorded and told the webhook when its occurrence was last evaluated (then due):
        // neither needs looking up (both sets are large; the webhook's id is a SHA-1).
        let level_known = partial && state.level_seen(key);
        let unrecorded = matches!(key.kind, NoticeKind::Escalation { escalation, .. }
            if !self.recorded.contains(&escalation));
        if !level_known
            && (unrecorded
                || self
                    .webhook_key
                    .is_some_and(|k| !self.queued.contains(webhook_notice_id(&key.kind), k)))
        {
            return Want::Notice;
        }
        let targets = phones_of(self.targets_of, key.recipient);
        if is_round(&key.kind) {
            if !targets.is_empty() && !self.marks.told(key.recipient, key.due_at) {
                return Want::Round;
            }
        } else if !targets.is_empty() {
            let id = key.id();
            if targets.iter().any(|(_, k)| !self.queued.contains(id, *k)) {
                return Want::Notice;
            }
        }
        Want::Nothing
    }

    /// The words of the rounds of `rounds` that are their person's only one (told as they
    /// are: see `reminders`): their routines evaluated again, for those occurrences and
    /// notices alone, on several threads when there are at least `parallel_from` of them.
    /// A person with a single round is worded once; most rounds at a busy tick end in a
    /// digest, which reads no round's sentence.
    fn word_singles(
        &self,
        org: &Org,
        rounds: &Gathered,
        now: DateTime<Utc>,
        parallel_from: usize,
    ) -> Vec<Notice> {
        let mut of_routine: FxHashMap<RoutineId, Vec<NoticeKey>> = FxHashMap::default();
        for (routine, key) in rounds.unworded_singles() {
            of_routine.entry(routine).or_default().push(key);
        }
        let of_routine: Vec<(RoutineId, Vec<NoticeKey>)> = of_routine.into_iter().collect();
        let threads = evaluation_threads(of_routine.len(), parallel_from);
        in_pieces(&of_routine, threads, |piece| {
            piece
                .iter()
                .flat_map(|(id, keys)| self.word(org, *id, keys, now))
                .collect()
        })
    }

    /// The notices `keys` of `routine` (the occurrences they name evaluated again).
    fn word(
        &self,
        org: &Org,
        routine: RoutineId,
        keys: &[NoticeKey],
        now: DateTime<Utc>,
    ) -> Vec<Notice> {
        let Some(routine) = org.routine(routine) else {
            return Vec::new();
        };
        let empty = RoutineState::default();
        let state = self.routines.get(&routine.id).unwrap_or(&empty);
        let settled = |o: OccurrenceId| !keys.iter().any(|k| k.occurrence == Some(o));
        routine_notices_where(
            org,
            routine,
            state.events(self.acks),
            now,
            &settled,
            &mut |key| keys.contains(key),
        )
        .notices
    }
}

/// `each` applied to `items` on `threads` threads (this one and `threads - 1` more; on
/// this one alone when `threads` ≤ 1), each taking the next [`EVALUATION_PIECE`] items as
/// it finishes the last, the answers put back in item order.
fn in_pieces<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    each: impl Fn(&[T]) -> Vec<R> + Sync,
) -> Vec<R> {
    if threads <= 1 {
        return each(items);
    }
    let pieces: Vec<_> = items.chunks(EVALUATION_PIECE).collect();
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let at = next.fetch_add(1, Ordering::Relaxed);
            let Some(piece) = pieces.get(at) else {
                return done;
            };
            done.push((at, each(piece)));
        }
    };
    let mut done = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut done = work();
        for helper in helpers {
            match helper.join() {
                Ok(part) => done.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        done
    });
    done.sort_unstable_by_key(|(at, _)| *at);
    done.into_iter().flat_map(|(_, part)| part).collect()
}

/// The unworded `rounds` of `routine`, gathered with their check's title.
fn gather_unworded(org: &Org, routine: &Routine, rounds: Vec<NoticeKey>, into: &mut Gathered) {
    let Some(site) = org.site(routine.site) else {
        return;
    };
    let title: Arc<str> = Arc::from(check_title(routine, site));
    for key in rounds {
        into.add(Round {
            key,
            site: site.id,
            routine: routine.id,
            title: title.clone(),
            notice: None,
        });
    }
}

/// What a tick does with a due notice ([`Known::wants`]).
enum Want {
    /// Nothing: it was queued, told and recorded before.
    Nothing,
    /// Its words: it is queued, its level recorded or told the webhook.
    Notice,
    /// Its key, for its recipient's reminder (worded only if it is their only round).
    Round,
}

/// One routine evaluated at a tick.
struct Evaluated<'r> {
    routine: &'r Routine,
    /// Only the occurrences whose own next change came were evaluated.
    partial: bool,
    /// What the engine found (the notices whose words were wanted).
    found: RoutineNotices,
    /// Its new re-notification rounds of levels known, unworded ([`Want::Round`]).
    rounds: Vec<NoticeKey>,
}

/// Every person's push targets, read from storage, numbered in `queued`.
fn load_targets(app: &AppState, queued: &mut Queued) -> Result<TargetsOf, ApiError> {
    let mut targets_of = TargetsOf::new();
    for token in app.storage.push_tokens()? {
        let target = Target::Push {
            platform: token.platform,
            token: token.token,
        };
        let number = queued.target(target.key());
        targets_of
            .entry(token.person)
            .or_default()
            .push((target, number));
    }
    Ok(targets_of)
}

/// The escalation levels among `due` not yet recorded as fired, with their site, each
/// with every recipient it alerts.
fn newly_fired(
    due: &[Notice],
    recorded: &FxHashSet<EscalationId>,
    now: DateTime<Utc>,
) -> Vec<(SiteId, EscalationFired)> {
    let mut fired: Vec<(SiteId, EscalationFired)> = Vec::new();
    let mut index: HashMap<EscalationId, usize> = HashMap::new();
    for notice in due {
        let NoticeKind::Escalation {
            escalation,
            level,
            fired_at,
            ..
        } = notice.kind
        else {
            continue;
        };
        let Some(occurrence) = notice.occurrence else {
            continue;
        };
        if recorded.contains(&escalation) {
            continue;
        }
        match index.get(&escalation).and_then(|&at| fired.get_mut(at)) {
            Some((_, f)) => f.recipients.push(notice.recipient),
            None => {
                index.insert(escalation, fired.len());
                fired.push((
                    notice.site,
                    EscalationFired {
                        id: new_event_id(now),
                        escalation,
                        level,
                        occurrence,
                        routine: notice.routine,
                        fired_at,
                        recipients: vec![notice.recipient],
                    },
                ));
            }
        }
    }
    fired
}

/// The id of the notice the webhook is told of `kind`. A chat channel hears of each level
/// once, at the first tick that finds it due (when it fires, unless the server was not
/// running then), and of each repeat-failure streak once, whoever the recipients are:
/// `UUIDv5(escalation id, "webhook:round:0")` (or `UUIDv5(alert id, "webhook")`), so a
/// change of assignee does not tell the chat twice. Re-notification rounds are reminders
/// to the recipients' phones; in a shared channel they would repeat every undone check
/// every few minutes. (The name is the one the first round had when the chat heard of
/// every round, so a level it was told of then is not told again.)
fn webhook_notice_id(kind: &NoticeKind) -> Uuid {
    match *kind {
        NoticeKind::Escalation { escalation, .. } => uuid_v5(&escalation.0, b"webhook:round:0"),
        NoticeKind::RepeatFailure { alert } => uuid_v5(&alert.0, b"webhook"),
    }
}

/// `person`'s push targets (none when they have no phone).
fn phones_of(targets_of: &TargetsOf, person: PersonId) -> &[(Target, u32)] {
    targets_of
        .get(&person)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// Adds a row for `notice` to each of `targets` it is not queued for yet, with its key.
fn queue_to_phones(
    notice: &Notice,
    targets: &[(Target, u32)],
    queued: &Queued,
    now: DateTime<Utc>,
    rows: &mut Vec<QueuedNotification>,
    row_keys: &mut Vec<(Uuid, u32)>,
) {
    for (target, number) in targets {
        if !queued.contains(notice.id, *number) {
            rows.push(queued_row(notice.clone(), target.clone(), now));
            row_keys.push((notice.id, *number));
        }
    }
}

/// A new outbox row: pending, due now.
fn queued_row(notice: Notice, target: Target, now: DateTime<Utc>) -> QueuedNotification {
    QueuedNotification {
        notice,
        target,
        state: DeliveryState::Pending,
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
        queued_at: now,
        sent_at: None,
    }
}

/// Runs ticks and deliveries every [`Dispatcher::every`] until `stop` fires. A failed
/// tick is logged and retried at the next one.
pub async fn run(app: Arc<AppState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let Some(every) = app.dispatcher.every else {
        return;
    };
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => return,
        }
        let now = Utc::now();
        let ticking = Arc::clone(&app);
        match tokio::task::spawn_blocking(move || ticking.dispatcher.tick(&ticking, now)).await {
            Ok(Ok(report)) if report.queued > 0 => tracing::info!(
                queued = report.queued,
                reminded = report.reminded,
                due = report.notices_due,
                unreachable = report.unreachable,
                evaluated = report.evaluated,
                evaluating_ms = report.evaluating.as_millis(),
                writing_ms = report.writing.as_millis(),
                settling_ms = report.settling.as_millis(),
                "escalation notices queued"
            ),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "dispatcher tick failed; retrying next tick"),
            Err(e) => tracing::error!(error = %e, "dispatcher tick panicked"),
        }
        if let Err(e) = deliver::deliver_due(&app, Utc::now()).await {
            tracing::warn!(error = %e, "notification delivery failed; retrying next tick");
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use proofline_core::model::PersonId;

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("instant").to_utc()
    }

    /// A round (due at `due_at`) of a level of `occurrence` that fired at `fired_at`.
    fn round_of(
        occurrence: OccurrenceId,
        fired_at: DateTime<Utc>,
        due_at: DateTime<Utc>,
    ) -> NoticeKey {
        NoticeKey {
            recipient: PersonId(Uuid::from_u128(7)),
            kind: NoticeKind::Escalation {
                escalation: EscalationId(Uuid::from_u128(8)),
                level: 2,
                round: 3,
                fired_at,
            },
            occurrence: Some(occurrence),
            due_at,
        }
    }

    #[test]
    fn a_level_is_known_when_a_round_of_it_was_due_at_the_last_evaluation() {
        let occurrence = OccurrenceId(Uuid::from_u128(1));
        let evaluated_at = at("2026-03-07T12:00:00Z");
        let mut state = RoutineState::default();
        state.occurrences.insert(
            occurrence,
            KeptOccurrence {
                due_at: evaluated_at - Duration::hours(1),
                due: 1,
                next_change: None,
                escalations: Vec::new(),
                evaluated_at,
            },
        );
        let later = evaluated_at + Duration::minutes(20);
        // Fired before: a round was due then, so the level was recorded and told.
        let fired = evaluated_at - Duration::minutes(45);
        assert!(state.level_seen(&round_of(occurrence, fired, later)));
        assert!(state.level_seen(&round_of(occurrence, evaluated_at, later)));
        // Fired since: new.
        let since = evaluated_at + Duration::seconds(1);
        assert!(!state.level_seen(&round_of(occurrence, since, later)));
        // Fired more than a day before (a level re-notifying less often than daily): no
        // round of it need have been due then.
        let long_ago = evaluated_at - Duration::minutes(i64::from(ALERT_HORIZON_MIN));
        assert!(!state.level_seen(&round_of(occurrence, long_ago, later)));
        assert!(state.level_seen(&round_of(
            occurrence,
            long_ago + Duration::seconds(1),
            later
        )));
        // An occurrence not evaluated before, and a repeat failure: new.
        let other = OccurrenceId(Uuid::from_u128(2));
        assert!(!state.level_seen(&round_of(other, fired, later)));
        let streak = NoticeKey {
            kind: NoticeKind::RepeatFailure {
                alert: proofline_core::model::AlertId(Uuid::from_u128(9)),
            },
            occurrence: None,
            ..round_of(occurrence, fired, later)
        };
        assert!(!state.level_seen(&streak));
    }
}
