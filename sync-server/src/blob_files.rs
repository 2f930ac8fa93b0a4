//! Blob bytes on disk: `blobs/ab/<sha256>` (content addressed, written to a temp file,
//! fsynced and renamed, so a blob is whole or absent) and `uploads/<sha256>.part` with
//! `uploads/<sha256>.len` (a chunked upload in progress and its declared length, each
//! chunk fsynced before it is acknowledged).
//!
//! Verifies hashes; knows nothing of sites, people or the index (`storage` does).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use thiserror::Error;

/// Temp files being written into `blobs/` start with this.
const TEMP_PREFIX: &str = "tmp-";

/// Why a blob operation failed.
#[derive(Debug, Error)]
pub enum BlobFileError {
    /// The disk refused.
    #[error("{what} ({path}): {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The bytes do not hash to the name they were sent under (partial bytes dropped).
    #[error("the bytes received hash to {actual}, not {expected}")]
    HashMismatch {
        /// The name.
        expected: String,
        /// What they hash to.
        actual: String,
    },
    /// A chunk does not start where the stored bytes end.
    #[error("the chunk starts at byte {given} but the server holds {held} bytes")]
    Offset {
        /// Where the chunk starts.
        given: u64,
        /// Bytes held.
        held: u64,
    },
    /// A chunk runs past the declared length.
    #[error("the chunk ends at byte {end}, past the declared length {length}")]
    PastEnd {
        /// Where it ends.
        end: u64,
        /// The declared length.
        length: u64,
    },
}

fn io_err<'p>(what: &'static str, path: &'p Path) -> impl FnOnce(io::Error) -> BlobFileError + 'p {
    move |source| BlobFileError::Io {
        what,
        path: path.display().to_string(),
        source,
    }
}

/// Where a chunked upload stands after a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkResult {
    /// More bytes are expected; this many are held.
    Partial(u64),
    /// The blob is complete, verified and in place.
    Complete(u64),
}

/// The blob directories of a data dir.
#[derive(Debug, Clone)]
pub struct BlobFiles {
    blobs: PathBuf,
    uploads: PathBuf,
}

impl BlobFiles {
    /// Creates the directories under `data_dir` if needed and drops temp files left by an
    /// interrupted write.
    pub fn open(data_dir: &Path) -> Result<BlobFiles, BlobFileError> {
        let files = BlobFiles {
            blobs: data_dir.join("blobs"),
            uploads: data_dir.join("uploads"),
        };
        for dir in [&files.blobs, &files.uploads] {
            fs::create_dir_all(dir).map_err(io_err("creating a blob directory", dir))?;
        }
        let entries = fs::read_dir(&files.blobs).map_err(io_err("listing", &files.blobs))?;
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(files)
    }

    /// The file of a stored blob.
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.blobs
            .join(sha256.get(..2).unwrap_or("__"))
            .join(sha256)
    }

    fn part(&self, sha256: &str) -> PathBuf {
        self.uploads.join(format!("{sha256}.part"))
    }

    fn length_file(&self, sha256: &str) -> PathBuf {
        self.uploads.join(format!("{sha256}.len"))
    }

    /// Whether the blob's file is in place.
    pub fn exists(&self, sha256: &str) -> bool {
        self.path(sha256).is_file()
    }

    /// Verifies `bytes` against `sha256` and stores them atomically.
    pub fn put(&self, sha256: &str, bytes: &[u8]) -> Result<(), BlobFileError> {
        let actual = hex::encode(Sha256::digest(bytes));
        if actual != sha256 {
            return Err(BlobFileError::HashMismatch {
                expected: sha256.to_string(),
                actual,
            });
        }
        if self.exists(sha256) {
            return Ok(());
        }
        let temp = self.temp_path(sha256);
        let written = (|| {
            let mut file = File::create(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()
        })();
        written.map_err(|e| {
            let _ = fs::remove_file(&temp);
            io_err("writing a blob", &temp)(e)
        })?;
        self.place(sha256, &temp)
    }

    /// Bytes held of an upload in progress (0 when none).
    pub fn upload_offset(&self, sha256: &str) -> u64 {
        fs::metadata(self.part(sha256)).map_or(0, |m| m.len())
    }

    /// Appends one chunk starting at `offset` of a blob `length` bytes long; on the last
    /// chunk verifies the whole and moves it into place.
    pub fn append(
        &self,
        sha256: &str,
        offset: u64,
        length: u64,
        chunk: &[u8],
    ) -> Result<ChunkResult, BlobFileError> {
        let part = self.part(sha256);
        let length_file = self.length_file(sha256);
        let held = self.upload_offset(sha256);
        if held > 0 || part.exists() {
            let started = fs::read_to_string(&length_file)
                .ok()
                .and_then(|t| t.trim().parse::<u64>().ok());
            // Bytes held for another length (or of unknown length) cannot be part of this
            // blob: a name has one length. Start over; a chunk past 0 is then refused with
            // offset 0.
            if started != Some(length) {
                self.discard(sha256);
            }
        }
        let held = self.upload_offset(sha256);
        if offset != held {
            return Err(BlobFileError::Offset {
                given: offset,
                held,
            });
        }
        let end = offset.saturating_add(chunk.len() as u64);
        if end > length {
            return Err(BlobFileError::PastEnd { end, length });
        }
        if offset == 0 {
            write_synced(&length_file, length.to_string().as_bytes())
                .map_err(io_err("recording an upload's length", &length_file))?;
        }
        let appended = (|| {
            let mut file = OpenOptions::new().create(true).append(true).open(&part)?;
            file.write_all(chunk)?;
            file.sync_all()
        })();
        appended.map_err(io_err("appending a chunk", &part))?;
        if end < length {
            return Ok(ChunkResult::Partial(end));
        }
        let actual = hash_file(&part).map_err(io_err("hashing an upload", &part))?;
        if actual != sha256 {
            self.discard(sha256);
            return Err(BlobFileError::HashMismatch {
                expected: sha256.to_string(),
                actual,
            });
        }
        if self.exists(sha256) {
            self.discard(sha256);
        } else {
            self.place(sha256, &part)?;
            let _ = fs::remove_file(&length_file);
        }
        Ok(ChunkResult::Complete(end))
    }

    /// Drops an upload in progress.
    pub fn discard(&self, sha256: &str) {
        let _ = fs::remove_file(self.part(sha256));
        let _ = fs::remove_file(self.length_file(sha256));
    }

    /// The bytes of a stored blob.
    pub fn read(&self, sha256: &str) -> Result<Vec<u8>, BlobFileError> {
        let path = self.path(sha256);
        fs::read(&path).map_err(io_err("reading a blob", &path))
    }

    /// Whether the stored file still hashes to its name.
    pub fn verify(&self, sha256: &str) -> Result<bool, BlobFileError> {
        let path = self.path(sha256);
        Ok(hash_file(&path).map_err(io_err("hashing a blob", &path))? == sha256)
    }

    fn temp_path(&self, sha256: &str) -> PathBuf {
        let unique = crate::auth::random_uuid()
            .map(|u| u.simple().to_string())
            .unwrap_or_else(|_| std::process::id().to_string());
        self.blobs.join(format!("{TEMP_PREFIX}{sha256}-{unique}"))
    }

    /// Renames a complete, synced file into place and syncs the directory.
    fn place(&self, sha256: &str, from: &Path) -> Result<(), BlobFileError> {
        let target = self.path(sha256);
        let dir = target.parent().unwrap_or(&self.blobs).to_path_buf();
        fs::create_dir_all(&dir).map_err(io_err("creating a blob directory", &dir))?;
        File::open(from)
            .and_then(|f| f.sync_all())
            .map_err(io_err("syncing a blob", from))?;
        fs::rename(from, &target).map_err(io_err("moving a blob into place", &target))?;
        sync_dir(&dir);
        Ok(())
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn hash_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Makes a rename durable (a no-op where directories cannot be opened).
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    #[test]
    fn a_chunked_upload_resumes_and_completes() {
        let dir = tempfile::tempdir().expect("dir");
        let files = BlobFiles::open(dir.path()).expect("open");
        let bytes: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let name = sha(&bytes);
        assert_eq!(
            files.append(&name, 0, 1000, &bytes[..400]).expect("first"),
            ChunkResult::Partial(400)
        );
        assert_eq!(files.upload_offset(&name), 400);
        assert!(matches!(
            files.append(&name, 300, 1000, &bytes[300..]),
            Err(BlobFileError::Offset { held: 400, .. })
        ));
        // A chunk claiming another length cannot continue these bytes: start over.
        assert!(matches!(
            files.append(&name, 400, 999, &bytes[400..999]),
            Err(BlobFileError::Offset { held: 0, .. })
        ));
        assert_eq!(files.upload_offset(&name), 0);
        assert_eq!(
            files.append(&name, 0, 1000, &bytes[..400]).expect("again"),
            ChunkResult::Partial(400)
        );
        assert_eq!(
            files.append(&name, 400, 1000, &bytes[400..]).expect("rest"),
            ChunkResult::Complete(1000)
        );
        assert_eq!(files.read(&name).expect("read"), bytes);
        assert_eq!(files.upload_offset(&name), 0);
        assert!(files.verify(&name).expect("verify"));
    }

    #[test]
    fn wrong_bytes_are_dropped() {
        let dir = tempfile::tempdir().expect("dir");
        let files = BlobFiles::open(dir.path()).expect("open");
        let name = sha(b"right");
        assert!(matches!(
            files.put(&name, b"wrong"),
            Err(BlobFileError::HashMismatch { .. })
        ));
        assert!(matches!(
            files.append(&name, 0, 5, b"wrong"),
            Err(BlobFileError::HashMismatch { .. })
        ));
        assert_eq!(files.upload_offset(&name), 0);
        assert!(!files.exists(&name));
    }
}
