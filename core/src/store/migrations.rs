//! The schema as numbered migrations, applied in order by `PRAGMA user_version`, each in
//! one transaction. A migration that has shipped is never edited: a change is a new one at
//! the end of [`MIGRATIONS`], and `tests/store_migrations.rs` builds every historic
//! version with data and upgrades it to the latest.

use rusqlite::{Connection, TransactionBehavior};

use crate::store::StoreError;

/// One schema step: the SQL that takes `user_version` from `version - 1` to `version`.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The version it produces (1-based, consecutive).
    pub version: u32,
    /// What it does, for humans.
    pub summary: &'static str,
    /// The statements, run as one batch inside the migration's transaction.
    pub sql: &'static str,
}

/// Every migration, oldest first. Append only.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        summary: "base schema: device identity, event log, outbox, blob index, sync cursors",
        sql: V1,
    },
    Migration {
        version: 2,
        summary: "routine, due and acted_at columns (backfilled) so queries read only a window",
        sql: V2,
    },
    Migration {
        version: 3,
        summary: "sync: the enrolled server and its last sync, clock skew per event, the photos \
                  each completion references (backfilled)",
        sql: V3,
    },
    Migration {
        version: 4,
        summary: "leaner event indexes for pulling a site's history: definitions and \
                  acknowledgements indexed apart (partial), occurrences by an id prefix",
        sql: V4,
    },
    Migration {
        version: 5,
        summary: "escalation levels the server fired, indexed by time (partial), so the \
                  attention feed's confirmed marks read days, not the whole log",
        sql: V5,
    },
];

/// The newest schema version this build knows.
pub const LATEST_VERSION: u32 = MIGRATIONS.len() as u32;

const V1: &str = "
CREATE TABLE device_identity (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    device      TEXT NOT NULL,
    person      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE TABLE device_sites (
    site        TEXT PRIMARY KEY
);
-- The append-only log. `pos` is the local arrival order; (device, seq) the chain position.
CREATE TABLE events (
    pos         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    origin      TEXT NOT NULL CHECK (origin IN ('local', 'import', 'remote')),
    device      TEXT NOT NULL,
    seq         INTEGER NOT NULL CHECK (seq >= 1),
    site        TEXT NOT NULL,
    author      TEXT NOT NULL,
    device_time TEXT NOT NULL,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    occurrence  TEXT,
    UNIQUE (device, seq)
);
CREATE INDEX events_occurrence ON events (occurrence) WHERE occurrence IS NOT NULL;
CREATE INDEX events_kind ON events (kind, pos);
-- Sync state of each local event; rejected ones stay, with the server's reason.
CREATE TABLE outbox (
    event       TEXT PRIMARY KEY REFERENCES events (id),
    state       TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'duplicate', 'rejected')),
    reason      TEXT,
    changed_at  TEXT NOT NULL
);
CREATE INDEX outbox_state ON outbox (state);
-- Content-addressed photo proof and thumbnails (the bytes live in the blob directory).
CREATE TABLE blobs (
    sha256      TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('photo', 'thumbnail')),
    bytes       INTEGER NOT NULL,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    captured_at TEXT NOT NULL,
    upload      TEXT NOT NULL CHECK (upload IN ('pending', 'uploaded')),
    photo       TEXT
);
CREATE INDEX blobs_upload ON blobs (upload);
-- Pull position per server.
CREATE TABLE sync_cursors (
    server      TEXT PRIMARY KEY,
    cursor      TEXT NOT NULL,
    changed_at  TEXT NOT NULL
);
";

const V2: &str = "
ALTER TABLE events ADD COLUMN routine TEXT;
ALTER TABLE events ADD COLUMN due INTEGER;
ALTER TABLE events ADD COLUMN acted_at INTEGER;
UPDATE events
   SET routine = json_extract(payload, '$.data.routine'),
       due = CAST(strftime('%s', json_extract(payload, '$.data.due')) AS INTEGER)
 WHERE kind IN ('completed', 'excused');
UPDATE events
   SET acted_at = CAST(strftime('%s', json_extract(payload, '$.data.at')) AS INTEGER)
 WHERE kind IN ('completed', 'excused', 'acknowledged');
CREATE INDEX events_due ON events (due) WHERE due IS NOT NULL;
CREATE INDEX events_routine_due ON events (routine, due) WHERE routine IS NOT NULL;
CREATE INDEX events_acted ON events (kind, acted_at) WHERE acted_at IS NOT NULL;
";

const V3: &str = "
-- The sync server this device is enrolled with (at most one), and how its last sync went.
CREATE TABLE sync_server (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    base_url        TEXT NOT NULL,
    token           TEXT NOT NULL,
    enrolled_at     TEXT NOT NULL,
    last_sync_at    TEXT,
    clock_offset_ms INTEGER,
    clock_offset_at TEXT,
    last_error      TEXT,
    last_error_at   TEXT
);
-- How far the writing device's clock was off (server - device, ms) when the event was
-- written (own events) or pushed (as the server reports it), only when beyond the allowed
-- skew: the event's times are suspect.
ALTER TABLE events ADD COLUMN clock_skew_ms INTEGER;
CREATE INDEX events_skewed ON events (kind, pos) WHERE clock_skew_ms IS NOT NULL;
-- The photos each completion references: what the uploader sends, which thumbnails to fetch.
CREATE TABLE event_photos (
    sha256      TEXT NOT NULL,
    event       TEXT NOT NULL REFERENCES events (id),
    PRIMARY KEY (sha256, event)
) WITHOUT ROWID;
CREATE INDEX event_photos_event ON event_photos (event);
INSERT OR IGNORE INTO event_photos (sha256, event)
SELECT p.value, e.id
  FROM events e,
       json_each(e.payload, '$.data.results') r,
       json_each(r.value, '$.answer.sha256') p
 WHERE e.kind = 'completed'
   AND json_extract(r.value, '$.answer.kind') = 'photos'
   AND p.type = 'text';
CREATE INDEX blobs_photo ON blobs (photo) WHERE photo IS NOT NULL;
";

// Every event costs one entry in each index it matches, and a fresh device stores its
// sites' whole history (tens of thousands of completions) as it enrols; the reads need:
// - definitions in arrival order (`definitions()`): only they lack `acted_at`, so a
//   partial index of them replaces `events_kind`, which listed every completion;
// - acknowledgements by time (`history`, `acks_from`): partial, replacing `events_acted`,
//   which listed every completion and excuse by time and was read only for
//   acknowledgements;
// - the completions and excuses of an occurrence (`occurrence_due`): occurrence ids are
//   random (UUIDv5), so each new completion lands on a random page of the index; indexing
//   the first 8 hex digits (32 bits, the query then compares the full id) makes the index
//   about a third the size, and a page of pulled events dirties a third of the pages.
// `events_due`, `events_routine_due` (windowed history), `events_skewed` (partial, few
// rows) and the unique `id` and `(device, seq)` stay.
const V4: &str = "
DROP INDEX events_kind;
DROP INDEX events_acted;
DROP INDEX events_occurrence;
CREATE INDEX events_definitions ON events (pos) WHERE acted_at IS NULL;
CREATE INDEX events_acks ON events (acted_at) WHERE kind = 'acknowledged';
CREATE INDEX events_occurrence_prefix ON events (substr(occurrence, 1, 8))
    WHERE occurrence IS NOT NULL;
";

// Version 4 dropped `events_acted`, which `fired_escalations` (added with escalations)
// needed: without it the attention feed scanned every stored event for the few
// `escalation_fired` ones (55 ms on two years of a busy site instead of under 1 ms).
const V5: &str = "
CREATE INDEX events_fired ON events (acted_at) WHERE kind = 'escalation_fired';
";

/// The database's schema version (`PRAGMA user_version`).
pub fn version(conn: &Connection) -> Result<u32, StoreError> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    Ok(u32::try_from(v).unwrap_or(0))
}

/// Applies every migration after the current version up to `target` (at most
/// [`LATEST_VERSION`]), each in its own immediate transaction that also sets
/// `user_version`, so a crash leaves the database at a whole version. Returns the version
/// reached.
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<u32, StoreError> {
    let current = version(conn)?;
    if current > LATEST_VERSION {
        return Err(StoreError::SchemaTooNew {
            found: current,
            latest: LATEST_VERSION,
        });
    }
    for migration in MIGRATIONS
        .iter()
        .filter(|m| m.version > current && m.version <= target)
    {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another connection may have migrated while we waited for the lock.
        if version(&tx)? >= migration.version {
            continue;
        }
        tx.execute_batch(migration.sql)?;
        tx.pragma_update(None, "user_version", migration.version)?;
        tx.commit()?;
    }
    version(conn)
}

/// Applies every migration up to [`LATEST_VERSION`].
pub fn migrate(conn: &mut Connection) -> Result<u32, StoreError> {
    migrate_to(conn, LATEST_VERSION)
}
