//! JPEG encoding into the size band: the highest quality (within the allowed range) whose file
//! fits under the band's top.
//!
//! A small baseline encoder of our own (YCbCr 4:4:4, the standard Annex K quantisation and
//! Huffman tables, IJG quality scaling — the same stream layout as the `image` crate's encoder)
//! so that the quality search pays for the colour conversion and the DCT once: each quality
//! tried is only quantisation and entropy coding (a few milliseconds at 480×640, against about
//! 13 ms for a full `image` encode).

use image::RgbImage;

use super::RenderError;

/// Pixel density written into the JFIF header.
pub const DPI: u16 = 300;

/// Quality range and the target file-size band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JpegQuality {
    /// Never below this (the registry asks for quality ≥ 60).
    pub min: u8,
    pub max: u8,
    /// Target size band in bytes.
    pub min_bytes: usize,
    pub max_bytes: usize,
}

impl Default for JpegQuality {
    fn default() -> Self {
        JpegQuality {
            min: 60,
            max: 95,
            min_bytes: 20 * 1024,
            max_bytes: 40 * 1024,
        }
    }
}

/// Encodes `img` at one quality (the band search below shares one transform instead).
#[cfg(test)]
pub fn encode(img: &RgbImage, quality: u8) -> Result<Vec<u8>, RenderError> {
    Prepared::new(img)?.write(quality)
}

/// Encodes at (about) the highest quality in `q.min..=q.max` that stays under `q.max_bytes`;
/// if even `q.min` is larger, returns that (quality is never lowered below the minimum).
/// File size grows smoothly with quality, so the bracket is narrowed by interpolating on size
/// (regula falsi) rather than halving: four or five entropy codings of the one transform.
pub fn encode_in_band(img: &RgbImage, q: JpegQuality) -> Result<(Vec<u8>, u8), RenderError> {
    let prepared = Prepared::new(img)?;
    let (mut lo, mut hi) = (q.min.min(q.max), q.max.max(q.min));
    let top = prepared.write(hi)?;
    if top.len() <= q.max_bytes {
        return Ok((top, hi));
    }
    let bottom = prepared.write(lo)?;
    if bottom.len() > q.max_bytes {
        return Ok((bottom, lo));
    }
    // Invariant: quality `lo` fits (size `lo_size`), `hi` does not (size `hi_size`).
    let (mut lo_size, mut hi_size) = (bottom.len() as f64, top.len() as f64);
    let mut best = (bottom, lo);
    let target = q.max_bytes as f64;
    for _ in 0..8 {
        if hi - lo <= 1 {
            break;
        }
        let t = ((target - lo_size) / (hi_size - lo_size).max(1.0)).clamp(0.0, 1.0);
        let guess = f64::from(lo) + t * f64::from(hi - lo);
        let mid = (guess.floor() as u8).clamp(lo + 1, hi - 1);
        let bytes = prepared.write(mid)?;
        if bytes.len() <= q.max_bytes {
            lo = mid;
            lo_size = bytes.len() as f64;
            best = (bytes, mid);
        } else {
            hi = mid;
            hi_size = bytes.len() as f64;
        }
    }
    Ok(best)
}

/// Zigzag position → natural (row-major) position in an 8×8 block.
#[rustfmt::skip]
const UNZIGZAG: [usize; 64] = [
     0,  1,  8, 16,  9,  2,  3, 10,
    17, 24, 32, 25, 18, 11,  4,  5,
    12, 19, 26, 33, 40, 48, 41, 34,
    27, 20, 13,  6,  7, 14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36,
    29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46,
    53, 60, 61, 54, 47, 55, 62, 63,
];

/// The photo transformed once: per 8×8 block and component (Y, Cb, Cr interleaved as in the
/// scan), the DCT coefficients in zigzag order.
struct Prepared {
    width: u16,
    height: u16,
    blocks: Vec<[f32; 64]>,
}

impl Prepared {
    fn new(img: &RgbImage) -> Result<Prepared, RenderError> {
        let (width, height) = match (u16::try_from(img.width()), u16::try_from(img.height())) {
            (Ok(w @ 1..), Ok(h @ 1..)) => (w, h),
            _ => {
                return Err(RenderError::Encode(format!(
                    "cannot encode a {}×{} JPEG",
                    img.width(),
                    img.height()
                )));
            }
        };
        let (w, h) = (usize::from(width), usize::from(height));
        let raw = img.as_raw();
        let basis = dct_basis();
        let (bw, bh) = (w.div_ceil(8), h.div_ceil(8));
        let mut blocks = Vec::with_capacity(bw * bh * 3);
        let mut planes = [[0f32; 64]; 3];
        for by in 0..bh {
            for bx in 0..bw {
                for dy in 0..8 {
                    let y = (by * 8 + dy).min(h - 1);
                    for dx in 0..8 {
                        let x = (bx * 8 + dx).min(w - 1);
                        let i = (y * w + x) * 3;
                        let (r, g, b) = (
                            f32::from(raw[i]),
                            f32::from(raw[i + 1]),
                            f32::from(raw[i + 2]),
                        );
                        // BT.601 full range, level-shifted by 128.
                        let k = dy * 8 + dx;
                        planes[0][k] = 0.299 * r + 0.587 * g + 0.114 * b - 128.0;
                        planes[1][k] = -0.168_736 * r - 0.331_264 * g + 0.5 * b;
                        planes[2][k] = 0.5 * r - 0.418_688 * g - 0.081_312 * b;
                    }
                }
                for plane in &planes {
                    blocks.push(fdct(plane, &basis));
                }
            }
        }
        Ok(Prepared {
            width,
            height,
            blocks,
        })
    }

    fn write(&self, quality: u8) -> Result<Vec<u8>, RenderError> {
        let luma_q = scaled_table(&STD_LUMA_QTABLE, quality);
        let chroma_q = scaled_table(&STD_CHROMA_QTABLE, quality);
        let mut out = Vec::with_capacity(48 * 1024);
        out.extend_from_slice(&[0xFF, 0xD8]);
        // JFIF 1.2, density 300×300 dots per inch (units 1), as the registry's photo spec
        // asks (a 480×640 photo prints at 41×54 mm); no thumbnail.
        let dpi = DPI.to_be_bytes();
        segment(
            &mut out,
            0xE0,
            &[
                b'J', b'F', b'I', b'F', 0, 1, 2, 1, dpi[0], dpi[1], dpi[0], dpi[1], 0, 0,
            ],
        );
        let (w, h) = (self.width.to_be_bytes(), self.height.to_be_bytes());
        segment(
            &mut out,
            0xC0,
            &[
                8, h[0], h[1], w[0], w[1], 3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1,
            ],
        );
        for (id, table) in [(0u8, &luma_q), (1, &chroma_q)] {
            let mut data = vec![id];
            data.extend(UNZIGZAG.iter().map(|&k| table[k]));
            segment(&mut out, 0xDB, &data);
        }
        for (class_id, bits, values) in [
            (0x00u8, &STD_LUMA_DC_CODE_LENGTHS, &STD_LUMA_DC_VALUES[..]),
            (0x10, &STD_LUMA_AC_CODE_LENGTHS, &STD_LUMA_AC_VALUES[..]),
            (0x01, &STD_CHROMA_DC_CODE_LENGTHS, &STD_CHROMA_DC_VALUES[..]),
            (0x11, &STD_CHROMA_AC_CODE_LENGTHS, &STD_CHROMA_AC_VALUES[..]),
        ] {
            let mut data = vec![class_id];
            data.extend_from_slice(bits);
            data.extend_from_slice(values);
            segment(&mut out, 0xC4, &data);
        }
        segment(&mut out, 0xDA, &[3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);

        let luma = (
            huff_lut(&STD_LUMA_DC_CODE_LENGTHS, &STD_LUMA_DC_VALUES),
            huff_lut(&STD_LUMA_AC_CODE_LENGTHS, &STD_LUMA_AC_VALUES),
        );
        let chroma = (
            huff_lut(&STD_CHROMA_DC_CODE_LENGTHS, &STD_CHROMA_DC_VALUES),
            huff_lut(&STD_CHROMA_AC_CODE_LENGTHS, &STD_CHROMA_AC_VALUES),
        );
        // Reciprocals in zigzag order.
        let recip = |t: &[u8; 64]| -> [f32; 64] {
            std::array::from_fn(|z| 1.0 / f32::from(t[UNZIGZAG[z]]))
        };
        let (luma_r, chroma_r) = (recip(&luma_q), recip(&chroma_q));
        let mut bits = BitWriter { out, acc: 0, n: 0 };
        let mut prev = [0i32; 3];
        let mut quant = [0i32; 64];
        for mcu in self.blocks.chunks_exact(3) {
            for (c, block) in mcu.iter().enumerate() {
                let (r, tables) = if c == 0 {
                    (&luma_r, &luma)
                } else {
                    (&chroma_r, &chroma)
                };
                for ((q, &v), &m) in quant.iter_mut().zip(block).zip(r) {
                    *q = round_half_away(v * m);
                }
                prev[c] = bits.block(&quant, prev[c], &tables.0, &tables.1);
            }
        }
        let mut out = bits.finish();
        out.extend_from_slice(&[0xFF, 0xD9]);
        Ok(out)
    }
}

#[inline]
fn round_half_away(v: f32) -> i32 {
    if v >= 0.0 {
        (v + 0.5) as i32
    } else {
        (v - 0.5) as i32
    }
}

fn segment(out: &mut Vec<u8>, marker: u8, data: &[u8]) {
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&(data.len() as u16 + 2).to_be_bytes());
    out.extend_from_slice(data);
}

/// IJG quality scaling of a base table (natural order).
fn scaled_table(base: &[u8; 64], quality: u8) -> [u8; 64] {
    let q = u32::from(quality.clamp(1, 100));
    let scale = if q < 50 { 5000 / q } else { 200 - q * 2 };
    base.map(|v| ((u32::from(v) * scale + 50) / 100).clamp(1, 255) as u8)
}

/// `c[u][x] = ½·C(u)·cos((2x+1)uπ/16)`, so that `c·B·cᵀ` is the JPEG forward DCT.
fn dct_basis() -> [[f32; 8]; 8] {
    std::array::from_fn(|u| {
        let cu = if u == 0 {
            std::f64::consts::FRAC_1_SQRT_2
        } else {
            1.0
        };
        std::array::from_fn(|x| {
            let angle = ((2 * x + 1) * u) as f64 * std::f64::consts::PI / 16.0;
            (0.5 * cu * angle.cos()) as f32
        })
    })
}

/// Separable 8×8 forward DCT; the result is in zigzag order.
fn fdct(block: &[f32; 64], c: &[[f32; 8]; 8]) -> [f32; 64] {
    // Rows: tmp[y][u] = Σx c[u][x]·block[y][x].
    let mut tmp = [0f32; 64];
    for y in 0..8 {
        let row = &block[y * 8..y * 8 + 8];
        for u in 0..8 {
            let mut s = 0.0;
            for x in 0..8 {
                s += c[u][x] * row[x];
            }
            tmp[y * 8 + u] = s;
        }
    }
    // Columns: out[v][u] = Σy c[v][y]·tmp[y][u].
    let mut natural = [0f32; 64];
    for v in 0..8 {
        for y in 0..8 {
            let cv = c[v][y];
            for u in 0..8 {
                natural[v * 8 + u] += cv * tmp[y * 8 + u];
            }
        }
    }
    std::array::from_fn(|z| natural[UNZIGZAG[z]])
}

/// (code length, code) per symbol, from a table's code-length counts and values.
fn huff_lut(bits: &[u8; 16], values: &[u8]) -> [(u8, u16); 256] {
    let mut lut = [(0u8, 0u16); 256];
    let mut code = 0u16;
    let mut k = 0;
    for (len, &count) in bits.iter().enumerate() {
        for _ in 0..count {
            lut[usize::from(values[k])] = (len as u8 + 1, code);
            code += 1;
            k += 1;
        }
        code <<= 1;
    }
    lut
}

struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter {
    #[inline]
    fn put(&mut self, code: u16, size: u8) {
        if size == 0 {
            return;
        }
        let size = u32::from(size);
        self.acc = (self.acc << size) | u64::from(code & ((1u32 << size) - 1) as u16);
        self.n += size;
        while self.n >= 8 {
            self.n -= 8;
            let byte = (self.acc >> self.n) as u8;
            self.out.push(byte);
            if byte == 0xFF {
                self.out.push(0);
            }
        }
    }

    /// Huffman-codes one quantised block (zigzag order); returns its DC for the next prediction.
    fn block(
        &mut self,
        q: &[i32; 64],
        prev_dc: i32,
        dc: &[(u8, u16); 256],
        ac: &[(u8, u16); 256],
    ) -> i32 {
        let (size, value) = magnitude(q[0] - prev_dc);
        let (len, code) = dc[usize::from(size)];
        self.put(code, len);
        self.put(value, size);
        let mut run = 0u8;
        for &v in &q[1..] {
            if v == 0 {
                run += 1;
                continue;
            }
            while run > 15 {
                let (len, code) = ac[0xF0];
                self.put(code, len);
                run -= 16;
            }
            let (size, value) = magnitude(v);
            let (len, code) = ac[usize::from((run << 4) | size)];
            self.put(code, len);
            self.put(value, size);
            run = 0;
        }
        if run > 0 {
            let (len, code) = ac[0x00];
            self.put(code, len);
        }
        q[0]
    }

    fn finish(mut self) -> Vec<u8> {
        // Pad the last byte with ones.
        let pad = (8 - self.n % 8) % 8;
        if pad > 0 {
            self.put(0x7F, pad as u8);
        }
        self.out
    }
}

/// JPEG magnitude category and the value's bits (one's complement for negatives).
#[inline]
fn magnitude(v: i32) -> (u8, u16) {
    let size = (32 - v.unsigned_abs().leading_zeros()) as u8;
    let bits = if v < 0 { v - 1 } else { v };
    (size, (bits as u32 & ((1u32 << size) - 1)) as u16)
}

// table K.1
#[rustfmt::skip]
const STD_LUMA_QTABLE: [u8; 64] = [
    16, 11, 10, 16,  24,  40,  51,  61,
    12, 12, 14, 19,  26,  58,  60,  55,
    14, 13, 16, 24,  40,  57,  69,  56,
    14, 17, 22, 29,  51,  87,  80,  62,
    18, 22, 37, 56,  68, 109, 103,  77,
    24, 35, 55, 64,  81, 104, 113,  92,
    49, 64, 78, 87, 103, 121, 120, 101,
    72, 92, 95, 98, 112, 100, 103,  99,
];

// table K.2
#[rustfmt::skip]
const STD_CHROMA_QTABLE: [u8; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99,
    18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
];

// section K.3
// Code lengths and values for table K.3
const STD_LUMA_DC_CODE_LENGTHS: [u8; 16] = [
    0x00, 0x01, 0x05, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];

const STD_LUMA_DC_VALUES: [u8; 12] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B,
];

// Code lengths and values for table K.4
const STD_CHROMA_DC_CODE_LENGTHS: [u8; 16] = [
    0x00, 0x03, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
];

const STD_CHROMA_DC_VALUES: [u8; 12] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B,
];

// Code lengths and values for table k.5
const STD_LUMA_AC_CODE_LENGTHS: [u8; 16] = [
    0x00, 0x02, 0x01, 0x03, 0x03, 0x02, 0x04, 0x03, 0x05, 0x05, 0x04, 0x04, 0x00, 0x00, 0x01, 0x7D,
];

const STD_LUMA_AC_VALUES: [u8; 162] = [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
    0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xA1, 0x08, 0x23, 0x42, 0xB1, 0xC1, 0x15, 0x52, 0xD1, 0xF0,
    0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0A, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2A, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
    0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
    0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
    0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7,
    0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3, 0xC4, 0xC5,
    0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xE1, 0xE2,
    0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8,
    0xF9, 0xFA,
];

// Code lengths and values for table k.6
const STD_CHROMA_AC_CODE_LENGTHS: [u8; 16] = [
    0x00, 0x02, 0x01, 0x02, 0x04, 0x04, 0x03, 0x04, 0x07, 0x05, 0x04, 0x04, 0x00, 0x01, 0x02, 0x77,
];
const STD_CHROMA_AC_VALUES: [u8; 162] = [
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
    0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xA1, 0xB1, 0xC1, 0x09, 0x23, 0x33, 0x52, 0xF0,
    0x15, 0x62, 0x72, 0xD1, 0x0A, 0x16, 0x24, 0x34, 0xE1, 0x25, 0xF1, 0x17, 0x18, 0x19, 0x1A, 0x26,
    0x27, 0x28, 0x29, 0x2A, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
    0x49, 0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
    0x69, 0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
    0x88, 0x89, 0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5,
    0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3,
    0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA,
    0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8,
    0xF9, 0xFA,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jfif_header_says_300_dpi() {
        let img = RgbImage::from_pixel(16, 16, image::Rgb([100, 197, 255]));
        let bytes = encode(&img, 80).expect("encodes");
        // SOI, APP0 marker and length, "JFIF\0", version 1.2, units, X density, Y density.
        assert_eq!(&bytes[0..4], &[0xFF, 0xD8, 0xFF, 0xE0]);
        assert_eq!(&bytes[6..11], b"JFIF\0");
        assert_eq!(bytes[13], 1, "units: dots per inch");
        assert_eq!(u16::from_be_bytes([bytes[14], bytes[15]]), 300);
        assert_eq!(u16::from_be_bytes([bytes[16], bytes[17]]), 300);
        // The `image` decoder still reads it.
        assert!(image::load_from_memory(&bytes).is_ok());
    }

    #[test]
    fn lands_under_the_top_of_the_band_at_the_highest_fitting_quality() {
        // Noise-like texture: size rises steeply with quality.
        let img = RgbImage::from_fn(480, 640, |x, y| {
            let v = ((x * 7 + y * 13) ^ (x * y)) as u8;
            image::Rgb([v, v.wrapping_mul(3), v.wrapping_add(90)])
        });
        let band = JpegQuality::default();
        let (bytes, quality) = encode_in_band(&img, band).expect("encodes");
        assert!(quality >= band.min);
        if quality > band.min {
            assert!(bytes.len() <= band.max_bytes);
            if quality < band.max {
                let next = encode(&img, quality + 1).expect("encodes");
                assert!(
                    next.len() > band.max_bytes,
                    "q{} would also fit",
                    quality + 1
                );
            }
        }
    }
}
