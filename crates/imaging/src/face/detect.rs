//! Face boxes from rustface's SeetaFace frontal cascade.
//!
//! The model is compiled in and parsed once; a detector is built per call because
//! `Box<dyn Detector>` is not `Send` and the check runs on whichever blocking thread is free.
//! Detection runs on a small copy of the photo: the cascade's cost grows with the number of
//! windows that look face-like, which for an ID photo (one big face) is large at full size, and
//! its 40-pixel window means a face covering a fifth of the frame is still found at 200 pixels.

use std::sync::OnceLock;

use image::GrayImage;
use image::imageops::{FilterType, resize};
use rustface::{Detector, ImageData, Model};

static MODEL_BYTES: &[u8] = include_bytes!("../../model/seeta_fd_frontal_v1.0.bin");
static MODEL: OnceLock<Model> = OnceLock::new();

fn model() -> &'static Model {
    MODEL.get_or_init(|| {
        // The bytes are part of the build, not input: a failure here is a broken build, and
        // `model_parses` below catches it in CI.
        rustface::read_model(std::io::Cursor::new(MODEL_BYTES))
            .expect("the vendored SeetaFace model parses")
    })
}

/// A detected face box in working-image pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceBox {
    pub x: f64,
    pub y: f64,
    pub size: f64,
    /// The cascade's confidence (sum of merged window scores).
    pub score: f64,
}

impl FaceBox {
    pub fn centre_x(&self) -> f64 {
        self.x + self.size / 2.0
    }
}

/// Shorter side of the first detection pass, and of the second pass that looks for faces
/// too small for the first one (so the student hears "move closer", not "no face").
const PASSES: [u32; 2] = [200, 400];
/// The cascade's own floor; our decision threshold lives in `thresholds.rs`.
const CASCADE_FLOOR: f64 = 2.0;

/// Detects faces, largest first. Boxes below `min_score` are dropped.
pub fn detect_faces(luma: &GrayImage, min_score: f64) -> Vec<FaceBox> {
    let short = luma.width().min(luma.height());
    let mut previous_short = 0;
    for target in PASSES {
        let target = target.min(short);
        if target <= previous_short {
            break;
        }
        previous_short = target;
        let faces = detect_at(luma, target, min_score);
        if !faces.is_empty() {
            return faces;
        }
    }
    Vec::new()
}

fn detect_at(luma: &GrayImage, short_side: u32, min_score: f64) -> Vec<FaceBox> {
    let short = luma.width().min(luma.height());
    if short < 40 {
        return Vec::new();
    }
    let scale = f64::from(short_side) / f64::from(short);
    let (w, h) = if (scale - 1.0).abs() < 1e-9 {
        (luma.width(), luma.height())
    } else {
        (
            ((f64::from(luma.width()) * scale).round() as u32).max(40),
            ((f64::from(luma.height()) * scale).round() as u32).max(40),
        )
    };
    let small;
    let pixels = if (w, h) == luma.dimensions() {
        luma
    } else {
        small = resize(luma, w, h, FilterType::Triangle);
        &small
    };
    let sx = f64::from(luma.width()) / f64::from(w);
    let mut detector = rustface::create_detector_with_model(model().clone());
    detector.set_score_thresh(CASCADE_FLOOR);
    detector.set_pyramid_scale_factor(0.8);
    detector.set_slide_window_step(4, 4);
    let mut faces: Vec<FaceBox> = detector
        .detect(&ImageData::new(pixels.as_raw(), w, h))
        .into_iter()
        .filter(|f| f.score() >= min_score)
        .map(|f| {
            let b = f.bbox();
            FaceBox {
                x: f64::from(b.x()) * sx,
                y: f64::from(b.y()) * sx,
                size: f64::from(b.width()) * sx,
                score: f.score(),
            }
        })
        .collect();
    faces.sort_by(|a, b| b.size.total_cmp(&a.size));
    faces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_parses() {
        assert!(model().get_hierarchy_count() > 0);
    }

    #[test]
    fn blank_image_has_no_face() {
        let img = GrayImage::from_pixel(300, 400, image::Luma([180]));
        assert!(detect_faces(&img, 2.0).is_empty());
        let tiny = GrayImage::from_pixel(10, 10, image::Luma([180]));
        assert!(detect_faces(&tiny, 2.0).is_empty());
    }
}
