//! The retry policy (pure) and the retry loop with a scripted environment.

mod common;

use std::time::Duration;

use common::{InstantEnv, t0};
use proofline_push::{Delivery, RetryPolicy, deliver_with_retries};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn no_jitter() -> RetryPolicy {
    RetryPolicy {
        initial_delay: secs(2),
        max_delay: secs(60),
        max_attempts: 10,
        jitter: 0.0,
        max_retry_after: secs(600),
    }
}

#[test]
fn backoff_doubles_from_the_initial_delay_and_is_capped() {
    let policy = no_jitter();
    let delays: Vec<Duration> = (1..=8)
        .map(|attempt| policy.backoff(attempt, 0.9))
        .collect();
    assert_eq!(
        delays,
        [
            secs(2),
            secs(4),
            secs(8),
            secs(16),
            secs(32),
            secs(60),
            secs(60),
            secs(60)
        ]
    );
    assert_eq!(
        policy.backoff(u32::MAX, 0.0),
        secs(60),
        "no overflow on huge attempt numbers"
    );
}

#[test]
fn jitter_shortens_the_delay_by_at_most_its_share_and_is_deterministic() {
    let policy = RetryPolicy {
        jitter: 0.5,
        ..no_jitter()
    };
    assert_eq!(policy.backoff(3, 0.0), secs(8));
    assert_eq!(policy.backoff(3, 0.5), secs(6));
    assert_eq!(
        policy.backoff(3, 0.999_999),
        Duration::from_secs_f64(8.0 * (1.0 - 0.5 * 0.999_999))
    );
    assert_eq!(
        policy.backoff(3, 0.25),
        policy.backoff(3, 0.25),
        "same inputs, same delay"
    );
    // Out-of-range inputs are clamped, NaN counts as no jitter.
    assert_eq!(policy.backoff(3, 7.0), secs(4));
    assert_eq!(policy.backoff(3, -1.0), secs(8));
    assert_eq!(policy.backoff(3, f64::NAN), secs(8));
    for unit in [0.0, 0.1, 0.5, 0.9, 0.99] {
        let delay = policy.backoff(6, unit);
        assert!(delay <= secs(60) && delay >= secs(30), "{delay:?}");
    }
}

#[test]
fn attempts_are_capped_and_retry_after_is_a_floor() {
    let policy = RetryPolicy {
        max_attempts: 3,
        ..no_jitter()
    };
    assert_eq!(policy.delay_after(1, None, 0.0), Some(secs(2)));
    assert_eq!(policy.delay_after(2, Some(secs(30)), 0.0), Some(secs(30)));
    assert_eq!(
        policy.delay_after(2, Some(secs(1)), 0.0),
        Some(secs(4)),
        "never sooner than backoff"
    );
    assert_eq!(
        policy.delay_after(3, None, 0.0),
        None,
        "three attempts made: dead letter"
    );
    assert_eq!(
        policy.next_attempt_at(t0(), 1, Some(secs(90)), 0.0),
        Some(t0() + chrono::Duration::seconds(90))
    );
    assert_eq!(policy.next_attempt_at(t0(), 3, None, 0.0), None);
}

#[tokio::test]
async fn the_loop_stops_at_the_first_final_outcome_and_passes_the_advancing_clock() {
    let mut script = vec![
        Delivery::retry(None, "503"),
        Delivery::retry(Some(secs(20)), "429"),
        Delivery::gone("410"),
        Delivery::Delivered { provider_id: None },
    ]
    .into_iter();
    let mut seen = Vec::new();
    let mut env = InstantEnv::at(t0());

    let report = deliver_with_retries(&no_jitter(), &mut env, |now| {
        seen.push(now);
        std::future::ready(
            script
                .next()
                .unwrap_or_else(|| Delivery::failed("script ran out")),
        )
    })
    .await;

    assert_eq!(report.outcome, Delivery::gone("410"));
    assert_eq!(report.attempts, 3);
    assert_eq!(report.waited, [secs(2), secs(20)]);
    assert_eq!(
        seen,
        [
            t0(),
            t0() + chrono::Duration::seconds(2),
            t0() + chrono::Duration::seconds(22)
        ]
    );
    assert!(!report.gave_up_retrying());
}

#[tokio::test]
async fn a_retry_after_longer_than_the_policy_allows_is_handed_back_to_the_caller() {
    let mut env = InstantEnv::at(t0());
    let mut calls = 0;

    let report = deliver_with_retries(&no_jitter(), &mut env, |_| {
        calls += 1;
        std::future::ready(Delivery::retry(Some(secs(3600)), "429 for an hour"))
    })
    .await;

    assert_eq!(calls, 1);
    assert!(report.gave_up_retrying());
    assert!(env.slept.is_empty(), "the loop does not sit out an hour");
    assert_eq!(
        report.outcome,
        Delivery::retry(Some(secs(3600)), "429 for an hour")
    );
}

#[tokio::test]
async fn permanent_failures_are_not_retried() {
    let mut env = InstantEnv::at(t0());
    let report = deliver_with_retries(&no_jitter(), &mut env, |_| {
        std::future::ready(Delivery::failed("400 BadDeviceToken"))
    })
    .await;
    assert_eq!(report.attempts, 1);
    assert!(env.slept.is_empty());
    assert_eq!(report.outcome.to_string(), "failed: 400 BadDeviceToken");
}
