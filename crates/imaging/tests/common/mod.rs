//! Shared helpers for the integration tests: fixture loading and photo transformations.
#![allow(dead_code)]

use std::path::PathBuf;

use campus_photo_imaging::{DecodeLimits, decode_upload};
use image::{Rgb, RgbImage};

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/photos")
}

pub fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

pub fn fixture(name: &str) -> RgbImage {
    match decode_upload(&fixture_bytes(name), &DecodeLimits::default()) {
        Ok(p) => p.image,
        Err(e) => panic!("fixture {name} does not decode: {e}"),
    }
}

fn bilinear(img: &RgbImage, x: f64, y: f64, fill: [u8; 3]) -> [u8; 3] {
    let (w, h) = (img.width() as f64, img.height() as f64);
    if x < 0.0 || y < 0.0 || x > w - 1.0 || y > h - 1.0 {
        return fill;
    }
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = (
        (x0 + 1).min(img.width() - 1),
        (y0 + 1).min(img.height() - 1),
    );
    let (fx, fy) = (x - x0 as f64, y - y0 as f64);
    let p = |a: u32, b: u32| img.get_pixel(a, b).0.map(f64::from);
    let (a, b, c, d) = (p(x0, y0), p(x1, y0), p(x0, y1), p(x1, y1));
    let mut out = [0u8; 3];
    for i in 0..3 {
        let v = (a[i] * (1.0 - fx) + b[i] * fx) * (1.0 - fy) + (c[i] * (1.0 - fx) + d[i] * fx) * fy;
        out[i] = v.round().clamp(0.0, 255.0) as u8;
    }
    out
}

/// Rotates about the centre by `degrees` (clockwise on screen for positive values), filling
/// the corners with `fill`.
pub fn rotate(img: &RgbImage, degrees: f64, fill: [u8; 3]) -> RgbImage {
    let (s, c) = degrees.to_radians().sin_cos();
    let (cx, cy) = (img.width() as f64 / 2.0, img.height() as f64 / 2.0);
    RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let (dx, dy) = (x as f64 - cx, y as f64 - cy);
        // Inverse rotation.
        let (sx, sy) = (cx + dx * c + dy * s, cy - dx * s + dy * c);
        Rgb(bilinear(img, sx, sy, fill))
    })
}

/// Keystone of a camera below (k < 0: the bottom grows) or above (k > 0: the top grows),
/// the projective map of a plane tilted about the horizontal axis through the centre.
pub fn keystone(img: &RgbImage, k: f64, fill: [u8; 3]) -> RgbImage {
    let (cx, cy) = (img.width() as f64 / 2.0, img.height() as f64 / 2.0);
    RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let (dx, dy) = (x as f64 - cx, y as f64 - cy);
        let d = 1.0 - k * dy;
        Rgb(bilinear(img, cx + dx / d, cy + dy / d, fill))
    })
}

/// Multiplies every channel by `factor`.
pub fn scale_brightness(img: &RgbImage, factor: f64) -> RgbImage {
    let mut out = img.clone();
    for p in out.pixels_mut() {
        p.0 =
            p.0.map(|v| (f64::from(v) * factor).round().clamp(0.0, 255.0) as u8);
    }
    out
}

/// Draws text-like strokes (rows of glyph-sized bars in black with a white core, as a
/// watermark or caption would look) across the region `y0..y0 + height`.
pub fn draw_caption(img: &mut RgbImage, y0: u32, height: u32) {
    let glyph = height * 2 / 3;
    let stroke = (height / 8).max(2);
    let mut x = img.width() / 12;
    let mut seed = 7u32;
    while x + glyph < img.width() * 11 / 12 {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let shape = (seed >> 16) % 4;
        let mut bar = |bx: u32, by: u32, bw: u32, bh: u32| {
            for yy in by..(by + bh).min(img.height()) {
                for xx in bx..(bx + bw).min(img.width()) {
                    let edge = yy == by || xx == bx || yy + 1 == by + bh || xx + 1 == bx + bw;
                    img.put_pixel(
                        xx,
                        yy,
                        if edge {
                            Rgb([20, 20, 20])
                        } else {
                            Rgb([250, 250, 250])
                        },
                    );
                }
            }
        };
        bar(x, y0, stroke, height);
        match shape {
            0 => bar(x, y0, glyph, stroke),
            1 => bar(x, y0 + height / 2, glyph, stroke),
            2 => bar(x + glyph - stroke, y0, stroke, height),
            _ => bar(x, y0 + height - stroke, glyph, stroke),
        }
        x += glyph + height / 3;
    }
}
