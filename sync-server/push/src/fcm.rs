//! Firebase Cloud Messaging, HTTP v1 API. A service account signs an RS256 JWT assertion,
//! trades it for an OAuth2 access token at its `token_uri` (cached until shortly before it
//! expires), then `POST /v1/projects/{project_id}/messages:send`. One `send` is one message
//! to one registration token, classified into a [`Delivery`]; after a 401 the access token
//! is renewed and the message sent once more. Never sleeps or loops otherwise.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ConfigError, check_endpoint};
use crate::http::{Timeouts, client, retry_after, snippet, transport_failure};
use crate::jwt::{Rs256Key, SigningKey, encode};
use crate::notification::Notification;
use crate::outcome::Delivery;
use crate::payload::{MAX_PAYLOAD_BYTES, fit};

/// Google's FCM endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://fcm.googleapis.com";
/// Google's OAuth2 token endpoint, used when a service account names none.
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// The OAuth2 scope for sending messages.
pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// The grant type of a JWT-bearer assertion (RFC 7523).
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// How long an assertion is valid (Google's maximum is one hour).
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(3600);
/// An access token is renewed this long before it expires (at most half its lifetime).
pub const ACCESS_TOKEN_MARGIN: Duration = Duration::from_secs(5 * 60);

/// A Google service account, as read from its JSON key file.
#[derive(Debug, Clone)]
pub struct ServiceAccount {
    /// The Firebase project the messages are sent for.
    pub project_id: String,
    /// The account's e-mail (the assertion's `iss`).
    pub client_email: String,
    /// Where to trade the assertion for an access token (the assertion's `aud`); tests
    /// point it at a stub.
    pub token_uri: String,
    /// The key's id, sent as the assertion's `kid` when present.
    pub private_key_id: Option<String>,
    /// The RSA key that signs assertions.
    pub key: Rs256Key,
}

#[derive(Deserialize)]
struct RawServiceAccount {
    #[serde(rename = "type")]
    kind: Option<String>,
    project_id: Option<String>,
    private_key_id: Option<String>,
    private_key: Option<String>,
    client_email: Option<String>,
    token_uri: Option<String>,
}

impl ServiceAccount {
    /// Reads the service-account JSON Google issues (`type`, `project_id`, `private_key`,
    /// `client_email`, `token_uri`, …). Says which field is missing or malformed.
    pub fn from_json(json: &str) -> Result<Self, ConfigError> {
        let raw: RawServiceAccount = serde_json::from_str(json).map_err(|err| {
            ConfigError::ServiceAccount(format!("it is not a JSON object of strings ({err})"))
        })?;
        if let Some(kind) = raw.kind.as_deref()
            && kind != "service_account"
        {
            return Err(ConfigError::ServiceAccount(format!(
                "`type` is `{kind}`, expected `service_account`"
            )));
        }
        let required = |value: Option<String>, field: &str| {
            value
                .filter(|value| !value.trim().is_empty())
                .ok_or_else(|| ConfigError::ServiceAccount(format!("`{field}` is missing")))
        };
        let project_id = required(raw.project_id, "project_id")?;
        if !project_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.' || b == b':')
        {
            return Err(ConfigError::ServiceAccount(format!(
                "`project_id` `{project_id}` is not a project id"
            )));
        }
        let client_email = required(raw.client_email, "client_email")?;
        let key = Rs256Key::from_pkcs8_pem(&required(raw.private_key, "private_key")?)?;
        let token_uri = raw
            .token_uri
            .filter(|uri| !uri.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_TOKEN_URI.to_owned());
        let token_uri = check_endpoint("the service account's token_uri", &token_uri)?;
        Ok(ServiceAccount {
            project_id,
            client_email,
            token_uri,
            private_key_id: raw.private_key_id.filter(|id| !id.is_empty()),
            key,
        })
    }

    /// The signed JWT assertion for `now`: header `{alg: RS256, typ: JWT, kid}`, claims
    /// `{iss, scope, aud: token_uri, iat, exp: iat + 1 h}`.
    pub fn assertion(&self, now: DateTime<Utc>) -> Result<String, String> {
        let mut header = json!({"alg": "RS256", "typ": "JWT"});
        if let Some(kid) = &self.private_key_id {
            header["kid"] = Value::String(kid.clone());
        }
        let iat = now.timestamp();
        let claims = json!({
            "iss": self.client_email,
            "scope": SCOPE,
            "aud": self.token_uri,
            "iat": iat,
            "exp": iat + ASSERTION_LIFETIME.as_secs() as i64,
        });
        encode(&header, &claims, SigningKey::Rs256(&self.key))
    }
}

/// How to reach FCM.
#[derive(Debug, Clone)]
pub struct FcmConfig {
    /// Base URL: [`DEFAULT_ENDPOINT`] or a test stub.
    pub endpoint: String,
    /// The service account (its `token_uri` says where access tokens come from).
    pub service_account: ServiceAccount,
    /// Connect and request timeouts.
    pub timeouts: Timeouts,
}

#[derive(Debug, Clone)]
struct AccessToken {
    token: String,
    /// Renew from this instant on (a margin before the real expiry).
    renew_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
}

/// Sends alerts to Android devices through FCM HTTP v1.
#[derive(Debug)]
pub struct FcmProvider {
    client: reqwest::Client,
    send_url: String,
    account: ServiceAccount,
    access: tokio::sync::Mutex<Option<AccessToken>>,
}

impl FcmProvider {
    /// Checks the endpoint and builds the client.
    pub fn new(config: FcmConfig) -> Result<Self, ConfigError> {
        let endpoint = check_endpoint("the FCM", &config.endpoint)?;
        Ok(FcmProvider {
            client: client(config.timeouts, false)?,
            send_url: format!(
                "{endpoint}/v1/projects/{}/messages:send",
                config.service_account.project_id
            ),
            account: config.service_account,
            access: tokio::sync::Mutex::new(None),
        })
    }

    /// Sends `notification` to `registration_token`, at `now` (which dates the assertion,
    /// decides whether the cached access token is still good and reads `Retry-After` dates).
    pub async fn send(
        &self,
        notification: &Notification,
        registration_token: &str,
        now: DateTime<Utc>,
    ) -> Delivery {
        if registration_token.is_empty()
            || registration_token.len() > 4096
            || !registration_token.bytes().all(|b| b.is_ascii_graphic())
        {
            return Delivery::failed(format!(
                "`{}` is not an FCM registration token",
                snippet(registration_token)
            ));
        }
        if notification.is_expired(now) {
            return Delivery::failed(format!(
                "the notification expired at {} before it could be sent",
                notification
                    .expires_at
                    .map_or_else(String::new, |at| at.to_rfc3339())
            ));
        }
        let message = match message(notification, registration_token, now) {
            Ok(message) => message,
            Err(failure) => return failure,
        };
        let token = match self.access_token(now, false).await {
            Ok(token) => token,
            Err(outcome) => return outcome,
        };
        match self.post(&message, &token, now).await {
            Answer::Unauthenticated(_) => {
                let fresh = match self.access_token(now, true).await {
                    Ok(token) => token,
                    Err(outcome) => return outcome,
                };
                match self.post(&message, &fresh, now).await {
                    Answer::Unauthenticated(said) => Delivery::failed(format!(
                        "FCM refused a freshly issued access token (401 {said}): check that \
                         the service account may send messages for project `{}`",
                        self.account.project_id
                    )),
                    Answer::Done(outcome) => outcome,
                }
            }
            Answer::Done(outcome) => outcome,
        }
    }

    /// The cached access token, or a new one when it is due for renewal or `force`d.
    async fn access_token(&self, now: DateTime<Utc>, force: bool) -> Result<String, Delivery> {
        let mut cached = self.access.lock().await;
        if !force
            && let Some(token) = cached.as_ref()
            && now < token.renew_at
        {
            return Ok(token.token.clone());
        }
        let fresh = self.fetch_access_token(now).await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    async fn fetch_access_token(&self, now: DateTime<Utc>) -> Result<AccessToken, Delivery> {
        let assertion = self.account.assertion(now).map_err(|err| {
            Delivery::failed(format!("could not sign the FCM JWT assertion: {err}"))
        })?;
        let response = self
            .client
            .post(&self.account.token_uri)
            .form(&[
                ("grant_type", GRANT_TYPE),
                ("assertion", assertion.as_str()),
            ])
            .send()
            .await
            .map_err(|err| transport_failure("the OAuth2 token endpoint", &err))?;
        let status = response.status().as_u16();
        let wait = retry_after(&response, now);
        let body = response.text().await.unwrap_or_default();
        match status {
            200..=299 => {
                let parsed: TokenResponse = serde_json::from_str(&body).map_err(|_| {
                    Delivery::retry(
                        None,
                        format!(
                            "the OAuth2 token endpoint answered without an access token: {}",
                            snippet(&body)
                        ),
                    )
                })?;
                let lifetime = Duration::from_secs(parsed.expires_in.unwrap_or(3600));
                let margin = ACCESS_TOKEN_MARGIN.min(lifetime / 2);
                let renew_in = chrono::Duration::from_std(lifetime - margin)
                    .unwrap_or(chrono::Duration::zero());
                Ok(AccessToken {
                    token: parsed.access_token,
                    renew_at: now.checked_add_signed(renew_in).unwrap_or(now),
                })
            }
            429 | 500..=599 => Err(Delivery::retry(
                wait,
                format!(
                    "the OAuth2 token endpoint is unavailable ({status} {})",
                    snippet(&body)
                ),
            )),
            _ => Err(Delivery::failed(format!(
                "Google refused the service account's assertion ({status} {}): check the \
                 service-account key, that it is not revoked, and the server clock",
                oauth_error(&body)
            ))),
        }
    }

    async fn post(&self, message: &[u8], access_token: &str, now: DateTime<Utc>) -> Answer {
        let response = match self
            .client
            .post(&self.send_url)
            .bearer_auth(access_token)
            .header("content-type", "application/json; charset=utf-8")
            .body(message.to_vec())
            .send()
            .await
        {
            Ok(response) => response,
            Err(err) => return Answer::Done(transport_failure("FCM", &err)),
        };
        let status = response.status().as_u16();
        let wait = retry_after(&response, now);
        let body = response.text().await.unwrap_or_default();
        classify(status, &body, wait)
    }
}

enum Answer {
    Done(Delivery),
    Unauthenticated(String),
}

/// The parts of an FCM error answer that matter:
/// `{"error": {"code", "message", "status", "details": [{"errorCode"}]}}`.
fn fcm_error(body: &str) -> (Option<String>, String) {
    let value: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let error = &value["error"];
    let code = error["details"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|detail| detail["errorCode"].as_str())
        .or_else(|| error["status"].as_str())
        .map(str::to_owned);
    let message = error["message"]
        .as_str()
        .map_or_else(|| snippet(body), str::to_owned);
    (code, message)
}

/// `error: error_description` of an OAuth2 error answer.
fn oauth_error(body: &str) -> String {
    let value: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    match (value["error"].as_str(), value["error_description"].as_str()) {
        (Some(error), Some(description)) => format!("{error}: {description}"),
        (Some(error), None) => error.to_owned(),
        _ => snippet(body),
    }
}

fn classify(status: u16, body: &str, wait: Option<Duration>) -> Answer {
    if (200..300).contains(&status) {
        let name = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|value| value["name"].as_str().map(str::to_owned));
        return Answer::Done(Delivery::Delivered { provider_id: name });
    }
    let (code, message) = fcm_error(body);
    let code = code.unwrap_or_default();
    let said = if code.is_empty() {
        message
    } else {
        format!("{code}: {message}")
    };
    let outcome = match (status, code.as_str()) {
        (_, "UNREGISTERED") | (404, _) => Delivery::gone(format!(
            "FCM says the registration token is no longer valid ({status} {said}): the app \
             was removed or its token rotated"
        )),
        (401, "THIRD_PARTY_AUTH_ERROR") => Delivery::failed(format!(
            "FCM could not deliver to Apple with the project's APNs credentials ({status} {said})"
        )),
        (401, _) => return Answer::Unauthenticated(said),
        (403, "SENDER_ID_MISMATCH") => Delivery::failed(format!(
            "the registration token belongs to another Firebase project ({status} {said})"
        )),
        (429, _) | (_, "QUOTA_EXCEEDED") => {
            Delivery::retry(wait, format!("FCM quota exceeded ({status} {said})"))
        }
        (500..=599, _) | (_, "UNAVAILABLE" | "INTERNAL") => {
            Delivery::retry(wait, format!("FCM is unavailable ({status} {said})"))
        }
        _ => Delivery::failed(format!("FCM refused the message ({status} {said})")),
    };
    Answer::Done(outcome)
}

/// The `messages:send` body, at most [`MAX_PAYLOAD_BYTES`]. The notification's collapse
/// key (an escalation's occurrence id) is the Android `collapse_key` and notification
/// `tag`, and the `apns-collapse-id` for iOS devices reached through FCM, so one check
/// shows one notification.
pub fn message(
    notification: &Notification,
    registration_token: &str,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, Delivery> {
    let collapse = &notification.collapse_key;
    let data = notification.data();
    let ttl = notification
        .expires_at
        .map(|at| (at - now).num_seconds().max(0));
    let build = |title: &str, body: &str| {
        let mut android = json!({
            "collapse_key": collapse,
            "priority": notification.priority.fcm(),
            "notification": {"tag": collapse},
        });
        let mut apns_headers = json!({
            "apns-collapse-id": collapse,
            "apns-priority": notification.priority.apns(),
        });
        if let (Some(ttl), Some(at)) = (ttl, notification.expires_at) {
            android["ttl"] = Value::String(format!("{ttl}s"));
            apns_headers["apns-expiration"] = Value::String(at.timestamp().max(0).to_string());
        }
        let message = json!({"message": {
            "token": registration_token,
            "notification": {"title": title, "body": body},
            "data": data,
            "android": android,
            "apns": {
                "headers": apns_headers,
                "payload": {"aps": {"sound": "default", "thread-id": notification.site_id.to_string()}},
            },
        }});
        serde_json::to_vec(&message).unwrap_or_default()
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
            "the FCM message cannot fit in {MAX_PAYLOAD_BYTES} bytes even without text ({} bytes)",
            too_large.bytes
        ))
    })
}
