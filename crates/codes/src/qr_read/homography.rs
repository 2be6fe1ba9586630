//! Projective map from the unit square onto a quadrilateral (Heckbert's
//! square-to-quad), the model of a flat code photographed at an angle.

/// A point in image coordinates.
pub(crate) type Pt = (f64, f64);

/// Maps (u, v) in [0,1]² to image coordinates; corners 0..3 are the images
/// of (0,0), (1,0), (1,1), (0,1).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Homography {
    a: f64,
    b: f64,
    c: f64,
    d: f64,
    e: f64,
    f: f64,
    g: f64,
    h: f64,
}

impl Homography {
    /// The map taking the unit square onto `quad`; `None` if degenerate.
    pub fn square_to_quad(quad: &[Pt; 4]) -> Option<Self> {
        let [(x0, y0), (x1, y1), (x2, y2), (x3, y3)] = *quad;
        let sx = x0 - x1 + x2 - x3;
        let sy = y0 - y1 + y2 - y3;
        let (g, h) = if sx.abs() < 1e-9 && sy.abs() < 1e-9 {
            (0.0, 0.0)
        } else {
            let (dx1, dx2) = (x1 - x2, x3 - x2);
            let (dy1, dy2) = (y1 - y2, y3 - y2);
            let den = dx1 * dy2 - dx2 * dy1;
            if den.abs() < 1e-12 {
                return None;
            }
            ((sx * dy2 - dx2 * sy) / den, (dx1 * sy - sx * dy1) / den)
        };
        let hom = Homography {
            a: x1 - x0 + g * x1,
            b: x3 - x0 + h * x3,
            c: x0,
            d: y1 - y0 + g * y1,
            e: y3 - y0 + h * y3,
            f: y0,
            g,
            h,
        };
        hom.a.is_finite().then_some(hom)
    }

    /// Image point of (u, v).
    pub fn map(&self, u: f64, v: f64) -> Pt {
        let w = self.g * u + self.h * v + 1.0;
        let w = if w.abs() < 1e-12 { 1e-12 } else { w };
        (
            (self.a * u + self.b * v + self.c) / w,
            (self.d * u + self.e * v + self.f) / w,
        )
    }
}

/// Image point of grid coordinate (x, y) of a `size`-module symbol whose
/// corners `h` maps from the unit square (module centres are at +0.5).
pub(crate) fn grid_point(h: &Homography, size: usize, x: f64, y: f64) -> Pt {
    let n = size as f64;
    h.map(x / n, y / n)
}
