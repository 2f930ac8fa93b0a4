//! The admin API: import, sites and people, review and metrics.

mod common;

use common::{Harness, TWO_SITES, error_of, harbor, opening_due};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[test]
fn importing_the_same_file_twice_writes_nothing_the_second_time() {
    let h = Harness::empty();
    let first: Value = h
        .admin_post_text("/v1/admin/import", TWO_SITES)
        .json()
        .expect("summary");
    assert_eq!(first["sites"], 2);
    assert_eq!(first["people"], 4);
    assert_eq!(first["routines"], 3);
    // 2 sites + 2 org names + 4 people + 3 routines.
    assert_eq!(first["events_written"], 11);
    let second: Value = h
        .admin_post_text("/v1/admin/import", TWO_SITES)
        .json()
        .expect("summary");
    assert_eq!(second["events_written"], 0);
    // An edited routine: one new version.
    let edited = TWO_SITES.replace("title = \"Opening checks\"", "title = \"Morning checks\"");
    let third: Value = h
        .admin_post_text("/v1/admin/import", &edited)
        .json()
        .expect("summary");
    assert_eq!(third["events_written"], 1);
    let org: Value = h.admin_get("/v1/admin/org").json().expect("org");
    let opening = org["routines"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["key"] == "opening"))
        .cloned()
        .expect("opening");
    assert_eq!(opening["version"], 2);
    assert_eq!(opening["title"], "Morning checks");
}

#[test]
fn sites_and_people_added_by_the_admin_reach_their_devices() {
    let h = Harness::new();
    let r = h.admin_post(
        "/v1/admin/sites",
        json!({ "key": "dock", "name": "Dock Bar", "time_zone": "Europe/Dublin" }),
    );
    assert_eq!(r.status(), StatusCode::CREATED);
    let site: Value = r.json().expect("site");
    assert_eq!(site["name"], "Dock Bar");
    let r = h.admin_post(
        "/v1/admin/people",
        json!({ "key": "dev", "name": "Dev Patel", "roles": { "dock": "lead", "harbor": "staff" } }),
    );
    assert_eq!(r.status(), StatusCode::CREATED);
    let dev = h.enroll("dev");
    let page = h.pull(&dev, "", 5000);
    let kinds: Vec<&str> = page.events.iter().map(|e| e.event.payload.kind()).collect();
    assert!(kinds.contains(&"site_defined") && kinds.contains(&"org_named"));
    // Harbor and Dock each carry Dev's definition.
    let defined_at: Vec<String> = page
        .events
        .iter()
        .filter(|e| matches!(&e.event.payload, proofline_core::store::EventPayload::PersonDefined(p) if p.key == "dev"))
        .map(|e| e.event.site.to_string())
        .collect();
    assert_eq!(defined_at.len(), 2);
    // Adding the same person again changes nothing.
    let r = h.admin_post(
        "/v1/admin/people",
        json!({ "key": "dev", "name": "Dev Patel", "roles": { "dock": "lead", "harbor": "staff" } }),
    );
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(h.pull(&dev, &page.next, 5000).events.len(), 0);
}

#[test]
fn review_routes_answer_from_the_accepted_events() {
    let h = Harness::new();
    let mut maria = h.enroll("maria");
    let done = maria.complete_opening(opening_due());
    h.push(&maria, &[done]);
    let rows: Value = h
        .admin_get(
            "/v1/admin/sites/harbor/statuses?from=2026-03-02T00:00:00Z&until=2026-03-03T00:00:00Z&now=2026-03-02T20:00:00Z",
        )
        .json()
        .expect("statuses");
    let rows = rows.as_array().cloned().unwrap_or_default();
    let opening = rows
        .iter()
        .find(|r| r["routine_title"] == "Opening checks")
        .expect("opening row");
    assert_eq!(opening["status"], "done_on_time");
    let fridge = rows
        .iter()
        .find(|r| r["routine_title"] == "Fridge temperatures")
        .expect("fridge row");
    assert_eq!(fridge["status"], "missed");
    let report: Value = h
        .admin_get(&format!(
            "/v1/admin/sites/{}/compliance?from=2026-03-02T00:00:00Z&until=2026-03-03T00:00:00Z&now=2026-03-02T20:00:00Z",
            harbor()
        ))
        .json()
        .expect("compliance");
    assert_eq!(report["totals"]["on_time"], 1);
    assert_eq!(report["totals"]["missed"], 1);
    let r = h.admin_get("/v1/admin/people/maria/attention?now=2026-03-02T15:10:00Z");
    assert_eq!(r.status(), StatusCode::OK);
    let items: Value = r.json().expect("attention");
    assert!(items.as_array().is_some_and(|a| !a.is_empty()), "{items}");
    let r = h.admin_get("/v1/admin/people/nobody/attention");
    assert_eq!(error_of(r, StatusCode::NOT_FOUND).error, "not_found");
}

#[test]
fn metrics_count_requests_rulings_and_devices() {
    let h = Harness::new();
    let mut maria = h.enroll("maria");
    let good = maria.complete_opening(opening_due());
    let refused = maria.excuse_opening(opening_due(), "no");
    h.push(&maria, &[good.clone(), refused]);
    h.push(&maria, &[good]);
    let text = h
        .client
        .get(h.url("/metrics"))
        .send()
        .expect("metrics")
        .text()
        .expect("text");
    for expected in [
        "proofline_http_requests_total{route=\"/v1/sync/push\",status=\"200\"} 2",
        "proofline_events_accepted_total 1",
        "proofline_events_duplicate_total 1",
        "proofline_events_rejected_total{code=\"not_allowed\"} 1",
        "proofline_devices 1",
        "proofline_blob_bytes_stored 0",
    ] {
        assert!(
            text.lines().any(|l| l == expected),
            "{expected} missing in\n{text}"
        );
    }
    assert!(text.contains("proofline_sync_lag_seconds "));
}

#[test]
fn state_survives_a_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let config = || proofline_server::Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        admin_token: Some(common::ADMIN_TOKEN.into()),
        ..proofline_server::Config::new(dir.path())
    };
    let server = proofline_server::start(config()).expect("start");
    let client = reqwest::blocking::Client::new();
    let r = client
        .post(format!("{}/v1/admin/import", server.base_url()))
        .bearer_auth(common::ADMIN_TOKEN)
        .body(TWO_SITES)
        .send()
        .expect("import");
    assert_eq!(r.status(), StatusCode::OK);
    server.shutdown().expect("clean stop");
    let server = proofline_server::start(config()).expect("restart");
    let r = client
        .post(format!("{}/v1/admin/import", server.base_url()))
        .bearer_auth(common::ADMIN_TOKEN)
        .body(TWO_SITES)
        .send()
        .expect("import");
    let summary: Value = r.json().expect("summary");
    assert_eq!(
        summary["events_written"], 0,
        "the org was rebuilt from the log"
    );
    server.shutdown().expect("clean stop");
}
