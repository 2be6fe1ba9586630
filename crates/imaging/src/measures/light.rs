//! Exposure and evenness of the light on the face (OFIQ: luminance mean; illumination
//! uniformity as the intersection of the two face halves' luma histograms).

use super::canonical_rect;
use crate::face::FaceFeatures;
use crate::report::Collector;
use crate::thresholds::Thresholds;

/// Face region in IPD units around the eye midpoint: cheeks, nose, mouth and forehead, inside
/// the outline for any normal head.
const FACE_U: f64 = 0.75;
const FACE_V: (f64, f64) = (-0.35, 1.45);
/// Columns either side of the axis left out of the halves (the nose ridge's own shading).
const AXIS_GAP: f64 = 0.05;
const BINS: usize = 32;

pub fn measure(f: &FaceFeatures, t: &Thresholds, c: &mut Collector) {
    let plane = &f.canonical.plane;
    let (x0, x1, y0, y1) = canonical_rect(plane, (-FACE_U, FACE_U), FACE_V);
    let mid = crate::face::canonical::MID_X;
    let gap = AXIS_GAP * crate::face::canonical::IPD;
    let (mut sum, mut n, mut clipped) = (0.0f64, 0usize, 0usize);
    let mut left = [0f64; BINS];
    let mut right = [0f64; BINS];
    for y in y0..=y1 {
        for x in x0..=x1 {
            let v = plane.at(x, y);
            sum += f64::from(v);
            n += 1;
            if v >= 249.5 {
                clipped += 1;
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
    let mean = sum / n as f64;
    let rule = &t.face_luminance;
    c.judge_two_sided("face_luminance", mean, rule, "LIGHT_UNDER", "LIGHT_OVER");
    c.judge("face_clipped", clipped as f64 / n as f64, &t.face_clipped);
    c.judge(
        "illumination_balance",
        intersection(&left, &right),
        &t.illumination_balance,
    );
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
}
