//! Routines as code: the TOML routines file, parsed and validated into an [`Org`].
//!
//! A site lead describes an org's sites, people, absences and routines in one TOML file; this
//! module turns it into the domain model, or into one [`RoutinesFileError`] whose message is a
//! single line naming the file, the entity (site, person, routine…) and the field at fault.
//! Nothing here panics on input.
//!
//! # Format
//!
//! ```toml
//! org = "Harbor Kitchen Group"
//!
//! [[sites]]
//! key = "harbor"                      # letters, digits, '-' and '_'
//! name = "Harbor Kitchen"
//! time_zone = "America/New_York"      # IANA zone
//! closed_on = ["sun"]                 # optional weekdays (mon … sun)
//! holidays = [{ date = "2026-12-25", name = "Christmas Day" }]
//!
//! [[people]]
//! key = "maria"
//! name = "Maria Lopez"
//! roles = { harbor = "staff" }        # site key = staff | supervisor | lead | admin
//!
//! [[absences]]
//! person = "maria"
//! from = "2026-12-01T00:00"           # local time in the zone of the person's first site
//! until = "2026-12-08T00:00"          # (first in [[sites]] order), a date, or RFC 3339
//! reason = "annual leave"
//!
//! [[routines]]
//! key = "fridge-temps"
//! site = "harbor"
//! title = "Fridge temperatures"
//! instructions = "…"                  # optional
//! version = 1                         # optional, default 1
//! owner = "maria"                     # a member of the site
//! backup = "sam"                      # optional, a member of the site
//! fallback_role = "supervisor"        # optional, default supervisor
//! rrule = "FREQ=DAILY;BYHOUR=6,10,14,18,22;BYMINUTE=0"
//! start = "2026-01-01T06:00"          # local anchor in the site's zone
//! exdates = ["2026-07-04T06:00"]      # optional local times to leave out
//! # instead of rrule/exdates: after_completion = { days = 30, at = "09:00" }, with start
//! closed_days = "skip"                # skip | move_earlier | move_later | run_anyway
//! window = { opens_before = "30m", grace = "15m", closes_after = "2h" }
//! repeat_failure = { missed = 2, of_last = 5 }
//!
//! [[routines.steps]]
//! key = "walk-in"
//! title = "Walk-in cooler"
//! kind = "reading"                    # check | reading | photo | choice | text | signature
//! unit = "°C"                         # reading: unit (required), min, max
//! min = 1.0                           # photo: min_count (default 1)
//! max = 5.0                           # choice: options
//! required = true                     # optional, default true
//!
//! [[routines.escalation]]
//! after = "15m"                       # from the due time, increasing level by level
//! notify = ["assignee", "sam", "role:supervisor"]
//! renotify_every = "30m"              # optional
//! ```
//!
//! Durations are written like `15m`, `2h`, `1h30m` or `1d`. Dates and times may be TOML
//! strings or TOML date-time literals. Unknown fields are errors, so typos never go unnoticed.
//!
//! # Ids
//!
//! Ids are deterministic, so every device and the server derive the same ones from the same
//! file: UUIDv5 in [`PROOFLINE_NAMESPACE`] of `site:{site_key}` ([`SiteId`]),
//! `person:{person_key}` ([`PersonId`]) and `routine:{site_key}/{routine_key}` ([`RoutineId`]).
//! Routine keys are unique per site; site and person keys are unique in the file.
//!
//! # Modules
//!
//! - `error`: the error, and how faults name entities and fields;
//! - `values`: durations, dates, times, instants and keys as written in the file;
//! - `fields`: a TOML table read as one entity's typed fields;
//! - `org`: the file's top level, assembled from the parts below;
//! - `sites`, `people`, `absences`, `routines` (with `steps` and `escalation`): one entity each.

mod absences;
mod error;
mod escalation;
mod fields;
mod org;
mod people;
mod routines;
mod sites;
mod steps;
mod values;

#[cfg(test)]
mod tests;

use std::path::Path;

use toml::Table;
use uuid::Uuid;

use crate::model::{Org, PROOFLINE_NAMESPACE, PersonId, RoutineId, SiteId};

pub use error::{Entity, FieldFault, Label, Problem, RoutinesFileError};
pub use values::{format_duration, parse_duration, parse_local_datetime};

/// Reads and validates a routines file. Errors name `path` as given.
pub fn load_routines_file(path: &Path) -> Result<Org, RoutinesFileError> {
    let shown = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => parse_routines_file(&shown, &text),
        Err(source) => Err(RoutinesFileError::Read {
            path: shown,
            source,
        }),
    }
}

/// Parses and validates the text of a routines file; `path_for_messages` names the file in
/// errors.
pub fn parse_routines_file(path_for_messages: &str, text: &str) -> Result<Org, RoutinesFileError> {
    let table: Table = toml::from_str(text).map_err(|err| {
        let offset = err.span().map(|s| s.start).unwrap_or(0);
        let (line, column) = line_column(text, offset);
        RoutinesFileError::Syntax {
            path: path_for_messages.to_string(),
            line,
            column,
            message: err.message().trim().replace('\n', " "),
        }
    })?;
    org::build_org(&table).map_err(|fault| RoutinesFileError::Invalid {
        path: path_for_messages.to_string(),
        fault,
    })
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The id of the site with `key`: UUIDv5 of `site:{key}`.
pub fn site_id(key: &str) -> SiteId {
    SiteId(derived(&format!("site:{key}")))
}

/// The id of the person with `key`: UUIDv5 of `person:{key}`.
pub fn person_id(key: &str) -> PersonId {
    PersonId(derived(&format!("person:{key}")))
}

/// The id of routine `routine_key` at site `site_key`: UUIDv5 of `routine:{site}/{routine}`.
pub fn routine_id(site_key: &str, routine_key: &str) -> RoutineId {
    RoutineId(derived(&format!("routine:{site_key}/{routine_key}")))
}

fn derived(name: &str) -> Uuid {
    Uuid::new_v5(&PROOFLINE_NAMESPACE, name.as_bytes())
}
