//! Sync cursors: how far this device has pulled from each server.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use crate::store::{Store, StoreError, timestamp};

impl Store {
    /// The pull cursor for `server` (its base URL), if the device has pulled from it.
    pub fn cursor(&self, server: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT cursor FROM sync_cursors WHERE server = ?1",
                params![server],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Records the pull cursor for `server`.
    pub fn set_cursor(
        &mut self,
        server: &str,
        cursor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO sync_cursors (server, cursor, changed_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (server) DO UPDATE SET cursor = excluded.cursor,
                                                changed_at = excluded.changed_at",
            params![server, cursor, timestamp(now)],
        )?;
        Ok(())
    }
}
