//! Unit tests of the routines file: a valid base file, then one edit per error message.

use std::path::Path;

use chrono::Weekday;
use uuid::Uuid;

use super::*;
use crate::model::{Cadence, Org, PROOFLINE_NAMESPACE, Recipient, Role, StepKind};

const BASE: &str = r#"
org = "Harbor Kitchen Group"

[[sites]]
key = "harbor"
name = "Harbor Kitchen"
time_zone = "America/New_York"
closed_on = ["sun"]
holidays = [{ date = "2026-12-25", name = "Christmas Day" }]

[[people]]
key = "maria"
name = "Maria Lopez"
roles = { harbor = "staff" }

[[people]]
key = "sam"
name = "Sam Reed"
roles = { harbor = "supervisor" }

[[absences]]
person = "maria"
from = "2026-12-01T00:00"
until = "2026-12-08T00:00"
reason = "annual leave"

[[routines]]
key = "fridge-temps"
site = "harbor"
title = "Fridge temperatures"
owner = "maria"
backup = "sam"
rrule = "FREQ=DAILY;BYHOUR=6,10,14,18,22;BYMINUTE=0"
start = "2026-01-01T06:00"
window = { opens_before = "30m", grace = "15m", closes_after = "2h" }

[[routines.steps]]
key = "walk-in"
title = "Walk-in cooler"
kind = "reading"
unit = "°C"
min = 1
max = 5

[[routines.escalation]]
after = "15m"
notify = ["assignee"]

[[routines.escalation]]
after = "30m"
notify = ["sam", "role:supervisor"]
renotify_every = "30m"
"#;

fn parse(text: &str) -> Result<Org, RoutinesFileError> {
    parse_routines_file("examples/bad.toml", text)
}

/// The error message of `BASE` with `from` replaced by `to`.
fn error_with(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "test edit {from:?} does not apply");
    match parse(&BASE.replacen(from, to, 1)) {
        Ok(_) => panic!("expected an error after replacing {from:?} with {to:?}"),
        Err(err) => err.to_string(),
    }
}

#[test]
fn base_file_parses_with_deterministic_ids() {
    let org = parse(BASE).expect("base file is valid");
    assert_eq!(org.name, "Harbor Kitchen Group");
    assert_eq!(org.sites[0].id, site_id("harbor"));
    assert_eq!(
        org.sites[0].id.0,
        Uuid::new_v5(&PROOFLINE_NAMESPACE, b"site:harbor")
    );
    assert_eq!(
        org.routines[0].id.0,
        Uuid::new_v5(&PROOFLINE_NAMESPACE, b"routine:harbor/fridge-temps")
    );
    assert_eq!(org.people[1].id, person_id("sam"));
    assert_eq!(org.routines[0].version, 1);
    assert_eq!(org.routines[0].backup, Some(person_id("sam")));
    assert_eq!(org.routines[0].escalation[1].renotify_every_min, Some(30));
    assert_eq!(
        org.routines[0].escalation[1].notify,
        vec![
            Recipient::Person(person_id("sam")),
            Recipient::Role(Role::Supervisor)
        ]
    );
    assert_eq!(
        org.routines[0].steps[0].kind,
        StepKind::Reading {
            unit: "°C".into(),
            min: Some(1.0),
            max: Some(5.0)
        }
    );
    // Local midnight in New York (EST, UTC-5).
    assert_eq!(
        org.absences[0].from.to_rfc3339(),
        "2026-12-01T05:00:00+00:00"
    );
    assert_eq!(org.sites[0].closed_weekdays, vec![Weekday::Sun]);
}

#[test]
fn toml_literals_and_offsets_are_accepted() {
    let text = BASE
        .replace("from = \"2026-12-01T00:00\"", "from = 2026-12-01T00:00:00Z")
        .replace(
            "start = \"2026-01-01T06:00\"",
            "start = 2026-01-01T06:00:00",
        )
        .replace("date = \"2026-12-25\"", "date = 2026-12-25");
    let org = parse(&text).expect("valid");
    assert_eq!(
        org.absences[0].from.to_rfc3339(),
        "2026-12-01T00:00:00+00:00"
    );
}

#[test]
fn after_completion_cadence() {
    let org = parse(&BASE.replace(
        "rrule = \"FREQ=DAILY;BYHOUR=6,10,14,18,22;BYMINUTE=0\"",
        "after_completion = { days = 30, at = \"09:00\" }",
    ))
    .expect("valid");
    assert!(matches!(
        org.routines[0].cadence,
        Cadence::AfterCompletion { days: 30, .. }
    ));
}

#[test]
fn durations_round_trip() {
    assert_eq!(parse_duration("15m"), Some(15));
    assert_eq!(parse_duration("1h30m"), Some(90));
    assert_eq!(parse_duration("1d"), Some(1440));
    assert_eq!(parse_duration("0"), Some(0));
    assert_eq!(parse_duration("30m1h"), None);
    assert_eq!(parse_duration("15"), None);
    assert_eq!(parse_duration("m"), None);
    assert_eq!(parse_duration("99999999999m"), None);
    assert_eq!(format_duration(90), "1h30m");
    assert_eq!(format_duration(60), "1h");
    assert_eq!(format_duration(1440), "1d");
    assert_eq!(format_duration(0), "0m");
}

#[test]
fn error_syntax_with_line() {
    assert_eq!(
        error_with("title = \"Fridge temperatures\"", "title = \"Fridge"),
        "examples/bad.toml: line 30, column 16: invalid TOML: invalid basic string, expected `\"`"
    );
}

#[test]
fn error_unreadable_file() {
    let err = load_routines_file(Path::new("/nonexistent/proofline.toml"))
        .expect_err("no such file")
        .to_string();
    assert!(
        err.starts_with("/nonexistent/proofline.toml: cannot read the file: "),
        "{err}"
    );
}

#[test]
fn error_missing_org() {
    assert_eq!(
        error_with("org = \"Harbor Kitchen Group\"", ""),
        "examples/bad.toml: field org: missing"
    );
}

#[test]
fn error_unknown_top_level_field() {
    assert_eq!(
        error_with("org = \"Harbor Kitchen Group\"", "org = \"X\"\nsite = 1"),
        "examples/bad.toml: field site: unknown field (expected one of: org, sites, people, absences, routines)"
    );
}

#[test]
fn error_unknown_time_zone() {
    assert_eq!(
        error_with("America/New_York", "America/Nowhere"),
        "examples/bad.toml: site \"harbor\": field time_zone: unknown time zone \"America/Nowhere\""
    );
}

#[test]
fn error_bad_key() {
    assert_eq!(
        error_with("key = \"harbor\"", "key = \"harbor kitchen\""),
        "examples/bad.toml: site #1: field key: \"harbor kitchen\" is not a valid key (use letters, digits, '-' and '_')"
    );
}

#[test]
fn error_wrong_type() {
    assert_eq!(
        error_with("name = \"Harbor Kitchen\"", "name = 5"),
        "examples/bad.toml: site \"harbor\": field name: expected a string, found an integer"
    );
}

#[test]
fn error_unknown_weekday() {
    assert_eq!(
        error_with(
            "closed_on = [\"sun\"]",
            "closed_on = [\"sunday\", \"funday\"]"
        ),
        "examples/bad.toml: site \"harbor\": field closed_on[2]: unknown weekday \"funday\" (expected mon, tue, wed, thu, fri, sat or sun)"
    );
}

#[test]
fn error_bad_holiday_date() {
    assert_eq!(
        error_with("2026-12-25", "2026-12-32"),
        "examples/bad.toml: site \"harbor\": field holidays[1].date: \"2026-12-32\" is not a date (use YYYY-MM-DD)"
    );
}

#[test]
fn error_duplicate_site() {
    let text = BASE.replacen(
        "[[people]]",
        "[[sites]]\nkey = \"harbor\"\nname = \"Again\"\ntime_zone = \"UTC\"\n\n[[people]]",
        1,
    );
    assert_eq!(
        parse(&text).expect_err("duplicate").to_string(),
        "examples/bad.toml: site \"harbor\": field key: \"harbor\" is defined more than once"
    );
}

#[test]
fn error_duplicate_person() {
    assert_eq!(
        error_with("key = \"sam\"", "key = \"maria\""),
        "examples/bad.toml: person \"maria\": field key: \"maria\" is defined more than once"
    );
}

#[test]
fn error_person_unknown_site() {
    assert_eq!(
        error_with(
            "roles = { harbor = \"staff\" }",
            "roles = { pier = \"staff\" }"
        ),
        "examples/bad.toml: person \"maria\": field roles.pier: unknown site \"pier\""
    );
}

#[test]
fn error_person_unknown_role() {
    assert_eq!(
        error_with(
            "roles = { harbor = \"staff\" }",
            "roles = { harbor = \"chef\" }"
        ),
        "examples/bad.toml: person \"maria\": field roles.harbor: unknown role \"chef\" (expected staff, supervisor, lead or admin)"
    );
}

#[test]
fn error_absence_unknown_person() {
    assert_eq!(
        error_with("person = \"maria\"", "person = \"mario\""),
        "examples/bad.toml: absence #1 (person \"mario\"): field person: unknown person \"mario\""
    );
}

#[test]
fn error_absence_bad_date() {
    assert_eq!(
        error_with("until = \"2026-12-08T00:00\"", "until = \"next week\""),
        "examples/bad.toml: absence #1 (person \"maria\"): field until: \"next week\" is not a date-time (use YYYY-MM-DDTHH:MM in the person's site zone, a date, or RFC 3339 with offset)"
    );
}

#[test]
fn error_absence_ends_before_start() {
    assert_eq!(
        error_with("until = \"2026-12-08T00:00\"", "until = \"2026-11-30\""),
        "examples/bad.toml: absence #1 (person \"maria\"): field until: the absence ends before it starts (2026-11-30T00:00:00-05:00 is not after 2026-12-01T00:00:00-05:00)"
    );
}

#[test]
fn error_broken_rrule() {
    assert_eq!(
        error_with("BYMINUTE=0\"", "BYMINUTE=0;BYMONTHDAY=32\""),
        "examples/bad.toml: routine \"fridge-temps\": field rrule: invalid rrule: BYMONTHDAY: 32 is out of range (1..31 or -31..-1)"
    );
}

#[test]
fn error_no_cadence() {
    assert_eq!(
        error_with("rrule = \"FREQ=DAILY;BYHOUR=6,10,14,18,22;BYMINUTE=0\"", ""),
        "examples/bad.toml: routine \"fridge-temps\": field rrule: missing (a routine needs rrule or after_completion)"
    );
}

#[test]
fn error_two_cadences() {
    assert_eq!(
        error_with(
            "start = \"2026-01-01T06:00\"",
            "start = \"2026-01-01T06:00\"\nafter_completion = { days = 30, at = \"09:00\" }"
        ),
        "examples/bad.toml: routine \"fridge-temps\": field after_completion: give either rrule or after_completion, not both"
    );
}

#[test]
fn error_bad_start() {
    assert_eq!(
        error_with(
            "start = \"2026-01-01T06:00\"",
            "start = \"2026-01-01T25:00\""
        ),
        "examples/bad.toml: routine \"fridge-temps\": field start: \"2026-01-01T25:00\" is not a local date-time (use YYYY-MM-DDTHH:MM, without offset)"
    );
}

#[test]
fn error_bad_exdate() {
    assert_eq!(
        error_with(
            "start = \"2026-01-01T06:00\"",
            "start = \"2026-01-01T06:00\"\nexdates = [\"2026-07-04T06:00\", \"July 5\"]"
        ),
        "examples/bad.toml: routine \"fridge-temps\": field exdates[2]: \"July 5\" is not a local date-time (use YYYY-MM-DDTHH:MM, without offset)"
    );
}

#[test]
fn error_after_completion_zero_days() {
    assert_eq!(
        error_with(
            "rrule = \"FREQ=DAILY;BYHOUR=6,10,14,18,22;BYMINUTE=0\"",
            "after_completion = { days = 0, at = \"09:00\" }"
        ),
        "examples/bad.toml: routine \"fridge-temps\": field after_completion.days: 0 is too small (at least 1)"
    );
}

#[test]
fn error_after_completion_bad_time() {
    assert_eq!(
        error_with(
            "rrule = \"FREQ=DAILY;BYHOUR=6,10,14,18,22;BYMINUTE=0\"",
            "after_completion = { days = 30, at = \"9am\" }"
        ),
        "examples/bad.toml: routine \"fridge-temps\": field after_completion.at: \"9am\" is not a time of day (use HH:MM)"
    );
}

#[test]
fn error_unknown_site() {
    assert_eq!(
        error_with("site = \"harbor\"", "site = \"pier\""),
        "examples/bad.toml: routine \"fridge-temps\": field site: unknown site \"pier\""
    );
}

#[test]
fn error_unknown_owner() {
    assert_eq!(
        error_with("owner = \"maria\"", "owner = \"dana\""),
        "examples/bad.toml: routine \"fridge-temps\": field owner: unknown person \"dana\""
    );
}

#[test]
fn error_backup_not_member() {
    let text = BASE
        .replacen(
            "[[people]]",
            "[[sites]]\nkey = \"pier\"\nname = \"Pier\"\ntime_zone = \"UTC\"\n\n[[people]]",
            1,
        )
        .replace(
            "roles = { harbor = \"supervisor\" }",
            "roles = { pier = \"supervisor\" }",
        );
    assert_eq!(
        parse(&text).expect_err("not a member").to_string(),
        "examples/bad.toml: routine \"fridge-temps\": field backup: person \"sam\" is not a member of site \"harbor\""
    );
}

#[test]
fn error_backup_is_owner() {
    assert_eq!(
        error_with("backup = \"sam\"", "backup = \"maria\""),
        "examples/bad.toml: routine \"fridge-temps\": field backup: the backup must be someone other than the owner \"maria\""
    );
}

#[test]
fn error_duplicate_routine() {
    let second = "\n[[routines]]\nkey = \"fridge-temps\"\nsite = \"harbor\"\ntitle = \"Again\"\nowner = \"sam\"\nrrule = \"FREQ=DAILY\"\nstart = \"2026-01-01T06:00\"\n[[routines.steps]]\nkey = \"ok\"\ntitle = \"OK\"\nkind = \"check\"\n";
    assert_eq!(
        parse(&format!("{BASE}{second}"))
            .expect_err("duplicate")
            .to_string(),
        "examples/bad.toml: routine \"fridge-temps\": field key: \"fridge-temps\" is defined more than once"
    );
}

#[test]
fn error_unknown_routine_field() {
    let err = error_with("title = \"Fridge temperatures\"", "titel = \"Fridge\"");
    assert!(
        err.starts_with(
            "examples/bad.toml: routine \"fridge-temps\": field titel: unknown field (expected one of: key, site, title,"
        ),
        "{err}"
    );
}

#[test]
fn error_unknown_closed_day_policy() {
    assert_eq!(
        error_with(
            "start = \"2026-01-01T06:00\"",
            "start = \"2026-01-01T06:00\"\nclosed_days = \"never\""
        ),
        "examples/bad.toml: routine \"fridge-temps\": field closed_days: unknown closed-day policy \"never\" (expected skip, move_earlier, move_later or run_anyway)"
    );
}

#[test]
fn error_bad_duration() {
    assert_eq!(
        error_with("grace = \"15m\"", "grace = \"15 minutes\""),
        "examples/bad.toml: routine \"fridge-temps\": field window.grace: \"15 minutes\" is not a duration (use e.g. 15m, 2h, 1h30m or 1d)"
    );
}

#[test]
fn error_grace_after_close() {
    assert_eq!(
        error_with("grace = \"15m\"", "grace = \"3h\""),
        "examples/bad.toml: routine \"fridge-temps\": field window.grace: grace 3h is longer than closes_after 2h"
    );
}

#[test]
fn error_repeat_failure() {
    assert_eq!(
        error_with(
            "start = \"2026-01-01T06:00\"",
            "start = \"2026-01-01T06:00\"\nrepeat_failure = { missed = 6, of_last = 5 }"
        ),
        "examples/bad.toml: routine \"fridge-temps\": field repeat_failure.missed: missed 6 is more than of_last 5"
    );
}

#[test]
fn error_unknown_fallback_role() {
    assert_eq!(
        error_with(
            "start = \"2026-01-01T06:00\"",
            "start = \"2026-01-01T06:00\"\nfallback_role = \"boss\""
        ),
        "examples/bad.toml: routine \"fridge-temps\": field fallback_role: unknown role \"boss\" (expected staff, supervisor, lead or admin)"
    );
}

#[test]
fn error_version_zero() {
    assert_eq!(
        error_with(
            "start = \"2026-01-01T06:00\"",
            "start = \"2026-01-01T06:00\"\nversion = 0"
        ),
        "examples/bad.toml: routine \"fridge-temps\": field version: 0 is too small (at least 1)"
    );
}

#[test]
fn error_unknown_step_kind() {
    assert_eq!(
        error_with("kind = \"reading\"", "kind = \"number\""),
        "examples/bad.toml: routine \"fridge-temps\": step \"walk-in\": field kind: unknown step kind \"number\" (expected check, reading, photo, choice, text or signature)"
    );
}

#[test]
fn error_reading_min_above_max() {
    assert_eq!(
        error_with("min = 1", "min = 8"),
        "examples/bad.toml: routine \"fridge-temps\": step \"walk-in\": field max: min 8 is above max 5"
    );
}

#[test]
fn error_reading_without_unit() {
    assert_eq!(
        error_with("unit = \"°C\"", ""),
        "examples/bad.toml: routine \"fridge-temps\": step \"walk-in\": field unit: missing (a reading step needs a unit, e.g. \"°C\")"
    );
}

#[test]
fn error_field_not_for_kind() {
    assert_eq!(
        error_with("kind = \"reading\"", "kind = \"check\""),
        "examples/bad.toml: routine \"fridge-temps\": step \"walk-in\": field unit: a check step does not take this field"
    );
}

#[test]
fn error_choice_without_options() {
    assert_eq!(
        error_with(
            "kind = \"reading\"\nunit = \"°C\"\nmin = 1\nmax = 5",
            "kind = \"choice\"\noptions = []"
        ),
        "examples/bad.toml: routine \"fridge-temps\": step \"walk-in\": field options: missing (a choice step needs at least one option)"
    );
}

#[test]
fn error_photo_min_count_zero() {
    assert_eq!(
        error_with(
            "kind = \"reading\"\nunit = \"°C\"\nmin = 1\nmax = 5",
            "kind = \"photo\"\nmin_count = 0"
        ),
        "examples/bad.toml: routine \"fridge-temps\": step \"walk-in\": field min_count: 0 is too small (at least 1)"
    );
}

#[test]
fn error_duplicate_step() {
    let text = BASE.replacen(
        "[[routines.escalation]]",
        "[[routines.steps]]\nkey = \"walk-in\"\ntitle = \"Again\"\nkind = \"check\"\n\n[[routines.escalation]]",
        1,
    );
    assert_eq!(
        parse(&text).expect_err("duplicate").to_string(),
        "examples/bad.toml: routine \"fridge-temps\": step \"walk-in\": field key: \"walk-in\" is defined more than once"
    );
}

#[test]
fn error_no_steps() {
    let start = BASE.find("[[routines.steps]]").unwrap_or(0);
    let end = BASE.find("[[routines.escalation]]").unwrap_or(0);
    let text = format!("{}{}", &BASE[..start], &BASE[end..]);
    assert_eq!(
        parse(&text).expect_err("no steps").to_string(),
        "examples/bad.toml: routine \"fridge-temps\": field steps: must not be empty"
    );
}

#[test]
fn error_escalation_out_of_order() {
    assert_eq!(
        error_with("after = \"30m\"", "after = \"10m\""),
        "examples/bad.toml: routine \"fridge-temps\": escalation level 2: field after: 10m must be later than the previous level's 15m"
    );
}

#[test]
fn error_escalation_unknown_person() {
    assert_eq!(
        error_with("notify = [\"sam\",", "notify = [\"dana\","),
        "examples/bad.toml: routine \"fridge-temps\": escalation level 2: field notify[1]: unknown person \"dana\""
    );
}

#[test]
fn error_escalation_unknown_role() {
    assert_eq!(
        error_with("role:supervisor", "role:manager"),
        "examples/bad.toml: routine \"fridge-temps\": escalation level 2: field notify[2]: unknown role \"manager\" (expected staff, supervisor, lead or admin)"
    );
}

#[test]
fn error_escalation_empty_notify() {
    assert_eq!(
        error_with("notify = [\"assignee\"]", "notify = []"),
        "examples/bad.toml: routine \"fridge-temps\": escalation level 1: field notify: must not be empty"
    );
}

#[test]
fn example_files_parse() {
    for (name, text) in [
        (
            "examples/restaurant.toml",
            include_str!("../../../examples/restaurant.toml"),
        ),
        (
            "examples/clinic.toml",
            include_str!("../../../examples/clinic.toml"),
        ),
    ] {
        let org = match parse_routines_file(name, text) {
            Ok(org) => org,
            Err(err) => panic!("{err}"),
        };
        assert!(!org.routines.is_empty(), "{name}");
        assert!(!org.absences.is_empty(), "{name}");
        assert!(
            org.routines.iter().any(|r| r.escalation.len() >= 3),
            "{name}"
        );
    }
}
