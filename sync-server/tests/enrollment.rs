//! Enrollment codes and tokens: who gets in, and what they are told when they do not.

mod common;

use common::{ADMIN_TOKEN, Harness, error_of};
use proofline_core::sync::protocol::EnrollResponse;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn enroll_with(h: &Harness, code: &str) -> reqwest::blocking::Response {
    h.client
        .post(h.url("/v1/enroll"))
        .json(&json!({ "code": code, "platform": "android", "device_name": "Kitchen phone" }))
        .send()
        .expect("enroll")
}

#[test]
fn a_good_code_enrolls_a_device_for_its_person_and_sites() {
    let h = Harness::new();
    let code = h.code_for("maria");
    // Case and dashes do not matter.
    let typed = code.to_lowercase().replace('-', " ");
    let r = enroll_with(&h, &typed);
    assert_eq!(r.status(), StatusCode::OK);
    let e: EnrollResponse = r.json().expect("response");
    assert!(e.token.starts_with("pl_") && e.token.len() == 67);
    assert_eq!(e.person_name, "Maria Lopez");
    assert_eq!(e.org_name, "Harbor Group");
    assert_eq!(e.sites.len(), 1);
    assert_eq!(e.sites[0].site_name, "Harbor Kitchen");
    let devices: Value = h.admin_get("/v1/admin/devices").json().expect("devices");
    assert_eq!(devices[0]["person_name"], "Maria Lopez");
    assert_eq!(devices[0]["name"], "Kitchen phone");
    assert_eq!(devices[0]["revoked"], false);
}

#[test]
fn a_used_code_is_refused_the_second_time() {
    let h = Harness::new();
    let code = h.code_for("maria");
    assert_eq!(enroll_with(&h, &code).status(), StatusCode::OK);
    let e = error_of(enroll_with(&h, &code), StatusCode::UNAUTHORIZED);
    assert_eq!(e.error, "code_used");
    assert!(e.message.contains("already used"), "{}", e.message);
}

#[test]
fn a_wrong_code_is_refused() {
    let h = Harness::new();
    let e = error_of(enroll_with(&h, "AAAA-BBBB-CCCC"), StatusCode::UNAUTHORIZED);
    assert_eq!(e.error, "invalid_code");
    assert!(e.message.contains("not known"), "{}", e.message);
    let e = error_of(enroll_with(&h, "not a code!"), StatusCode::UNAUTHORIZED);
    assert_eq!(e.error, "invalid_code");
}

#[test]
fn an_expired_code_is_refused() {
    let h = Harness::new();
    let expires_at = chrono::Utc::now() + chrono::Duration::milliseconds(1200);
    let r = h.admin_post(
        "/v1/admin/enrollment-codes",
        json!({ "person": "maria", "expires_at": expires_at }),
    );
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: Value = r.json().expect("json");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let e = error_of(
        enroll_with(&h, body["code"].as_str().expect("code")),
        StatusCode::UNAUTHORIZED,
    );
    assert_eq!(e.error, "code_expired");
    assert!(e.message.contains("expired"), "{}", e.message);
}

#[test]
fn codes_are_only_issued_for_known_people_and_sensible_lifetimes() {
    let h = Harness::new();
    let e = error_of(
        h.admin_post("/v1/admin/enrollment-codes", json!({ "person": "nobody" })),
        StatusCode::NOT_FOUND,
    );
    assert!(e.message.contains("nobody"), "{}", e.message);
    let e = error_of(
        h.admin_post(
            "/v1/admin/enrollment-codes",
            json!({ "person": "maria", "expires_in_minutes": 0 }),
        ),
        StatusCode::BAD_REQUEST,
    );
    assert_eq!(e.error, "bad_request");
}

#[test]
fn a_wrong_or_missing_token_is_unauthorized() {
    let h = Harness::new();
    let pull = |token: Option<&str>| {
        let mut request = h.client.get(h.url("/v1/sync/pull"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().expect("pull")
    };
    let e = error_of(pull(None), StatusCode::UNAUTHORIZED);
    assert_eq!(e.error, "unauthorized");
    let e = error_of(pull(Some("pl_0000")), StatusCode::UNAUTHORIZED);
    assert_eq!(e.error, "unauthorized");
    assert!(e.message.contains("not known"), "{}", e.message);
}

#[test]
fn a_revoked_device_is_locked_out() {
    let h = Harness::new();
    let device = h.enroll("maria");
    assert!(!h.pull(&device, "", 10).events.is_empty());
    let r = h
        .client
        .post(h.url(&format!("/v1/admin/devices/{}/revoke", device.device)))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .expect("revoke");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = h
        .client
        .get(h.url("/v1/sync/pull"))
        .bearer_auth(&device.token)
        .send()
        .expect("pull");
    let e = error_of(r, StatusCode::UNAUTHORIZED);
    assert_eq!(e.error, "unauthorized");
    assert!(e.message.contains("revoked"), "{}", e.message);
    let devices: Value = h.admin_get("/v1/admin/devices").json().expect("devices");
    assert_eq!(devices[0]["revoked"], true);
    let e = error_of(
        h.client
            .post(h.url(&format!("/v1/admin/devices/{}/revoke", uuid_nil())))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .expect("revoke"),
        StatusCode::NOT_FOUND,
    );
    assert_eq!(e.error, "not_found");
}

fn uuid_nil() -> String {
    "00000000-0000-0000-0000-000000000000".into()
}

#[test]
fn admin_routes_refuse_device_tokens_and_device_routes_refuse_the_admin_token() {
    let h = Harness::new();
    let device = h.enroll("dana");
    let r = h
        .client
        .get(h.url("/v1/admin/org"))
        .bearer_auth(&device.token)
        .send()
        .expect("org");
    let e = error_of(r, StatusCode::FORBIDDEN);
    assert_eq!(e.error, "forbidden");
    let r = h
        .client
        .get(h.url("/v1/admin/devices"))
        .bearer_auth("wrong")
        .send()
        .expect("devices");
    assert_eq!(error_of(r, StatusCode::UNAUTHORIZED).error, "unauthorized");
    let r = h
        .client
        .get(h.url("/v1/sync/pull"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .expect("pull");
    assert_eq!(error_of(r, StatusCode::FORBIDDEN).error, "forbidden");
}
