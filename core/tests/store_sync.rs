//! The store's side of sync: pulled pages stored with their cursor in one transaction,
//! finally rejected events kept but counted nowhere, what the uploader sends, which
//! thumbnails a device still lacks, and clock-skew flags.

use chrono::{DateTime, Utc};
use proofline_core::model::{
    Absence, Completion, DeviceId, EventId, OccurrenceId, PersonId, RoutineId, SiteId, StepAnswer,
    StepResult,
};
use proofline_core::store::{
    BlobKind, BlobRecord, DB_FILE, DeviceIdentity, Event, EventPayload, GENESIS_HASH,
    HistoryWindow, Store, StoreError, SyncServer, SyncState, UploadState,
};
use proofline_core::sync::protocol::PulledEvent;
use uuid::Uuid;

const SITE: SiteId = SiteId(Uuid::from_u128(0x51));
const MARIA: PersonId = PersonId(Uuid::from_u128(0x61));
const SAM: PersonId = PersonId(Uuid::from_u128(0x62));
const ME: DeviceId = DeviceId(Uuid::from_u128(0xd1));
const OTHER: DeviceId = DeviceId(Uuid::from_u128(0xd2));
const FRIDGE: RoutineId = RoutineId(Uuid::from_u128(0x71));
const SERVER: &str = "https://sync.example";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test instant")
        .with_timezone(&Utc)
}

fn sha(n: u8) -> String {
    proofline_core::proof::sha256_hex(&[n])
}

/// An enrolled device's store, with the clock offset measured on enrolling.
fn enrolled(dir: &tempfile::TempDir, offset_ms: Option<i64>) -> Store {
    let mut store = Store::open(&dir.path().join(DB_FILE)).expect("open");
    let now = at("2026-12-09T10:00:00Z");
    store
        .initialise_enrolled(
            &DeviceIdentity {
                device: ME,
                person: MARIA,
                sites: vec![SITE],
                created_at: now,
            },
            &SyncServer::enrolled(SERVER, "pl_token", now, offset_ms),
        )
        .expect("initialise");
    store
}

fn completion(id: EventId, by: PersonId, due: &str, photos: &[String]) -> Completion {
    let mut results = vec![StepResult {
        step: "walk-in".into(),
        answer: StepAnswer::Reading {
            value: 3.5,
            corrective_action: None,
        },
    }];
    if !photos.is_empty() {
        results.push(StepResult {
            step: "photo".into(),
            answer: StepAnswer::Photos {
                sha256: photos.to_vec(),
            },
        });
    }
    let due = at(due);
    Completion {
        id,
        occurrence: OccurrenceId(Uuid::new_v5(&id.0, b"occ")),
        due,
        routine: FRIDGE,
        routine_version: 1,
        by,
        at: due,
        results,
        note: None,
    }
}

/// Sam's device's events, chained, as the server would serve them.
fn remote_chain(payloads: Vec<EventPayload>) -> Vec<Event> {
    let mut prev = GENESIS_HASH.to_string();
    let mut events = Vec::new();
    for (i, payload) in payloads.into_iter().enumerate() {
        let id = match &payload {
            EventPayload::Completed(c) => c.id,
            _ => EventId(Uuid::from_u128(0x9000 + i as u128)),
        };
        let event = Event::seal(
            id,
            SITE,
            SAM,
            OTHER,
            i as u64 + 1,
            at("2026-12-09T11:00:00Z"),
            payload,
            prev,
        )
        .expect("seal");
        prev = event.hash.clone();
        events.push(event);
    }
    events
}

fn page(events: &[Event], first_seq: u64) -> Vec<PulledEvent> {
    events
        .iter()
        .zip(first_seq..)
        .map(|(event, server_seq)| PulledEvent {
            server_seq,
            event: event.clone(),
            received_at: at("2026-12-09T11:00:01Z"),
            clock_skew_ms: None,
        })
        .collect()
}

fn remote_completions(n: u128) -> Vec<Event> {
    remote_chain(
        (0..n)
            .map(|i| {
                EventPayload::Completed(completion(
                    EventId(Uuid::from_u128(0x8000 + i)),
                    SAM,
                    "2026-12-09T11:00:00Z",
                    &[],
                ))
            })
            .collect(),
    )
}

/// The schema's CHECK constraints hold on the store's connection (a pull waives them for
/// its own rows only, while it writes them).
fn assert_checks_enforced(store: &Store) {
    let conn = store.connection();
    let waived: bool = conn
        .query_row("PRAGMA ignore_check_constraints", [], |r| r.get(0))
        .expect("pragma");
    assert!(!waived, "CHECK constraints left waived");
    let err = conn
        .execute(
            "INSERT INTO events (id, origin, device, seq, site, author, device_time, kind,
                                 payload, prev_hash, hash)
             VALUES ('x', 'elsewhere', 'd', 1, 's', 'a', 't', 'k', '{}', 'p', 'h')",
            [],
        )
        .expect_err("origin outside the CHECK");
    assert!(err.to_string().contains("CHECK constraint failed"), "{err}");
}

#[test]
fn a_pulled_page_is_stored_with_its_cursor_and_only_once() {
    let dir = tempfile::tempdir().expect("dir");
    let mut store = enrolled(&dir, None);
    let events = remote_completions(3);
    let now = at("2026-12-09T12:00:00Z");

    let new = store
        .apply_pull_page(SERVER, &page(&events, 1), "3", now)
        .expect("page");
    assert_eq!(new, events, "every event is new, in page order");
    assert_eq!(store.cursor(SERVER).expect("cursor").as_deref(), Some("3"));

    // The same page again (an answer lost before the cursor was read back): nothing new.
    let again = store
        .apply_pull_page(SERVER, &page(&events, 1), "3", now)
        .expect("page again");
    assert!(again.is_empty());
    assert_eq!(store.event_counts().expect("counts"), (0, 0, 3));
    assert_checks_enforced(&store);
    assert_eq!(
        store
            .history(&HistoryWindow::everything())
            .expect("history")
            .completions
            .len(),
        3
    );
}

#[test]
fn a_page_with_one_bad_hash_stores_nothing_and_keeps_the_cursor() {
    let dir = tempfile::tempdir().expect("dir");
    let mut store = enrolled(&dir, None);
    let events = remote_completions(3);
    let now = at("2026-12-09T12:00:00Z");
    store
        .apply_pull_page(SERVER, &page(&events[..1], 1), "1", now)
        .expect("first page");

    let mut tampered = page(&events[1..], 2);
    if let EventPayload::Completed(c) = &mut tampered[1].event.payload {
        c.note = Some("edited on the way".into());
    }
    match store.apply_pull_page(SERVER, &tampered, "3", now) {
        Err(StoreError::BadPulledEvent { event, detail }) => {
            assert_eq!(event, events[2].id);
            assert!(detail.contains("hash"), "{detail}");
        }
        other => panic!("expected BadPulledEvent, got {other:?}"),
    }
    assert_eq!(store.event_counts().expect("counts"), (0, 0, 1));
    assert!(store.event(events[1].id).expect("read").is_none());
    assert_eq!(store.cursor(SERVER).expect("cursor").as_deref(), Some("1"));
}

#[test]
fn a_pulled_event_claiming_a_taken_chain_position_is_refused_whole() {
    let dir = tempfile::tempdir().expect("dir");
    let mut store = enrolled(&dir, None);
    let now = at("2026-12-09T12:00:00Z");
    let first = remote_completions(1);
    store
        .apply_pull_page(SERVER, &page(&first, 1), "1", now)
        .expect("first");
    // A forked chain: another event at Sam's device's seq 1.
    let fork = remote_chain(vec![EventPayload::Completed(completion(
        EventId(Uuid::from_u128(0x8100)),
        SAM,
        "2026-12-09T15:00:00Z",
        &[],
    ))]);
    let fresh = remote_chain(vec![EventPayload::OrgNamed {
        name: "Harbor".into(),
    }]);
    let mut fresh_page = page(&fresh, 2);
    fresh_page[0].event = Event::seal(
        EventId(Uuid::from_u128(0x8200)),
        SITE,
        SAM,
        DeviceId(Uuid::from_u128(0xd3)),
        1,
        at("2026-12-09T11:00:00Z"),
        EventPayload::OrgNamed {
            name: "Harbor".into(),
        },
        GENESIS_HASH.to_string(),
    )
    .expect("seal");
    fresh_page.extend(page(&fork, 3));
    let err = store
        .apply_pull_page(SERVER, &fresh_page, "3", now)
        .expect_err("fork refused");
    assert!(
        matches!(&err, StoreError::BadPulledEvent { event, .. } if *event == fork[0].id),
        "{err:?}"
    );
    assert!(err.to_string().contains("position 1"), "{err}");
    assert_eq!(store.event_counts().expect("counts"), (0, 0, 1));
    assert_eq!(store.cursor(SERVER).expect("cursor").as_deref(), Some("1"));
    assert_checks_enforced(&store);
}

#[test]
fn finally_rejected_events_count_nowhere_but_stay_in_the_outbox() {
    let dir = tempfile::tempdir().expect("dir");
    let mut store = enrolled(&dir, None);
    let now = at("2026-12-09T12:00:00Z");
    let kept = EventId(Uuid::from_u128(0x101));
    let refused = EventId(Uuid::from_u128(0x102));
    for id in [kept, refused] {
        store
            .append_local(
                id,
                SITE,
                MARIA,
                now,
                EventPayload::Completed(completion(id, MARIA, "2026-12-09T11:00:00Z", &[])),
            )
            .expect("complete");
    }
    let absence = store
        .append_local(
            EventId(Uuid::from_u128(0x103)),
            SITE,
            MARIA,
            now,
            EventPayload::AbsenceRecorded(Absence {
                person: SAM,
                from: at("2026-12-10T00:00:00Z"),
                until: at("2026-12-11T00:00:00Z"),
                reason: None,
            }),
        )
        .expect("absence");
    assert_eq!(store.definitions().expect("org").absences.len(), 1);

    let changed = store
        .set_sync_states(
            &[
                (kept, SyncState::Accepted),
                (
                    refused,
                    SyncState::Rejected {
                        reason: "Fridge temperatures version 1 is retired".into(),
                    },
                ),
                (
                    absence.id,
                    SyncState::Rejected {
                        reason: "Maria Lopez is staff at Harbor Kitchen".into(),
                    },
                ),
            ],
            at("2026-12-09T12:05:00Z"),
        )
        .expect("rulings");
    assert_eq!(changed, 3);

    let history = store.history(&HistoryWindow::everything()).expect("all");
    assert_eq!(
        history.completions.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![kept]
    );
    let window = HistoryWindow {
        due: Some((at("2026-12-09T10:00:00Z"), at("2026-12-09T12:00:00Z"))),
        routines: vec![(FRIDGE, None)],
        ..HistoryWindow::default()
    };
    assert_eq!(store.history(&window).expect("window").completions.len(), 1);
    assert!(store.definitions().expect("org").absences.is_empty());

    // Still in the log (the chain is whole) and in the outbox with the reasons.
    assert!(store.event(refused).expect("read").is_some());
    assert!(store.verify_chain().expect("verify").is_intact());
    let outbox = store.outbox().expect("outbox");
    let states: Vec<_> = outbox.iter().map(|e| (e.event, e.state.clone())).collect();
    assert_eq!(
        states,
        vec![
            (kept, SyncState::Accepted),
            (
                refused,
                SyncState::Rejected {
                    reason: "Fridge temperatures version 1 is retired".into()
                }
            ),
            (
                absence.id,
                SyncState::Rejected {
                    reason: "Maria Lopez is staff at Harbor Kitchen".into()
                }
            ),
        ]
    );
    assert_eq!(store.outbox_summary().expect("summary").rejected, 2);
    assert!(store.pending_events(10).expect("pending").is_empty());
}

fn blob(sha: &str, kind: BlobKind, upload: UploadState, photo: Option<&str>) -> BlobRecord {
    BlobRecord {
        sha256: sha.to_string(),
        kind,
        bytes: 100,
        width: 10,
        height: 10,
        captured_at: at("2026-12-09T11:00:00Z"),
        upload,
        photo: photo.map(str::to_string),
    }
}

#[test]
fn the_uploader_sends_photos_of_local_completions_then_their_thumbnails() {
    let dir = tempfile::tempdir().expect("dir");
    let mut store = enrolled(&dir, None);
    let now = at("2026-12-09T12:00:00Z");
    let (p1, t1, p2, t2, p3, t3, p4, t4) = (
        sha(1),
        sha(2),
        sha(3),
        sha(4),
        sha(5),
        sha(6),
        sha(7),
        sha(8),
    );
    use BlobKind::{Photo, Thumbnail};
    use UploadState::{Pending, Uploaded};
    store
        .put_blobs(&[
            blob(&p1, Photo, Pending, None),
            blob(&t1, Thumbnail, Pending, Some(&p1)),
            // Captured, never used in a completion: not uploaded.
            blob(&p2, Photo, Pending, None),
            blob(&t2, Thumbnail, Pending, Some(&p2)),
            // Photo already up, thumbnail not.
            blob(&p3, Photo, Uploaded, None),
            blob(&t3, Thumbnail, Pending, Some(&p3)),
            // Used by a completion the server rejected.
            blob(&p4, Photo, Pending, None),
            blob(&t4, Thumbnail, Pending, Some(&p4)),
        ])
        .expect("blobs");
    let c3 = EventId(Uuid::from_u128(0x203));
    let c1 = EventId(Uuid::from_u128(0x201));
    let c4 = EventId(Uuid::from_u128(0x204));
    for (id, photos) in [
        (c3, vec![p3.clone()]),
        (c1, vec![p1.clone()]),
        (c4, vec![p4]),
    ] {
        store
            .append_local(
                id,
                SITE,
                MARIA,
                now,
                EventPayload::Completed(completion(id, MARIA, "2026-12-09T11:00:00Z", &photos)),
            )
            .expect("complete");
    }
    store
        .set_sync_states(
            &[(
                c4,
                SyncState::Rejected {
                    reason: "no".into(),
                },
            )],
            now,
        )
        .expect("reject");

    let uploads = store.pending_uploads().expect("uploads");
    let order: Vec<(&str, EventId)> = uploads
        .iter()
        .map(|u| (u.blob.sha256.as_str(), u.completion))
        .collect();
    assert_eq!(
        order,
        vec![(t3.as_str(), c3), (p1.as_str(), c1), (t1.as_str(), c1)],
        "completion order, each photo before its thumbnail"
    );
    assert!(uploads.iter().all(|u| u.site == SITE));

    assert!(store.mark_uploaded(&p1).expect("mark"));
    assert!(!store.mark_uploaded(&sha(99)).expect("unknown"));
    let left: Vec<String> = store
        .pending_uploads()
        .expect("uploads")
        .into_iter()
        .map(|u| u.blob.sha256)
        .collect();
    assert_eq!(left, vec![t3, t1]);
}

#[test]
fn thumbnails_are_wanted_for_other_devices_photos_until_fetched() {
    let dir = tempfile::tempdir().expect("dir");
    let mut store = enrolled(&dir, None);
    let now = at("2026-12-09T12:00:00Z");
    let (theirs, mine) = (sha(10), sha(11));
    let events = remote_chain(vec![
        EventPayload::Completed(completion(
            EventId(Uuid::from_u128(0x301)),
            SAM,
            "2026-12-09T11:00:00Z",
            std::slice::from_ref(&theirs),
        )),
        EventPayload::Completed(completion(
            EventId(Uuid::from_u128(0x302)),
            SAM,
            "2026-12-09T15:00:00Z",
            &["not-a-hash".to_string()],
        )),
    ]);
    store
        .apply_pull_page(SERVER, &page(&events, 1), "2", now)
        .expect("pull");
    let own = EventId(Uuid::from_u128(0x303));
    store
        .append_local(
            own,
            SITE,
            MARIA,
            now,
            EventPayload::Completed(completion(
                own,
                MARIA,
                "2026-12-09T11:00:00Z",
                std::slice::from_ref(&mine),
            )),
        )
        .expect("own");

    let wanted = store.thumbnails_wanted().expect("wanted");
    assert_eq!(wanted.len(), 1, "{wanted:?}");
    assert_eq!(wanted[0].photo, theirs);
    assert_eq!(wanted[0].site, SITE);
    assert_eq!(wanted[0].completed_at, Some(at("2026-12-09T11:00:00Z")));

    let thumb = sha(12);
    store
        .put_blob(&blob(
            &thumb,
            BlobKind::Thumbnail,
            UploadState::Uploaded,
            Some(&theirs),
        ))
        .expect("fetched");
    assert!(store.thumbnails_wanted().expect("wanted").is_empty());
    assert_eq!(
        store
            .thumbnail_of(&theirs)
            .expect("thumb")
            .map(|b| b.sha256),
        Some(thumb)
    );
}

#[test]
fn completions_are_flagged_when_a_clock_was_off_by_more_than_five_minutes() {
    let dir = tempfile::tempdir().expect("dir");
    // Enrolled 1 minute off: fine.
    let mut store = enrolled(&dir, Some(60_000));
    let now = at("2026-12-09T12:00:00Z");

    // Pulled: the server flagged one of Sam's completions.
    let events = remote_completions(2);
    let mut pulled = page(&events, 1);
    pulled[1].clock_skew_ms = Some(-420_000);
    store
        .apply_pull_page(SERVER, &pulled, "2", now)
        .expect("pull");

    let write = |store: &mut Store, n: u128| {
        let id = EventId(Uuid::from_u128(n));
        store
            .append_local(
                id,
                SITE,
                MARIA,
                now,
                EventPayload::Completed(completion(id, MARIA, "2026-12-09T11:00:00Z", &[])),
            )
            .expect("complete");
        id
    };
    let in_step = write(&mut store, 0x401);
    // A sync measures 6 minutes: what the device writes next is suspect.
    assert!(store.record_sync(now, Some(360_000), None).expect("record"));
    let skewed = write(&mut store, 0x402);
    // Fixed: 2 s.
    store
        .record_sync(now, Some(-2_000), Some("cannot reach the server"))
        .expect("record");
    let fixed = write(&mut store, 0x403);

    assert_eq!(
        store.skewed_completions().expect("skewed"),
        vec![events[1].id, skewed]
    );
    assert_eq!(store.clock_skew(skewed).expect("skew"), Some(360_000));
    assert_eq!(store.clock_skew(in_step).expect("skew"), None);
    assert_eq!(store.clock_skew(fixed).expect("skew"), None);

    let server = store.sync_server().expect("server").expect("enrolled");
    assert_eq!(server.clock_offset_ms, Some(-2_000));
    assert!(!server.clock_is_skewed());
    assert_eq!(
        server.last_sync_at,
        Some(now),
        "the 6-minute sync completed"
    );
    assert_eq!(
        server.last_error.as_deref(),
        Some("cannot reach the server")
    );
    assert!(
        !format!("{server:?}").contains("pl_token"),
        "the token is never printed"
    );
}

#[test]
fn a_second_identity_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let mut store = enrolled(&dir, None);
    let again = store.initialise_enrolled(
        &DeviceIdentity {
            device: OTHER,
            person: SAM,
            sites: vec![SITE],
            created_at: at("2026-12-09T10:00:00Z"),
        },
        &SyncServer::enrolled(SERVER, "pl_other", at("2026-12-09T10:00:00Z"), None),
    );
    assert!(matches!(again, Err(StoreError::AlreadyInitialised)));
    let server = store.sync_server().expect("server").expect("kept");
    assert_eq!(server.token, "pl_token");
    assert_eq!(store.identity().expect("id").map(|i| i.device), Some(ME));
}
