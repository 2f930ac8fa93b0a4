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

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use proofline_core::model::{DeviceId, EscalationFired, EscalationId, History, SiteId};
use proofline_core::notify::{Notice, NoticeKind, notices};
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

/// The dispatcher's copy of the recent history and what it has queued.
#[derive(Debug, Default)]
struct Recent {
    /// The last `server_seq` read.
    cursor: u64,
    /// Completions, excuses and acknowledgements of the last [`RETAIN_DAYS`].
    history: History,
    /// Keys (notice id, target key) of every row in the outbox; `None` until loaded.
    queued: Option<HashSet<(Uuid, String)>>,
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
            recent.queued = Some(app.storage.queued_keys()?.into_iter().collect());
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

        let due = notices(org, &recent.history, None, now);
        report.notices_due = due.len();
        let tokens = app.storage.push_tokens()?;
        let fired = newly_fired(&due, &recent.fired, now);
        let queued = recent.queued.get_or_insert_with(HashSet::new);
        let mut rows = Vec::new();
        // The webhook hears of each level (and round) once, not once per recipient.
        let mut told_webhook = HashSet::new();
        for notice in due {
            if self.webhook.is_some() {
                let for_webhook = webhook_notice(&notice);
                let key = (for_webhook.id, Target::Webhook.key());
                if !queued.contains(&key) && told_webhook.insert(for_webhook.id) {
                    rows.push(queued_row(&for_webhook, Target::Webhook, now));
                }
            }
            let targets: Vec<Target> = tokens
                .iter()
                .filter(|t| t.person == notice.recipient)
                .map(|t| Target::Push {
                    platform: t.platform,
                    token: t.token.clone(),
                })
                .collect();
            if targets.is_empty() && self.webhook.is_none() {
                report.unreachable += 1;
            }
            for target in targets {
                if queued.contains(&(notice.id, target.key())) {
                    continue;
                }
                rows.push(queued_row(&notice, target, now));
            }
        }
        if !rows.is_empty() {
            report.queued = app.storage.enqueue(&rows)?;
            queued.extend(rows.iter().map(|r| (r.notice.id, r.target.key())));
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
        recent.fired.extend(ids);
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
        match fired.iter_mut().find(|(_, f)| f.escalation == escalation) {
            Some((_, f)) => f.recipients.push(notice.recipient),
            None => fired.push((
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
            )),
        }
    }
    fired
}

/// The notice the webhook is told, once per level and round (or per streak) whoever the
/// recipients are: `notice` with an id that does not depend on the recipient,
/// `UUIDv5(escalation id, "webhook:round:{n}")` (or `UUIDv5(alert id, "webhook")`), so a
/// change of assignee does not tell the chat twice.
fn webhook_notice(notice: &Notice) -> Notice {
    let id = match notice.kind {
        NoticeKind::Escalation {
            escalation, round, ..
        } => Uuid::new_v5(&escalation.0, format!("webhook:round:{round}").as_bytes()),
        NoticeKind::RepeatFailure { alert } => Uuid::new_v5(&alert.0, b"webhook"),
    };
    Notice {
        id,
        ..notice.clone()
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
