//! Sampling the output frame from the source with a proper low-pass: an integer box
//! prefilter brings the scale into (½, 1], then 2×2-supersampled bilinear sampling.

use image::{Rgb, RgbImage};

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
    for y in 0..height {
        for x in 0..width {
            let mut acc = [0.0f64; 3];
            let mut out_of_photo = false;
            for ty in TAPS {
                for tx in TAPS {
                    let (ox, oy) = (f64::from(x) + tx, f64::from(y) + ty);
                    let s = crate::face::geometry::Point {
                        x: origin.x + ox * ex.0 + oy * ey.0,
                        y: origin.y + ox * ex.1 + oy * ey.1,
                    };
                    if s.x < 0.0 || s.y < 0.0 || s.x > iw - 1.0 || s.y > ih - 1.0 {
                        out_of_photo = true;
                    }
                    // Into the prefiltered crop's pixel grid.
                    let cx = (s.x - f64::from(x0) + 0.5) / kf - 0.5;
                    let cy = (s.y - f64::from(y0) + 0.5) / kf - 0.5;
                    let px = bilinear_rgb(&src, cx.clamp(0.0, sw - 1.0), cy.clamp(0.0, sh - 1.0));
                    for c in 0..3 {
                        acc[c] += px[c];
                    }
                }
            }
            out.put_pixel(
                x,
                y,
                Rgb(acc.map(|v| (v / 4.0).round().clamp(0.0, 255.0) as u8)),
            );
            outside[(y * width + x) as usize] = out_of_photo;
        }
    }
    Sampled {
        image: out,
        outside,
    }
}

/// Bilinear sample at (x, y), which the caller has clamped into the image.
#[inline]
fn bilinear_rgb(img: &RgbImage, x: f64, y: f64) -> [f64; 3] {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (x0, y0) = (x as usize, y as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f64, y - y0 as f64);
    let raw = img.as_raw();
    let (r0, r1) = (y0 * w * 3, y1 * w * 3);
    let (c0, c1) = (x0 * 3, x1 * 3);
    let mut out = [0.0; 3];
    for (i, o) in out.iter_mut().enumerate() {
        let a = f64::from(raw[r0 + c0 + i]);
        let b = f64::from(raw[r0 + c1 + i]);
        let c = f64::from(raw[r1 + c0 + i]);
        let d = f64::from(raw[r1 + c1 + i]);
        let top = a + (b - a) * fx;
        let bottom = c + (d - c) * fx;
        *o = top + (bottom - top) * fy;
    }
    out
}
