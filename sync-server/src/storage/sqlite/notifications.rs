//! [`NotificationStore`] on SQLite: table `push_tokens` (migration 3) and the outbox,
//! tables `outbox` and `outbox_targets` (migration 5, which says why they are shaped so).

use std::collections::HashMap;
use std::sync::mpsc;

use chrono::{DateTime, Utc};
use proofline_core::model::{DeviceId, PersonId};
use proofline_core::notify::Notice;
use rusqlite::{Connection, Row, TransactionBehavior, params};
use uuid::Uuid;

use super::{SqliteStorage, parse_time, parse_uuid, timestamp};
use crate::storage::StorageError;
use crate::storage::notifications::{
    Attempt, DeliveryState, NotificationStore, PushPlatform, PushToken, QueuedNotification,
    Reminded, RowKey, Target,
};

/// The columns [`queued_from_row`] reads, in order (`o` the outbox, `t` its target).
macro_rules! queued_columns {
    () => {
        "t.key, o.state, o.attempts, o.next_attempt_at, o.last_error, o.queued_at, o.sent_at, \
         o.body"
    };
}

/// The row `(notice ?1 due at ?3, target key ?2)`, in an `UPDATE`'s `WHERE` (a macro so
/// the statements below are constants).
macro_rules! row_key {
    () => {
        "due_at = ?3 AND notice = ?1 AND target = (SELECT id FROM outbox_targets WHERE key = ?2)"
    };
}

/// From this many rows, [`insert_rows`] encodes them on a second thread.
const ENCODE_ALONGSIDE_FROM: usize = 4_096;
/// Rows encoded at a time on that thread.
const ENCODE_CHUNK: usize = 1_024;

/// Queues one row; an existing (due time, notice, target) is left as it is.
pub(super) const INSERT_QUERY: &str = "
    INSERT INTO outbox (notice, target, state, attempts, next_attempt_at, queued_at, sent_at,
                        last_error, body, due_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
    ON CONFLICT (due_at, notice, target) DO NOTHING";

/// The pending rows due at `?1`, oldest first, at most `?2`. Through the due index, by
/// name: without statistics the planner takes `outbox_by_state` for `state = 'pending'`
/// and sorts every pending row.
pub(super) const DUE_QUERY: &str = concat!(
    "SELECT ",
    queued_columns!(),
    " FROM outbox o INDEXED BY outbox_due JOIN outbox_targets t ON t.id = o.target
     WHERE o.state = 'pending' AND o.next_attempt_at <= ?1
     ORDER BY o.next_attempt_at, o.id LIMIT ?2"
);

/// Every row, newest first, at most `?1`.
pub(super) const LIST_QUERY: &str = concat!(
    "SELECT ",
    queued_columns!(),
    " FROM outbox o JOIN outbox_targets t ON t.id = o.target
     ORDER BY o.id DESC LIMIT ?1"
);

/// The rows in state `?1`, newest first, at most `?2`.
pub(super) const LIST_IN_STATE_QUERY: &str = concat!(
    "SELECT ",
    queued_columns!(),
    " FROM outbox o JOIN outbox_targets t ON t.id = o.target
     WHERE o.state = ?1
     ORDER BY o.id DESC LIMIT ?2"
);

/// The key of every row: (notice, target id).
pub(super) const QUEUED_KEYS_QUERY: &str = "SELECT notice, target FROM outbox";

/// Moves person `?1`'s reminder mark to `?2`, never back.
pub(super) const REMIND_UPSERT: &str = "
    INSERT INTO reminded (person, through) VALUES (?1, ?2)
    ON CONFLICT (person) DO UPDATE SET through = max(through, excluded.through)";

/// Marks row `(?1, ?2, ?3)` sent at `?4`.
pub(super) const SENT_UPDATE: &str = concat!(
    "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?4, \
     last_error = NULL WHERE ",
    row_key!()
);

/// Schedules row `(?1, ?2, ?3)` for another attempt at `?4` after error `?5`.
pub(super) const RETRY_UPDATE: &str = concat!(
    "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?4, last_error = ?5 \
     WHERE ",
    row_key!()
);

/// Gives row `(?1, ?2, ?3)` up after error `?4`: a dead letter.
pub(super) const DEAD_UPDATE: &str = concat!(
    "UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = ?4 WHERE ",
    row_key!()
);

impl NotificationStore for SqliteStorage {
    fn register_push_token(&self, token: &PushToken) -> Result<(), StorageError> {
        let conn = self.writer();
        conn.execute(
            "INSERT INTO push_tokens (platform, token, device, person, registered_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (platform, token) DO UPDATE
                SET device = excluded.device, person = excluded.person,
                    registered_at = excluded.registered_at",
            params![
                token.platform.as_str(),
                token.token,
                token.device.to_string(),
                token.person.to_string(),
                timestamp(token.registered_at)
            ],
        )?;
        Ok(())
    }

    fn remove_push_token(&self, platform: PushPlatform, token: &str) -> Result<bool, StorageError> {
        let conn = self.writer();
        let removed = conn.execute(
            "DELETE FROM push_tokens WHERE platform = ?1 AND token = ?2",
            params![platform.as_str(), token],
        )?;
        Ok(removed > 0)
    }

    fn push_tokens(&self) -> Result<Vec<PushToken>, StorageError> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT platform, token, device, person, registered_at FROM push_tokens
                  ORDER BY registered_at, token",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?;
            let mut tokens = Vec::new();
            for row in rows {
                let (platform, token, device, person, at) = row?;
                tokens.push(PushToken {
                    platform: PushPlatform::parse(&platform)
                        .ok_or_else(|| StorageError::corrupt("push token platform", &platform))?,
                    token,
                    device: DeviceId(parse_uuid("push token device", &device)?),
                    person: PersonId(parse_uuid("push token person", &person)?),
                    registered_at: parse_time("push token registered_at", &at)?,
                });
            }
            Ok(tokens)
        })
    }

    fn queued_keys(&self) -> Result<Vec<(Uuid, String)>, StorageError> {
        self.read(|conn| {
            let targets = target_keys(conn)?;
            // Read from the (notice, target) index alone: a few percent of the table's bytes.
            let mut stmt = conn.prepare(QUEUED_KEYS_QUERY)?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?)))?;
            let mut keys = Vec::new();
            for row in rows {
                let (notice, target) = row?;
                let key = targets
                    .get(&target)
                    .ok_or_else(|| StorageError::corrupt("notification target", target))?;
                keys.push((notice_id(&notice)?, key.clone()));
            }
            Ok(keys)
        })
    }

    fn enqueue(&self, rows: &[QueuedNotification]) -> Result<usize, StorageError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let mut conn = self.writer();
        // As before a group of pushes: a long log is let start over before this write, so
        // its commit stays clear of the autocheckpoint backstop (a checkpoint of the whole
        // log on the commit path). The background thread copies what it writes.
        self.let_wal_restart(&conn);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let new = enqueue_in(&tx, rows)?;
        tx.commit()?;
        Ok(new)
    }

    fn reminded(&self) -> Result<Vec<Reminded>, StorageError> {
        self.read(|conn| {
            let mut stmt = conn.prepare("SELECT person, through FROM reminded")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            let mut marks = Vec::new();
            for row in rows {
                let (person, through) = row?;
                marks.push(Reminded {
                    person: PersonId(parse_uuid("reminded person", &person)?),
                    through: instant("reminded through", through)?,
                });
            }
            Ok(marks)
        })
    }

    fn due_notifications(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<QueuedNotification>, StorageError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(DUE_QUERY)?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = stmt.query_map(params![micros(now), limit], |r| Ok(raw_row(r)))?;
            rows.map(|row| queued_from_row(row??)).collect()
        })
    }

    fn record_attempts(
        &self,
        attempts: &[(RowKey, Attempt)],
        gone: &[(PushPlatform, String)],
    ) -> Result<usize, StorageError> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        let mut removed = 0;
        for (platform, token) in gone {
            removed += tx.execute(
                "DELETE FROM push_tokens WHERE platform = ?1 AND token = ?2",
                params![platform.as_str(), token],
            )?;
        }
        for (row, attempt) in attempts {
            write_attempt(&tx, row, attempt)?;
        }
        tx.commit()?;
        Ok(removed)
    }

    fn notifications(
        &self,
        state: Option<DeliveryState>,
        limit: usize,
    ) -> Result<Vec<QueuedNotification>, StorageError> {
        self.read(|conn| {
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = match state {
                Some(state) => conn
                    .prepare_cached(LIST_IN_STATE_QUERY)?
                    .query_map(params![state.as_str(), limit], |r| Ok(raw_row(r)))?
                    .collect::<Result<Vec<_>, _>>()?,
                None => conn
                    .prepare_cached(LIST_QUERY)?
                    .query_map(params![limit], |r| Ok(raw_row(r)))?
                    .collect::<Result<Vec<_>, _>>()?,
            };
            rows.into_iter().map(|row| queued_from_row(row?)).collect()
        })
    }
}

/// Queues `rows` within the caller's transaction; returns how many were new.
pub(super) fn enqueue_in(
    conn: &Connection,
    rows: &[QueuedNotification],
) -> Result<usize, StorageError> {
    let mut target_ids: HashMap<String, i64> = HashMap::new();
    let mut keyed = Vec::with_capacity(rows.len());
    for row in rows {
        let key = row.target.key();
        let target = match target_ids.get(&key) {
            Some(&id) => id,
            None => {
                let id = target_id(conn, &key)?;
                target_ids.insert(key, id);
                id
            }
        };
        keyed.push((*row.notice.id.as_bytes(), target, row));
    }
    // In key order: rows are appended to the table whichever the order, and sorted as the
    // (due time, notice, target) index is, its inserts walk its pages once, front to back.
    keyed.sort_unstable_by_key(|&(notice, target, row)| (row.notice.due_at, notice, target));
    insert_rows(conn, &keyed)
}

/// Moves the reminder marks in `reminded` forward within the caller's transaction.
pub(super) fn remind_in(conn: &Connection, reminded: &[Reminded]) -> Result<(), StorageError> {
    if reminded.is_empty() {
        return Ok(());
    }
    let mut upsert = conn.prepare_cached(REMIND_UPSERT)?;
    for mark in reminded {
        upsert.execute(params![mark.person.to_string(), micros(mark.through)])?;
    }
    Ok(())
}

/// A row to queue: its notice id, its target's id, the row.
type Keyed<'r> = ([u8; 16], i64, &'r QueuedNotification);

/// Inserts `rows` (in order), skipping keys already queued; returns how many were new.
///
/// Encoding the notices (JSON, a fifth of the work) is done on a second thread, a chunk
/// ahead of the inserts, when there are enough rows to be worth a thread.
fn insert_rows(conn: &Connection, rows: &[Keyed<'_>]) -> Result<usize, StorageError> {
    let mut insert = conn.prepare_cached(INSERT_QUERY)?;
    let mut write = |&(notice, target, row): &Keyed<'_>, body: String| {
        insert.execute(params![
            &notice[..],
            target,
            row.state.as_str(),
            row.attempts,
            micros(row.next_attempt_at),
            micros(row.queued_at),
            row.sent_at.map(micros),
            row.last_error,
            body,
            micros(row.notice.due_at),
        ])
    };
    let encode = |chunk: &[Keyed<'_>]| -> Result<Vec<String>, serde_json::Error> {
        chunk
            .iter()
            .map(|(_, _, row)| serde_json::to_string(&row.notice))
            .collect()
    };
    if rows.len() < ENCODE_ALONGSIDE_FROM {
        let mut new = 0;
        for (row, body) in rows.iter().zip(encode(rows)?) {
            new += write(row, body)?;
        }
        return Ok(new);
    }
    std::thread::scope(|scope| {
        let (send, encoded) = mpsc::sync_channel(2);
        scope.spawn(move || {
            for chunk in rows.chunks(ENCODE_CHUNK) {
                // A failed send: the inserts stopped at an error; nothing more to encode.
                if send.send(encode(chunk)).is_err() {
                    return;
                }
            }
        });
        let mut new = 0;
        for (chunk, bodies) in rows.chunks(ENCODE_CHUNK).zip(encoded) {
            for (row, body) in chunk.iter().zip(bodies?) {
                new += write(row, body)?;
            }
        }
        Ok(new)
    })
}

/// The id of target `key` in `outbox_targets`, added if new.
fn target_id(conn: &Connection, key: &str) -> Result<i64, StorageError> {
    conn.prepare_cached(
        "INSERT INTO outbox_targets (key) VALUES (?1) ON CONFLICT (key) DO NOTHING",
    )?
    .execute([key])?;
    Ok(conn
        .prepare_cached("SELECT id FROM outbox_targets WHERE key = ?1")?
        .query_row([key], |r| r.get(0))?)
}

/// Every target's key by id.
fn target_keys(conn: &Connection) -> Result<HashMap<i64, String>, StorageError> {
    let mut stmt = conn.prepare("SELECT id, key FROM outbox_targets")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Updates outbox row `row` after an attempt.
fn write_attempt(conn: &Connection, row: &RowKey, attempt: &Attempt) -> Result<(), StorageError> {
    let (id, key, due) = (
        &row.notice.as_bytes()[..],
        row.target.key(),
        micros(row.due_at),
    );
    match attempt {
        Attempt::Sent { at } => {
            conn.prepare_cached(SENT_UPDATE)?
                .execute(params![id, key, due, micros(*at)])?
        }
        Attempt::Retry { next_at, error } => conn
            .prepare_cached(RETRY_UPDATE)?
            .execute(params![id, key, due, micros(*next_at), error])?,
        Attempt::Dead { error } => conn
            .prepare_cached(DEAD_UPDATE)?
            .execute(params![id, key, due, error])?,
    };
    Ok(())
}

/// An outbox row's columns (`queued_columns!`), undecoded.
type RawQueued = (
    String,
    String,
    u32,
    i64,
    Option<String>,
    i64,
    Option<i64>,
    String,
);

fn raw_row(r: &Row<'_>) -> Result<RawQueued, StorageError> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn queued_from_row(raw: RawQueued) -> Result<QueuedNotification, StorageError> {
    let (target, state, attempts, next_at, last_error, queued_at, sent_at, body) = raw;
    let notice: Notice = serde_json::from_str(&body)?;
    Ok(QueuedNotification {
        notice,
        target: Target::parse(&target)
            .ok_or_else(|| StorageError::corrupt("notification target", &target))?,
        state: DeliveryState::parse(&state)
            .ok_or_else(|| StorageError::corrupt("notification state", &state))?,
        attempts,
        next_attempt_at: instant("notification next_attempt_at", next_at)?,
        last_error,
        queued_at: instant("notification queued_at", queued_at)?,
        sent_at: sent_at
            .map(|at| instant("notification sent_at", at))
            .transpose()?,
    })
}

/// An instant as stored in the outbox: microseconds since the Unix epoch.
fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// From [`micros`].
fn instant(what: &'static str, micros: i64) -> Result<DateTime<Utc>, StorageError> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| StorageError::corrupt(what, format!("bad instant {micros}")))
}

/// A notice id as stored: its 16 bytes.
fn notice_id(bytes: &[u8]) -> Result<Uuid, StorageError> {
    Uuid::from_slice(bytes).map_err(|e| StorageError::corrupt("notification id", e))
}

#[cfg(test)]
mod tests {
    use proofline_core::model::{AlertId, EscalationId, OccurrenceId, RoutineId, SiteId};
    use proofline_core::notify::NoticeKind;

    use super::super::{DATABASE_FILE, migrations};
    use super::*;

    fn at(seconds: i64, micros: u32) -> DateTime<Utc> {
        DateTime::from_timestamp(1_770_000_000 + seconds, micros * 1_000).expect("instant")
    }

    fn notice(n: u128, repeat_failure: bool) -> Notice {
        let kind = if repeat_failure {
            NoticeKind::RepeatFailure {
                alert: AlertId(Uuid::from_u128(n + 7)),
            }
        } else {
            NoticeKind::Escalation {
                escalation: EscalationId(Uuid::from_u128(n + 5)),
                level: 2,
                round: 1,
                fired_at: at(0, 250),
            }
        };
        Notice {
            // Random-looking, as the real (UUIDv5) ids are.
            id: Uuid::new_v5(&Uuid::from_u128(1), &n.to_le_bytes()),
            kind,
            recipient: PersonId(Uuid::from_u128(n + 1)),
            site: SiteId(Uuid::from_u128(n + 2)),
            routine: RoutineId(Uuid::from_u128(n + 3)),
            occurrence: (!repeat_failure).then(|| OccurrenceId(Uuid::from_u128(n + 4))),
            // Whole seconds, and 3, 6 and 9 decimals as JSON spells them (the outbox's
            // key has the due time, read from the JSON when version 8 was migrated to).
            due_at: at(-60, 0)
                + chrono::Duration::nanoseconds(
                    [0, 250_000_000, 123_456_000, 987_654_321]
                        [usize::try_from(n % 4).expect("small")],
                ),
            collapse_key: format!("check-{n}"),
            title: "Fridge temperatures (Harbor Kitchen)".into(),
            body: format!("Check {n} is overdue"),
        }
    }

    fn push(token: &str) -> Target {
        Target::Push {
            platform: PushPlatform::Fcm,
            token: token.into(),
        }
    }

    /// Pending (one retried), sent and dead rows, to two phones and the webhook.
    fn outbox() -> Vec<QueuedNotification> {
        let row = |n, target, state, attempts| QueuedNotification {
            notice: notice(n, n % 2 == 0),
            target,
            state,
            attempts,
            next_attempt_at: at(i64::try_from(n).expect("small") * 10, 123_456),
            last_error: (attempts > 0 && state != DeliveryState::Sent)
                .then(|| format!("503 on attempt {attempts}")),
            queued_at: at(i64::try_from(n).expect("small"), 999_999),
            sent_at: (state == DeliveryState::Sent).then(|| at(500, 1)),
        };
        let long_token = "t".repeat(160);
        vec![
            row(10, push(&long_token), DeliveryState::Pending, 0),
            row(10, Target::Webhook, DeliveryState::Sent, 1),
            row(11, push("other-phone"), DeliveryState::Pending, 3),
            row(12, push(&long_token), DeliveryState::Dead, 8),
            row(13, Target::Webhook, DeliveryState::Dead, 1),
            row(14, push("other-phone"), DeliveryState::Sent, 2),
        ]
    }

    /// Writes `rows` into a database at schema version 4, as that version's server did.
    fn version_4_database(path: &std::path::Path, rows: &[QueuedNotification]) {
        let conn = Connection::open(path).expect("open");
        for sql in &migrations::MIGRATIONS[..4] {
            conn.execute_batch(sql).expect("historic migration");
        }
        conn.pragma_update(None, "user_version", 4)
            .expect("version");
        for row in rows {
            conn.execute(
                "INSERT INTO notifications (notice, target, body, state, attempts,
                                            next_attempt_at, last_error, queued_at, sent_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    row.notice.id.to_string(),
                    row.target.key(),
                    serde_json::to_string(&row.notice).expect("json"),
                    row.state.as_str(),
                    row.attempts,
                    timestamp(row.next_attempt_at),
                    row.last_error,
                    timestamp(row.queued_at),
                    row.sent_at.map(timestamp),
                ],
            )
            .expect("row");
        }
    }

    fn sorted(mut rows: Vec<QueuedNotification>) -> Vec<QueuedNotification> {
        rows.sort_by_key(|r| (r.notice.id, r.target.key()));
        rows
    }

    #[test]
    fn an_upgraded_outbox_reads_back_every_row_and_still_ignores_a_queued_key() {
        let dir = tempfile::tempdir().expect("dir");
        let rows = outbox();
        version_4_database(&dir.path().join(DATABASE_FILE), &rows);

        let storage = SqliteStorage::open(dir.path()).expect("upgrade");
        let listed = storage.notifications(None, usize::MAX).expect("list");
        assert_eq!(sorted(listed.clone()), sorted(rows.clone()));
        // Newest first, as queued.
        let queued: Vec<_> = listed.iter().map(|r| r.queued_at).collect();
        assert!(queued.is_sorted_by(|a, b| a >= b), "{queued:?}");
        let dead = storage
            .notifications(Some(DeliveryState::Dead), usize::MAX)
            .expect("dead letters");
        assert_eq!(
            sorted(dead),
            sorted(
                rows.iter()
                    .filter(|r| r.state == DeliveryState::Dead)
                    .cloned()
                    .collect()
            )
        );
        let mut keys = storage.queued_keys().expect("keys");
        keys.sort();
        let mut expected: Vec<_> = rows.iter().map(|r| (r.notice.id, r.target.key())).collect();
        expected.sort();
        assert_eq!(keys, expected);
        // Due: the pending rows whose next attempt came, soonest first.
        let due = storage.due_notifications(at(115, 0), 10).expect("due");
        let due: Vec<_> = due.iter().map(|r| (r.notice.id, r.attempts)).collect();
        assert_eq!(due, [(rows[0].notice.id, 0), (rows[2].notice.id, 3)]);

        // Queued again (as after a restart), nothing is written and nothing changes.
        let mut again = rows.clone();
        for row in &mut again {
            row.state = DeliveryState::Pending;
            row.attempts = 0;
            row.queued_at = at(900, 0);
        }
        assert_eq!(storage.enqueue(&again).expect("re-enqueue"), 0);
        let after = storage.notifications(None, usize::MAX).expect("list");
        assert_eq!(sorted(after), sorted(rows.clone()));

        // A known notice to a new target and a new notice to a known one are queued.
        let mut fresh = rows[0].clone();
        fresh.target = push("third-phone");
        let mut other = rows[1].clone();
        other.notice = notice(20, false);
        assert_eq!(
            storage
                .enqueue(&[fresh.clone(), other.clone()])
                .expect("new"),
            2
        );
        let keys = storage.queued_keys().expect("keys");
        assert_eq!(keys.len(), rows.len() + 2);
        assert!(keys.contains(&(fresh.notice.id, fresh.target.key())));

        // An attempt on an upgraded row finds it by its key, due time included.
        for row in &rows {
            let retried = Attempt::Retry {
                next_at: at(7_000, 0),
                error: "429".into(),
            };
            storage
                .record_attempts(&[(RowKey::of(row), retried)], &[])
                .expect("recorded");
        }
        let after = storage.notifications(None, usize::MAX).expect("list");
        let retried = after
            .iter()
            .filter(|r| r.next_attempt_at == at(7_000, 0))
            .count();
        assert_eq!(retried, rows.len(), "every upgraded row was found");
    }

    #[test]
    fn attempts_are_recorded_on_their_row() {
        let dir = tempfile::tempdir().expect("dir");
        let storage = SqliteStorage::open(dir.path()).expect("open");
        let pending = |n, target| QueuedNotification {
            notice: notice(n, false),
            target,
            state: DeliveryState::Pending,
            attempts: 0,
            next_attempt_at: at(0, 0),
            last_error: None,
            queued_at: at(0, 0),
            sent_at: None,
        };
        let rows = [
            pending(1, push("a")),
            pending(1, Target::Webhook),
            pending(2, push("a")),
        ];
        assert_eq!(storage.enqueue(&rows).expect("enqueue"), 3);
        let attempts = [
            (RowKey::of(&rows[0]), Attempt::Sent { at: at(5, 7) }),
            (
                RowKey::of(&rows[1]),
                Attempt::Retry {
                    next_at: at(60, 0),
                    error: "502".into(),
                },
            ),
            (
                RowKey::of(&rows[2]),
                Attempt::Dead {
                    error: "410".into(),
                },
            ),
        ];
        storage.record_attempts(&attempts, &[]).expect("recorded");
        let mut expected = rows.to_vec();
        expected[0].state = DeliveryState::Sent;
        expected[0].attempts = 1;
        expected[0].sent_at = Some(at(5, 7));
        expected[1].attempts = 1;
        expected[1].next_attempt_at = at(60, 0);
        expected[1].last_error = Some("502".into());
        expected[2].state = DeliveryState::Dead;
        expected[2].attempts = 1;
        expected[2].last_error = Some("410".into());
        let listed = storage.notifications(None, usize::MAX).expect("list");
        assert_eq!(sorted(listed), sorted(expected));
        assert!(
            storage
                .due_notifications(at(59, 0), 10)
                .expect("due")
                .is_empty()
        );
        assert_eq!(
            storage.due_notifications(at(60, 0), 10).expect("due").len(),
            1
        );
    }

    #[test]
    fn a_reminder_mark_only_moves_forward_and_survives_a_reopen() {
        let dir = tempfile::tempdir().expect("dir");
        let (sam, kim) = (PersonId(Uuid::from_u128(1)), PersonId(Uuid::from_u128(2)));
        let mark = |person, through| Reminded { person, through };
        {
            let storage = SqliteStorage::open(dir.path()).expect("open");
            let write = |marks: &[Reminded]| {
                let mut conn = storage.writer();
                let tx = conn.transaction().expect("tx");
                remind_in(&tx, marks).expect("marks");
                tx.commit().expect("commit");
            };
            write(&[mark(sam, at(20, 0)), mark(kim, at(15, 0))]);
            // An older mark (a tick that gathered fewer rounds) does not move it back.
            write(&[mark(sam, at(10, 0)), mark(kim, at(30, 0))]);
        }
        let storage = SqliteStorage::open(dir.path()).expect("reopen");
        let mut marks = storage.reminded().expect("marks");
        marks.sort_by_key(|m| m.person);
        assert_eq!(marks, vec![mark(sam, at(20, 0)), mark(kim, at(30, 0))]);
    }
}
