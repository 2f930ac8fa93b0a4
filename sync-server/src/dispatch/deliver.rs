//! Delivering queued notifications: one attempt per due outbox row, its outcome recorded
//! before the next (sent, retry at a backed-off time, or dead with the reason), and device
//! tokens the push services call gone removed so no later alert is sent to them.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use proofline_core::model::Org;
use proofline_core::notify::{ALERT_HORIZON_MIN, Notice, NoticeKind};
use proofline_push::{Delivery, Notification, Priority, RetryEnv, SystemRetryEnv};
use tokio::task::JoinSet;

use crate::app::AppState;
use crate::storage::StorageError;
use crate::storage::notifications::{Attempt, PushPlatform, QueuedNotification, RowKey, Target};

/// Rows fetched (and attempts made at once) per round.
const ROUND: usize = 64;

/// What one delivery pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Delivered.
    pub sent: usize,
    /// Failed for now; retried later.
    pub retried: usize,
    /// Given up on (dead letters).
    pub dead: usize,
    /// Device tokens removed because their service said they are gone.
    pub tokens_removed: usize,
}

/// Attempts every outbox row due at `now` once.
pub async fn deliver_due(
    app: &Arc<AppState>,
    now: DateTime<Utc>,
) -> Result<DeliveryReport, StorageError> {
    let mut report = DeliveryReport::default();
    loop {
        let reading = Arc::clone(app);
        let rows =
            tokio::task::spawn_blocking(move || reading.storage.due_notifications(now, ROUND))
                .await
                .map_err(|e| StorageError::corrupt("notification outbox", e))??;
        if rows.is_empty() {
            return Ok(report);
        }
        let org = app.org();
        let mut attempts = JoinSet::new();
        for row in rows {
            let providers = Arc::clone(&app.dispatcher.providers);
            let notification = notification(org.org(), &row.notice);
            let target = match &row.target {
                Target::Push {
                    platform: PushPlatform::Apns,
                    token,
                } => Some(proofline_push::Target::Apns {
                    device_token: token.clone(),
                }),
                Target::Push {
                    platform: PushPlatform::Fcm,
                    token,
                } => Some(proofline_push::Target::Fcm {
                    registration_token: token.clone(),
                }),
                Target::Webhook => app
                    .dispatcher
                    .webhook
                    .clone()
                    .map(proofline_push::Target::Webhook),
            };
            attempts.spawn(async move {
                let delivery = match target {
                    Some(target) => providers.send(&notification, &target, now).await,
                    None => Delivery::failed("no webhook is configured on this server any more"),
                };
                (row, delivery)
            });
        }
        // Record what has finished as soon as it has, every finished attempt in one
        // transaction: the fewer alerts answered but not yet recorded, the fewer a crash
        // would send again (with the same alert id, which receivers drop repeats by).
        while let Some(first) = attempts.join_next().await {
            let mut finished = vec![first];
            while let Some(more) = attempts.try_join_next() {
                finished.push(more);
            }
            let mut batch = Vec::with_capacity(finished.len());
            for done in finished {
                let (row, delivery) =
                    done.map_err(|e| StorageError::corrupt("notification delivery", e))?;
                let (attempt, token_gone) = attempt_for(app, &row, delivery, now);
                let gone = match (&row.target, token_gone) {
                    (Target::Push { platform, token }, true) => Some((*platform, token.clone())),
                    _ => None,
                };
                batch.push(Recorded {
                    row: RowKey::of(&row),
                    attempt,
                    gone,
                });
            }
            let recording = Arc::clone(app);
            let (batch, removed) = tokio::task::spawn_blocking(move || {
                let attempts: Vec<_> = batch
                    .iter()
                    .map(|r| (r.row.clone(), r.attempt.clone()))
                    .collect();
                let gone: Vec<_> = batch.iter().filter_map(|r| r.gone.clone()).collect();
                let removed = recording.storage.record_attempts(&attempts, &gone)?;
                Ok::<_, StorageError>((batch, removed))
            })
            .await
            .map_err(|e| StorageError::corrupt("notification outbox", e))??;
            report.tokens_removed += removed;
            if removed > 0 {
                app.dispatcher.push_tokens_changed();
            }
            let metrics = &app.metrics;
            for recorded in batch {
                match recorded.attempt {
                    Attempt::Sent { .. } => {
                        report.sent += 1;
                        metrics.notifications_sent.fetch_add(1, Ordering::Relaxed);
                    }
                    Attempt::Retry { .. } => report.retried += 1,
                    Attempt::Dead { ref error } => {
                        report.dead += 1;
                        metrics.notifications_dead.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(error = %error, "a notification became a dead letter");
                    }
                }
            }
        }
    }
}

/// One finished attempt, to record.
struct Recorded {
    row: RowKey,
    attempt: Attempt,
    /// The push token to forget, when the service said it is gone.
    gone: Option<(PushPlatform, String)>,
}

/// The attempt to record for `delivery` of `row`, and whether the target's token is gone.
fn attempt_for(
    app: &AppState,
    row: &QueuedNotification,
    delivery: Delivery,
    now: DateTime<Utc>,
) -> (Attempt, bool) {
    match delivery {
        Delivery::Delivered { .. } => (Attempt::Sent { at: now }, false),
        Delivery::RetryLater {
            retry_after,
            reason,
        } => {
            let failed = row.attempts.saturating_add(1);
            let jitter = SystemRetryEnv.jitter();
            match app
                .dispatcher
                .retry
                .next_attempt_at(now, failed, retry_after, jitter)
            {
                Some(next_at) => (
                    Attempt::Retry {
                        next_at,
                        error: reason,
                    },
                    false,
                ),
                None => (
                    Attempt::Dead {
                        error: format!("gave up after {failed} attempts; the last: {reason}"),
                    },
                    false,
                ),
            }
        }
        Delivery::TokenGone { reason } => (
            Attempt::Dead {
                error: format!("the device token is no longer valid, so it was removed: {reason}"),
            },
            true,
        ),
        Delivery::Failed { reason } => (Attempt::Dead { error: reason }, false),
    }
}

/// The provider-neutral notification for a notice.
fn notification(org: &Org, notice: &Notice) -> Notification {
    let (escalation_id, level) = match notice.kind {
        NoticeKind::Escalation {
            escalation, level, ..
        } => (escalation.0, u32::try_from(level).unwrap_or(u32::MAX)),
        NoticeKind::RepeatFailure { alert } => (alert.0, 0),
    };
    let site_name = org
        .site(notice.site)
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let check_title = org
        .routine(notice.routine)
        .map(|r| r.title.clone())
        .unwrap_or_default();
    Notification {
        alert_id: notice.id,
        escalation_id,
        occurrence_id: notice.occurrence.map_or(escalation_id, |o| o.0),
        collapse_key: notice.collapse_key.clone(),
        site_id: notice.site.0,
        routine_id: notice.routine.0,
        level,
        site_name,
        check_title,
        title: notice.title.clone(),
        body: notice.body.clone(),
        priority: Priority::High,
        expires_at: notice
            .due_at
            .checked_add_signed(chrono::Duration::minutes(i64::from(ALERT_HORIZON_MIN))),
    }
}
