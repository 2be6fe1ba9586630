//! Small image-sampling helpers shared by the face steps.

use image::GrayImage;

/// A float luma plane, row-major.
#[derive(Debug, Clone)]
pub struct Plane {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

impl Plane {
    pub fn new(width: usize, height: usize) -> Plane {
        Plane {
            width,
            height,
            data: vec![0.0; width * height],
        }
    }

    #[inline]
    pub fn at(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.width + x]
    }
}

/// Bilinear sample of `img` at (x, y), clamped at the borders.
#[cfg(test)]
fn bilinear(img: &GrayImage, x: f64, y: f64) -> f32 {
    bilinear_raw(
        img.as_raw(),
        img.width() as usize,
        img.height() as usize,
        x,
        y,
    )
}

/// `bilinear` on a raw row-major plane of `w`×`h` (both at least 1).
#[inline]
fn bilinear_raw(raw: &[u8], w: usize, h: usize, x: f64, y: f64) -> f32 {
    // Inside the image (all four neighbours present) the clamps below change nothing.
    if x >= 0.0 && y >= 0.0 && x < (w - 1) as f64 && y < (h - 1) as f64 {
        // In range for i32 (image sides are far below 2^31), a cheaper conversion than usize.
        let (x0, y0) = (x as i32 as usize, y as i32 as usize);
        let (fx, fy) = ((x - x0 as f64) as f32, (y - y0 as f64) as f32);
        let i = y0 * w + x0;
        if let (Some(a), Some(b)) = (raw.get(i..i + 2), raw.get(i + w..i + w + 2)) {
            let top = f32::from(a[0]) * (1.0 - fx) + f32::from(a[1]) * fx;
            let bottom = f32::from(b[0]) * (1.0 - fx) + f32::from(b[1]) * fx;
            return top * (1.0 - fy) + bottom * fy;
        }
    }
    let x = x.clamp(0.0, (w - 1) as f64);
    let y = y.clamp(0.0, (h - 1) as f64);
    // Both are non-negative here (NaN saturates to 0), so truncation is the floor.
    let (x0, y0) = (x as usize, y as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = ((x - x0 as f64) as f32, (y - y0 as f64) as f32);
    let p = |xx: usize, yy: usize| raw.get(yy * w + xx).map_or(0.0, |&v| f32::from(v));
    let top = p(x0, y0) * (1.0 - fx) + p(x1, y0) * fx;
    let bottom = p(x0, y1) * (1.0 - fx) + p(x1, y1) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// An affine map from a plane's pixel grid to image coordinates: a rotation by `angle`,
/// scale `step` (image pixels per plane pixel), and the image point for plane (0, 0).
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    pub origin: (f64, f64),
    pub step: f64,
    pub angle: f64,
}

impl Frame {
    /// Image coordinates of plane point (u, v).
    #[inline]
    pub fn to_image(self, u: f64, v: f64) -> (f64, f64) {
        let (s, c) = self.angle.sin_cos();
        let (du, dv) = (u * self.step, v * self.step);
        (
            self.origin.0 + du * c - dv * s,
            self.origin.1 + du * s + dv * c,
        )
    }

    /// `sample`, computing only columns `xs` and rows `ys` of the plane; the rest stays 0.
    pub fn sample_region(
        &self,
        img: &GrayImage,
        width: usize,
        height: usize,
        xs: (usize, usize),
        ys: (usize, usize),
    ) -> Plane {
        let mut out = Plane::new(width, height);
        if img.width() == 0 || img.height() == 0 {
            return out;
        }
        let taps: &[f64] = if self.step > 1.5 {
            &[-0.25, 0.25]
        } else {
            &[0.0]
        };
        let norm = (taps.len() * taps.len()) as f32;
        let (s, c) = self.angle.sin_cos();
        let (raw, w, h) = (img.as_raw(), img.width() as usize, img.height() as usize);
        // The same arithmetic as `to_image`, with the rotation computed once.
        let at = |u: f64, v: f64| {
            let (du, dv) = (u * self.step, v * self.step);
            (
                self.origin.0 + du * c - dv * s,
                self.origin.1 + du * s + dv * c,
            )
        };
        for v in ys.0..ys.1.min(height) {
            for u in xs.0..xs.1.min(width) {
                let mut acc = 0.0;
                for &ty in taps {
                    for &tx in taps {
                        let (x, y) = at(u as f64 + tx, v as f64 + ty);
                        acc += bilinear_raw(raw, w, h, x, y);
                    }
                }
                out.data[v * width + u] = acc / norm;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bilinear_interpolates_and_clamps() {
        let img = GrayImage::from_fn(2, 1, |x, _| image::Luma([if x == 0 { 0 } else { 100 }]));
        assert!((bilinear(&img, 0.5, 0.0) - 50.0).abs() < 1e-4);
        assert!((bilinear(&img, -3.0, 9.0) - 0.0).abs() < 1e-4);
    }

    #[test]
    fn frame_rotates_about_origin() {
        let f = Frame {
            origin: (10.0, 10.0),
            step: 2.0,
            angle: std::f64::consts::FRAC_PI_2,
        };
        let (x, y) = f.to_image(1.0, 0.0);
        assert!((x - 10.0).abs() < 1e-9 && (y - 12.0).abs() < 1e-9);
    }
}
