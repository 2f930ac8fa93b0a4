//! Bad input of every kind gets a 4xx with an ErrorBody, never a 5xx, and the server
//! keeps answering.

mod common;

use common::{ADMIN_TOKEN, Harness, error_of};
use proofline_core::sync::protocol::ErrorBody;
use reqwest::StatusCode;

#[test]
fn malformed_json_is_a_bad_request() {
    let h = Harness::new();
    let maria = h.enroll("maria");
    for body in [
        "{",
        "[]",
        r#"{"events": 5}"#,
        r#"{"events": [{"id": "x"}]}"#,
        "",
    ] {
        let r = h
            .client
            .post(h.url("/v1/sync/push"))
            .bearer_auth(&maria.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .expect("push");
        let e = error_of(r, StatusCode::BAD_REQUEST);
        assert_eq!(e.error, "bad_request", "{body}");
        assert!(e.message.contains("JSON"), "{}", e.message);
    }
    assert!(h.healthy());
}

#[test]
fn a_wrong_content_type_is_refused() {
    let h = Harness::new();
    let maria = h.enroll("maria");
    let r = h
        .client
        .post(h.url("/v1/sync/push"))
        .bearer_auth(&maria.token)
        .header("content-type", "text/plain")
        .body(r#"{"events": []}"#)
        .send()
        .expect("push");
    let e = error_of(r, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(e.error, "unsupported_media_type");
    let r = h
        .client
        .post(h.url("/v1/enroll"))
        .body(r#"{"code": "x"}"#)
        .send()
        .expect("enroll");
    assert_eq!(
        error_of(r, StatusCode::UNSUPPORTED_MEDIA_TYPE).error,
        "unsupported_media_type"
    );
    assert!(h.healthy());
}

#[test]
fn an_oversized_body_is_refused() {
    let h = Harness::new();
    let maria = h.enroll("maria");
    let huge = format!(
        r#"{{"events": [], "pad": "{}"}}"#,
        "x".repeat(5 * 1024 * 1024)
    );
    let r = h
        .client
        .post(h.url("/v1/sync/push"))
        .bearer_auth(&maria.token)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .expect("push");
    assert_eq!(
        error_of(r, StatusCode::PAYLOAD_TOO_LARGE).error,
        "payload_too_large"
    );
    assert!(h.healthy());
}

#[test]
fn unknown_routes_and_wrong_methods_get_error_bodies() {
    let h = Harness::new();
    let r = h.client.get(h.url("/v2/nothing")).send().expect("get");
    let e = error_of(r, StatusCode::NOT_FOUND);
    assert_eq!(e.error, "not_found");
    assert!(e.message.contains("/v2/nothing"), "{}", e.message);
    let r = h
        .client
        .delete(h.url("/v1/sync/push"))
        .send()
        .expect("delete");
    let e = error_of(r, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(e.error, "method_not_allowed");
    assert!(h.healthy());
}

#[test]
fn a_bad_admin_request_is_a_bad_request() {
    let h = Harness::new();
    let r = h
        .client
        .post(h.url("/v1/admin/import"))
        .bearer_auth(ADMIN_TOKEN)
        .body("org = [broken")
        .send()
        .expect("import");
    let e: ErrorBody = error_of(r, StatusCode::BAD_REQUEST);
    assert_eq!(e.error, "invalid_routines_file");
    let r = h.admin_post(
        "/v1/admin/sites",
        serde_json::json!({ "key": "x", "name": "X", "time_zone": "Mars/Olympus" }),
    );
    assert_eq!(error_of(r, StatusCode::BAD_REQUEST).error, "bad_request");
    let r = h.admin_post(
        "/v1/admin/people",
        serde_json::json!({ "key": "zed", "name": "Zed", "roles": { "nowhere": "staff" } }),
    );
    assert_eq!(error_of(r, StatusCode::NOT_FOUND).error, "not_found");
    let r = h.admin_get("/v1/admin/sites/harbor/statuses?from=yesterday");
    assert_eq!(error_of(r, StatusCode::BAD_REQUEST).error, "bad_request");
    let r = h.admin_get(
        "/v1/admin/sites/harbor/statuses?from=2026-03-05T00:00:00Z&until=2026-03-01T00:00:00Z",
    );
    assert_eq!(error_of(r, StatusCode::BAD_REQUEST).error, "bad_request");
    let r = h.admin_get("/v1/admin/blobs/nothex");
    assert_eq!(error_of(r, StatusCode::BAD_REQUEST).error, "bad_request");
    assert!(h.healthy());
}
