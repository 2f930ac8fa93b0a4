//! Durability: a device process killed with SIGKILL at random moments loses nothing it
//! reported as done and leaves a database and blob directory that open cleanly.
//!
//! The test re-executes its own binary as the child (`--exact` the child entry test, with
//! [`CHILD_ENV`] naming the device directory). The child opens the device, prints `ready`,
//! then captures small photos and completes checks in a loop, printing each completion's
//! id only after `complete` returned, and flushing. The parent kills it a random 0–40 ms
//! after `ready` (one run in eight: after spawning, so some kills land while the database
//! opens), then reopens the
//! device and checks: every printed completion is stored, the hash chain verifies (so
//! `seq` has no gaps), `PRAGMA integrity_check` passes, and no temporary file is left in
//! the blob directory. At least [`KILLS`] kills, within [`TIME_BUDGET`].
//!
//! In a normal run the child entry test does nothing (the variable is not set).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use proofline_core::device::{BLOB_DIR, Device};
use proofline_core::model::{EventId, StepAnswer, StepResult};
use proofline_core::occurrence::occurrence_id;
use proofline_core::routines_file::{load_routines_file, person_id, routine_id};
use proofline_core::store::{DB_FILE, Store};
use proofline_core::zone::local_to_instant;
use uuid::Uuid;

/// Set in the child: the device directory to work in.
const CHILD_ENV: &str = "PROOFLINE_DURABILITY_CHILD_DIR";
/// Set in the child: which run this is (varies the photos and the checks).
const RUN_ENV: &str = "PROOFLINE_DURABILITY_CHILD_RUN";
/// The child entry test.
const CHILD_TEST: &str = "child_records_completions_until_killed";
/// How many kills at least.
const KILLS: usize = 200;
/// Stop killing after this long even if fewer kills were made (then fail).
const TIME_BUDGET: StdDuration = StdDuration::from_secs(55);

fn ny(s: &str) -> DateTime<Utc> {
    let local = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("test time");
    local_to_instant(chrono_tz::America::New_York, local)
}

/// A small JPEG, different for each `n` (so each capture writes a new blob).
fn small_jpeg(n: u64) -> Vec<u8> {
    let (w, h) = (64u32, 48u32);
    let mut pixels = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let v = (x as u64 * 3 + y as u64 * 5 + n * 7) % 256;
            pixels.extend_from_slice(&[v as u8, (v as u8).wrapping_mul(3), (n % 256) as u8]);
        }
    }
    let mut out = Vec::new();
    let encoder = jpeg_encoder::Encoder::new(&mut out, 90);
    encoder
        .encode(&pixels, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
        .expect("encode");
    out
}

/// The child: completes checks forever (until killed). Fridge checks with readings, and
/// every third one the opening checks with a freshly captured photo. Each id is printed
/// after `complete` returned.
#[test]
fn child_records_completions_until_killed() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return; // a normal test run: nothing to do
    };
    let run: u64 = std::env::var(RUN_ENV)
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    let device = Device::open(Path::new(&dir)).expect("child opens the device");
    let fridge = routine_id("harbor", "fridge-temps");
    let opening = routine_id("harbor", "opening-checks");
    let day = ny("2026-12-09 00:00");
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready").expect("write");
    out.flush().expect("flush");
    for i in 0u64.. {
        let n = run * 1_000_000 + i;
        let completion = if i % 3 == 2 {
            let due = day + Duration::hours(7);
            let now = due + Duration::minutes(5);
            let photo = device.capture_photo(&small_jpeg(n), now).expect("capture");
            device.complete(
                occurrence_id(opening, due),
                vec![
                    StepResult {
                        step: "handwash".into(),
                        answer: StepAnswer::Checked,
                    },
                    StepResult {
                        step: "sanitizer".into(),
                        answer: StepAnswer::Checked,
                    },
                ],
                vec![photo.sha256],
                None,
                now,
            )
        } else {
            let hour = [6, 10, 14, 18, 22][(i % 5) as usize];
            let due = day + Duration::hours(hour);
            device.complete(
                occurrence_id(fridge, due),
                ["walk-in", "reach-in"]
                    .into_iter()
                    .map(|step| StepResult {
                        step: step.into(),
                        answer: StepAnswer::Reading {
                            value: 1.0 + (n % 40) as f64 / 10.0,
                            corrective_action: None,
                        },
                    })
                    .collect(),
                Vec::new(),
                None,
                due + Duration::minutes(5),
            )
        };
        let completion = completion.expect("complete");
        writeln!(out, "done {}", completion.id).expect("write");
        out.flush().expect("flush");
    }
}

/// A tiny deterministic generator for kill delays.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// Runs one child and kills it: `delay` after it reported ready (the device open), or, with
/// `during_start_up`, `delay` after spawning it. Returns the completion ids it printed.
fn run_child(dir: &Path, run: usize, delay: StdDuration, during_start_up: bool) -> Vec<EventId> {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", CHILD_TEST, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
        .env(RUN_ENV, run.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the child");
    let stdout = child.stdout.take().expect("piped stdout");
    let (lines, received) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut printed = Vec::new();
    if !during_start_up {
        // Wait for the device to be open (or the child to die), then start the clock. The
        // harness prints "test … … " before the test's own output, on the same line.
        let deadline = Instant::now() + StdDuration::from_secs(10);
        while let Ok(line) = received.recv_timeout(StdDuration::from_secs(10)) {
            let ready = line.ends_with("ready");
            printed.push(line);
            if ready || Instant::now() > deadline {
                break;
            }
        }
    }
    std::thread::sleep(delay);
    // SIGKILL on Unix: no destructor, no flush, no chance to finish a transaction.
    let _ = child.kill();
    let _ = child.wait();
    let _ = reader.join();
    printed.extend(received.try_iter());
    printed
        .iter()
        .filter_map(|line| line.strip_prefix("done "))
        .map(|id| EventId(Uuid::parse_str(id.trim()).expect("printed id")))
        .collect()
}

fn blob_temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.join(BLOB_DIR)];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if !is_blob_name(&path) {
                found.push(path);
            }
        }
    }
    found
}

/// A finished blob is named by its SHA-256 (optionally with an extension); anything else
/// is a leftover of an interrupted write.
fn is_blob_name(path: &Path) -> bool {
    let stem = path
        .file_name()
        .and_then(|n| n.to_str())
        .map(|n| n.split('.').next().unwrap_or(n))
        .unwrap_or("");
    stem.len() == 64 && stem.bytes().all(|b| b.is_ascii_hexdigit())
}

#[test]
fn a_killed_device_keeps_every_completion_it_reported() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return; // never recurse from the child
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/restaurant.toml");
    let org = load_routines_file(&path).expect("example");
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("device");
    drop(Device::create(&dir, &org, person_id("maria"), ny("2026-12-09 05:00")).expect("create"));

    // What a write interrupted between creating and renaming its temporary file leaves
    // (the window is too short for random kills to hit often): reopening removes it.
    let stray = dir
        .join(BLOB_DIR)
        .join("ab")
        .join(format!(".tmp-{}-1-2-3", "ab".repeat(32)));
    std::fs::create_dir_all(stray.parent().expect("folder")).expect("folder");
    std::fs::write(&stray, b"half a photo").expect("stray file");
    assert_eq!(blob_temp_files(&dir), vec![stray.clone()]);
    drop(Device::open(&dir).expect("open"));
    assert!(blob_temp_files(&dir).is_empty(), "{stray:?} was removed");

    let started = Instant::now();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15 ^ u64::from(std::process::id()));
    let mut reported: Vec<EventId> = Vec::new();
    let mut kills = 0;
    let mut interrupted_captures = 0;
    while kills < KILLS && started.elapsed() < TIME_BUDGET {
        // Most kills land while completions are being written; one in eight during
        // start-up (opening the database, rebuilding the org).
        let during_start_up = rng.next().is_multiple_of(8);
        let delay = StdDuration::from_millis(rng.next() % 40);
        reported.extend(run_child(&dir, kills, delay, during_start_up));
        kills += 1;

        let store = Store::open(&dir.join(DB_FILE)).expect("the database opens after a kill");
        let integrity: String = store
            .connection()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("integrity check");
        assert_eq!(integrity, "ok", "after kill {kills}");
        let report = store.verify_chain().expect("verify");
        assert!(
            report.is_intact(),
            "after kill {kills}: {:?}",
            report.first_broken
        );
        for id in reported.iter().rev().take(64) {
            assert!(
                store.event(*id).expect("read").is_some(),
                "after kill {kills}: reported completion {id} is missing"
            );
        }
        let leftovers = blob_temp_files(&dir);
        interrupted_captures += usize::from(!leftovers.is_empty());
        drop(store);
        // Reopening the device is what cleans up after an interrupted capture.
        let device = Device::open(&dir).expect("the device reopens");
        drop(device);
        let leftovers_after = blob_temp_files(&dir);
        assert!(
            leftovers_after.is_empty(),
            "after kill {kills}: temporary files left in the blob dir: {leftovers_after:?} (before reopening: {leftovers:?})"
        );
    }
    assert!(
        kills >= KILLS,
        "only {kills} kills in {:?}",
        started.elapsed()
    );
    let store = Store::open(&dir.join(DB_FILE)).expect("open");
    for id in &reported {
        assert!(store.event(*id).expect("read").is_some(), "{id} lost");
    }
    let report = store.verify_chain().expect("verify");
    assert!(report.is_intact());
    assert!(
        report.local_events >= reported.len() as u64,
        "every reported completion is in the chain"
    );
    assert!(
        reported.len() > KILLS,
        "the children made progress ({} completions)",
        reported.len()
    );
    eprintln!(
        "{kills} kills in {:.1} s, {} completions reported, {} stored, \
         {interrupted_captures} kills interrupted a photo write (cleaned up on reopening)",
        started.elapsed().as_secs_f64(),
        reported.len(),
        report.local_events
    );
}
