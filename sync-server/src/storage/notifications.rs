//! What the escalation dispatcher keeps durably: the devices' push tokens and the
//! notification outbox.
//!
//! The outbox is keyed by the notice's deterministic id (escalation level, recipient and
//! round; see `proofline_core::notify`) and the target it goes to, so queueing the same
//! notice twice — a second tick, a restart — writes nothing. A row is `pending` until it
//! is delivered (`sent`) or given up on (`dead`: attempts exhausted, refused for good, or
//! its device token gone); dead rows are the admins' dead letters.

use chrono::{DateTime, Utc};
use proofline_core::model::{DeviceId, PersonId};
use proofline_core::notify::Notice;
use serde::Serialize;
use uuid::Uuid;

use super::StorageError;

/// A push service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PushPlatform {
    /// Apple Push Notification service (iOS).
    Apns,
    /// Firebase Cloud Messaging (Android).
    Fcm,
}

impl PushPlatform {
    /// As stored and on the wire: `apns` or `fcm`.
    pub fn as_str(self) -> &'static str {
        match self {
            PushPlatform::Apns => "apns",
            PushPlatform::Fcm => "fcm",
        }
    }

    /// From [`PushPlatform::as_str`].
    pub fn parse(text: &str) -> Option<PushPlatform> {
        match text {
            "apns" => Some(PushPlatform::Apns),
            "fcm" => Some(PushPlatform::Fcm),
            _ => None,
        }
    }
}

/// A device's registered push token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushToken {
    /// The device that registered it.
    pub device: DeviceId,
    /// The device's person.
    pub person: PersonId,
    /// Which service.
    pub platform: PushPlatform,
    /// The token the service gave the app.
    pub token: String,
    /// When it was registered (or last re-registered).
    pub registered_at: DateTime<Utc>,
}

/// Where one queued notification goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// A phone, through its push service.
    Push {
        /// The service.
        platform: PushPlatform,
        /// The device token.
        token: String,
    },
    /// The org's webhook (chat).
    Webhook,
}

impl Target {
    /// As stored: `apns:<token>`, `fcm:<token>` or `webhook`.
    pub fn key(&self) -> String {
        match self {
            Target::Push { platform, token } => format!("{}:{token}", platform.as_str()),
            Target::Webhook => "webhook".to_string(),
        }
    }

    /// From [`Target::key`].
    pub fn parse(key: &str) -> Option<Target> {
        if key == "webhook" {
            return Some(Target::Webhook);
        }
        let (platform, token) = key.split_once(':')?;
        Some(Target::Push {
            platform: PushPlatform::parse(platform)?,
            token: token.to_string(),
        })
    }
}

/// Where a queued notification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its next attempt.
    Pending,
    /// Delivered to the push service or webhook.
    Sent,
    /// Given up on: a dead letter.
    Dead,
}

impl DeliveryState {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Sent => "sent",
            DeliveryState::Dead => "dead",
        }
    }

    /// From [`DeliveryState::as_str`].
    pub fn parse(text: &str) -> Option<DeliveryState> {
        match text {
            "pending" => Some(DeliveryState::Pending),
            "sent" => Some(DeliveryState::Sent),
            "dead" => Some(DeliveryState::Dead),
            _ => None,
        }
    }
}

/// One notice for one target, as queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueuedNotification {
    /// The notice (its id is half the key).
    pub notice: Notice,
    /// Where it goes (the other half).
    pub target: Target,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (while pending).
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
    /// When it was queued.
    pub queued_at: DateTime<Utc>,
    /// When it was delivered.
    pub sent_at: Option<DateTime<Utc>>,
}

/// Which outbox row: its notice (the id, and the due time that leads the outbox's key)
/// and target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowKey {
    /// The notice's id.
    pub notice: Uuid,
    /// The notice's due time.
    pub due_at: DateTime<Utc>,
    /// Where the row goes.
    pub target: Target,
}

impl RowKey {
    /// The key of `row`.
    pub fn of(row: &QueuedNotification) -> RowKey {
        RowKey {
            notice: row.notice.id,
            due_at: row.notice.due_at,
            target: row.target.clone(),
        }
    }
}

/// How far one person has been reminded: every re-notification round to them due at or
/// before `through` was told (in a reminder of its own or a digest), and is not told again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reminded {
    /// The person.
    pub person: PersonId,
    /// The due time of the latest round told.
    pub through: DateTime<Utc>,
}

/// What one delivery attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Delivered.
    Sent {
        /// When.
        at: DateTime<Utc>,
    },
    /// Failed; try again at `next_at`.
    Retry {
        /// When to try again.
        next_at: DateTime<Utc>,
        /// Why it failed.
        error: String,
    },
    /// Given up on.
    Dead {
        /// Why.
        error: String,
    },
}

/// The push tokens and the notification outbox (see the module docs). Blocking.
pub trait NotificationStore: Send + Sync {
    /// Registers (or re-registers, moving it to `token.device`) a push token.
    fn register_push_token(&self, token: &PushToken) -> Result<(), StorageError>;

    /// Forgets a push token the service says is gone; `false` if it was not known.
    fn remove_push_token(&self, platform: PushPlatform, token: &str) -> Result<bool, StorageError>;

    /// Every registered push token, oldest first.
    fn push_tokens(&self) -> Result<Vec<PushToken>, StorageError>;

    /// The key (notice id, target key) of every notification ever queued.
    fn queued_keys(&self) -> Result<Vec<(Uuid, String)>, StorageError>;

    /// Queues notifications in one transaction, skipping keys already queued; returns how
    /// many were new.
    fn enqueue(&self, rows: &[QueuedNotification]) -> Result<usize, StorageError>;

    /// How far each person has been reminded: the due time of the latest re-notification
    /// round told to them (see [`Reminded`]).
    fn reminded(&self) -> Result<Vec<Reminded>, StorageError>;

    /// Pending notifications whose next attempt is due at `now`, oldest first, at most
    /// `limit`.
    fn due_notifications(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<QueuedNotification>, StorageError>;

    /// Records several attempts and forgets the push tokens in `gone`, all in one
    /// transaction; returns how many tokens were forgotten.
    fn record_attempts(
        &self,
        attempts: &[(RowKey, Attempt)],
        gone: &[(PushPlatform, String)],
    ) -> Result<usize, StorageError>;

    /// Notifications in `state` (every state when `None`), newest first, at most `limit`.
    fn notifications(
        &self,
        state: Option<DeliveryState>,
        limit: usize,
    ) -> Result<Vec<QueuedNotification>, StorageError>;
}
