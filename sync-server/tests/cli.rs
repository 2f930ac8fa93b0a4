//! The binary: the start-up lines on stdout, exactly, and a clean stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn the_binary_prints_its_lines_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_proofline-server"))
        .args(["serve", "--listen", "127.0.0.1:0", "--demo", "--data-dir"])
        .arg(dir.path())
        .env_remove("PROOFLINE_ADMIN_TOKEN")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut next = || lines.next().expect("a line").expect("utf-8");
    assert_eq!(next(), "proofline-server 0.1.0");
    let listening = next();
    let addr = listening
        .strip_prefix("  listening on http://")
        .expect("listening line")
        .to_string();
    let data_dir = std::fs::canonicalize(dir.path()).expect("canonical");
    assert_eq!(next(), format!("  data in {}", data_dir.display()));
    assert_eq!(
        next(),
        format!(
            "  admin token in {}",
            data_dir.join("admin-token").display()
        )
    );
    assert_eq!(
        next(),
        "Demo: Harbor Kitchen (America/New_York), org Harbor Kitchen Group"
    );
    assert!(next().starts_with("    enrollment codes (one-time, valid until "));
    let maria = next();
    assert!(
        maria.starts_with("      Maria Lopez   staff       "),
        "{maria:?}"
    );
    let code = maria.split_whitespace().last().expect("code").to_string();
    assert_eq!(code.len(), 14);
    for _ in 0..5 {
        next();
    }
    let token = std::fs::read_to_string(data_dir.join("admin-token")).expect("token file");
    assert_eq!(next(), format!("    admin token: {}", token.trim()));

    let client = reqwest::blocking::Client::new();
    let r = client
        .post(format!("http://{addr}/v1/enroll"))
        .json(&serde_json::json!({ "code": code }))
        .send()
        .expect("enroll");
    assert_eq!(r.status(), reqwest::StatusCode::OK);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = child.wait().expect("wait");
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn bad_flags_exit_with_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_proofline-server"))
        .args(["serve", "--listen", "nowhere", "--data-dir", "/tmp/unused"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}
