//! `proofline device`: a scripted day on a headless device, run as a real process with
//! `--now` so it replays the same way every time; exit codes for bad input.

mod common;

use common::{Run, assert_bad_input, proofline, temp_dir};

fn ok(args: &[&str]) -> String {
    let run = proofline(args);
    assert_eq!(run.code, Some(0), "{args:?}\nstderr: {}", run.stderr);
    assert_eq!(run.stderr, "");
    run.stdout
}

/// The occurrence id at the end of the `today` row for `time` and `check`.
fn occurrence_on(today: &str, time: &str, check: &str) -> String {
    let prefix = format!("  {time}  {check} ");
    let line = today
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {time} {check} row in:\n{today}"));
    line.split_whitespace()
        .last()
        .map(str::to_string)
        .unwrap_or_default()
}

fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn failed(run: &Run) -> String {
    assert_eq!(
        run.code,
        Some(1),
        "stdout: {}\nstderr: {}",
        run.stdout,
        run.stderr
    );
    assert_eq!(run.stdout, "");
    run.stderr.trim_end().to_string()
}

#[test]
fn a_day_at_harbor_kitchen_on_a_headless_device() {
    let dir = temp_dir("device-day");
    let db = dir.join("maria");
    let db = db.to_str().expect("utf-8 path");

    // Wed 9 Dec 2026, 05:00 in New York.
    let out = ok(&[
        "device",
        "init",
        "--db",
        db,
        "--routines",
        "examples/restaurant.toml",
        "--as",
        "maria",
        "--now",
        "2026-12-09T10:00:00Z",
    ]);
    assert!(
        out.starts_with("Set up a device for Maria Lopez (staff at Harbor Kitchen) in "),
        "{out}"
    );

    // 06:05: the 06:00 fridge check is due, the rest of the day is upcoming.
    let today = ok(&[
        "device",
        "today",
        "--db",
        db,
        "--now",
        "2026-12-09T11:05:00Z",
    ]);
    assert!(
        today.starts_with("Today for Maria Lopez · Wed 9 Dec 2026 06:05 EST\n"),
        "{today}"
    );
    let fridge6 = occurrence_on(&today, "06:00", "Fridge temperatures");
    let fridge10 = occurrence_on(&today, "10:00", "Fridge temperatures");
    let fridge18 = occurrence_on(&today, "18:00", "Fridge temperatures");
    let opening = occurrence_on(&today, "07:00", "Opening checks");
    assert_eq!(fridge6.len(), 36, "{fridge6}");
    let row = today
        .lines()
        .find(|l| l.contains(&fridge6))
        .map(words)
        .unwrap_or_default();
    assert_eq!(
        row,
        format!("06:00 Fridge temperatures due 05:45–07:00 {fridge6}")
    );

    // 06:10: readings in range.
    let out = ok(&[
        "device",
        "complete",
        &fridge6,
        "--db",
        db,
        "--now",
        "2026-12-09T11:10:00Z",
        "--step",
        "walk-in=3.5",
        "--step",
        "reach-in=4",
    ]);
    assert!(
        out.starts_with(
            "Completed Fridge temperatures (Harbor Kitchen), due 06:00: done on time at 06:10 by Maria Lopez.\n"
        ),
        "{out}"
    );

    // 10:02: out of range without a corrective action is bad input naming step and range.
    let run = proofline(&[
        "device",
        "complete",
        &fridge10,
        "--db",
        db,
        "--now",
        "2026-12-09T15:02:00Z",
        "--step",
        "walk-in=7.5",
        "--step",
        "reach-in=4",
    ]);
    let line = assert_bad_input(&run);
    assert_eq!(
        line,
        "error: the check cannot be completed: Walk-in cooler: 7.5 °C is outside 1–5 °C; add a corrective action (--corrective walk-in=TEXT)."
    );
    ok(&[
        "device",
        "complete",
        &fridge10,
        "--db",
        db,
        "--now",
        "2026-12-09T15:03:00Z",
        "--step",
        "walk-in=7.5",
        "--corrective",
        "walk-in=moved stock, called maintenance",
        "--step",
        "reach-in=4",
        "--note",
        "door seal worn",
    ]);

    // The opening checks without their photo: every missing requirement, with the flag.
    let run = proofline(&[
        "device",
        "complete",
        &opening,
        "--db",
        db,
        "--now",
        "2026-12-09T12:05:00Z",
        "--step",
        "handwash=yes",
    ]);
    assert_eq!(
        assert_bad_input(&run),
        "error: the check cannot be completed: Sanitizer buckets made up at 200 ppm: required, but not answered (--step sanitizer=…). Photo of the clean line before service: required, but not answered (--photo FILE)."
    );

    // Staff cannot excuse: a failure (exit 1), not bad input.
    let run = proofline(&[
        "device",
        "excuse",
        &fridge18,
        "--db",
        db,
        "--reason",
        "defrost",
        "--now",
        "2026-12-09T20:00:00Z",
    ]);
    assert_eq!(
        failed(&run),
        "error: Maria Lopez is staff at Harbor Kitchen; excusing a check needs supervisor, lead or admin there"
    );

    // 15:30: the opening checks (never photographed) and the 14:00 fridge check were missed.
    let missed = ok(&[
        "device",
        "missed",
        "--db",
        db,
        "--now",
        "2026-12-09T20:30:00Z",
    ]);
    let rows: Vec<String> = missed
        .lines()
        .filter(|l| l.starts_with("  Wed"))
        .map(words)
        .collect();
    assert_eq!(rows.len(), 2, "{missed}");
    assert_eq!(
        rows[0],
        format!("Wed 9 Dec 07:00 Opening checks missed Maria Lopez {opening}")
    );
    assert!(
        rows[1].starts_with("Wed 9 Dec 14:00 Fridge temperatures missed Maria Lopez "),
        "{missed}"
    );

    let report = ok(&[
        "device",
        "report",
        "--db",
        db,
        "--from",
        "2026-12-09",
        "--days",
        "1",
        "--now",
        "2026-12-09T20:30:00Z",
    ]);
    assert!(
        report.starts_with(
            "Compliance · Harbor Kitchen · from Wed 9 Dec 2026 · 1 day · as of Wed 9 Dec 2026 15:30 EST\n"
        ),
        "{report}"
    );
    assert!(
        report.contains(
            "On time 50% · 2 on time, 0 late, 2 missed, 0 excused, 2 still open (6 checks)"
        ),
        "{report}"
    );
    let fridge_row = report
        .lines()
        .find(|l| l.starts_with("  Fridge temperatures"))
        .map(words);
    assert_eq!(
        fridge_row.as_deref(),
        Some("Fridge temperatures 2 0 1 0 2 67%")
    );

    // JSON for scripts.
    let json = ok(&[
        "device",
        "today",
        "--db",
        db,
        "--now",
        "2026-12-09T20:30:00Z",
        "--json",
    ]);
    let items: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let statuses: Vec<&str> = items
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|i| i["status"].as_str())
        .collect();
    assert_eq!(
        statuses,
        vec![
            "done_on_time",
            "missed",
            "done_on_time",
            "missed",
            "upcoming",
            "upcoming"
        ]
    );

    let verify = ok(&["device", "verify", "--db", db]);
    assert!(
        verify.starts_with("Chain intact: 2 events of device "),
        "{verify}"
    );
}

#[test]
fn help_shows_examples_for_every_device_command() {
    for sub in [
        "",
        "init",
        "today",
        "attention",
        "missed",
        "report",
        "complete",
        "excuse",
        "verify",
    ] {
        let mut args = vec!["device"];
        if !sub.is_empty() {
            args.push(sub);
        }
        args.push("--help");
        let out = ok(&args);
        assert!(out.contains("Examples:"), "{args:?}:\n{out}");
    }
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let dir = temp_dir("device-bad");
    let db = dir.join("sam");
    let db = db.to_str().expect("utf-8 path");
    let missing = dir.join("nothing");
    let missing = missing.to_str().expect("utf-8 path");
    ok(&[
        "device",
        "init",
        "--db",
        db,
        "--routines",
        "examples/restaurant.toml",
        "--as",
        "sam",
        "--now",
        "2026-12-09T10:00:00Z",
    ]);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["device", "today", "--db", missing],
            "error: --db: no device is set up in",
        ),
        (
            vec!["device", "today", "--db", db, "--now", "tomorrow"],
            "error: --now: \"tomorrow\" is not an RFC 3339 instant",
        ),
        (
            vec!["device", "missed", "--db", db, "--days", "0"],
            "error: --days: \"0\" is not a whole number from 1 to 366",
        ),
        (
            vec!["device", "report", "--db", db, "--from", "2026-02-30"],
            "error: --from: \"2026-02-30\" is not a date",
        ),
        (
            vec!["device", "complete", "not-an-id", "--db", db],
            "error: OCCURRENCE: \"not-an-id\" is not an occurrence id",
        ),
        (
            vec![
                "device",
                "complete",
                "00000000-0000-0000-0000-000000000042",
                "--db",
                db,
                "--now",
                "2026-12-09T12:00:00Z",
            ],
            "error: no check has the id 00000000-0000-0000-0000-000000000042",
        ),
        (
            vec![
                "device",
                "init",
                "--db",
                missing,
                "--routines",
                "examples/restaurant.toml",
                "--as",
                "nobody",
            ],
            "error: --as: no person \"nobody\" in examples/restaurant.toml (people: maria, luis, sam, dana, ana, owen)",
        ),
        (
            vec![
                "device",
                "init",
                "--db",
                db,
                "--routines",
                "examples/restaurant.toml",
                "--as",
                "sam",
            ],
            "error: a device is already set up in",
        ),
        (
            vec![
                "device",
                "init",
                "--db",
                missing,
                "--routines",
                "no-such.toml",
                "--as",
                "sam",
            ],
            "error: ",
        ),
    ];
    for (args, expected) in cases {
        let line = assert_bad_input(&proofline(&args));
        assert!(line.starts_with(expected), "{args:?}: {line}");
    }

    // The month-end closeout (Sam's) on Thu 31 Dec: step values are read by the step kind.
    let today = ok(&[
        "device",
        "today",
        "--db",
        db,
        "--now",
        "2026-12-31T20:00:00Z",
    ]);
    let closeout = occurrence_on(&today, "16:00", "Month-end closeout");
    let complete = |extra: &[&str]| {
        let mut args = vec![
            "device",
            "complete",
            closeout.as_str(),
            "--db",
            db,
            "--now",
            "2026-12-31T20:30:00Z",
        ];
        args.extend_from_slice(extra);
        proofline(&args)
    };
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--step", "inventory=nope"],
            "error: --step: inventory (Inventory counted and entered): \"nope\" is not a tick (yes, true, x); leave the step out if not done",
        ),
        (
            vec!["--step", "waste=lots"],
            "error: --step: waste (Waste log total): \"lots\" is not a number (e.g. 3.5)",
        ),
        (
            vec!["--step", "bogus=1"],
            "error: --step: Month-end closeout has no step \"bogus\" (steps: inventory, waste, sign-off)",
        ),
        (
            vec!["--step", "waste"],
            "error: --step: \"waste\" is not KEY=VALUE",
        ),
        (
            vec!["--corrective", "waste=recount"],
            "error: --corrective: waste: give the reading too (--step waste=VALUE)",
        ),
        (
            vec!["--photo", "../shared/fixtures/photos/not-an-image.jpg"],
            "error: --photo: ../shared/fixtures/photos/not-an-image.jpg: the photo is not a JPEG or PNG image",
        ),
        (
            vec!["--photo", "no-such-photo.jpg"],
            "error: --photo: cannot read no-such-photo.jpg",
        ),
    ];
    for (extra, expected) in cases {
        let line = assert_bad_input(&complete(&extra));
        assert!(line.starts_with(expected), "{extra:?}: {line}");
    }
    let out = ok(&[
        "device",
        "complete",
        &closeout,
        "--db",
        db,
        "--now",
        "2026-12-31T20:30:00Z",
        "--step",
        "inventory=Yes",
        "--step",
        "waste=12.5",
        "--step",
        "sign-off=Sam Reed",
    ]);
    assert!(
        out.starts_with("Completed Month-end closeout (Harbor Kitchen), due 16:00: done on time at 15:30 by Sam Reed.\n"),
        "{out}"
    );
}
