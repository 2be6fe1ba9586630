//! The bounded working copy every measure runs on.
//!
//! Phone photos are 12 MP; nothing in the check needs more than about 0.8 MP, so the photo is
//! shrunk once, early, by an integer box filter (one pass, exact averaging, no ringing). This
//! keeps the check's cost independent of the upload's size.

use std::borrow::Cow;

use image::{GrayImage, Rgb, RgbImage};

/// Largest working image, in pixels.
pub const WORKING_MAX_PIXELS: u64 = 800_000;

/// A downscaled copy of the photo with its luma plane. A photo already within the budget is
/// borrowed, not copied.
pub struct Working<'a> {
    pub rgb: Cow<'a, RgbImage>,
    pub luma: GrayImage,
    /// Source pixels per working pixel (an integer box factor).
    pub factor: u32,
}

impl<'a> Working<'a> {
    pub fn new(image: &'a RgbImage) -> Working<'a> {
        let pixels = u64::from(image.width()) * u64::from(image.height());
        let factor = box_factor(pixels, WORKING_MAX_PIXELS);
        let rgb = if factor > 1 {
            Cow::Owned(box_downscale(image, factor))
        } else {
            Cow::Borrowed(image)
        };
        let luma = luma_of(&rgb);
        Working { rgb, luma, factor }
    }

    /// Working coordinates to source coordinates (pixel centres map to pixel centres).
    pub fn to_source(&self, v: f64) -> f64 {
        let k = f64::from(self.factor);
        (v + 0.5) * k - 0.5
    }
}

/// Smallest integer factor that brings `pixels` under `budget`.
pub fn box_factor(pixels: u64, budget: u64) -> u32 {
    let mut k: u32 = 1;
    while pixels > budget.saturating_mul(u64::from(k) * u64::from(k)) {
        k += 1;
    }
    k
}

/// Averages k×k blocks; a partial block at the right or bottom edge is dropped.
pub fn box_downscale(image: &RgbImage, k: u32) -> RgbImage {
    if image.width() >= k && image.height() >= k {
        match k {
            2 => return box_downscale_k::<2>(image),
            3 => return box_downscale_k::<3>(image),
            4 => return box_downscale_k::<4>(image),
            5 => return box_downscale_k::<5>(image),
            6 => return box_downscale_k::<6>(image),
            _ => {}
        }
    }
    box_downscale_any(image, k)
}

/// `box_downscale` for a fixed factor that fits the image at least once each way: the same
/// sums and rounding, in a form the compiler vectorises (the K rows are first added
/// element-wise, then each output pixel adds K neighbours of that sum row).
fn box_downscale_k<const K: usize>(image: &RgbImage) -> RgbImage {
    let (w, h) = (image.width() as usize / K, image.height() as usize / K);
    let src = image.as_raw();
    let stride = image.width() as usize * 3;
    let area = (K * K) as u32;
    let mut out = vec![0u8; w * h * 3];
    // At most 6·255 per element.
    let mut rows = vec![0u16; w * K * 3];
    for (oy, out_row) in out.chunks_exact_mut(w * 3).enumerate() {
        for dy in 0..K {
            let start = (oy * K + dy) * stride;
            let Some(row) = src.get(start..start + w * K * 3) else {
                continue;
            };
            if dy == 0 {
                for (s, &p) in rows.iter_mut().zip(row) {
                    *s = u16::from(p);
                }
            } else {
                for (s, &p) in rows.iter_mut().zip(row) {
                    *s += u16::from(p);
                }
            }
        }
        for (o, block) in out_row.chunks_exact_mut(3).zip(rows.chunks_exact(K * 3)) {
            let (mut r, mut g, mut b) = (0u32, 0u32, 0u32);
            for px in block.chunks_exact(3) {
                r += u32::from(px[0]);
                g += u32::from(px[1]);
                b += u32::from(px[2]);
            }
            o[0] = ((r + area / 2) / area) as u8;
            o[1] = ((g + area / 2) / area) as u8;
            o[2] = ((b + area / 2) / area) as u8;
        }
    }
    RgbImage::from_raw(w as u32, h as u32, out)
        .unwrap_or_else(|| box_downscale_any(image, K as u32))
}

fn box_downscale_any(image: &RgbImage, k: u32) -> RgbImage {
    let (w, h) = (image.width() / k, image.height() / k);
    let (w, h) = (w.max(1), h.max(1));
    let src = image.as_raw();
    let stride = image.width() as usize * 3;
    let mut out = RgbImage::new(w, h);
    let area = k * k;
    let mut sums = vec![0u32; w as usize * 3];
    for oy in 0..h {
        sums.iter_mut().for_each(|s| *s = 0);
        for dy in 0..k {
            let y = (oy * k + dy).min(image.height() - 1) as usize;
            let row = &src[y * stride..(y + 1) * stride];
            for ox in 0..w as usize {
                let start = ox * k as usize * 3;
                let end = (start + k as usize * 3).min(row.len());
                let (mut r, mut g, mut b) = (0u32, 0u32, 0u32);
                for px in row[start..end].chunks_exact(3) {
                    r += u32::from(px[0]);
                    g += u32::from(px[1]);
                    b += u32::from(px[2]);
                }
                sums[ox * 3] += r;
                sums[ox * 3 + 1] += g;
                sums[ox * 3 + 2] += b;
            }
        }
        for ox in 0..w {
            let i = ox as usize * 3;
            let avg = |s: u32| ((s + area / 2) / area) as u8;
            out.put_pixel(
                ox,
                oy,
                Rgb([avg(sums[i]), avg(sums[i + 1]), avg(sums[i + 2])]),
            );
        }
    }
    out
}

/// BT.601 luma, the weighting the face detector was trained with.
pub fn luma_of(image: &RgbImage) -> GrayImage {
    let mut luma = vec![0u8; image.width() as usize * image.height() as usize];
    // 16 pixels at a time in 16-bit lanes (the weighted sum is at most 65 408), which the
    // compiler vectorises; the tail one by one, the same arithmetic.
    const LANES: usize = 16;
    let raw = image.as_raw();
    let mut out = luma.chunks_exact_mut(LANES);
    let mut src = raw.chunks_exact(LANES * 3);
    for (o, p) in (&mut out).zip(&mut src) {
        let mut r = [0u16; LANES];
        let mut g = [0u16; LANES];
        let mut b = [0u16; LANES];
        for i in 0..LANES {
            r[i] = u16::from(p[3 * i]);
            g[i] = u16::from(p[3 * i + 1]);
            b[i] = u16::from(p[3 * i + 2]);
        }
        for i in 0..LANES {
            o[i] = ((77 * r[i] + 150 * g[i] + 29 * b[i] + 128) >> 8) as u8;
        }
    }
    for (o, p) in out
        .into_remainder()
        .iter_mut()
        .zip(src.remainder().chunks_exact(3))
    {
        *o = luma_px(p[0], p[1], p[2]);
    }
    GrayImage::from_raw(image.width(), image.height(), luma)
        .unwrap_or_else(|| GrayImage::new(image.width(), image.height()))
}

#[inline]
fn luma_px(r: u8, g: u8, b: u8) -> u8 {
    let (r, g, b) = (u32::from(r), u32::from(g), u32::from(b));
    ((77 * r + 150 * g + 29 * b + 128) >> 8) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factor_bounds_the_working_size() {
        assert_eq!(box_factor(720 * 960, WORKING_MAX_PIXELS), 1);
        assert_eq!(box_factor(3000 * 4000, WORKING_MAX_PIXELS), 4);
        assert_eq!(box_factor(1500 * 2000, WORKING_MAX_PIXELS), 2);
        for (w, h) in [(3000u64, 4000u64), (4032, 3024), (8000, 5000), (1000, 1000)] {
            let k = u64::from(box_factor(w * h, WORKING_MAX_PIXELS));
            assert!((w / k) * (h / k) <= WORKING_MAX_PIXELS);
        }
    }

    #[test]
    fn fixed_factors_match_the_general_path() {
        let img = RgbImage::from_fn(37, 29, |x, y| {
            Rgb([(x * 7 + y) as u8, (x * y) as u8, (255 - x * 3) as u8])
        });
        for k in 2..=6 {
            assert_eq!(box_downscale(&img, k), box_downscale_any(&img, k), "k={k}");
        }
    }

    #[test]
    fn luma_in_lanes_matches_the_per_pixel_formula() {
        let img = RgbImage::from_fn(37, 29, |x, y| {
            Rgb([
                (x * 7 + y) as u8,
                (x * y * 13) as u8,
                (255 - x * 3 + y) as u8,
            ])
        });
        let luma = luma_of(&img);
        for (l, p) in luma.pixels().zip(img.pixels()) {
            assert_eq!(l.0[0], luma_px(p.0[0], p.0[1], p.0[2]));
        }
        let white = luma_of(&RgbImage::from_pixel(17, 1, Rgb([255, 255, 255])));
        assert!(white.pixels().all(|p| p.0[0] == 255));
    }

    #[test]
    fn box_downscale_averages() {
        let img = RgbImage::from_fn(4, 2, |x, _| {
            if x % 2 == 0 {
                Rgb([0, 0, 0])
            } else {
                Rgb([200, 100, 50])
            }
        });
        let small = box_downscale(&img, 2);
        assert_eq!(small.dimensions(), (2, 1));
        assert_eq!(small.get_pixel(0, 0).0, [100, 50, 25]);
    }
}
