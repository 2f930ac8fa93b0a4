//! The blob index: what photo proof (and thumbnails) this device holds, by SHA-256, and
//! whether each has reached the server. The bytes live in the proof module's blob store;
//! this index is what completions are checked against and what the uploader walks.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::model::{EventId, SiteId};
use crate::proof::blob_store::is_sha256_hex;
use crate::store::{NOT_REJECTED, Store, StoreError, parse_time, parse_uuid, timestamp};

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
    /// `photo` or `thumbnail`, as stored and as sent in the sync protocol's headers.
    pub fn as_str(self) -> &'static str {
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

/// A blob to upload: a pending photo a local completion references, or its pending
/// thumbnail, with the site of that completion (the server keeps a blob for a site).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingUpload {
    /// The blob.
    pub blob: BlobRecord,
    /// The site of the (first) completion referencing the photo.
    pub site: SiteId,
    /// That completion.
    pub completion: EventId,
}

/// A photo of another device's completion whose thumbnail this device lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WantedThumbnail {
    /// The photo's SHA-256 (the thumbnail is asked for by it).
    pub photo: String,
    /// The site of the (latest) completion referencing it.
    pub site: SiteId,
    /// When that completion was made (the device's clock), if known.
    pub completed_at: Option<DateTime<Utc>>,
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

    /// What to upload, in the order to upload it: the photos local completions reference
    /// that are still pending, each followed by its thumbnail if that is pending, in
    /// completion order (finally rejected completions left out). Photos captured but not
    /// used in a completion are not uploaded.
    pub fn pending_uploads(&self) -> Result<Vec<PendingUpload>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT b.sha256, b.kind, b.bytes, b.width, b.height, b.captured_at, b.upload,
                    b.photo, events.site, events.id
               FROM blobs b
               JOIN event_photos ep
                 ON ep.sha256 = (CASE WHEN b.kind = 'photo' THEN b.sha256 ELSE b.photo END)
               JOIN events ON events.id = ep.event
              WHERE b.upload = 'pending' AND events.origin = 'local' AND {NOT_REJECTED}
              ORDER BY events.pos, b.kind = 'thumbnail', b.sha256"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok((raw_blob(r)?, r.get::<_, String>(8)?, r.get::<_, String>(9)?))
        })?;
        let mut seen = std::collections::HashSet::new();
        let mut uploads = Vec::new();
        for row in rows {
            let (raw, site, completion) = row?;
            if !seen.insert(raw.0.clone()) {
                continue;
            }
            uploads.push(PendingUpload {
                blob: decode(raw)?,
                site: SiteId(parse_uuid("event", &site)?),
                completion: EventId(parse_uuid("event", &completion)?),
            });
        }
        Ok(uploads)
    }

    /// Records that the server holds a blob (verified). Returns `false` when it is not
    /// indexed.
    pub fn mark_uploaded(&mut self, sha256: &str) -> Result<bool, StoreError> {
        self.set_upload_state(sha256, UploadState::Uploaded)
    }

    /// Photos of other devices' completions whose thumbnail this device does not hold,
    /// latest completion first (only well-formed SHA-256 names).
    pub fn thumbnails_wanted(&self) -> Result<Vec<WantedThumbnail>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT ep.sha256, events.site, events.acted_at, MAX(events.pos) AS last
               FROM event_photos ep
               JOIN events ON events.id = ep.event
              WHERE events.origin = 'remote'
                AND NOT EXISTS (SELECT 1 FROM blobs b
                                 WHERE b.photo = ep.sha256 AND b.kind = 'thumbnail')
              GROUP BY ep.sha256
              ORDER BY last DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<i64>>(2)?,
            ))
        })?;
        let mut wanted = Vec::new();
        for row in rows {
            let (photo, site, acted_at) = row?;
            if !is_sha256_hex(&photo) {
                continue;
            }
            wanted.push(WantedThumbnail {
                photo,
                site: SiteId(parse_uuid("event", &site)?),
                completed_at: acted_at.and_then(|t| DateTime::from_timestamp(t, 0)),
            });
        }
        Ok(wanted)
    }

    /// The indexed thumbnail of a photo (captured here or fetched), if any.
    pub fn thumbnail_of(&self, photo_sha256: &str) -> Result<Option<BlobRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {BLOB_COLUMNS} FROM blobs WHERE photo = ?1 AND kind = 'thumbnail'
              ORDER BY sha256 LIMIT 1"
        ))?;
        let raw = stmt.query_row(params![photo_sha256], raw_blob).optional()?;
        raw.map(decode).transpose()
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
