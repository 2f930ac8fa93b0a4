//! `proofline photo capture`: a photo file → an upright, scaled, metadata-free JPEG and its
//! thumbnail in a blob store folder, described by one JSON object.

use std::path::{Path, PathBuf};

use chrono::Utc;
use clap::{Args, Subcommand};
use proofline_core::proof::photo::DEFAULT_MAX_EDGE;
use proofline_core::proof::{BlobStore, CaptureOptions, PhotoError, capture_photo};
use serde::Serialize;

use crate::error::CliError;
use crate::{input, output};

/// Largest input file read (a 100 MP JPEG is far smaller).
const MAX_FILE_BYTES: u64 = 256 << 20;

/// Examples shown by `proofline photo --help` and `proofline photo capture --help`.
pub const CAPTURE_EXAMPLES: &str = "\
Examples:
  # Store a phone photo as proof: upright, long edge 1600 px, no EXIF/GPS, plus a 320 px thumbnail
  proofline photo capture IMG_0042.jpg --out proofs/

  # Smaller stored photos (e.g. for a slow uplink); small photos are never enlarged
  proofline photo capture fridge-temp.png --max-edge 1024 --out proofs/

Output: the photo and the thumbnail go to DIR/<ab>/<sha256>.jpg (<ab>: the first two hex
digits of the file's SHA-256), the layout of the device's and the server's blob stores;
capturing the same photo again writes nothing new. Stdout: one JSON object with sha256,
width, height, bytes, thumb_sha256, thumb_width, thumb_height (always JSON).

Exit status: 0 ok, 1 cannot write to --out, 2 bad input (missing file; not a JPEG or PNG;
damaged or cut-short image; --max-edge out of range).";

/// Arguments of `proofline photo`.
#[derive(Debug, Args)]
pub struct PhotoArgs {
    #[command(subcommand)]
    command: PhotoCommand,
}

#[derive(Debug, Subcommand)]
enum PhotoCommand {
    /// Capture a photo as proof: decode, turn upright, scale, strip metadata, store by SHA-256.
    #[command(after_help = CAPTURE_EXAMPLES)]
    Capture(CaptureArgs),
}

/// Arguments of `proofline photo capture`.
#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// The photo: a JPEG or PNG file (its content decides, not its name).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Longest edge of the stored photo in pixels, 16 to 8192 [default: 1600].
    #[arg(long, value_name = "N")]
    max_edge: Option<String>,
    /// Folder to store the photo and thumbnail in (a blob store; created if needed).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// What `photo capture` prints.
#[derive(Debug, Serialize)]
struct Captured {
    sha256: String,
    width: u32,
    height: u32,
    bytes: u64,
    thumb_sha256: String,
    thumb_width: u32,
    thumb_height: u32,
}

/// Runs `proofline photo …`. The output is JSON whether or not `--json` is given.
pub fn run(args: &PhotoArgs, _json: bool) -> Result<(), CliError> {
    match &args.command {
        PhotoCommand::Capture(capture) => run_capture(capture),
    }
}

fn run_capture(args: &CaptureArgs) -> Result<(), CliError> {
    let max_edge = match &args.max_edge {
        Some(text) => input::number("--max-edge", text, 16, 8192)?,
        None => DEFAULT_MAX_EDGE,
    };
    let bytes = read_photo(&args.file)?;
    let store = BlobStore::open(&args.out).map_err(|e| CliError::Failed(format!("--out: {e}")))?;
    let record = capture_photo(
        &bytes,
        Utc::now(),
        &CaptureOptions::with_max_edge(max_edge),
        &store,
    )
    .map_err(|e| match e {
        PhotoError::Store(_) => CliError::Failed(format!("--out: {e}")),
        other => CliError::BadInput(format!("{}: {other}", args.file.display())),
    })?;
    output::print_json(&Captured {
        sha256: record.sha256,
        width: record.width,
        height: record.height,
        bytes: record.bytes,
        thumb_sha256: record.thumb_sha256,
        thumb_width: record.thumb_width,
        thumb_height: record.thumb_height,
    })
}

/// Reads the photo file; every failure is the user's file, so bad input.
fn read_photo(path: &Path) -> Result<Vec<u8>, CliError> {
    let bad = |problem: String| CliError::BadInput(format!("{}: {problem}", path.display()));
    let meta = std::fs::metadata(path).map_err(|e| {
        bad(match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            _ => format!("cannot read it: {e}"),
        })
    })?;
    if meta.is_dir() {
        return Err(bad("is a folder, not a photo file".into()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(bad(format!(
            "the file is too large ({} MB; at most {} MB)",
            meta.len() >> 20,
            MAX_FILE_BYTES >> 20
        )));
    }
    std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))
}
