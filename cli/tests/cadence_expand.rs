//! `proofline cadence expand`, run as a real process.

mod common;

use common::{assert_bad_input, proofline};

const DST_ARGS: [&str; 12] = [
    "cadence",
    "expand",
    "--rrule",
    "FREQ=DAILY;BYHOUR=2;BYMINUTE=30",
    "--start",
    "2026-03-01T02:30:00",
    "--tz",
    "America/New_York",
    "--from",
    "2026-03-07T00:00:00-05:00",
    "--until",
    "2026-03-10T00:00:00-04:00",
];

fn with(args: &[&str], replace: &str, by: &str) -> Vec<String> {
    args.iter()
        .map(|a| {
            if *a == replace {
                by.to_string()
            } else {
                a.to_string()
            }
        })
        .collect()
}

fn run_owned(args: &[String]) -> common::Run {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    proofline(&refs)
}

#[test]
fn expand_across_spring_forward_gap() {
    let run = proofline(&DST_ARGS);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "2026-03-07T02:30:00-05:00\n2026-03-08T03:30:00-04:00\n2026-03-09T02:30:00-04:00\n"
    );
    assert_eq!(run.stderr, "");
}

#[test]
fn expand_accepts_rrule_prefix_and_start_without_seconds() {
    let args = with(
        &DST_ARGS,
        "FREQ=DAILY;BYHOUR=2;BYMINUTE=30",
        "RRULE:FREQ=DAILY;BYHOUR=2;BYMINUTE=30",
    );
    let args: Vec<String> = args
        .into_iter()
        .map(|a| {
            if a == "2026-03-01T02:30:00" {
                "2026-03-01T02:30".into()
            } else {
                a
            }
        })
        .collect();
    let run = run_owned(&args);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "2026-03-07T02:30:00-05:00\n2026-03-08T03:30:00-04:00\n2026-03-09T02:30:00-04:00\n"
    );
}

#[test]
fn expand_leaves_out_exdates() {
    let mut args: Vec<&str> = DST_ARGS.to_vec();
    args.extend([
        "--exdate",
        "2026-03-07T02:30",
        "--exdate",
        "2026-03-09T02:30:00",
    ]);
    let run = proofline(&args);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, "2026-03-08T03:30:00-04:00\n");
}

#[test]
fn expand_fall_back_takes_the_first_of_two() {
    let run = proofline(&[
        "cadence",
        "expand",
        "--rrule",
        "FREQ=DAILY;BYHOUR=1;BYMINUTE=30",
        "--start",
        "2026-10-30T01:30",
        "--tz",
        "America/New_York",
        "--from",
        "2026-10-31T00:00:00Z",
        "--until",
        "2026-11-03T00:00:00Z",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "2026-10-31T01:30:00-04:00\n2026-11-01T01:30:00-04:00\n2026-11-02T01:30:00-05:00\n"
    );
}

#[test]
fn expand_last_business_day_of_month() {
    let run = proofline(&[
        "cadence",
        "expand",
        "--rrule",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;BYHOUR=16;BYMINUTE=0",
        "--start",
        "2026-01-30T16:00",
        "--tz",
        "Europe/London",
        "--from",
        "2026-01-01T00:00:00Z",
        "--until",
        "2026-05-01T00:00:00Z",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "2026-01-30T16:00:00+00:00\n2026-02-27T16:00:00+00:00\n2026-03-31T16:00:00+01:00\n2026-04-30T16:00:00+01:00\n"
    );
}

#[test]
fn expand_json_is_an_array_of_strings() {
    let mut args: Vec<&str> = DST_ARGS.to_vec();
    args.push("--json");
    let run = proofline(&args);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).expect("valid JSON");
    assert_eq!(
        value,
        serde_json::json!([
            "2026-03-07T02:30:00-05:00",
            "2026-03-08T03:30:00-04:00",
            "2026-03-09T02:30:00-04:00"
        ])
    );
}

#[test]
fn expand_empty_period_prints_nothing() {
    let args = with(
        &DST_ARGS,
        "2026-03-10T00:00:00-04:00",
        "2026-03-07T00:00:00-05:00",
    );
    let run = run_owned(&args);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, "");
}

#[test]
fn unknown_zone_is_bad_input() {
    let run = run_owned(&with(&DST_ARGS, "America/New_York", "America/Nowhere"));
    assert_eq!(
        assert_bad_input(&run),
        "error: --tz: unknown time zone \"America/Nowhere\" (use an IANA name such as America/New_York)"
    );
}

#[test]
fn broken_rule_is_bad_input() {
    let run = run_owned(&with(
        &DST_ARGS,
        "FREQ=DAILY;BYHOUR=2;BYMINUTE=30",
        "FREQ=MONTHLY;BYMONTHDAY=32",
    ));
    assert_eq!(
        assert_bad_input(&run),
        "error: --rrule: invalid rrule: BYMONTHDAY: 32 is out of range (1..31 or -31..-1)"
    );
}

#[test]
fn rule_without_freq_is_bad_input() {
    let run = run_owned(&with(
        &DST_ARGS,
        "FREQ=DAILY;BYHOUR=2;BYMINUTE=30",
        "BYHOUR=2",
    ));
    assert_eq!(
        assert_bad_input(&run),
        "error: --rrule: invalid rrule: the rule has no FREQ (e.g. FREQ=DAILY)"
    );
}

#[test]
fn bad_from_is_bad_input() {
    let run = run_owned(&with(&DST_ARGS, "2026-03-07T00:00:00-05:00", "2026-03-07"));
    let line = assert_bad_input(&run);
    assert!(
        line.starts_with("error: --from: \"2026-03-07\" is not an RFC 3339 instant"),
        "{line}"
    );
}

#[test]
fn bad_start_and_exdate_are_bad_input() {
    let run = run_owned(&with(&DST_ARGS, "2026-03-01T02:30:00", "March 1st"));
    assert!(
        assert_bad_input(&run)
            .starts_with("error: --start: \"March 1st\" is not a local date-time")
    );

    let mut args: Vec<&str> = DST_ARGS.to_vec();
    args.extend(["--exdate", "2026-03-08T02:30:00-05:00"]);
    let run = proofline(&args);
    assert!(
        assert_bad_input(&run)
            .starts_with("error: --exdate: \"2026-03-08T02:30:00-05:00\" is not a local date-time")
    );
}

#[test]
fn until_before_from_is_bad_input() {
    let run = run_owned(&with(
        &DST_ARGS,
        "2026-03-10T00:00:00-04:00",
        "2026-03-01T00:00:00Z",
    ));
    assert_eq!(
        assert_bad_input(&run),
        "error: --until: 2026-03-01T00:00:00Z is before --from 2026-03-07T00:00:00-05:00"
    );
}

#[test]
fn missing_flag_is_a_usage_error() {
    let run = proofline(&["cadence", "expand", "--rrule", "FREQ=DAILY"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    assert!(run.stderr.contains("--start"), "{}", run.stderr);
}
