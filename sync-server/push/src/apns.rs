//! Apple Push Notification service: token-based auth (an ES256 provider token signed with
//! the team's `.p8` key) over HTTP/2. One `send` is one notification to one device; it
//! classifies Apple's answer into a [`Delivery`] and never sleeps or loops, except for one
//! immediate resend after Apple reports `ExpiredProviderToken`.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::error::{ConfigError, check_endpoint, check_token_setting};
use crate::http::{Timeouts, client, retry_after, snippet, transport_failure};
use crate::jwt::{Es256Key, SigningKey, encode};
use crate::notification::Notification;
use crate::outcome::Delivery;
use crate::payload::{MAX_PAYLOAD_BYTES, fit};

/// Apple's production endpoint.
pub const PRODUCTION_ENDPOINT: &str = "https://api.push.apple.com";
/// Apple's development (sandbox) endpoint, for debug builds of the app.
pub const SANDBOX_ENDPOINT: &str = "https://api.sandbox.push.apple.com";
/// A provider token is reused for this long (Apple accepts one for up to an hour).
pub const TOKEN_REUSE: Duration = Duration::from_secs(50 * 60);
/// Apple refuses provider-token updates more often than this (`TooManyProviderTokenUpdates`).
pub const TOKEN_MIN_REFRESH: Duration = Duration::from_secs(20 * 60);
/// The longest `apns-collapse-id` Apple accepts, in bytes.
pub const MAX_COLLAPSE_ID_BYTES: usize = 64;

/// How to reach APNs and sign in.
#[derive(Debug, Clone)]
pub struct ApnsConfig {
    /// Base URL: [`PRODUCTION_ENDPOINT`], [`SANDBOX_ENDPOINT`] or a test stub. A plain
    /// `http://` endpoint is spoken to as HTTP/2 cleartext (prior knowledge).
    pub endpoint: String,
    /// The Apple developer team id (the JWT `iss`).
    pub team_id: String,
    /// The id of the `.p8` key (the JWT header's `kid`).
    pub key_id: String,
    /// The app's bundle id (`apns-topic`).
    pub topic: String,
    /// The `.p8` signing key.
    pub key: Es256Key,
    /// Connect and request timeouts.
    pub timeouts: Timeouts,
}

/// A signed provider token and when it was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderToken {
    /// The compact JWT, sent as `authorization: bearer <jwt>`.
    pub jwt: String,
    /// Its `iat`.
    pub issued_at: DateTime<Utc>,
}

/// Why a new provider token is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshReason {
    /// Someone would like a fresh token: granted only when the current one is at least
    /// [`TOKEN_MIN_REFRESH`] old, since Apple punishes more frequent updates.
    Requested,
    /// Apple answered 403 `ExpiredProviderToken`: the current token is useless, so a new
    /// one is issued whatever its age.
    ExpiredProviderToken,
}

/// The provider-token cache: reuse for [`TOKEN_REUSE`], refresh no more often than
/// [`TOKEN_MIN_REFRESH`] unless Apple says the token expired. Time is always passed in.
#[derive(Debug)]
pub struct ProviderTokenCache {
    key: Es256Key,
    team_id: String,
    key_id: String,
    current: Option<ProviderToken>,
}

impl ProviderTokenCache {
    /// An empty cache for this key.
    pub fn new(key: Es256Key, team_id: impl Into<String>, key_id: impl Into<String>) -> Self {
        ProviderTokenCache {
            key,
            team_id: team_id.into(),
            key_id: key_id.into(),
            current: None,
        }
    }

    /// The token to use at `now`: the cached one while younger than [`TOKEN_REUSE`], else a
    /// new one. (A cached token "from the future", after the clock stepped back, is reused.)
    pub fn token(&mut self, now: DateTime<Utc>) -> Result<ProviderToken, String> {
        match &self.current {
            Some(token) if age(token, now) < TOKEN_REUSE => Ok(token.clone()),
            _ => self.issue(now),
        }
    }

    /// A new token if `reason` allows one at `now`, else the cached one.
    pub fn refresh(
        &mut self,
        now: DateTime<Utc>,
        reason: RefreshReason,
    ) -> Result<ProviderToken, String> {
        match (&self.current, reason) {
            (Some(token), RefreshReason::Requested) if age(token, now) < TOKEN_MIN_REFRESH => {
                Ok(token.clone())
            }
            _ => self.issue(now),
        }
    }

    /// Renews the token after Apple refused `rejected` as expired, unless another task has
    /// already renewed it (so a burst of refusals costs Apple one update, not one each).
    pub fn renew_rejected(
        &mut self,
        rejected: &ProviderToken,
        now: DateTime<Utc>,
    ) -> Result<ProviderToken, String> {
        match &self.current {
            Some(current) if current != rejected => Ok(current.clone()),
            _ => self.refresh(now, RefreshReason::ExpiredProviderToken),
        }
    }

    /// The cached token, if any.
    pub fn current(&self) -> Option<&ProviderToken> {
        self.current.as_ref()
    }

    fn issue(&mut self, now: DateTime<Utc>) -> Result<ProviderToken, String> {
        let header = json!({"alg": "ES256", "kid": self.key_id});
        let claims = json!({"iss": self.team_id, "iat": now.timestamp()});
        let jwt = encode(&header, &claims, SigningKey::Es256(&self.key))?;
        let token = ProviderToken {
            jwt,
            issued_at: now,
        };
        self.current = Some(token.clone());
        Ok(token)
    }
}

fn age(token: &ProviderToken, now: DateTime<Utc>) -> Duration {
    (now - token.issued_at).to_std().unwrap_or(Duration::ZERO)
}

/// Sends alerts to iOS devices through APNs.
#[derive(Debug)]
pub struct ApnsProvider {
    client: reqwest::Client,
    endpoint: String,
    topic: String,
    tokens: Mutex<ProviderTokenCache>,
}

impl ApnsProvider {
    /// Checks the settings and builds the HTTP/2 client.
    pub fn new(config: ApnsConfig) -> Result<Self, ConfigError> {
        check_token_setting("the APNs team id", &config.team_id)?;
        check_token_setting("the APNs key id", &config.key_id)?;
        check_token_setting("the APNs topic (bundle id)", &config.topic)?;
        let endpoint = check_endpoint("the APNs", &config.endpoint)?;
        Ok(ApnsProvider {
            client: client(config.timeouts, true)?,
            endpoint,
            topic: config.topic,
            tokens: Mutex::new(ProviderTokenCache::new(
                config.key,
                config.team_id,
                config.key_id,
            )),
        })
    }

    /// Sends `notification` to the device with `device_token`, at `now` (which dates the
    /// provider token and reads `Retry-After` dates). One attempt, classified; after a 403
    /// `ExpiredProviderToken` the token is renewed and the request sent once more.
    pub async fn send(
        &self,
        notification: &Notification,
        device_token: &str,
        now: DateTime<Utc>,
    ) -> Delivery {
        if device_token.is_empty()
            || device_token.len() > 200
            || !device_token.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Delivery::failed(format!(
                "`{}` is not an APNs device token (expected hex digits)",
                snippet(device_token)
            ));
        }
        if notification.is_expired(now) {
            return expired(notification);
        }
        let payload = match alert_payload(notification) {
            Ok(payload) => payload,
            Err(failure) => return failure,
        };
        let token = match self.with_tokens(|tokens| tokens.token(now)) {
            Ok(token) => token,
            Err(err) => return Delivery::failed(format!("could not sign the APNs token: {err}")),
        };
        match self
            .post(notification, device_token, &payload, &token, now)
            .await
        {
            Answer::ExpiredProviderToken => {
                let fresh = match self.with_tokens(|tokens| tokens.renew_rejected(&token, now)) {
                    Ok(token) => token,
                    Err(err) => {
                        return Delivery::failed(format!("could not sign the APNs token: {err}"));
                    }
                };
                match self
                    .post(notification, device_token, &payload, &fresh, now)
                    .await
                {
                    Answer::ExpiredProviderToken => Delivery::retry(
                        None,
                        "APNs still says the provider token expired after renewing it \
                         (403 ExpiredProviderToken): check the server clock",
                    ),
                    Answer::Done(outcome) => outcome,
                }
            }
            Answer::Done(outcome) => outcome,
        }
    }

    fn with_tokens<T>(&self, f: impl FnOnce(&mut ProviderTokenCache) -> T) -> T {
        let mut guard = self
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    async fn post(
        &self,
        notification: &Notification,
        device_token: &str,
        payload: &[u8],
        token: &ProviderToken,
        now: DateTime<Utc>,
    ) -> Answer {
        let expiration = notification
            .expires_at
            .map_or(0, |at| at.timestamp().max(0));
        let request = self
            .client
            .post(format!("{}/3/device/{device_token}", self.endpoint))
            .header("authorization", format!("bearer {}", token.jwt))
            .header("apns-topic", &self.topic)
            .header("apns-push-type", "alert")
            .header("apns-priority", notification.priority.apns())
            .header("apns-collapse-id", &notification.collapse_key)
            .header(
                "apns-id",
                notification.escalation_id.hyphenated().to_string(),
            )
            .header("apns-expiration", expiration.to_string())
            .header("content-type", "application/json")
            .body(payload.to_vec());
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) => return Answer::Done(transport_failure("APNs", &err)),
        };
        let status = response.status().as_u16();
        let apns_id = response
            .headers()
            .get("apns-id")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let wait = retry_after(&response, now);
        let body = response.text().await.unwrap_or_default();
        let reason = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|value| value.get("reason")?.as_str().map(str::to_owned));
        classify(status, reason.as_deref(), wait, apns_id, &self.topic, &body)
    }
}

/// APNs' answer: final, or "renew the provider token and resend".
enum Answer {
    Done(Delivery),
    ExpiredProviderToken,
}

fn classify(
    status: u16,
    reason: Option<&str>,
    wait: Option<Duration>,
    apns_id: Option<String>,
    topic: &str,
    body: &str,
) -> Answer {
    let said = reason.map_or_else(|| snippet(body), str::to_owned);
    let outcome = match (status, reason) {
        (200, _) => Delivery::Delivered {
            provider_id: apns_id,
        },
        (403, Some("ExpiredProviderToken")) => return Answer::ExpiredProviderToken,
        (410, _) => Delivery::gone(format!(
            "APNs says the device token is no longer active (410 {said}): the app was \
             removed or notifications were turned off"
        )),
        (400, Some("BadDeviceToken")) => Delivery::failed(
            "APNs rejected the device token (400 BadDeviceToken): it is malformed or belongs \
             to the other APNs environment (sandbox vs production)",
        ),
        (400, Some("DeviceTokenNotForTopic")) => Delivery::failed(format!(
            "the device token belongs to another app than `{topic}` (400 DeviceTokenNotForTopic)"
        )),
        (403, Some("InvalidProviderToken")) => Delivery::failed(
            "APNs rejected the provider token (403 InvalidProviderToken): check the key id, \
             the team id and the .p8 key",
        ),
        (413, _) => Delivery::failed(format!("APNs says the payload is too large (413 {said})")),
        (429, _) => Delivery::retry(wait, format!("APNs is rate limiting (429 {said})")),
        (500 | 503, _) => Delivery::retry(wait, format!("APNs is unavailable ({status} {said})")),
        (500..=599, _) => Delivery::retry(wait, format!("APNs failed ({status} {said})")),
        _ => Delivery::failed(format!("APNs refused the notification ({status} {said})")),
    };
    Answer::Done(outcome)
}

fn expired(notification: &Notification) -> Delivery {
    Delivery::failed(format!(
        "the notification expired at {} before it could be sent",
        notification
            .expires_at
            .map_or_else(String::new, |at| at.to_rfc3339())
    ))
}

/// The JSON payload, at most [`MAX_PAYLOAD_BYTES`]: `{"aps": {alert, sound, thread-id},
/// escalation_id, occurrence_id, site_id, routine_id, level}`. Alerts of one site share a
/// `thread-id`, so the phone groups them.
pub fn alert_payload(notification: &Notification) -> Result<Vec<u8>, Delivery> {
    let data = notification.data();
    let build = |title: &str, body: &str| {
        let mut root = Map::new();
        root.insert(
            "aps".to_owned(),
            json!({
                "alert": {"title": title, "body": body},
                "sound": "default",
                "thread-id": notification.site_id.to_string(),
            }),
        );
        for (key, value) in &data {
            root.insert((*key).to_owned(), Value::String(value.clone()));
        }
        serde_json::to_vec(&Value::Object(root)).unwrap_or_default()
    };
    fit(
        MAX_PAYLOAD_BYTES,
        &notification.title,
        &notification.body,
        build,
    )
    .map(|(bytes, _)| bytes)
    .map_err(|too_large| {
        Delivery::failed(format!(
            "the APNs payload cannot fit in {MAX_PAYLOAD_BYTES} bytes even without text \
             ({} bytes)",
            too_large.bytes
        ))
    })
}
