//! One entry point for the dispatcher: route a [`Target`] to the provider that serves it.
//! A target whose provider is not configured is a permanent failure naming the setting.

use chrono::{DateTime, Utc};

use crate::apns::ApnsProvider;
use crate::fcm::FcmProvider;
use crate::notification::{Notification, Target};
use crate::outcome::Delivery;
use crate::webhook::WebhookProvider;

/// The configured providers. Build once at server start and share (`Arc`); every method
/// takes `&self` and is safe to call from many tasks.
#[derive(Debug, Default)]
pub struct Providers {
    /// APNs, when configured.
    pub apns: Option<ApnsProvider>,
    /// FCM, when configured.
    pub fcm: Option<FcmProvider>,
    /// Webhooks, when enabled.
    pub webhook: Option<WebhookProvider>,
}

impl Providers {
    /// One delivery attempt of `notification` to `target` at `now`.
    pub async fn send(
        &self,
        notification: &Notification,
        target: &Target,
        now: DateTime<Utc>,
    ) -> Delivery {
        match target {
            Target::Apns { device_token } => match &self.apns {
                Some(apns) => apns.send(notification, device_token, now).await,
                None => Delivery::failed("APNs is not configured on this server"),
            },
            Target::Fcm { registration_token } => match &self.fcm {
                Some(fcm) => fcm.send(notification, registration_token, now).await,
                None => Delivery::failed("FCM is not configured on this server"),
            },
            Target::Webhook(webhook) => match &self.webhook {
                Some(provider) => provider.send(notification, webhook, now).await,
                None => Delivery::failed("webhooks are not enabled on this server"),
            },
        }
    }
}
