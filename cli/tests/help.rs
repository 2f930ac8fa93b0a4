//! `--help` of every command shows examples; `--version` works.

mod common;

use common::proofline;

#[test]
fn help_mentions_examples_for_every_command() {
    for args in [
        vec!["--help"],
        vec!["plan", "--help"],
        vec!["cadence", "expand", "--help"],
        vec!["cadence", "--help"],
    ] {
        let run = proofline(&args);
        assert_eq!(run.code, Some(0), "{args:?}: {}", run.stderr);
        assert!(
            run.stdout.contains("Examples:"),
            "{args:?}:\n{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("proofline "),
            "{args:?}:\n{}",
            run.stdout
        );
    }
    let top = proofline(&["--help"]).stdout;
    assert!(top.contains("plan") && top.contains("cadence"), "{top}");
    assert!(
        top.contains("Exit status: 0 ok, 1 failure, 2 bad input"),
        "{top}"
    );
}

#[test]
fn version_prints_the_crate_version() {
    let run = proofline(&["--version"]);
    assert_eq!(run.code, Some(0));
    assert_eq!(
        run.stdout.trim(),
        format!("proofline {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn unknown_command_is_a_usage_error() {
    let run = proofline(&["frobnicate"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
}
