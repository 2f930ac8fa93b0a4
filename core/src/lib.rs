//! Proofline's shared core: the domain model and the engines every client runs.
//!
//! The same code runs on the phones (offline reminders and attention) and on the server
//! (authoritative escalation): given the same definitions, events and `now`, both compute
//! the same states. Nothing in this crate reads a clock; time is always a parameter.
//!
//! Modules, named for the domain (see `../shared/DESIGN.md`):
//! - [`model`]: org, sites, people, routines, absences and the events state derives from;
//! - [`cadence`]: RRULE and after-completion cadences, expanded in the site's zone;
//! - [`occurrence`]: deterministic occurrence ids, windows and status;
//! - [`completion`]: proof requirements checked against step results;
//! - [`assignee`]: the one named person for each occurrence;
//! - [`escalation`]: the escalation timeline of an occurrence;
//! - [`repeat_failure`]: missed K of the last N → one alert per streak;
//! - [`attention`]: a person's attention feed;
//! - [`notify`]: the alerts due now (escalation levels, repeat failures), for push;
//! - [`plan`]: a site's occurrences over a period, with everything above;
//! - [`agenda`]: my checks today and one occurrence in full;
//! - [`review`]: missed checks and compliance for site leads;
//! - [`reminders`]: local notifications to schedule while offline;
//! - [`proof`]: photo proof capture and the content-addressed blob store;
//! - [`store`]: the local SQLite store (event log, outbox, blob index, cursors);
//! - [`sync`]: the sync protocol and the device's client for it;
//! - [`device`]: the facade the apps and the CLI call;
//! - [`routines_file`]: the TOML routines file;
//! - [`zone`]: local time → instant under the DST policy;
//! - [`civil`]: calendar arithmetic for the engine's inner loop.

pub mod agenda;
pub mod assignee;
pub mod attention;
pub mod cadence;
pub mod civil;
pub mod completion;
pub mod device;
pub mod escalation;
pub mod ids;
pub mod model;
pub mod notify;
pub mod occurrence;
pub mod plan;
pub mod proof;
pub mod reminders;
pub mod repeat_failure;
pub mod review;
pub mod routines_file;
pub mod store;
pub mod sync;
pub mod zone;
