//! Harbor Kitchen (`examples/restaurant.toml`, America/New_York): ids, local times, step
//! answers and photo fixtures for the scenarios.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use proofline_core::model::{OccurrenceId, PersonId, RoutineId, SiteId, StepAnswer, StepResult};
use proofline_core::occurrence::occurrence_id;
use proofline_core::proof::{CaptureOptions, prepare_photo};
use proofline_core::routines_file::{person_id, routine_id, site_id};
use proofline_core::zone::local_to_instant;

/// The site's zone.
pub const NEW_YORK: Tz = chrono_tz::America::New_York;

/// The site's key.
pub const SITE: &str = "harbor";

/// The routines file's text.
pub fn routines_file() -> String {
    let path = crate_dir().join("../examples/restaurant.toml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `"2026-12-02 07:35"` in New York, as an instant.
pub fn ny(local: &str) -> DateTime<Utc> {
    let local = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M")
        .unwrap_or_else(|e| panic!("test time {local:?}: {e}"));
    local_to_instant(NEW_YORK, local)
}

/// The site's id.
pub fn site() -> SiteId {
    site_id(SITE)
}

/// A person's id by key.
pub fn person(key: &str) -> PersonId {
    person_id(key)
}

/// A routine's id by key.
pub fn routine(key: &str) -> RoutineId {
    routine_id(SITE, key)
}

/// The occurrence of routine `key` due at `local_due` (New York).
pub fn occurrence(key: &str, local_due: &str) -> OccurrenceId {
    occurrence_id(routine(key), ny(local_due))
}

/// A ticked step.
pub fn checked(step: &str) -> StepResult {
    StepResult {
        step: step.into(),
        answer: StepAnswer::Checked,
    }
}

/// A reading, with a corrective action when given.
pub fn reading(step: &str, value: f64, corrective_action: Option<&str>) -> StepResult {
    StepResult {
        step: step.into(),
        answer: StepAnswer::Reading {
            value,
            corrective_action: corrective_action.map(str::to_string),
        },
    }
}

/// A chosen option.
pub fn choice(step: &str, option: &str) -> StepResult {
    StepResult {
        step: step.into(),
        answer: StepAnswer::Choice {
            option: option.into(),
        },
    }
}

/// Free text.
pub fn text(step: &str, text: &str) -> StepResult {
    StepResult {
        step: step.into(),
        answer: StepAnswer::Text { text: text.into() },
    }
}

/// The fridge readings of one check, in range.
pub fn fridge_readings(walk_in: f64, reach_in: f64) -> Vec<StepResult> {
    vec![
        reading("walk-in", walk_in, None),
        reading("reach-in", reach_in, None),
    ]
}

/// The bytes of a photo fixture in `shared/fixtures/photos/` (e.g.
/// `leaf-2560x1600.jpg`).
pub fn photo_fixture(name: &str) -> Vec<u8> {
    let path = crate_dir().join("../../shared/fixtures/photos").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// A photo fixture as a phone camera asked for a small picture would hand it over: the
/// fixture run once through the capture pipeline at `max_edge` (upright, no metadata),
/// memoised per test binary. Capturing it on a device is several times faster in a debug
/// build than capturing the full fixture (about 0.6 s instead of 5 s at 800 px), and it
/// stays a real photo.
pub fn camera_photo(name: &str, max_edge: u32) -> Arc<Vec<u8>> {
    type Cells = Mutex<HashMap<(String, u32), Arc<OnceLock<Arc<Vec<u8>>>>>>;
    static CELLS: OnceLock<Cells> = OnceLock::new();
    let cell = {
        let mut map = CELLS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        Arc::clone(map.entry((name.to_string(), max_edge)).or_default())
    };
    Arc::clone(cell.get_or_init(|| {
        let prepared = prepare_photo(
            &photo_fixture(name),
            &CaptureOptions::with_max_edge(max_edge),
        )
        .unwrap_or_else(|e| panic!("fixture {name} at {max_edge} px: {e}"));
        Arc::new(prepared.jpeg)
    }))
}

/// The SHA-256s of every photo a completion's answers reference.
pub fn photos_of(results: &[StepResult]) -> Vec<String> {
    results
        .iter()
        .filter_map(|r| match &r.answer {
            StepAnswer::Photos { sha256 } => Some(sha256.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
