//! The escalation dispatcher: the server's authority over push alerts.
//!
//! Every tick it brings its copy of the recent history up to date (the events accepted
//! since its last tick, read in server order), asks the core engine which notices are due
//! (`proofline_core::notify`: the same code the phones run offline), and queues the new
//! ones in the durable outbox, one row per notice and target (each device token of the
//! recipient, and the webhook when one is configured). The outbox key is the notice's
//! deterministic id and the target, so a second tick or a restart never queues an alert
//! twice. Delivery ([`deliver`]) then works through the due rows with retries, removes
//! tokens the push services say are gone, and parks what cannot be delivered as dead
//! letters (`GET /v1/admin/notifications?state=dead`).

pub mod deliver;
pub mod settings;

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use proofline_core::model::{DeviceId, EscalationFired, EscalationId, History, PersonId, SiteId};
use proofline_core::notify::{Notice, NoticeKind, notices_where};
use proofline_core::store::{Event, EventPayload, new_event_id};
use proofline_push::{Providers, RetryPolicy, WebhookTarget};
use uuid::Uuid;

use crate::app::AppState;
use crate::error::ApiError;
use crate::storage::StorageError;
use crate::storage::notifications::{DeliveryState, QueuedNotification, Target};

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
    /// Due notices whose recipient has no device token and no webhook is configured.
    pub unreachable: usize,
    /// Escalation levels recorded as fired by this tick (`escalation_fired` events, which
    /// devices pull to mark the escalations they computed as confirmed).
    pub fired: usize,
}

/// The outbox's keys: for each notice id, the target keys it was queued for.
type Queued = HashMap<Uuid, HashSet<String>>;

/// Whether `(notice, target)` is in the outbox.
fn is_queued(queued: &Queued, notice: Uuid, target: &str) -> bool {
    queued.get(&notice).is_some_and(|t| t.contains(target))
}

/// The dispatcher's copy of the recent history and what it has queued.
#[derive(Debug, Default)]
struct Recent {
    /// The last `server_seq` read.
    cursor: u64,
    /// Completions, excuses and acknowledgements of the last [`RETAIN_DAYS`].
    history: History,
    /// Keys (notice id, target key) of every row in the outbox; `None` until loaded.
    queued: Option<Queued>,
    /// Escalation levels recorded as fired (read back from the log, and written).
    fired: HashSet<EscalationId>,
}

/// The dispatcher (see the module docs). Shared by the tick loop, the delivery loop and
/// tests that drive it with a scripted clock.
pub struct Dispatcher {
    recent: Mutex<Recent>,
    /// The push services and the webhook client.
    pub providers: Arc<Providers>,
    /// The org's webhook, when configured.
    pub webhook: Option<WebhookTarget>,
    /// Backoff between delivery attempts.
    pub retry: RetryPolicy,
    /// How often the loop ticks; `None`: only when driven ([`Dispatcher::tick`]).
    pub every: Option<Duration>,
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
            providers: Arc::new(providers),
            webhook,
            retry,
            every,
        }
    }

    /// A dispatcher that never ticks by itself and has no provider (tests of other parts).
    pub fn idle() -> Dispatcher {
        Dispatcher::new(Providers::default(), None, RetryPolicy::default(), None)
    }

    /// One tick at `now`: catch up with accepted events, compute the due notices, queue
    /// the new ones durably. Blocking (storage).
    pub fn tick(&self, app: &AppState, now: DateTime<Utc>) -> Result<TickReport, ApiError> {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let mut report = TickReport::default();
        if recent.queued.is_none() {
            let mut queued = Queued::new();
            for (notice, target) in app.storage.queued_keys()? {
                queued.entry(notice).or_default().insert(target);
            }
            recent.queued = Some(queued);
        }
        let org_state = app.org();
        let org = org_state.org();
        let sites: Vec<_> = org.sites.iter().map(|s| s.id).collect();
        loop {
            let mut decoded = Vec::new();
            let mut bad = None;
            let page = app.storage.pull(
                &sites,
                DeviceId(Uuid::nil()),
                recent.cursor,
                CATCH_UP_PAGE,
                &mut |stored| match serde_json::from_str::<Event>(stored.json) {
                    Ok(event) => decoded.push(event.payload),
                    Err(e) => bad = Some((stored.server_seq, e)),
                },
            )?;
            if let Some((seq, e)) = bad {
                return Err(StorageError::corrupt(
                    "event",
                    format!("server_seq {seq} cannot be read: {e}"),
                )
                .into());
            }
            report.events_read += page.count;
            for payload in decoded {
                match payload {
                    EventPayload::Completed(c) => recent.history.completions.push(c),
                    EventPayload::Excused(e) => recent.history.excuses.push(e),
                    EventPayload::Acknowledged(a) => recent.history.acknowledgements.push(a),
                    EventPayload::EscalationFired(f) => {
                        recent.fired.insert(f.escalation);
                    }
                    _ => {}
                }
            }
            if let Some(last) = page.last {
                recent.cursor = last;
            }
            if !page.more {
                break;
            }
        }
        prune(&mut recent.history, now);

        // Each person's push targets, with their outbox keys.
        let mut targets_of: HashMap<PersonId, Vec<(Target, String)>> = HashMap::new();
        for token in app.storage.push_tokens()? {
            let target = Target::Push {
                platform: token.platform,
                token: token.token,
            };
            let key = target.key();
            targets_of
                .entry(token.person)
                .or_default()
                .push((target, key));
        }
        let webhook_key = Target::Webhook.key();
        let has_webhook = self.webhook.is_some();
        let Recent {
            history,
            fired: recorded,
            queued,
            ..
        } = &mut *recent;
        let queued = queued.get_or_insert_with(Queued::new);
        // Only what is new is written out: a level not yet recorded as fired, or a notice
        // with a target it is not queued for (most of what is due was queued before).
        let mut seen = 0;
        let due = notices_where(org, history, None, now, &mut |key| {
            seen += 1;
            let unrecorded = matches!(key.kind, NoticeKind::Escalation { escalation, .. }
                if !recorded.contains(&escalation));
            unrecorded
                || (has_webhook && !is_queued(queued, webhook_notice_id(&key.kind), &webhook_key))
                || targets_of
                    .get(&key.recipient)
                    .is_some_and(|ts| ts.iter().any(|(_, k)| !is_queued(queued, key.id, k)))
        });
        report.notices_due = seen;
        let fired = newly_fired(&due, recorded, now);
        let mut rows = Vec::new();
        // The webhook hears of each level (and round) once, not once per recipient.
        let mut told_webhook = HashSet::new();
        for notice in due {
            if has_webhook {
                let for_webhook = webhook_notice(&notice);
                if !is_queued(queued, for_webhook.id, &webhook_key)
                    && told_webhook.insert(for_webhook.id)
                {
                    rows.push(queued_row(&for_webhook, Target::Webhook, now));
                }
            }
            let targets = targets_of
                .get(&notice.recipient)
                .map(Vec::as_slice)
                .unwrap_or_default();
            if targets.is_empty() && !has_webhook {
                report.unreachable += 1;
            }
            for (target, key) in targets {
                if !is_queued(queued, notice.id, key) {
                    rows.push(queued_row(&notice, target.clone(), now));
                }
            }
        }
        if !rows.is_empty() {
            report.queued = app.storage.enqueue(&rows)?;
            for row in &rows {
                queued
                    .entry(row.notice.id)
                    .or_default()
                    .insert(row.target.key());
            }
            app.metrics
                .notifications_queued
                .fetch_add(report.queued as u64, std::sync::atomic::Ordering::Relaxed);
        }
        // After the outbox: a crash in between records them at the next tick.
        let ids: Vec<EscalationId> = fired.iter().map(|(_, f)| f.escalation).collect();
        report.fired = app.record_own(
            fired
                .into_iter()
                .map(|(site, f)| (site, EventPayload::EscalationFired(f)))
                .collect(),
            now,
        )?;
        recorded.extend(ids);
        Ok(report)
    }
}

/// The escalation levels among `due` not yet recorded as fired, with their site, each
/// with every recipient it alerts.
fn newly_fired(
    due: &[Notice],
    recorded: &HashSet<EscalationId>,
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

/// The notice the webhook is told, once per level and round (or per streak) whoever the
/// recipients are: `notice` with an id that does not depend on the recipient,
/// `UUIDv5(escalation id, "webhook:round:{n}")` (or `UUIDv5(alert id, "webhook")`), so a
/// change of assignee does not tell the chat twice.
fn webhook_notice(notice: &Notice) -> Notice {
    Notice {
        id: webhook_notice_id(&notice.kind),
        ..notice.clone()
    }
}

/// The id of the webhook's notice of `kind` (see [`webhook_notice`]).
fn webhook_notice_id(kind: &NoticeKind) -> Uuid {
    match *kind {
        NoticeKind::Escalation {
            escalation, round, ..
        } => {
            // Asked for every due notice each tick: no allocation.
            let mut name = [0u8; 32];
            let mut cursor = std::io::Cursor::new(&mut name[..]);
            let _ = write!(cursor, "webhook:round:{round}");
            let len = usize::try_from(cursor.position()).unwrap_or(0);
            Uuid::new_v5(&escalation.0, &name[..len])
        }
        NoticeKind::RepeatFailure { alert } => Uuid::new_v5(&alert.0, b"webhook"),
    }
}

/// A new outbox row: pending, due now.
fn queued_row(notice: &Notice, target: Target, now: DateTime<Utc>) -> QueuedNotification {
    QueuedNotification {
        notice: notice.clone(),
        target,
        state: DeliveryState::Pending,
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
        queued_at: now,
        sent_at: None,
    }
}

/// Drops work events too old to matter to any notice (see [`RETAIN_DAYS`]).
fn prune(history: &mut History, now: DateTime<Utc>) {
    let Some(horizon) = now.checked_sub_signed(chrono::Duration::days(RETAIN_DAYS)) else {
        return;
    };
    history.completions.retain(|c| c.due >= horizon);
    history.excuses.retain(|e| e.due >= horizon);
    history.acknowledgements.retain(|a| a.at >= horizon);
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
                due = report.notices_due,
                unreachable = report.unreachable,
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
