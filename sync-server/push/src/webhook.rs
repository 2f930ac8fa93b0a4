//! Chat webhooks: a JSON POST with a Slack-compatible `text` plus structured fields, signed
//! so receivers can check it came from this server and was not altered or replayed.
//!
//! Signature: header `X-Proofline-Signature: t=<unix seconds>,v1=<hex>` where `<hex>` is
//! `HMAC-SHA256(secret, "<t>.<raw body>")`. Receivers call [`verify_signature`] (or do the
//! same: recompute, compare in constant time, reject a `t` too far from their clock).

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit as _, Mac as _};
use serde_json::json;

use crate::error::ConfigError;
use crate::http::{Timeouts, client, retry_after, snippet, transport_failure};
use crate::notification::{Notification, WebhookTarget};
use crate::outcome::Delivery;

/// The signature header's name.
pub const SIGNATURE_HEADER: &str = "x-proofline-signature";
/// A header carrying the escalation id, so receivers can drop duplicates.
pub const ESCALATION_HEADER: &str = "x-proofline-escalation-id";
/// Header carrying [`Notification::alert_id`], the key receivers drop repeats by.
pub const ALERT_HEADER: &str = "x-proofline-alert-id";
/// How far a signature's timestamp may be from the receiver's clock by default.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

type HmacSha256 = Hmac<sha2::Sha256>;

/// Why a webhook signature does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is not `t=<unix>,v1=<hex>`.
    #[error("the signature header is not `t=<unix seconds>,v1=<hex>`")]
    Malformed,
    /// The timestamp is too far from the receiver's clock (a replay, or a wrong clock).
    #[error(
        "the signature is {skew_seconds} s away from now, more than the {tolerance_seconds} s allowed"
    )]
    Stale {
        /// How far off, in seconds.
        skew_seconds: u64,
        /// The tolerance, in seconds.
        tolerance_seconds: u64,
    },
    /// No `v1` value matches the body and secret.
    #[error("the signature does not match the body (wrong secret, or the body was altered)")]
    Mismatch,
}

/// The header value signing `body` at unix time `timestamp`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        hex_lower(&mac(secret, timestamp, body))
    )
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length; the error arm cannot happen but must not panic.
    let Ok(mut mac) = HmacSha256::new_from_slice(secret) else {
        return Vec::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// Checks a received `X-Proofline-Signature` header against the raw `body` and `secret`,
/// accepting a timestamp within `tolerance` of `now`. Several `v1=` values (during a secret
/// rotation) are accepted if any matches.
pub fn verify_signature(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: DateTime<Utc>,
    tolerance: Duration,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => {
                timestamp = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| SignatureError::Malformed)?,
                );
            }
            Some(("v1", value)) => {
                candidates.push(decode_hex(value).ok_or(SignatureError::Malformed)?);
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let skew = now.timestamp().abs_diff(timestamp);
    if skew > tolerance.as_secs() {
        return Err(SignatureError::Stale {
            skew_seconds: skew,
            tolerance_seconds: tolerance.as_secs(),
        });
    }
    let matches = candidates.iter().any(|candidate| {
        HmacSha256::new_from_slice(secret).is_ok_and(|mut mac| {
            mac.update(timestamp.to_string().as_bytes());
            mac.update(b".");
            mac.update(body);
            // Constant-time comparison.
            mac.verify_slice(candidate).is_ok()
        })
    });
    if matches {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}

/// The JSON body: Slack's `text` (`*title*` and the sentence, with `&`, `<`, `>` escaped as
/// Slack requires) and the structured fields a team's own receiver wants.
pub fn body(notification: &Notification, now: DateTime<Utc>) -> Vec<u8> {
    let text = format!(
        "*{}*\n{}",
        slack_escape(&notification.title),
        slack_escape(&notification.body)
    );
    let value = json!({
        "text": text,
        "alert_id": notification.alert_id,
        "escalation_id": notification.escalation_id,
        "occurrence_id": notification.occurrence_id,
        "site_id": notification.site_id,
        "site": notification.site_name,
        "routine_id": notification.routine_id,
        "check": notification.check_title,
        "level": notification.level,
        "title": notification.title,
        "body": notification.body,
        "sent_at": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    });
    serde_json::to_vec(&value).unwrap_or_default()
}

fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Posts signed notifications to webhooks.
#[derive(Debug, Clone)]
pub struct WebhookProvider {
    client: reqwest::Client,
}

impl WebhookProvider {
    /// Builds the client (HTTP/1.1 or HTTP/2, whatever the receiver speaks).
    pub fn new(timeouts: Timeouts) -> Result<Self, ConfigError> {
        Ok(WebhookProvider {
            client: client(timeouts, false)?,
        })
    }

    /// Posts `notification` to `target`, signed at `now`. 2xx → delivered; 408, 429, 5xx
    /// → retry later; 410 → gone (the endpoint was removed); other answers → failed.
    pub async fn send(
        &self,
        notification: &Notification,
        target: &WebhookTarget,
        now: DateTime<Utc>,
    ) -> Delivery {
        if notification.is_expired(now) {
            return Delivery::failed("the notification expired before it could be sent");
        }
        if target.secret.is_empty() {
            return Delivery::failed(format!(
                "the webhook `{}` has no signing secret",
                target.url
            ));
        }
        match reqwest::Url::parse(&target.url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            _ => {
                return Delivery::failed(format!(
                    "the webhook URL `{}` is not an http(s) URL",
                    snippet(&target.url)
                ));
            }
        }
        let body = body(notification, now);
        let signature = sign(&target.secret, now.timestamp(), &body);
        let response = match self
            .client
            .post(&target.url)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header(ESCALATION_HEADER, notification.escalation_id.to_string())
            .header(ALERT_HEADER, notification.alert_id.to_string())
            .body(body)
            .send()
            .await
        {
            Ok(response) => response,
            Err(err) => return transport_failure("the webhook", &err),
        };
        let status = response.status().as_u16();
        let wait = retry_after(&response, now);
        let answer = response.text().await.unwrap_or_default();
        let said = snippet(&answer);
        match status {
            200..=299 => Delivery::Delivered { provider_id: None },
            410 => Delivery::gone(format!(
                "the webhook endpoint was removed (410 {said}): delete it"
            )),
            408 | 429 | 500..=599 => Delivery::retry(
                wait,
                format!("the webhook is unavailable ({status} {said})"),
            ),
            300..=399 => Delivery::failed(format!(
                "the webhook redirected ({status}); redirects are not followed: update its URL"
            )),
            _ => Delivery::failed(format!("the webhook refused the alert ({status} {said})")),
        }
    }
}
