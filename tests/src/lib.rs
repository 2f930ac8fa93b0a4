//! Test harness for the end-to-end tests: the real server as a child process
//! ([`server`]), its admin API ([`admin`]), a read-only protocol client ([`auditor`]), a
//! fault-injecting TCP proxy ([`proxy`]), a seeded PRNG ([`rng`]), the Harbor Kitchen
//! world the sync tests play in ([`restaurant`], [`scenario`]), and a stub chat webhook
//! that counts the alerts it receives ([`webhook_stub`]).
//!
//! The tests (`tests/sync_converge.rs`, `tests/sync_crash.rs`) start everything they need
//! on loopback ephemeral ports and stop it themselves. Every random choice comes from a
//! printed seed; `PROOFLINE_E2E_SEED=<seed>` replays a run (it replaces every test's
//! seed). `PROOFLINE_E2E_SERVER_LOG` sets the server's `RUST_LOG` (default `info`); a
//! failing test prints the tail of the server's log.

pub mod admin;
pub mod auditor;
pub mod proxy;
pub mod restaurant;
pub mod rng;
pub mod scenario;
pub mod server;
pub mod webhook_stub;
