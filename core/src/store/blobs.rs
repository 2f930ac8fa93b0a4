//! The blob index: what photo proof (and thumbnails) this device holds, by SHA-256, and
//! whether each has reached the server. The bytes live in the proof module's blob store;
//! this index is what completions are checked against and what the uploader walks.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError, parse_time, timestamp};

/// What a blob is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlobKind {
    /// A full-size proof photo (what completions reference).
    Photo,
    /// A small preview of a photo, synced eagerly so review works offline.
    Thumbnail,
}

impl BlobKind {
    fn as_str(self) -> &'static str {
        match self {
            BlobKind::Photo => "photo",
            BlobKind::Thumbnail => "thumbnail",
        }
    }
}

/// Whether a blob has reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadState {
    /// Not uploaded yet ("pending upload" on the completion's proof).
    Pending,
    /// The server has it (and verified its hash).
    Uploaded,
}

impl UploadState {
    fn as_str(self) -> &'static str {
        match self {
            UploadState::Pending => "pending",
            UploadState::Uploaded => "uploaded",
        }
    }
}

/// One indexed blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRecord {
    /// SHA-256 of the bytes, lowercase hex (the blob's name).
    pub sha256: String,
    /// Photo or thumbnail.
    pub kind: BlobKind,
    /// Size in bytes.
    pub bytes: u64,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// When the photo was taken (the device's clock).
    pub captured_at: DateTime<Utc>,
    /// Upload state.
    pub upload: UploadState,
    /// For a thumbnail: the photo it previews.
    pub photo: Option<String>,
}

impl Store {
    /// Indexes a blob. Idempotent: content-addressed, so a blob already indexed is kept as
    /// it is (with its upload state).
    pub fn put_blob(&mut self, blob: &BlobRecord) -> Result<(), StoreError> {
        insert_blob(&self.conn, blob)
    }

    /// Indexes several blobs in one transaction (a photo and its thumbnail); idempotent
    /// like [`Store::put_blob`].
    pub fn put_blobs(&mut self, blobs: &[BlobRecord]) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for blob in blobs {
            insert_blob(&tx, blob)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The indexed blob with this hash.
    pub fn blob(&self, sha256: &str) -> Result<Option<BlobRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {BLOB_COLUMNS} FROM blobs WHERE sha256 = ?1"
        ))?;
        let raw = stmt.query_row(params![sha256], raw_blob).optional()?;
        raw.map(decode).transpose()
    }

    /// Blobs not uploaded yet, thumbnails first (they sync eagerly), then by capture time.
    pub fn blobs_pending_upload(&self) -> Result<Vec<BlobRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {BLOB_COLUMNS} FROM blobs WHERE upload = 'pending'
              ORDER BY kind = 'photo', captured_at, sha256"
        ))?;
        let rows = stmt.query_map([], raw_blob)?;
        let mut blobs = Vec::new();
        for row in rows {
            blobs.push(decode(row?)?);
        }
        Ok(blobs)
    }

    /// Records a blob's upload state. Returns `false` when it is not indexed.
    pub fn set_upload_state(
        &mut self,
        sha256: &str,
        state: UploadState,
    ) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "UPDATE blobs SET upload = ?2 WHERE sha256 = ?1",
            params![sha256, state.as_str()],
        )?;
        Ok(n > 0)
    }
}

fn insert_blob(conn: &rusqlite::Connection, blob: &BlobRecord) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO blobs
                   (sha256, kind, bytes, width, height, captured_at, upload, photo)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        blob.sha256,
        blob.kind.as_str(),
        i64::try_from(blob.bytes).unwrap_or(i64::MAX),
        blob.width,
        blob.height,
        timestamp(blob.captured_at),
        blob.upload.as_str(),
        blob.photo,
    ])?;
    Ok(())
}

const BLOB_COLUMNS: &str = "sha256, kind, bytes, width, height, captured_at, upload, photo";

type RawBlob = (
    String,
    String,
    i64,
    i64,
    i64,
    String,
    String,
    Option<String>,
);

fn raw_blob(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawBlob> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn decode(raw: RawBlob) -> Result<BlobRecord, StoreError> {
    let (sha256, kind, bytes, width, height, captured_at, upload, photo) = raw;
    let kind = match kind.as_str() {
        "photo" => BlobKind::Photo,
        "thumbnail" => BlobKind::Thumbnail,
        other => return Err(StoreError::corrupt("blob", format!("kind {other:?}"))),
    };
    let upload = match upload.as_str() {
        "pending" => UploadState::Pending,
        "uploaded" => UploadState::Uploaded,
        other => return Err(StoreError::corrupt("blob", format!("upload {other:?}"))),
    };
    Ok(BlobRecord {
        sha256,
        kind,
        bytes: u64::try_from(bytes).unwrap_or(0),
        width: u32::try_from(width).unwrap_or(0),
        height: u32::try_from(height).unwrap_or(0),
        captured_at: parse_time("blob", &captured_at)?,
        upload,
        photo,
    })
}
