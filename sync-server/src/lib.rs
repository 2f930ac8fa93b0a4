//! The Proofline sync server: enrollment and auth, the event log per site, the blob store
//! for photo proof and the admin API (docs/sync.md; wire types in
//! `proofline_core::sync::protocol`).
//!
//! Modules, named for what they own:
//! - [`cli`]: the `proofline-server` command line;
//! - [`server`]: configuration, start-up, shutdown, [`start`] for tests and benches;
//! - [`app`]: shared state and the router;
//! - [`http`]: extractors, error-body and metrics middleware, fallbacks;
//! - [`error`]: the one mapping from errors to HTTP answers;
//! - [`auth`]: tokens, enrollment codes, hashing;
//! - [`enroll`], [`sync`], [`blobs`], [`admin`]: the routes;
//! - [`writer`]: the thread that records pushes, in group commits;
//! - [`dispatch`]: the escalation dispatcher (notices due → durable outbox → push
//!   services and webhook) and [`push_tokens`], the devices' registration route;
//! - [`ruling`] and [`trust`]: how a pushed event is ruled on;
//! - [`org`]: the org the server derives from accepted definitions;
//! - [`devices`]: enrolled devices in memory;
//! - [`storage`]: the durable store (SQLite) behind a trait;
//! - [`blob_files`]: blob bytes on disk;
//! - [`metrics`]: Prometheus counters;
//! - [`demo`]: the `--demo` seed and codes.

pub mod admin;
pub mod app;
pub mod auth;
pub mod blob_files;
pub mod blobs;
pub mod cli;
pub mod demo;
pub mod devices;
pub mod dispatch;
pub mod enroll;
pub mod error;
pub mod http;
pub mod metrics;
pub mod org;
pub mod push_tokens;
pub mod ruling;
pub mod server;
pub mod storage;
pub mod sync;
pub mod trust;
pub mod writer;

pub use server::{Config, RunningServer, ServerError, Startup, start};
