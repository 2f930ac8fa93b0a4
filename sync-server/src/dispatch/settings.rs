//! How the dispatcher is configured (flags and environment, see `cli`), and building the
//! push providers from it at start-up, with errors that name the setting to fix.

use std::path::PathBuf;
use std::time::Duration;

use proofline_push::{
    ApnsConfig, ApnsProvider, Es256Key, FcmConfig, FcmProvider, Providers, RetryPolicy,
    ServiceAccount, Timeouts, WebhookProvider, WebhookTarget,
};

use super::Dispatcher;

/// The default tick.
pub const DEFAULT_TICK: Duration = Duration::from_secs(15);

/// APNs settings: token-based auth with a `.p8` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApnsSettings {
    /// Base URL (production, sandbox or a test stub).
    pub endpoint: String,
    /// The `.p8` key file.
    pub key_file: PathBuf,
    /// The key's id.
    pub key_id: String,
    /// The Apple developer team id.
    pub team_id: String,
    /// The app's bundle id.
    pub topic: String,
}

/// FCM settings: a service-account JSON key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FcmSettings {
    /// Base URL (`https://fcm.googleapis.com` or a test stub).
    pub endpoint: String,
    /// The service-account JSON file (its `token_uri` says where access tokens come from).
    pub service_account_file: PathBuf,
}

/// A chat webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Where to POST.
    pub url: String,
    /// The HMAC-SHA256 signing secret.
    pub secret: String,
}

/// Everything the dispatcher is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchSettings {
    /// How often to tick; `None`: never by itself (tests drive it).
    pub tick: Option<Duration>,
    /// APNs, when configured.
    pub apns: Option<ApnsSettings>,
    /// FCM, when configured.
    pub fcm: Option<FcmSettings>,
    /// The webhook, when configured.
    pub webhook: Option<WebhookSettings>,
    /// Delivery attempts per notification before it becomes a dead letter.
    pub max_attempts: u32,
    /// A tick evaluates routines on several threads (the machine's cores, at most 4) when
    /// it has at least this many to evaluate; below, on its own thread. 1: always in
    /// parallel; `usize::MAX`: never.
    pub parallel_from: usize,
}

impl Default for DispatchSettings {
    /// Ticks every 15 s; no provider; 8 attempts; parallel from 256 routines.
    fn default() -> Self {
        DispatchSettings {
            tick: Some(DEFAULT_TICK),
            apns: None,
            fcm: None,
            webhook: None,
            max_attempts: RetryPolicy::default().max_attempts,
            parallel_from: super::PARALLEL_FROM,
        }
    }
}

impl DispatchSettings {
    /// The dispatcher these settings describe; an error names the setting that is wrong.
    pub fn build(&self) -> Result<Dispatcher, String> {
        let timeouts = Timeouts::default();
        let apns = match &self.apns {
            Some(s) => {
                let pem = std::fs::read_to_string(&s.key_file).map_err(|e| {
                    format!(
                        "cannot read the APNs key file {}: {e}",
                        s.key_file.display()
                    )
                })?;
                let key = Es256Key::from_pkcs8_pem(&pem)
                    .map_err(|e| format!("the APNs key file {}: {e}", s.key_file.display()))?;
                Some(
                    ApnsProvider::new(ApnsConfig {
                        endpoint: s.endpoint.clone(),
                        team_id: s.team_id.clone(),
                        key_id: s.key_id.clone(),
                        topic: s.topic.clone(),
                        key,
                        timeouts,
                    })
                    .map_err(|e| format!("APNs: {e}"))?,
                )
            }
            None => None,
        };
        let fcm = match &self.fcm {
            Some(s) => {
                let file = &s.service_account_file;
                let json = std::fs::read_to_string(file).map_err(|e| {
                    format!(
                        "cannot read the FCM service account {}: {e}",
                        file.display()
                    )
                })?;
                let service_account = ServiceAccount::from_json(&json)
                    .map_err(|e| format!("the FCM service account {}: {e}", file.display()))?;
                Some(
                    FcmProvider::new(FcmConfig {
                        endpoint: s.endpoint.clone(),
                        service_account,
                        timeouts,
                    })
                    .map_err(|e| format!("FCM: {e}"))?,
                )
            }
            None => None,
        };
        let webhook = match &self.webhook {
            Some(_) => Some(WebhookProvider::new(timeouts).map_err(|e| format!("webhook: {e}"))?),
            None => None,
        };
        let target = self.webhook.as_ref().map(|w| WebhookTarget {
            url: w.url.clone(),
            secret: w.secret.clone().into_bytes(),
        });
        let retry = RetryPolicy {
            max_attempts: self.max_attempts.max(1),
            ..RetryPolicy::default()
        };
        let mut dispatcher =
            Dispatcher::new(Providers { apns, fcm, webhook }, target, retry, self.tick);
        dispatcher.parallel_from = self.parallel_from;
        Ok(dispatcher)
    }
}
