//! A single-threaded decoder for the JPEGs cameras write (baseline, 8-bit, one interleaved
//! scan, YCbCr or grey, chroma sampled 1× or 2×) that decodes straight to 1/2, 1/4 or 1/8
//! size in the DCT domain: each 8×8 block becomes 4×4, 2×2 or 1×1 pixels through an inverse
//! DCT of its lowest frequencies, so no full-size image is ever made.
//!
//! Entropy decoding (most of the time on a 12 MP photo) reads a de-stuffed copy of the scan
//! through a 64-bit bit buffer with a 10-bit lookup table that decodes a short AC code and its
//! value in one step. Anything else (progressive, arithmetic-coded, 12-bit, CMYK, several
//! scans, unusual sampling) is declined with `Ok(None)` and decoded the ordinary way.
//!
//! Every read is bounds-checked (the crate forbids `unsafe`); damaged data gives an error
//! text, never a panic.

use super::jpeg::{HuffmanSpec, Structure, find_ff};

/// Decoded pixels: interleaved RGB, `width * height * 3` bytes.
#[derive(Debug)]
pub(crate) struct Rgb {
    /// The pixels, row by row.
    pub pixels: Vec<u8>,
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
}

/// Natural (row-major) index of each zigzag position.
const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Bits looked up at once.
const FAST_BITS: u32 = 10;

/// A Huffman table ready for decoding.
struct Huffman {
    /// `(code length << 8) | symbol` for each `FAST_BITS` prefix; 0 when the code is longer.
    fast: Vec<u16>,
    /// For AC tables: `value << 16 | run << 8 | total bits` when a code and its value fit in
    /// `FAST_BITS`; 0 otherwise.
    fast_ac: Vec<i32>,
    /// Largest code of each length (index 1..=16), -1 when there is none.
    max_code: [i32; 17],
    /// Symbol index = `val_offset[len] + code`.
    val_offset: [i32; 17],
    symbols: Vec<u8>,
}

impl Huffman {
    fn new(spec: &HuffmanSpec) -> Result<Huffman, String> {
        let bad = || "a Huffman table is invalid".to_string();
        let mut fast = vec![0u16; 1 << FAST_BITS];
        let mut max_code = [-1i32; 17];
        let mut val_offset = [0i32; 17];
        let mut code: u32 = 0;
        let mut k: usize = 0;
        for len in 1..=16u32 {
            let count = usize::from(spec.counts[len as usize - 1]);
            val_offset[len as usize] = k as i32 - code as i32;
            for _ in 0..count {
                if code >= (1 << len) {
                    return Err(bad());
                }
                let symbol = *spec.symbols.get(k).ok_or_else(bad)?;
                if len <= FAST_BITS {
                    let shift = FAST_BITS - len;
                    let first = (code << shift) as usize;
                    for entry in &mut fast[first..first + (1 << shift)] {
                        *entry = ((len as u16) << 8) | u16::from(symbol);
                    }
                }
                code += 1;
                k += 1;
            }
            if count > 0 {
                max_code[len as usize] = code as i32 - 1;
            }
            code <<= 1;
        }
        // Short AC codes with short values: decode both with one lookup.
        let mut fast_ac = vec![0i32; 1 << FAST_BITS];
        for (index, entry) in fast.iter().enumerate() {
            let (len, symbol) = (u32::from(entry >> 8), u32::from(entry & 0xFF));
            let (run, size) = (symbol >> 4, symbol & 0x0F);
            if len == 0 || size == 0 || len + size > FAST_BITS {
                continue;
            }
            let raw = ((index as u32) >> (FAST_BITS - len - size)) & ((1 << size) - 1);
            let value = extend(raw as i32, size);
            fast_ac[index] = (value << 16) | ((run as i32) << 8) | (len + size) as i32;
        }
        Ok(Huffman {
            fast,
            fast_ac,
            max_code,
            val_offset,
            symbols: spec.symbols.clone(),
        })
    }
}

/// JPEG's sign extension of an `size`-bit magnitude category value.
#[inline(always)]
fn extend(raw: i32, size: u32) -> i32 {
    if raw < (1 << (size - 1)) {
        raw - (1 << size) + 1
    } else {
        raw
    }
}

/// Reads bits MSB first from de-stuffed entropy data; past the end it reads zeros and
/// [`Bits::overran`] tells.
struct Bits<'a> {
    data: &'a [u8],
    /// Next byte to load.
    pos: usize,
    /// Valid bits at the top; below them, possibly already-loaded copies of the next bits.
    buf: u64,
    /// Number of valid bits in `buf`.
    n: u32,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Bits<'a> {
        Bits {
            data,
            pos: 0,
            buf: 0,
            n: 0,
        }
    }

    /// Makes at least 32 bits available (at least 56 after a refill).
    #[inline(always)]
    fn refill(&mut self) {
        if self.n >= 32 {
            return;
        }
        if let Some(chunk) = self.data.get(self.pos..).and_then(|r| r.first_chunk::<8>()) {
            self.buf |= u64::from_be_bytes(*chunk) >> self.n;
            let take = (63 - self.n) >> 3;
            self.pos += take as usize;
            self.n += take * 8;
        } else {
            while self.n <= 56 {
                let byte = self.data.get(self.pos).copied().unwrap_or(0);
                self.buf |= u64::from(byte) << (56 - self.n);
                self.pos += 1;
                self.n += 8;
            }
        }
    }

    #[inline(always)]
    fn peek(&self, bits: u32) -> u32 {
        (self.buf >> (64 - bits)) as u32
    }

    #[inline(always)]
    fn consume(&mut self, bits: u32) {
        self.buf <<= bits;
        self.n -= bits;
    }

    /// Decodes one Huffman symbol; at least 16 bits must be available.
    #[inline(always)]
    fn symbol(&mut self, table: &Huffman) -> Result<u8, String> {
        let entry = table.fast[self.peek(FAST_BITS) as usize];
        if entry != 0 {
            self.consume(u32::from(entry >> 8));
            return Ok((entry & 0xFF) as u8);
        }
        for len in FAST_BITS + 1..=16 {
            let code = self.peek(len) as i32;
            if code <= table.max_code[len as usize] {
                self.consume(len);
                let index = table.val_offset[len as usize] + code;
                return usize::try_from(index)
                    .ok()
                    .and_then(|i| table.symbols.get(i).copied())
                    .ok_or_else(|| "an invalid Huffman code".to_string());
            }
        }
        Err("an invalid Huffman code".to_string())
    }

    /// Reads a `size`-bit value (1..=15 bits) and sign-extends it.
    #[inline(always)]
    fn receive_extend(&mut self, size: u32) -> i32 {
        let raw = self.peek(size) as i32;
        self.consume(size);
        extend(raw, size)
    }

    /// Whether more bits were consumed than the data holds.
    fn overran(&self) -> bool {
        (self.pos as u64) * 8 - u64::from(self.n) > (self.data.len() as u64) * 8
    }
}

/// One component of the scan, with its decoding state and output plane.
struct Plane {
    h: usize,
    v: usize,
    dc: usize,
    ac: usize,
    /// Dequantisation factors of the coefficients the IDCT uses, in its order.
    quant: [f32; 16],
    pred: i32,
    /// Plane width in pixels (whole MCUs).
    stride: usize,
    pixels: Vec<u8>,
}

/// Decodes `data` (whose structure is `structure`) at 1/`scale` (2, 4 or 8). `Ok(None)`: not
/// a kind of JPEG this decoder handles.
pub(crate) fn decode(
    data: &[u8],
    structure: &Structure,
    scale: usize,
) -> Result<Option<Rgb>, String> {
    let frame = &structure.frame;
    let scan = &structure.first_scan;
    let n = frame.components.len();
    let k = match scale {
        2 => 4,
        4 => 2,
        8 => 1,
        _ => return Ok(None),
    };
    let supported = matches!(frame.kind, 0 | 1)
        && frame.precision == 8
        && frame.height > 0
        && structure.scan_count == 1
        && (n == 1 || n == 3)
        && scan.components.len() == n
        && (scan.ss, scan.se, scan.approx) == (0, 63, 0)
        && !structure.adobe_rgb
        && !(n == 3 && frame.components.iter().map(|c| c.id).eq(*b"RGB"))
        && frame
            .components
            .iter()
            .all(|c| n == 1 || matches!(c.h, 1 | 2) && matches!(c.v, 1 | 2));
    if !supported {
        return Ok(None);
    }
    let (width, height) = (usize::from(frame.width), usize::from(frame.height));
    let (h_max, v_max) = if n == 1 {
        (1, 1)
    } else {
        let max = |f: fn(&super::jpeg::Component) -> u8| {
            frame
                .components
                .iter()
                .map(|c| usize::from(f(c)))
                .max()
                .unwrap_or(1)
        };
        (max(|c| c.h), max(|c| c.v))
    };
    let mcus_x = width.div_ceil(8 * h_max);
    let mcus_y = height.div_ceil(8 * v_max);

    // Tables; a missing one means the data is damaged.
    let mut dc_tables: Vec<Huffman> = Vec::new();
    let mut ac_tables: Vec<Huffman> = Vec::new();
    let mut planes: Vec<Plane> = Vec::with_capacity(n);
    let needed = idct_coefficients(k);
    for sc in &scan.components {
        let comp = frame.components[sc.index];
        let quant = scan.quant[usize::from(comp.tq)]
            .as_ref()
            .ok_or("a quantisation table is missing")?;
        let dc_spec = scan.dc[usize::from(sc.dc) & 3]
            .as_ref()
            .ok_or("a Huffman table is missing")?;
        let ac_spec = scan.ac[usize::from(sc.ac) & 3]
            .as_ref()
            .ok_or("a Huffman table is missing")?;
        dc_tables.push(Huffman::new(dc_spec)?);
        ac_tables.push(Huffman::new(ac_spec)?);
        let (h, v) = if n == 1 {
            (1, 1)
        } else {
            (usize::from(comp.h), usize::from(comp.v))
        };
        let stride = mcus_x * h * k;
        let rows = mcus_y * v * k;
        let natural_to_zigzag = natural_to_zigzag();
        planes.push(Plane {
            h,
            v,
            dc: dc_tables.len() - 1,
            ac: ac_tables.len() - 1,
            quant: {
                let mut q = [0f32; 16];
                for (slot, &nat) in q.iter_mut().zip(&needed) {
                    *slot = f32::from(quant[natural_to_zigzag[nat]]);
                }
                q
            },
            pred: 0,
            stride,
            pixels: vec![0u8; stride * rows],
        });
    }
    // Planes in frame order for colour conversion: the scan may list them differently.
    let frame_order: Vec<usize> = (0..n)
        .map(|i| {
            scan.components
                .iter()
                .position(|sc| sc.index == i)
                .unwrap_or(i)
        })
        .collect();

    let (clean, segments) = destuff(data, scan.data_start, scan.data_end);
    let mcus = Mcus {
        across: mcus_x,
        total: mcus_x * mcus_y,
        restart: usize::from(scan.restart_interval),
    };
    match k {
        4 => decode_mcus::<4, 25>(
            &clean,
            &segments,
            &mcus,
            &dc_tables,
            &ac_tables,
            &mut planes,
        )?,
        2 => decode_mcus::<2, 5>(
            &clean,
            &segments,
            &mcus,
            &dc_tables,
            &ac_tables,
            &mut planes,
        )?,
        _ => decode_mcus::<1, 1>(
            &clean,
            &segments,
            &mcus,
            &dc_tables,
            &ac_tables,
            &mut planes,
        )?,
    }

    let out_w = width.div_ceil(scale);
    let out_h = height.div_ceil(scale);
    let pixels = if n == 1 {
        to_rgb_grey(&planes[0], out_w, out_h)
    } else {
        let [y, cb, cr] = [0, 1, 2].map(|i| &planes[frame_order[i]]);
        to_rgb(y, cb, cr, h_max, v_max, out_w, out_h)
    };
    Ok(Some(Rgb {
        pixels,
        width: out_w,
        height: out_h,
    }))
}

fn natural_to_zigzag() -> [usize; 64] {
    let mut inverse = [0usize; 64];
    for (z, &nat) in ZIGZAG.iter().enumerate() {
        inverse[nat] = z;
    }
    inverse
}

/// Natural indices of the coefficients a `k`×`k` IDCT reads, row by row.
fn idct_coefficients(k: usize) -> Vec<usize> {
    (0..k)
        .flat_map(|v| (0..k).map(move |u| v * 8 + u))
        .collect()
}

/// The de-stuffed entropy data and where each restart interval starts in it.
fn destuff(data: &[u8], start: usize, end: usize) -> (Vec<u8>, Vec<usize>) {
    let data = data.get(..end).unwrap_or(data);
    let mut clean = Vec::with_capacity(end.saturating_sub(start));
    let mut segments = vec![0];
    let mut pos = start;
    while pos < data.len() {
        match find_ff(data, pos) {
            None => {
                clean.extend_from_slice(&data[pos..]);
                break;
            }
            Some(ff) => {
                clean.extend_from_slice(&data[pos..ff]);
                let mut next = ff + 1;
                while data.get(next) == Some(&0xFF) {
                    next += 1;
                }
                match data.get(next) {
                    Some(0x00) => clean.push(0xFF),
                    Some(0xD0..=0xD7) => segments.push(clean.len()),
                    _ => break,
                }
                pos = next + 1;
            }
        }
    }
    segments.push(clean.len());
    (clean, segments)
}

/// Restart interval `i` of the de-stuffed data.
fn segment<'a>(clean: &'a [u8], segments: &[usize], i: usize) -> Result<&'a [u8], String> {
    match (segments.get(i), segments.get(i + 1)) {
        (Some(&a), Some(&b)) => Ok(&clean[a..b]),
        _ => Err("restart markers are missing from the image data".into()),
    }
}

/// Decodes one block's coefficients, keeping the first `out.len()` zigzag positions.
#[inline(always)]
fn decode_block(
    bits: &mut Bits<'_>,
    dc: &Huffman,
    ac: &Huffman,
    pred: &mut i32,
    out: &mut [i32],
) -> Result<(), String> {
    out.fill(0);
    bits.refill();
    let size = u32::from(bits.symbol(dc)?);
    if size > 11 {
        return Err("a DC coefficient is out of range".into());
    }
    if size > 0 {
        let diff = bits.receive_extend(size);
        *pred = (*pred + diff).clamp(-65536, 65535);
    }
    if let Some(first) = out.first_mut() {
        *first = *pred;
    }
    let keep = out.len();
    let mut k = 1usize;
    while k < 64 {
        bits.refill();
        let fast = ac.fast_ac[bits.peek(FAST_BITS) as usize];
        if fast != 0 {
            bits.consume((fast & 0xFF) as u32);
            k += ((fast >> 8) & 0xFF) as usize;
            if k > 63 {
                return Err("a block has too many coefficients".into());
            }
            if k < keep {
                out[k] = fast >> 16;
            }
            k += 1;
            continue;
        }
        let symbol = bits.symbol(ac)?;
        let (run, size) = (usize::from(symbol >> 4), u32::from(symbol & 0x0F));
        if size == 0 {
            if run == 15 {
                k += 16;
                continue;
            }
            break; // end of block
        }
        k += run;
        if k > 63 {
            return Err("a block has too many coefficients".into());
        }
        let value = bits.receive_extend(size);
        if k < keep {
            out[k] = value;
        }
        k += 1;
    }
    Ok(())
}

/// How the scan's MCUs are laid out.
struct Mcus {
    /// MCUs per row.
    across: usize,
    /// MCUs in the image.
    total: usize,
    /// Restart interval in MCUs (0: none).
    restart: usize,
}

/// Decodes every MCU into the planes with a `K`×`K` IDCT per block; `NEED` is the number of
/// zigzag positions that IDCT reads.
fn decode_mcus<const K: usize, const NEED: usize>(
    clean: &[u8],
    segments: &[usize],
    mcus: &Mcus,
    dc_tables: &[Huffman],
    ac_tables: &[Huffman],
    planes: &mut [Plane],
) -> Result<(), String> {
    let mut segment_index = 0;
    let mut bits = Bits::new(segment(clean, segments, 0)?);
    // Coefficients in zigzag order; only the first NEED are written and read.
    let mut zz = [0i32; 25];
    for mcu in 0..mcus.total {
        if mcus.restart > 0 && mcu > 0 && mcu % mcus.restart == 0 {
            if bits.overran() {
                return Err("the image data is damaged".into());
            }
            segment_index += 1;
            bits = Bits::new(segment(clean, segments, segment_index)?);
            planes.iter_mut().for_each(|p| p.pred = 0);
        }
        let (mx, my) = (mcu % mcus.across, mcu / mcus.across);
        for plane in planes.iter_mut() {
            let (dc, ac) = (&dc_tables[plane.dc], &ac_tables[plane.ac]);
            for by in 0..plane.v {
                for bx in 0..plane.h {
                    decode_block(&mut bits, dc, ac, &mut plane.pred, &mut zz[..NEED])?;
                    let px = (mx * plane.h + bx) * K;
                    let py = (my * plane.v + by) * K;
                    Idct::<K>.block(&zz, plane, px, py);
                }
            }
        }
    }
    if bits.overran() {
        return Err("the image data ends too early".into());
    }
    Ok(())
}

/// ½·C(0) = ½·cos(π/4): the DC and the even-part weight of the scaled IDCTs.
const W0: f32 = 0.353_553_4;
/// ½·cos(π/8) and ½·cos(3π/8): the odd-part weights of the 4-point IDCT.
const W1: f32 = 0.461_939_77;
const W3: f32 = 0.191_341_72;

/// Zigzag positions of the coefficients a 4×4 IDCT reads, row by row (natural (v, u) with
/// v, u < 4).
const ZZ4: [usize; 16] = [0, 1, 5, 6, 2, 4, 7, 13, 3, 8, 12, 17, 9, 11, 18, 24];
/// The same for 2×2.
const ZZ2: [usize; 4] = [0, 1, 2, 4];

/// The scaled inverse DCT of one block: a `K`-point IDCT over the lowest `K`×`K`
/// frequencies (`x_i = Σ_u ½·C(u)·F(u)·cos((2i+1)uπ / 2K)` in each direction), which is the
/// 8×8 block low-pass filtered and decimated in one step.
struct Idct<const K: usize>;

impl<const K: usize> Idct<K> {
    /// Writes the `K`×`K` pixels of one block at (`px`, `py`) in `plane`.
    #[inline(always)]
    fn block(&self, zz: &[i32; 25], plane: &mut Plane, px: usize, py: usize) {
        let q = &plane.quant;
        let mut out = [0u8; 16];
        match K {
            4 => {
                // Rows of dequantised coefficients, r[v][u].
                let mut r = [[0f32; 4]; 4];
                for (i, &z) in ZZ4.iter().enumerate() {
                    r[i / 4][i % 4] = zz[z] as f32 * q[i];
                }
                // Vertical pass on all four columns at once (lanes = u), transpose, then the
                // horizontal pass (lanes = y): element-wise on [f32; 4] so it vectorises.
                let [c0, c1, c2, c3] = idct4_lanes(r);
                let t = transpose([c0, c1, c2, c3]);
                let x = transpose(idct4_lanes(t));
                // x[y][xi]; level shift, clamp and round.
                for (y, row) in x.iter().enumerate() {
                    for (xi, &v) in row.iter().enumerate() {
                        out[y * 4 + xi] = (v + 128.5).clamp(0.0, 255.0) as i32 as u8;
                    }
                }
            }
            2 => {
                let c = ZZ2.map(|z| zz[z] as f32);
                let c = [c[0] * q[0], c[1] * q[1], c[2] * q[2], c[3] * q[3]];
                let (r0, r1) = (W0 * (c[0] + c[1]), W0 * (c[0] - c[1]));
                let (s0, s1) = (W0 * (c[2] + c[3]), W0 * (c[2] - c[3]));
                out[0] = (W0 * (r0 + s0) + 128.5) as u8;
                out[1] = (W0 * (r1 + s1) + 128.5) as u8;
                out[2] = (W0 * (r0 - s0) + 128.5) as u8;
                out[3] = (W0 * (r1 - s1) + 128.5) as u8;
            }
            _ => out[0] = (zz[0] as f32 * q[0] * 0.125 + 128.5) as u8,
        }
        let stride = plane.stride;
        for y in 0..K {
            let start = (py + y) * stride + px;
            if let Some(row) = plane.pixels.get_mut(start..start + K) {
                row.copy_from_slice(&out[y * K..y * K + K]);
            }
        }
    }
}

/// Four 4-point IDCTs side by side: input `c[freq][lane]`, output `x[sample][lane]`
/// (butterfly form, 6 multiplications per lane), as element-wise operations on rows.
#[inline(always)]
fn idct4_lanes(c: [[f32; 4]; 4]) -> [[f32; 4]; 4] {
    let e0 = scale(add(c[0], c[2]), W0);
    let e1 = scale(sub(c[0], c[2]), W0);
    let o0 = add(scale(c[1], W1), scale(c[3], W3));
    let o1 = sub(scale(c[1], W3), scale(c[3], W1));
    [add(e0, o0), add(e1, o1), sub(e1, o1), sub(e0, o0)]
}

#[inline(always)]
fn add(a: [f32; 4], b: [f32; 4]) -> [f32; 4] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]]
}

#[inline(always)]
fn sub(a: [f32; 4], b: [f32; 4]) -> [f32; 4] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3]]
}

#[inline(always)]
fn scale(a: [f32; 4], s: f32) -> [f32; 4] {
    [a[0] * s, a[1] * s, a[2] * s, a[3] * s]
}

#[inline(always)]
fn transpose(m: [[f32; 4]; 4]) -> [[f32; 4]; 4] {
    let mut t = [[0f32; 4]; 4];
    for (i, row) in m.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            t[j][i] = v;
        }
    }
    t
}

/// Grey plane to RGB.
fn to_rgb_grey(y: &Plane, w: usize, h: usize) -> Vec<u8> {
    let mut out = vec![0u8; w * h * 3];
    for (row, line) in out.chunks_exact_mut(w * 3).enumerate() {
        let src = &y.pixels[row * y.stride..row * y.stride + w];
        for (px, &l) in line.chunks_exact_mut(3).zip(src) {
            px.fill(l);
        }
    }
    out
}

/// One pixel from luma and chroma (JFIF YCbCr → RGB, 16-bit fixed point).
#[inline(always)]
fn ycc_to_rgb(l: u8, cb: u8, cr: u8) -> [u8; 3] {
    let (r, g, b) = chroma_terms(cb, cr);
    add_luma(l, r, g, b)
}

/// The chroma contributions to red, green and blue (shared by pixels with the same chroma).
#[inline(always)]
fn chroma_terms(cb: u8, cr: u8) -> (i32, i32, i32) {
    let (b, r) = (i32::from(cb) - 128, i32::from(cr) - 128);
    (
        91_881 * r + 32_768,
        -22_554 * b - 46_802 * r + 32_768,
        116_130 * b + 32_768,
    )
}

#[inline(always)]
fn add_luma(l: u8, r: i32, g: i32, b: i32) -> [u8; 3] {
    let l = i32::from(l) << 16;
    [
        ((l + r) >> 16).clamp(0, 255) as u8,
        ((l + g) >> 16).clamp(0, 255) as u8,
        ((l + b) >> 16).clamp(0, 255) as u8,
    ]
}

/// YCbCr planes (chroma at the same or half resolution) to RGB, chroma replicated.
fn to_rgb(
    y: &Plane,
    cb: &Plane,
    cr: &Plane,
    h_max: usize,
    v_max: usize,
    w: usize,
    h: usize,
) -> Vec<u8> {
    // 1 when a plane is sampled at half the maximum rate, else 0.
    let shift = |f: usize, max: usize| usize::from(f < max);
    let (yx, yy) = (shift(y.h, h_max), shift(y.v, v_max));
    let (bx, by) = (shift(cb.h, h_max), shift(cb.v, v_max));
    let (rx, ry) = (shift(cr.h, h_max), shift(cr.v, v_max));
    let mut out = vec![0u8; w * h * 3];
    let half = w.div_ceil(2);
    for (row, line) in out.chunks_exact_mut(w * 3).enumerate() {
        let ys = y.pixels.get((row >> yy) * y.stride..).unwrap_or_default();
        let bs = cb.pixels.get((row >> by) * cb.stride..).unwrap_or_default();
        let rs = cr.pixels.get((row >> ry) * cr.stride..).unwrap_or_default();
        // The usual camera layout (4:2:0 or 4:2:2): one chroma sample per two pixels.
        if let (0, 1, 1, Some(ys), Some(bs), Some(rs)) =
            (yx, bx, rx, ys.get(..w), bs.get(..half), rs.get(..half))
        {
            // Sixteen pixels (eight chroma samples) at a time, on fixed-size arrays so the
            // compiler can use vector instructions.
            const N: usize = 16;
            let (out_chunks, _) = line.as_chunks_mut::<{ N * 3 }>();
            let (y_chunks, _) = ys.as_chunks::<N>();
            let (b_chunks, _) = bs.as_chunks::<{ N / 2 }>();
            let (r_chunks, _) = rs.as_chunks::<{ N / 2 }>();
            let chunks = out_chunks
                .iter_mut()
                .zip(y_chunks)
                .zip(b_chunks.iter().zip(r_chunks));
            for ((px, l), (b, r)) in chunks {
                // Each chroma sample covers two pixels: widen to N lanes first.
                let mut cbw = [0u8; N];
                let mut crw = [0u8; N];
                for j in 0..N / 2 {
                    cbw[2 * j] = b[j];
                    cbw[2 * j + 1] = b[j];
                    crw[2 * j] = r[j];
                    crw[2 * j + 1] = r[j];
                }
                let mut red = [0u8; N];
                let mut green = [0u8; N];
                let mut blue = [0u8; N];
                for i in 0..N {
                    let luma = i32::from(l[i]) << 16;
                    let cb = i32::from(cbw[i]) - 128;
                    let cr = i32::from(crw[i]) - 128;
                    red[i] = ((luma + 91_881 * cr + 32_768) >> 16).clamp(0, 255) as u8;
                    green[i] =
                        ((luma - 22_554 * cb - 46_802 * cr + 32_768) >> 16).clamp(0, 255) as u8;
                    blue[i] = ((luma + 116_130 * cb + 32_768) >> 16).clamp(0, 255) as u8;
                }
                for i in 0..N {
                    px[3 * i] = red[i];
                    px[3 * i + 1] = green[i];
                    px[3 * i + 2] = blue[i];
                }
            }
            for x in (w / N) * N..w {
                line[x * 3..x * 3 + 3].copy_from_slice(&ycc_to_rgb(ys[x], bs[x >> 1], rs[x >> 1]));
            }
            continue;
        }
        for (x, px) in line.chunks_exact_mut(3).enumerate() {
            let (l, b, r) = (ys.get(x >> yx), bs.get(x >> bx), rs.get(x >> rx));
            if let (Some(&l), Some(&b), Some(&r)) = (l, b, r) {
                px.copy_from_slice(&ycc_to_rgb(l, b, r));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proof::jpeg::read_structure;

    fn fixture(name: &str) -> Option<Vec<u8>> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/fixtures/photos")
            .join(name);
        std::fs::read(path).ok()
    }

    /// Mean absolute difference per channel between our 1/`scale` decode and the `image`
    /// crate's full decode averaged over `scale`×`scale` boxes.
    fn mean_error(name: &str, scale: usize) -> f64 {
        let Some(data) = fixture(name) else {
            panic!("fixture {name} is missing");
        };
        let structure = read_structure(&data).expect("structure");
        let ours = decode(&data, &structure, scale)
            .expect("decodes")
            .expect("supported");
        let full = image::load_from_memory(&data)
            .expect("reference")
            .into_rgb8();
        let (fw, fh) = (full.width() as usize, full.height() as usize);
        let mut total = 0u64;
        let mut count = 0u64;
        for y in 0..fh / scale {
            for x in 0..fw / scale {
                for c in 0..3 {
                    let mut sum = 0u32;
                    for dy in 0..scale {
                        for dx in 0..scale {
                            let p =
                                full.get_pixel((x * scale + dx) as u32, (y * scale + dy) as u32);
                            sum += u32::from(p[c]);
                        }
                    }
                    let reference = sum as f64 / (scale * scale) as f64;
                    let got = f64::from(ours.pixels[(y * ours.width + x) * 3 + c]);
                    total += (reference - got).abs().round() as u64;
                    count += 1;
                }
            }
        }
        total as f64 / count as f64
    }

    #[test]
    fn scaled_decodes_match_the_full_decode_averaged() {
        for (name, scale) in [
            ("leaf-2560x1600.jpg", 2),
            ("leaf-2560x1600.jpg", 4),
            ("leaf-2560x1600.jpg", 8),
            ("cups-2560x1600-orient3.jpg", 2),
        ] {
            let err = mean_error(name, scale);
            assert!(err < 3.0, "{name} at 1/{scale}: mean error {err:.2}");
        }
    }
}
