//! The face in a canonical frame: eyes horizontal, a fixed inter-eye distance, the eye
//! midpoint at a fixed place. Every face measure (profiles, sharpness, light) runs here, so it
//! is normalised for face size and roll by construction, as OFIQ does by aligning faces from
//! landmarks before measuring.

use image::GrayImage;

use super::sample::{Frame, Plane};

/// Inter-eye distance in the canonical frame, pixels.
pub const IPD: f64 = 64.0;
/// Canonical plane size and the eye midpoint's position in it.
pub const WIDTH: usize = 256;
pub const HEIGHT: usize = 336;
pub const MID_X: f64 = 128.0;
pub const EYE_Y: f64 = 140.0;
/// The part of the plane the measures read (IPD units from the eye midpoint): the face's
/// middle from just above the eyes down to the plane's bottom (light, sharpness, mouth and
/// chin profiles, each with a few pixels of neighbourhood). Only this part is sampled; the
/// rest of the plane stays 0.
pub const USED_U: f64 = 0.8;
pub const USED_V_TOP: f64 = -0.45;

/// The aligned face plane and the frame that produced it.
pub struct Canonical {
    pub plane: Plane,
    pub frame: Frame,
}

impl Canonical {
    /// Aligns the face so that `left` and `right` eye centres (working pixels) land on
    /// (MID_X ∓ IPD/2, EYE_Y).
    pub fn new(luma: &GrayImage, left: (f64, f64), right: (f64, f64)) -> Canonical {
        let (dx, dy) = (right.0 - left.0, right.1 - left.1);
        let distance = (dx * dx + dy * dy).sqrt().max(1.0);
        let angle = dy.atan2(dx);
        let step = distance / IPD;
        let mid = ((left.0 + right.0) / 2.0, (left.1 + right.1) / 2.0);
        // Plane (MID_X, EYE_Y) must map to `mid`.
        let (s, c) = angle.sin_cos();
        let (du, dv) = (MID_X * step, EYE_Y * step);
        let origin = (mid.0 - (du * c - dv * s), mid.1 - (du * s + dv * c));
        let frame = Frame {
            origin,
            step,
            angle,
        };
        let (x0, y0) = Canonical::px(-USED_U, USED_V_TOP);
        let (x1, _) = Canonical::px(USED_U, 0.0);
        let plane = frame.sample_region(
            luma,
            WIDTH,
            HEIGHT,
            (x0.floor() as usize, x1.ceil() as usize + 1),
            (y0.floor() as usize, HEIGHT),
        );
        Canonical { plane, frame }
    }

    /// Canonical coordinates (u, v in IPD units from the eye midpoint) to plane pixels.
    pub fn px(u: f64, v: f64) -> (f64, f64) {
        (MID_X + u * IPD, EYE_Y + v * IPD)
    }

    /// Plane pixel to working-image coordinates.
    pub fn to_image(&self, x: f64, y: f64) -> (f64, f64) {
        self.frame.to_image(x, y)
    }
}
