//! Push providers for Proofline's escalation dispatcher.
//!
//! The dispatcher (in `proofline-server`) decides *who* hears about *which* escalation and
//! keeps the durable outbox; this crate only *delivers* one [`Notification`] to one
//! [`Target`] and says what happened, as a [`Delivery`] the dispatcher can act on.
//!
//! - [`notification`]: the provider-neutral notification and its targets.
//! - [`outcome`]: delivered / retry later / token gone / failed, and `Retry-After`.
//! - [`retry`]: backoff with jitter (pure), and [`deliver_with_retries`] with injected
//!   clock, randomness and sleep.
//! - [`jwt`]: ES256 and RS256 keys from PKCS#8 PEM and compact JWT signing.
//! - [`apns`]: APNs over HTTP/2 with a cached provider token.
//! - [`fcm`]: FCM HTTP v1 with a cached OAuth2 access token from a service account.
//! - [`webhook`]: Slack-compatible JSON posts signed with HMAC-SHA256, and the receiver's
//!   [`webhook::verify_signature`].
//! - [`providers`]: [`Providers`], one entry point that routes a target to its provider.
//!
//! Every `send` takes `now`: nothing here reads a clock except [`SystemRetryEnv`]. Each
//! `send` makes one attempt (plus one immediate resend after renewing an expired auth
//! token) and never sleeps; retrying is [`deliver_with_retries`] or the dispatcher's outbox.
//! Nothing panics on bad input: bad configuration is a [`ConfigError`], a bad answer is a
//! [`Delivery`].

pub mod apns;
pub mod error;
pub mod fcm;
mod http;
pub mod jwt;
pub mod notification;
pub mod outcome;
mod payload;
pub mod providers;
pub mod retry;
pub mod webhook;

pub use apns::{ApnsConfig, ApnsProvider};
pub use error::ConfigError;
pub use fcm::{FcmConfig, FcmProvider, ServiceAccount};
pub use http::Timeouts;
pub use jwt::{Es256Key, Rs256Key};
pub use notification::{Notification, Priority, Target, WebhookTarget};
pub use outcome::Delivery;
pub use payload::MAX_PAYLOAD_BYTES;
pub use providers::Providers;
pub use retry::{RetryEnv, RetryPolicy, RetryReport, SystemRetryEnv, deliver_with_retries};
pub use webhook::WebhookProvider;
