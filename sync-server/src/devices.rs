//! The enrolled devices, in memory: looked up by token hash on every request (no database
//! read per request), with `last_seen` and the clock offset kept fresh here and written to
//! the database at most once a minute per device (pushes write it with their batch).
//!
//! Every change to a device goes to the database first, then here.

use std::collections::HashMap;
use std::sync::RwLock;

use chrono::{DateTime, Duration, Utc};
use proofline_core::model::DeviceId;

use crate::storage::DeviceRecord;

/// How stale the stored `last_seen` may get before a request writes it.
const PERSIST_SEEN_EVERY_SECS: i64 = 60;

/// What a token lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A device in good standing.
    Active(DeviceRecord),
    /// A device an admin revoked.
    Revoked(DeviceRecord),
    /// No device has this token.
    Unknown,
}

#[derive(Debug, Default)]
struct Registry {
    by_token: HashMap<String, DeviceId>,
    devices: HashMap<DeviceId, Entry>,
}

#[derive(Debug)]
struct Entry {
    record: DeviceRecord,
    persisted_seen: Option<DateTime<Utc>>,
}

/// The device registry.
#[derive(Debug, Default)]
pub struct Devices {
    inner: RwLock<Registry>,
}

impl Devices {
    /// A registry of `records` (as stored).
    pub fn new(records: Vec<DeviceRecord>) -> Devices {
        let devices = Devices::default();
        for record in records {
            devices.insert(record);
        }
        devices
    }

    /// Adds (or replaces) a device.
    pub fn insert(&self, record: DeviceRecord) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        inner
            .by_token
            .insert(record.token_sha256.clone(), record.id);
        let persisted_seen = record.last_seen;
        inner.devices.insert(
            record.id,
            Entry {
                record,
                persisted_seen,
            },
        );
    }

    /// The device holding the token whose SHA-256 is `token_sha256`.
    pub fn lookup(&self, token_sha256: &str) -> Lookup {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = inner
            .by_token
            .get(token_sha256)
            .and_then(|id| inner.devices.get(id))
        else {
            return Lookup::Unknown;
        };
        if entry.record.revoked_at.is_some() {
            Lookup::Revoked(entry.record.clone())
        } else {
            Lookup::Active(entry.record.clone())
        }
    }

    /// A device by id.
    pub fn get(&self, id: DeviceId) -> Option<DeviceRecord> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        inner.devices.get(&id).map(|e| e.record.clone())
    }

    /// Notes a request from `id` at `now`; `true` when the stored `last_seen` is stale
    /// enough to write.
    pub fn seen(&self, id: DeviceId, now: DateTime<Utc>) -> bool {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = inner.devices.get_mut(&id) else {
            return false;
        };
        entry.record.last_seen = Some(now);
        let stale = entry
            .persisted_seen
            .is_none_or(|at| now - at >= Duration::seconds(PERSIST_SEEN_EVERY_SECS));
        if stale {
            entry.persisted_seen = Some(now);
        }
        stale
    }

    /// Notes that a push stored `last_seen = now` and, when given, the clock offset.
    pub fn pushed(&self, id: DeviceId, now: DateTime<Utc>, clock_offset_ms: Option<i64>) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = inner.devices.get_mut(&id) {
            entry.record.last_seen = Some(now);
            entry.persisted_seen = Some(now);
            if clock_offset_ms.is_some() {
                entry.record.clock_offset_ms = clock_offset_ms;
            }
        }
    }

    /// Marks a device revoked (already stored so).
    pub fn revoke(&self, id: DeviceId, now: DateTime<Utc>) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = inner.devices.get_mut(&id) {
            entry.record.revoked_at.get_or_insert(now);
        }
    }

    /// Every device, oldest first.
    pub fn list(&self) -> Vec<DeviceRecord> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let mut records: Vec<DeviceRecord> =
            inner.devices.values().map(|e| e.record.clone()).collect();
        records.sort_by_key(|a| (a.created_at, a.id));
        records
    }

    /// Devices not revoked.
    pub fn active_count(&self) -> usize {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        inner
            .devices
            .values()
            .filter(|e| e.record.revoked_at.is_none())
            .count()
    }

    /// The longest time since an active device was last seen (0 without devices).
    pub fn max_lag(&self, now: DateTime<Utc>) -> Duration {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        inner
            .devices
            .values()
            .filter(|e| e.record.revoked_at.is_none())
            .map(|e| now - e.record.last_seen.unwrap_or(e.record.created_at))
            .max()
            .unwrap_or_else(Duration::zero)
            .max(Duration::zero())
    }

    /// Devices whose `last_seen` in memory is newer than what is stored, to write at
    /// shutdown.
    pub fn unsaved_seen(&self) -> Vec<(DeviceId, DateTime<Utc>)> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        inner
            .devices
            .values()
            .filter_map(|e| {
                let seen = e.record.last_seen?;
                (e.persisted_seen != Some(seen)).then_some((e.record.id, seen))
            })
            .collect()
    }
}
