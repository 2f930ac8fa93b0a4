//! The store's error: what went wrong underneath (SQLite, the file system, decoding a row)
//! or a rule of the log that a write would break. The device facade maps it to the one
//! error the apps see; nothing else does.

use thiserror::Error;

/// Why a store operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// SQLite failed (I/O, locking, a full disk, a constraint).
    #[error("the local database failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file system failed (creating the store's directory).
    #[error("the device's files cannot be written: {0}")]
    Io(#[from] std::io::Error),
    /// A stored row cannot be decoded (a corrupt or tampered row).
    #[error("a stored {what} cannot be read: {detail}")]
    Corrupt {
        /// What kind of row ("event", "device identity"…).
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// The database was written by a newer Proofline (its schema is ahead of this build).
    #[error(
        "the local database has schema version {found}, newer than this app knows ({latest}); update the app"
    )]
    SchemaTooNew {
        /// The database's `user_version`.
        found: u32,
        /// The newest version this build knows.
        latest: u32,
    },
    /// The database already belongs to a device.
    #[error("this database already belongs to a device")]
    AlreadyInitialised,
    /// The database has no device identity yet.
    #[error("this database has not been set up as a device")]
    NotInitialised,
    /// A pulled event cannot be stored: its hash does not match its fields, or it claims a
    /// place in a device's chain that another event holds. Nothing of its page was stored.
    #[error("the server sent event {event} that cannot be stored: {detail}")]
    BadPulledEvent {
        /// The event's id.
        event: crate::model::EventId,
        /// What is wrong with it.
        detail: String,
    },
    /// A payload cannot be encoded as JSON (never expected for model types).
    #[error("an event cannot be encoded: {0}")]
    Encode(#[from] serde_json::Error),
}

impl StoreError {
    /// A corrupt-row error.
    pub(crate) fn corrupt(what: &'static str, detail: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt {
            what,
            detail: detail.to_string(),
        }
    }
}
