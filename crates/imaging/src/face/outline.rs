//! The head's outline against the backdrop: crown height and widths at given levels, found by
//! walking from inside the face outwards along the face's own axes until the backdrop starts.
//! Walking outwards (not inwards from the photo's edge) means clutter elsewhere in the photo
//! cannot be mistaken for the head.

use image::RgbImage;

use super::canonical::{Canonical, IPD};
use crate::background::model::BackdropModel;

/// How a walk ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Walk {
    /// Distance walked, in IPD units, to the start of the backdrop (or to the photo's edge).
    pub length: f64,
    /// The walk left the photo before meeting the backdrop.
    pub hit_edge: bool,
}

/// Consecutive backdrop samples needed to accept the backdrop (0.05 IPD): a single light
/// pixel in the hair is not the end of the head.
const RUN: f64 = 0.05;

/// Walks from canonical point (u, v) in direction (du, dv) (a unit vector in the canonical
/// frame) for at most `max_len` IPD.
pub fn walk(
    rgb: &RgbImage,
    model: &BackdropModel,
    face: &Canonical,
    from: (f64, f64),
    dir: (f64, f64),
    max_len: f64,
) -> Walk {
    // Step one working pixel at a time.
    // One working pixel is 1/step canonical pixels, and a canonical pixel is 1/IPD.
    let step_ipd = (1.0 / (face.frame.step * IPD)).max(1e-4);
    let needed = ((RUN / step_ipd).ceil() as usize).max(2);
    let (w, h) = (f64::from(rgb.width()), f64::from(rgb.height()));
    let mut run = 0usize;
    let mut t = 0.0;
    while t <= max_len {
        let (px, py) = Canonical::px(from.0 + dir.0 * t, from.1 + dir.1 * t);
        let (x, y) = face.to_image(px, py);
        if x < 0.0 || y < 0.0 || x > w - 1.0 || y > h - 1.0 {
            return Walk {
                length: t,
                hit_edge: true,
            };
        }
        let p = rgb.get_pixel(x.round() as u32, y.round() as u32).0;
        if model.is_backdrop(&p) {
            run += 1;
            if run >= needed {
                return Walk {
                    length: t - step_ipd * (run - 1) as f64,
                    hit_edge: false,
                };
            }
        } else {
            run = 0;
        }
        t += step_ipd;
    }
    Walk {
        length: max_len,
        hit_edge: false,
    }
}

/// Crown: the highest point of the head above the eye line, in IPD units, from several
/// upward walks across the top of the head. `hit_edge` when a central walk left the photo.
pub fn crown(rgb: &RgbImage, model: &BackdropModel, face: &Canonical) -> Walk {
    let mut best = Walk {
        length: 0.0,
        hit_edge: false,
    };
    for u in [-0.6, -0.3, 0.0, 0.3, 0.6] {
        let w = walk(rgb, model, face, (u, 0.0), (0.0, -1.0), 4.0);
        if w.length > best.length {
            best.length = w.length;
        }
        if w.hit_edge && u.abs() < 0.5 {
            best.hit_edge = true;
        }
    }
    best
}

/// Half-widths of the head to the left and right of the face's axis at level `v`.
pub fn half_widths(
    rgb: &RgbImage,
    model: &BackdropModel,
    face: &Canonical,
    v: f64,
) -> (Walk, Walk) {
    let left = walk(rgb, model, face, (0.0, v), (-1.0, 0.0), 3.0);
    let right = walk(rgb, model, face, (0.0, v), (1.0, 0.0), 3.0);
    (left, right)
}
