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
