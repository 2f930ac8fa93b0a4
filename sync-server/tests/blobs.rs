//! Blob uploads: whole and chunked (resumable), verified by hash, thumbnails served for
//! their photo.

mod common;

use common::{Harness, TestDevice, error_of, harbor};
use proofline_core::store::BlobKind;
use proofline_core::sync::protocol::BlobReceipt;
use reqwest::StatusCode;
use reqwest::blocking::Response;
use serde_json::Value;
use sha2::{Digest, Sha256};

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn photo(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

fn patch(
    h: &Harness,
    device: &TestDevice,
    name: &str,
    offset: usize,
    total: usize,
    chunk: &[u8],
) -> Response {
    h.client
        .patch(h.url(&format!("/v1/blobs/{name}")))
        .bearer_auth(&device.token)
        .header("x-proofline-site", harbor().to_string())
        .header("x-proofline-kind", "photo")
        .header("upload-offset", offset.to_string())
        .header("upload-length", total.to_string())
        .body(chunk.to_vec())
        .send()
        .expect("patch")
}

fn head(h: &Harness, device: &TestDevice, name: &str) -> Response {
    h.client
        .head(h.url(&format!("/v1/blobs/{name}")))
        .bearer_auth(&device.token)
        .send()
        .expect("head")
}

fn offset_of(r: &Response) -> Option<u64> {
    r.headers()
        .get("upload-offset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

#[test]
fn a_chunked_upload_resumes_where_it_stopped() {
    let h = Harness::new();
    let maria = h.enroll("maria");
    let bytes = photo(600 * 1024);
    let name = sha(&bytes);
    let r = head(&h, &maria, &name);
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(offset_of(&r), Some(0));

    let r = patch(&h, &maria, &name, 0, bytes.len(), &bytes[..256 * 1024]);
    assert_eq!(r.status(), StatusCode::OK);
    let receipt: BlobReceipt = r.json().expect("receipt");
    assert_eq!((receipt.received, receipt.complete), (256 * 1024, false));

    // The connection dropped; the device asks where to resume.
    let r = head(&h, &maria, &name);
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(offset_of(&r), Some(256 * 1024));

    // A chunk from the wrong place is refused with the offset to resume from.
    let r = patch(&h, &maria, &name, 100, bytes.len(), &bytes[100..200]);
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(offset_of(&r), Some(256 * 1024));
    let e: Value = r.json().expect("error body");
    assert_eq!(e["error"], "offset_mismatch");

    let r = patch(
        &h,
        &maria,
        &name,
        256 * 1024,
        bytes.len(),
        &bytes[256 * 1024..512 * 1024],
    );
    assert_eq!(r.status(), StatusCode::OK);
    let r = patch(
        &h,
        &maria,
        &name,
        512 * 1024,
        bytes.len(),
        &bytes[512 * 1024..],
    );
    assert_eq!(r.status(), StatusCode::OK);
    let receipt: BlobReceipt = r.json().expect("receipt");
    assert!(receipt.complete);
    assert_eq!(receipt.received, bytes.len() as u64);
    assert_eq!(receipt.kind, BlobKind::Photo);

    let r = head(&h, &maria, &name);
    assert_eq!(r.status(), StatusCode::OK);
    let r = h
        .client
        .get(h.url(&format!("/v1/blobs/{name}")))
        .bearer_auth(&maria.token)
        .send()
        .expect("get");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()
            .get("x-proofline-sha256")
            .and_then(|v| v.to_str().ok()),
        Some(name.as_str())
    );
    assert_eq!(r.bytes().expect("bytes").to_vec(), bytes);

    let audit: Value = h
        .admin_get(&format!("/v1/admin/blobs/{name}"))
        .json()
        .expect("audit");
    assert_eq!(audit["verified"], true);
    assert_eq!(audit["bytes"], bytes.len());
    assert_eq!(audit["sites"][0], harbor().to_string());
}

#[test]
fn bytes_that_do_not_match_their_name_are_dropped() {
    let h = Harness::new();
    let maria = h.enroll("maria");
    let name = sha(b"the real photo");
    let r = h
        .client
        .put(h.url(&format!("/v1/blobs/{name}")))
        .bearer_auth(&maria.token)
        .header("x-proofline-site", "harbor")
        .body(b"something else".to_vec())
        .send()
        .expect("put");
    let e = error_of(r, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e.error, "hash_mismatch");
    let r = patch(&h, &maria, &name, 0, 14, b"something else");
    assert_eq!(
        error_of(r, StatusCode::UNPROCESSABLE_ENTITY).error,
        "hash_mismatch"
    );
    let r = head(&h, &maria, &name);
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(offset_of(&r), Some(0), "the partial bytes are dropped");
    assert!(h.healthy());
}

#[test]
fn a_bad_name_or_missing_headers_are_bad_requests() {
    let h = Harness::new();
    let maria = h.enroll("maria");
    for name in ["abc", "zz".repeat(32).as_str(), "%00"] {
        let r = h
            .client
            .get(h.url(&format!("/v1/blobs/{name}")))
            .bearer_auth(&maria.token)
            .send()
            .expect("get");
        assert_eq!(
            error_of(r, StatusCode::BAD_REQUEST).error,
            "bad_request",
            "{name}"
        );
    }
    let name = sha(b"x");
    let r = h
        .client
        .put(h.url(&format!("/v1/blobs/{name}")))
        .bearer_auth(&maria.token)
        .body(b"x".to_vec())
        .send()
        .expect("put");
    let e = error_of(r, StatusCode::BAD_REQUEST);
    assert!(e.message.contains("x-proofline-site"), "{}", e.message);
    let r = h
        .client
        .patch(h.url(&format!("/v1/blobs/{name}")))
        .bearer_auth(&maria.token)
        .header("x-proofline-site", "harbor")
        .body(b"x".to_vec())
        .send()
        .expect("patch");
    let e = error_of(r, StatusCode::BAD_REQUEST);
    assert!(e.message.contains("upload-offset"), "{}", e.message);
    let r = h
        .client
        .get(h.url(&format!("/v1/blobs/{name}")))
        .bearer_auth(&maria.token)
        .send()
        .expect("get");
    assert_eq!(error_of(r, StatusCode::NOT_FOUND).error, "not_found");
}

#[test]
fn a_blob_over_the_limit_is_refused() {
    let h = Harness::new();
    let maria = h.enroll("maria");
    let name = sha(b"huge");
    let r = patch(&h, &maria, &name, 0, 17 * 1024 * 1024, b"huge");
    assert_eq!(
        error_of(r, StatusCode::PAYLOAD_TOO_LARGE).error,
        "payload_too_large"
    );
    // A chunk far larger than a chunk.
    let big = photo(1024 * 1024);
    let r = patch(&h, &maria, &sha(&big), 0, big.len(), &big);
    assert_eq!(
        error_of(r, StatusCode::PAYLOAD_TOO_LARGE).error,
        "payload_too_large"
    );
    assert!(h.healthy());
}

#[test]
fn a_thumbnail_is_served_for_its_photo() {
    let h = Harness::new();
    let maria = h.enroll("maria");
    let sam = h.enroll("sam");
    let photo_bytes = photo(2000);
    let thumb = photo(100);
    let (photo_name, thumb_name) = (sha(&photo_bytes), sha(&thumb));
    let r = h
        .client
        .put(h.url(&format!("/v1/blobs/{thumb_name}")))
        .bearer_auth(&maria.token)
        .header("x-proofline-site", harbor().to_string())
        .header("x-proofline-kind", "thumbnail")
        .header("x-proofline-photo", &photo_name)
        .header("x-proofline-width", "160")
        .header("x-proofline-height", "120")
        .body(thumb.clone())
        .send()
        .expect("put");
    assert_eq!(r.status(), StatusCode::OK);
    let receipt: BlobReceipt = r.json().expect("receipt");
    assert_eq!(receipt.kind, BlobKind::Thumbnail);
    let r = h
        .client
        .get(h.url(&format!("/v1/blobs/{photo_name}/thumbnail")))
        .bearer_auth(&sam.token)
        .send()
        .expect("thumbnail");
    assert_eq!(r.status(), StatusCode::OK);
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    assert_eq!(header("x-proofline-sha256"), Some(thumb_name));
    assert_eq!(header("x-proofline-width").as_deref(), Some("160"));
    assert_eq!(header("x-proofline-height").as_deref(), Some("120"));
    assert_eq!(r.bytes().expect("bytes").to_vec(), thumb);
    let r = h
        .client
        .get(h.url(&format!("/v1/blobs/{}/thumbnail", sha(b"no such photo"))))
        .bearer_auth(&sam.token)
        .send()
        .expect("thumbnail");
    assert_eq!(error_of(r, StatusCode::NOT_FOUND).error, "not_found");
}
