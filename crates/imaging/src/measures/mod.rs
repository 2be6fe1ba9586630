//! The measures of the preliminary check, one concern per module. Each takes what was found
//! about the face, records its measures with their thresholds and raises issues.

pub mod framing;
pub mod light;
pub mod pose;
pub mod sharpness;

use crate::face::canonical::Canonical;
use crate::face::sample::Plane;

/// Pixel rectangle of the canonical plane spanning u0..u1, v0..v1 (IPD units), clamped.
pub(crate) fn canonical_rect(
    plane: &Plane,
    (u0, u1): (f64, f64),
    (v0, v1): (f64, f64),
) -> (usize, usize, usize, usize) {
    let (x0, y0) = Canonical::px(u0, v0);
    let (x1, y1) = Canonical::px(u1, v1);
    let cx = |x: f64| (x.round().max(1.0) as usize).min(plane.width - 2);
    let cy = |y: f64| (y.round().max(1.0) as usize).min(plane.height - 2);
    (cx(x0), cx(x1), cy(y0), cy(y1))
}
