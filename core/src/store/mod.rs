//! The local SQLite store: numbered migrations, the append-only event log with its
//! per-device hash chain, the outbox (sync state of each local event), the blob index of
//! photo proof, sync cursors and the device's identity.
//!
//! Every write is one immediate transaction, committed in WAL mode with
//! `synchronous = FULL`: when a call returns, the event survives a killed process and a
//! power cut. Reads that feed the engines ask for a window (by due time, by routine) so
//! the cost of a call does not grow with years of history; only definitions are read in
//! full (they are few).
//!
//! This module owns the database and nothing else: it never reads a clock (instants are
//! parameters), never decides whether a person may act (the device facade does), and never
//! touches blob bytes (the proof module's blob store does).
//!
//! - [`events`]: [`Event`], [`EventPayload`], the hash formula, [`Origin`];
//! - [`migrations`]: the schema, version by version;
//! - `outbox`, `blobs`, `cursors`: sync state, the blob index, pull positions;
//! - `server`: the sync server a device is enrolled with, and how its last sync went;
//! - `pull`: storing a pulled page and its cursor in one transaction;
//! - `history`: windowed reads of completions, excuses and acknowledgements;
//! - `chain`: [`Store::verify_chain`].
//!
//! A local event the server finally rejected stays in the log and in the outbox (with the
//! server's reason) but is left out of every state read (history, definitions), so the
//! device computes what the server computes.

/// A condition on `events` rows, as SQL text for `concat!`: not a local event the server
/// finally rejected. The rejected ids are listed once per statement (through
/// `outbox_state`; they are few) and each row is checked against that list in memory; a
/// correlated `NOT EXISTS` would probe the outbox's primary key once per row read, which
/// on a device with years of its own events costs more than the read itself.
macro_rules! not_rejected {
    () => {
        "events.id NOT IN (SELECT event FROM outbox
                            WHERE state = 'rejected' AND event IS NOT NULL)"
    };
}

mod blobs;
mod chain;
mod cursors;
mod error;
pub mod events;
mod history;
pub mod migrations;
mod outbox;
#[cfg(test)]
mod plans;
mod pull;
mod server;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use blobs::{BlobKind, BlobRecord, PendingUpload, UploadState, WantedThumbnail};
pub use chain::{BrokenEvent, ChainProblem, ChainReport};
pub use error::StoreError;
pub use events::{
    Event, EventPayload, GENESIS_HASH, Origin, apply_definition, import_chain, new_event_id,
};
pub use history::HistoryWindow;
pub use outbox::{OutboxEntry, OutboxSummary, SyncState};
pub use pull::CheckedPage;
pub use server::SyncServer;

use crate::model::{DeviceId, EventId, Org, PersonId, SiteId};

/// The file name of the database inside a device directory.
pub const DB_FILE: &str = "proofline.db";

/// Who this device is: its id, the person using it and the sites it serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceIdentity {
    /// The device (its hash chain).
    pub device: DeviceId,
    /// The person signed in.
    pub person: PersonId,
    /// The sites it reads and writes (the person's sites when it was set up).
    pub sites: Vec<SiteId>,
    /// When it was set up.
    pub created_at: DateTime<Utc>,
}

/// The local database. One per device directory; see the module documentation.
pub struct Store {
    conn: Connection,
    /// Decoded history payloads by `pos` (see `history`): events never change, so a
    /// payload is decoded once per open store.
    decoded: RefCell<HashMap<i64, EventPayload>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.conn.path())
            .field("decoded", &self.decoded.borrow().len())
            .finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path`, configures it for durability and
    /// applies every pending migration.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        migrations::migrate(&mut conn)?;
        Ok(Store {
            conn,
            decoded: RefCell::new(HashMap::new()),
        })
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        migrations::version(&self.conn)
    }

    /// The raw connection, for audits and tests (e.g. `PRAGMA integrity_check`).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The device's identity, once [`Store::initialise`] has run.
    pub fn identity(&self) -> Result<Option<DeviceIdentity>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT device, person, created_at FROM device_identity WHERE id = 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()?;
        let Some((device, person, created_at)) = row else {
            return Ok(None);
        };
        let mut sites = Vec::new();
        let mut stmt = self
            .conn
            .prepare("SELECT site FROM device_sites ORDER BY rowid")?;
        for site in stmt.query_map([], |r| r.get::<_, String>(0))? {
            sites.push(SiteId(parse_uuid("device site", &site?)?));
        }
        Ok(Some(DeviceIdentity {
            device: DeviceId(parse_uuid("device identity", &device)?),
            person: PersonId(parse_uuid("device identity", &person)?),
            sites,
            created_at: parse_time("device identity", &created_at)?,
        }))
    }

    /// Sets the device up in one transaction: its identity and the imported definitions
    /// (each `(site, payload)` becomes an event of origin [`Origin::Import`], chained under
    /// [`import_chain`], authored by the device's person, at `identity.created_at`).
    /// Returns [`StoreError::AlreadyInitialised`] if the database already has an identity.
    pub fn initialise(
        &mut self,
        identity: &DeviceIdentity,
        definitions: Vec<(SiteId, EventPayload)>,
    ) -> Result<Vec<Event>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        insert_identity(&tx, identity)?;
        let chain = import_chain(identity.device);
        let mut prev = GENESIS_HASH.to_string();
        let mut events = Vec::with_capacity(definitions.len());
        for (seq, (site, payload)) in (1u64..).zip(definitions) {
            let event = Event::seal(
                new_event_id(identity.created_at),
                site,
                identity.person,
                chain,
                seq,
                identity.created_at,
                payload,
                prev,
            )?;
            insert_event(&tx, &event, Origin::Import, None)?;
            prev = event.hash.clone();
            events.push(event);
        }
        tx.commit()?;
        Ok(events)
    }

    /// Sets up a device enrolled with a sync server, in one transaction: its identity (as
    /// the server assigned it) and the server's row (address, the device's token, the
    /// clock offset measured on enrolling). No definitions: they all arrive by pull.
    /// Returns [`StoreError::AlreadyInitialised`] if the database already has an identity.
    pub fn initialise_enrolled(
        &mut self,
        identity: &DeviceIdentity,
        server: &SyncServer,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        insert_identity(&tx, identity)?;
        server::insert_server(&tx, server)?;
        tx.commit()?;
        Ok(())
    }

    /// Appends an event of this device: the next `seq` of its chain, linked to the previous
    /// event's hash, with outbox state pending; one transaction, durable on return.
    /// `id` is the event id (from [`new_event_id`]), which a completion, excuse or
    /// acknowledgement payload also carries.
    pub fn append_local(
        &mut self,
        id: EventId,
        site: SiteId,
        author: PersonId,
        now: DateTime<Utc>,
        payload: EventPayload,
    ) -> Result<Event, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let device: String = tx
            .query_row("SELECT device FROM device_identity WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or(StoreError::NotInitialised)?;
        let device = DeviceId(parse_uuid("device identity", &device)?);
        let last: Option<(i64, String)> = tx
            .prepare_cached(LAST_OF_CHAIN)?
            .query_row(params![device.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (seq, prev) = match last {
            Some((seq, hash)) => (
                u64::try_from(seq)
                    .map_err(|_| StoreError::corrupt("event", format!("seq {seq}")))?
                    + 1,
                hash,
            ),
            None => (1, GENESIS_HASH.to_string()),
        };
        let event = Event::seal(id, site, author, device, seq, now, payload, prev)?;
        let skew = server::skew_beyond_limit(&tx)?;
        insert_event(&tx, &event, Origin::Local, skew)?;
        tx.prepare_cached(
            "INSERT INTO outbox (event, state, reason, changed_at) VALUES (?1, 'pending', NULL, ?2)",
        )?
        .execute(params![event.id.to_string(), timestamp(now)])?;
        tx.commit()?;
        Ok(event)
    }

    /// Stores an event of another device pulled from the server (origin
    /// [`Origin::Remote`]). Idempotent: an event already stored is left alone and `false`
    /// returned. An event whose hash does not match its fields is refused as corrupt.
    pub fn insert_remote(&mut self, event: &Event) -> Result<bool, StoreError> {
        if !event.hash_is_valid() {
            return Err(StoreError::corrupt(
                "pulled event",
                format!(
                    "event {} has a hash that does not match its fields",
                    event.id
                ),
            ));
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let known: Option<i64> = tx
            .query_row(
                "SELECT pos FROM events WHERE id = ?1",
                params![event.id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        if known.is_some() {
            return Ok(false);
        }
        insert_event(&tx, event, Origin::Remote, None)?;
        tx.commit()?;
        Ok(true)
    }

    /// Stores a page of pulled events in one transaction (see [`Store::insert_remote`]);
    /// returns how many were new. Nothing is stored if any event is refused.
    pub fn insert_remote_batch(&mut self, events: &[Event]) -> Result<usize, StoreError> {
        if let Some(bad) = events.iter().find(|e| !e.hash_is_valid()) {
            return Err(StoreError::corrupt(
                "pulled event",
                format!("event {} has a hash that does not match its fields", bad.id),
            ));
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut added = 0;
        for event in events {
            let known: Option<i64> = tx
                .prepare_cached("SELECT pos FROM events WHERE id = ?1")?
                .query_row(params![event.id.to_string()], |r| r.get(0))
                .optional()?;
            if known.is_none() {
                insert_event(&tx, event, Origin::Remote, None)?;
                added += 1;
            }
        }
        tx.commit()?;
        Ok(added)
    }

    /// The org as defined by every definition event, in arrival order (see
    /// [`apply_definition`]), leaving out this device's definitions the server finally
    /// rejected.
    pub fn definitions(&self) -> Result<Org, StoreError> {
        let mut org = Org::default();
        let mut stmt = self.conn.prepare_cached(DEFINITIONS)?;
        for payload in stmt.query_map([], |r| r.get::<_, String>(0))? {
            let payload = decode_payload(&payload?)?;
            apply_definition(&mut org, &payload);
        }
        Ok(org)
    }

    /// Every event of one chain (`device`), in `seq` order.
    pub fn chain_events(&self, device: DeviceId) -> Result<Vec<Event>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE device = ?1 ORDER BY seq"
        ))?;
        let rows = stmt.query_map(params![device.to_string()], raw_event)?;
        let mut events = Vec::new();
        for row in rows {
            events.push(row?.decode()?);
        }
        Ok(events)
    }

    /// The stored event with this id.
    pub fn event(&self, id: EventId) -> Result<Option<Event>, StoreError> {
        let raw = self
            .conn
            .query_row(
                &format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ?1"),
                params![id.to_string()],
                raw_event,
            )
            .optional()?;
        raw.map(|r| r.decode()).transpose()
    }

    /// Number of stored events per origin: (local, import, remote).
    pub fn event_counts(&self) -> Result<(u64, u64, u64), StoreError> {
        let count = |origin: &str| -> Result<u64, StoreError> {
            let n: i64 = self.conn.query_row(
                "SELECT count(*) FROM events WHERE origin = ?1",
                params![origin],
                |r| r.get(0),
            )?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        Ok((count("local")?, count("import")?, count("remote")?))
    }
}

/// Durability and integrity settings applied to every connection.
fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::corrupt(
            "database",
            format!("cannot switch to WAL mode (got {mode})"),
        ));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// The columns an [`Event`] is read from, in [`raw_event`] order.
const EVENT_COLUMNS: &str = "id, site, author, device, seq, device_time, payload, prev_hash, hash, origin, kind, occurrence, routine, due, acted_at";

/// An event row as stored, before decoding.
#[derive(Debug, Clone)]
pub(crate) struct RawEvent {
    id: String,
    site: String,
    author: String,
    device: String,
    seq: i64,
    device_time: String,
    payload: String,
    prev_hash: String,
    hash: String,
    origin: String,
    kind: String,
    occurrence: Option<String>,
    routine: Option<String>,
    due: Option<i64>,
    acted_at: Option<i64>,
}

fn raw_event(r: &Row<'_>) -> rusqlite::Result<RawEvent> {
    Ok(RawEvent {
        id: r.get(0)?,
        site: r.get(1)?,
        author: r.get(2)?,
        device: r.get(3)?,
        seq: r.get(4)?,
        device_time: r.get(5)?,
        payload: r.get(6)?,
        prev_hash: r.get(7)?,
        hash: r.get(8)?,
        origin: r.get(9)?,
        kind: r.get(10)?,
        occurrence: r.get(11)?,
        routine: r.get(12)?,
        due: r.get(13)?,
        acted_at: r.get(14)?,
    })
}

impl RawEvent {
    fn decode(&self) -> Result<Event, StoreError> {
        Ok(Event {
            id: EventId(parse_uuid("event", &self.id)?),
            site: SiteId(parse_uuid("event", &self.site)?),
            author: PersonId(parse_uuid("event", &self.author)?),
            device: DeviceId(parse_uuid("event", &self.device)?),
            seq: u64::try_from(self.seq)
                .map_err(|_| StoreError::corrupt("event", format!("seq {}", self.seq)))?,
            device_time: parse_time("event", &self.device_time)?,
            payload: decode_payload(&self.payload)?,
            prev_hash: self.prev_hash.clone(),
            hash: self.hash.clone(),
        })
    }

    /// Whether the indexed columns say what the payload says (a row whose `due` was edited
    /// would drop out of windowed reads without breaking the hash).
    fn index_matches(&self, event: &Event) -> bool {
        let p = &event.payload;
        Origin::parse(&self.origin).is_some()
            && self.kind == p.kind()
            && self.occurrence == p.occurrence().map(|o| o.to_string())
            && self.routine == p.routine().map(|r| r.to_string())
            && self.due == p.due().map(|d| d.timestamp())
            && self.acted_at == p.acted_at().map(|a| a.timestamp())
    }
}

/// The `seq` and `hash` of the last event of chain `?1` (the unique `(device, seq)`).
const LAST_OF_CHAIN: &str =
    "SELECT seq, hash FROM events WHERE device = ?1 ORDER BY seq DESC LIMIT 1";

/// Every definition in arrival order (read through `events_definitions`: only
/// definitions lack `acted_at`).
const DEFINITIONS: &str = concat!(
    "SELECT payload FROM events
      WHERE acted_at IS NULL
        AND kind IN ('org_named', 'site_defined', 'person_defined',
                     'routine_defined', 'absence_recorded')
        AND ",
    not_rejected!(),
    " ORDER BY pos"
);

/// [`not_rejected!`] as a constant, for `format!`.
pub(crate) const NOT_REJECTED: &str = not_rejected!();

/// Writes the device's identity row and its sites; refuses a second identity.
fn insert_identity(conn: &Connection, identity: &DeviceIdentity) -> Result<(), StoreError> {
    let existing: Option<String> = conn
        .query_row("SELECT device FROM device_identity WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    if existing.is_some() {
        return Err(StoreError::AlreadyInitialised);
    }
    conn.execute(
        "INSERT INTO device_identity (id, device, person, created_at) VALUES (1, ?1, ?2, ?3)",
        params![
            identity.device.to_string(),
            identity.person.to_string(),
            timestamp(identity.created_at)
        ],
    )?;
    for site in &identity.sites {
        conn.execute(
            "INSERT OR IGNORE INTO device_sites (site) VALUES (?1)",
            params![site.to_string()],
        )?;
    }
    Ok(())
}

/// Inserts one event row with its indexed columns (and, for a completion, the photos it
/// references). `clock_skew_ms`: how far the writing device's clock was off, when beyond
/// the allowed skew.
fn insert_event(
    conn: &Connection,
    event: &Event,
    origin: Origin,
    clock_skew_ms: Option<i64>,
) -> Result<(), StoreError> {
    let payload = serde_json::to_string(&event.payload)?;
    let seq = i64::try_from(event.seq)
        .map_err(|_| StoreError::corrupt("event", format!("seq {}", event.seq)))?;
    insert_event_row(
        conn,
        INSERT_EVENT,
        &EventRow {
            event,
            origin,
            seq,
            payload: &payload,
            clock_skew_ms,
        },
    )?;
    Ok(())
}

/// The statement [`insert_event_row`] runs: an event row, failing on a taken id or chain
/// position.
macro_rules! insert_event_sql {
    () => {
        "INSERT INTO events (id, origin, device, seq, site, author, device_time, kind, payload,
                             prev_hash, hash, occurrence, routine, due, acted_at, clock_skew_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
    };
}

/// Inserts an event row; an error if its id or `(device, seq)` is taken.
pub(crate) const INSERT_EVENT: &str = insert_event_sql!();
/// Inserts an event row unless its id or `(device, seq)` is taken (then nothing is written
/// and the statement reports no change). Only uniqueness is waived: a row breaking a
/// `CHECK` or `NOT NULL` is still an error.
pub(crate) const INSERT_EVENT_IF_NEW: &str =
    concat!(insert_event_sql!(), " ON CONFLICT DO NOTHING");

/// An event and what its row stores besides: the payload's JSON exactly as
/// `serde_json::to_string(&event.payload)` writes it (the bytes the hash covers).
pub(crate) struct EventRow<'a> {
    pub(crate) event: &'a Event,
    pub(crate) origin: Origin,
    /// `event.seq`, checked to fit the column.
    pub(crate) seq: i64,
    pub(crate) payload: &'a str,
    pub(crate) clock_skew_ms: Option<i64>,
}

/// Runs `sql` ([`INSERT_EVENT`] or [`INSERT_EVENT_IF_NEW`], cached) for `row`, then, when
/// a row was written, records the photos a completion references. Returns the rows
/// written (0 or 1).
pub(crate) fn insert_event_row(
    conn: &Connection,
    sql: &str,
    row: &EventRow<'_>,
) -> Result<usize, StoreError> {
    let event = row.event;
    let p = &event.payload;
    let mut id_buf = Uuid::encode_buffer();
    let id: &str = event.id.0.hyphenated().encode_lower(&mut id_buf);
    let mut device_buf = Uuid::encode_buffer();
    let mut site_buf = Uuid::encode_buffer();
    let mut author_buf = Uuid::encode_buffer();
    let mut occurrence_buf = Uuid::encode_buffer();
    let mut routine_buf = Uuid::encode_buffer();
    let occurrence: Option<&str> = match p.occurrence() {
        Some(o) => Some(o.0.hyphenated().encode_lower(&mut occurrence_buf)),
        None => None,
    };
    let routine: Option<&str> = match p.routine() {
        Some(r) => Some(r.0.hyphenated().encode_lower(&mut routine_buf)),
        None => None,
    };
    let written = conn.prepare_cached(sql)?.execute(params![
        id,
        row.origin.as_str(),
        &*event.device.0.hyphenated().encode_lower(&mut device_buf),
        row.seq,
        &*event.site.0.hyphenated().encode_lower(&mut site_buf),
        &*event.author.0.hyphenated().encode_lower(&mut author_buf),
        timestamp(event.device_time),
        p.kind(),
        row.payload,
        event.prev_hash,
        event.hash,
        occurrence,
        routine,
        p.due().map(|d| d.timestamp()),
        p.acted_at().map(|a| a.timestamp()),
        row.clock_skew_ms,
    ])?;
    if written == 0 {
        return Ok(0);
    }
    if let EventPayload::Completed(completion) = p {
        let photos = completion.results.iter().flat_map(|r| match &r.answer {
            crate::model::StepAnswer::Photos { sha256 } => sha256.as_slice(),
            _ => &[],
        });
        for sha in photos {
            conn.prepare_cached(
                "INSERT OR IGNORE INTO event_photos (sha256, event) VALUES (?1, ?2)",
            )?
            .execute(params![sha, id])?;
        }
    }
    Ok(written)
}

/// An instant as stored in TEXT columns: RFC 3339, UTC, `Z`, fraction only when non-zero.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub(crate) fn parse_time(what: &'static str, text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::corrupt(what, format!("bad instant {text:?}: {e}")))
}

pub(crate) fn parse_uuid(what: &'static str, text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|e| StoreError::corrupt(what, format!("bad id {text:?}: {e}")))
}

pub(crate) fn decode_payload(text: &str) -> Result<EventPayload, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::corrupt("event", e))
}
