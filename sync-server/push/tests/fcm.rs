//! FCM HTTP v1 provider against a loopback stub of both Google's OAuth2 token endpoint and
//! `messages:send`.

mod common;

use std::time::Duration;

use axum::http::Method;
use common::{InstantEnv, Reply, Stub, decode_jwt, fixture, minutes, notification, t0};
use proofline_push::fcm::{GRANT_TYPE, SCOPE, message};
use proofline_push::{
    ConfigError, Delivery, FcmConfig, FcmProvider, MAX_PAYLOAD_BYTES, RetryPolicy, ServiceAccount,
    Timeouts, deliver_with_retries,
};
use rsa::pkcs8::DecodePublicKey as _;
use rsa::signature::Verifier as _;
use serde_json::{Value, json};

const PROJECT: &str = "proofline-test";
const EMAIL: &str = "push@proofline-test.iam.gserviceaccount.com";
const DEVICE: &str = "fcm-registration-token:APA91bHk_test-token";
const SEND_PATH: &str = "/v1/projects/proofline-test/messages:send";

fn service_account_json(token_uri: &str) -> String {
    json!({
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "test-key-id",
        "private_key": fixture("fcm_test_key.pem"),
        "client_email": EMAIL,
        "client_id": "1234567890",
        "token_uri": token_uri,
    })
    .to_string()
}

fn provider(stub: &Stub) -> FcmProvider {
    let account =
        ServiceAccount::from_json(&service_account_json(&format!("{}/token", stub.url())))
            .expect("the test service account loads");
    FcmProvider::new(FcmConfig {
        endpoint: stub.url(),
        service_account: account,
        timeouts: Timeouts::default(),
    })
    .expect("a valid FCM config")
}

fn token_reply(token: &str) -> Reply {
    Reply::json(
        200,
        json!({"access_token": token, "expires_in": 3600, "token_type": "Bearer"}),
    )
}

fn sent_reply() -> Reply {
    Reply::json(
        200,
        json!({"name": "projects/proofline-test/messages/0:1764500000%1"}),
    )
}

fn fcm_error(code: u16, status: &str, error_code: &str) -> Reply {
    Reply::json(
        code,
        json!({"error": {
            "code": code,
            "message": format!("test says {error_code}"),
            "status": status,
            "details": [{
                "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                "errorCode": error_code,
            }],
        }}),
    )
}

/// Decodes `application/x-www-form-urlencoded` (enough for the assertion request).
fn form(body: &[u8]) -> Vec<(String, String)> {
    let decode = |text: &str| {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            match bytes[at] {
                b'%' => {
                    let hex = std::str::from_utf8(&bytes[at + 1..at + 3]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    at += 3;
                }
                b'+' => {
                    out.push(b' ');
                    at += 1;
                }
                other => {
                    out.push(other);
                    at += 1;
                }
            }
        }
        String::from_utf8(out).unwrap()
    };
    std::str::from_utf8(body)
        .unwrap()
        .split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap();
            (decode(name), decode(value))
        })
        .collect()
}

fn bearer(request: &common::Recorded) -> String {
    request
        .header("authorization")
        .and_then(|value| value.strip_prefix("Bearer ").map(str::to_owned))
        .expect("authorization: Bearer <access token>")
}

#[tokio::test]
async fn a_valid_rs256_assertion_is_traded_for_an_access_token_and_the_message_has_collapse_keys() {
    let stub = Stub::start().await;
    stub.route("/token", vec![], token_reply("ya29.test-1"));
    stub.route(SEND_PATH, vec![], sent_reply());
    let n = notification();

    let outcome = provider(&stub).send(&n, DEVICE, t0()).await;

    assert_eq!(
        outcome,
        Delivery::Delivered {
            provider_id: Some("projects/proofline-test/messages/0:1764500000%1".into())
        }
    );
    let token_requests = stub.requests_to("/token");
    assert_eq!(token_requests.len(), 1);
    let token_request = &token_requests[0];
    assert_eq!(token_request.method, Method::POST);
    assert_eq!(
        token_request.header("content-type").as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    let fields = form(&token_request.body);
    assert_eq!(fields.len(), 2);
    assert_eq!(fields[0], ("grant_type".into(), GRANT_TYPE.into()));
    assert_eq!(fields[1].0, "assertion");
    let assertion = decode_jwt(&fields[1].1);
    assert_eq!(
        assertion.header,
        json!({"alg": "RS256", "typ": "JWT", "kid": "test-key-id"})
    );
    let iat = t0().timestamp();
    assert_eq!(
        assertion.claims,
        json!({
            "iss": EMAIL,
            "scope": SCOPE,
            "aud": format!("{}/token", stub.url()),
            "iat": iat,
            "exp": iat + 3600,
        })
    );
    let public = rsa::PublicKey::from_public_key_pem(&fixture("fcm_test_key.pub.pem"))
        .expect("the test public key");
    let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(public);
    let signature = rsa::pkcs1v15::Signature::try_from(assertion.signature.as_slice())
        .expect("an RSA signature");
    verifier
        .verify(assertion.signing_input.as_bytes(), &signature)
        .expect("the assertion verifies against the service account's public key");

    let sends = stub.requests_to(SEND_PATH);
    assert_eq!(sends.len(), 1);
    let send = &sends[0];
    assert_eq!(send.method, Method::POST);
    assert_eq!(send.path, SEND_PATH);
    assert_eq!(bearer(send), "ya29.test-1");
    assert_eq!(
        send.header("content-type").as_deref(),
        Some("application/json; charset=utf-8")
    );
    let occurrence = n.occurrence_id.to_string();
    let expires = t0() + chrono::Duration::hours(2);
    assert_eq!(
        send.json(),
        json!({"message": {
            "token": DEVICE,
            "notification": {"title": n.title, "body": n.body},
            "data": {
                "collapse_key": occurrence,
                "escalation_id": n.escalation_id.to_string(),
                "occurrence_id": occurrence,
                "site_id": n.site_id.to_string(),
                "routine_id": n.routine_id.to_string(),
                "level": "1",
            },
            "android": {
                "collapse_key": occurrence,
                "priority": "high",
                "ttl": "7200s",
                "notification": {"tag": occurrence},
            },
            "apns": {
                "headers": {
                    "apns-collapse-id": occurrence,
                    "apns-priority": "10",
                    "apns-expiration": expires.timestamp().to_string(),
                },
                "payload": {"aps": {"sound": "default", "thread-id": n.site_id.to_string()}},
            },
        }})
    );
    stub.stop().await;
}

#[tokio::test]
async fn the_access_token_is_cached_until_shortly_before_it_expires() {
    let stub = Stub::start().await;
    stub.route(
        "/token",
        vec![token_reply("ya29.first"), token_reply("ya29.second")],
        token_reply("ya29.later"),
    );
    stub.route(SEND_PATH, vec![], sent_reply());
    let fcm = provider(&stub);
    let n = notification();

    for at in [
        t0(),
        t0() + minutes(30),
        t0() + minutes(54),
        t0() + minutes(56),
    ] {
        let outcome = fcm.send(&n, DEVICE, at).await;
        assert!(matches!(outcome, Delivery::Delivered { .. }), "{outcome}");
    }

    assert_eq!(
        stub.requests_to("/token").len(),
        2,
        "renewed 5 minutes before expiry only"
    );
    let used: Vec<String> = stub.requests_to(SEND_PATH).iter().map(bearer).collect();
    assert_eq!(
        used,
        ["ya29.first", "ya29.first", "ya29.first", "ya29.second"]
    );
    let second = form(&stub.requests_to("/token")[1].body);
    assert_eq!(
        decode_jwt(&second[1].1).claims["iat"],
        json!((t0() + minutes(56)).timestamp())
    );
    stub.stop().await;
}

#[tokio::test]
async fn an_unregistered_token_is_reported_for_removal() {
    let stub = Stub::start().await;
    stub.route("/token", vec![], token_reply("ya29.test"));
    stub.route(
        SEND_PATH,
        vec![],
        fcm_error(404, "NOT_FOUND", "UNREGISTERED"),
    );

    let outcome = provider(&stub).send(&notification(), DEVICE, t0()).await;

    assert!(
        matches!(outcome, Delivery::TokenGone { ref reason } if reason.contains("UNREGISTERED")),
        "{outcome}"
    );
    stub.stop().await;
}

#[tokio::test]
async fn quota_exceeded_backs_off_for_the_retry_after_google_gives() {
    let stub = Stub::start().await;
    stub.route("/token", vec![], token_reply("ya29.test"));
    stub.route(
        SEND_PATH,
        vec![],
        fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED").with_header("retry-after", "45"),
    );

    let outcome = provider(&stub).send(&notification(), DEVICE, t0()).await;

    assert!(
        matches!(outcome, Delivery::RetryLater { retry_after: Some(wait), ref reason }
            if wait == Duration::from_secs(45) && reason.contains("QUOTA_EXCEEDED")),
        "{outcome}"
    );
    stub.stop().await;
}

#[tokio::test]
async fn deliver_with_retries_gets_through_after_500_503_and_429() {
    let stub = Stub::start().await;
    stub.route("/token", vec![], token_reply("ya29.test"));
    stub.route(
        SEND_PATH,
        vec![
            fcm_error(500, "INTERNAL", "INTERNAL"),
            fcm_error(503, "UNAVAILABLE", "UNAVAILABLE").with_header("retry-after", "12"),
            fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"),
        ],
        sent_reply(),
    );
    let fcm = provider(&stub);
    let n = notification();
    let mut env = InstantEnv::at(t0());

    let report = deliver_with_retries(&RetryPolicy::default(), &mut env, |now| {
        fcm.send(&n, DEVICE, now)
    })
    .await;

    assert!(
        matches!(report.outcome, Delivery::Delivered { .. }),
        "{}",
        report.outcome
    );
    assert_eq!(report.attempts, 4);
    assert_eq!(stub.requests_to(SEND_PATH).len(), 4);
    assert_eq!(
        stub.requests_to("/token").len(),
        1,
        "the access token is reused across retries"
    );
    assert_eq!(
        report.waited[1],
        Duration::from_secs(12),
        "Retry-After is honoured"
    );
    stub.stop().await;
}

#[tokio::test]
async fn a_401_renews_the_access_token_once_and_resends() {
    let stub = Stub::start().await;
    stub.route(
        "/token",
        vec![token_reply("ya29.revoked"), token_reply("ya29.fresh")],
        token_reply("ya29.unexpected"),
    );
    stub.route(
        SEND_PATH,
        vec![fcm_error(401, "UNAUTHENTICATED", "UNAUTHENTICATED")],
        sent_reply(),
    );

    let outcome = provider(&stub).send(&notification(), DEVICE, t0()).await;

    assert!(matches!(outcome, Delivery::Delivered { .. }), "{outcome}");
    let used: Vec<String> = stub.requests_to(SEND_PATH).iter().map(bearer).collect();
    assert_eq!(used, ["ya29.revoked", "ya29.fresh"]);
    stub.stop().await;
}

#[tokio::test]
async fn a_second_401_is_a_permanent_failure_not_a_loop() {
    let stub = Stub::start().await;
    stub.route("/token", vec![], token_reply("ya29.useless"));
    stub.route(
        SEND_PATH,
        vec![],
        fcm_error(401, "UNAUTHENTICATED", "UNAUTHENTICATED"),
    );

    let outcome = provider(&stub).send(&notification(), DEVICE, t0()).await;

    assert!(
        matches!(outcome, Delivery::Failed { ref reason } if reason.contains(PROJECT)),
        "{outcome}"
    );
    assert_eq!(stub.requests_to(SEND_PATH).len(), 2);
    assert_eq!(stub.requests_to("/token").len(), 2);
    stub.stop().await;
}

#[tokio::test]
async fn a_refused_assertion_fails_with_googles_reason_and_sends_nothing() {
    let stub = Stub::start().await;
    stub.route(
        "/token",
        vec![],
        Reply::json(
            400,
            json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}),
        ),
    );

    let outcome = provider(&stub).send(&notification(), DEVICE, t0()).await;

    assert!(
        matches!(outcome, Delivery::Failed { ref reason }
            if reason.contains("invalid_grant: Invalid JWT Signature.")),
        "{outcome}"
    );
    assert!(stub.requests_to(SEND_PATH).is_empty());
    stub.stop().await;
}

#[tokio::test]
async fn an_unavailable_token_endpoint_is_retry_later() {
    let stub = Stub::start().await;
    stub.route(
        "/token",
        vec![],
        Reply::empty(503).with_header("retry-after", "5"),
    );

    let outcome = provider(&stub).send(&notification(), DEVICE, t0()).await;

    assert!(
        matches!(outcome, Delivery::RetryLater { retry_after: Some(wait), .. } if wait == Duration::from_secs(5)),
        "{outcome}"
    );
    stub.stop().await;
}

#[tokio::test]
async fn a_very_long_message_is_shortened_to_fit_4096_bytes() {
    let stub = Stub::start().await;
    stub.route("/token", vec![], token_reply("ya29.test"));
    stub.route(SEND_PATH, vec![], sent_reply());
    let mut n = notification();
    n.body = "Überfällig — «Kühlschrank» \"prüfen\" ".repeat(500);

    let outcome = provider(&stub).send(&n, DEVICE, t0()).await;

    assert!(matches!(outcome, Delivery::Delivered { .. }), "{outcome}");
    let send = &stub.requests_to(SEND_PATH)[0];
    assert!(
        send.body.len() <= MAX_PAYLOAD_BYTES,
        "{} bytes",
        send.body.len()
    );
    let body = send.json()["message"]["notification"]["body"]
        .as_str()
        .map(str::to_owned)
        .unwrap();
    assert!(body.ends_with('…'));
    assert_eq!(
        send.json()["message"]["android"]["collapse_key"],
        n.occurrence_id.to_string()
    );
    // The builder itself never exceeds the limit either.
    let built = message(&n, DEVICE, t0()).expect("fits");
    assert!(built.len() <= MAX_PAYLOAD_BYTES);
    stub.stop().await;
}

#[test]
fn malformed_service_accounts_are_typed_errors_that_name_the_problem() {
    let with = |change: &dyn Fn(&mut Value)| {
        let mut value: Value =
            serde_json::from_str(&service_account_json("https://oauth2.googleapis.com/token"))
                .unwrap();
        change(&mut value);
        ServiceAccount::from_json(&value.to_string())
    };
    let cases: Vec<(Result<ServiceAccount, ConfigError>, &str)> = vec![
        (ServiceAccount::from_json("{not json"), "not a JSON object"),
        (
            with(&|v| {
                v.as_object_mut().unwrap().remove("client_email");
            }),
            "`client_email` is missing",
        ),
        (
            with(&|v| {
                v.as_object_mut().unwrap().remove("private_key");
            }),
            "`private_key` is missing",
        ),
        (
            with(&|v| {
                v["project_id"] = json!("");
            }),
            "`project_id` is missing",
        ),
        (
            with(&|v| {
                v["project_id"] = json!("a/b");
            }),
            "is not a project id",
        ),
        (
            with(&|v| {
                v["type"] = json!("authorized_user");
            }),
            "expected `service_account`",
        ),
        (
            with(&|v| {
                v["private_key"] =
                    json!("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
            }),
            "not a PKCS#8 RSA private key",
        ),
        (
            with(&|v| {
                v["private_key"] = json!(fixture("AuthKey_TESTKEY01.p8"));
            }),
            "not a PKCS#8 RSA private key",
        ),
        (
            with(&|v| {
                v["private_key"] =
                    json!("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
            }),
            "PKCS#1",
        ),
        (
            with(&|v| {
                v["token_uri"] = json!("not a url");
            }),
            "token_uri endpoint `not a url`",
        ),
    ];
    for (result, expected) in cases {
        match result {
            Err(err) => {
                let message = err.to_string();
                assert!(message.contains(expected), "{message:?} lacks {expected:?}");
            }
            Ok(account) => panic!("expected an error containing {expected:?}, got {account:?}"),
        }
    }
    // A missing token_uri falls back to Google's.
    let account = with(&|v| {
        v.as_object_mut().unwrap().remove("token_uri");
    })
    .expect("loads");
    assert_eq!(account.token_uri, proofline_push::fcm::DEFAULT_TOKEN_URI);
    // The key is never printed.
    assert!(format!("{account:?}").contains("Rs256Key(<redacted>)"));
}
