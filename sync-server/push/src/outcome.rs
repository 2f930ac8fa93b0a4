//! The outcome of one delivery attempt, classified so the dispatcher knows what to do next:
//! mark it sent, try again later, forget the device token, or park it as a dead letter.
//! This module never decides *when* to retry; that is [`crate::retry`].

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// What happened to one attempt to deliver a notification to one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The provider accepted the notification.
    Delivered {
        /// The provider's id for it, when it gave one (APNs `apns-id`, FCM message name).
        provider_id: Option<String>,
    },
    /// A temporary problem (rate limit, provider outage, network): try again later.
    RetryLater {
        /// How long the provider asked us to wait (`Retry-After`), if it said.
        retry_after: Option<Duration>,
        /// What went wrong, for logs and the admin API.
        reason: String,
    },
    /// The device token or webhook is gone for good: remove it and do not retry.
    TokenGone {
        /// What the provider said.
        reason: String,
    },
    /// A permanent failure: retrying the same request cannot succeed (dead letter).
    Failed {
        /// What is wrong, readable by a person.
        reason: String,
    },
}

impl Delivery {
    /// A retry-later outcome with a reason.
    pub fn retry(retry_after: Option<Duration>, reason: impl Into<String>) -> Self {
        Delivery::RetryLater {
            retry_after,
            reason: reason.into(),
        }
    }

    /// A permanent failure with a reason.
    pub fn failed(reason: impl Into<String>) -> Self {
        Delivery::Failed {
            reason: reason.into(),
        }
    }

    /// A token-gone outcome with a reason.
    pub fn gone(reason: impl Into<String>) -> Self {
        Delivery::TokenGone {
            reason: reason.into(),
        }
    }

    /// True when trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Delivery::RetryLater { .. })
    }
}

impl fmt::Display for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Delivery::Delivered {
                provider_id: Some(id),
            } => write!(f, "delivered (provider id {id})"),
            Delivery::Delivered { provider_id: None } => write!(f, "delivered"),
            Delivery::RetryLater {
                retry_after: Some(wait),
                reason,
            } => write!(f, "retry in {} s: {reason}", wait.as_secs()),
            Delivery::RetryLater {
                retry_after: None,
                reason,
            } => write!(f, "retry later: {reason}"),
            Delivery::TokenGone { reason } => write!(f, "token gone: {reason}"),
            Delivery::Failed { reason } => write!(f, "failed: {reason}"),
        }
    }
}

/// Reads a `Retry-After` value: delay-seconds or an HTTP-date (measured from `now`).
/// A date in the past means "now" (zero); anything unreadable is ignored (`None`).
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Mon, 30 Nov 2026 12:01:30 GMT", now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            parse_retry_after("Mon, 30 Nov 2026 11:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }
}
