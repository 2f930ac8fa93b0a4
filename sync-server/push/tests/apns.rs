//! APNs provider against a loopback HTTP/2 (h2c) stub of Apple's service.

mod common;

use std::time::Duration;

use axum::http::{Method, Version};
use common::{InstantEnv, Reply, Stub, decode_jwt, fixture, minutes, notification, t0};
use p256::ecdsa::signature::Verifier as _;
use p256::pkcs8::DecodePublicKey as _;
use proofline_push::apns::{ProviderTokenCache, RefreshReason, alert_payload};
use proofline_push::{
    ApnsConfig, ApnsProvider, ConfigError, Delivery, Es256Key, MAX_PAYLOAD_BYTES, RetryPolicy,
    Timeouts, deliver_with_retries,
};
use serde_json::json;

const DEVICE: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
const TEAM: &str = "TEAM123456";
const KEY_ID: &str = "TESTKEY01";
const TOPIC: &str = "com.example.proofline";

fn key() -> Es256Key {
    Es256Key::from_pkcs8_pem(&fixture("AuthKey_TESTKEY01.p8")).expect("the test .p8 key loads")
}

fn provider(stub: &Stub) -> ApnsProvider {
    ApnsProvider::new(ApnsConfig {
        endpoint: stub.url(),
        team_id: TEAM.into(),
        key_id: KEY_ID.into(),
        topic: TOPIC.into(),
        key: key(),
        timeouts: Timeouts::default(),
    })
    .expect("a valid APNs config")
}

fn bearer(request: &common::Recorded) -> String {
    request
        .header("authorization")
        .and_then(|value| value.strip_prefix("bearer ").map(str::to_owned))
        .expect("authorization: bearer <jwt>")
}

fn assert_es256_signature(jwt: &str) {
    let decoded = decode_jwt(jwt);
    let public = p256::ecdsa::VerifyingKey::from_public_key_pem(&fixture("apns_test_key.pub.pem"))
        .expect("the test public key");
    let signature =
        p256::ecdsa::Signature::from_slice(&decoded.signature).expect("a 64-byte r||s signature");
    public
        .verify(decoded.signing_input.as_bytes(), &signature)
        .expect("the provider token verifies against the .p8's public key");
}

fn ok_reply() -> Reply {
    Reply::empty(200).with_header("apns-id", "0191f7a2-5b6c-7d8e-9f00-112233445566")
}

#[tokio::test]
async fn an_alert_goes_out_over_http2_with_apples_headers_and_a_valid_es256_provider_token() {
    let stub = Stub::start().await;
    stub.route("/3/device/", vec![], ok_reply());
    let n = notification();

    let outcome = provider(&stub).send(&n, DEVICE, t0()).await;

    assert_eq!(
        outcome,
        Delivery::Delivered {
            provider_id: Some(n.escalation_id.to_string())
        }
    );
    let requests = stub.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.version, Version::HTTP_2, "APNs speaks HTTP/2 only");
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.path, format!("/3/device/{DEVICE}"));
    let mut apns_headers: Vec<(String, String)> = request
        .headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("apns-"))
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect();
    apns_headers.sort();
    let expiration = (t0() + chrono::Duration::hours(2)).timestamp().to_string();
    assert_eq!(
        apns_headers,
        vec![
            ("apns-collapse-id".into(), n.occurrence_id.to_string()),
            ("apns-expiration".into(), expiration),
            ("apns-id".into(), n.escalation_id.to_string()),
            ("apns-priority".into(), "10".into()),
            ("apns-push-type".into(), "alert".into()),
            ("apns-topic".into(), TOPIC.into()),
        ]
    );
    assert!(n.collapse_key.len() <= 64);
    assert_eq!(
        request.header("content-type").as_deref(),
        Some("application/json")
    );

    let jwt = bearer(request);
    let decoded = decode_jwt(&jwt);
    assert_eq!(decoded.header, json!({"alg": "ES256", "kid": KEY_ID}));
    assert_eq!(
        decoded.claims,
        json!({"iss": TEAM, "iat": t0().timestamp()})
    );
    assert_es256_signature(&jwt);

    assert_eq!(
        request.json(),
        json!({
            "aps": {
                "alert": {"title": n.title, "body": n.body},
                "sound": "default",
                "thread-id": n.site_id.to_string(),
            },
            "collapse_key": n.collapse_key,
            "escalation_id": n.escalation_id.to_string(),
            "occurrence_id": n.occurrence_id.to_string(),
            "site_id": n.site_id.to_string(),
            "routine_id": n.routine_id.to_string(),
            "level": "1",
        })
    );
    stub.stop().await;
}

#[tokio::test]
async fn a_very_long_message_is_shortened_to_fit_4096_bytes_and_keeps_every_id() {
    let stub = Stub::start().await;
    stub.route("/3/device/", vec![], ok_reply());
    let mut n = notification();
    n.body = format!("{} ", common::SENTENCE).repeat(200);
    assert!(n.body.len() > 20_000);

    let outcome = provider(&stub).send(&n, DEVICE, t0()).await;

    assert!(matches!(outcome, Delivery::Delivered { .. }), "{outcome}");
    let request = &stub.requests()[0];
    assert!(
        request.body.len() <= MAX_PAYLOAD_BYTES,
        "{} bytes",
        request.body.len()
    );
    assert!(
        request.body.len() > MAX_PAYLOAD_BYTES - 200,
        "not cut more than needed"
    );
    let payload = request.json();
    let body = payload["aps"]["alert"]["body"].as_str().unwrap();
    assert!(body.ends_with('…'), "{body}");
    assert!(body.starts_with("Fridge temperatures (Kitchen) is 20 min overdue"));
    assert_eq!(payload["occurrence_id"], n.occurrence_id.to_string());
    assert_eq!(payload["escalation_id"], n.escalation_id.to_string());
    assert_eq!(payload["aps"]["alert"]["title"], n.title);
    stub.stop().await;
}

#[test]
fn a_huge_title_and_body_are_both_shortened_so_the_payload_still_fits() {
    let mut n = notification();
    n.title = "t".repeat(10_000);
    n.body = "b".repeat(10_000);
    // The title is shortened too, so even this fits.
    let payload = alert_payload(&n).expect("title and body are shortened");
    assert!(payload.len() <= MAX_PAYLOAD_BYTES);
}

#[tokio::test]
async fn concurrent_sends_from_spawned_tasks_share_one_provider_token() {
    let stub = Stub::start().await;
    stub.route("/3/device/", vec![], ok_reply());
    let apns = std::sync::Arc::new(provider(&stub));
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let apns = std::sync::Arc::clone(&apns);
            tokio::spawn(async move {
                let device = format!("{DEVICE:.60}{i:04x}");
                apns.send(&notification(), &device, t0() + minutes(i)).await
            })
        })
        .collect();
    for task in tasks {
        let outcome = task.await.expect("the send task finished");
        assert!(matches!(outcome, Delivery::Delivered { .. }), "{outcome}");
    }
    let requests = stub.requests();
    assert_eq!(requests.len(), 20);
    let tokens: std::collections::BTreeSet<String> = requests.iter().map(bearer).collect();
    assert_eq!(tokens.len(), 1, "one provider token for all of them");
    stub.stop().await;
}

#[tokio::test]
async fn gone_device_tokens_are_reported_for_removal_on_410_unregistered() {
    let stub = Stub::start().await;
    stub.route(
        "/3/device/",
        vec![],
        Reply::json(
            410,
            json!({"reason": "Unregistered", "timestamp": 1764500000000u64}),
        ),
    );

    let outcome = provider(&stub).send(&notification(), DEVICE, t0()).await;

    let Delivery::TokenGone { reason } = outcome else {
        panic!("expected token gone, got {outcome}");
    };
    assert!(reason.contains("410 Unregistered"), "{reason}");
    stub.stop().await;
}

#[tokio::test]
async fn permanent_rejections_are_failures_with_a_readable_reason() {
    let stub = Stub::start().await;
    stub.route(
        "/3/device/",
        vec![
            Reply::json(400, json!({"reason": "BadDeviceToken"})),
            Reply::json(413, json!({"reason": "PayloadTooLarge"})),
            Reply::json(403, json!({"reason": "InvalidProviderToken"})),
            Reply::json(400, json!({"reason": "DeviceTokenNotForTopic"})),
        ],
        ok_reply(),
    );
    let apns = provider(&stub);
    let mut reasons = Vec::new();
    for _ in 0..4 {
        match apns.send(&notification(), DEVICE, t0()).await {
            Delivery::Failed { reason } => reasons.push(reason),
            other => panic!("expected a permanent failure, got {other}"),
        }
    }
    assert!(reasons[0].contains("BadDeviceToken") && reasons[0].contains("sandbox"));
    assert!(reasons[1].contains("too large"), "{}", reasons[1]);
    assert!(reasons[2].contains("key id"), "{}", reasons[2]);
    assert!(reasons[3].contains(TOPIC), "{}", reasons[3]);
    assert_eq!(
        stub.requests().len(),
        4,
        "no retries for permanent failures"
    );
    stub.stop().await;
}

#[tokio::test]
async fn rate_limits_and_outages_say_retry_later_and_pass_on_retry_after() {
    let stub = Stub::start().await;
    stub.route(
        "/3/device/",
        vec![
            Reply::json(429, json!({"reason": "TooManyRequests"})).with_header("retry-after", "7"),
            Reply::json(500, json!({"reason": "InternalServerError"})),
            Reply::json(503, json!({"reason": "ServiceUnavailable"})),
        ],
        ok_reply(),
    );
    let apns = provider(&stub);
    let n = notification();

    let first = apns.send(&n, DEVICE, t0()).await;
    let second = apns.send(&n, DEVICE, t0()).await;
    let third = apns.send(&n, DEVICE, t0()).await;

    assert!(
        matches!(first, Delivery::RetryLater { retry_after: Some(wait), .. } if wait == Duration::from_secs(7)),
        "{first}"
    );
    assert!(
        matches!(second, Delivery::RetryLater { retry_after: None, ref reason } if reason.contains("500")),
        "{second}"
    );
    assert!(
        matches!(third, Delivery::RetryLater { retry_after: None, ref reason } if reason.contains("503")),
        "{third}"
    );
    stub.stop().await;
}

#[tokio::test]
async fn deliver_with_retries_gets_through_after_429_500_503_honouring_retry_after() {
    let stub = Stub::start().await;
    stub.route(
        "/3/device/",
        vec![
            Reply::json(429, json!({"reason": "TooManyRequests"})).with_header("retry-after", "30"),
            Reply::json(500, json!({"reason": "InternalServerError"})),
            Reply::json(503, json!({"reason": "ServiceUnavailable"})),
        ],
        ok_reply(),
    );
    let apns = provider(&stub);
    let n = notification();
    let mut env = InstantEnv::at(t0());

    let report = deliver_with_retries(&RetryPolicy::default(), &mut env, |now| {
        apns.send(&n, DEVICE, now)
    })
    .await;

    assert!(
        matches!(report.outcome, Delivery::Delivered { .. }),
        "{}",
        report.outcome
    );
    assert_eq!(report.attempts, 4);
    assert_eq!(stub.requests().len(), 4);
    assert_eq!(env.slept, report.waited);
    assert_eq!(
        report.waited[0],
        Duration::from_secs(30),
        "Retry-After is a floor"
    );
    // Default policy, jitter input 0.5, half the delay jittered: 4 s × 0.75, 8 s × 0.75.
    assert_eq!(
        report.waited[1..],
        [Duration::from_secs(3), Duration::from_secs(6)]
    );
    let ids: Vec<_> = stub
        .requests()
        .iter()
        .map(|r| r.header("apns-id"))
        .collect();
    assert!(
        ids.iter()
            .all(|id| id.as_deref() == Some(n.escalation_id.to_string().as_str()))
    );
    stub.stop().await;
}

#[tokio::test]
async fn deliver_with_retries_stops_after_max_attempts_and_hands_back_retry_later() {
    let stub = Stub::start().await;
    stub.route(
        "/3/device/",
        vec![],
        Reply::json(503, json!({"reason": "ServiceUnavailable"})),
    );
    let apns = provider(&stub);
    let n = notification();
    let policy = RetryPolicy {
        max_attempts: 3,
        ..RetryPolicy::default()
    };
    let mut env = InstantEnv::at(t0());

    let report = deliver_with_retries(&policy, &mut env, |now| apns.send(&n, DEVICE, now)).await;

    assert!(report.gave_up_retrying(), "{}", report.outcome);
    assert_eq!(report.attempts, 3);
    assert_eq!(stub.requests().len(), 3);
    stub.stop().await;
}

#[tokio::test]
async fn the_provider_token_is_reused_for_50_minutes_then_renewed() {
    let stub = Stub::start().await;
    stub.route("/3/device/", vec![], ok_reply());
    let apns = provider(&stub);
    let n = notification();

    for at in [
        t0(),
        t0() + minutes(30),
        t0() + minutes(49),
        t0() + minutes(51),
        t0() + minutes(80),
    ] {
        let outcome = apns.send(&n, DEVICE, at).await;
        assert!(matches!(outcome, Delivery::Delivered { .. }), "{outcome}");
    }

    let tokens: Vec<String> = stub.requests().iter().map(bearer).collect();
    assert_eq!(tokens[0], tokens[1]);
    assert_eq!(tokens[0], tokens[2], "still within 50 minutes");
    assert_ne!(tokens[2], tokens[3], "renewed after 50 minutes");
    assert_eq!(tokens[3], tokens[4], "the new token is reused in turn");
    assert_eq!(
        decode_jwt(&tokens[3]).claims["iat"],
        json!((t0() + minutes(51)).timestamp())
    );
    assert_es256_signature(&tokens[3]);
    stub.stop().await;
}

#[tokio::test]
async fn expired_provider_token_is_renewed_once_even_within_20_minutes_and_the_alert_resent() {
    let stub = Stub::start().await;
    stub.route(
        "/3/device/",
        vec![
            ok_reply(),
            Reply::json(403, json!({"reason": "ExpiredProviderToken"})),
        ],
        ok_reply(),
    );
    let apns = provider(&stub);
    let n = notification();

    let first = apns.send(&n, DEVICE, t0()).await;
    let second = apns.send(&n, DEVICE, t0() + minutes(5)).await;

    assert!(matches!(first, Delivery::Delivered { .. }), "{first}");
    assert!(matches!(second, Delivery::Delivered { .. }), "{second}");
    let tokens: Vec<String> = stub.requests().iter().map(bearer).collect();
    assert_eq!(
        tokens.len(),
        3,
        "one send, then the refused one and its resend"
    );
    assert_eq!(tokens[0], tokens[1], "the cached token was tried first");
    assert_ne!(tokens[1], tokens[2], "renewed after ExpiredProviderToken");
    assert_eq!(
        decode_jwt(&tokens[2]).claims["iat"],
        json!((t0() + minutes(5)).timestamp())
    );
    stub.stop().await;
}

#[tokio::test]
async fn expired_provider_token_twice_in_a_row_is_retry_later_not_a_loop() {
    let stub = Stub::start().await;
    stub.route(
        "/3/device/",
        vec![],
        Reply::json(403, json!({"reason": "ExpiredProviderToken"})),
    );

    let outcome = provider(&stub).send(&notification(), DEVICE, t0()).await;

    assert!(
        matches!(outcome, Delivery::RetryLater { ref reason, .. } if reason.contains("clock")),
        "{outcome}"
    );
    assert_eq!(stub.requests().len(), 2, "one renewal, one resend, no more");
    stub.stop().await;
}

#[test]
fn a_requested_refresh_within_20_minutes_keeps_the_token_and_after_20_renews_it() {
    let mut cache = ProviderTokenCache::new(key(), TEAM, KEY_ID);
    let first = cache.token(t0()).expect("sign");

    let early = cache
        .refresh(t0() + minutes(19), RefreshReason::Requested)
        .expect("sign");
    assert_eq!(
        early, first,
        "Apple refuses updates more often than every 20 minutes"
    );

    let forced = cache
        .refresh(t0() + minutes(19), RefreshReason::ExpiredProviderToken)
        .expect("sign");
    assert_ne!(forced.jwt, first.jwt);
    assert_eq!(forced.issued_at, t0() + minutes(19));

    let requested_soon_after = cache
        .refresh(t0() + minutes(38), RefreshReason::Requested)
        .expect("sign");
    assert_eq!(
        requested_soon_after, forced,
        "the forced token is 19 minutes old: kept"
    );
    let requested_later = cache
        .refresh(t0() + minutes(39), RefreshReason::Requested)
        .expect("sign");
    assert_ne!(
        requested_later.jwt, forced.jwt,
        "20 minutes old: a refresh is allowed"
    );
    assert_eq!(requested_later.issued_at, t0() + minutes(39));
}

#[test]
fn a_burst_of_expired_refusals_renews_the_token_once() {
    let mut cache = ProviderTokenCache::new(key(), TEAM, KEY_ID);
    let rejected = cache.token(t0()).expect("sign");

    let first = cache
        .renew_rejected(&rejected, t0() + minutes(1))
        .expect("sign");
    let second = cache
        .renew_rejected(&rejected, t0() + minutes(2))
        .expect("sign");

    assert_ne!(first, rejected);
    assert_eq!(
        second, first,
        "the second refusal was of the old token: no new update"
    );
    assert_eq!(cache.current(), Some(&first));
}

#[test]
fn a_clock_that_steps_back_reuses_the_cached_token() {
    let mut cache = ProviderTokenCache::new(key(), TEAM, KEY_ID);
    let first = cache.token(t0()).expect("sign");
    assert_eq!(cache.token(t0() - minutes(10)).expect("sign"), first);
}

#[test]
fn malformed_p8_keys_are_typed_errors_that_say_what_is_wrong() {
    let cases = [
        ("", "no `-----BEGIN PRIVATE KEY-----`"),
        ("not a key at all", "no `-----BEGIN PRIVATE KEY-----`"),
        (
            "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n",
            "not a PKCS#8 P-256",
        ),
        (
            "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
            "openssl pkcs8 -topk8",
        ),
        (
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----",
            "encrypted",
        ),
    ];
    for (pem, expected) in cases {
        match Es256Key::from_pkcs8_pem(pem) {
            Err(err @ ConfigError::ApnsKey(_)) => {
                let message = err.to_string();
                assert!(message.starts_with("the APNs signing key is not usable"));
                assert!(message.contains(expected), "{message:?} lacks {expected:?}");
            }
            other => panic!("expected an APNs key error for {pem:?}, got {other:?}"),
        }
    }
    // An RSA key is PKCS#8 too, but not P-256.
    let rsa = Es256Key::from_pkcs8_pem(&fixture("fcm_test_key.pem"));
    assert!(
        matches!(rsa, Err(ConfigError::ApnsKey(ref m)) if m.contains("P-256")),
        "{rsa:?}"
    );
    // CRLF line ends, as a .p8 saved on Windows has, are fine.
    let crlf = fixture("AuthKey_TESTKEY01.p8").replace('\n', "\r\n");
    assert!(Es256Key::from_pkcs8_pem(&crlf).is_ok());
}

#[test]
fn bad_settings_are_refused_when_the_provider_is_built() {
    let config = |endpoint: &str, team: &str| ApnsConfig {
        endpoint: endpoint.into(),
        team_id: team.into(),
        key_id: KEY_ID.into(),
        topic: TOPIC.into(),
        key: key(),
        timeouts: Timeouts::default(),
    };
    let empty_team = ApnsProvider::new(config("https://api.push.apple.com", " ")).unwrap_err();
    assert_eq!(empty_team.to_string(), "the APNs team id is empty");
    let bad_endpoint = ApnsProvider::new(config("ftp://example", TEAM)).unwrap_err();
    assert!(
        bad_endpoint
            .to_string()
            .contains("`ftp://example` is not an http")
    );
}

#[tokio::test]
async fn malformed_device_tokens_and_expired_alerts_fail_without_calling_apple() {
    let stub = Stub::start().await;
    let apns = provider(&stub);
    let mut n = notification();

    let bad_token = apns.send(&n, "abc/../../x", t0()).await;
    n.expires_at = Some(t0() - minutes(1));
    let expired = apns.send(&n, DEVICE, t0()).await;

    assert!(
        matches!(bad_token, Delivery::Failed { ref reason } if reason.contains("not an APNs device token"))
    );
    assert!(matches!(expired, Delivery::Failed { ref reason } if reason.contains("expired")));
    assert!(stub.requests().is_empty());
    stub.stop().await;
}

#[tokio::test]
async fn an_unreachable_apns_is_retry_later() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let apns = ApnsProvider::new(ApnsConfig {
        endpoint: url,
        team_id: TEAM.into(),
        key_id: KEY_ID.into(),
        topic: TOPIC.into(),
        key: key(),
        timeouts: Timeouts::default(),
    })
    .unwrap();

    let outcome = apns.send(&notification(), DEVICE, t0()).await;

    assert!(
        matches!(outcome, Delivery::RetryLater { ref reason, .. } if reason.contains("could not connect")),
        "{outcome}"
    );
}
