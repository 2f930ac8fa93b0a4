//! When to try a delivery again: exponential backoff with jitter, a capped delay and a
//! capped number of attempts, honouring a provider's `Retry-After`. The policy is a pure
//! function of the attempt number and a jitter input; the loop [`deliver_with_retries`] gets
//! its clock, randomness and sleep from a [`RetryEnv`], so tests run it without waiting.
//!
//! Providers' `send` methods make exactly one attempt (plus at most one immediate retry after
//! refreshing an expired auth token) and return the classified [`Delivery`]; retrying is
//! the caller's choice: this loop, or the dispatcher's durable outbox using
//! [`RetryPolicy::next_attempt_at`].

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::outcome::Delivery;

/// Backoff settings.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// The delay after the first failed attempt.
    pub initial_delay: Duration,
    /// No computed delay exceeds this.
    pub max_delay: Duration,
    /// Attempts in total, the first included (at least 1).
    pub max_attempts: u32,
    /// The share of each delay that is randomized, 0.0 (none) to 1.0 ("full jitter"):
    /// the delay is `backoff × (1 − jitter × u)` for a jitter input `u` in [0, 1).
    pub jitter: f64,
    /// A provider's `Retry-After` longer than this is not waited out in
    /// [`deliver_with_retries`]: the retry-later outcome goes back to the caller to schedule.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 2 s, 4 s, 8 s … capped at 5 min, 8 attempts, half of each delay jittered; a
    /// `Retry-After` above 10 min is handed back to the caller.
    fn default() -> Self {
        RetryPolicy {
            initial_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(300),
            max_attempts: 8,
            jitter: 0.5,
            max_retry_after: Duration::from_secs(600),
        }
    }
}

impl RetryPolicy {
    /// The delay before the next attempt after `failed_attempts` attempts have failed
    /// (1 after the first), for a jitter input `jitter_unit` in [0, 1) (clamped; NaN is 0).
    /// Deterministic: the same inputs give the same delay.
    pub fn backoff(&self, failed_attempts: u32, jitter_unit: f64) -> Duration {
        let exponent = failed_attempts.saturating_sub(1).min(63);
        let factor = 1u64 << exponent;
        let capped = self
            .initial_delay
            .checked_mul(u32::try_from(factor).unwrap_or(u32::MAX))
            .unwrap_or(self.max_delay)
            .min(self.max_delay);
        let unit = if jitter_unit.is_nan() {
            0.0
        } else {
            jitter_unit.clamp(0.0, 1.0)
        };
        let share = self.jitter.clamp(0.0, 1.0) * unit;
        capped.mul_f64(1.0 - share)
    }

    /// The delay before the next attempt, or `None` when the attempts are used up.
    /// A provider's `Retry-After` is a floor: we never come back sooner than asked.
    pub fn delay_after(
        &self,
        failed_attempts: u32,
        retry_after: Option<Duration>,
        jitter_unit: f64,
    ) -> Option<Duration> {
        if failed_attempts >= self.max_attempts.max(1) {
            return None;
        }
        let backoff = self.backoff(failed_attempts, jitter_unit);
        Some(retry_after.map_or(backoff, |asked| asked.max(backoff)))
    }

    /// When the next attempt is due, for a dispatcher that schedules retries in its outbox
    /// rather than sleeping; `None` when the attempts are used up (dead letter).
    pub fn next_attempt_at(
        &self,
        now: DateTime<Utc>,
        failed_attempts: u32,
        retry_after: Option<Duration>,
        jitter_unit: f64,
    ) -> Option<DateTime<Utc>> {
        let delay = self.delay_after(failed_attempts, retry_after, jitter_unit)?;
        let delay = chrono::Duration::from_std(delay).ok()?;
        now.checked_add_signed(delay)
    }
}

/// Clock, randomness and sleep for [`deliver_with_retries`].
pub trait RetryEnv {
    /// The current time, passed to each attempt (token expiry, `Retry-After` dates).
    fn now(&mut self) -> DateTime<Utc>;
    /// A jitter input in [0, 1).
    fn jitter(&mut self) -> f64;
    /// Waits for `delay`.
    fn sleep(&mut self, delay: Duration) -> impl Future<Output = ()> + Send;
}

/// The real world: the system clock, OS randomness and `tokio::time::sleep`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemRetryEnv;

impl RetryEnv for SystemRetryEnv {
    fn now(&mut self) -> DateTime<Utc> {
        Utc::now()
    }

    fn jitter(&mut self) -> f64 {
        // 53 random bits make a uniform f64 in [0, 1); no randomness means no jitter.
        getrandom::u64().map_or(0.0, |bits| (bits >> 11) as f64 / (1u64 << 53) as f64)
    }

    fn sleep(&mut self, delay: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(delay)
    }
}

/// What [`deliver_with_retries`] ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryReport {
    /// The outcome of the last attempt.
    pub outcome: Delivery,
    /// How many attempts were made.
    pub attempts: u32,
    /// The delays waited between attempts, in order.
    pub waited: Vec<Duration>,
}

impl RetryReport {
    /// True when the last outcome was retry-later but the loop stopped (attempts used up, or
    /// a `Retry-After` longer than [`RetryPolicy::max_retry_after`]).
    pub fn gave_up_retrying(&self) -> bool {
        self.outcome.is_retryable()
    }
}

/// Calls `attempt(now)` until it returns anything but [`Delivery::RetryLater`], sleeping
/// between attempts as `policy` says, at most `policy.max_attempts` times.
///
/// ```no_run
/// # async fn demo(providers: &proofline_push::Providers, n: &proofline_push::Notification, t: &proofline_push::Target) {
/// use proofline_push::{deliver_with_retries, RetryPolicy, SystemRetryEnv};
/// let report = deliver_with_retries(&RetryPolicy::default(), &mut SystemRetryEnv, |now| {
///     providers.send(n, t, now)
/// })
/// .await;
/// # let _ = report;
/// # }
/// ```
pub async fn deliver_with_retries<E, F, Fut>(
    policy: &RetryPolicy,
    env: &mut E,
    mut attempt: F,
) -> RetryReport
where
    E: RetryEnv,
    F: FnMut(DateTime<Utc>) -> Fut,
    Fut: Future<Output = Delivery>,
{
    let mut attempts = 0;
    let mut waited = Vec::new();
    loop {
        let outcome = attempt(env.now()).await;
        attempts += 1;
        let Delivery::RetryLater { retry_after, .. } = &outcome else {
            return RetryReport {
                outcome,
                attempts,
                waited,
            };
        };
        let too_long = retry_after.is_some_and(|asked| asked > policy.max_retry_after);
        let jitter = env.jitter();
        let delay = match policy.delay_after(attempts, *retry_after, jitter) {
            Some(delay) if !too_long => delay,
            _ => {
                return RetryReport {
                    outcome,
                    attempts,
                    waited,
                };
            }
        };
        tracing::debug!(attempts, ?delay, %outcome, "push delivery will be retried");
        env.sleep(delay).await;
        waited.push(delay);
    }
}
