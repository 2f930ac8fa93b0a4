//! What the dispatcher hands to a provider: one escalation notification and the target it is
//! for. Plain data; providers turn it into their wire format. Nothing here talks to the
//! network or reads a clock.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// One escalation notification, the same for every provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// This very alert's id: one per level, recipient and re-notification round (the
    /// webhook's: one per level), the same on every retry and after a restart. Webhook receivers drop repeats
    /// by it (`x-proofline-alert-id`): an alert answered but not yet recorded when the
    /// server died is sent again with the same id.
    pub alert_id: Uuid,
    /// The deterministic escalation id; APNs uses it as `apns-id`, webhooks as an idempotency key.
    pub escalation_id: Uuid,
    /// The occurrence the escalation is about (tap-to-open).
    pub occurrence_id: Uuid,
    /// Groups notifications on a phone (`apns-collapse-id`, FCM `collapse_key` and
    /// `tag`): the occurrence id, so a phone shows one notification per check and a later
    /// level replaces the earlier one; for a digest of reminders, one per person. At most
    /// 64 bytes (APNs' limit).
    pub collapse_key: String,
    /// The site of the occurrence (tap-to-open, grouping).
    pub site_id: Uuid,
    /// The routine of the occurrence (tap-to-open).
    pub routine_id: Uuid,
    /// The escalation level that fired, as the dispatcher numbers the chain's levels.
    pub level: u32,
    /// The site's name, e.g. "Kitchen" (webhooks show it).
    pub site_name: String,
    /// The routine's title, e.g. "Fridge temperatures" (webhooks show it).
    pub check_title: String,
    /// The notification's title line.
    pub title: String,
    /// The human sentence, e.g. "Fridge temperatures (Kitchen) is 20 min overdue — owner
    /// Maria is on leave, Sam is covering; you are next in the chain." Providers shorten it
    /// (never the other fields) when a payload would exceed its limit.
    pub body: String,
    /// How urgently the provider should deliver it.
    pub priority: Priority,
    /// After this instant the alert is stale: providers stop storing it for offline phones,
    /// and a send after it fails without contacting the provider. `None`: no expiry
    /// (APNs then tries once and does not store it).
    pub expires_at: Option<DateTime<Utc>>,
}

impl Notification {
    /// The data an app needs to open the right screen on tap, as strings (FCM requires
    /// string values; APNs gets the same keys at the top level of the payload).
    pub fn data(&self) -> BTreeMap<&'static str, String> {
        BTreeMap::from([
            ("collapse_key", self.collapse_key.clone()),
            ("escalation_id", self.escalation_id.to_string()),
            ("occurrence_id", self.occurrence_id.to_string()),
            ("site_id", self.site_id.to_string()),
            ("routine_id", self.routine_id.to_string()),
            ("level", self.level.to_string()),
        ])
    }

    /// True when the notification has expired at `now` and must not be sent.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// Delivery priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Priority {
    /// Deliver immediately and wake the device (APNs priority 10, FCM "high"): escalations.
    #[default]
    High,
    /// May be batched by the OS to save power (APNs priority 5, FCM "normal").
    Normal,
}

impl Priority {
    /// The `apns-priority` header value.
    pub fn apns(self) -> &'static str {
        match self {
            Priority::High => "10",
            Priority::Normal => "5",
        }
    }

    /// The FCM `android.priority` value.
    pub fn fcm(self) -> &'static str {
        match self {
            Priority::High => "high",
            Priority::Normal => "normal",
        }
    }
}

/// Where one notification goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An iOS device, by its APNs device token (hex).
    Apns {
        /// The device token the app registered.
        device_token: String,
    },
    /// An Android device, by its FCM registration token.
    Fcm {
        /// The registration token the app registered.
        registration_token: String,
    },
    /// A chat webhook (e.g. Slack incoming webhook, or a team's own receiver).
    Webhook(WebhookTarget),
}

/// A webhook URL and the secret its requests are signed with.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    /// The URL to POST to.
    pub url: String,
    /// The shared HMAC-SHA256 secret (never printed by `Debug`).
    pub secret: Vec<u8>,
}

impl fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .finish()
    }
}
