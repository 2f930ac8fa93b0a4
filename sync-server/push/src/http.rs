//! Shared HTTP plumbing for the providers: building clients and turning transport failures
//! and `Retry-After` headers into [`Delivery`] parts. No provider-specific rules here.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::ConfigError;
use crate::outcome::{Delivery, parse_retry_after};

/// Connect and whole-request timeouts for provider calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Time to open the connection (TCP + TLS).
    pub connect: Duration,
    /// Time for the whole request and response.
    pub request: Duration,
}

impl Default for Timeouts {
    /// 10 s to connect, 30 s per request.
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            request: Duration::from_secs(30),
        }
    }
}

/// Builds a client. `http2_only`: speak HTTP/2 only (ALPN `h2` over TLS, prior-knowledge
/// h2c over plain http), as APNs requires. Redirects are never followed: a provider or
/// webhook that redirects is misconfigured, and following a POST could resend it elsewhere.
pub(crate) fn client(timeouts: Timeouts, http2_only: bool) -> Result<reqwest::Client, ConfigError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.request)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("proofline-push/", env!("CARGO_PKG_VERSION")));
    if http2_only {
        builder = builder.http2_prior_knowledge();
    }
    Ok(builder.build()?)
}

/// The server's `Retry-After`, if it sent a readable one.
pub(crate) fn retry_after(response: &reqwest::Response, now: DateTime<Utc>) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| parse_retry_after(value, now))
}

/// A request that got no HTTP answer: network trouble is temporary; a request we could not
/// even build is not.
pub(crate) fn transport_failure(service: &str, err: &reqwest::Error) -> Delivery {
    if err.is_builder() {
        return Delivery::failed(format!("could not build the request to {service}: {err}"));
    }
    let what = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else {
        "the connection failed"
    };
    Delivery::retry(None, format!("{service}: {what} ({})", error_chain(err)))
}

/// An error with its sources, e.g. "error sending request: connection refused".
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// A response body shortened for a log line or a reason.
pub(crate) fn snippet(body: &str) -> String {
    let trimmed = body.trim();
    match trimmed.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &trimmed[..at]),
        None => trimmed.to_owned(),
    }
}
