//! The local SQLite store: migrations, the append-only event log with per-device hash chain, outbox, blob index and sync cursors.
