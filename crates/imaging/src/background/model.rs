//! The backdrop's colour, learned from the photo's border.
//!
//! An ID photo is taken against a plain backdrop, so the top edge and the upper parts of the
//! side edges (above the shoulders) are backdrop. Their median colour is the model; a pixel is
//! backdrop when it is close to it. The same model serves the crown search, the background
//! measures and the render's background replacement.

use image::RgbImage;

/// Backdrop colour and how tightly the border agrees with it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackdropModel {
    pub colour: [f32; 3],
    /// Median distance of the border samples from `colour` (0 for a flat backdrop).
    pub spread: f32,
    /// Distance under which a pixel counts as backdrop.
    pub tolerance: f32,
}

/// Smallest tolerance: JPEG noise, vignetting and soft shadows on a plain wall stay under it,
/// hair, skin and clothing are further away from any light backdrop than this.
const MIN_TOLERANCE: f32 = 36.0;
/// Largest tolerance, so a busy border does not make everything "backdrop".
const MAX_TOLERANCE: f32 = 60.0;
/// Fraction of the image size used as the border strip.
const STRIP: f64 = 0.03;

impl BackdropModel {
    /// Learns the model from the top strip and the side strips down to `lowest_y` (working
    /// pixels, usually the eye line: below it shoulders may reach the sides).
    pub fn learn(rgb: &RgbImage, lowest_y: f64) -> BackdropModel {
        let (w, h) = rgb.dimensions();
        let strip_h = ((f64::from(h) * STRIP).ceil() as u32).clamp(1, h);
        let strip_w = ((f64::from(w) * STRIP).ceil() as u32).clamp(1, w);
        let side_bottom = (lowest_y.max(0.0) as u32).clamp(strip_h, h);
        let mut samples: Vec<[u8; 3]> = Vec::new();
        // Subsample so that the cost stays small on any working size.
        let step = ((w.max(h) / 300).max(1)) as usize;
        for y in (0..strip_h).step_by(step) {
            for x in (0..w).step_by(step) {
                samples.push(rgb.get_pixel(x, y).0);
            }
        }
        for y in (strip_h..side_bottom).step_by(step) {
            for x in (0..strip_w)
                .chain(w.saturating_sub(strip_w)..w)
                .step_by(step)
            {
                samples.push(rgb.get_pixel(x, y).0);
            }
        }
        Self::from_samples(&samples)
    }

    fn from_samples(samples: &[[u8; 3]]) -> BackdropModel {
        if samples.is_empty() {
            return BackdropModel {
                colour: [128.0; 3],
                spread: 255.0,
                tolerance: MIN_TOLERANCE,
            };
        }
        let mut colour = [0f32; 3];
        for (c, slot) in colour.iter_mut().enumerate() {
            let mut channel: Vec<u8> = samples.iter().map(|s| s[c]).collect();
            *slot = f32::from(median_u8(&mut channel));
        }
        let mut distances: Vec<f32> = samples.iter().map(|s| distance(s, &colour)).collect();
        distances.sort_by(f32::total_cmp);
        let spread = distances[distances.len() / 2];
        let tolerance = (3.0 * spread).clamp(MIN_TOLERANCE, MAX_TOLERANCE);
        BackdropModel {
            colour,
            spread,
            tolerance,
        }
    }

    /// Distance of a pixel from the backdrop colour.
    #[inline]
    pub fn distance(&self, px: &[u8; 3]) -> f32 {
        distance(px, &self.colour)
    }

    #[inline]
    pub fn is_backdrop(&self, px: &[u8; 3]) -> bool {
        self.distance(px) < self.tolerance
    }
}

/// Euclidean RGB distance.
#[inline]
pub fn distance(px: &[u8; 3], colour: &[f32; 3]) -> f32 {
    let d0 = f32::from(px[0]) - colour[0];
    let d1 = f32::from(px[1]) - colour[1];
    let d2 = f32::from(px[2]) - colour[2];
    (d0 * d0 + d1 * d1 + d2 * d2).sqrt()
}

fn median_u8(values: &mut [u8]) -> u8 {
    let mid = values.len() / 2;
    *values.select_nth_unstable(mid).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_flat_backdrop() {
        let mut img = RgbImage::from_pixel(120, 160, image::Rgb([100, 197, 255]));
        for y in 60..160 {
            for x in 30..90 {
                img.put_pixel(x, y, image::Rgb([60, 40, 30]));
            }
        }
        let m = BackdropModel::learn(&img, 80.0);
        assert_eq!(m.colour, [100.0, 197.0, 255.0]);
        assert_eq!(m.spread, 0.0);
        assert!(m.is_backdrop(&[105, 190, 250]));
        assert!(!m.is_backdrop(&[60, 40, 30]));
    }
}
