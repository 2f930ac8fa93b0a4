//! The content-addressed blob store for photo proof.
//!
//! Every blob is named by the SHA-256 of its bytes (64 lowercase hex digits) and lives at
//! `<root>/<first two hex digits>/<sha256>.jpg` (all Proofline blobs are JPEG photos and
//! thumbnails). Writes are atomic: the bytes go to a temporary file in the same folder, which
//! is flushed to disk, renamed over the final name, and the folder is flushed too; a crash
//! leaves either the whole blob or none of it (at worst a stray `.tmp-…` file, never a
//! half-written blob under a real name). Storing the same bytes twice writes nothing the
//! second time.
//!
//! The device store, the sync client (downloads, [`BlobStore::put_verified`]) and the server
//! (uploads) all use this one layout.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

/// File name extension of every blob.
const EXTENSION: &str = "jpg";
/// Prefix of temporary files (never a valid blob name).
const TEMP_PREFIX: &str = ".tmp-";

/// Why a blob store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobStoreError {
    /// A file system operation failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done, e.g. "write" or "create the folder".
        action: &'static str,
        /// The file or folder concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The store's root exists but is not a folder.
    #[error("the blob store {} is not a folder", .0.display())]
    NotADirectory(PathBuf),
    /// A blob name that is not a SHA-256 in lowercase hex.
    #[error("\"{0}\" is not a SHA-256 (64 lowercase hexadecimal digits)")]
    InvalidSha256(String),
    /// Bytes received for a blob do not hash to its name (a damaged or wrong download).
    #[error(
        "the blob's content does not match its name: expected SHA-256 {expected}, got {actual}"
    )]
    HashMismatch {
        /// The SHA-256 the blob was asked for under.
        expected: String,
        /// The SHA-256 of the bytes received.
        actual: String,
    },
}

/// What [`BlobStore::verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// The blob is stored and its bytes hash to its name.
    Intact,
    /// No blob with that name is stored.
    Missing,
    /// The stored bytes no longer hash to the name (damaged on disk): fetch it again.
    Corrupt {
        /// The SHA-256 of the bytes found.
        actual: String,
    },
}

/// The SHA-256 of `bytes` in lowercase hex: the name of a blob.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Whether `sha` is a blob name: exactly 64 lowercase hexadecimal digits.
pub fn is_sha256_hex(sha: &str) -> bool {
    sha.len() == 64 && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A content-addressed store of blobs in one folder. Cheap to clone; safe to share between
/// threads and processes (every write is a rename of a uniquely named temporary file).
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    /// Removes what interrupted writes left behind: each blob is written to a temporary
    /// file (`TEMP_PREFIX`) next to its final name and renamed into place, so after a crash
    /// or a killed process such files are garbage. Call it only when no other process is
    /// writing to this store (e.g. when the owning device opens); failures to remove are
    /// ignored (the next call tries again).
    pub fn remove_interrupted_writes(&self) {
        let Ok(folders) = fs::read_dir(&self.root) else {
            return;
        };
        for folder in folders.flatten() {
            let Ok(files) = fs::read_dir(folder.path()) else {
                continue;
            };
            for file in files.flatten() {
                if file.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                    let _ = fs::remove_file(file.path());
                }
            }
        }
    }

    /// Opens the store in `dir`, creating the folder if needed.
    pub fn open(dir: impl AsRef<Path>) -> Result<BlobStore, BlobStoreError> {
        let root = dir.as_ref().to_path_buf();
        match fs::metadata(&root) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(BlobStoreError::NotADirectory(root)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(&root).map_err(|source| BlobStoreError::Io {
                    action: "create the folder",
                    path: root.clone(),
                    source,
                })?;
            }
            Err(source) => {
                return Err(BlobStoreError::Io {
                    action: "open the folder",
                    path: root,
                    source,
                });
            }
        }
        Ok(BlobStore { root })
    }

    /// The store's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob named `sha` is (or would be) stored: `<root>/ab/ab….jpg`.
    pub fn path(&self, sha: &str) -> Result<PathBuf, BlobStoreError> {
        if !is_sha256_hex(sha) {
            return Err(BlobStoreError::InvalidSha256(sha.to_string()));
        }
        Ok(self.root.join(&sha[..2]).join(format!("{sha}.{EXTENSION}")))
    }

    /// Whether a blob named `sha` is stored (an invalid name is never stored).
    pub fn contains(&self, sha: &str) -> bool {
        self.path(sha).is_ok_and(|p| p.is_file())
    }

    /// Stores `bytes` and returns their SHA-256. Writes nothing if they are already stored.
    pub fn put(&self, bytes: &[u8]) -> Result<String, BlobStoreError> {
        let sha = sha256_hex(bytes);
        self.put_named(&sha, bytes)?;
        Ok(sha)
    }

    /// Stores bytes that must hash to `expected` (a sync download): a mismatch is rejected
    /// with [`BlobStoreError::HashMismatch`] and nothing is written.
    pub fn put_verified(&self, expected: &str, bytes: &[u8]) -> Result<(), BlobStoreError> {
        if !is_sha256_hex(expected) {
            return Err(BlobStoreError::InvalidSha256(expected.to_string()));
        }
        let actual = sha256_hex(bytes);
        if actual != expected {
            return Err(BlobStoreError::HashMismatch {
                expected: expected.to_string(),
                actual,
            });
        }
        self.put_named(expected, bytes)
    }

    /// The bytes of the blob named `sha`, or `None` if it is not stored.
    pub fn get(&self, sha: &str) -> Result<Option<Vec<u8>>, BlobStoreError> {
        let path = self.path(sha)?;
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(BlobStoreError::Io {
                action: "read",
                path,
                source,
            }),
        }
    }

    /// Re-reads the blob named `sha` and checks its bytes still hash to the name.
    pub fn verify(&self, sha: &str) -> Result<Verification, BlobStoreError> {
        Ok(match self.get(sha)? {
            None => Verification::Missing,
            Some(bytes) => {
                let actual = sha256_hex(&bytes);
                if actual == sha {
                    Verification::Intact
                } else {
                    Verification::Corrupt { actual }
                }
            }
        })
    }

    /// Stores `bytes` under `sha` (already known to be their hash), atomically.
    fn put_named(&self, sha: &str, bytes: &[u8]) -> Result<(), BlobStoreError> {
        let path = self.path(sha)?;
        // Same name and same length: the same bytes are there already (a blob is only
        // ever renamed into place whole). A damaged copy of another length is replaced.
        if fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64) {
            return Ok(());
        }
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        if !dir.is_dir() {
            fs::create_dir_all(&dir).map_err(|source| BlobStoreError::Io {
                action: "create the folder",
                path: dir.clone(),
                source,
            })?;
            // Make the new folder's entry durable before files are renamed into it.
            sync_dir(&self.root)?;
        }
        let temp = dir.join(temp_name(sha));
        let result = write_and_sync(&temp, bytes).and_then(|()| {
            fs::rename(&temp, &path).map_err(|source| BlobStoreError::Io {
                action: "rename into place",
                path: path.clone(),
                source,
            })
        });
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result?;
        sync_dir(&dir)
    }
}

/// A temporary file name no other writer uses: process id, a counter and the time.
fn temp_name(sha: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{TEMP_PREFIX}{sha}-{}-{n}-{nanos}", std::process::id())
}

/// Creates `path` (it must not exist), writes `bytes` and flushes them to disk.
fn write_and_sync(path: &Path, bytes: &[u8]) -> Result<(), BlobStoreError> {
    let io_err = |action| {
        move |source| BlobStoreError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io_err("create"))?;
    file.write_all(bytes).map_err(io_err("write"))?;
    file.sync_all().map_err(io_err("flush to disk"))
}

/// Flushes a folder's entries (new names) to disk. A no-op where folders cannot be opened
/// as files (Windows).
fn sync_dir(dir: &Path) -> Result<(), BlobStoreError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|source| BlobStoreError::Io {
                action: "flush the folder",
                path: dir.to_path_buf(),
                source,
            })
    }
    #[cfg(not(unix))]
    {
        let _ = (dir, File::open);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(is_sha256_hex(&sha256_hex(b"x")));
        assert!(!is_sha256_hex("../../etc/passwd"));
        assert!(!is_sha256_hex(&sha256_hex(b"x").to_uppercase()));
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
