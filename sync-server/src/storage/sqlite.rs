//! The SQLite [`Storage`]: `server.db` in WAL mode with `synchronous=FULL`, one writer
//! connection behind a mutex (SQLite has one writer anyway) and a small pool of read
//! connections, so pulls and admin reads never wait for a push to commit. WAL checkpoints
//! run on a background thread of their own, so a push's commit never waits for one.
//!
//! Group commits of pushes are pipelined: a group commits with `synchronous=NORMAL` (its
//! frames are in the WAL, not yet fsynced) and [`Storage::sync_commits`] fsyncs the WAL on
//! the push writer's sync thread while the next group is being recorded. Until that fsync
//! the group is unsynced: [`Storage::pull`] serves nothing from it (see [`Unsynced`]), and
//! the pushes are not answered. A killed process loses nothing either way (the frames are
//! in the OS's cache); what the fsync guards against is a power cut.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use proofline_core::model::{DeviceId, EventId, History, PersonId, SiteId};
use proofline_core::store::{BlobKind, Event, EventPayload, GENESIS_HASH};
use proofline_core::sync::protocol::{PushOutcome, RejectCode};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior, params};
use uuid::Uuid;

use super::{
    ChainHead, DeviceRecord, EnrollmentCode, EventIds, IngestBatch, IngestGroup, Known, OwnEvents,
    PriorRuling, PullPage, QueuedAndIngested, RecordedOutcome, Redeemed, RejectedRuling, Ruler,
    Ruling, Storage, StorageError, StoredBlob, StoredEvent, migrations,
};
use crate::storage::notifications::{QueuedNotification, Reminded};

mod notifications;

/// File name of the database in the data dir.
pub const DATABASE_FILE: &str = "server.db";
/// Read connections kept open between requests.
const MAX_IDLE_READERS: usize = 8;
/// How often the background thread checkpoints the WAL into the database. Often, so each
/// checkpoint has little to copy: its fsync of the database competes with the commits'
/// fsyncs of the WAL, and a long one shows as a pause in every push waiting to commit.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);
/// WAL pages after which a commit checkpoints by itself: only a backstop in case the
/// background thread is gone (SQLite's default is 1000). Once reached, every commit
/// pays for a checkpoint, which is why the background thread restarts the WAL well
/// before it ([`RESTART_AFTER_FRAMES`]).
const AUTOCHECKPOINT_PAGES: i64 = 100_000;
/// WAL frames after which the writer lets the log start over. Under a steady stream of
/// commits the background's passive checkpoints keep up, but the log never starts over
/// (a write begins at the start of the file only when every frame is already copied into
/// the database), so it would grow without end. Past this length the writer, between two
/// groups, copies the few frames the last background checkpoint left (see
/// [`SqliteStorage::let_wal_restart`]): a pause of one database fsync, once per 64 MiB of
/// log (about 50,000 pushed events). A `RESTART` checkpoint from the background thread
/// instead held the writer up for up to 350 ms.
const RESTART_AFTER_FRAMES: i64 = 16_384;
/// Least time between two such catch-ups (a reader holding an old snapshot can keep the
/// log from starting over; then the writer tries again later, not every group).
const RESTART_RETRY: Duration = Duration::from_secs(1);
/// The writer connection's page cache, in KiB (SQLite's default is 2,000). A quarter
/// hour's outbox write (~28,000 rows) dirties tens of MB: the appended pages, and most
/// leaves of the (notice, target) index, which takes random ids. A cache smaller than that
/// spills mid-transaction (a page written to the log, dirtied again, written again) and
/// reads the index back from the file at every tick; this one holds such a write whole and
/// keeps the index warm between ticks. The cost is memory: up to 64 MiB stays allocated to
/// the writer once a big write has filled it (each read connection keeps the default).
const WRITER_CACHE_KIB: i64 = 65_536;

/// The server's SQLite database.
#[derive(Debug)]
pub struct SqliteStorage {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    unsynced: Mutex<Unsynced>,
    /// The log's length in frames at the last checkpoint.
    wal_frames: Arc<AtomicI64>,
    /// When the writer last let the log start over ([`SqliteStorage::let_wal_restart`]).
    wal_restart_tried: Mutex<Option<Instant>>,
    _checkpoints: Checkpointer,
}

/// Group commits whose WAL frames may not be on disk yet, oldest first. Pulls serve no
/// event at or after the oldest one's first `server_seq`.
#[derive(Debug, Default)]
struct Unsynced {
    groups: VecDeque<UnsyncedGroup>,
    /// Numbers the next group.
    next: u64,
    /// The data dir has been fsynced once (so the WAL file's own entry is durable).
    dir_synced: bool,
}

#[derive(Debug)]
struct UnsyncedGroup {
    number: u64,
    /// The first `server_seq` the group may have used.
    first_seq: u64,
    /// Registered before its commit (so no pull can see it unbounded), marked committed
    /// after: only committed groups are covered by a sync.
    committed: bool,
}

impl Unsynced {
    /// The first `server_seq` a pull must not serve yet, if any.
    fn pull_bound(&self) -> Option<u64> {
        self.groups.front().map(|g| g.first_seq)
    }
}

/// Checkpoints the WAL (passively: never blocking the writer or readers) once a second
/// until dropped.
#[derive(Debug)]
struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// A passive checkpoint on `conn`: (frames in the log, whether all were copied).
fn checkpoint(conn: &Connection) -> rusqlite::Result<(i64, bool)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        let (busy, log, copied): (i64, i64, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
        Ok((log, busy == 0 && copied == log))
    })
}

impl Checkpointer {
    /// Checkpoints every [`CHECKPOINT_EVERY`], telling `wal_frames` how long the log is.
    fn start(path: &Path, wal_frames: Arc<AtomicI64>) -> Result<Checkpointer, StorageError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("proofline-checkpoint".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
                    match checkpoint(&conn) {
                        Ok((frames, _)) => wal_frames.store(frames, Ordering::Relaxed),
                        Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; will retry"),
                    }
                }
            })
            .map_err(|source| StorageError::Io {
                what: "starting the checkpoint thread".into(),
                source,
            })?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl SqliteStorage {
    /// Reads a page of at most `limit` events after `after` that are durable: `page` gets
    /// the read transaction, `after`, the bound below which events are synced (a group
    /// registered after the bound was read committed after the snapshot, so this read
    /// cannot see it) and how many rows to fetch (`limit + 1`, to tell whether there are
    /// more).
    fn read_durable(
        &self,
        after: u64,
        limit: usize,
        page: impl FnOnce(&rusqlite::Transaction<'_>, i64, i64, i64) -> Result<PullPage, StorageError>,
    ) -> Result<PullPage, StorageError> {
        if limit == 0 {
            return Ok(PullPage::default());
        }
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
        self.read(|conn| {
            // The read snapshot first, then the bound.
            let tx = conn.unchecked_transaction()?;
            tx.query_row(
                "SELECT COUNT(*) FROM (SELECT 1 FROM events LIMIT 1)",
                [],
                |_| Ok(()),
            )?;
            let before = self
                .unsynced()
                .pull_bound()
                .map_or(i64::MAX, |seq| i64::try_from(seq).unwrap_or(i64::MAX));
            page(&tx, after, before, fetch)
        })
    }

    /// Opens (creating and migrating as needed) `server.db` in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<SqliteStorage, StorageError> {
        let path = data_dir.join(DATABASE_FILE);
        let mut writer = Connection::open(&path)?;
        configure(&writer)?;
        migrations::migrate(&mut writer)?;
        let wal_frames = Arc::new(AtomicI64::new(0));
        let checkpoints = Checkpointer::start(&path, Arc::clone(&wal_frames))?;
        Ok(SqliteStorage {
            path,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            unsynced: Mutex::new(Unsynced::default()),
            wal_frames,
            wal_restart_tried: Mutex::new(None),
            _checkpoints: checkpoints,
        })
    }

    /// When the log has grown past [`RESTART_AFTER_FRAMES`], checkpoints it on the writer
    /// connection between two writes, so that (no other writer being able to add frames
    /// meanwhile) every frame is copied and the next write starts the log over.
    fn let_wal_restart(&self, conn: &Connection) {
        if self.wal_frames.load(Ordering::Relaxed) < RESTART_AFTER_FRAMES {
            return;
        }
        let mut tried = self
            .wal_restart_tried
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if tried.is_some_and(|at| at.elapsed() < RESTART_RETRY) {
            return;
        }
        *tried = Some(Instant::now());
        match checkpoint(conn) {
            Ok((_, true)) => self.wal_frames.store(0, Ordering::Relaxed),
            Ok((frames, false)) => {
                tracing::debug!(frames, "a reader holds the WAL; it starts over later");
            }
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; will retry"),
        }
    }

    fn unsynced(&self) -> MutexGuard<'_, Unsynced> {
        self.unsynced.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records `group` in one transaction committed with `synchronous=NORMAL`, registered
    /// as unsynced before it can be seen.
    fn ingest_group_deferred(
        &self,
        conn: &mut Connection,
        record: &mut dyn FnMut(&mut dyn IngestGroup) -> bool,
    ) -> Result<bool, StorageError> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let last: i64 =
            tx.query_row("SELECT COALESCE(MAX(server_seq), 0) FROM events", [], |r| {
                r.get(0)
            })?;
        let number = {
            let mut unsynced = self.unsynced();
            let number = unsynced.next;
            unsynced.next += 1;
            unsynced.groups.push_back(UnsyncedGroup {
                number,
                first_seq: to_u64("server_seq", last)?.saturating_add(1),
                committed: false,
            });
            number
        };
        let commit = {
            let mut group = SqliteGroup {
                conn: &tx,
                statements: WriteStatements::prepare(&tx)?,
                failed: false,
            };
            record(&mut group) && !group.failed
        };
        let result = if commit {
            tx.commit().map(|()| true)
        } else {
            tx.rollback().map(|()| false)
        };
        let mut unsynced = self.unsynced();
        match result {
            Ok(true) => {
                if let Some(g) = unsynced.groups.iter_mut().find(|g| g.number == number) {
                    g.committed = true;
                }
            }
            // Rolled back (or failed to commit: SQLite rolled it back): nothing to sync.
            _ => unsynced.groups.retain(|g| g.number != number),
        }
        Ok(result?)
    }

    fn writer(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock rolled its transaction back when the transaction
        // was dropped; the connection itself is fine to keep using.
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on a read connection from the pool.
    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let pooled = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => {
                let conn = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                conn.busy_timeout(Duration::from_secs(5))?;
                conn
            }
        };
        let result = f(&conn);
        let mut pool = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < MAX_IDLE_READERS {
            pool.push(conn);
        }
        result
    }
}

/// Durability and cache settings of the writer connection.
fn configure(conn: &Connection) -> Result<(), StorageError> {
    conn.busy_timeout(Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StorageError::corrupt(
            "database",
            format!("cannot switch to WAL mode (got {mode})"),
        ));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "wal_autocheckpoint", AUTOCHECKPOINT_PAGES)?;
    // Negative: a size in KiB rather than in pages.
    conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

impl Storage for SqliteStorage {
    fn ingest(
        &self,
        batch: IngestBatch<'_>,
        ruler: &mut dyn Ruler,
    ) -> Result<Vec<PushOutcome>, StorageError> {
        let mut conn = self.writer();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let outcomes = ingest_in(&tx, &mut WriteStatements::prepare(&tx)?, batch, ruler)?;
        tx.commit()?;
        Ok(outcomes)
    }

    fn enqueue_and_ingest(
        &self,
        rows: &[QueuedNotification],
        reminded: &[Reminded],
        own: Option<OwnEvents<'_>>,
        ruler: &mut dyn Ruler,
    ) -> Result<QueuedAndIngested, StorageError> {
        if rows.is_empty() && reminded.is_empty() && own.is_none() {
            return Ok(QueuedAndIngested::default());
        }
        let mut conn = self.writer();
        // As `enqueue`: a long log starts over before a large write.
        self.let_wal_restart(&conn);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut written = QueuedAndIngested {
            queued: notifications::enqueue_in(&tx, rows)?,
            ..QueuedAndIngested::default()
        };
        notifications::remind_in(&tx, reminded)?;
        if let Some(own) = own {
            written.events = (own.sealed)()?;
            let batch = IngestBatch::own(own.device, &written.events, own.now);
            written.outcomes = ingest_in(&tx, &mut WriteStatements::prepare(&tx)?, batch, ruler)?;
        }
        tx.commit()?;
        Ok(written)
    }

    fn ingest_group(
        &self,
        record: &mut dyn FnMut(&mut dyn IngestGroup) -> bool,
    ) -> Result<bool, StorageError> {
        let mut conn = self.writer();
        self.let_wal_restart(&conn);
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let result = self.ingest_group_deferred(&mut conn, record);
        // Every other write on this connection stays durable at its commit.
        conn.pragma_update(None, "synchronous", "FULL")?;
        result
    }

    fn sync_commits(&self) -> Result<(), StorageError> {
        let (covered, sync_dir) = {
            let unsynced = self.unsynced();
            let covered: Vec<u64> = unsynced
                .groups
                .iter()
                .filter(|g| g.committed)
                .map(|g| g.number)
                .collect();
            (covered, !unsynced.dir_synced)
        };
        if covered.is_empty() {
            return Ok(());
        }
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        let io = |e: std::io::Error| StorageError::Io {
            what: "syncing the database's write-ahead log".into(),
            source: e,
        };
        match std::fs::File::open(&wal) {
            Ok(file) => file.sync_data().map_err(io)?,
            // No WAL: everything was checkpointed into the database (and synced there).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        if sync_dir && let Some(dir) = self.path.parent() {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io)?;
        }
        let mut unsynced = self.unsynced();
        unsynced.dir_synced = true;
        unsynced.groups.retain(|g| !covered.contains(&g.number));
        Ok(())
    }

    fn chain_head(&self, device: DeviceId) -> Result<ChainHead, StorageError> {
        let conn = self.writer();
        chain_head_in(&conn, &device.to_string())
    }

    fn definitions(&self) -> Result<Vec<Event>, StorageError> {
        self.read(|conn| {
            let mut stmt = conn.prepare(DEFINITIONS_QUERY)?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            let mut events = Vec::new();
            for row in rows {
                events.push(decode_event(&row?)?);
            }
            Ok(events)
        })
    }

    fn pull(
        &self,
        sites: &[SiteId],
        exclude: DeviceId,
        after: u64,
        limit: usize,
        visit: &mut dyn FnMut(StoredEvent<'_>),
    ) -> Result<PullPage, StorageError> {
        if sites.is_empty() {
            return Ok(PullPage::default());
        }
        self.read_durable(after, limit, |tx, after, before, fetch| {
            let marks: Vec<String> = (5..5 + sites.len()).map(|n| format!("?{n}")).collect();
            let marks = marks.join(", ");
            let sql = format!(
                "SELECT server_seq, event, received_at, clock_skew_ms FROM events
                  WHERE server_seq > ?1 AND server_seq < ?4 AND device != ?2
                    AND site IN ({marks})
                  ORDER BY server_seq LIMIT ?3"
            );
            let mut stmt = tx.prepare_cached(&sql)?;
            let mut values: Vec<rusqlite::types::Value> = vec![
                after.into(),
                exclude.to_string().into(),
                fetch.into(),
                before.into(),
            ];
            values.extend(sites.iter().map(|s| s.to_string().into()));
            let rows = stmt.query(rusqlite::params_from_iter(values))?;
            read_page(rows, limit, visit)
        })
    }

    fn pull_everything(
        &self,
        after: u64,
        limit: usize,
        visit: &mut dyn FnMut(StoredEvent<'_>),
    ) -> Result<PullPage, StorageError> {
        self.read_durable(after, limit, |tx, after, before, fetch| {
            let mut stmt = tx.prepare_cached(
                "SELECT server_seq, event, received_at, clock_skew_ms FROM events
                  WHERE server_seq > ?1 AND server_seq < ?2
                  ORDER BY server_seq LIMIT ?3",
            )?;
            let rows = stmt.query(params![after, before, fetch])?;
            read_page(rows, limit, visit)
        })
    }

    fn history(&self, sites: Option<&[SiteId]>) -> Result<History, StorageError> {
        self.read(|conn| {
            let mut sql = String::from(
                "SELECT event FROM events WHERE kind IN ('completed', 'excused', 'acknowledged')",
            );
            let mut values: Vec<rusqlite::types::Value> = Vec::new();
            if let Some(sites) = sites {
                if sites.is_empty() {
                    return Ok(History::default());
                }
                sql.push_str(&format!(
                    " AND site IN ({})",
                    vec!["?"; sites.len()].join(", ")
                ));
                values.extend(sites.iter().map(|s| s.to_string().into()));
            }
            sql.push_str(" ORDER BY server_seq");
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(values), |r| {
                r.get::<_, String>(0)
            })?;
            let mut history = History::default();
            for row in rows {
                match decode_event(&row?)?.payload {
                    EventPayload::Completed(c) => history.completions.push(c),
                    EventPayload::Excused(e) => history.excuses.push(e),
                    EventPayload::Acknowledged(a) => history.acknowledgements.push(a),
                    _ => {}
                }
            }
            Ok(history)
        })
    }

    fn rejected(&self) -> Result<Vec<RejectedRuling>, StorageError> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT id, device, seq, code, reason, ruled_at FROM rulings
                  WHERE outcome = 'rejected' ORDER BY ruled_at, device, seq",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, device, seq, code, reason, at) = row?;
                out.push(RejectedRuling {
                    id: EventId(parse_uuid("ruling", &id)?),
                    device: DeviceId(parse_uuid("ruling", &device)?),
                    seq: to_u64("seq", seq)?,
                    code: parse_code(code.as_deref().unwrap_or_default())?,
                    reason: reason.unwrap_or_default(),
                    at: parse_time("ruling", &at)?,
                });
            }
            Ok(out)
        })
    }

    fn server_device(
        &self,
        candidate: DeviceId,
        now: DateTime<Utc>,
    ) -> Result<DeviceId, StorageError> {
        let mut conn = self.writer();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let stored: Option<String> = tx
            .query_row("SELECT device FROM server_chain WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        let device = match stored {
            Some(text) => DeviceId(parse_uuid("server chain", &text)?),
            None => {
                tx.execute(
                    "INSERT INTO server_chain (id, device, created_at) VALUES (1, ?1, ?2)",
                    params![candidate.to_string(), timestamp(now)],
                )?;
                candidate
            }
        };
        tx.commit()?;
        Ok(device)
    }

    fn add_enrollment_code(&self, code: &EnrollmentCode) -> Result<(), StorageError> {
        let conn = self.writer();
        conn.execute(
            "INSERT INTO enrollment_codes (code_sha256, person, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                code.code_sha256,
                code.person.to_string(),
                timestamp(code.created_at),
                timestamp(code.expires_at)
            ],
        )?;
        Ok(())
    }

    fn redeem_enrollment_code(
        &self,
        code_sha256: &str,
        device: DeviceRecord,
        now: DateTime<Utc>,
    ) -> Result<Redeemed, StorageError> {
        let mut conn = self.writer();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: Option<(String, String, Option<String>)> = tx
            .query_row(
                "SELECT person, expires_at, used_at FROM enrollment_codes WHERE code_sha256 = ?1",
                params![code_sha256],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((person, expires_at, used_at)) = found else {
            return Ok(Redeemed::Unknown);
        };
        if used_at.is_some() {
            return Ok(Redeemed::Used);
        }
        let expires_at = parse_time("enrollment code", &expires_at)?;
        if expires_at <= now {
            return Ok(Redeemed::Expired(expires_at));
        }
        let device = DeviceRecord {
            person: PersonId(parse_uuid("enrollment code", &person)?),
            ..device
        };
        tx.execute(
            "UPDATE enrollment_codes SET used_at = ?2, device = ?3 WHERE code_sha256 = ?1",
            params![code_sha256, timestamp(now), device.id.to_string()],
        )?;
        tx.execute(
            "INSERT INTO devices (id, person, token_sha256, name, platform, created_at,
                                  last_seen, clock_offset_ms, revoked_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL)",
            params![
                device.id.to_string(),
                device.person.to_string(),
                device.token_sha256,
                device.name,
                device.platform,
                timestamp(device.created_at),
                device.last_seen.map(timestamp),
                device.clock_offset_ms,
            ],
        )?;
        tx.commit()?;
        Ok(Redeemed::Enrolled(device))
    }

    fn devices(&self) -> Result<Vec<DeviceRecord>, StorageError> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT id, person, token_sha256, name, platform, created_at, last_seen,
                        clock_offset_ms, revoked_at
                   FROM devices ORDER BY created_at, id",
            )?;
            let rows = stmt.query_map([], raw_device)?;
            let mut out = Vec::new();
            for row in rows {
                out.push(row?.decode()?);
            }
            Ok(out)
        })
    }

    fn revoke_device(&self, device: DeviceId, now: DateTime<Utc>) -> Result<bool, StorageError> {
        let conn = self.writer();
        let changed = conn.execute(
            "UPDATE devices SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1",
            params![device.to_string(), timestamp(now)],
        )?;
        Ok(changed > 0)
    }

    fn touch_device(&self, device: DeviceId, at: DateTime<Utc>) -> Result<(), StorageError> {
        let conn = self.writer();
        conn.execute(
            "UPDATE devices SET last_seen = ?2 WHERE id = ?1",
            params![device.to_string(), timestamp(at)],
        )?;
        Ok(())
    }

    fn blob(&self, sha256: &str) -> Result<Option<StoredBlob>, StorageError> {
        self.read(|conn| {
            let raw = conn
                .prepare_cached(&format!(
                    "SELECT {BLOB_COLUMNS} FROM blobs WHERE sha256 = ?1"
                ))?
                .query_row(params![sha256], raw_blob)
                .optional()?;
            raw.map(|raw| raw.decode(conn)).transpose()
        })
    }

    fn thumbnail_of(&self, photo_sha256: &str) -> Result<Option<StoredBlob>, StorageError> {
        self.read(|conn| {
            let raw = conn
                .prepare_cached(&format!(
                    "SELECT {BLOB_COLUMNS} FROM blobs
                      WHERE photo = ?1 AND kind = 'thumbnail'
                      ORDER BY uploaded_at LIMIT 1"
                ))?
                .query_row(params![photo_sha256], raw_blob)
                .optional()?;
            raw.map(|raw| raw.decode(conn)).transpose()
        })
    }

    fn put_blob(&self, blob: &StoredBlob) -> Result<bool, StorageError> {
        let mut conn = self.writer();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let added = tx.execute(
            "INSERT OR IGNORE INTO blobs (sha256, bytes, kind, photo, width, height,
                                          captured_at, uploaded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                blob.sha256,
                to_i64("bytes", blob.bytes)?,
                blob.kind.as_str(),
                blob.photo,
                blob.width,
                blob.height,
                blob.captured_at.map(timestamp),
                timestamp(blob.uploaded_at),
            ],
        )?;
        for site in &blob.sites {
            tx.execute(
                "INSERT OR IGNORE INTO blob_sites (sha256, site) VALUES (?1, ?2)",
                params![blob.sha256, site.to_string()],
            )?;
        }
        tx.commit()?;
        Ok(added > 0)
    }

    fn blob_bytes(&self) -> Result<u64, StorageError> {
        self.read(|conn| {
            let total: i64 =
                conn.query_row("SELECT coalesce(sum(bytes), 0) FROM blobs", [], |r| {
                    r.get(0)
                })?;
            to_u64("blob bytes", total)
        })
    }
}

/// The pushes of one group commit, in one transaction, with the statements they use
/// prepared once for the whole group.
struct SqliteGroup<'c> {
    conn: &'c Connection,
    statements: WriteStatements<'c>,
    /// A push failed, perhaps half written: the group must not be committed.
    failed: bool,
}

impl IngestGroup for SqliteGroup<'_> {
    fn ingest(
        &mut self,
        batch: IngestBatch<'_>,
        ruler: &mut dyn Ruler,
    ) -> Result<Vec<PushOutcome>, StorageError> {
        if self.failed {
            return Err(StorageError::GroupFailed);
        }
        let result = ingest_in(self.conn, &mut self.statements, batch, ruler);
        self.failed = result.is_err();
        result
    }
}

/// The statements recording a push uses, held for a whole transaction: taken from the
/// cache once, not once per push. (rusqlite clears a cached statement's bindings when it
/// goes back to the cache, and SQLite recompiles a statement whose plan depended on a
/// binding — the chain head's `ORDER BY … LIMIT 1` does — when its bindings are
/// cleared: once per group rather than once per push.)
struct WriteStatements<'c> {
    head: rusqlite::CachedStatement<'c>,
    at_seq: rusqlite::CachedStatement<'c>,
    id_taken: rusqlite::CachedStatement<'c>,
    insert_event: rusqlite::CachedStatement<'c>,
    /// Rejections only: an accepted event is its `events` row.
    insert_ruling: rusqlite::CachedStatement<'c>,
    touch_device: rusqlite::CachedStatement<'c>,
}

impl<'c> WriteStatements<'c> {
    fn prepare(conn: &'c Connection) -> Result<WriteStatements<'c>, StorageError> {
        Ok(WriteStatements {
            head: conn.prepare_cached(CHAIN_HEAD_QUERY)?,
            at_seq: conn.prepare_cached(AT_SEQ_QUERY)?,
            id_taken: conn.prepare_cached("SELECT 1 FROM events WHERE id = ?1")?,
            // A reused id is caught here by the UNIQUE constraint rather than looked up
            // first (see `Ruler`).
            insert_event: conn.prepare_cached(
                "INSERT INTO events (id, site, device, seq, author, kind, event, received_at,
                                     clock_skew_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (id) DO NOTHING",
            )?,
            insert_ruling: conn.prepare_cached(
                "INSERT INTO rulings (device, seq, id, hash, outcome, code, reason, server_seq,
                                      ruled_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?,
            touch_device: conn.prepare_cached(
                "UPDATE devices
                    SET last_seen = ?2, clock_offset_ms = coalesce(?3, clock_offset_ms)
                  WHERE id = ?1",
            )?,
        })
    }
}

/// Looks ids up in the transaction being written.
struct SqliteIds<'s, 'c> {
    stmt: &'s mut rusqlite::CachedStatement<'c>,
}

impl EventIds for SqliteIds<'_, '_> {
    fn taken(&mut self, id: EventId) -> Result<bool, StorageError> {
        let mut text = Uuid::encode_buffer();
        let text = id.0.hyphenated().encode_lower(&mut text);
        Ok(self.stmt.exists(params![&*text])?)
    }
}

/// Records one push on `conn`, in the transaction the caller commits.
fn ingest_in(
    conn: &Connection,
    statements: &mut WriteStatements<'_>,
    batch: IngestBatch<'_>,
    ruler: &mut dyn Ruler,
) -> Result<Vec<PushOutcome>, StorageError> {
    let WriteStatements {
        head: head_query,
        at_seq,
        id_taken,
        insert_event,
        insert_ruling,
        touch_device,
    } = statements;
    let device = batch.device.to_string();
    let now = timestamp(batch.now);
    let mut head = chain_head_with(head_query, &device)?;
    let mut outcomes = Vec::with_capacity(batch.events.len());
    let mut ids = SqliteIds { stmt: id_taken };
    let mut id_text = Uuid::encode_buffer();
    let mut site_text = Uuid::encode_buffer();
    let mut author_text = Uuid::encode_buffer();
    for prepared in batch.events {
        let event = &prepared.event;
        let prior = if event.seq <= head.seq {
            at_seq
                .query_row(params![device, to_i64("seq", event.seq)?], prior_ruling)
                .optional()?
                .transpose()?
        } else {
            None
        };
        let known = Known {
            head: &head,
            at_seq: prior,
        };
        let ruling = ruler.rule(prepared, &known, &mut ids)?;
        let seq = to_i64("seq", event.seq)?;
        let id = &*event.id.0.hyphenated().encode_lower(&mut id_text);
        let rejection = match ruling {
            Ruling::Reply(outcome) => {
                outcomes.push(outcome);
                continue;
            }
            Ruling::Accept => {
                let encoded;
                let json = match prepared.json() {
                    Some(json) => json,
                    None => {
                        encoded = serde_json::to_string(event)?;
                        encoded.as_str()
                    }
                };
                let inserted = insert_event.execute(params![
                    id,
                    &*event.site.0.hyphenated().encode_lower(&mut site_text),
                    device,
                    seq,
                    &*event.author.0.hyphenated().encode_lower(&mut author_text),
                    event.payload.kind(),
                    json,
                    now,
                    batch.clock_skew_ms,
                ])?;
                if inserted == 1 {
                    // The event row is the ruling: `events_by_device_seq` finds it at its
                    // seq (no `rulings` row for accepted events, see migration 4).
                    let server_seq = conn.last_insert_rowid();
                    outcomes.push(PushOutcome::Accepted {
                        server_seq: to_u64("server_seq", server_seq)?,
                    });
                    None
                } else {
                    Some(ruler.id_reused(prepared))
                }
            }
            Ruling::Reject { code, reason } => Some((code, reason)),
        };
        if let Some((code, reason)) = rejection {
            insert_ruling.execute(params![
                device,
                seq,
                id,
                event.hash,
                "rejected",
                code.as_str(),
                reason,
                None::<i64>,
                now,
            ])?;
            outcomes.push(PushOutcome::Rejected {
                code,
                reason,
                expected_seq: None,
            });
        }
        head = ChainHead {
            seq: event.seq,
            hash: event.hash.clone(),
        };
    }
    touch_device.execute(params![device, now, batch.clock_offset_ms])?;
    Ok(outcomes)
}

/// Hands the first `limit` of `rows` (server_seq, event, received_at, clock_skew_ms) to
/// `visit`; the page says whether there were more.
fn read_page(
    mut rows: rusqlite::Rows<'_>,
    limit: usize,
    visit: &mut dyn FnMut(StoredEvent<'_>),
) -> Result<PullPage, StorageError> {
    let mut page = PullPage::default();
    while let Some(row) = rows.next()? {
        if page.count == limit {
            page.more = true;
            break;
        }
        let server_seq = to_u64("server_seq", row.get::<_, i64>(0)?)?;
        let json = row
            .get_ref(1)?
            .as_str()
            .map_err(|e| StorageError::corrupt("event", e))?;
        // Written by `ingest` from a checked event; a cheap guard against a row that is
        // not an object at all.
        if !(json.starts_with('{') && json.ends_with('}')) {
            return Err(StorageError::corrupt(
                "event",
                format!("server_seq {server_seq} is not a JSON object"),
            ));
        }
        let received_at = row
            .get_ref(2)?
            .as_str()
            .map_err(|e| StorageError::corrupt("received_at", e))?;
        let clock_skew_ms = row.get::<_, Option<i64>>(3)?;
        visit(StoredEvent {
            server_seq,
            json,
            received_at,
            clock_skew_ms,
        });
        page.count += 1;
        page.last = Some(server_seq);
    }
    Ok(page)
}

/// Every definition in server order; its `WHERE` matches the partial index
/// `events_definitions` word for word, so work events cost that index nothing.
const DEFINITIONS_QUERY: &str = "SELECT event FROM events
  WHERE kind = 'org_named' OR kind = 'site_defined' OR kind = 'person_defined'
     OR kind = 'routine_defined' OR kind = 'absence_recorded'
  ORDER BY server_seq";

/// The candidates for the last ruling of a device's chain: its last accepted event and its
/// last rejection, the head being whichever has the higher `seq` (picked by
/// [`chain_head_with`]: an `ORDER BY` over both would sort them in a temporary b-tree on
/// every push). An accepted event's hash is read from its stored JSON, for that row only.
const CHAIN_HEAD_QUERY: &str = "
  SELECT seq, hash FROM (
      SELECT seq, json_extract(event, '$.hash') AS hash FROM events
       WHERE device = ?1 ORDER BY seq DESC LIMIT 1)
  UNION ALL
  SELECT seq, hash FROM (
      SELECT seq, hash FROM rulings WHERE device = ?1 ORDER BY seq DESC LIMIT 1)";

/// The ruling at one `seq` of a device's chain, in the columns [`prior_ruling`] reads: an
/// accepted event (its `events` row) or a rejection (its `rulings` row). The rulings table
/// is read as it is, so an `accepted` row that migration 4 left in it still counts.
const AT_SEQ_QUERY: &str = "
  SELECT id, json_extract(event, '$.hash'), 'accepted', NULL, NULL, server_seq FROM events
   WHERE device = ?1 AND seq = ?2
  UNION ALL
  SELECT id, hash, outcome, code, reason, server_seq FROM rulings
   WHERE device = ?1 AND seq = ?2
  LIMIT 1";

fn chain_head_in(conn: &Connection, device: &str) -> Result<ChainHead, StorageError> {
    let mut query = conn.prepare_cached(CHAIN_HEAD_QUERY)?;
    chain_head_with(&mut query, device)
}

fn chain_head_with(
    query: &mut rusqlite::Statement<'_>,
    device: &str,
) -> Result<ChainHead, StorageError> {
    let mut last: Option<(i64, Option<String>)> = None;
    let mut rows = query.query(params![device])?;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        if last.as_ref().is_none_or(|(best, _)| seq > *best) {
            last = Some((seq, row.get(1)?));
        }
    }
    Ok(match last {
        Some((seq, hash)) => ChainHead {
            seq: to_u64("seq", seq)?,
            hash: hash.ok_or_else(|| {
                StorageError::corrupt("event", format!("seq {seq} of {device} has no hash"))
            })?,
        },
        None => ChainHead {
            seq: 0,
            hash: GENESIS_HASH.to_string(),
        },
    })
}

/// Reads a row of [`AT_SEQ_QUERY`]; the outer result is SQLite's, the inner one the
/// decoding's.
fn prior_ruling(r: &Row<'_>) -> rusqlite::Result<Result<PriorRuling, StorageError>> {
    let id: String = r.get(0)?;
    // NULL only for a stored event whose JSON has no hash: corrupt, not a missing row.
    let hash: Option<String> = r.get(1)?;
    let outcome: String = r.get(2)?;
    let code: Option<String> = r.get(3)?;
    let reason: Option<String> = r.get(4)?;
    let server_seq: Option<i64> = r.get(5)?;
    Ok((|| {
        let outcome = match outcome.as_str() {
            "accepted" => RecordedOutcome::Accepted {
                server_seq: to_u64("server_seq", server_seq.unwrap_or_default())?,
            },
            _ => RecordedOutcome::Rejected {
                code: parse_code(code.as_deref().unwrap_or_default())?,
                reason: reason.unwrap_or_default(),
            },
        };
        Ok(PriorRuling {
            id: EventId(parse_uuid("ruling", &id)?),
            hash: hash
                .ok_or_else(|| StorageError::corrupt("event", format!("{id} has no hash")))?,
            outcome,
        })
    })())
}

/// A `devices` row before decoding.
struct RawDevice {
    id: String,
    person: String,
    token_sha256: String,
    name: Option<String>,
    platform: Option<String>,
    created_at: String,
    last_seen: Option<String>,
    clock_offset_ms: Option<i64>,
    revoked_at: Option<String>,
}

fn raw_device(r: &Row<'_>) -> rusqlite::Result<RawDevice> {
    Ok(RawDevice {
        id: r.get(0)?,
        person: r.get(1)?,
        token_sha256: r.get(2)?,
        name: r.get(3)?,
        platform: r.get(4)?,
        created_at: r.get(5)?,
        last_seen: r.get(6)?,
        clock_offset_ms: r.get(7)?,
        revoked_at: r.get(8)?,
    })
}

impl RawDevice {
    fn decode(self) -> Result<DeviceRecord, StorageError> {
        Ok(DeviceRecord {
            id: DeviceId(parse_uuid("device", &self.id)?),
            person: PersonId(parse_uuid("device", &self.person)?),
            token_sha256: self.token_sha256,
            name: self.name,
            platform: self.platform,
            created_at: parse_time("device", &self.created_at)?,
            last_seen: self
                .last_seen
                .map(|t| parse_time("device", &t))
                .transpose()?,
            clock_offset_ms: self.clock_offset_ms,
            revoked_at: self
                .revoked_at
                .map(|t| parse_time("device", &t))
                .transpose()?,
        })
    }
}

const BLOB_COLUMNS: &str = "sha256, bytes, kind, photo, width, height, captured_at, uploaded_at";

/// A `blobs` row before decoding.
struct RawBlob {
    sha256: String,
    bytes: i64,
    kind: String,
    photo: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    captured_at: Option<String>,
    uploaded_at: String,
}

fn raw_blob(r: &Row<'_>) -> rusqlite::Result<RawBlob> {
    Ok(RawBlob {
        sha256: r.get(0)?,
        bytes: r.get(1)?,
        kind: r.get(2)?,
        photo: r.get(3)?,
        width: r.get(4)?,
        height: r.get(5)?,
        captured_at: r.get(6)?,
        uploaded_at: r.get(7)?,
    })
}

impl RawBlob {
    fn decode(self, conn: &Connection) -> Result<StoredBlob, StorageError> {
        let mut stmt =
            conn.prepare_cached("SELECT site FROM blob_sites WHERE sha256 = ?1 ORDER BY site")?;
        let mut sites = Vec::new();
        for site in stmt.query_map(params![self.sha256], |r| r.get::<_, String>(0))? {
            sites.push(SiteId(parse_uuid("blob site", &site?)?));
        }
        Ok(StoredBlob {
            bytes: to_u64("blob bytes", self.bytes)?,
            kind: parse_kind(&self.kind)
                .ok_or_else(|| StorageError::corrupt("blob", format!("kind {:?}", self.kind)))?,
            photo: self.photo,
            width: self.width,
            height: self.height,
            captured_at: self
                .captured_at
                .map(|t| parse_time("blob", &t))
                .transpose()?,
            uploaded_at: parse_time("blob", &self.uploaded_at)?,
            sites,
            sha256: self.sha256,
        })
    }
}

/// A blob kind as stored ([`BlobKind::as_str`]).
pub(crate) fn parse_kind(text: &str) -> Option<BlobKind> {
    [BlobKind::Photo, BlobKind::Thumbnail]
        .into_iter()
        .find(|kind| kind.as_str() == text)
}

fn parse_code(text: &str) -> Result<RejectCode, StorageError> {
    RejectCode::parse(text)
        .ok_or_else(|| StorageError::corrupt("ruling", format!("rejection code {text:?}")))
}

/// An instant as stored: RFC 3339, UTC, `Z`, always microseconds, so text order is time
/// order.
fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_time(what: &'static str, text: &str) -> Result<DateTime<Utc>, StorageError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StorageError::corrupt(what, format!("bad instant {text:?}: {e}")))
}

fn parse_uuid(what: &'static str, text: &str) -> Result<Uuid, StorageError> {
    Uuid::parse_str(text).map_err(|e| StorageError::corrupt(what, format!("bad id {text:?}: {e}")))
}

fn decode_event(json: &str) -> Result<Event, StorageError> {
    serde_json::from_str(json).map_err(|e| StorageError::corrupt("event", e))
}

fn to_i64(what: &'static str, value: u64) -> Result<i64, StorageError> {
    i64::try_from(value).map_err(|_| StorageError::corrupt(what, format!("{value} is too large")))
}

fn to_u64(what: &'static str, value: i64) -> Result<u64, StorageError> {
    u64::try_from(value).map_err(|_| StorageError::corrupt(what, format!("{value} is negative")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::PreparedEvent;

    /// A device's chain of `n` org-name events from `seq` 1, with the ids given.
    fn chain(device: DeviceId, ids: &[u128]) -> Vec<PreparedEvent> {
        let now = DateTime::from_timestamp(1_770_000_000, 0).expect("instant");
        let mut prev = GENESIS_HASH.to_string();
        ids.iter()
            .zip(1..)
            .map(|(id, seq)| {
                let event = Event::seal(
                    EventId(Uuid::from_u128(*id)),
                    SiteId(Uuid::from_u128(1)),
                    PersonId(Uuid::from_u128(2)),
                    device,
                    seq,
                    now,
                    EventPayload::OrgNamed {
                        name: format!("name {id}"),
                    },
                    prev.clone(),
                )
                .expect("seal");
                prev = event.hash.clone();
                PreparedEvent::new(event)
            })
            .collect()
    }

    /// Accepts everything without looking ids up; fails at one `seq` when told to.
    struct Trusting {
        fail_at: Option<u64>,
    }

    impl Ruler for Trusting {
        fn rule(
            &mut self,
            event: &PreparedEvent,
            _known: &Known<'_>,
            _ids: &mut dyn EventIds,
        ) -> Result<Ruling, StorageError> {
            if self.fail_at == Some(event.event.seq) {
                return Err(StorageError::corrupt("test", "failing on purpose"));
            }
            Ok(Ruling::Accept)
        }

        fn id_reused(&mut self, _event: &PreparedEvent) -> (RejectCode, String) {
            (RejectCode::Invalid, "id reused".into())
        }
    }

    fn batch(device: DeviceId, events: &[PreparedEvent]) -> IngestBatch<'_> {
        IngestBatch {
            device,
            events,
            now: DateTime::from_timestamp(1_770_000_100, 0).expect("instant"),
            clock_offset_ms: None,
            clock_skew_ms: None,
        }
    }

    #[test]
    fn a_group_with_a_failed_push_is_rolled_back_and_can_be_recorded_without_it() {
        let dir = tempfile::tempdir().expect("dir");
        let storage = SqliteStorage::open(dir.path()).expect("open");
        let [a, b, c] = [11, 12, 13].map(|n| DeviceId(Uuid::from_u128(n)));
        let (ea, eb, ec) = (
            chain(a, &[101, 102]),
            chain(b, &[201, 202, 203]),
            chain(c, &[301, 101]),
        );
        let pushes = [(a, &ea, None), (b, &eb, Some(3)), (c, &ec, None)];
        // b fails half way: the group is not committed, and takes nothing more.
        let mut results = Vec::new();
        let committed = storage
            .ingest_group(&mut |group| {
                for (device, events, fail_at) in pushes {
                    results.push(group.ingest(batch(device, events), &mut Trusting { fail_at }));
                }
                true
            })
            .expect("rolled back");
        assert!(!committed);
        assert!(results[0].is_ok());
        assert!(results[1].is_err());
        assert!(matches!(results[2], Err(StorageError::GroupFailed)));
        for device in [a, b, c] {
            assert_eq!(storage.chain_head(device).expect("head").seq, 0);
        }
        // Again without b.
        let mut results = Vec::new();
        let committed = storage
            .ingest_group(&mut |group| {
                for (device, events, fail_at) in [pushes[0], pushes[2]] {
                    results.push(group.ingest(batch(device, events), &mut Trusting { fail_at }));
                }
                true
            })
            .expect("commit");
        assert!(committed);
        // c's second event reuses a's first id: the UNIQUE constraint catches it and the
        // rejection is recorded, moving the chain.
        let outcomes = results[1].as_ref().expect("c");
        assert!(matches!(outcomes[0], PushOutcome::Accepted { .. }));
        assert!(matches!(
            &outcomes[1],
            PushOutcome::Rejected { code: RejectCode::Invalid, reason, .. } if reason == "id reused"
        ));
        assert_eq!(storage.chain_head(a).expect("a").seq, 2);
        assert_eq!(storage.chain_head(b).expect("b").seq, 0);
        assert_eq!(storage.chain_head(c).expect("c").seq, 2);
        storage.sync_commits().expect("sync");
        let mut pulled = Vec::new();
        let page = storage
            .pull(
                &[SiteId(Uuid::from_u128(1))],
                DeviceId(Uuid::from_u128(99)),
                0,
                100,
                &mut |e| pulled.push(serde_json::from_str::<Event>(e.json).expect("event")),
            )
            .expect("pull");
        assert_eq!(page.count, 3);
        let ids: Vec<u128> = pulled.iter().map(|e| e.id.0.as_u128()).collect();
        assert_eq!(ids, [101, 102, 301]);
        assert!(pulled.iter().all(Event::hash_is_valid));
    }

    /// The ids a device of another site-1 member pulls from the start.
    fn pulled_ids(storage: &SqliteStorage) -> Vec<u128> {
        let mut ids = Vec::new();
        storage
            .pull(
                &[SiteId(Uuid::from_u128(1))],
                DeviceId(Uuid::from_u128(99)),
                0,
                100,
                &mut |e| {
                    let event: Event = serde_json::from_str(e.json).expect("event");
                    ids.push(event.id.0.as_u128());
                },
            )
            .expect("pull");
        ids
    }

    #[test]
    fn a_group_is_pulled_only_once_its_commit_is_synced() {
        let dir = tempfile::tempdir().expect("dir");
        let storage = SqliteStorage::open(dir.path()).expect("open");
        let [a, b] = [31, 32].map(|n| DeviceId(Uuid::from_u128(n)));
        let record = |device, events: &[PreparedEvent]| {
            let committed = storage
                .ingest_group(&mut |group| {
                    group
                        .ingest(batch(device, events), &mut Trusting { fail_at: None })
                        .expect("recorded");
                    true
                })
                .expect("commit");
            assert!(committed);
        };
        // The server's own view (every site, read along the key) in pages of `limit`.
        let everything = |limit| {
            let (mut ids, mut after) = (Vec::new(), 0);
            loop {
                let page = storage
                    .pull_everything(after, limit, &mut |e| {
                        let event: Event = serde_json::from_str(e.json).expect("event");
                        ids.push(event.id.0.as_u128());
                    })
                    .expect("pull everything");
                after = page.last.unwrap_or(after);
                if !page.more {
                    return ids;
                }
            }
        };
        record(a, &chain(a, &[701, 702]));
        assert_eq!(pulled_ids(&storage), Vec::<u128>::new(), "not yet durable");
        assert_eq!(everything(1), Vec::<u128>::new(), "not yet durable");
        storage.sync_commits().expect("sync");
        assert_eq!(pulled_ids(&storage), [701, 702]);
        // A second group waits for its own sync; the first stays visible.
        record(b, &chain(b, &[801]));
        assert_eq!(pulled_ids(&storage), [701, 702]);
        assert_eq!(everything(1), [701, 702]);
        storage.sync_commits().expect("sync");
        assert_eq!(pulled_ids(&storage), [701, 702, 801]);
        assert_eq!(everything(1), [701, 702, 801]);
        assert_eq!(everything(2), [701, 702, 801]);
        // Nothing waiting: a sync is free, and every other write stays synchronous=FULL.
        storage.sync_commits().expect("sync again");
        let level: i64 = storage
            .writer()
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .expect("pragma");
        assert_eq!(level, 2, "FULL");
    }

    #[test]
    fn the_chain_head_is_not_recompiled_for_every_push_of_a_group() {
        let dir = tempfile::tempdir().expect("dir");
        let storage = SqliteStorage::open(dir.path()).expect("open");
        let devices: Vec<DeviceId> = (0..5).map(|n| DeviceId(Uuid::from_u128(20 + n))).collect();
        let chains: Vec<_> = devices
            .iter()
            .zip(0u128..)
            .map(|(d, n)| chain(*d, &[500 + n]))
            .collect();
        let mut reprepared = 0;
        storage
            .ingest_group(&mut |group| {
                for (device, events) in devices.iter().zip(&chains) {
                    group
                        .ingest(batch(*device, events), &mut Trusting { fail_at: None })
                        .expect("recorded");
                }
                true
            })
            .expect("commit");
        {
            let conn = storage.writer();
            let head = conn.prepare_cached(CHAIN_HEAD_QUERY).expect("cached");
            reprepared += head.get_status(rusqlite::StatementStatus::RePrepare);
        }
        assert!(reprepared <= 1, "recompiled {reprepared} times");
    }

    /// Column `column` of `explain statement` (its parameters NULL): `EXPLAIN` gives the
    /// program's opcodes in column 1, `EXPLAIN QUERY PLAN` its plan steps in column 3.
    fn explained(conn: &Connection, explain: &str, statement: &str, column: usize) -> Vec<String> {
        let mut explained = conn
            .prepare(&format!("{explain} {statement}"))
            .expect("explain");
        let nulls = std::iter::repeat_n(rusqlite::types::Null, explained.parameter_count());
        explained
            .query_map(rusqlite::params_from_iter(nulls), |r| {
                r.get::<_, String>(column)
            })
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("explained")
    }

    /// The opcodes of the program SQLite compiles `statement` to.
    fn program_of(conn: &Connection, statement: &str) -> Vec<String> {
        explained(conn, "EXPLAIN", statement, 1)
    }

    #[test]
    fn storing_an_event_builds_no_temporary_table() {
        let dir = tempfile::tempdir().expect("dir");
        let storage = SqliteStorage::open(dir.path()).expect("open");
        let conn = storage.writer();
        let ops = program_of(
            &conn,
            "INSERT INTO events (id, site, device, seq, author, kind, event, received_at,
                                 clock_skew_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (id) DO NOTHING",
        );
        assert!(ops.iter().any(|op| op == "Insert"), "{ops:?}");
        assert!(!ops.iter().any(|op| op == "OpenEphemeral"), "{ops:?}");
    }

    /// Version 5's `CHECK (state IN (...))` built a temporary table of the three states on
    /// every outbox row written: half the cost of a quarter hour's inserts.
    #[test]
    fn writing_the_outbox_builds_no_temporary_table() {
        use notifications::{DEAD_UPDATE, INSERT_QUERY, RETRY_UPDATE, SENT_UPDATE};

        let dir = tempfile::tempdir().expect("dir");
        let storage = SqliteStorage::open(dir.path()).expect("open");
        let conn = storage.writer();
        for statement in [INSERT_QUERY, SENT_UPDATE, RETRY_UPDATE, DEAD_UPDATE] {
            let ops = program_of(&conn, statement);
            assert!(ops.iter().any(|op| op == "Insert"), "{statement}: {ops:?}");
            assert!(
                !ops.iter().any(|op| op == "OpenEphemeral"),
                "{statement}: {ops:?}"
            );
        }
    }

    /// Writes a database at schema version 3 as that version's server left it: for each
    /// (device, chain, seq), the chain's events stored, each with its `accepted` rulings
    /// row, except the one at that seq, which has a `rejected` rulings row only.
    fn version_3_database(path: &Path, chains: &[(DeviceId, &[PreparedEvent], u64)]) {
        let conn = Connection::open(path).expect("open");
        for sql in &migrations::MIGRATIONS[..3] {
            conn.execute_batch(sql).expect("historic migration");
        }
        conn.pragma_update(None, "user_version", 3)
            .expect("version");
        let at = "2026-02-02T02:02:02.000000Z";
        let ruling = "INSERT INTO rulings (device, seq, id, hash, outcome, code, reason,
                                           server_seq, ruled_at)
                      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
        for (device, events, rejected) in chains {
            for prepared in *events {
                let e = &prepared.event;
                let (device, id, seq) = (
                    device.to_string(),
                    e.id.to_string(),
                    i64::try_from(e.seq).expect("seq"),
                );
                if e.seq == *rejected {
                    conn.execute(
                        ruling,
                        params![
                            device,
                            seq,
                            id,
                            e.hash,
                            "rejected",
                            "not_allowed",
                            "not on the roster",
                            None::<i64>,
                            at
                        ],
                    )
                    .expect("rejection");
                    continue;
                }
                conn.execute(
                    "INSERT INTO events (id, site, device, seq, author, kind, event,
                                         received_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        id,
                        e.site.to_string(),
                        device,
                        seq,
                        e.author.to_string(),
                        e.payload.kind(),
                        serde_json::to_string(e).expect("json"),
                        at
                    ],
                )
                .expect("event");
                let server_seq = conn.last_insert_rowid();
                conn.execute(
                    ruling,
                    params![
                        device,
                        seq,
                        id,
                        e.hash,
                        "accepted",
                        None::<&str>,
                        None::<&str>,
                        server_seq,
                        at
                    ],
                )
                .expect("accepted ruling");
            }
        }
    }

    fn device_record(id: DeviceId) -> DeviceRecord {
        DeviceRecord {
            id,
            person: PersonId(Uuid::from_u128(2)),
            token_sha256: String::new(),
            name: None,
            platform: None,
            created_at: DateTime::from_timestamp(1_770_000_000, 0).expect("instant"),
            last_seen: None,
            clock_offset_ms: None,
            revoked_at: None,
        }
    }

    #[test]
    fn a_version_3_database_keeps_its_chains_and_rulings_when_upgraded() {
        use crate::org::OrgState;
        use crate::ruling::PushRuler;

        let dir = tempfile::tempdir().expect("dir");
        let [a, b] = [41, 42].map(|n| DeviceId(Uuid::from_u128(n)));
        let (ea, eb) = (chain(a, &[901, 902, 903, 904]), chain(b, &[911, 912]));
        version_3_database(&dir.path().join(DATABASE_FILE), &[(a, &ea, 3), (b, &eb, 2)]);

        let storage = SqliteStorage::open(dir.path()).expect("upgrade");
        // Only the rejections are left in `rulings`.
        let left: Vec<(String, i64)> = storage
            .writer()
            .prepare("SELECT outcome, seq FROM rulings ORDER BY device, seq")
            .expect("query")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rulings");
        assert_eq!(left, [("rejected".into(), 3), ("rejected".into(), 2)]);
        // The heads: an accepted event's (a), a rejection's (b).
        let head = |seq, hash: &str| ChainHead {
            seq,
            hash: hash.to_string(),
        };
        assert_eq!(
            storage.chain_head(a).expect("a"),
            head(4, &ea[3].event.hash)
        );
        assert_eq!(
            storage.chain_head(b).expect("b"),
            head(2, &eb[1].event.hash)
        );
        // Replayed: duplicates stay duplicates, the rejection is answered as before.
        let org = Arc::new(OrgState::default());
        let record = device_record(a);
        let ruler = || PushRuler::new(&record, "a", Arc::clone(&org));
        let outcomes = storage.ingest(batch(a, &ea), &mut ruler()).expect("replay");
        let not_on_roster = PushOutcome::Rejected {
            code: RejectCode::NotAllowed,
            reason: "not on the roster".into(),
            expected_seq: None,
        };
        assert_eq!(
            outcomes,
            [
                PushOutcome::Duplicate,
                PushOutcome::Duplicate,
                not_on_roster,
                PushOutcome::Duplicate
            ]
        );
        // Another event at an accepted seq forks the chain.
        let fork = chain(a, &[901, 999]);
        let outcomes = storage
            .ingest(batch(a, &fork[1..]), &mut ruler())
            .expect("fork");
        assert!(
            matches!(
                &outcomes[..],
                [PushOutcome::Rejected { code: RejectCode::SequenceConflict, reason, .. }]
                    if reason.contains("already taken by event")
            ),
            "{outcomes:?}"
        );
        // The rejections are listed.
        let rejected: Vec<(u128, u64)> = storage
            .rejected()
            .expect("rejected")
            .iter()
            .map(|r| (r.id.0.as_u128(), r.seq))
            .collect();
        assert_eq!(rejected, [(903, 3), (912, 2)]);
        // The chain goes on from the upgraded head: seq 5 links to seq 4's hash.
        let now = DateTime::from_timestamp(1_770_000_050, 0).expect("instant");
        let next = PreparedEvent::new(
            Event::seal(
                EventId(Uuid::from_u128(905)),
                SiteId(Uuid::from_u128(1)),
                PersonId(Uuid::from_u128(2)),
                a,
                5,
                now,
                EventPayload::OrgNamed {
                    name: "next".into(),
                },
                ea[3].event.hash.clone(),
            )
            .expect("seal"),
        );
        let outcomes = storage
            .ingest(
                batch(a, std::slice::from_ref(&next)),
                &mut Trusting { fail_at: None },
            )
            .expect("next");
        assert_eq!(outcomes, [PushOutcome::Accepted { server_seq: 5 }]);
        assert_eq!(storage.chain_head(a).expect("a"), head(5, &next.event.hash));
        let again = storage
            .ingest(batch(a, std::slice::from_ref(&next)), &mut ruler())
            .expect("again");
        assert_eq!(again, [PushOutcome::Duplicate]);
    }

    #[test]
    fn the_chain_lookups_use_indexes() {
        let dir = tempfile::tempdir().expect("dir");
        let storage = SqliteStorage::open(dir.path()).expect("open");
        let conn = storage.writer();
        for query in [CHAIN_HEAD_QUERY, AT_SEQ_QUERY] {
            let mut explain = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {query}"))
                .expect("explain");
            let values = ["device", "1"].into_iter().take(explain.parameter_count());
            let plan: Vec<String> = explain
                .query_map(rusqlite::params_from_iter(values), |r| {
                    r.get::<_, String>(3)
                })
                .expect("rows")
                .collect::<Result<_, _>>()
                .expect("plan");
            assert!(
                plan.iter()
                    .any(|step| step.contains("SEARCH events USING INDEX events_by_device_seq")),
                "{plan:?}"
            );
            assert!(
                plan.iter()
                    .any(|step| step.contains("SEARCH rulings USING PRIMARY KEY")),
                "{plan:?}"
            );
            assert!(
                !plan.iter().any(|step| step.starts_with("SCAN events")
                    || step.starts_with("SCAN rulings")
                    || step.contains("TEMP B-TREE")),
                "{plan:?}"
            );
        }
    }

    /// The plan of `query`, one step a line.
    fn plan_of(conn: &Connection, query: &str) -> Vec<String> {
        explained(conn, "EXPLAIN QUERY PLAN", query, 3)
    }

    #[test]
    fn the_outbox_queries_use_indexes() {
        use notifications::{
            DEAD_UPDATE, DUE_QUERY, LIST_IN_STATE_QUERY, LIST_QUERY, QUEUED_KEYS_QUERY,
            RETRY_UPDATE, SENT_UPDATE,
        };

        let dir = tempfile::tempdir().expect("dir");
        let storage = SqliteStorage::open(dir.path()).expect("open");
        let conn = storage.writer();
        let target = "SEARCH t USING INTEGER PRIMARY KEY (rowid=?)";
        for (query, wanted) in [
            (
                DUE_QUERY,
                &[
                    "SEARCH o USING INDEX outbox_due (next_attempt_at<?)",
                    target,
                ][..],
            ),
            (LIST_QUERY, &["SCAN o", target][..]),
            (
                LIST_IN_STATE_QUERY,
                &["SEARCH o USING INDEX outbox_by_state (state=?)", target][..],
            ),
            (
                QUEUED_KEYS_QUERY,
                &["SCAN outbox USING COVERING INDEX outbox_key"][..],
            ),
        ]
        .into_iter()
        .chain([SENT_UPDATE, RETRY_UPDATE, DEAD_UPDATE].map(|update| {
            (
                update,
                &[
                    "SEARCH outbox USING INDEX outbox_key (due_at=? AND notice=? AND target=?)",
                    "SEARCH outbox_targets USING COVERING INDEX",
                ][..],
            )
        })) {
            let plan = plan_of(&conn, query);
            for step in wanted {
                assert!(plan.iter().any(|s| s.contains(step)), "{step}: {plan:?}");
            }
            // Newest first and oldest due first come from the rowid and the indexes.
            assert!(
                !plan.iter().any(|s| s.contains("TEMP B-TREE")
                    || s.starts_with("SCAN t")
                    || s.starts_with("SCAN outbox_targets")),
                "{plan:?}"
            );
        }
    }

    #[test]
    fn reading_the_definitions_uses_the_partial_index() {
        let dir = tempfile::tempdir().expect("dir");
        let storage = SqliteStorage::open(dir.path()).expect("open");
        let conn = storage.writer();
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {DEFINITIONS_QUERY}"))
            .expect("explain")
            .query_map([], |r| r.get::<_, String>(3))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("plan");
        assert!(
            plan.iter().any(|step| step.contains("events_definitions")),
            "{plan:?}"
        );
    }
}
