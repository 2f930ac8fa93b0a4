//! Upgrading the local database from every schema version it has ever had.
//!
//! For each historic version k: apply migrations 1..=k, write rows the way a build of
//! version k wrote them (only the columns that version had), then open the file with the
//! current store (which migrates it to the latest) and check that nothing was lost and
//! that the columns later versions added were filled in from the old rows.
//!
//! A new migration needs a `seed` arm for its version: the test fails until it has one.

use std::path::Path;

use chrono::{DateTime, Utc};
use proofline_core::model::{
    Acknowledgement, Completion, DeviceId, EscalationId, EventId, Excuse, OccurrenceId, PersonId,
    RoutineId, SiteId, StepAnswer, StepResult,
};
use proofline_core::routines_file::{load_routines_file, person_id};
use proofline_core::store::migrations::{LATEST_VERSION, MIGRATIONS, migrate_to, version};
use proofline_core::store::{
    BlobKind, DB_FILE, DeviceIdentity, Event, EventPayload, GENESIS_HASH, HistoryWindow, Origin,
    Store, StoreError, SyncState, UploadState, import_chain,
};
use rusqlite::{Connection, params};
use uuid::Uuid;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test instant")
        .with_timezone(&Utc)
}

const DEVICE: DeviceId = DeviceId(Uuid::from_u128(0xd0));
const PHOTO: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const THUMB: &str = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

fn maria() -> PersonId {
    person_id("maria")
}

/// What every version's seed writes, as events: the restaurant's definitions (imported),
/// then a completion, an excuse and an acknowledgement of this device.
struct Seed {
    imported: Vec<Event>,
    local: Vec<Event>,
    site: SiteId,
    fridge: RoutineId,
}

fn seed_events() -> Seed {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/restaurant.toml");
    let org = load_routines_file(&path).expect("example loads");
    let site = org.sites[0].id;
    let created = at("2026-12-09T10:00:00Z");
    let mut imported = Vec::new();
    let mut prev = GENESIS_HASH.to_string();
    let mut payloads = vec![EventPayload::OrgNamed {
        name: org.name.clone(),
    }];
    payloads.extend(org.sites.iter().cloned().map(EventPayload::SiteDefined));
    payloads.extend(org.people.iter().cloned().map(EventPayload::PersonDefined));
    payloads.extend(
        org.routines
            .iter()
            .cloned()
            .map(EventPayload::RoutineDefined),
    );
    payloads.extend(
        org.absences
            .iter()
            .cloned()
            .map(EventPayload::AbsenceRecorded),
    );
    for (i, payload) in payloads.into_iter().enumerate() {
        let event = Event::seal(
            EventId(Uuid::from_u128(0x1000 + i as u128)),
            site,
            maria(),
            import_chain(DEVICE),
            i as u64 + 1,
            created,
            payload,
            prev,
        )
        .expect("seal");
        prev = event.hash.clone();
        imported.push(event);
    }
    let fridge = org
        .routines
        .iter()
        .find(|r| r.key == "fridge-temps")
        .expect("fridge routine")
        .id;
    let due = at("2026-12-09T11:00:00Z");
    let occurrence = proofline_core::occurrence::occurrence_id(fridge, due);
    let payloads = vec![
        EventPayload::Completed(Completion {
            id: EventId(Uuid::from_u128(0x2001)),
            occurrence,
            due,
            routine: fridge,
            routine_version: 1,
            by: maria(),
            at: at("2026-12-09T11:05:30.250Z"),
            results: vec![
                StepResult {
                    step: "walk-in".into(),
                    answer: StepAnswer::Reading {
                        value: 3.5,
                        corrective_action: None,
                    },
                },
                StepResult {
                    step: "reach-in".into(),
                    answer: StepAnswer::Reading {
                        value: 4.25,
                        corrective_action: None,
                    },
                },
                StepResult {
                    step: "probe-photo".into(),
                    answer: StepAnswer::Photos {
                        sha256: vec![PHOTO.into()],
                    },
                },
            ],
            note: Some("probe recalibrated".into()),
        }),
        EventPayload::Excused(Excuse {
            id: EventId(Uuid::from_u128(0x2002)),
            occurrence: proofline_core::occurrence::occurrence_id(
                fridge,
                at("2026-12-09T15:00:00Z"),
            ),
            routine: fridge,
            due: at("2026-12-09T15:00:00Z"),
            by: maria(),
            at: at("2026-12-09T14:00:00Z"),
            reason: "unit defrosting".into(),
        }),
        EventPayload::Acknowledged(Acknowledgement {
            id: EventId(Uuid::from_u128(0x2003)),
            escalation: EscalationId(Uuid::from_u128(0x77)),
            by: maria(),
            at: at("2026-12-09T16:30:00Z"),
        }),
    ];
    let mut local = Vec::new();
    let mut prev = GENESIS_HASH.to_string();
    for (i, payload) in payloads.into_iter().enumerate() {
        let event = Event::seal(
            EventId(Uuid::from_u128(0x2001 + i as u128)),
            site,
            maria(),
            DEVICE,
            i as u64 + 1,
            payload.acted_at().unwrap_or(created),
            payload,
            prev,
        )
        .expect("seal");
        prev = event.hash.clone();
        local.push(event);
    }
    Seed {
        imported,
        local,
        site,
        fridge,
    }
}

/// Writes the seed the way a build at `version` did.
fn seed(version: u32, conn: &Connection, seed: &Seed) {
    match version {
        1 => seed_v1(conn, seed),
        2 => seed_v2(conn, seed),
        3 => seed_v3(conn, seed),
        // Versions 4 and 5 changed only indexes: rows are written as version 3 wrote them.
        4 | 5 => seed_v3(conn, seed),
        v => panic!("schema version {v} has no seed: add one to tests/store_migrations.rs"),
    }
}

fn identity_rows(conn: &Connection, seed: &Seed) {
    conn.execute(
        "INSERT INTO device_identity (id, device, person, created_at) VALUES (1, ?1, ?2, ?3)",
        params![
            DEVICE.to_string(),
            maria().to_string(),
            "2026-12-09T10:00:00Z"
        ],
    )
    .expect("identity");
    conn.execute(
        "INSERT INTO device_sites (site) VALUES (?1)",
        params![seed.site.to_string()],
    )
    .expect("site");
    conn.execute(
        "INSERT INTO blobs (sha256, kind, bytes, width, height, captured_at, upload, photo)
         VALUES (?1, 'photo', 512380, 2048, 1280, '2026-12-09T12:04:00Z', 'uploaded', NULL),
                (?2, 'thumbnail', 20480, 320, 200, '2026-12-09T12:04:00Z', 'pending', ?1)",
        params![PHOTO, THUMB],
    )
    .expect("blobs");
    conn.execute(
        "INSERT INTO sync_cursors (server, cursor, changed_at)
         VALUES ('https://sync.example', 'c-42', '2026-12-09T12:00:00Z')",
        [],
    )
    .expect("cursor");
}

fn outbox_rows(conn: &Connection, seed: &Seed) {
    let states = [
        ("accepted", None),
        ("rejected", Some("routine version 1 is retired")),
        ("pending", None),
    ];
    for (event, (state, reason)) in seed.local.iter().zip(states) {
        conn.execute(
            "INSERT INTO outbox (event, state, reason, changed_at) VALUES (?1, ?2, ?3, ?4)",
            params![event.id.to_string(), state, reason, "2026-12-09T17:00:00Z"],
        )
        .expect("outbox");
    }
}

/// Version 1: events without routine, due and acted_at.
fn seed_v1(conn: &Connection, seed: &Seed) {
    identity_rows(conn, seed);
    let rows = seed
        .imported
        .iter()
        .map(|e| (e, Origin::Import))
        .chain(seed.local.iter().map(|e| (e, Origin::Local)));
    for (event, origin) in rows {
        conn.execute(
            "INSERT INTO events (id, origin, device, seq, site, author, device_time, kind,
                                 payload, prev_hash, hash, occurrence)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                event.id.to_string(),
                origin.as_str(),
                event.device.to_string(),
                event.seq as i64,
                event.site.to_string(),
                event.author.to_string(),
                event
                    .device_time
                    .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                event.payload.kind(),
                serde_json::to_string(&event.payload).expect("payload"),
                event.prev_hash,
                event.hash,
                event.payload.occurrence().map(|o| o.to_string()),
            ],
        )
        .expect("v1 event");
    }
    outbox_rows(conn, seed);
}

/// Version 2: events with routine, due and acted_at (unix seconds).
fn seed_v2(conn: &Connection, seed: &Seed) {
    identity_rows(conn, seed);
    let rows = seed
        .imported
        .iter()
        .map(|e| (e, Origin::Import))
        .chain(seed.local.iter().map(|e| (e, Origin::Local)));
    for (event, origin) in rows {
        let p = &event.payload;
        conn.execute(
            "INSERT INTO events (id, origin, device, seq, site, author, device_time, kind,
                                 payload, prev_hash, hash, occurrence, routine, due, acted_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            params![
                event.id.to_string(),
                origin.as_str(),
                event.device.to_string(),
                event.seq as i64,
                event.site.to_string(),
                event.author.to_string(),
                event
                    .device_time
                    .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                p.kind(),
                serde_json::to_string(p).expect("payload"),
                event.prev_hash,
                event.hash,
                p.occurrence().map(|o| o.to_string()),
                p.routine().map(|r| r.to_string()),
                p.due().map(|d| d.timestamp()),
                p.acted_at().map(|a| a.timestamp()),
            ],
        )
        .expect("v2 event");
    }
    outbox_rows(conn, seed);
}

/// Version 3: events with clock_skew_ms, the photos each completion references, and the
/// sync server this device is enrolled with.
fn seed_v3(conn: &Connection, seed: &Seed) {
    seed_v2(conn, seed);
    conn.execute(
        "UPDATE events SET clock_skew_ms = 420000 WHERE id = ?1",
        params![seed.local[0].id.to_string()],
    )
    .expect("skew");
    conn.execute(
        "INSERT INTO event_photos (sha256, event) VALUES (?1, ?2)",
        params![PHOTO, seed.local[0].id.to_string()],
    )
    .expect("event photo");
    conn.execute(
        "INSERT INTO sync_server (id, base_url, token, enrolled_at, last_sync_at,
                                  clock_offset_ms, clock_offset_at, last_error, last_error_at)
         VALUES (1, 'https://sync.example', 'pl_secret', '2026-12-09T10:00:00Z',
                 '2026-12-09T12:00:00Z', 420000, '2026-12-09T12:00:00Z', NULL, NULL)",
        [],
    )
    .expect("sync server");
}

/// Builds a database at `version` with its seed, in a fresh directory.
fn historic_database(version: u32, seed_data: &Seed) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut conn = Connection::open(dir.path().join(DB_FILE)).expect("open");
    conn.execute_batch("PRAGMA journal_mode = WAL;")
        .expect("wal");
    let reached = migrate_to(&mut conn, version).expect("historic migrations");
    assert_eq!(reached, version);
    seed(version, &conn, seed_data);
    dir
}

/// The indexes of `events` at the latest version (besides the unique `id` and
/// `(device, seq)`), by name.
const LATEST_EVENT_INDEXES: &[&str] = &[
    "events_acks",
    "events_definitions",
    "events_due",
    "events_fired",
    "events_occurrence_prefix",
    "events_routine_due",
    "events_skewed",
];

/// The named (not automatic) indexes of `events`, sorted.
fn event_indexes(conn: &Connection) -> Vec<String> {
    let mut stmt = conn
        .prepare(
            "SELECT name FROM sqlite_master
              WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL
              ORDER BY name",
        )
        .expect("indexes");
    stmt.query_map([], |r| r.get(0))
        .expect("indexes")
        .map(|r| r.expect("index"))
        .collect()
}

#[test]
fn version_4_indexes_definitions_and_acknowledgements_apart_and_occurrences_by_prefix() {
    let s = seed_events();
    let dir = historic_database(3, &s);
    let before = {
        let conn = Connection::open(dir.path().join(DB_FILE)).expect("open");
        event_indexes(&conn)
    };
    assert_eq!(
        before,
        [
            "events_acted",
            "events_due",
            "events_kind",
            "events_occurrence",
            "events_routine_due",
            "events_skewed",
        ]
    );
    let mut store = Store::open(&dir.path().join(DB_FILE)).expect("upgrade");
    assert_eq!(event_indexes(store.connection()), LATEST_EVENT_INDEXES);
    let conn = store.connection();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect(sql) };
    // The partial indexes hold only their rows: every definition (no acted_at), the one
    // acknowledgement, the completion and the excuse (they name an occurrence).
    assert_eq!(
        count("SELECT count(*) FROM events INDEXED BY events_definitions WHERE acted_at IS NULL"),
        s.imported.len() as i64
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM events INDEXED BY events_acks
              WHERE kind = 'acknowledged' AND acted_at > 0"
        ),
        1
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM events INDEXED BY events_occurrence_prefix
              WHERE occurrence IS NOT NULL AND substr(occurrence, 1, 8) > ''"
        ),
        2
    );
    // New rows go into them too.
    let id = proofline_core::store::new_event_id(at("2026-12-09T18:00:00Z"));
    store
        .append_local(
            id,
            s.site,
            maria(),
            at("2026-12-09T18:00:00Z"),
            EventPayload::Acknowledged(Acknowledgement {
                id,
                escalation: EscalationId(Uuid::from_u128(0x79)),
                by: maria(),
                at: at("2026-12-09T18:00:00Z"),
            }),
        )
        .expect("append");
    let history = store
        .history(&HistoryWindow {
            acks_from: Some(at("2026-12-09T17:30:00Z")),
            ..HistoryWindow::default()
        })
        .expect("acks");
    assert_eq!(history.acknowledgements.len(), 1);
    assert_eq!(history.acknowledgements[0].id, id);
}

#[test]
fn migrations_are_numbered_from_one_without_gaps() {
    for (i, m) in MIGRATIONS.iter().enumerate() {
        assert_eq!(m.version as usize, i + 1, "{}", m.summary);
    }
    assert_eq!(LATEST_VERSION as usize, MIGRATIONS.len());
    const { assert!(LATEST_VERSION >= 3) };
}

#[test]
fn every_historic_version_upgrades_to_the_latest_without_losing_data() {
    let s = seed_events();
    for historic in 1..=LATEST_VERSION {
        let dir = historic_database(historic, &s);
        let store = Store::open(&dir.path().join(DB_FILE))
            .unwrap_or_else(|e| panic!("upgrade from v{historic}: {e}"));
        assert_eq!(store.schema_version().expect("version"), LATEST_VERSION);

        // Identity, blobs, cursors.
        let identity = store.identity().expect("identity").expect("set up");
        assert_eq!(
            identity,
            DeviceIdentity {
                device: DEVICE,
                person: maria(),
                sites: vec![s.site],
                created_at: at("2026-12-09T10:00:00Z"),
            }
        );
        let photo = store.blob(PHOTO).expect("blob").expect("photo indexed");
        assert_eq!(
            (photo.kind, photo.bytes, photo.upload),
            (BlobKind::Photo, 512_380, UploadState::Uploaded)
        );
        let pending = store.blobs_pending_upload().expect("pending");
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].photo.as_deref(), Some(PHOTO));
        // The photos completions reference were backfilled: the photo is uploaded, its
        // thumbnail is what the uploader sends next, for the completion's site.
        let uploads = store.pending_uploads().expect("uploads");
        assert_eq!(uploads.len(), 1, "v{historic}: {uploads:?}");
        assert_eq!(uploads[0].blob.sha256, THUMB);
        assert_eq!(uploads[0].site, s.site);
        assert_eq!(uploads[0].completion, s.local[0].id);

        // Sync state: a device from before v3 is not enrolled; a v3 one keeps its server
        // and the skew flag of its completion.
        let server = store.sync_server().expect("server");
        if historic >= 3 {
            let server = server.expect("enrolled");
            assert_eq!(server.base_url, "https://sync.example");
            assert_eq!(server.token, "pl_secret");
            assert_eq!(server.clock_offset_ms, Some(420_000));
            assert!(server.clock_is_skewed());
            assert_eq!(
                store.skewed_completions().expect("skewed"),
                vec![s.local[0].id]
            );
        } else {
            assert_eq!(server, None, "v{historic}");
            assert!(store.skewed_completions().expect("skewed").is_empty());
        }
        assert_eq!(
            store
                .cursor("https://sync.example")
                .expect("cursor")
                .as_deref(),
            Some("c-42")
        );

        // Events: definitions rebuild the org; chains verify (hashes unchanged).
        let org = store.definitions().expect("org");
        assert_eq!(org.name, "Harbor Kitchen Group");
        assert_eq!(org.routines.len(), 6, "v{historic}");
        assert_eq!(org.absences.len(), 1);
        let report = store.verify_chain().expect("verify");
        assert!(report.is_intact(), "v{historic}: {:?}", report.first_broken);
        assert_eq!(report.local_events, 3);
        assert_eq!(report.import_events, s.imported.len() as u64);
        assert_eq!(
            store.chain_events(DEVICE).expect("chain"),
            s.local,
            "v{historic}: local events read back as written"
        );

        // The outbox keeps every state, rejected with its reason.
        let outbox = store.outbox().expect("outbox");
        let states: Vec<SyncState> = outbox.iter().map(|e| e.state.clone()).collect();
        assert_eq!(
            states,
            vec![
                SyncState::Accepted,
                SyncState::Rejected {
                    reason: "routine version 1 is retired".into()
                },
                SyncState::Pending,
            ]
        );

        // Columns added by later versions were filled in: windowed reads find the rows.
        let window = HistoryWindow {
            due: Some((at("2026-12-09T10:30:00Z"), at("2026-12-09T11:30:00Z"))),
            ..HistoryWindow::default()
        };
        let history = store.history(&window).expect("history");
        assert_eq!(history.completions.len(), 1, "v{historic}: due backfilled");
        assert!(history.excuses.is_empty(), "the excuse is due at 15:00");
        let window = HistoryWindow {
            routines: vec![(s.fridge, None)],
            acks_from: Some(at("2026-12-09T16:00:00Z")),
            ..HistoryWindow::default()
        };
        let history = store.history(&window).expect("history");
        assert_eq!(
            history.completions.len(),
            1,
            "v{historic}: routine backfilled"
        );
        // The excuse was finally rejected: it stays in the log and the outbox (above) but
        // counts in no state.
        assert!(
            history.excuses.is_empty(),
            "v{historic}: rejected excuse read"
        );
        let excuses_indexed: i64 = store
            .connection()
            .query_row(
                "SELECT count(*) FROM events WHERE kind = 'excused' AND routine = ?1",
                params![s.fridge.to_string()],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(
            excuses_indexed, 1,
            "v{historic}: excuse's routine backfilled"
        );
        assert_eq!(
            history.acknowledgements.len(),
            1,
            "v{historic}: acted_at backfilled"
        );
        let occurrence: OccurrenceId = history.completions[0].occurrence;
        assert_eq!(
            store.occurrence_due(occurrence).expect("lookup"),
            Some((s.fridge, at("2026-12-09T11:00:00Z")))
        );
        assert_eq!(
            history,
            store.history(&HistoryWindow::everything()).expect("all")
        );
        // Version 4's indexes, whatever the version upgraded from.
        assert_eq!(
            event_indexes(store.connection()),
            LATEST_EVENT_INDEXES,
            "v{historic}"
        );
        assert_eq!(
            store
                .connection()
                .query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
                .expect("integrity"),
            "ok",
            "v{historic}"
        );

        drop(store);

        // Opening again changes nothing.
        let again = Store::open(&dir.path().join(DB_FILE)).expect("reopen");
        assert_eq!(again.schema_version().expect("version"), LATEST_VERSION);
        assert_eq!(again.outbox().expect("outbox"), outbox);
    }
}

#[test]
fn an_upgraded_database_keeps_appending_to_the_same_chain() {
    let s = seed_events();
    let dir = historic_database(1, &s);
    let mut store = Store::open(&dir.path().join(DB_FILE)).expect("upgrade");
    let id = proofline_core::store::new_event_id(at("2026-12-09T18:00:00Z"));
    let event = store
        .append_local(
            id,
            s.site,
            maria(),
            at("2026-12-09T18:00:00Z"),
            EventPayload::Acknowledged(Acknowledgement {
                id,
                escalation: EscalationId(Uuid::from_u128(0x78)),
                by: maria(),
                at: at("2026-12-09T18:00:00Z"),
            }),
        )
        .expect("append");
    assert_eq!(event.seq, 4);
    assert_eq!(event.prev_hash, s.local[2].hash);
    assert!(store.verify_chain().expect("verify").is_intact());
}

#[test]
fn a_database_from_a_newer_build_is_refused_untouched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(DB_FILE);
    {
        let mut conn = Connection::open(&path).expect("open");
        migrate_to(&mut conn, LATEST_VERSION).expect("migrate");
        conn.pragma_update(None, "user_version", LATEST_VERSION + 1)
            .expect("bump");
    }
    match Store::open(&path) {
        Err(StoreError::SchemaTooNew { found, latest }) => {
            assert_eq!((found, latest), (LATEST_VERSION + 1, LATEST_VERSION));
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    let conn = Connection::open(&path).expect("open");
    assert_eq!(version(&conn).expect("version"), LATEST_VERSION + 1);
}
