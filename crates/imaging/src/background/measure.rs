//! Background measures over the region beside and above the head, down to the mouth line:
//! how much of it is the backdrop colour, how much structure (gradient) it holds, and whether
//! that structure sits in a few places on an otherwise plain backdrop (an overlay: text, a
//! watermark, a hand) rather than everywhere (a room behind the subject); and whether the
//! backdrop's own paint is lit evenly left and right, which shows a side light that also
//! falls unevenly on the face.

use image::RgbImage;

use crate::face::FaceFeatures;
use crate::face::canonical::{EYE_Y, IPD, MID_X};
use crate::report::Collector;
use crate::thresholds::Thresholds;

/// Gap left around the head outline (IPD units): loose hair and the outline's blur.
const HEAD_MARGIN: f64 = 0.3;
/// Side of the blocks used to find localised structure, IPD units.
const BLOCK: f64 = 0.25;
/// Mean gradient (levels per canonical pixel) above which a block holds structure.
const BLOCK_STRUCTURE: f64 = 6.0;
/// Chromaticity distance under which a pixel has the backdrop's hue (same paint, any light).
const SAME_HUE: f64 = 0.04;
/// Grid of the region's samples, per inter-eye distance.
const SAMPLES_PER_IPD: f64 = 20.0;
/// Fewest region samples for the measures to mean anything.
const MIN_SAMPLES: usize = 400;

/// What the background measures found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackgroundStats {
    pub backdrop_share: f64,
    pub gradient: f64,
    pub overlay_share: f64,
    /// Darker over brighter mean luma of the backdrop-hued pixels left and right of the head.
    pub light_balance: Option<f64>,
}

impl BackgroundStats {
    /// Whether the backdrop is plain enough for the render to recolour it.
    pub fn plain(&self, t: &Thresholds) -> bool {
        t.backdrop_share.judge(self.backdrop_share) != Some(crate::Severity::Error)
            && t.background_gradient.judge(self.gradient) != Some(crate::Severity::Error)
    }
}

pub fn measure(
    rgb: &RgbImage,
    luma: &image::GrayImage,
    f: &FaceFeatures,
    t: &Thresholds,
    c: &mut Collector,
) -> Option<BackgroundStats> {
    let stats = stats(rgb, luma, f)?;
    c.judge("backdrop_share", stats.backdrop_share, &t.backdrop_share);
    c.judge(
        "background_gradient",
        stats.gradient,
        &t.background_gradient,
    );
    if let Some(balance) = stats.light_balance {
        c.judge("backdrop_light_balance", balance, &t.backdrop_light_balance);
    }
    // An overlay only means something on a plain backdrop; a busy room is reported above.
    if stats.plain(t) {
        c.judge("overlay_share", stats.overlay_share, &t.overlay_share);
    } else {
        c.note("overlay_share", stats.overlay_share);
    }
    Some(stats)
}

pub fn stats(rgb: &RgbImage, luma: &image::GrayImage, f: &FaceFeatures) -> Option<BackgroundStats> {
    let frame = f.canonical.frame;
    let ipd_px = f.ipd().max(1.0);
    let chin = f.chin();
    // The region stops at the mouth line: lower down, collars, hoods and big coats reach up
    // beside the chin, and their edges are clothing, not something over the backdrop.
    let lowest = f.mouth();
    let crown = if f.crown.hit_edge {
        f.crown.length
    } else {
        f.crown.length.min(2.0)
    };
    let (left, right) = crate::face::outline::half_widths(rgb, &f.backdrop, &f.canonical, 0.0);
    let half = |w: crate::face::outline::Walk| {
        if w.hit_edge || w.length > 1.8 {
            1.8
        } else {
            w.length.max(1.0)
        }
    };
    let a = half(left).max(half(right)) + HEAD_MARGIN;
    let b = (crown + chin) / 2.0 + HEAD_MARGIN;
    let vc = (chin - crown) / 2.0;
    let (sin, cos) = frame.angle.sin_cos();
    let to_canonical = |x: f64, y: f64| {
        let (dx, dy) = (x - frame.origin.0, y - frame.origin.1);
        let u = (dx * cos + dy * sin) / frame.step;
        let v = (-dx * sin + dy * cos) / frame.step;
        ((u - MID_X) / IPD, (v - EYE_Y) / IPD)
    };
    // One sample every 1/20 of the inter-eye distance (5 px on a 720×960 photo): these are means
    // over tens of thousands of pixels, and each 0.25-IPD block still holds about 25 samples.
    // Every second pixel (1/40) gave the same verdicts on every fixture at six times the cost
    // (measures moved by at most a few per cent; README, Performance).
    let step = ((ipd_px / SAMPLES_PER_IPD).floor() as u32).max(1);
    let block_px = (BLOCK * ipd_px).max(2.0);
    let (w, h) = luma.dimensions();
    let bw = (f64::from(w) / block_px).ceil() as usize + 1;
    let bh = (f64::from(h) / block_px).ceil() as usize + 1;
    let mut blocks = vec![(0usize, 0.0f64); bw * bh];
    let (mut n, mut near, mut grad_sum) = (0usize, 0usize, 0.0f64);
    // Per side: (count, luma sum) of pixels with the backdrop's hue, beside the head.
    let mut sides = [(0usize, 0.0f64); 2];
    let backdrop_chroma = chroma(&f.backdrop.colour.map(|v| v.round().clamp(0.0, 255.0) as u8));
    // Gradients in levels per canonical pixel, whatever the photo's resolution.
    let grad_scale = ipd_px / IPD;
    let raw = luma.as_raw();
    let at = |x: u32, y: u32| f64::from(raw[(y * w + x) as usize]);
    let rgb_raw = rgb.as_raw();
    let px_at = |x: u32, y: u32| {
        let i = (y * w + x) as usize * 3;
        rgb_raw
            .get(i..i + 3)
            .map_or([0u8; 3], |p| [p[0], p[1], p[2]])
    };
    for y in (1..h.saturating_sub(1)).step_by(step as usize) {
        let block_row = (f64::from(y) / block_px) as usize * bw;
        for x in (1..w.saturating_sub(1)).step_by(step as usize) {
            let (u, v) = to_canonical(f64::from(x), f64::from(y));
            if v > lowest || (u / a).powi(2) + ((v - vc) / b).powi(2) <= 1.0 {
                continue;
            }
            n += 1;
            let px = px_at(x, y);
            if f.backdrop.is_backdrop(&px) {
                near += 1;
            }
            let gx = at(x + 1, y - 1) + 2.0 * at(x + 1, y) + at(x + 1, y + 1)
                - at(x - 1, y - 1)
                - 2.0 * at(x - 1, y)
                - at(x - 1, y + 1);
            let gy = at(x - 1, y + 1) + 2.0 * at(x, y + 1) + at(x + 1, y + 1)
                - at(x - 1, y - 1)
                - 2.0 * at(x, y - 1)
                - at(x + 1, y - 1);
            let g = (gx * gx + gy * gy).sqrt() / 8.0 * grad_scale;
            if v > -1.0 {
                let (cr, cg) = chroma(&px);
                let (dr, dg) = (cr - backdrop_chroma.0, cg - backdrop_chroma.1);
                if dr * dr + dg * dg < SAME_HUE * SAME_HUE {
                    let side = &mut sides[usize::from(u > 0.0)];
                    side.0 += 1;
                    side.1 += at(x, y);
                }
            }
            grad_sum += g;
            let bi = block_row + (f64::from(x) / block_px) as usize;
            if let Some(block) = blocks.get_mut(bi) {
                block.0 += 1;
                block.1 += g;
            }
        }
    }
    if n < MIN_SAMPLES {
        return None;
    }
    let per_block = (block_px / f64::from(step)).powi(2);
    let full: Vec<&(usize, f64)> = blocks
        .iter()
        .filter(|b| b.0 as f64 >= 0.5 * per_block)
        .collect();
    let structured = full
        .iter()
        .filter(|b| b.1 / b.0 as f64 > BLOCK_STRUCTURE)
        .count();
    let light_balance = (sides.iter().all(|s| s.0 >= MIN_SAMPLES / 4)).then(|| {
        let (l, r) = (
            sides[0].1 / sides[0].0 as f64,
            sides[1].1 / sides[1].0 as f64,
        );
        l.min(r) / l.max(r).max(1.0)
    });
    Some(BackgroundStats {
        light_balance,
        backdrop_share: near as f64 / n as f64,
        gradient: grad_sum / n as f64,
        overlay_share: if full.is_empty() {
            0.0
        } else {
            structured as f64 / full.len() as f64
        },
    })
}

/// Normalised chromaticity (r, g) = (R, G) / (R + G + B): independent of the light's strength.
fn chroma(px: &[u8; 3]) -> (f64, f64) {
    let sum = (f64::from(px[0]) + f64::from(px[1]) + f64::from(px[2])).max(1.0);
    (f64::from(px[0]) / sum, f64::from(px[1]) / sum)
}
