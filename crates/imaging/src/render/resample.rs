//! Sampling the output frame from the source with a proper low-pass: an integer box
//! prefilter brings the scale into (½, 1], then 2×2-supersampled bilinear sampling.

use image::RgbImage;

use crate::placement::Placement;
use crate::working::box_downscale;

pub struct Sampled {
    pub image: RgbImage,
    /// Output pixels whose source point lies outside the photo (padded by edge extension).
    pub outside: Vec<bool>,
}

pub fn sample(image: &RgbImage, p: &Placement, width: u32, height: u32) -> Sampled {
    // Bounding box of the frame on the source, with a margin for the filter.
    let corners = [
        (0.0, 0.0),
        (f64::from(width), 0.0),
        (0.0, f64::from(height)),
        (f64::from(width), f64::from(height)),
    ]
    .map(|(x, y)| p.to_source(x, y));
    let (iw, ih) = (f64::from(image.width()), f64::from(image.height()));
    let x0 = (corners.iter().map(|c| c.x).fold(f64::MAX, f64::min) - 4.0)
        .clamp(0.0, iw - 1.0)
        .floor() as u32;
    let y0 = (corners.iter().map(|c| c.y).fold(f64::MAX, f64::min) - 4.0)
        .clamp(0.0, ih - 1.0)
        .floor() as u32;
    let x1 = (corners.iter().map(|c| c.x).fold(f64::MIN, f64::max) + 4.0)
        .clamp(1.0, iw)
        .ceil() as u32;
    let y1 = (corners.iter().map(|c| c.y).fold(f64::MIN, f64::max) + 4.0)
        .clamp(1.0, ih)
        .ceil() as u32;
    let crop =
        image::imageops::crop_imm(image, x0, y0, (x1 - x0).max(1), (y1 - y0).max(1)).to_image();
    let k = if p.scale < 0.5 {
        (0.5 / p.scale).floor().max(1.0) as u32
    } else {
        1
    };
    let src = if k > 1 { box_downscale(&crop, k) } else { crop };
    let kf = f64::from(k);
    let (sw, sh) = (src.width() as f64, src.height() as f64);
    let mut out = RgbImage::new(width, height);
    let mut outside = vec![false; (width * height) as usize];
    const TAPS: [f64; 2] = [0.25, 0.75];
    let (origin, ex, ey) = p.affine();
    // Output point (ox, oy) → source point, and → the prefiltered crop's pixel grid; both
    // affine, so each is three numbers per axis.
    let (sx0, sy0) = (origin.x, origin.y);
    let (cx0, cy0) = (
        (origin.x - f64::from(x0) + 0.5) / kf - 0.5,
        (origin.y - f64::from(y0) + 0.5) / kf - 0.5,
    );
    let (cex, cey) = ((ex.0 / kf, ex.1 / kf), (ey.0 / kf, ey.1 / kf));
    let raw = src.as_raw();
    let sw_px = src.width() as usize;
    let (max_x, max_y) = (sw - 1.0, sh - 1.0);
    for (y, row) in out
        .as_mut()
        .chunks_exact_mut(width as usize * 3)
        .enumerate()
    {
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            let mut acc = [0.0f32; 3];
            let mut out_of_photo = false;
            for ty in TAPS {
                let oy = y as f64 + ty;
                for tx in TAPS {
                    let ox = x as f64 + tx;
                    let (sx, sy) = (sx0 + ox * ex.0 + oy * ey.0, sy0 + ox * ex.1 + oy * ey.1);
                    if sx < 0.0 || sy < 0.0 || sx > iw - 1.0 || sy > ih - 1.0 {
                        out_of_photo = true;
                    }
                    let cx = (cx0 + ox * cex.0 + oy * cey.0).clamp(0.0, max_x);
                    let cy = (cy0 + ox * cex.1 + oy * cey.1).clamp(0.0, max_y);
                    bilinear_add(raw, sw_px, src.height() as usize, cx, cy, &mut acc);
                }
            }
            for (o, v) in px.iter_mut().zip(acc) {
                // Non-negative: adding ½ and truncating rounds to nearest.
                *o = (v * 0.25 + 0.5).min(255.0) as u8;
            }
            outside[y * width as usize + x] = out_of_photo;
        }
    }
    Sampled {
        image: out,
        outside,
    }
}

/// Adds the bilinear sample at (x, y), which the caller has clamped into the image, to `acc`.
#[inline]
fn bilinear_add(raw: &[u8], w: usize, h: usize, x: f64, y: f64, acc: &mut [f32; 3]) {
    let (x0, y0) = (x as usize, y as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = ((x - x0 as f64) as f32, (y - y0 as f64) as f32);
    let (r0, r1) = (y0 * w * 3, y1 * w * 3);
    let (c0, c1) = (x0 * 3, x1 * 3);
    let (a, b) = (&raw[r0 + c0..r0 + c0 + 3], &raw[r0 + c1..r0 + c1 + 3]);
    let (c, d) = (&raw[r1 + c0..r1 + c0 + 3], &raw[r1 + c1..r1 + c1 + 3]);
    for i in 0..3 {
        let (a, b) = (f32::from(a[i]), f32::from(b[i]));
        let (c, d) = (f32::from(c[i]), f32::from(d[i]));
        let top = a + (b - a) * fx;
        let bottom = c + (d - c) * fx;
        acc[i] += top + (bottom - top) * fy;
    }
}
