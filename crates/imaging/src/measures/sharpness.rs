//! Focus on the face: variance of the Laplacian over the aligned face. Measuring in the
//! canonical frame (64 px between the eyes) normalises for face size; dividing by the face's
//! own luma variance normalises for contrast, so a dim but sharp face is not called blurred.

use super::canonical_rect;
use crate::face::FaceFeatures;
use crate::report::Collector;
use crate::thresholds::Thresholds;

const FACE_U: f64 = 0.7;
const FACE_V: (f64, f64) = (-0.3, 1.3);

pub fn measure(f: &FaceFeatures, t: &Thresholds, c: &mut Collector) {
    let value = sharpness(f);
    c.judge("sharpness", value, &t.sharpness);
}

fn sharpness(f: &FaceFeatures) -> f64 {
    let p = &f.canonical.plane;
    let (x0, x1, y0, y1) = canonical_rect(p, (-FACE_U, FACE_U), FACE_V);
    let (mut ls, mut ls2, mut is, mut is2, mut n) = (0.0f64, 0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let v = f64::from(p.at(x, y));
            let lap = f64::from(p.at(x - 1, y) + p.at(x + 1, y) + p.at(x, y - 1) + p.at(x, y + 1))
                - 4.0 * v;
            ls += lap;
            ls2 += lap * lap;
            is += v;
            is2 += v * v;
            n += 1.0;
        }
    }
    if n < 2.0 {
        return 0.0;
    }
    let lap_var = ls2 / n - (ls / n).powi(2);
    let luma_var = (is2 / n - (is / n).powi(2)).max(1.0);
    lap_var / luma_var
}
