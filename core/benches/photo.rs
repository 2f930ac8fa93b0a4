//! Photo capture benchmarks (`cargo bench -p proofline-core --bench photo`).
//!
//! - `photo/prepare_12mp`: the 12 MP sideways fixture (`forest-4032x3024-orient6.jpg`) to an
//!   upright 1200×1600 JPEG plus a 240×320 thumbnail, both SHA-256'd, in memory;
//! - `photo/capture_12mp`: the same through [`capture_photo`] into a blob store (after the
//!   first run the blobs are already there, so this adds the de-duplication check);
//! - `photo/capture_12mp_fresh_store`: every run into an empty store (atomic writes with
//!   fsync included: disk-dependent);
//! - `photo/reference_image_full_decode_12mp`: the `image` crate's full decode of the same
//!   file, the step `shared/RECIPES.md` measured at 63 ms: a yardstick for how fast the
//!   machine is when comparing with the 70 ms target.
//!
//! Before criterion starts, one capture runs alone and the peak extra memory it needed is
//! printed (the process's resident high-water mark, VmHWM, minus its resident size before;
//! Linux only). Everything runs on the calling thread: the pipeline starts no threads.

use std::hint::black_box;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use criterion::{Criterion, criterion_group};
use proofline_core::proof::{BlobStore, CaptureOptions, capture_photo, prepare_photo, sha256_hex};

fn fixture() -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/photos/forest-4032x3024-orient6.jpg");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_796_000_000, 0).unwrap_or_default()
}

/// A `kB` field of /proc/self/status.
fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn print_peak_memory(data: &[u8]) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = BlobStore::open(dir.path()).expect("store");
    let before = status_kb("VmRSS:");
    let started = std::time::Instant::now();
    let record = capture_photo(data, at(), &CaptureOptions::default(), &store).expect("capture");
    let elapsed = started.elapsed();
    let peak = status_kb("VmHWM:");
    println!(
        "photo: first capture {:.1} ms -> {}x{} ({} bytes), thumb {}x{}",
        elapsed.as_secs_f64() * 1e3,
        record.width,
        record.height,
        record.bytes,
        record.thumb_width,
        record.thumb_height
    );
    match (before, peak) {
        (Some(b), Some(p)) => println!(
            "photo: peak extra memory of one capture: {:.1} MB (VmHWM {:.1} MB - VmRSS before {:.1} MB)",
            p.saturating_sub(b) as f64 / 1024.0,
            p as f64 / 1024.0,
            b as f64 / 1024.0
        ),
        _ => println!("photo: peak memory not measured (no /proc/self/status)"),
    }
}

fn bench_photo(c: &mut Criterion) {
    let data = fixture();
    let options = CaptureOptions::default();
    let mut group = c.benchmark_group("photo");
    group.sample_size(30);
    group.bench_function("prepare_12mp", |b| {
        b.iter(|| {
            let p = prepare_photo(black_box(&data), &options).expect("prepare");
            black_box((sha256_hex(&p.jpeg), sha256_hex(&p.thumb)))
        })
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let store = BlobStore::open(dir.path()).expect("store");
    group.bench_function("capture_12mp", |b| {
        b.iter(|| capture_photo(black_box(&data), at(), &options, &store).expect("capture"))
    });
    group.bench_function("capture_12mp_fresh_store", |b| {
        b.iter_batched(
            || tempfile::tempdir().expect("temp dir"),
            |dir| {
                let store = BlobStore::open(dir.path()).expect("store");
                capture_photo(black_box(&data), at(), &options, &store).expect("capture")
            },
            criterion::BatchSize::PerIteration,
        )
    });
    group.bench_function("reference_image_full_decode_12mp", |b| {
        b.iter(|| image::load_from_memory(black_box(&data)).expect("decode"))
    });
    group.finish();
}

criterion_group!(benches, bench_photo);

fn main() {
    print_peak_memory(&fixture());
    benches();
    Criterion::default().configure_from_args().final_summary();
}
