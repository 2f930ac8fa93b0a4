//! Signed chat webhooks against a loopback receiver.

mod common;

use std::time::Duration;

use common::{Reply, Stub, minutes, notification, t0};
use proofline_push::webhook::{
    ALERT_HEADER, DEFAULT_TOLERANCE, ESCALATION_HEADER, SIGNATURE_HEADER, SignatureError, sign,
    verify_signature,
};
use proofline_push::{Delivery, Providers, Target, Timeouts, WebhookProvider, WebhookTarget};
use serde_json::json;

const SECRET: &[u8] = b"whsec_test_only_3f9a";

fn target(stub: &Stub) -> WebhookTarget {
    WebhookTarget {
        url: format!("{}/hooks/kitchen", stub.url()),
        secret: SECRET.to_vec(),
    }
}

fn provider() -> WebhookProvider {
    WebhookProvider::new(Timeouts::default()).expect("a client")
}

#[tokio::test]
async fn a_slack_compatible_post_is_signed_and_the_receiver_can_verify_it() {
    let stub = Stub::start().await;
    stub.route("/hooks/", vec![], Reply::empty(200));
    let mut n = notification();
    n.body = format!("{} <b>&</b>", common::SENTENCE);

    let outcome = provider().send(&n, &target(&stub), t0()).await;

    assert_eq!(outcome, Delivery::Delivered { provider_id: None });
    let request = &stub.requests()[0];
    assert_eq!(request.path, "/hooks/kitchen");
    assert_eq!(
        request.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        request.header(ESCALATION_HEADER),
        Some(n.escalation_id.to_string())
    );
    assert_eq!(request.header(ALERT_HEADER), Some(n.alert_id.to_string()));
    assert_eq!(
        request.json(),
        json!({
            "text": format!("*{}*\n{} &lt;b&gt;&amp;&lt;/b&gt;", n.title, common::SENTENCE),
            "alert_id": n.alert_id.to_string(),
            "escalation_id": n.escalation_id.to_string(),
            "occurrence_id": n.occurrence_id.to_string(),
            "site_id": n.site_id.to_string(),
            "site": "Kitchen",
            "routine_id": n.routine_id.to_string(),
            "check": "Fridge temperatures",
            "level": 1,
            "title": n.title,
            "body": n.body,
            "sent_at": "2026-11-30T12:00:00Z",
        })
    );
    let signature = request.header(SIGNATURE_HEADER).expect("signed");
    assert!(
        signature.starts_with(&format!("t={},v1=", t0().timestamp())),
        "{signature}"
    );
    assert_eq!(
        verify_signature(
            SECRET,
            &signature,
            &request.body,
            t0() + minutes(1),
            DEFAULT_TOLERANCE
        ),
        Ok(())
    );

    let mut tampered = request.body.clone();
    tampered[10] ^= 1;
    assert_eq!(
        verify_signature(SECRET, &signature, &tampered, t0(), DEFAULT_TOLERANCE),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_signature(
            b"another secret",
            &signature,
            &request.body,
            t0(),
            DEFAULT_TOLERANCE
        ),
        Err(SignatureError::Mismatch)
    );
    stub.stop().await;
}

#[test]
fn replayed_or_malformed_signatures_are_refused_with_a_reason() {
    let body = br#"{"text":"hello"}"#;
    let header = sign(SECRET, t0().timestamp(), body);

    let replayed = verify_signature(SECRET, &header, body, t0() + minutes(6), DEFAULT_TOLERANCE);
    assert_eq!(
        replayed,
        Err(SignatureError::Stale {
            skew_seconds: 360,
            tolerance_seconds: 300
        })
    );
    assert!(
        replayed
            .unwrap_err()
            .to_string()
            .contains("360 s away from now")
    );
    for malformed in [
        "",
        "v1=abcd",
        "t=now,v1=abcd",
        "t=1764504000",
        "t=1764504000,v1=xyz",
    ] {
        assert_eq!(
            verify_signature(SECRET, malformed, body, t0(), DEFAULT_TOLERANCE),
            Err(SignatureError::Malformed),
            "{malformed:?}"
        );
    }
    // During a secret rotation a sender may put two v1 values; one matching is enough.
    let other = sign(b"old secret", t0().timestamp(), body);
    let both = format!("{other},{}", header.split(',').nth(1).unwrap());
    assert_eq!(
        verify_signature(SECRET, &both, body, t0(), DEFAULT_TOLERANCE),
        Ok(())
    );
    // The signature is HMAC-SHA256("<t>.<body>"), as documented (RFC 4231-style check
    // against an independent computation of the same construction).
    assert_eq!(
        sign(b"key", 0, b"The quick brown fox jumps over the lazy dog"),
        format!(
            "t=0,v1={}",
            hex::encode(hmac_reference(
                b"key",
                b"0.The quick brown fox jumps over the lazy dog"
            ))
        )
    );
}

/// HMAC-SHA256 written out from RFC 2104 over the `sha2` hash, to check `sign` against.
fn hmac_reference(key: &[u8], message: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    let mut block = [0u8; 64];
    block[..key.len()].copy_from_slice(key);
    let inner: Vec<u8> = block
        .iter()
        .map(|b| b ^ 0x36)
        .chain(message.iter().copied())
        .collect();
    let inner_hash = sha2::Sha256::digest(&inner);
    let outer: Vec<u8> = block
        .iter()
        .map(|b| b ^ 0x5c)
        .chain(inner_hash.iter().copied())
        .collect();
    sha2::Sha256::digest(&outer).to_vec()
}

#[tokio::test]
async fn receiver_answers_map_to_what_the_dispatcher_should_do() {
    let stub = Stub::start().await;
    stub.route(
        "/hooks/",
        vec![
            Reply::empty(204),
            Reply::empty(410),
            Reply::json(400, json!({"error": "invalid_payload"})),
            Reply::empty(503),
            Reply::empty(429).with_header("retry-after", "12"),
            Reply::empty(301).with_header("location", "https://example.invalid/elsewhere"),
        ],
        Reply::empty(200),
    );
    let webhook = provider();
    let to = target(&stub);
    let n = notification();
    let mut outcomes = Vec::new();
    for _ in 0..6 {
        outcomes.push(webhook.send(&n, &to, t0()).await);
    }

    assert_eq!(outcomes[0], Delivery::Delivered { provider_id: None });
    assert!(
        matches!(outcomes[1], Delivery::TokenGone { ref reason } if reason.contains("removed"))
    );
    assert!(
        matches!(outcomes[2], Delivery::Failed { ref reason } if reason.contains("invalid_payload"))
    );
    assert!(matches!(
        outcomes[3],
        Delivery::RetryLater {
            retry_after: None,
            ..
        }
    ));
    assert!(
        matches!(outcomes[4], Delivery::RetryLater { retry_after: Some(wait), .. } if wait == Duration::from_secs(12))
    );
    assert!(matches!(outcomes[5], Delivery::Failed { ref reason } if reason.contains("redirect")));
    assert_eq!(stub.requests().len(), 6, "the redirect was not followed");
    stub.stop().await;
}

#[tokio::test]
async fn a_webhook_without_secret_or_with_a_bad_url_fails_before_sending() {
    let webhook = provider();
    let n = notification();
    let no_secret = WebhookTarget {
        url: "http://127.0.0.1:9/hook".into(),
        secret: Vec::new(),
    };
    let bad_url = WebhookTarget {
        url: "file:///etc/passwd".into(),
        secret: SECRET.to_vec(),
    };
    assert!(
        matches!(webhook.send(&n, &no_secret, t0()).await, Delivery::Failed { ref reason } if reason.contains("no signing secret"))
    );
    assert!(
        matches!(webhook.send(&n, &bad_url, t0()).await, Delivery::Failed { ref reason } if reason.contains("not an http(s) URL"))
    );
    assert!(
        !format!("{bad_url:?}").contains("whsec"),
        "the secret is never printed"
    );
}

#[tokio::test]
async fn providers_route_each_target_and_name_what_is_not_configured() {
    let stub = Stub::start().await;
    stub.route("/hooks/", vec![], Reply::empty(200));
    let providers = Providers {
        webhook: Some(provider()),
        ..Providers::default()
    };
    let n = notification();

    let hook = providers
        .send(&n, &Target::Webhook(target(&stub)), t0())
        .await;
    let apns = providers
        .send(
            &n,
            &Target::Apns {
                device_token: "ab".into(),
            },
            t0(),
        )
        .await;
    let fcm = providers
        .send(
            &n,
            &Target::Fcm {
                registration_token: "x".into(),
            },
            t0(),
        )
        .await;

    assert_eq!(hook, Delivery::Delivered { provider_id: None });
    assert_eq!(
        apns,
        Delivery::failed("APNs is not configured on this server")
    );
    assert_eq!(
        fcm,
        Delivery::failed("FCM is not configured on this server")
    );
    assert_eq!(stub.requests().len(), 1);
    stub.stop().await;
}
