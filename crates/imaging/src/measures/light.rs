//! Exposure and evenness of the light, judged from what does not depend on skin tone.
//!
//! A face's own brightness is mostly the person's skin, so it cannot say whether the photo is
//! exposed right: a correctly exposed dark face and an under-exposed light one read the same.
//! What every correctly exposed ID photo shares is a white point: the eye whites and the light
//! backdrop the rules require. `white_level` is the brighter of the two (the eye whites' upper
//! percentile, the backdrop's median luma): under-exposure dims both whatever the skin. Over-
//! exposure burns detail out: `face_clipped` is the share of the face's pixels at the sensor's
//! ceiling (luma ≥ 250), lost information whatever the skin's tone (a light face correctly
//! exposed stays well under it; the eye whites are excluded from the face region here).
//! Evenness compares the face's two halves (OFIQ illumination uniformity), which a skin tone
//! shifts alike on both sides.

use image::GrayImage;

use super::canonical_rect;
use crate::face::FaceFeatures;
use crate::face::mesh::idx;
use crate::report::Collector;
use crate::thresholds::Thresholds;

/// Face region in IPD units around the eye midpoint: cheeks, nose, mouth and forehead, inside
/// the outline for any normal head.
const FACE_U: f64 = 0.75;
const FACE_V: (f64, f64) = (-0.35, 1.45);
/// Columns either side of the axis left out of the halves (the nose ridge's own shading).
const AXIS_GAP: f64 = 0.05;
const BINS: usize = 32;
/// Rows around the eye line left out of the clipping share (eye whites and catchlights).
const EYE_BAND: (f64, f64) = (-0.2, 0.2);
/// Percentile of the luma inside the eye contours taken as the eye whites: the sclera is the
/// brightest part of the eye apart from a catchlight.
const SCLERA_PERCENTILE: f64 = 0.9;

pub fn measure(luma: &GrayImage, f: &FaceFeatures, t: &Thresholds, c: &mut Collector) {
    let plane = &f.canonical.plane;
    let (x0, x1, y0, y1) = canonical_rect(plane, (-FACE_U, FACE_U), FACE_V);
    let (_, ey0, _, ey1) = canonical_rect(plane, (0.0, 0.0), EYE_BAND);
    let mid = crate::face::canonical::MID_X;
    let gap = AXIS_GAP * crate::face::canonical::IPD;
    let (mut sum, mut n, mut clipped, mut counted) = (0.0f64, 0usize, 0usize, 0usize);
    let mut left = [0f64; BINS];
    let mut right = [0f64; BINS];
    for y in y0..=y1 {
        for x in x0..=x1 {
            let v = plane.at(x, y);
            sum += f64::from(v);
            n += 1;
            if !(ey0..=ey1).contains(&y) {
                counted += 1;
                if v >= 249.5 {
                    clipped += 1;
                }
            }
            let bin = ((v.clamp(0.0, 255.0) as usize) * BINS / 256).min(BINS - 1);
            let dx = x as f64 - mid;
            if dx < -gap {
                left[bin] += 1.0;
            } else if dx > gap {
                right[bin] += 1.0;
            }
        }
    }
    if n == 0 {
        return;
    }
    // The face's own mean, for reviewers only: it is mostly skin tone, so it decides nothing.
    c.note("face_luminance", sum / n as f64);
    let sclera = eye_whites(luma, f);
    let [r, g, b] = f.backdrop.colour;
    let backdrop = f64::from(0.299 * r + 0.587 * g + 0.114 * b);
    if let Some(s) = sclera {
        c.note("eye_white_luma", s);
    }
    c.note("backdrop_luma", backdrop);
    let white = sclera.map_or(backdrop, |s| s.max(backdrop));
    c.judge("white_level", white, &t.white_level);
    c.judge(
        "face_clipped",
        clipped as f64 / counted.max(1) as f64,
        &t.face_clipped,
    );
    c.judge(
        "illumination_balance",
        intersection(&left, &right),
        &t.illumination_balance,
    );
}

/// The eye whites' luma: an upper percentile of the pixels inside both eyes' contours.
fn eye_whites(luma: &GrayImage, f: &FaceFeatures) -> Option<f64> {
    let mut values: Vec<u8> = Vec::new();
    for contour in [&idx::RIGHT_EYE[..], &idx::LEFT_EYE[..]] {
        let poly: Vec<(f64, f64)> = contour.iter().map(|&i| f.mesh.xy(i)).collect();
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for p in &poly {
            x0 = x0.min(p.0);
            x1 = x1.max(p.0);
            y0 = y0.min(p.1);
            y1 = y1.max(p.1);
        }
        let (w, h) = (f64::from(luma.width()), f64::from(luma.height()));
        if x0 < 0.0 || y0 < 0.0 || x1 >= w || y1 >= h {
            continue;
        }
        for y in y0.ceil() as u32..=y1.floor() as u32 {
            for x in x0.ceil() as u32..=x1.floor() as u32 {
                if inside(&poly, (f64::from(x), f64::from(y))) {
                    values.push(luma.get_pixel(x, y).0[0]);
                }
            }
        }
    }
    // Fewer than a few dozen pixels (a tiny or closed eye) is no measure.
    if values.len() < 24 {
        return None;
    }
    values.sort_unstable();
    let k = ((values.len() - 1) as f64 * SCLERA_PERCENTILE).round() as usize;
    Some(f64::from(values[k]))
}

/// Even–odd point-in-polygon test.
fn inside(poly: &[(f64, f64)], p: (f64, f64)) -> bool {
    let mut result = false;
    let mut j = poly.len() - 1;
    for i in 0..poly.len() {
        let (a, b) = (poly[i], poly[j]);
        if (a.1 > p.1) != (b.1 > p.1) && p.0 < (b.0 - a.0) * (p.1 - a.1) / (b.1 - a.1) + a.0 {
            result = !result;
        }
        j = i;
    }
    result
}

/// Histogram intersection of two histograms after normalising each to sum 1.
pub fn intersection(a: &[f64], b: &[f64]) -> f64 {
    let (sa, sb): (f64, f64) = (a.iter().sum(), b.iter().sum());
    if sa <= 0.0 || sb <= 0.0 {
        return 0.0;
    }
    a.iter().zip(b).map(|(x, y)| (x / sa).min(y / sb)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intersection_is_one_for_equal_and_zero_for_disjoint() {
        assert!((intersection(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]) - 1.0).abs() < 1e-12);
        assert_eq!(intersection(&[1.0, 0.0], &[0.0, 1.0]), 0.0);
    }

    #[test]
    fn point_in_polygon() {
        let square = [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0)];
        assert!(inside(&square, (1.0, 1.0)));
        assert!(!inside(&square, (3.0, 1.0)));
    }
}
