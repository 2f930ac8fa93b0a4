//! Push semantics: idempotent replays, sequence gaps, rejected events consuming their
//! `seq`, forks and broken hashes.

mod common;

use common::{Harness, at, harbor, opening_due, rejection};
use proofline_core::store::{EventPayload, new_event_id};
use proofline_core::sync::protocol::PushOutcome;
use reqwest::StatusCode;
use serde_json::Value;

fn accepted(outcome: &PushOutcome) -> bool {
    matches!(outcome, PushOutcome::Accepted { .. })
}

#[test]
fn a_replayed_push_is_answered_duplicate() {
    let h = Harness::new();
    let mut maria = h.enroll("maria");
    let events = vec![
        maria.complete_opening(opening_due()),
        maria.complete_opening(at("2026-03-03T12:00:00Z")),
    ];
    let first = h.push(&maria, &events);
    assert!(first.results.iter().all(|r| accepted(&r.outcome)));
    let again = h.push(&maria, &events);
    assert_eq!(again.results.len(), 2);
    assert!(
        again
            .results
            .iter()
            .all(|r| r.outcome == PushOutcome::Duplicate)
    );
    assert_eq!(again.results[0].id, events[0].id);
}

#[test]
fn a_gap_is_rejected_with_the_expected_seq_and_stops_the_batch() {
    let h = Harness::new();
    let mut maria = h.enroll("maria");
    let first = maria.complete_opening(opening_due());
    let second = maria.complete_opening(at("2026-03-03T12:00:00Z"));
    let third = maria.complete_opening(at("2026-03-04T12:00:00Z"));
    // The first never arrives.
    let response = h.push(&maria, &[second.clone(), third.clone()]);
    for result in &response.results {
        let (code, reason, expected) = rejection(&result.outcome);
        assert_eq!(code, "sequence_gap");
        assert_eq!(expected, Some(1));
        assert!(reason.contains("expects seq 1"), "{reason}");
    }
    // A gap is retryable: once the first arrives, all three are accepted.
    let response = h.push(&maria, &[first, second, third]);
    assert!(response.results.iter().all(|r| accepted(&r.outcome)));
}

#[test]
fn a_rejected_event_consumes_its_seq_and_is_rejected_the_same_again() {
    let h = Harness::new();
    let mut maria = h.enroll("maria");
    let refused = maria.excuse_opening(opening_due(), "staff may not");
    let next = maria.complete_opening(opening_due());
    let response = h.push(&maria, &[refused.clone(), next.clone()]);
    let (code, reason, _) = rejection(&response.results[0].outcome);
    assert_eq!(code, "not_allowed");
    assert!(
        accepted(&response.results[1].outcome),
        "seq 2 follows a rejected seq 1"
    );
    let again = h.push(&maria, &[refused, next]);
    let (code_again, reason_again, _) = rejection(&again.results[0].outcome);
    assert_eq!((code_again, reason_again), (code, reason));
    assert_eq!(again.results[1].outcome, PushOutcome::Duplicate);
    let rejected: Value = h.admin_get("/v1/admin/rejected").json().expect("rejected");
    assert_eq!(rejected.as_array().map(Vec::len), Some(1));
    assert_eq!(rejected[0]["code"], "not_allowed");
    assert_eq!(rejected[0]["seq"], 1);
}

#[test]
fn a_forked_chain_and_a_broken_hash_are_refused() {
    let h = Harness::new();
    let mut maria = h.enroll("maria");
    let first = maria.complete_opening(opening_due());
    assert!(accepted(
        &h.push(&maria, std::slice::from_ref(&first)).results[0].outcome
    ));
    // Another event claiming seq 1.
    let mut fork = first.clone();
    fork.id = new_event_id(opening_due());
    let (code, _, _) = rejection(&h.push(&maria, &[fork]).results[0].outcome);
    assert_eq!(code, "sequence_conflict");
    // seq 2 with a tampered field.
    let mut tampered = maria.complete_opening(at("2026-03-03T12:00:00Z"));
    tampered.device_time = at("2026-03-01T00:00:00Z");
    let (code, reason, _) = rejection(&h.push(&maria, &[tampered]).results[0].outcome);
    assert_eq!(code, "bad_hash");
    assert!(reason.contains("does not match"), "{reason}");
    // seq 3 linked to the wrong previous hash.
    maria.prev_hash = "f".repeat(64);
    let unlinked = maria.complete_opening(at("2026-03-04T12:00:00Z"));
    let (code, reason, _) = rejection(&h.push(&maria, &[unlinked]).results[0].outcome);
    assert_eq!(code, "bad_hash");
    assert!(reason.contains("previous"), "{reason}");
}

#[test]
fn an_event_of_another_device_or_author_is_refused() {
    let h = Harness::new();
    let mut maria = h.enroll("maria");
    let mut sam = h.enroll("sam");
    let sams = sam.complete_opening(opening_due());
    let (code, _, _) = rejection(&h.push(&maria, &[sams]).results[0].outcome);
    assert_eq!(code, "wrong_device");
    // Maria's chain, Sam as author.
    let now = opening_due();
    maria.person = common::person("sam");
    let event = maria.seal(
        new_event_id(now),
        harbor(),
        now,
        EventPayload::OrgNamed { name: "x".into() },
    );
    let (code, reason, _) = rejection(&h.push(&maria, &[event]).results[0].outcome);
    assert_eq!(code, "wrong_device");
    assert!(
        reason.contains("Sam Reed") && reason.contains("Maria Lopez"),
        "{reason}"
    );
}

#[test]
fn a_push_of_too_many_events_is_refused_whole() {
    let h = Harness::new();
    let mut maria = h.enroll("maria");
    let events: Vec<_> = (0..501)
        .map(|_| maria.complete_opening(opening_due()))
        .collect();
    let r = h.push_raw(&maria, &events);
    let e = common::error_of(r, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(e.error, "payload_too_large");
    assert!(e.message.contains("500"), "{}", e.message);
}

#[test]
fn the_clock_offset_of_a_skewed_device_flags_its_events() {
    let h = Harness::new();
    let mut maria = h.enroll("maria");
    let sam = h.enroll("sam");
    let event = maria.complete_opening(opening_due());
    let r = h
        .client
        .post(h.url("/v1/sync/push"))
        .bearer_auth(&maria.token)
        .json(&serde_json::json!({ "events": [event], "clock_offset_ms": 600_000 }))
        .send()
        .expect("push");
    assert_eq!(r.status(), StatusCode::OK);
    let page = h.pull(&sam, "", 1000);
    let pulled = page
        .events
        .iter()
        .find(|e| e.event.id == event.id)
        .expect("Sam pulls Maria's completion");
    assert_eq!(pulled.clock_skew_ms, Some(600_000));
    let devices: Value = h.admin_get("/v1/admin/devices").json().expect("devices");
    assert_eq!(devices[0]["clock_offset_ms"], 600_000);
}
