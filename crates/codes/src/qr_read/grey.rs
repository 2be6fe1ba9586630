//! A plain 8-bit grey image with the few operations the reader needs. Own
//! type over a raw buffer because these loops run over 12-megapixel photos
//! and per-pixel trait calls of `image` would dominate the time.

use image::DynamicImage;

/// Row-major 8-bit luminance.
#[derive(Clone, Debug)]
pub(crate) struct Grey {
    pub w: usize,
    pub h: usize,
    pub px: Vec<u8>,
}

impl Grey {
    /// Luminance of any decoded image.
    pub fn from_image(img: &DynamicImage) -> Self {
        let luma = img.to_luma8();
        let (w, h) = (luma.width() as usize, luma.height() as usize);
        Grey {
            w,
            h,
            px: luma.into_raw(),
        }
    }

    /// Larger side.
    pub fn max_dim(&self) -> usize {
        self.w.max(self.h)
    }

    /// Shrink by an integer factor, averaging each `f`×`f` block: cheap, and
    /// the averaging removes noise instead of aliasing it like point sampling.
    pub fn downscale(&self, f: usize) -> Self {
        if f <= 1 {
            return self.clone();
        }
        let (w, h) = (self.w / f, self.h / f);
        let mut acc = vec![0u32; w];
        let mut px = Vec::with_capacity(w * h);
        let area = (f * f) as u32;
        for by in 0..h {
            acc.fill(0);
            for y in by * f..by * f + f {
                let row = &self.px[y * self.w..y * self.w + w * f];
                for (bx, a) in acc.iter_mut().enumerate() {
                    *a += row[bx * f..bx * f + f]
                        .iter()
                        .map(|&v| v as u32)
                        .sum::<u32>();
                }
            }
            px.extend(acc.iter().map(|&a| ((a + area / 2) / area) as u8));
        }
        Grey { w, h, px }
    }

    /// Enlarge by an integer factor with bilinear interpolation, so that small
    /// printed modules span enough pixels for the finder-pattern run-length
    /// test.
    pub fn upscale(&self, f: usize) -> Self {
        if f <= 1 {
            return self.clone();
        }
        let (w, h) = (self.w * f, self.h * f);
        let mut px = Vec::with_capacity(w * h);
        let inv = 1.0 / f as f32;
        for y in 0..h {
            let sy = (y as f32 + 0.5) * inv - 0.5;
            for x in 0..w {
                let sx = (x as f32 + 0.5) * inv - 0.5;
                px.push(self.sample(sx, sy).round() as u8);
            }
        }
        Grey { w, h, px }
    }

    /// Bilinear sample; pixel centres sit at integer coordinates, outside
    /// points take the nearest edge pixel.
    pub fn sample(&self, x: f32, y: f32) -> f32 {
        let max_x = (self.w - 1) as f32;
        let max_y = (self.h - 1) as f32;
        let x = x.clamp(0.0, max_x);
        let y = y.clamp(0.0, max_y);
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.w - 1), (y0 + 1).min(self.h - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let p = |xx: usize, yy: usize| self.px[yy * self.w + xx] as f32;
        let top = p(x0, y0) + (p(x1, y0) - p(x0, y0)) * fx;
        let bottom = p(x0, y1) + (p(x1, y1) - p(x0, y1)) * fx;
        top + (bottom - top) * fy
    }

    /// Light and dark swapped, for codes shown inverted (dark-mode apps).
    pub fn invert(&self) -> Self {
        self.map(|v| 255 - v)
    }

    fn map(&self, f: impl Fn(u8) -> u8) -> Self {
        Grey {
            w: self.w,
            h: self.h,
            px: self.px.iter().map(|&v| f(v)).collect(),
        }
    }
}
