//! `proofline device enroll | sync | status` and `proofline admin` without a server:
//! unreachable addresses fail with one clear line (exit 1), mistakes in what was typed are
//! bad input (exit 2) caught before any request, and a device set up from a routines file
//! reports that it is not enrolled. Runs against a real server are in `tests/`.

mod common;

use std::process::Command;

use common::{Run, assert_bad_input, temp_dir, workspace_root};

/// Nothing listens on port 1 of the loopback: connections are refused at once.
const NOWHERE: &str = "http://127.0.0.1:1";

/// Runs `proofline` without the admin environment variables of whoever runs the tests.
fn proofline(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_proofline"))
        .args(args)
        .current_dir(workspace_root())
        .env_remove("PROOFLINE_SERVER")
        .env_remove("PROOFLINE_ADMIN_TOKEN")
        .output()
        .expect("the proofline binary runs");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Asserts a failure: exit 1, nothing on stdout, one line `error: …`; returns it.
fn failed(run: &Run) -> String {
    assert_eq!(
        run.code,
        Some(1),
        "stdout: {}\nstderr: {}",
        run.stdout,
        run.stderr
    );
    assert_eq!(run.stdout, "", "stdout should be empty");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got: {:?}", run.stderr);
    assert!(lines[0].starts_with("error: "), "{}", lines[0]);
    lines[0].to_string()
}

#[test]
fn enrolling_with_an_unreachable_server_sets_nothing_up() {
    let dir = temp_dir("sync-enroll-offline");
    let db = dir.join("maria");
    let db = db.to_str().expect("utf-8 path");
    let line = failed(&proofline(&[
        "device",
        "enroll",
        NOWHERE,
        "7KQ2-M9XD-4FHP",
        "--db",
        db,
    ]));
    assert!(
        line.starts_with("error: cannot reach the server at http://127.0.0.1:1: could not connect"),
        "{line}"
    );
    assert!(
        line.ends_with("nothing was set up, try again when the server can be reached"),
        "{line}"
    );
    // Nothing was set up.
    let line = assert_bad_input(&proofline(&["device", "status", "--db", db]));
    assert!(line.contains("no device is set up"), "{line}");
}

#[test]
fn enroll_arguments_are_checked_before_any_request() {
    let dir = temp_dir("sync-enroll-args");
    let db = dir.join("maria");
    let db = db.to_str().expect("utf-8 path");
    let line = assert_bad_input(&proofline(&[
        "device",
        "enroll",
        "harbor.example",
        "7KQ2-M9XD-4FHP",
        "--db",
        db,
    ]));
    assert!(
        line.contains("\"harbor.example\" is not a server address"),
        "{line}"
    );
    let line = assert_bad_input(&proofline(&["device", "enroll", NOWHERE, "  ", "--db", db]));
    assert!(line.contains("enrollment code"), "{line}");
    let line = assert_bad_input(&proofline(&[
        "device", "enroll", NOWHERE, "CODE", "--db", db, "--now", "noon",
    ]));
    assert!(line.starts_with("error: --now:"), "{line}");
    // Missing arguments: clap's usage error, exit 2.
    let run = proofline(&["device", "enroll", NOWHERE, "--db", db]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
}

#[test]
fn a_device_set_up_from_a_routines_file_is_not_enrolled() {
    let dir = temp_dir("sync-local-device");
    let db = dir.join("maria");
    let db = db.to_str().expect("utf-8 path");
    let init = proofline(&[
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
    assert_eq!(init.code, Some(0), "{}", init.stderr);

    let status = proofline(&["device", "status", "--db", db]);
    assert_eq!(status.code, Some(0), "{}", status.stderr);
    assert_eq!(
        status.stdout,
        "Not enrolled with a sync server (set up from a routines file): events stay on this device.\n  \
         pending events    0\n  rejected events   0\n  photos to upload  0\n"
    );
    let json = proofline(&["device", "status", "--db", db, "--json"]);
    assert_eq!(json.code, Some(0), "{}", json.stderr);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(value["status"]["server"], serde_json::Value::Null);
    assert_eq!(value["rejected"], serde_json::json!([]));

    let line = assert_bad_input(&proofline(&["device", "sync", "--db", db]));
    assert!(
        line.contains("this device is not enrolled with a sync server"),
        "{line}"
    );
    let line = assert_bad_input(&proofline(&[
        "device",
        "sync",
        "--db",
        dir.join("nobody").to_str().expect("utf-8"),
    ]));
    assert!(line.contains("no device is set up"), "{line}");
}

#[test]
fn admin_commands_need_a_server_and_a_token() {
    let line = assert_bad_input(&proofline(&["admin", "people"]));
    assert!(line.starts_with("error: --server:"), "{line}");
    let line = assert_bad_input(&proofline(&["admin", "people", "--server", NOWHERE]));
    assert!(line.starts_with("error: --admin-token:"), "{line}");
    let line = assert_bad_input(&proofline(&[
        "admin",
        "devices",
        "--server",
        "ftp://x",
        "--admin-token",
        "t",
    ]));
    assert!(line.starts_with("error: --server:"), "{line}");
    let line = failed(&proofline(&[
        "admin",
        "people",
        "--server",
        NOWHERE,
        "--admin-token",
        "t",
    ]));
    assert!(
        line.starts_with("error: cannot reach the server at http://127.0.0.1:1"),
        "{line}"
    );
}

#[test]
fn admin_input_is_checked_before_any_request() {
    let server = ["--server", NOWHERE, "--admin-token", "t"];
    let with = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(server);
        proofline(&all)
    };
    let line = assert_bad_input(&with(&[
        "admin",
        "site",
        "add",
        "dock",
        "Dock",
        "Mars/Base",
    ]));
    assert!(line.starts_with("error: ZONE: unknown time zone"), "{line}");
    let line = assert_bad_input(&with(&[
        "admin",
        "person",
        "add",
        "zoe",
        "Zoe Ng",
        "--role",
        "dock=chef",
    ]));
    assert!(line.contains("\"chef\" is not a role"), "{line}");
    let line = assert_bad_input(&with(&[
        "admin", "person", "add", "zoe", "Zoe Ng", "--role", "dock",
    ]));
    assert!(line.contains("is not SITE=ROLE"), "{line}");
    let line = assert_bad_input(&with(&["admin", "import", "no/such/file.toml"]));
    assert!(line.contains("cannot read no/such/file.toml"), "{line}");
    let line = assert_bad_input(&with(&[
        "admin",
        "code",
        "maria",
        "--expires-in-hours",
        "0",
    ]));
    assert!(line.starts_with("error: --expires-in-hours:"), "{line}");
    let line = assert_bad_input(&with(&["admin", "revoke", "till-2"]));
    assert!(line.contains("is not a device id"), "{line}");
    // A person needs at least one role: clap's usage error.
    let run = with(&["admin", "person", "add", "zoe", "Zoe Ng"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
}

#[test]
fn sync_commands_have_help_with_examples() {
    for args in [
        vec!["device", "enroll", "--help"],
        vec!["device", "sync", "--help"],
        vec!["device", "status", "--help"],
        vec!["admin", "--help"],
        vec!["admin", "code", "--help"],
        vec!["admin", "site", "add", "--help"],
    ] {
        let run = proofline(&args);
        assert_eq!(run.code, Some(0), "{args:?}: {}", run.stderr);
        assert!(
            run.stdout.contains("Examples:"),
            "{args:?}:\n{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("Exit status:"),
            "{args:?}:\n{}",
            run.stdout
        );
    }
    let top = proofline(&["--help"]).stdout;
    assert!(top.contains("admin"), "{top}");
}
