//! `proofline photo capture`: stored files, the JSON it prints, exit codes and errors.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_bad_input, proofline, temp_dir};

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/photos")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn capture(file: &str, out: &Path, extra: &[&str]) -> common::Run {
    let out = out.to_string_lossy().into_owned();
    let mut args = vec!["photo", "capture", file, "--out", out.as_str()];
    args.extend_from_slice(extra);
    proofline(&args)
}

#[test]
fn capture_stores_photo_and_thumbnail_and_prints_json() {
    let out = temp_dir("photo-capture");
    let run = capture(&fixture("cups-2560x1600-orient3.jpg"), &out, &[]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.stderr, "");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON object");
    let object = json.as_object().expect("an object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "bytes",
            "height",
            "sha256",
            "thumb_height",
            "thumb_sha256",
            "thumb_width",
            "width"
        ]
    );
    assert_eq!(
        (json["width"].as_u64(), json["height"].as_u64()),
        (Some(1600), Some(1000))
    );
    assert_eq!(
        (json["thumb_width"].as_u64(), json["thumb_height"].as_u64()),
        (Some(320), Some(200))
    );
    // DIR/<ab>/<sha256>.jpg for both.
    let sha = json["sha256"].as_str().expect("sha256");
    let thumb = json["thumb_sha256"].as_str().expect("thumb_sha256");
    let photo_path = out.join(&sha[..2]).join(format!("{sha}.jpg"));
    let thumb_path = out.join(&thumb[..2]).join(format!("{thumb}.jpg"));
    assert_eq!(files_under(&out), {
        let mut v = vec![photo_path.clone(), thumb_path];
        v.sort();
        v
    });
    let stored = std::fs::read(&photo_path).expect("stored photo");
    assert_eq!(json["bytes"].as_u64(), Some(stored.len() as u64));
    assert!(
        stored.starts_with(&[0xFF, 0xD8, 0xFF, 0xE0]),
        "JFIF, no EXIF first"
    );

    // The same photo again: same output, nothing new written.
    let again = capture(&fixture("cups-2560x1600-orient3.jpg"), &out, &[]);
    assert_eq!(again.code, Some(0), "stderr: {}", again.stderr);
    assert_eq!(again.stdout, run.stdout);
    assert_eq!(files_under(&out).len(), 2);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn max_edge_scales_down_and_never_up() {
    let out = temp_dir("photo-max-edge");
    let run = capture(&fixture("leaf-2560x1600.jpg"), &out, &["--max-edge", "800"]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(
        (json["width"].as_u64(), json["height"].as_u64()),
        (Some(800), Some(500))
    );
    let run = capture(
        &fixture("leaf-2560x1600.jpg"),
        &out,
        &["--max-edge", "8000"],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(
        (json["width"].as_u64(), json["height"].as_u64()),
        (Some(2560), Some(1600))
    );
    let line = assert_bad_input(&capture(
        &fixture("leaf-2560x1600.jpg"),
        &out,
        &["--max-edge", "0"],
    ));
    assert_eq!(
        line,
        "error: --max-edge: \"0\" is not a whole number from 16 to 8192"
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn bad_files_are_bad_input_with_one_clear_line() {
    let out = temp_dir("photo-bad");
    let truncated = fixture("truncated.jpg");
    let line = assert_bad_input(&capture(&truncated, &out, &[]));
    assert_eq!(
        line,
        format!(
            "error: {truncated}: the JPEG data is cut short (truncated): the file ends before \
             the image is complete; copy or take the photo again"
        )
    );
    let pdf = fixture("not-an-image.jpg");
    let line = assert_bad_input(&capture(&pdf, &out, &[]));
    assert_eq!(
        line,
        format!(
            "error: {pdf}: the photo is not a JPEG or PNG image (it looks like a PDF document)"
        )
    );
    let missing = fixture("no-such-photo.jpg");
    let line = assert_bad_input(&capture(&missing, &out, &[]));
    assert_eq!(line, format!("error: {missing}: no such file"));
    assert!(files_under(&out).is_empty(), "nothing stored");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn unwritable_out_is_a_failure() {
    let dir = temp_dir("photo-out-file");
    let file = dir.join("not-a-folder");
    std::fs::write(&file, b"x").expect("write");
    let run = capture(&fixture("leaf-2560x1600.jpg"), &file, &[]);
    assert_eq!(run.code, Some(1), "stderr: {}", run.stderr);
    assert_eq!(run.stdout, "");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(
        lines[0].starts_with("error: --out: the blob store")
            && lines[0].ends_with("is not a folder"),
        "{}",
        lines[0]
    );
    // A folder inside a file cannot be created either.
    let run = capture(&fixture("leaf-2560x1600.jpg"), &file.join("proofs"), &[]);
    assert_eq!(run.code, Some(1), "stderr: {}", run.stderr);
    assert!(
        run.stderr.starts_with("error: --out: cannot "),
        "{}",
        run.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_shows_examples_and_the_output_layout() {
    for args in [vec!["photo", "--help"], vec!["photo", "capture", "--help"]] {
        let run = proofline(&args);
        assert_eq!(run.code, Some(0), "{args:?}: {}", run.stderr);
        assert!(run.stdout.contains("Examples:"), "{}", run.stdout);
        assert!(
            run.stdout.contains("proofline photo capture"),
            "{}",
            run.stdout
        );
        assert!(run.stdout.contains("<sha256>.jpg"), "{}", run.stdout);
    }
    let top = proofline(&["--help"]).stdout;
    assert!(top.contains("photo"), "{top}");
}
