//! The server database schema as numbered migrations, applied in order by
//! `PRAGMA user_version`. A shipped migration is never edited; a change is a new one.

use rusqlite::Connection;

use super::StorageError;

/// Every migration, in order: `MIGRATIONS[n]` takes the schema from version `n` to `n + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: events, rulings, devices, enrollment codes, blobs, the server's own chain.
    "
    CREATE TABLE events (
        server_seq    INTEGER PRIMARY KEY,
        id            TEXT NOT NULL UNIQUE,
        site          TEXT NOT NULL,
        device        TEXT NOT NULL,
        seq           INTEGER NOT NULL,
        author        TEXT NOT NULL,
        kind          TEXT NOT NULL,
        event         TEXT NOT NULL,
        received_at   TEXT NOT NULL,
        clock_skew_ms INTEGER
    );
    CREATE INDEX events_by_site ON events (site, server_seq);
    CREATE INDEX events_definitions ON events (server_seq)
        WHERE kind IN ('org_named', 'site_defined', 'person_defined', 'routine_defined',
                       'absence_recorded');

    CREATE TABLE rulings (
        device     TEXT NOT NULL,
        seq        INTEGER NOT NULL,
        id         TEXT NOT NULL,
        hash       TEXT NOT NULL,
        outcome    TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected')),
        code       TEXT,
        reason     TEXT,
        server_seq INTEGER,
        ruled_at   TEXT NOT NULL,
        PRIMARY KEY (device, seq)
    ) WITHOUT ROWID;
    CREATE INDEX rulings_rejected ON rulings (ruled_at) WHERE outcome = 'rejected';

    CREATE TABLE devices (
        id              TEXT PRIMARY KEY,
        person          TEXT NOT NULL,
        token_sha256    TEXT NOT NULL UNIQUE,
        name            TEXT,
        platform        TEXT,
        created_at      TEXT NOT NULL,
        last_seen       TEXT,
        clock_offset_ms INTEGER,
        revoked_at      TEXT
    );

    CREATE TABLE enrollment_codes (
        code_sha256 TEXT PRIMARY KEY,
        person      TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        expires_at  TEXT NOT NULL,
        used_at     TEXT,
        device      TEXT
    );

    CREATE TABLE blobs (
        sha256      TEXT PRIMARY KEY,
        bytes       INTEGER NOT NULL,
        kind        TEXT NOT NULL CHECK (kind IN ('photo', 'thumbnail')),
        photo       TEXT,
        width       INTEGER,
        height      INTEGER,
        captured_at TEXT,
        uploaded_at TEXT NOT NULL
    );
    CREATE INDEX blobs_by_photo ON blobs (photo) WHERE photo IS NOT NULL;

    CREATE TABLE blob_sites (
        sha256 TEXT NOT NULL,
        site   TEXT NOT NULL,
        PRIMARY KEY (sha256, site)
    ) WITHOUT ROWID;

    CREATE TABLE server_chain (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        device     TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    ",
    // 2: the definitions index without an IN list. SQLite evaluates a partial index's
    // WHERE for every row inserted, and an IN list of constants there builds its lookup
    // table afresh each time (a temporary b-tree opened and closed per event stored);
    // the same test written with OR costs a few comparisons.
    "
    DROP INDEX events_definitions;
    CREATE INDEX events_definitions ON events (server_seq)
        WHERE kind = 'org_named' OR kind = 'site_defined' OR kind = 'person_defined'
           OR kind = 'routine_defined' OR kind = 'absence_recorded';
    ",
    // 3: push tokens and the notification outbox of the escalation dispatcher
    // (storage/notifications.rs).
    "
    CREATE TABLE push_tokens (
        platform      TEXT NOT NULL CHECK (platform IN ('apns', 'fcm')),
        token         TEXT NOT NULL,
        device        TEXT NOT NULL,
        person        TEXT NOT NULL,
        registered_at TEXT NOT NULL,
        PRIMARY KEY (platform, token)
    ) WITHOUT ROWID;
    CREATE INDEX push_tokens_by_person ON push_tokens (person);

    CREATE TABLE notifications (
        notice          TEXT NOT NULL,
        target          TEXT NOT NULL,
        body            TEXT NOT NULL,
        state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'dead')),
        attempts        INTEGER NOT NULL,
        next_attempt_at TEXT NOT NULL,
        last_error      TEXT,
        queued_at       TEXT NOT NULL,
        sent_at         TEXT,
        PRIMARY KEY (notice, target)
    ) WITHOUT ROWID;
    CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE state = 'pending';
    CREATE INDEX notifications_by_state ON notifications (state, queued_at);
    ",
    // 4: an accepted event is its own ruling. Until now every accepted event was written
    // twice, as its `events` row and as an `accepted` row in `rulings` (device, seq, id,
    // hash, server_seq, time): about a third of a push's writes. Its chain position is now
    // found by this index on the event row itself (UNIQUE: it takes over the guard the
    // rulings' primary key gave, one event per seq of a chain), its hash read from the
    // stored JSON, and `rulings` keeps rejections only. The accepted rows go only where the
    // event row says the same (id and hash); one that does not stays and is still read.
    "
    CREATE UNIQUE INDEX events_by_device_seq ON events (device, seq);
    DELETE FROM rulings
     WHERE outcome = 'accepted'
       AND EXISTS (SELECT 1 FROM events e
                    WHERE e.device = rulings.device AND e.seq = rulings.seq
                      AND e.id = rulings.id AND e.server_seq = rulings.server_seq
                      AND json_extract(e.event, '$.hash') = rulings.hash);
    ",
    // 5: the notification outbox as an append-only rowid table. `notifications` was
    // clustered on (notice, target): notice ids are random (UUIDv5) and rows ~700 bytes,
    // so each of a quarter hour's ~28,000 inserts rewrote a random page of a table of
    // hundreds of thousands of rows (the page cache spilled mid-transaction; ~45 µs a
    // row). `outbox` rows are appended in rowid order (a tick fills new pages one after
    // another), the dedup guarantee is a narrow UNIQUE index on the 16-byte notice id and
    // an integer target (the only index written at random places, ~25 bytes an entry),
    // the 160-character push tokens sit once in `outbox_targets`, instants are integer
    // microseconds since the epoch, and the secondary indexes grow at their end (new rows
    // are due now; rowid order is queueing order, so newest first is `id DESC`). Every
    // row is copied over, oldest first, with its state, attempts and times.
    "
    CREATE TABLE outbox_targets (
        id  INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE
    );

    CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY,
        notice          BLOB NOT NULL,
        target          INTEGER NOT NULL REFERENCES outbox_targets (id),
        state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'dead')),
        attempts        INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        queued_at       INTEGER NOT NULL,
        sent_at         INTEGER,
        last_error      TEXT,
        body            TEXT NOT NULL
    );

    INSERT INTO outbox_targets (key) SELECT DISTINCT target FROM notifications ORDER BY target;
    INSERT INTO outbox (notice, target, state, attempts, next_attempt_at, queued_at, sent_at,
                        last_error, body)
    SELECT unhex(n.notice, '-'), t.id, n.state, n.attempts,
           unixepoch(substr(n.next_attempt_at, 1, 19)) * 1000000
               + CAST(substr(n.next_attempt_at, 21, 6) AS INTEGER),
           unixepoch(substr(n.queued_at, 1, 19)) * 1000000
               + CAST(substr(n.queued_at, 21, 6) AS INTEGER),
           unixepoch(substr(n.sent_at, 1, 19)) * 1000000
               + CAST(substr(n.sent_at, 21, 6) AS INTEGER),
           n.last_error, n.body
      FROM notifications n JOIN outbox_targets t ON t.key = n.target
     ORDER BY n.queued_at, n.notice, n.target;
    DROP TABLE notifications;

    CREATE UNIQUE INDEX outbox_key ON outbox (notice, target);
    CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
    CREATE INDEX outbox_by_state ON outbox (state);
    ",
    // 6: the outbox's state check spelled without `IN`. SQLite evaluates `state IN
    // ('pending', 'sent', 'dead')` by building a temporary table of the three values on
    // every row written: half the cost of each of a quarter hour's ~28,000 inserts. The
    // same check as three comparisons builds none. A CHECK cannot be altered in place,
    // so the table is copied over in rowid order, ids, rows and indexes as they were.
    "
    CREATE TABLE outbox_v6 (
        id              INTEGER PRIMARY KEY,
        notice          BLOB NOT NULL,
        target          INTEGER NOT NULL REFERENCES outbox_targets (id),
        state           TEXT NOT NULL
                        CHECK (state = 'pending' OR state = 'sent' OR state = 'dead'),
        attempts        INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        queued_at       INTEGER NOT NULL,
        sent_at         INTEGER,
        last_error      TEXT,
        body            TEXT NOT NULL
    );
    INSERT INTO outbox_v6 (id, notice, target, state, attempts, next_attempt_at, queued_at,
                           sent_at, last_error, body)
    SELECT id, notice, target, state, attempts, next_attempt_at, queued_at, sent_at,
           last_error, body
      FROM outbox ORDER BY id;
    DROP TABLE outbox;
    ALTER TABLE outbox_v6 RENAME TO outbox;

    CREATE UNIQUE INDEX outbox_key ON outbox (notice, target);
    CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
    CREATE INDEX outbox_by_state ON outbox (state);
    ",
    // 7: how far each person has been reminded. Re-notification rounds due to one person
    // at one tick go out as one reminder (a digest when there are several), not as a row
    // per check and device; what was told is kept as the due time of the latest round it
    // covered (microseconds since the epoch), so a restart does not tell it again.
    "
    CREATE TABLE reminded (
        person  TEXT PRIMARY KEY,
        through INTEGER NOT NULL
    ) WITHOUT ROWID;
    ",
    // 8: the outbox's key led by the notice's due time (microseconds since the epoch).
    // Notice ids are random (UUIDv5), so every row queued wrote a random page of the
    // (notice, target) index: a busy tick rewrote most of it (~10 MB of WAL a quarter
    // hour in the dispatch bench), and more the longer the outbox grew. A notice's due
    // time is fixed by what it is about (the occurrence's due, the level's and the
    // round's offsets) and a tick's new notices are due about now, so led by it a tick's
    // keys land together at the index's end. The dispatcher keeps (notice, target) unique
    // itself: its key set is read from this table before its first tick. Existing rows
    // get the due time their stored notice names (RFC 3339, 0, 3, 6 or 9 decimals).
    "
    ALTER TABLE outbox ADD COLUMN due_at INTEGER NOT NULL DEFAULT 0;
    UPDATE outbox
       SET due_at = (
           SELECT unixepoch(substr(d, 1, 19)) * 1000000
                  + CASE WHEN substr(d, 20, 1) = '.'
                         THEN CAST(substr(rtrim(substr(d, 21), 'Z') || '000000', 1, 6)
                                   AS INTEGER)
                         ELSE 0 END
             FROM (SELECT json_extract(body, '$.due_at') AS d));
    DROP INDEX outbox_key;
    CREATE UNIQUE INDEX outbox_key ON outbox (due_at, notice, target);
    ",
];

/// The schema version a fully migrated database has.
pub fn latest_version() -> u32 {
    u32::try_from(MIGRATIONS.len()).unwrap_or(u32::MAX)
}

/// Brings the database up to [`latest_version`], one transaction per migration. A
/// database from a newer server is refused rather than guessed at.
pub fn migrate(conn: &mut Connection) -> Result<(), StorageError> {
    let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > latest_version() {
        return Err(StorageError::corrupt(
            "database",
            format!(
                "schema version {current} is newer than this server understands ({}); \
                 run a newer proofline-server",
                latest_version()
            ),
        ));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(
            None,
            "user_version",
            i64::try_from(index + 1).unwrap_or(i64::MAX),
        )?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_historic_version_upgrades_to_the_latest() {
        for start in 0..=MIGRATIONS.len() {
            let mut conn = Connection::open_in_memory().expect("open");
            for (index, sql) in MIGRATIONS.iter().enumerate().take(start) {
                conn.execute_batch(sql).expect("historic migration");
                conn.pragma_update(
                    None,
                    "user_version",
                    i64::try_from(index + 1).expect("small"),
                )
                .expect("version");
            }
            migrate(&mut conn).expect("upgrade");
            let version: u32 = conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .expect("version");
            assert_eq!(version, latest_version());
        }
    }

    #[test]
    fn a_newer_database_is_refused() {
        let mut conn = Connection::open_in_memory().expect("open");
        conn.pragma_update(None, "user_version", latest_version() + 1)
            .expect("version");
        let err = migrate(&mut conn).expect_err("newer schema");
        assert!(err.to_string().contains("newer"), "{err}");
    }
}
