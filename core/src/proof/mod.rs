//! Photo proof: capture (decode, orient, scale, re-encode, thumbnail, strip metadata) and the content-addressed blob store.
//!
//! - [`capture_photo`]: bytes from the camera or a file → a [`PhotoRecord`] whose JPEG and
//!   thumbnail are in a [`BlobStore`];
//! - [`BlobStore`]: blobs named by SHA-256, written atomically, shared with the sync client
//!   and the server;
//! - [`orientation`]: EXIF orientation and turning pixels upright.

pub mod blob_store;
mod jpeg;
pub mod orientation;
pub mod photo;
mod scaled_jpeg;

pub use blob_store::{BlobStore, BlobStoreError, Verification, sha256_hex};
pub use photo::{
    CaptureOptions, PhotoError, PhotoFormat, PhotoRecord, PreparedPhoto, capture_photo,
    prepare_photo,
};
