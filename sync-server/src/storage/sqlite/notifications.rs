//! [`NotificationStore`] on SQLite: tables `push_tokens` and `notifications`
//! (migration 3).

use chrono::{DateTime, Utc};
use proofline_core::model::{DeviceId, PersonId};
use proofline_core::notify::Notice;
use rusqlite::{Connection, Row, params};
use uuid::Uuid;

use super::{SqliteStorage, parse_time, parse_uuid, timestamp};
use crate::storage::StorageError;
use crate::storage::notifications::{
    Attempt, DeliveryState, NotificationStore, PushPlatform, PushToken, QueuedNotification, Target,
};

/// The columns [`queued_from_row`] reads, in order.
const QUEUED_COLUMNS: &str =
    "notice, target, state, attempts, next_attempt_at, last_error, queued_at, sent_at";

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
            let mut stmt = conn.prepare("SELECT notice, target FROM notifications")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?;
            let mut keys = Vec::new();
            for row in rows {
                let (notice, target) = row?;
                keys.push((parse_uuid("notification id", &notice)?, target));
            }
            Ok(keys)
        })
    }

    fn enqueue(&self, rows: &[QueuedNotification]) -> Result<usize, StorageError> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        let mut new = 0;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO notifications (notice, target, body, state, attempts,
                                            next_attempt_at, last_error, queued_at, sent_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT DO NOTHING",
            )?;
            // In key order: the table is clustered on (notice, target), and notice ids are
            // random, so rows inserted as they come touch a random page each (a first tick
            // queues hundreds of thousands); sorted, they fill pages one after another.
            let mut keyed: Vec<(String, String, &QueuedNotification)> = rows
                .iter()
                .map(|row| (row.notice.id.to_string(), row.target.key(), row))
                .collect();
            keyed.sort_unstable_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
            for (notice, target, row) in keyed {
                new += insert.execute(params![
                    notice,
                    target,
                    serde_json::to_string(&row.notice)?,
                    row.state.as_str(),
                    row.attempts,
                    timestamp(row.next_attempt_at),
                    row.last_error,
                    timestamp(row.queued_at),
                    row.sent_at.map(timestamp),
                ])?;
            }
        }
        tx.commit()?;
        Ok(new)
    }

    fn due_notifications(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<QueuedNotification>, StorageError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {QUEUED_COLUMNS}, body FROM notifications
                  WHERE state = 'pending' AND next_attempt_at <= ?1
                  ORDER BY next_attempt_at, queued_at LIMIT ?2"
            ))?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = stmt.query_map(params![timestamp(now), limit], |r| Ok(raw_row(r)))?;
            rows.map(|row| queued_from_row(row??)).collect()
        })
    }

    fn record_attempts(
        &self,
        attempts: &[(Uuid, Target, Attempt)],
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
        for (notice, target, attempt) in attempts {
            write_attempt(&tx, *notice, target, attempt)?;
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
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {QUEUED_COLUMNS}, body FROM notifications
                  WHERE ?1 IS NULL OR state = ?1
                  ORDER BY queued_at DESC, notice LIMIT ?2"
            ))?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = stmt.query_map(params![state.map(DeliveryState::as_str), limit], |r| {
                Ok(raw_row(r))
            })?;
            rows.map(|row| queued_from_row(row??)).collect()
        })
    }
}

/// Updates the outbox row `(notice, target)` after an attempt.
fn write_attempt(
    conn: &Connection,
    notice: Uuid,
    target: &Target,
    attempt: &Attempt,
) -> Result<(), StorageError> {
    let (id, key) = (notice.to_string(), target.key());
    match attempt {
        Attempt::Sent { at } => conn.execute(
            "UPDATE notifications
                SET state = 'sent', attempts = attempts + 1, sent_at = ?3, last_error = NULL
              WHERE notice = ?1 AND target = ?2",
            params![id, key, timestamp(*at)],
        )?,
        Attempt::Retry { next_at, error } => conn.execute(
            "UPDATE notifications
                SET attempts = attempts + 1, next_attempt_at = ?3, last_error = ?4
              WHERE notice = ?1 AND target = ?2",
            params![id, key, timestamp(*next_at), error],
        )?,
        Attempt::Dead { error } => conn.execute(
            "UPDATE notifications
                SET state = 'dead', attempts = attempts + 1, last_error = ?3
              WHERE notice = ?1 AND target = ?2",
            params![id, key, error],
        )?,
    };
    Ok(())
}

/// A `notifications` row's columns ([`QUEUED_COLUMNS`] then `body`), undecoded.
type RawQueued = (
    String,
    String,
    String,
    u32,
    String,
    Option<String>,
    String,
    Option<String>,
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
        r.get(8)?,
    ))
}

fn queued_from_row(raw: RawQueued) -> Result<QueuedNotification, StorageError> {
    let (_, target, state, attempts, next_at, last_error, queued_at, sent_at, body) = raw;
    let notice: Notice = serde_json::from_str(&body)?;
    Ok(QueuedNotification {
        notice,
        target: Target::parse(&target)
            .ok_or_else(|| StorageError::corrupt("notification target", &target))?,
        state: DeliveryState::parse(&state)
            .ok_or_else(|| StorageError::corrupt("notification state", &state))?,
        attempts,
        next_attempt_at: parse_time("notification next_attempt_at", &next_at)?,
        last_error,
        queued_at: parse_time("notification queued_at", &queued_at)?,
        sent_at: sent_at
            .map(|at| parse_time("notification sent_at", &at))
            .transpose()?,
    })
}
