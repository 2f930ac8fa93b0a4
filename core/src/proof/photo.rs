//! Photo proof capture: from the bytes a camera or a file gave to an upright, scaled,
//! metadata-free JPEG and its thumbnail, stored by SHA-256.
//!
//! The pipeline, all on the calling thread:
//! 1. sniff the bytes (JPEG or PNG, whatever the file was called) and check the container
//!    is complete, so a cut-short file gets its own error;
//! 2. decode: a camera JPEG at least twice the wanted size is decoded directly at 1/2, 1/4 or
//!    1/8 size in the DCT domain (no full-size image is made); other JPEGs and PNGs are
//!    decoded in full by the `image` crate;
//! 3. scale to the long edge (`max_edge`, default 1600 px; never up) with
//!    `fast_image_resize`'s Lanczos3 filter, then turn the pixels upright per EXIF
//!    orientation (turning the small image is cheaper than the big one);
//! 4. encode a fresh baseline JPEG (quality 80, 4:2:0) with `jpeg-encoder`: the output has a
//!    JFIF header and nothing else, so EXIF, GPS, camera make and model, XMP and ICC profiles
//!    are all gone;
//! 5. make the thumbnail (long edge 320 px) from the scaled image, not from the original;
//! 6. store both in the [`BlobStore`] under their SHA-256.

use std::io::Cursor;

use chrono::{DateTime, Utc};
use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, ImageDecoder, ImageError, Limits};
use serde::{Deserialize, Serialize};

use super::blob_store::{BlobStore, BlobStoreError};
use super::jpeg::{self, StructureError};
use super::orientation::{Orientation, orient_rgb8_reusing};
use super::scaled_jpeg;

/// The largest photo accepted, in pixels (100 megapixels).
pub const MAX_PIXELS: u64 = 100_000_000;
/// Default long edge of the stored photo.
pub const DEFAULT_MAX_EDGE: u32 = 1600;
/// Default long edge of the thumbnail.
pub const DEFAULT_THUMB_EDGE: u32 = 320;
/// Default JPEG quality of both.
pub const DEFAULT_QUALITY: u8 = 80;
/// Bounds of `max_edge` and `thumb_edge`.
pub const EDGE_RANGE: std::ops::RangeInclusive<u32> = 16..=8192;

/// How a photo is captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureOptions {
    /// Longest edge of the stored photo in pixels (16..=8192); smaller photos keep their size.
    pub max_edge: u32,
    /// Longest edge of the thumbnail in pixels (16..=8192, at most `max_edge`).
    pub thumb_edge: u32,
    /// JPEG quality of the stored photo and thumbnail (1..=100).
    pub quality: u8,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        CaptureOptions {
            max_edge: DEFAULT_MAX_EDGE,
            thumb_edge: DEFAULT_THUMB_EDGE,
            quality: DEFAULT_QUALITY,
        }
    }
}

impl CaptureOptions {
    /// The default options with another maximum long edge.
    pub fn with_max_edge(max_edge: u32) -> CaptureOptions {
        CaptureOptions {
            max_edge,
            thumb_edge: DEFAULT_THUMB_EDGE.min(max_edge),
            ..CaptureOptions::default()
        }
    }

    /// Checks the options are in range.
    pub fn validate(&self) -> Result<(), PhotoError> {
        let (lo, hi) = (EDGE_RANGE.start(), EDGE_RANGE.end());
        if !EDGE_RANGE.contains(&self.max_edge) {
            return Err(PhotoError::InvalidOptions(format!(
                "the maximum edge must be from {lo} to {hi} pixels, not {}",
                self.max_edge
            )));
        }
        if !EDGE_RANGE.contains(&self.thumb_edge) || self.thumb_edge > self.max_edge {
            return Err(PhotoError::InvalidOptions(format!(
                "the thumbnail edge must be from {lo} pixels to the maximum edge ({}), not {}",
                self.max_edge, self.thumb_edge
            )));
        }
        if !(1..=100).contains(&self.quality) {
            return Err(PhotoError::InvalidOptions(format!(
                "the JPEG quality must be from 1 to 100, not {}",
                self.quality
            )));
        }
        Ok(())
    }
}

/// A stored photo and its thumbnail, as the completion event and the sync refer to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoRecord {
    /// SHA-256 (lowercase hex) of the stored JPEG: its name in the blob store.
    pub sha256: String,
    /// Width of the stored JPEG in pixels (upright).
    pub width: u32,
    /// Height of the stored JPEG in pixels (upright).
    pub height: u32,
    /// Size of the stored JPEG in bytes.
    pub bytes: u64,
    /// SHA-256 of the thumbnail JPEG.
    pub thumb_sha256: String,
    /// Width of the thumbnail in pixels.
    pub thumb_width: u32,
    /// Height of the thumbnail in pixels.
    pub thumb_height: u32,
    /// When the photo was taken (given by the caller; the core reads no clock).
    pub captured_at: DateTime<Utc>,
}

/// The two JPEGs made from a photo, before they are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedPhoto {
    /// The stored photo: upright, scaled, no metadata.
    pub jpeg: Vec<u8>,
    /// Its width in pixels.
    pub width: u32,
    /// Its height in pixels.
    pub height: u32,
    /// The thumbnail JPEG.
    pub thumb: Vec<u8>,
    /// Thumbnail width in pixels.
    pub thumb_width: u32,
    /// Thumbnail height in pixels.
    pub thumb_height: u32,
}

/// The image formats capture accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhotoFormat {
    /// JPEG (JFIF/EXIF).
    Jpeg,
    /// PNG.
    Png,
}

impl std::fmt::Display for PhotoFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PhotoFormat::Jpeg => "JPEG",
            PhotoFormat::Png => "PNG",
        })
    }
}

/// Why a photo could not be captured. The messages are meant for the person who took it.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    /// No bytes at all.
    #[error("the photo is empty (0 bytes)")]
    Empty,
    /// The bytes are not a JPEG or PNG image (whatever the file is called).
    #[error("the photo is not a JPEG or PNG image{}", looks_like.map(|k| format!(" (it looks like {k})")).unwrap_or_default())]
    NotAnImage {
        /// What the bytes seem to be instead, e.g. "a PDF document", when recognisable.
        looks_like: Option<&'static str>,
    },
    /// The file ends before the image does: an interrupted copy or download.
    #[error(
        "the {format} data is cut short (truncated): the file ends before the image is complete; copy or take the photo again"
    )]
    Truncated {
        /// JPEG or PNG.
        format: PhotoFormat,
    },
    /// The data is damaged inside.
    #[error("the {format} data is damaged and cannot be read: {detail}")]
    Corrupt {
        /// JPEG or PNG.
        format: PhotoFormat,
        /// What is wrong, as the decoder saw it.
        detail: String,
    },
    /// More pixels than capture accepts.
    #[error(
        "the photo is too large ({width}×{height} pixels); at most {} megapixels are accepted",
        MAX_PIXELS / 1_000_000
    )]
    TooLarge {
        /// Width in pixels.
        width: u64,
        /// Height in pixels.
        height: u64,
    },
    /// The capture options are out of range.
    #[error("invalid capture options: {0}")]
    InvalidOptions(String),
    /// Scaling or encoding failed (not expected for any input).
    #[error("cannot process the photo: {0}")]
    Processing(String),
    /// The blob store could not store the result.
    #[error("cannot store the photo: {0}")]
    Store(#[from] BlobStoreError),
}

/// Captures a photo: decodes `bytes` (JPEG or PNG), turns it upright, scales it to
/// `options.max_edge`, re-encodes it without metadata, makes a thumbnail and stores both in
/// `store` by SHA-256. Capturing the same bytes again stores nothing new and returns the
/// same record (for the same `captured_at`).
pub fn capture_photo(
    bytes: &[u8],
    captured_at: DateTime<Utc>,
    options: &CaptureOptions,
    store: &BlobStore,
) -> Result<PhotoRecord, PhotoError> {
    let prepared = prepare_photo(bytes, options)?;
    let sha256 = store.put(&prepared.jpeg)?;
    let thumb_sha256 = store.put(&prepared.thumb)?;
    Ok(PhotoRecord {
        sha256,
        width: prepared.width,
        height: prepared.height,
        bytes: prepared.jpeg.len() as u64,
        thumb_sha256,
        thumb_width: prepared.thumb_width,
        thumb_height: prepared.thumb_height,
        captured_at,
    })
}

/// Everything [`capture_photo`] does except storing: the stored JPEG and the thumbnail.
pub fn prepare_photo(bytes: &[u8], options: &CaptureOptions) -> Result<PreparedPhoto, PhotoError> {
    options.validate()?;
    let format = sniff(bytes)?;
    let decoded = match format {
        PhotoFormat::Jpeg => decode_jpeg(bytes, options.max_edge)?,
        PhotoFormat::Png => decode_png(bytes)?,
    };
    // The stored size, computed in the orientation the pixels are stored in.
    let (target_w, target_h) = fit(decoded.full_width, decoded.full_height, options.max_edge);
    let (pixels, spare) = resize_keeping_source(
        decoded.pixels,
        (decoded.width, decoded.height),
        (target_w, target_h),
    )?;
    // The decoded pixels are no longer needed: their memory takes the turned image.
    let (pixels, width, height) = orient_rgb8_reusing(
        pixels,
        target_w as usize,
        target_h as usize,
        decoded.orientation,
        spare,
    );
    let (width, height) = (width as u32, height as u32);
    let jpeg = encode(&pixels, width, height, options.quality)?;
    let (thumb_width, thumb_height) = fit(width, height, options.thumb_edge);
    let thumb_pixels = resize(pixels, (width, height), (thumb_width, thumb_height))?;
    let thumb = encode(&thumb_pixels, thumb_width, thumb_height, options.quality)?;
    Ok(PreparedPhoto {
        jpeg,
        width,
        height,
        thumb,
        thumb_width,
        thumb_height,
    })
}

/// Decoded RGB pixels, maybe already scaled down, with what is needed to finish.
struct Decoded {
    pixels: Vec<u8>,
    width: u32,
    height: u32,
    /// Size of the photo before any scaled decoding (stored orientation).
    full_width: u32,
    full_height: u32,
    orientation: Orientation,
}

/// Which format the bytes are, by their first bytes.
fn sniff(bytes: &[u8]) -> Result<PhotoFormat, PhotoError> {
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(PhotoFormat::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(PhotoFormat::Png);
    }
    let brand = bytes.get(8..12);
    let looks_like = if bytes.starts_with(b"%PDF") {
        Some("a PDF document")
    } else if bytes.starts_with(b"GIF8") {
        Some("a GIF image")
    } else if bytes.starts_with(b"RIFF") && brand == Some(b"WEBP") {
        Some("a WebP image")
    } else if bytes.get(4..8) == Some(b"ftyp")
        && matches!(
            brand,
            Some(b"heic" | b"heix" | b"hevc" | b"heim" | b"heis" | b"mif1" | b"msf1" | b"avif")
        )
    {
        Some("a HEIC/HEIF or AVIF photo; set the camera to JPEG (\"Most Compatible\")")
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        Some("a TIFF or camera raw image")
    } else if bytes.starts_with(b"PK\x03\x04") {
        Some("a ZIP archive")
    } else {
        None
    };
    Err(PhotoError::NotAnImage { looks_like })
}

fn check_pixels(width: u64, height: u64) -> Result<(), PhotoError> {
    if width.saturating_mul(height) > MAX_PIXELS {
        return Err(PhotoError::TooLarge { width, height });
    }
    Ok(())
}

fn decode_jpeg(bytes: &[u8], max_edge: u32) -> Result<Decoded, PhotoError> {
    let format = PhotoFormat::Jpeg;
    let structure = jpeg::read_structure(bytes).map_err(|e| match e {
        StructureError::Truncated => PhotoError::Truncated { format },
        StructureError::Corrupt(detail) => PhotoError::Corrupt { format, detail },
    })?;
    let (w, h) = (
        u32::from(structure.frame.width),
        u32::from(structure.frame.height),
    );
    check_pixels(w.into(), h.into())?;
    // The largest DCT scaling that still leaves at least the wanted long edge.
    let long = w.max(h);
    let wanted = long.min(max_edge);
    let scale = [8u32, 4, 2]
        .into_iter()
        .find(|s| long.div_ceil(*s) >= wanted)
        .unwrap_or(1);
    if scale > 1 {
        match scaled_jpeg::decode(bytes, &structure, scale as usize) {
            Ok(Some(rgb)) => {
                return Ok(Decoded {
                    pixels: rgb.pixels,
                    width: rgb.width as u32,
                    height: rgb.height as u32,
                    full_width: w,
                    full_height: h,
                    orientation: structure.orientation,
                });
            }
            Ok(None) => {} // not a kind the scaled decoder handles
            Err(detail) => return Err(PhotoError::Corrupt { format, detail }),
        }
    }
    let decoder = image::codecs::jpeg::JpegDecoder::new(Cursor::new(bytes))
        .map_err(|e| image_error(format, e))?;
    let (pixels, width, height) = decode_with(decoder, format)?;
    Ok(Decoded {
        pixels,
        width,
        height,
        full_width: width,
        full_height: height,
        orientation: structure.orientation,
    })
}

fn decode_png(bytes: &[u8]) -> Result<Decoded, PhotoError> {
    let format = PhotoFormat::Png;
    check_png_structure(bytes)?;
    let mut decoder = image::codecs::png::PngDecoder::new(Cursor::new(bytes))
        .map_err(|e| image_error(format, e))?;
    let orientation = decoder
        .orientation()
        .ok()
        .and_then(|o| Orientation::from_exif(o.to_exif().into()))
        .unwrap_or_default();
    let (pixels, width, height) = decode_with(decoder, format)?;
    Ok(Decoded {
        pixels,
        width,
        height,
        full_width: width,
        full_height: height,
        orientation,
    })
}

/// Walks the PNG chunks up to IEND: a file cut short is recognised before decoding.
fn check_png_structure(bytes: &[u8]) -> Result<(), PhotoError> {
    let format = PhotoFormat::Png;
    let mut pos = 8;
    loop {
        let Some(head) = bytes.get(pos..pos + 8) else {
            return Err(PhotoError::Truncated { format });
        };
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        if len > 0x7FFF_FFFF {
            return Err(PhotoError::Corrupt {
                format,
                detail: "a chunk has an invalid length".into(),
            });
        }
        if let (8, b"IHDR", Some(ihdr)) = (pos, &head[4..8], bytes.get(16..24)) {
            let w = u32::from_be_bytes([ihdr[0], ihdr[1], ihdr[2], ihdr[3]]);
            let h = u32::from_be_bytes([ihdr[4], ihdr[5], ihdr[6], ihdr[7]]);
            check_pixels(w.into(), h.into())?;
        }
        let is_end = &head[4..8] == b"IEND";
        // Length, type, data, CRC.
        pos = pos + 12 + len as usize;
        if pos > bytes.len() {
            return Err(PhotoError::Truncated { format });
        }
        if is_end {
            return Ok(());
        }
    }
}

/// Decodes with the `image` crate into RGB (alpha composed over white).
fn decode_with(
    mut decoder: impl ImageDecoder,
    format: PhotoFormat,
) -> Result<(Vec<u8>, u32, u32), PhotoError> {
    let (w, h) = decoder.dimensions();
    check_pixels(w.into(), h.into())?;
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 8 + (64 << 20));
    decoder
        .set_limits(limits)
        .map_err(|e| image_error(format, e))?;
    let image = DynamicImage::from_decoder(decoder).map_err(|e| image_error(format, e))?;
    let (width, height) = (image.width(), image.height());
    let pixels = if image.color().has_alpha() {
        let rgba = image.into_rgba8();
        let mut rgb = Vec::with_capacity(rgba.len() / 4 * 3);
        for px in rgba.chunks_exact(4) {
            let a = u32::from(px[3]);
            for &c in &px[..3] {
                rgb.push(((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8);
            }
        }
        rgb
    } else {
        image.into_rgb8().into_raw()
    };
    Ok((pixels, width, height))
}

fn image_error(format: PhotoFormat, e: ImageError) -> PhotoError {
    match e {
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            PhotoError::Truncated { format }
        }
        other => PhotoError::Corrupt {
            format,
            detail: other.to_string(),
        },
    }
}

/// The size of `w`×`h` with its long edge at most `max_edge` (never larger than it is).
fn fit(w: u32, h: u32, max_edge: u32) -> (u32, u32) {
    let long = w.max(h);
    if long <= max_edge || long == 0 {
        return (w, h);
    }
    let scale = |side: u32| -> u32 {
        let v = (u64::from(side) * u64::from(max_edge) + u64::from(long) / 2) / u64::from(long);
        (v as u32).max(1)
    };
    (scale(w), scale(h))
}

/// Resizes RGB pixels with Lanczos3 (no-op when the size is already right).
fn resize(pixels: Vec<u8>, from: (u32, u32), to: (u32, u32)) -> Result<Vec<u8>, PhotoError> {
    resize_keeping_source(pixels, from, to).map(|(resized, _)| resized)
}

/// [`resize`], also handing back the source buffer for reuse (empty when nothing was done).
fn resize_keeping_source(
    pixels: Vec<u8>,
    from: (u32, u32),
    to: (u32, u32),
) -> Result<(Vec<u8>, Vec<u8>), PhotoError> {
    if from == to {
        return Ok((pixels, Vec::new()));
    }
    let failed = |e: &dyn std::fmt::Display| PhotoError::Processing(format!("resizing: {e}"));
    let src =
        Image::from_vec_u8(from.0, from.1, pixels, PixelType::U8x3).map_err(|e| failed(&e))?;
    let mut dst = Image::new(to.0, to.1, PixelType::U8x3);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| failed(&e))?;
    Ok((dst.into_vec(), src.into_vec()))
}

/// A fresh baseline JPEG of RGB pixels: JFIF header only, no metadata.
fn encode(pixels: &[u8], width: u32, height: u32, quality: u8) -> Result<Vec<u8>, PhotoError> {
    let (w, h) = (
        u16::try_from(width).map_err(|_| PhotoError::Processing("too wide to encode".into()))?,
        u16::try_from(height).map_err(|_| PhotoError::Processing("too tall to encode".into()))?,
    );
    let mut out = Vec::with_capacity(pixels.len() / 8);
    jpeg_encoder::Encoder::new(&mut out, quality)
        .encode(pixels, w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| PhotoError::Processing(format!("encoding: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_the_aspect_and_never_upscales() {
        assert_eq!(fit(4032, 3024, 1600), (1600, 1200));
        assert_eq!(fit(3024, 4032, 1600), (1200, 1600));
        assert_eq!(fit(1920, 1080, 1600), (1600, 900));
        assert_eq!(fit(800, 600, 1600), (800, 600));
        assert_eq!(fit(10000, 1, 100), (100, 1));
    }

    #[test]
    fn sniffing_names_common_lookalikes() {
        assert!(matches!(sniff(b""), Err(PhotoError::Empty)));
        let err = sniff(b"%PDF-1.7 ...").err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("the photo is not a JPEG or PNG image (it looks like a PDF document)")
        );
        let err = sniff(b"hello").err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("the photo is not a JPEG or PNG image"));
    }
}
