//! Trust: a device reads and writes only its person's sites, roles decide who may excuse
//! or define routines, and completions are re-validated against the routine version.

mod common;

use common::{Harness, at, bay, closing, error_of, harbor, opening, opening_due, rejection};
use proofline_core::model::{Completion, StepAnswer, StepResult};
use proofline_core::occurrence::occurrence_id;
use proofline_core::store::{EventPayload, new_event_id};
use proofline_core::sync::protocol::{BlobReceipt, PushOutcome};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

#[test]
fn a_device_pulls_only_the_events_of_its_sites() {
    let h = Harness::new();
    let maria = h.enroll("maria");
    let bea = h.enroll("bea");
    let page = h.pull(&maria, "", 1000);
    assert!(!page.events.is_empty());
    assert!(page.events.iter().all(|e| e.event.site == harbor()));
    let page = h.pull(&bea, "", 1000);
    assert!(!page.events.is_empty());
    assert!(page.events.iter().all(|e| e.event.site == bay()));
    // Bea's org knows her routine, not Harbor's.
    assert!(page.events.iter().any(|e| matches!(
        &e.event.payload,
        EventPayload::RoutineDefined(r) if r.id == closing()
    )));
    assert!(!page.events.iter().any(|e| matches!(
        &e.event.payload,
        EventPayload::RoutineDefined(r) if r.id == opening()
    )));
}

#[test]
fn a_device_cannot_push_events_for_another_site() {
    let h = Harness::new();
    let mut bea = h.enroll("bea");
    // Bea fills in Harbor's opening checks: she has no role there.
    let event = bea.complete_opening(opening_due());
    let response = h.push(&bea, &[event]);
    let (code, reason, _) = rejection(&response.results[0].outcome);
    assert_eq!(code, "not_allowed");
    assert!(
        reason.contains("Bea Costa") && reason.contains("Harbor Kitchen"),
        "{reason}"
    );
}

#[test]
fn staff_cannot_excuse_but_a_supervisor_can() {
    let h = Harness::new();
    let mut maria = h.enroll("maria");
    let event = maria.excuse_opening(opening_due(), "power cut");
    let (code, reason, _) = rejection(&h.push(&maria, &[event]).results[0].outcome);
    assert_eq!(code, "not_allowed");
    assert!(
        reason.contains("Maria Lopez is staff at Harbor Kitchen")
            && reason.contains("supervisor, lead or admin"),
        "{reason}"
    );
    let mut sam = h.enroll("sam");
    let event = sam.excuse_opening(opening_due(), "power cut");
    assert!(matches!(
        h.push(&sam, &[event]).results[0].outcome,
        PushOutcome::Accepted { .. }
    ));
    let event = sam.excuse_opening(opening_due(), "   ");
    let (code, reason, _) = rejection(&h.push(&sam, &[event]).results[0].outcome);
    assert_eq!(code, "invalid");
    assert!(reason.contains("needs a reason"), "{reason}");
}

#[test]
fn staff_cannot_define_routines_or_people() {
    let h = Harness::new();
    let mut maria = h.enroll("maria");
    let org: Value = h.admin_get("/v1/admin/org").json().expect("org");
    assert_eq!(org["routines"].as_array().map(Vec::len), Some(3));
    // Take the current opening routine from what Maria's device pulled.
    let routine = h
        .pull(&maria, "", 1000)
        .events
        .into_iter()
        .find_map(|e| match e.event.payload {
            EventPayload::RoutineDefined(r) if r.id == opening() => Some(r),
            _ => None,
        })
        .expect("opening routine pulled");
    let mut edited = routine.clone();
    edited.version = 2;
    edited.title = "Opening checks, shorter".into();
    let now = at("2026-03-02T09:00:00Z");
    let event = maria.seal(
        new_event_id(now),
        harbor(),
        now,
        EventPayload::RoutineDefined(edited.clone()),
    );
    let (code, reason, _) = rejection(&h.push(&maria, &[event]).results[0].outcome);
    assert_eq!(code, "not_allowed");
    assert!(
        reason.contains("defining a routine needs lead or admin"),
        "{reason}"
    );
    let person = h
        .pull(&maria, "", 1000)
        .events
        .into_iter()
        .find_map(|e| match e.event.payload {
            EventPayload::PersonDefined(p) => Some(p),
            _ => None,
        })
        .expect("a person pulled");
    let event = maria.seal(
        new_event_id(now),
        harbor(),
        now,
        EventPayload::PersonDefined(person),
    );
    let (code, reason, _) = rejection(&h.push(&maria, &[event]).results[0].outcome);
    assert_eq!(code, "not_allowed");
    assert!(reason.contains("admin API"), "{reason}");

    // A lead may; a completion later in the same batch can use the new version.
    let mut dana = h.enroll("dana");
    let definition = dana.seal(
        new_event_id(now),
        harbor(),
        now,
        EventPayload::RoutineDefined(edited),
    );
    let completion = dana.complete_opening_version(opening_due(), 2);
    let results = h.push(&dana, &[definition, completion]).results;
    assert!(
        results
            .iter()
            .all(|r| matches!(r.outcome, PushOutcome::Accepted { .. })),
        "{results:?}"
    );
    let org: Value = h.admin_get("/v1/admin/org").json().expect("org");
    let opening_row = org["routines"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["key"] == "opening"))
        .cloned()
        .expect("opening listed");
    assert_eq!(opening_row["version"], 2);
}

#[test]
fn completions_are_revalidated_against_their_routine_version() {
    let h = Harness::new();
    let mut maria = h.enroll("maria");
    let due = opening_due();
    let completion = |maria: &mut common::TestDevice,
                      due: chrono::DateTime<chrono::Utc>,
                      occurrence_due: chrono::DateTime<chrono::Utc>,
                      version: u32,
                      results: Vec<StepResult>| {
        let id = new_event_id(due);
        let c = Completion {
            id,
            occurrence: occurrence_id(opening(), occurrence_due),
            due,
            routine: opening(),
            routine_version: version,
            by: maria.person,
            at: due,
            results,
            note: None,
        };
        maria.seal(id, harbor(), due, EventPayload::Completed(c))
    };
    let checked = || {
        vec![StepResult {
            step: "handwash".into(),
            answer: StepAnswer::Checked,
        }]
    };
    let events = vec![
        // Good.
        completion(&mut maria, due, due, 1, checked()),
        // The occurrence id names another due time.
        completion(&mut maria, due, at("2026-03-03T12:00:00Z"), 1, checked()),
        // 07:30 is not when the opening checks are due.
        completion(
            &mut maria,
            at("2026-03-02T12:30:00Z"),
            at("2026-03-02T12:30:00Z"),
            1,
            checked(),
        ),
        // No such version.
        completion(&mut maria, due, due, 7, checked()),
        // The required step is not answered.
        completion(&mut maria, due, due, 1, vec![]),
    ];
    let results = h.push(&maria, &events).results;
    assert!(matches!(results[0].outcome, PushOutcome::Accepted { .. }));
    let codes: Vec<String> = results[1..]
        .iter()
        .map(|r| rejection(&r.outcome).0)
        .collect();
    assert_eq!(
        codes,
        [
            "not_an_occurrence",
            "not_an_occurrence",
            "unknown_reference",
            "proof_incomplete"
        ]
    );
    let (_, reason, _) = rejection(&results[4].outcome);
    assert!(
        reason.contains("Opening checks (Harbor Kitchen)")
            && reason.contains("Hand-wash sinks stocked: required, but not answered"),
        "{reason}"
    );
    let (_, reason, _) = rejection(&results[3].outcome);
    assert!(reason.contains("has no version 7"), "{reason}");
}

#[test]
fn blobs_are_served_only_to_members_of_their_sites() {
    let h = Harness::new();
    let maria = h.enroll("maria");
    let bea = h.enroll("bea");
    let bytes = b"a photo of the clean line".to_vec();
    let sha = hex::encode(Sha256::digest(&bytes));
    let r = h
        .client
        .put(h.url(&format!("/v1/blobs/{sha}")))
        .bearer_auth(&maria.token)
        .header("x-proofline-site", harbor().to_string())
        .header("x-proofline-kind", "photo")
        .body(bytes.clone())
        .send()
        .expect("put");
    assert_eq!(r.status(), StatusCode::OK);
    let receipt: BlobReceipt = r.json().expect("receipt");
    assert!(receipt.complete);
    for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
        let r = h
            .client
            .request(method.clone(), h.url(&format!("/v1/blobs/{sha}")))
            .bearer_auth(&bea.token)
            .send()
            .expect("read");
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{method}");
        let r = h
            .client
            .request(method.clone(), h.url(&format!("/v1/blobs/{sha}")))
            .bearer_auth(&maria.token)
            .send()
            .expect("read");
        assert_eq!(r.status(), StatusCode::OK, "{method}");
    }
    let e = error_of(
        h.client
            .get(h.url(&format!("/v1/blobs/{sha}")))
            .bearer_auth(&bea.token)
            .send()
            .expect("get"),
        StatusCode::FORBIDDEN,
    );
    assert_eq!(e.error, "forbidden");
    // Nor may Bea upload for Harbor.
    let e = error_of(
        h.client
            .put(h.url(&format!("/v1/blobs/{sha}")))
            .bearer_auth(&bea.token)
            .header("x-proofline-site", "harbor")
            .body(bytes)
            .send()
            .expect("put"),
        StatusCode::FORBIDDEN,
    );
    assert!(
        e.message
            .contains("Bea Costa has no role at Harbor Kitchen"),
        "{}",
        e.message
    );
}
