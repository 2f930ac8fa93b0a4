//! Runs the real `proofline` binary.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// What a run of the binary produced.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `proofline` with `args` from the workspace root (so `examples/…` paths work).
pub fn proofline(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_proofline"))
        .args(args)
        .current_dir(workspace_root())
        .output()
        .expect("the proofline binary runs");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .expect("cli/ has a parent")
}

/// A fresh directory for this test's files.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("proofline-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Asserts a bad-input failure: exit 2, nothing on stdout, one line `error: …` on stderr;
/// returns that line.
pub fn assert_bad_input(run: &Run) -> String {
    assert_eq!(
        run.code,
        Some(2),
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
