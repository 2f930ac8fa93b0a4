//! EXIF orientation: the eight ways a camera may store a photo, and turning stored RGB pixels
//! upright.
//!
//! A camera writes the sensor's rows as they come and records in the EXIF `Orientation` tag
//! (0x0112) how a viewer must turn them. Proof photos are stored upright with no metadata, so
//! capture applies the tag to the pixels once ([`orient_rgb8`]) and drops it.

/// The EXIF orientation of a stored image (tag 0x0112), values 1 to 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Orientation {
    /// 1: stored upright.
    #[default]
    Normal,
    /// 2: mirrored left to right.
    FlipHorizontal,
    /// 3: upside down (turn 180°).
    Rotate180,
    /// 4: mirrored top to bottom.
    FlipVertical,
    /// 5: mirrored along the main diagonal (rows become columns).
    Transpose,
    /// 6: lying on its side; turn 90° clockwise to view.
    Rotate90,
    /// 7: mirrored along the anti-diagonal.
    Transverse,
    /// 8: lying on its other side; turn 90° counter-clockwise (270° clockwise) to view.
    Rotate270,
}

impl Orientation {
    /// The orientation for an EXIF value; `None` outside 1..=8.
    pub fn from_exif(value: u16) -> Option<Orientation> {
        Some(match value {
            1 => Orientation::Normal,
            2 => Orientation::FlipHorizontal,
            3 => Orientation::Rotate180,
            4 => Orientation::FlipVertical,
            5 => Orientation::Transpose,
            6 => Orientation::Rotate90,
            7 => Orientation::Transverse,
            8 => Orientation::Rotate270,
            _ => return None,
        })
    }

    /// The EXIF value (1..=8).
    pub fn to_exif(self) -> u16 {
        match self {
            Orientation::Normal => 1,
            Orientation::FlipHorizontal => 2,
            Orientation::Rotate180 => 3,
            Orientation::FlipVertical => 4,
            Orientation::Transpose => 5,
            Orientation::Rotate90 => 6,
            Orientation::Transverse => 7,
            Orientation::Rotate270 => 8,
        }
    }

    /// Whether turning upright swaps width and height (values 5 to 8).
    pub fn swaps_dimensions(self) -> bool {
        matches!(
            self,
            Orientation::Transpose
                | Orientation::Rotate90
                | Orientation::Transverse
                | Orientation::Rotate270
        )
    }

    /// Reads the orientation from the TIFF structure of an EXIF block (the bytes after
    /// `Exif\0\0` in a JPEG APP1 segment, or a PNG `eXIf` chunk). Missing, damaged or
    /// out-of-range values read as [`Orientation::Normal`]: a bad tag never rejects a photo.
    pub fn from_exif_tiff(tiff: &[u8]) -> Orientation {
        read_orientation_tag(tiff)
            .and_then(Orientation::from_exif)
            .unwrap_or_default()
    }
}

/// Tag 0x0112 of IFD0, if the TIFF structure holds one.
fn read_orientation_tag(tiff: &[u8]) -> Option<u16> {
    let big_endian = match tiff.get(0..4)? {
        [b'I', b'I', 42, 0] => false,
        [b'M', b'M', 0, 42] => true,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = tiff.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = tiff.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let entries = usize::from(u16_at(ifd)?);
    for i in 0..entries {
        let entry = ifd.checked_add(2)?.checked_add(i.checked_mul(12)?)?;
        if u16_at(entry)? == 0x0112 {
            // SHORT (type 3), count 1: the value sits in the first two bytes of the field.
            let kind = u16_at(entry + 2)?;
            let count = u32_at(entry + 4)?;
            return (kind == 3 && count == 1)
                .then(|| u16_at(entry + 8))
                .flatten();
        }
    }
    None
}

/// Turns `w`×`h` interleaved RGB pixels upright for `orientation`; returns the pixels and
/// their new width and height (swapped for values 5 to 8).
///
/// `pixels` must hold exactly `w * h * 3` bytes; anything else is returned unchanged (the
/// caller built the buffer, so this cannot happen on any input photo).
pub fn orient_rgb8(
    pixels: Vec<u8>,
    w: usize,
    h: usize,
    orientation: Orientation,
) -> (Vec<u8>, usize, usize) {
    orient_rgb8_reusing(pixels, w, h, orientation, Vec::new())
}

/// [`orient_rgb8`] writing into `spare`'s allocation when it is large enough (a buffer the
/// caller no longer needs: its memory is already mapped, which saves page faults).
pub fn orient_rgb8_reusing(
    pixels: Vec<u8>,
    w: usize,
    h: usize,
    orientation: Orientation,
    spare: Vec<u8>,
) -> (Vec<u8>, usize, usize) {
    if orientation == Orientation::Normal || w.checked_mul(h).map(|n| n * 3) != Some(pixels.len()) {
        return (pixels, w, h);
    }
    let (ow, oh) = if orientation.swaps_dimensions() {
        (h, w)
    } else {
        (w, h)
    };
    let (src, _) = pixels.as_chunks::<3>();
    let mut buffer = spare;
    buffer.clear();
    buffer.resize(pixels.len(), 0);
    let (out, _) = buffer.as_chunks_mut::<3>();
    // Output pixel (x, y) comes from source pixel `start + x * step_x + y * step_y`
    // (steps in pixels, possibly negative).
    let (wi, hi) = (w as isize, h as isize);
    let (start, step_x, step_y): (isize, isize, isize) = match orientation {
        Orientation::Normal => (0, 1, wi),
        Orientation::FlipHorizontal => (wi - 1, -1, wi),
        Orientation::Rotate180 => (wi * hi - 1, -1, -wi),
        Orientation::FlipVertical => (wi * (hi - 1), 1, -wi),
        Orientation::Transpose => (0, wi, 1),
        Orientation::Rotate90 => (wi * (hi - 1), -wi, 1),
        Orientation::Transverse => (wi * hi - 1, -wi, -1),
        Orientation::Rotate270 => (wi - 1, wi, -1),
    };
    // Tiles keep both the rows read and the rows written in cache when the source is
    // walked down its columns.
    const TILE: usize = 64;
    for ty in (0..oh).step_by(TILE) {
        for tx in (0..ow).step_by(TILE) {
            let x_end = (tx + TILE).min(ow);
            for y in ty..(ty + TILE).min(oh) {
                let row_start = start + y as isize * step_y;
                let row = &mut out[y * ow + tx..y * ow + x_end];
                for (i, px) in row.iter_mut().enumerate() {
                    let s = row_start + (tx + i) as isize * step_x;
                    // Always in range: the mapping is a permutation of the pixels.
                    if let Some(p) = usize::try_from(s).ok().and_then(|s| src.get(s)) {
                        *px = *p;
                    }
                }
            }
        }
    }
    (buffer, ow, oh)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiff_with_orientation(big_endian: bool, value: u16) -> Vec<u8> {
        let mut t = Vec::new();
        let u16b = |v: u16| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let u32b = |v: u32| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        t.extend_from_slice(if big_endian { b"MM\0*" } else { b"II*\0" });
        t.extend_from_slice(&u32b(8));
        t.extend_from_slice(&u16b(2));
        // Make (0x010F), ASCII, then Orientation.
        t.extend_from_slice(&u16b(0x010F));
        t.extend_from_slice(&u16b(2));
        t.extend_from_slice(&u32b(4));
        t.extend_from_slice(b"ACME");
        t.extend_from_slice(&u16b(0x0112));
        t.extend_from_slice(&u16b(3));
        t.extend_from_slice(&u32b(1));
        t.extend_from_slice(&u16b(value));
        t.extend_from_slice(&[0, 0]);
        t.extend_from_slice(&u32b(0));
        t
    }

    #[test]
    fn reads_the_tag_in_both_byte_orders() {
        for big in [false, true] {
            for v in 1..=8 {
                let o = Orientation::from_exif_tiff(&tiff_with_orientation(big, v));
                assert_eq!(o.to_exif(), v);
            }
            assert_eq!(
                Orientation::from_exif_tiff(&tiff_with_orientation(big, 9)),
                Orientation::Normal
            );
        }
    }

    #[test]
    fn damaged_exif_reads_as_normal() {
        let good = tiff_with_orientation(false, 6);
        // The value ends at byte 32 (header 8, count 2, one entry 12, then 8 + 2).
        for cut in 0..good.len() {
            let o = Orientation::from_exif_tiff(&good[..cut]);
            let expected = if cut < 32 {
                Orientation::Normal
            } else {
                Orientation::Rotate90
            };
            assert_eq!(o, expected, "cut at {cut}");
        }
        assert_eq!(
            Orientation::from_exif_tiff(b"II*\0\xff\xff\xff\xff"),
            Orientation::Normal
        );
    }
}
