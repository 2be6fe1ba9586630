//! Where the standard photo's frame falls on the source photo.
//!
//! Shared by the check (does the photo hold enough around the head to make the standard
//! photo?) and the render (which crops exactly this frame), so the two never disagree.

use crate::face::geometry::{FaceGeometry, Point};
use crate::spec::RenderGeometry;

/// The output frame on the source: output pixel (X, Y) maps to
/// `eye_mid + R(roll) · ((X − width/2) / scale, (Y − eye_y) / scale)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    /// Output pixels per source pixel.
    pub scale: f64,
    /// Smallest scale that meets the geometry bands (> 1 means the photo is too small).
    pub min_scale: f64,
    /// Eye line in the output, pixels from the top.
    pub eye_y: f64,
    eye_mid: Point,
    angle: f64,
    width: f64,
    height: f64,
}

/// Eye line to head top of an ordinary head, in inter-eye distances (vertex–pupil ≈ 110 mm
/// less the hair-free crown curvature seen from the front; 1.3 on the fixtures' frontal face).
const NOMINAL_HEAD_TOP: f64 = 1.3;

/// Head-top target inside its band: the middle, so that both hairstyles and small errors in
/// the crown estimate stay within it.
fn head_top_target(geometry: &RenderGeometry) -> f64 {
    geometry.head_top.mid()
}

impl Placement {
    /// Chooses the scale (face width at the middle of its band when the bands allow, never
    /// more upscaling than needed) and the eye line (head top at the middle of its band).
    pub fn new(face: &FaceGeometry, geometry: &RenderGeometry) -> Placement {
        let fw = face.face_width.max(1.0);
        // A head cut by the photo's top edge is at least as tall as an ordinary one.
        let crown = if face.head_top_visible {
            face.head_top.max(1.0)
        } else {
            face.head_top
                .max(NOMINAL_HEAD_TOP * face.inter_eye())
                .max(1.0)
        };
        let fw_band = geometry.face_width;
        let eyes = geometry.eyes_from_top;
        let top = geometry.head_top;
        // Scales meeting the face-width band, and those that can put both the eyes and the
        // head top inside their bands.
        let (w_lo, w_hi) = (fw_band.min / fw, fw_band.max / fw);
        let (c_lo, c_hi) = (
            (eyes.min - top.max).max(1.0) / crown,
            (eyes.max - top.min) / crown,
        );
        let (lo, hi) = if w_lo.max(c_lo) <= w_hi.min(c_hi) {
            (w_lo.max(c_lo), w_hi.min(c_hi))
        } else {
            (w_lo, w_hi)
        };
        let preferred = (fw_band.mid() / fw).clamp(lo, hi);
        let scale = if preferred > 1.0 {
            lo.max(1.0).min(preferred)
        } else {
            preferred
        };
        // Not `clamp`: when the face-width band forces a scale at which the head is taller
        // than the eye and head-top bands allow (a crown estimate far above the eyes), the
        // bounds cross and `clamp` panics. Then the lower bound wins: the head top stays at the
        // top of its band, inside the frame, and the eye line falls below its band.
        let low = eyes.min.max(top.min + scale * crown);
        let high = eyes.max.min(top.max + scale * crown).max(eyes.min);
        let eye_y = (head_top_target(geometry) + scale * crown)
            .min(high)
            .max(low);
        Placement {
            scale,
            min_scale: lo,
            eye_y,
            eye_mid: face.eye_mid(),
            angle: face.roll_deg.to_radians(),
            width: f64::from(geometry.width),
            height: f64::from(geometry.height),
        }
    }

    /// Source point for output pixel (x, y).
    pub fn to_source(self, x: f64, y: f64) -> Point {
        let (s, c) = self.angle.sin_cos();
        let (u, v) = (
            (x - self.width / 2.0) / self.scale,
            (y - self.eye_y) / self.scale,
        );
        Point {
            x: self.eye_mid.x + u * c - v * s,
            y: self.eye_mid.y + u * s + v * c,
        }
    }

    /// The map as source = origin + x·ex + y·ey, for tight sampling loops.
    pub fn affine(&self) -> (Point, (f64, f64), (f64, f64)) {
        let origin = self.to_source(0.0, 0.0);
        let (s, c) = self.angle.sin_cos();
        (
            (origin),
            (c / self.scale, s / self.scale),
            (-s / self.scale, c / self.scale),
        )
    }

    /// Output rows at the bottom not covered by the source (0 when it fits).
    pub fn bottom_shortfall(&self, image_height: u32) -> f64 {
        let h = f64::from(image_height);
        let worst = [0.0, self.width]
            .iter()
            .map(|&x| self.to_source(x, self.height).y - h)
            .fold(0.0f64, f64::max);
        worst * self.scale
    }

    /// Output columns at either side not covered by the source, over the rows from the top
    /// to `down_to` (output y): beside the head, where only backdrop belongs.
    pub fn side_shortfall(&self, image_width: u32, down_to: f64) -> f64 {
        let w = f64::from(image_width);
        let mut worst = 0.0f64;
        for y in [0.0, down_to.clamp(0.0, self.height)] {
            worst = worst.max(-self.to_source(0.0, y).x);
            worst = worst.max(self.to_source(self.width, y).x - w);
        }
        worst * self.scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(ipd: f64, crown: f64) -> FaceGeometry {
        FaceGeometry {
            image_width: 720,
            image_height: 960,
            face_box: [0.0; 4],
            left_eye: Point {
                x: 360.0 - ipd / 2.0,
                y: 360.0,
            },
            right_eye: Point {
                x: 360.0 + ipd / 2.0,
                y: 360.0,
            },
            roll_deg: 0.0,
            head_top: crown,
            head_top_visible: true,
            mouth: 1.05 * ipd,
            chin: 1.9 * ipd,
            face_width: 2.0 * ipd,
            backdrop: None,
        }
    }

    /// Found by fuzzing (`crates/imaging/tests/fuzz_regressions.rs`): a crown estimate far
    /// above the eyes crosses the eye-line bounds at the scale the face-width band forces,
    /// which made `f64::clamp` panic. The head top now stays at the top of its band.
    #[test]
    fn head_too_tall_for_the_bands_keeps_the_head_top_in_frame() {
        let g = RenderGeometry::default();
        let p = Placement::new(&face(118.0, 10.0 * 118.0), &g);
        assert!(p.eye_y.is_finite());
        assert!((p.eye_y - p.scale * 1180.0 - g.head_top.min).abs() < 1e-9);
        assert!(p.eye_y > g.eyes_from_top.max);
    }

    #[test]
    fn meets_every_band_for_an_ordinary_face() {
        let g = RenderGeometry::default();
        for (ipd, crown_ratio) in [(118.0, 1.28), (40.0, 1.3), (300.0, 1.6), (118.0, 1.0)] {
            let f = face(ipd, crown_ratio * ipd);
            let p = Placement::new(&f, &g);
            let fw = p.scale * f.face_width;
            let top = p.eye_y - p.scale * f.head_top;
            assert!((180.0..=300.0).contains(&fw), "{ipd} face width {fw}");
            assert!((200.0..=300.0).contains(&p.eye_y), "{ipd} eyes {}", p.eye_y);
            assert!((50.0..=110.0).contains(&top), "{ipd} head top {top}");
        }
    }

    #[test]
    fn small_source_needs_upscaling() {
        let p = Placement::new(&face(40.0, 52.0), &RenderGeometry::default());
        assert!(p.min_scale > 2.0);
        let p = Placement::new(&face(118.0, 151.0), &RenderGeometry::default());
        assert!(p.min_scale < 1.0);
        assert_eq!(p.bottom_shortfall(960), 0.0);
        assert_eq!(p.side_shortfall(720, 300.0), 0.0);
    }
}
