//! Reading a JPEG's marker structure without decoding pixels: size, EXIF orientation, the
//! tables the scaled decoder needs, and whether the data is complete.
//!
//! The walk reads every segment by its length and skims the entropy-coded data of each scan
//! for the next marker (8 bytes at a time), so a file cut short anywhere is recognised as
//! truncated before any decoder runs.

use super::orientation::Orientation;

/// Why the structure could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StructureError {
    /// The data ends before the End Of Image marker.
    Truncated,
    /// The markers do not form a JPEG image; the text says what is wrong.
    Corrupt(String),
}

/// A frame component (a colour channel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Component {
    /// The component id from the frame header.
    pub id: u8,
    /// Horizontal sampling factor (1..=4).
    pub h: u8,
    /// Vertical sampling factor (1..=4).
    pub v: u8,
    /// Quantisation table slot (0..=3).
    pub tq: u8,
}

/// A component in a scan header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScanComponent {
    /// Index into [`Frame::components`].
    pub index: usize,
    /// DC Huffman table slot (0..=3).
    pub dc: u8,
    /// AC Huffman table slot (0..=3).
    pub ac: u8,
}

/// The frame header (SOFn).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    /// The SOF marker's low nibble: 0 baseline, 1 extended, 2 progressive, …
    pub kind: u8,
    /// Sample precision in bits.
    pub precision: u8,
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels (0 would mean a DNL marker defines it).
    pub height: u16,
    /// The components, in frame order.
    pub components: Vec<Component>,
}

/// A Huffman table as defined by DHT: code counts per length (1..=16) and symbols.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HuffmanSpec {
    /// Number of codes of each length 1..=16.
    pub counts: [u8; 16],
    /// The symbols, in code order.
    pub symbols: Vec<u8>,
}

/// The first scan with the tables in force when it starts.
#[derive(Debug, Clone)]
pub(crate) struct Scan {
    /// The scan's components.
    pub components: Vec<ScanComponent>,
    /// Spectral selection start, end; successive approximation high, low.
    pub ss: u8,
    /// Spectral selection end.
    pub se: u8,
    /// Successive approximation (Ah << 4 | Al).
    pub approx: u8,
    /// Quantisation tables in zigzag order (slots 0..=3).
    pub quant: [Option<[u16; 64]>; 4],
    /// DC Huffman tables (slots 0..=3).
    pub dc: [Option<HuffmanSpec>; 4],
    /// AC Huffman tables (slots 0..=3).
    pub ac: [Option<HuffmanSpec>; 4],
    /// Restart interval in MCUs (0: none).
    pub restart_interval: u16,
    /// Offset of the first byte of entropy-coded data.
    pub data_start: usize,
    /// Offset of the marker that ends the scan's entropy-coded data.
    pub data_end: usize,
}

/// What the walk found.
#[derive(Debug, Clone)]
pub(crate) struct Structure {
    /// The frame header.
    pub frame: Frame,
    /// EXIF orientation (Normal when absent).
    pub orientation: Orientation,
    /// The first scan.
    pub first_scan: Scan,
    /// How many scans the image has (1 for an ordinary baseline JPEG).
    pub scan_count: usize,
    /// Whether an Adobe APP14 segment says the three components are RGB, not YCbCr.
    pub adobe_rgb: bool,
}

/// Walks the markers of `data` (which starts with SOI) up to EOI.
pub(crate) fn read_structure(data: &[u8]) -> Result<Structure, StructureError> {
    let corrupt = |m: &str| StructureError::Corrupt(m.to_string());
    if data.get(0..2) != Some(&[0xFF, 0xD8]) {
        return Err(corrupt("it does not start with a JPEG marker"));
    }
    let mut pos = 2;
    let mut frame: Option<Frame> = None;
    let mut orientation: Option<Orientation> = None;
    let mut adobe_rgb = false;
    let mut quant: [Option<[u16; 64]>; 4] = [None; 4];
    let mut dc: [Option<HuffmanSpec>; 4] = Default::default();
    let mut ac: [Option<HuffmanSpec>; 4] = Default::default();
    let mut restart_interval = 0u16;
    let mut first_scan: Option<Scan> = None;
    let mut scan_count = 0usize;
    loop {
        // A marker: 0xFF, any number of 0xFF fill bytes, then the code.
        match data.get(pos) {
            None => return Err(StructureError::Truncated),
            Some(0xFF) => {}
            Some(_) => return Err(corrupt("a marker was expected between segments")),
        }
        while data.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&code) = data.get(pos) else {
            return Err(StructureError::Truncated);
        };
        pos += 1;
        match code {
            0xD9 => break, // EOI
            0xD8 => return Err(corrupt("a second start-of-image marker")),
            0x01 | 0xD0..=0xD7 => continue, // TEM, stray RSTn: no length
            0x00 => return Err(corrupt("an invalid marker")),
            _ => {}
        }
        let len = match data.get(pos..pos + 2) {
            Some(b) => usize::from(u16::from_be_bytes([b[0], b[1]])),
            None => return Err(StructureError::Truncated),
        };
        if len < 2 {
            return Err(corrupt("a segment with an invalid length"));
        }
        let Some(body) = data.get(pos + 2..pos + len) else {
            return Err(StructureError::Truncated);
        };
        pos += len;
        match code {
            0xC0..=0xCF if !matches!(code, 0xC4 | 0xC8 | 0xCC) => {
                if frame.is_some() {
                    return Err(corrupt("more than one frame header"));
                }
                frame = Some(parse_frame(code & 0x0F, body)?);
            }
            0xC4 => parse_dht(body, &mut dc, &mut ac)?,
            0xDB => parse_dqt(body, &mut quant)?,
            0xDD => {
                let b = body
                    .get(0..2)
                    .ok_or_else(|| corrupt("a short DRI segment"))?;
                restart_interval = u16::from_be_bytes([b[0], b[1]]);
            }
            0xE1 if orientation.is_none() && body.starts_with(b"Exif\0\0") => {
                orientation = Some(Orientation::from_exif_tiff(&body[6..]));
            }
            0xEE if body.starts_with(b"Adobe") => {
                // Transform flag 0 with three components means RGB.
                adobe_rgb = body.get(11) == Some(&0);
            }
            0xDA => {
                let Some(f) = frame.as_ref() else {
                    return Err(corrupt("image data before the frame header"));
                };
                let (components, ss, se, approx) = parse_sos(body, f)?;
                let data_start = pos;
                let data_end = skip_entropy_data(data, pos)?;
                pos = data_end;
                scan_count += 1;
                if first_scan.is_none() {
                    first_scan = Some(Scan {
                        components,
                        ss,
                        se,
                        approx,
                        quant,
                        dc: dc.clone(),
                        ac: ac.clone(),
                        restart_interval,
                        data_start,
                        data_end,
                    });
                }
            }
            _ => {} // APPn, COM, DNL, …: skipped by length.
        }
    }
    let frame = frame.ok_or_else(|| corrupt("it has no frame header"))?;
    let first_scan = first_scan.ok_or_else(|| corrupt("it has no image data"))?;
    Ok(Structure {
        frame,
        orientation: orientation.unwrap_or_default(),
        first_scan,
        scan_count,
        adobe_rgb,
    })
}

fn parse_frame(kind: u8, body: &[u8]) -> Result<Frame, StructureError> {
    let corrupt = |m: &str| StructureError::Corrupt(m.to_string());
    let head = body
        .get(0..6)
        .ok_or_else(|| corrupt("a short frame header"))?;
    let precision = head[0];
    let height = u16::from_be_bytes([head[1], head[2]]);
    let width = u16::from_be_bytes([head[3], head[4]]);
    let n = usize::from(head[5]);
    if width == 0 {
        return Err(corrupt("the image is 0 pixels wide"));
    }
    if n == 0 || n > 4 {
        return Err(corrupt("an unsupported number of colour components"));
    }
    let specs = body
        .get(6..6 + 3 * n)
        .ok_or_else(|| corrupt("a short frame header"))?;
    let mut components = Vec::with_capacity(n);
    for c in specs.chunks_exact(3) {
        let (h, v, tq) = (c[1] >> 4, c[1] & 0x0F, c[2]);
        if !(1..=4).contains(&h) || !(1..=4).contains(&v) || tq > 3 {
            return Err(corrupt("invalid sampling factors or table numbers"));
        }
        components.push(Component { id: c[0], h, v, tq });
    }
    Ok(Frame {
        kind,
        precision,
        width,
        height,
        components,
    })
}

fn parse_dht(
    mut body: &[u8],
    dc: &mut [Option<HuffmanSpec>; 4],
    ac: &mut [Option<HuffmanSpec>; 4],
) -> Result<(), StructureError> {
    let corrupt = || StructureError::Corrupt("a damaged Huffman table".to_string());
    while !body.is_empty() {
        let head = body.get(0..17).ok_or_else(corrupt)?;
        let (class, slot) = (head[0] >> 4, usize::from(head[0] & 0x0F));
        let mut counts = [0u8; 16];
        counts.copy_from_slice(&head[1..17]);
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        if total > 256 || slot > 3 || class > 1 {
            return Err(corrupt());
        }
        let symbols = body.get(17..17 + total).ok_or_else(corrupt)?.to_vec();
        let spec = Some(HuffmanSpec { counts, symbols });
        if class == 0 {
            dc[slot] = spec;
        } else {
            ac[slot] = spec;
        }
        body = &body[17 + total..];
    }
    Ok(())
}

fn parse_dqt(mut body: &[u8], quant: &mut [Option<[u16; 64]>; 4]) -> Result<(), StructureError> {
    let corrupt = || StructureError::Corrupt("a damaged quantisation table".to_string());
    while let Some(&head) = body.first() {
        let (precision, slot) = (head >> 4, usize::from(head & 0x0F));
        if slot > 3 || precision > 1 {
            return Err(corrupt());
        }
        let size = if precision == 0 { 64 } else { 128 };
        let values = body.get(1..1 + size).ok_or_else(corrupt)?;
        let mut table = [0u16; 64];
        for (i, t) in table.iter_mut().enumerate() {
            *t = if precision == 0 {
                u16::from(values[i])
            } else {
                u16::from_be_bytes([values[2 * i], values[2 * i + 1]])
            };
        }
        quant[slot] = Some(table);
        body = &body[1 + size..];
    }
    Ok(())
}

type ScanHeader = (Vec<ScanComponent>, u8, u8, u8);

fn parse_sos(body: &[u8], frame: &Frame) -> Result<ScanHeader, StructureError> {
    let corrupt = |m: &str| StructureError::Corrupt(m.to_string());
    let n = usize::from(*body.first().ok_or_else(|| corrupt("a short scan header"))?);
    if n == 0 || n > 4 {
        return Err(corrupt("a scan with an invalid number of components"));
    }
    let specs = body
        .get(1..1 + 2 * n)
        .ok_or_else(|| corrupt("a short scan header"))?;
    let mut components = Vec::with_capacity(n);
    for s in specs.chunks_exact(2) {
        let index = frame
            .components
            .iter()
            .position(|c| c.id == s[0])
            .ok_or_else(|| corrupt("a scan names a component the frame does not have"))?;
        components.push(ScanComponent {
            index,
            dc: s[1] >> 4,
            ac: s[1] & 0x0F,
        });
    }
    let tail = body
        .get(1 + 2 * n..1 + 2 * n + 3)
        .ok_or_else(|| corrupt("a short scan header"))?;
    Ok((components, tail[0], tail[1], tail[2]))
}

/// Finds the end of entropy-coded data starting at `pos`: the offset of the first marker
/// that is neither a stuffed 0xFF00 nor a restart marker.
fn skip_entropy_data(data: &[u8], mut pos: usize) -> Result<usize, StructureError> {
    loop {
        pos = find_ff(data, pos).ok_or(StructureError::Truncated)?;
        // data[pos] == 0xFF; skip fill bytes.
        let mut next = pos + 1;
        while data.get(next) == Some(&0xFF) {
            next += 1;
        }
        match data.get(next) {
            None => return Err(StructureError::Truncated),
            Some(0x00 | 0xD0..=0xD7) => pos = next + 1,
            Some(_) => return Ok(next - 1),
        }
    }
}

/// The offset of the next 0xFF byte at or after `from`, eight bytes at a time.
pub(crate) fn find_ff(data: &[u8], from: usize) -> Option<usize> {
    let rest = data.get(from..)?;
    let mut chunks = rest.chunks_exact(8);
    let mut offset = from;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        // A byte of `!v` is zero exactly where `v` has 0xFF.
        let inv = !u64::from_le_bytes(word);
        if inv.wrapping_sub(0x0101_0101_0101_0101) & !inv & 0x8080_8080_8080_8080 != 0 {
            return chunk.iter().position(|&b| b == 0xFF).map(|i| offset + i);
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == 0xFF)
        .map(|i| offset + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_ff_agrees_with_a_plain_search() {
        let mut data = vec![0u8; 100];
        for at in [0usize, 7, 8, 9, 63, 64, 99] {
            data.iter_mut().for_each(|b| *b = 0xFE);
            data[at] = 0xFF;
            for from in 0..=at {
                assert_eq!(find_ff(&data, from), Some(at), "at {at} from {from}");
            }
            assert_eq!(find_ff(&data, at + 1), None);
        }
    }

    #[test]
    fn cut_short_is_truncated() {
        assert_eq!(
            read_structure(&[0xFF, 0xD8]).err(),
            Some(StructureError::Truncated)
        );
        assert_eq!(
            read_structure(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 1]).err(),
            Some(StructureError::Truncated)
        );
    }
}
