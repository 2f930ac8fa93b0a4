//! Photo proof capture with the fixtures in `shared/fixtures/photos/` (see its README.md):
//! upright pixels, sizes, no metadata left, clear errors for bad files, de-duplicated atomic
//! storage, and no panic on any input.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};
use image::metadata::Orientation as ImageOrientation;
use image::{DynamicImage, GrayImage, RgbImage};
use proofline_core::proof::orientation::{Orientation, orient_rgb8};
use proofline_core::proof::{
    BlobStore, BlobStoreError, CaptureOptions, PhotoError, PhotoFormat, PhotoRecord, PreparedPhoto,
    Verification, capture_photo, prepare_photo, sha256_hex,
};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/photos")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// Computes a value once per test binary and key (tests run in parallel and share it).
fn memo<T: Send + Sync + 'static>(
    cells: &'static Cells<T>,
    key: String,
    make: impl FnOnce() -> T,
) -> Arc<T> {
    let cell = {
        let mut map = cells
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        Arc::clone(map.entry(key).or_default())
    };
    Arc::clone(cell.get_or_init(|| Arc::new(make())))
}

type Cells<T> = OnceLock<Mutex<HashMap<String, Arc<OnceLock<Arc<T>>>>>>;

/// A fixture run through [`prepare_photo`] with `max_edge` (once per test binary: 12 MP
/// in a debug build takes seconds).
fn prepared(name: &str, max_edge: u32) -> Arc<PreparedPhoto> {
    static CELLS: Cells<PreparedPhoto> = OnceLock::new();
    memo(&CELLS, format!("{name}@{max_edge}"), || {
        prepare_photo(&fixture(name), &CaptureOptions::with_max_edge(max_edge))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    })
}

/// A fixture decoded in full by the `image` crate, as stored (orientation not applied).
fn reference_of(name: &str) -> Arc<RgbImage> {
    static CELLS: Cells<RgbImage> = OnceLock::new();
    memo(&CELLS, name.to_string(), || decode(&fixture(name)))
}

fn at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-08T06:58:12Z")
        .map(|d| d.with_timezone(&Utc))
        .expect("instant")
}

fn stored(store: &BlobStore, sha: &str) -> Vec<u8> {
    store.get(sha).expect("readable").expect("stored")
}

fn decode(bytes: &[u8]) -> RgbImage {
    image::load_from_memory(bytes).expect("decodes").into_rgb8()
}

/// A coarse luminance picture (`w`×`h`) of an image, for comparing content and orientation.
fn profile(img: &RgbImage, w: u32, h: u32) -> GrayImage {
    let small = image::imageops::thumbnail(img, w, h);
    DynamicImage::ImageRgb8(small).into_luma8()
}

fn mean_abs_diff(a: &GrayImage, b: &GrayImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| u64::from(x.abs_diff(y)))
        .sum();
    total as f64 / a.as_raw().len() as f64
}

/// The original decoded in full by `image` and turned by `image`'s own orientation code.
fn reference(original: &[u8], orientation: ImageOrientation) -> RgbImage {
    let mut img = image::load_from_memory(original).expect("reference decodes");
    img.apply_orientation(orientation);
    img.into_rgb8()
}

/// Asserts the stored image looks like `original` (decoded, not turned) turned by `right`
/// and clearly unlike it turned by `wrong` (same size, so only the pixels tell them apart).
/// Turning is done by `image`'s own code on a small luminance profile of the original.
fn assert_pixels_match(
    stored: &RgbImage,
    original: &RgbImage,
    right: ImageOrientation,
    wrong: ImageOrientation,
) {
    let (w, h) = (stored.width() / 40, stored.height() / 40);
    let ours = profile(stored, w, h);
    let turned = |orientation: ImageOrientation| {
        let swaps = matches!(
            orientation,
            ImageOrientation::Rotate90
                | ImageOrientation::Rotate270
                | ImageOrientation::Rotate90FlipH
                | ImageOrientation::Rotate270FlipH
        );
        let (pw, ph) = if swaps { (h, w) } else { (w, h) };
        let mut small = DynamicImage::ImageLuma8(profile(original, pw, ph));
        small.apply_orientation(orientation);
        small.into_luma8()
    };
    let good = mean_abs_diff(&ours, &turned(right));
    let bad = mean_abs_diff(&ours, &turned(wrong));
    assert!(
        good < 4.0,
        "stored pixels differ from the reference: {good:.2}"
    );
    assert!(
        bad > 3.0 * good.max(1.0),
        "the orientation check cannot tell {right:?} ({good:.2}) from {wrong:?} ({bad:.2})"
    );
}

/// The header segments (markers before the first SOS) of a JPEG: (marker, segment bytes).
fn jpeg_segments(jpeg: &[u8]) -> Vec<(u8, Vec<u8>)> {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "starts with SOI");
    let mut out = Vec::new();
    let mut pos = 2;
    while pos + 4 <= jpeg.len() {
        assert_eq!(jpeg[pos], 0xFF, "marker at {pos}");
        let marker = jpeg[pos + 1];
        let len = usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
        out.push((marker, jpeg[pos + 4..pos + 2 + len].to_vec()));
        if marker == 0xDA {
            break;
        }
        pos += 2 + len;
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Asserts a stored JPEG is a fresh encode with no metadata: JFIF APP0, tables, frame,
/// scan; no APP1 (EXIF/XMP), APP2 (ICC), other APPn or comments; no trace of the camera.
fn assert_no_metadata(jpeg: &[u8]) {
    let segments = jpeg_segments(jpeg);
    for (marker, body) in &segments {
        match marker {
            0xE0 => assert!(body.starts_with(b"JFIF\0"), "APP0 is JFIF"),
            0xDB | 0xC0 | 0xC4 | 0xDA | 0xDD => {}
            other => panic!("unexpected segment 0xFF{other:02X} in the stored JPEG"),
        }
    }
    let header: Vec<u8> = segments.iter().flat_map(|(_, b)| b.clone()).collect();
    for needle in [
        &b"Exif"[..],
        b"GPS",
        b"ExampleCam",
        b"Model 12",
        b"SONY",
        b"2026:03:08",
        b"http://ns.adobe.com/xap",
        b"ICC_PROFILE",
    ] {
        assert!(
            !contains(&header, needle),
            "{:?} left in the stored JPEG",
            String::from_utf8_lossy(needle)
        );
    }
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

/// The width and height in a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    let be = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    (be(16), be(20))
}

#[test]
fn sideways_12_mp_photo_is_stored_upright_at_1600_px() {
    const FOREST: &str = "forest-4032x3024-orient6.jpg";
    let photo = prepared(FOREST, 1600);
    assert_eq!((photo.width, photo.height), (1200, 1600));
    assert_eq!((photo.thumb_width, photo.thumb_height), (240, 320));
    let img = decode(&photo.jpeg);
    assert_eq!(img.dimensions(), (1200, 1600));
    // Orientation 6: turned 90° clockwise; 270° has the same size but the wrong content.
    assert_pixels_match(
        &img,
        &reference_of(FOREST),
        ImageOrientation::Rotate90,
        ImageOrientation::Rotate270,
    );
    let thumb = decode(&photo.thumb);
    assert_eq!(thumb.dimensions(), (240, 320));
    let diff = mean_abs_diff(&profile(&thumb, 24, 32), &profile(&img, 24, 32));
    assert!(diff < 4.0, "the thumbnail shows the photo: {diff:.2}");
}

#[test]
fn no_exif_gps_or_camera_tags_are_left() {
    for name in ["forest-4032x3024-orient6.jpg", "cups-2560x1600-orient3.jpg"] {
        let original = fixture(name);
        // The originals do carry them: EXIF with make, model, GPS IFD pointer (0x8825).
        assert!(contains(&original, b"ExampleCam") && contains(&original, b"Exif\0\0"));
        assert!(contains(&original, &[0x88, 0x25]));
        let photo = prepared(name, 1600);
        assert_no_metadata(&photo.jpeg);
        assert_no_metadata(&photo.thumb);
    }
}

#[test]
fn upside_down_cups_are_turned_180_degrees() {
    const CUPS: &str = "cups-2560x1600-orient3.jpg";
    let photo = prepared(CUPS, 1600);
    assert_eq!((photo.width, photo.height), (1600, 1000));
    assert_eq!((photo.thumb_width, photo.thumb_height), (320, 200));
    assert_pixels_match(
        &decode(&photo.jpeg),
        &reference_of(CUPS),
        ImageOrientation::Rotate180,
        ImageOrientation::NoTransforms,
    );
}

#[test]
fn upright_leaf_is_stored_at_1600_by_1000() {
    const LEAF: &str = "leaf-2560x1600.jpg";
    let dir = tempfile::tempdir().expect("temp dir");
    let store = BlobStore::open(dir.path()).expect("store");
    let record =
        capture_photo(&fixture(LEAF), at(), &CaptureOptions::default(), &store).expect("capture");
    assert_eq!((record.width, record.height), (1600, 1000));
    assert_eq!((record.thumb_width, record.thumb_height), (320, 200));
    assert_eq!(record.captured_at, at());
    let jpeg = stored(&store, &record.sha256);
    assert_eq!(record.bytes, jpeg.len() as u64);
    assert_eq!(sha256_hex(&jpeg), record.sha256);
    assert_eq!(
        sha256_hex(&stored(&store, &record.thumb_sha256)),
        record.thumb_sha256
    );
    assert_pixels_match(
        &decode(&jpeg),
        &reference_of(LEAF),
        ImageOrientation::NoTransforms,
        ImageOrientation::Rotate180,
    );
    assert_no_metadata(&jpeg);
    // The record is what the completion event carries: it round-trips through JSON.
    let json = serde_json::to_string(&record).expect("json");
    assert_eq!(
        serde_json::from_str::<PhotoRecord>(&json).expect("parse"),
        record
    );
}

#[test]
fn png_is_captured_as_jpeg() {
    const WATER: &str = "water-1920x1080.png";
    // Despite its name the fixture is 2560×1600 (see its IHDR), so it comes out 1600×1000.
    assert_eq!(png_size(&fixture(WATER)), (2560, 1600));
    let photo = prepared(WATER, 1600);
    assert_eq!((photo.width, photo.height), (1600, 1000));
    assert_eq!((photo.thumb_width, photo.thumb_height), (320, 200));
    assert!(
        photo.jpeg.starts_with(&[0xFF, 0xD8, 0xFF]),
        "stored as JPEG"
    );
    assert_no_metadata(&photo.jpeg);
    assert_pixels_match(
        &decode(&photo.jpeg),
        &reference_of(WATER),
        ImageOrientation::NoTransforms,
        ImageOrientation::Rotate180,
    );
    // A 1920×1080 PNG comes out 1600×900.
    let mut png = Vec::new();
    DynamicImage::ImageRgb8(test_card(1920, 1080))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("png");
    let hd = prepare_photo(&png, &CaptureOptions::default()).expect("prepare");
    assert_eq!((hd.width, hd.height), (1600, 900));
    assert_eq!((hd.thumb_width, hd.thumb_height), (320, 180));
}

#[test]
fn truncated_jpeg_is_rejected_as_cut_short() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = BlobStore::open(dir.path()).expect("store");
    let err = capture_photo(
        &fixture("truncated.jpg"),
        at(),
        &CaptureOptions::default(),
        &store,
    )
    .expect_err("truncated data is rejected");
    assert!(
        matches!(
            err,
            PhotoError::Truncated {
                format: PhotoFormat::Jpeg
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the JPEG data is cut short (truncated): the file ends before the image is complete; \
         copy or take the photo again"
    );
    assert!(files_under(dir.path()).is_empty(), "nothing stored");
}

#[test]
fn pdf_named_jpg_is_rejected_as_not_an_image() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = BlobStore::open(dir.path()).expect("store");
    let err = capture_photo(
        &fixture("not-an-image.jpg"),
        at(),
        &CaptureOptions::default(),
        &store,
    )
    .expect_err("not an image");
    assert!(
        matches!(
            err,
            PhotoError::NotAnImage {
                looks_like: Some("a PDF document")
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the photo is not a JPEG or PNG image (it looks like a PDF document)"
    );
    assert!(files_under(dir.path()).is_empty(), "nothing stored");
}

#[test]
fn truncated_png_and_empty_input_are_rejected() {
    let png = fixture("water-1920x1080.png");
    let err = prepare_photo(&png[..png.len() / 2], &CaptureOptions::default())
        .expect_err("truncated PNG");
    assert!(
        matches!(
            err,
            PhotoError::Truncated {
                format: PhotoFormat::Png
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("the PNG data is cut short (truncated)")
    );
    let err = prepare_photo(&[], &CaptureOptions::default()).expect_err("empty");
    assert_eq!(err.to_string(), "the photo is empty (0 bytes)");
}

#[test]
fn same_photo_twice_is_stored_once_and_gives_the_same_record() {
    let original = fixture("leaf-2560x1600.jpg");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = BlobStore::open(dir.path()).expect("store");
    let options = CaptureOptions::default();
    let first = capture_photo(&original, at(), &options, &store).expect("first");
    let files = files_under(dir.path());
    assert_eq!(files.len(), 2, "photo and thumbnail: {files:?}");
    let modified: Vec<_> = files
        .iter()
        .map(|f| {
            std::fs::metadata(f)
                .and_then(|m| m.modified())
                .expect("mtime")
        })
        .collect();
    let second = capture_photo(&original, at(), &options, &store).expect("second");
    assert_eq!(first, second);
    assert_eq!(files_under(dir.path()), files, "no new file");
    let again: Vec<_> = files
        .iter()
        .map(|f| {
            std::fs::metadata(f)
                .and_then(|m| m.modified())
                .expect("mtime")
        })
        .collect();
    assert_eq!(modified, again, "not rewritten");
    // Atomic writes leave no temporary files behind; names are <sha>.jpg under <ab>/.
    for f in &files {
        let name = f.file_name().and_then(|n| n.to_str()).expect("name");
        assert!(!name.starts_with(".tmp"), "temp file left: {name}");
        let sha = name.strip_suffix(".jpg").expect(".jpg");
        assert_eq!(store.path(sha).expect("valid"), *f);
        assert_eq!(sha256_hex(&std::fs::read(f).expect("read")), sha);
        assert_eq!(store.verify(sha).expect("verify"), Verification::Intact);
    }
}

#[test]
fn max_edge_scales_down_but_never_up() {
    const FOREST: &str = "forest-4032x3024-orient6.jpg";
    const LEAF: &str = "leaf-2560x1600.jpg";
    // Smaller than the default: the 1/4-scale decode path.
    let small = prepared(FOREST, 800);
    assert_eq!((small.width, small.height), (600, 800));
    assert_eq!((small.thumb_width, small.thumb_height), (240, 320));
    assert_pixels_match(
        &decode(&small.jpeg),
        &reference_of(FOREST),
        ImageOrientation::Rotate90,
        ImageOrientation::Rotate270,
    );
    // Larger than the photo: kept at its own size (full decode path), never upscaled.
    let full = prepared(LEAF, 4000);
    assert_eq!((full.width, full.height), (2560, 1600));
    assert_eq!((full.thumb_width, full.thumb_height), (320, 200));
    assert_pixels_match(
        &decode(&full.jpeg),
        &reference_of(LEAF),
        ImageOrientation::NoTransforms,
        ImageOrientation::Rotate180,
    );
    let card = jpeg_with_orientation(&test_card(300, 200), 6, 0);
    let upright = prepare_photo(&card, &CaptureOptions::with_max_edge(5000)).expect("prepare");
    assert_eq!((upright.width, upright.height), (200, 300));
    // A thumbnail edge as large as the photo's is not an upscale either.
    let options = CaptureOptions {
        max_edge: 100,
        thumb_edge: 100,
        ..CaptureOptions::default()
    };
    let tiny = prepare_photo(&fixture(LEAF), &options).expect("prepare");
    assert_eq!((tiny.width, tiny.height), (100, 63));
    assert_eq!((tiny.thumb_width, tiny.thumb_height), (100, 63));
}

#[test]
fn invalid_options_are_refused() {
    let leaf = fixture("leaf-2560x1600.jpg");
    for options in [
        CaptureOptions::with_max_edge(0),
        CaptureOptions::with_max_edge(100_000),
        CaptureOptions {
            thumb_edge: 2000,
            ..CaptureOptions::default()
        },
        CaptureOptions {
            quality: 0,
            ..CaptureOptions::default()
        },
    ] {
        let err = prepare_photo(&leaf, &options).expect_err("refused");
        assert!(matches!(err, PhotoError::InvalidOptions(_)), "{err:?}");
    }
}

/// A small test card: a gradient with a bright top-left corner, so every orientation looks
/// different.
fn test_card(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let corner = x < w / 3 && y < h / 4;
        let v = if corner {
            250
        } else {
            (x * 120 / w + y * 60 / h) as u8
        };
        image::Rgb([v, (x * 255 / w) as u8, (y * 255 / h) as u8])
    })
}

/// Encodes `img` as JPEG with `jpeg-encoder`, with an EXIF block holding `orientation`.
fn jpeg_with_orientation(img: &RgbImage, orientation: u16, restart: u16) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 85);
    if restart > 0 {
        encoder.set_restart_interval(restart);
    }
    let mut exif = b"Exif\0\0MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01".to_vec();
    exif.extend_from_slice(&orientation.to_be_bytes());
    exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    encoder.add_app_segment(1, exif).expect("app1");
    encoder
        .encode(
            img.as_raw(),
            img.width() as u16,
            img.height() as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .expect("encode");
    out
}

#[test]
fn all_eight_exif_orientations_come_out_upright() {
    let card = test_card(320, 200);
    for value in 1..=8u16 {
        let jpeg = jpeg_with_orientation(&card, value, 0);
        let right = ImageOrientation::from_exif(value as u8).expect("valid");
        // Through the scaled decoder (1/2) and through the full decoder.
        for max_edge in [160, 1600] {
            let prepared =
                prepare_photo(&jpeg, &CaptureOptions::with_max_edge(max_edge)).expect("prepare");
            let img = decode(&prepared.jpeg);
            let expected = if value >= 5 { (200, 320) } else { (320, 200) };
            let expected = (
                expected.0 * max_edge.min(320) / 320,
                expected.1 * max_edge.min(320) / 320,
            );
            assert_eq!(img.dimensions(), expected, "orientation {value}");
            let reference = reference(&jpeg, right);
            let (w, h) = (img.width() / 10, img.height() / 10);
            let diff = mean_abs_diff(&profile(&img, w, h), &profile(&reference, w, h));
            assert!(diff < 6.0, "orientation {value}, max {max_edge}: {diff:.2}");
        }
    }
}

#[test]
fn orient_rgb8_agrees_with_the_image_crate() {
    let card = test_card(7, 5);
    for value in 1..=8u16 {
        let ours = orient_rgb8(
            card.as_raw().clone(),
            7,
            5,
            Orientation::from_exif(value).expect("valid"),
        );
        let mut theirs = DynamicImage::ImageRgb8(card.clone());
        theirs.apply_orientation(ImageOrientation::from_exif(value as u8).expect("valid"));
        let theirs = theirs.into_rgb8();
        assert_eq!(
            (ours.1 as u32, ours.2 as u32),
            theirs.dimensions(),
            "orientation {value}"
        );
        assert_eq!(&ours.0, theirs.as_raw(), "orientation {value}");
    }
}

#[test]
fn restart_markers_grey_and_other_samplings_decode_alike() {
    let card = test_card(333, 217);
    let options = CaptureOptions::with_max_edge(100);
    let plain = prepare_photo(&jpeg_with_orientation(&card, 1, 0), &options).expect("plain");
    for restart in [1, 3, 7] {
        let with_rst = prepare_photo(&jpeg_with_orientation(&card, 1, restart), &options)
            .expect("restart markers");
        // Same coefficients, so the same pixels and the same stored file.
        assert_eq!(with_rst.jpeg, plain.jpeg, "restart interval {restart}");
    }
    // Grey, 4:4:4 and 4:2:2 against the full decode by `image`.
    for (color, sampling) in [
        (
            jpeg_encoder::ColorType::Luma,
            jpeg_encoder::SamplingFactor::F_1_1,
        ),
        (
            jpeg_encoder::ColorType::Rgb,
            jpeg_encoder::SamplingFactor::F_1_1,
        ),
        (
            jpeg_encoder::ColorType::Rgb,
            jpeg_encoder::SamplingFactor::F_2_1,
        ),
        (
            jpeg_encoder::ColorType::Rgb,
            jpeg_encoder::SamplingFactor::F_1_2,
        ),
    ] {
        let pixels = match color {
            jpeg_encoder::ColorType::Luma => DynamicImage::ImageRgb8(card.clone())
                .into_luma8()
                .into_raw(),
            _ => card.as_raw().clone(),
        };
        let mut jpeg = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut jpeg, 90);
        encoder.set_sampling_factor(sampling);
        encoder.encode(&pixels, 333, 217, color).expect("encode");
        for max_edge in [40, 80, 160] {
            let prepared =
                prepare_photo(&jpeg, &CaptureOptions::with_max_edge(max_edge)).expect("prepare");
            let img = decode(&prepared.jpeg);
            let reference = reference(&jpeg, ImageOrientation::NoTransforms);
            let (w, h) = (img.width() / 8, img.height() / 8);
            let diff = mean_abs_diff(&profile(&img, w, h), &profile(&reference, w, h));
            assert!(
                diff < 6.0,
                "{color:?} {sampling:?} max {max_edge}: {diff:.2}"
            );
        }
    }
}

#[test]
fn png_with_transparency_is_composed_over_white() {
    let rgba = image::RgbaImage::from_fn(64, 40, |x, _| {
        if x < 32 {
            image::Rgba([0, 0, 0, 0])
        } else {
            image::Rgba([0, 0, 255, 255])
        }
    });
    let mut png = Vec::new();
    DynamicImage::ImageRgba8(rgba)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("png");
    let prepared = prepare_photo(&png, &CaptureOptions::default()).expect("prepare");
    let img = decode(&prepared.jpeg);
    assert_eq!(img.dimensions(), (64, 40));
    let left = img.get_pixel(8, 20);
    let right = img.get_pixel(56, 20);
    assert!(
        left.0.iter().all(|&c| c > 240),
        "transparent → white: {left:?}"
    );
    assert!(
        right[2] > 200 && right[0] < 40,
        "opaque blue stays blue: {right:?}"
    );
}

/// A tiny deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn random_and_mutated_bytes_never_panic() {
    let card = test_card(96, 72);
    let mut seeds: Vec<Vec<u8>> = vec![
        jpeg_with_orientation(&card, 6, 0),
        jpeg_with_orientation(&card, 3, 2),
    ];
    let mut png = Vec::new();
    DynamicImage::ImageRgb8(card.clone())
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("png");
    seeds.push(png);
    // The header of a real camera file (EXIF, tables) on top of garbage.
    let forest = fixture("forest-4032x3024-orient6.jpg");
    seeds.push(forest[..2000].to_vec());

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let option_sets = [
        CaptureOptions::with_max_edge(16),
        CaptureOptions::with_max_edge(30),
        CaptureOptions::with_max_edge(48),
        CaptureOptions::default(),
    ];
    let mut outcomes = (0usize, 0usize);
    // PHOTO_FUZZ_ROUNDS=200000 for a longer run (in release).
    let rounds = std::env::var("PHOTO_FUZZ_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(600);
    for round in 0..rounds {
        let seed = &seeds[round % seeds.len()];
        let mut bytes = seed.clone();
        match rng.below(4) {
            0 => {
                for _ in 0..1 + rng.below(8) {
                    let i = rng.below(bytes.len());
                    bytes[i] = rng.next() as u8;
                }
            }
            1 => bytes.truncate(rng.below(bytes.len())),
            2 => {
                let at = rng.below(bytes.len());
                let junk: Vec<u8> = (0..rng.below(64)).map(|_| rng.next() as u8).collect();
                bytes.splice(at..at, junk);
            }
            _ => {
                // Keep the signature, randomise the rest.
                let keep = if bytes.starts_with(&[0xFF, 0xD8]) {
                    3
                } else {
                    8
                };
                for b in bytes.iter_mut().skip(keep) {
                    *b = rng.next() as u8;
                }
            }
        }
        let options = &option_sets[round % option_sets.len()];
        match prepare_photo(&bytes, options) {
            Ok(p) => {
                assert!(p.width.max(p.height) <= options.max_edge);
                outcomes.0 += 1;
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                outcomes.1 += 1;
            }
        }
    }
    for len in 0..40 {
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let _ = prepare_photo(&bytes, &CaptureOptions::default());
    }
    assert!(outcomes.0 > 0 && outcomes.1 > 0, "{outcomes:?}");
}

#[test]
fn blob_store_puts_gets_verifies_and_rejects_mismatches() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = BlobStore::open(dir.path().join("blobs")).expect("creates the folder");
    let sha = store.put(b"proof").expect("put");
    assert_eq!(sha, sha256_hex(b"proof"));
    assert!(store.contains(&sha));
    assert_eq!(
        store.path(&sha).expect("path"),
        dir.path()
            .join("blobs")
            .join(&sha[..2])
            .join(format!("{sha}.jpg"))
    );
    assert_eq!(store.get(&sha).expect("get"), Some(b"proof".to_vec()));
    assert_eq!(store.put(b"proof").expect("again"), sha);

    // A sync download: the right bytes are stored, the wrong ones refused.
    let other = sha256_hex(b"other");
    assert!(!store.contains(&other));
    assert_eq!(store.verify(&other).expect("verify"), Verification::Missing);
    let err = store
        .put_verified(&other, b"tampered")
        .expect_err("mismatch");
    assert!(
        matches!(&err, BlobStoreError::HashMismatch { expected, actual }
            if *expected == other && *actual == sha256_hex(b"tampered")),
        "{err:?}"
    );
    assert!(!store.contains(&other), "nothing written on a mismatch");
    store.put_verified(&other, b"other").expect("verified put");
    assert_eq!(store.get(&other).expect("get"), Some(b"other".to_vec()));

    // Damage on disk is detected by verify and repaired by putting the bytes again.
    let path = store.path(&sha).expect("path");
    std::fs::write(&path, b"proog").expect("damage");
    assert_eq!(
        store.verify(&sha).expect("verify"),
        Verification::Corrupt {
            actual: sha256_hex(b"proog")
        }
    );
    std::fs::write(&path, b"pr").expect("damage");
    store.put(b"proof").expect("repair");
    assert_eq!(store.verify(&sha).expect("verify"), Verification::Intact);

    // Names that are not SHA-256 never reach the file system.
    for bad in ["../../etc/passwd", "ABC", &sha.to_uppercase()] {
        assert!(matches!(
            store.path(bad),
            Err(BlobStoreError::InvalidSha256(_))
        ));
        assert!(!store.contains(bad));
        assert!(store.get(bad).is_err());
    }
    let no_temp = files_under(dir.path())
        .iter()
        .all(|f| !f.to_string_lossy().contains(".tmp-"));
    assert!(no_temp, "no temporary files left");

    // A file where the folder should be is a clear error.
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").expect("write");
    let err = BlobStore::open(&file).expect_err("not a folder");
    assert!(matches!(err, BlobStoreError::NotADirectory(_)), "{err:?}");
}
