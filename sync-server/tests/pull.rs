//! Pull: pages in server order, cursors, the device's own events left out.

mod common;

use common::{Harness, at, error_of};
use reqwest::StatusCode;

#[test]
fn pages_follow_the_cursor_until_nothing_is_left() {
    let h = Harness::new();
    let mut maria = h.enroll("maria");
    let sam = h.enroll("sam");
    let events: Vec<_> = (0..25)
        .map(|day| {
            // 07:00 EST is 12:00 UTC all of February.
            maria.complete_opening(at("2026-02-01T12:00:00Z") + chrono::Duration::days(day))
        })
        .collect();
    let pushed = h.push(&maria, &events);
    assert!(pushed.results.iter().all(|r| matches!(
        r.outcome,
        proofline_core::sync::protocol::PushOutcome::Accepted { .. }
    )));

    let mut cursor = String::new();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = h.pull(&sam, &cursor, 7);
        pages += 1;
        assert!(page.events.len() <= 7);
        seen.extend(page.events.iter().map(|e| (e.server_seq, e.event.id)));
        assert!(page.events.iter().all(|e| e.event.hash_is_valid()));
        if !page.more {
            assert_eq!(
                page.next,
                seen.last().map(|s| s.0.to_string()).unwrap_or_default()
            );
            cursor = page.next;
            break;
        }
        cursor = page.next;
    }
    assert!(pages >= 4);
    // Server order, no repeats, every completion in it (after the definitions).
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0));
    for event in &events {
        assert!(seen.iter().any(|(_, id)| *id == event.id));
    }
    // Nothing new: the cursor comes back unchanged.
    let page = h.pull(&sam, &cursor, 7);
    assert!(page.events.is_empty() && !page.more);
    assert_eq!(page.next, cursor);
}

#[test]
fn a_device_does_not_pull_its_own_events() {
    let h = Harness::new();
    let mut maria = h.enroll("maria");
    let event = maria.complete_opening(at("2026-03-02T12:00:00Z"));
    h.push(&maria, std::slice::from_ref(&event));
    let page = h.pull(&maria, "", 5000);
    assert!(page.events.iter().all(|e| e.event.device != maria.device));
}

#[test]
fn a_bad_cursor_or_limit_is_a_bad_request() {
    let h = Harness::new();
    let maria = h.enroll("maria");
    for query in ["after=abc", "after=-3", "limit=0", "limit=many"] {
        let r = h
            .client
            .get(h.url(&format!("/v1/sync/pull?{query}")))
            .bearer_auth(&maria.token)
            .send()
            .expect("pull");
        let e = error_of(r, StatusCode::BAD_REQUEST);
        assert_eq!(e.error, "bad_request", "{query}");
    }
    assert!(h.healthy());
}
