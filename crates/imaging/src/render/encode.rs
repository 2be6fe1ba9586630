//! JPEG encoding into the size band: the highest quality (within the allowed range) whose file
//! fits under the band's top, found by bisection.

use image::{ExtendedColorType, ImageEncoder, RgbImage};

use super::RenderError;

/// Quality range and the target file-size band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JpegQuality {
    /// Never below this (the registry asks for quality ≥ 60).
    pub min: u8,
    pub max: u8,
    /// Target size band in bytes.
    pub min_bytes: usize,
    pub max_bytes: usize,
}

impl Default for JpegQuality {
    fn default() -> Self {
        JpegQuality {
            min: 60,
            max: 95,
            min_bytes: 20 * 1024,
            max_bytes: 40 * 1024,
        }
    }
}

pub fn encode(img: &RgbImage, quality: u8) -> Result<Vec<u8>, RenderError> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            ExtendedColorType::Rgb8,
        )
        .map_err(|e| RenderError::Encode(e.to_string()))?;
    Ok(out)
}

/// Encodes at (about) the highest quality in `q.min..=q.max` that stays under `q.max_bytes`;
/// if even `q.min` is larger, returns that (quality is never lowered below the minimum).
/// File size grows smoothly with quality, so the bracket is narrowed by interpolating on size
/// (regula falsi) rather than halving: four or five encodes instead of eight.
pub fn encode_in_band(img: &RgbImage, q: JpegQuality) -> Result<(Vec<u8>, u8), RenderError> {
    let (mut lo, mut hi) = (q.min.min(q.max), q.max.max(q.min));
    let top = encode(img, hi)?;
    if top.len() <= q.max_bytes {
        return Ok((top, hi));
    }
    let bottom = encode(img, lo)?;
    if bottom.len() > q.max_bytes {
        return Ok((bottom, lo));
    }
    // Invariant: quality `lo` fits (size `lo_size`), `hi` does not (size `hi_size`).
    let (mut lo_size, mut hi_size) = (bottom.len() as f64, top.len() as f64);
    let mut best = (bottom, lo);
    let target = q.max_bytes as f64;
    for _ in 0..6 {
        if hi - lo <= 1 {
            break;
        }
        let t = ((target - lo_size) / (hi_size - lo_size).max(1.0)).clamp(0.0, 1.0);
        let guess = f64::from(lo) + t * f64::from(hi - lo);
        let mid = (guess.floor() as u8).clamp(lo + 1, hi - 1);
        let bytes = encode(img, mid)?;
        if bytes.len() <= q.max_bytes {
            lo = mid;
            lo_size = bytes.len() as f64;
            best = (bytes, mid);
        } else {
            hi = mid;
            hi_size = bytes.len() as f64;
        }
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lands_under_the_top_of_the_band_at_the_highest_fitting_quality() {
        // Noise-like texture: size rises steeply with quality.
        let img = RgbImage::from_fn(480, 640, |x, y| {
            let v = ((x * 7 + y * 13) ^ (x * y)) as u8;
            image::Rgb([v, v.wrapping_mul(3), v.wrapping_add(90)])
        });
        let band = JpegQuality::default();
        let (bytes, quality) = encode_in_band(&img, band).expect("encodes");
        assert!(quality >= band.min);
        if quality > band.min {
            assert!(bytes.len() <= band.max_bytes);
            if quality < band.max {
                let next = encode(&img, quality + 1).expect("encodes");
                assert!(
                    next.len() > band.max_bytes,
                    "q{} would also fit",
                    quality + 1
                );
            }
        }
    }
}
