//! `proofline plan` on the example files and on broken files, run as a real process.

mod common;

use common::{assert_bad_input, proofline, temp_dir};

fn ok(args: &[&str]) -> String {
    let run = proofline(args);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.stderr, "");
    run.stdout
}

/// The line for an occurrence: due time and routine at the start (columns are padded).
fn occurrence_line<'a>(out: &'a str, time: &str, routine: &str) -> &'a str {
    let prefix = format!("  {time}  {routine} ");
    out.lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no line for {time} {routine} in:\n{out}"))
}

/// The words of a line, whatever the column padding.
fn words(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn restaurant_shows_backup_substitution_and_timeline() {
    let out = ok(&["plan", "examples/restaurant.toml", "--from", "2026-12-01"]);
    assert!(
        out.starts_with(
            "Harbor Kitchen (harbor) · America/New_York · from Tue 1 Dec 2026 · 1 day\n"
        ),
        "{out}"
    );
    let opening = occurrence_line(&out, "07:00", "Opening checks");
    assert_eq!(
        words(opening),
        "07:00 Opening checks Luis Ortega (covering for Maria Lopez) 06:30–09:00"
    );
    assert!(
        out.contains("escalation: +15m Luis Ortega · +30m Sam Reed · +1h Dana Kim\n"),
        "{out}"
    );
    // Not covered by the absence: the owner, and her chain.
    let extinguishers = occurrence_line(&out, "10:00", "Fire extinguisher check");
    assert_eq!(
        words(extinguishers),
        "10:00 Fire extinguisher check Sam Reed 08:00–18:00"
    );
    assert!(!out.contains("STATUS"), "no statuses without --now");
    assert!(!out.contains("Attention"), "no attention without --now");
}

#[test]
fn restaurant_after_the_absence_goes_back_to_the_owner() {
    let out = ok(&["plan", "examples/restaurant.toml", "--from", "2026-12-08"]);
    let opening = occurrence_line(&out, "07:00", "Opening checks");
    assert_eq!(
        words(opening),
        "07:00 Opening checks Maria Lopez 06:30–09:00"
    );
    assert!(
        out.contains("escalation: +15m Maria Lopez · +30m Sam Reed · +1h Dana Kim\n"),
        "{out}"
    );
}

#[test]
fn restaurant_with_now_shows_statuses_and_attention() {
    let out = ok(&[
        "plan",
        "examples/restaurant.toml",
        "--from",
        "2026-12-01",
        "--now",
        "2026-12-01T16:00:00Z",
    ]);
    assert!(
        out.contains("Status at Tue 1 Dec 2026 11:00 EST\n"),
        "{out}"
    );
    assert!(words(occurrence_line(&out, "06:00", "Fridge temperatures")).ends_with(" missed"));
    assert!(words(occurrence_line(&out, "10:00", "Fire extinguisher check")).ends_with(" due"));
    assert!(words(occurrence_line(&out, "14:00", "Fridge temperatures")).ends_with(" upcoming"));
    assert!(
        out.contains("+15m Luis Ortega (fired) · +30m Sam Reed (fired) · +1h Dana Kim (fired)"),
        "{out}"
    );

    let attention = out
        .split("\nAttention\n")
        .nth(1)
        .expect("an attention section");
    let sam = attention
        .lines()
        .find(|l| l.trim_start().starts_with("Sam Reed"))
        .expect("Sam Reed's feed");
    assert!(
        words(sam).starts_with("Sam Reed due now Fire extinguisher check (Harbor Kitchen)"),
        "{sam}"
    );
    let ana = attention
        .lines()
        .find(|l| l.trim_start().starts_with("Ana Silva"))
        .expect("Ana Silva's feed");
    assert_eq!(words(ana), "Ana Silva All checks on track");
}

#[test]
fn clinic_shows_backup_substitution_statuses_and_attention() {
    let out = ok(&[
        "plan",
        "examples/clinic.toml",
        "--from",
        "2026-12-01",
        "--days",
        "2",
    ]);
    assert!(
        out.contains("America/Chicago · from Tue 1 Dec 2026 · 2 days\n"),
        "{out}"
    );
    assert!(
        out.contains("Tue 1 Dec 2026\n") && out.contains("Wed 2 Dec 2026\n"),
        "{out}"
    );
    assert_eq!(
        words(occurrence_line(
            &out,
            "06:00",
            "Specimen fridge temperatures"
        )),
        "06:00 Specimen fridge temperatures Ken Watanabe (covering for Grace Okafor) 05:45–07:00"
    );
    assert!(
        out.contains("escalation: +15m Ken Watanabe · +30m Tom Becker · +1h Anita Rao\n"),
        "{out}"
    );

    let out = ok(&[
        "plan",
        "examples/clinic.toml",
        "--now",
        "2026-12-01T15:00:00Z",
    ]);
    // --from defaults to the date of --now in the site's zone.
    assert!(out.contains("from Tue 1 Dec 2026 · 1 day\n"), "{out}");
    assert!(
        out.contains("Status at Tue 1 Dec 2026 09:00 CST\n"),
        "{out}"
    );
    assert!(words(occurrence_line(&out, "07:00", "Opening checks")).ends_with(" missed"));
    let attention = out
        .split("\nAttention\n")
        .nth(1)
        .expect("an attention section");
    assert!(
        attention
            .lines()
            .any(|l| words(l).starts_with("Ken Watanabe escalation ")),
        "{attention}"
    );
    let omar = attention
        .lines()
        .find(|l| l.trim_start().starts_with("Omar Haddad"))
        .expect("Omar Haddad's feed");
    assert_eq!(words(omar), "Omar Haddad All checks on track");
}

#[test]
fn plan_json_for_scripts() {
    let run = proofline(&[
        "plan",
        "examples/clinic.toml",
        "--from",
        "2026-12-01",
        "--now",
        "2026-12-01T15:00:00Z",
        "--json",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).expect("valid JSON");
    let site = &value["sites"][0];
    assert_eq!(site["site_key"], "lakeshore");
    assert_eq!(site["time_zone"], "America/Chicago");
    assert_eq!(site["from"], "2026-12-01T06:00:00Z");
    let first = &site["occurrences"][0];
    assert_eq!(first["routine_key"], "fridge-temps");
    assert_eq!(first["assignee_name"], "Ken Watanabe");
    assert_eq!(first["assignment"]["reason"]["kind"], "backup");
    assert_eq!(first["status"], "missed");
    let omar = site["attention"]
        .as_array()
        .and_then(|people| people.iter().find(|p| p["name"] == "Omar Haddad"))
        .expect("Omar in the attention list");
    assert_eq!(omar["items"], serde_json::json!([]));
}

#[test]
fn broken_file_names_file_routine_and_field() {
    let dir = temp_dir("broken-rrule");
    let text = std::fs::read_to_string(common::workspace_root().join("examples/restaurant.toml"))
        .expect("example file");
    let broken = text.replacen(
        "rrule = \"FREQ=DAILY;BYHOUR=6,10,14,18,22;BYMINUTE=0\"",
        "rrule = \"FREQ=DAILY;BYHOUR=6,10,14,18,22;BYMINUTE=0;BYMONTHDAY=32\"",
        1,
    );
    assert_ne!(text, broken);
    let path = dir.join("bad.toml");
    std::fs::write(&path, broken).expect("write temp file");
    let shown = path.display().to_string();
    let run = proofline(&["plan", &shown, "--from", "2026-12-01"]);
    assert_eq!(
        assert_bad_input(&run),
        format!(
            "error: {shown}: routine \"fridge-temps\": field rrule: invalid rrule: BYMONTHDAY: 32 is out of range (1..31 or -31..-1)"
        )
    );
}

#[test]
fn toml_syntax_error_names_the_line() {
    let dir = temp_dir("syntax");
    let path = dir.join("bad.toml");
    std::fs::write(&path, "org = \"X\"\n[[sites]\nkey = \"a\"\n").expect("write temp file");
    let shown = path.display().to_string();
    let line = assert_bad_input(&proofline(&["plan", &shown]));
    assert!(
        line.starts_with(&format!("error: {shown}: line 2, column ")),
        "{line}"
    );
}

#[test]
fn missing_file_is_bad_input() {
    let line = assert_bad_input(&proofline(&["plan", "examples/nope.toml"]));
    assert!(
        line.starts_with("error: examples/nope.toml: cannot read the file: "),
        "{line}"
    );
}

#[test]
fn bad_flags_are_bad_input() {
    assert_eq!(
        assert_bad_input(&proofline(&[
            "plan",
            "examples/clinic.toml",
            "--from",
            "12/01/2026"
        ])),
        "error: --from: \"12/01/2026\" is not a date (e.g. 2026-12-01)"
    );
    assert_eq!(
        assert_bad_input(&proofline(&["plan", "examples/clinic.toml", "--days", "0"])),
        "error: --days: \"0\" is not a whole number from 1 to 366"
    );
    let line = assert_bad_input(&proofline(&[
        "plan",
        "examples/clinic.toml",
        "--now",
        "noon",
    ]));
    assert!(
        line.starts_with("error: --now: \"noon\" is not an RFC 3339 instant"),
        "{line}"
    );
}

#[test]
fn from_is_a_local_date_in_each_sites_zone() {
    let dir = temp_dir("two-zones");
    let path = dir.join("two-zones.toml");
    let mut text = String::from(
        "org = \"Two Zones\"\n\n\
         [[sites]]\nkey = \"tokyo\"\nname = \"Tokyo Store\"\ntime_zone = \"Asia/Tokyo\"\n\n\
         [[sites]]\nkey = \"nyc\"\nname = \"NYC Store\"\ntime_zone = \"America/New_York\"\n\n\
         [[people]]\nkey = \"kenji\"\nname = \"Kenji Mori\"\nroles = { tokyo = \"staff\" }\n\n\
         [[people]]\nkey = \"ruth\"\nname = \"Ruth Cole\"\nroles = { nyc = \"staff\" }\n",
    );
    for (site, owner) in [("tokyo", "kenji"), ("nyc", "ruth")] {
        text.push_str(&format!(
            "\n[[routines]]\nkey = \"open\"\nsite = \"{site}\"\ntitle = \"Open store\"\nowner = \"{owner}\"\n\
             rrule = \"FREQ=DAILY;BYHOUR=7;BYMINUTE=0\"\nstart = \"2026-01-01T07:00\"\n\n\
             [[routines.steps]]\nkey = \"lights\"\ntitle = \"Lights on\"\nkind = \"check\"\n"
        ));
    }
    std::fs::write(&path, text).expect("write temp file");
    let shown = path.display().to_string();
    let out = ok(&["plan", &shown, "--from", "2026-12-01"]);
    let tokyo = out
        .find("Tokyo Store (tokyo) · Asia/Tokyo · from Tue 1 Dec 2026")
        .expect("Tokyo");
    let nyc = out
        .find("NYC Store (nyc) · America/New_York · from Tue 1 Dec 2026")
        .expect("NYC");
    assert!(tokyo < nyc, "sites in file order:\n{out}");
    assert_eq!(out.matches("  07:00  Open store  ").count(), 2, "{out}");

    let run = proofline(&["plan", &shown, "--from", "2026-12-01", "--json"]);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).expect("valid JSON");
    assert_eq!(value["sites"][0]["from"], "2026-11-30T15:00:00Z");
    assert_eq!(value["sites"][1]["from"], "2026-12-01T05:00:00Z");
    assert_eq!(
        value["sites"][1]["occurrences"][0]["occurrence"]["due"],
        "2026-12-01T12:00:00Z"
    );
}
