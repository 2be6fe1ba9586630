//! The standard photo: 480×640, eyes level and placed by the 学信网 geometry, backdrop
//! normalised to the project colour where it is plain, JPEG within the size band.

mod encode;
mod matte;
mod resample;

use image::RgbImage;

pub use encode::JpegQuality;

use crate::face::geometry::FaceGeometry;
use crate::placement::Placement;
use crate::spec::RenderGeometry;

/// The rendered standard photo.
#[derive(Debug, Clone)]
pub struct RenderedPhoto {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// The JPEG quality that landed in (or nearest to) the size band.
    pub quality: u8,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("face geometry is for a {expected_w}×{expected_h} photo, got {actual_w}×{actual_h}")]
    GeometryMismatch {
        expected_w: u32,
        expected_h: u32,
        actual_w: u32,
        actual_h: u32,
    },
    #[error("face geometry is not usable: {0}")]
    BadGeometry(&'static str),
    #[error("the photo would need {needed:.2}× upscaling (at most {allowed:.2}×)")]
    TooSmall { needed: f64, allowed: f64 },
    #[error("JPEG encoding failed: {0}")]
    Encode(String),
}

/// Upscaling the render accepts: the same limit as the check's FMT_DIMENSIONS error.
fn max_upscale() -> f64 {
    crate::thresholds::STANDARD.render_scale.max.unwrap_or(1.0)
}

/// Renders the standard photo from the upright original and the geometry the check stored.
/// `background` replaces the backdrop when the check found it plain (`face.backdrop`).
pub fn render_standard(
    image: &RgbImage,
    face: &FaceGeometry,
    background: [u8; 3],
    quality: JpegQuality,
) -> Result<RenderedPhoto, RenderError> {
    if image.dimensions() != (face.image_width, face.image_height) {
        return Err(RenderError::GeometryMismatch {
            expected_w: face.image_width,
            expected_h: face.image_height,
            actual_w: image.width(),
            actual_h: image.height(),
        });
    }
    let numbers = [
        face.left_eye.x,
        face.left_eye.y,
        face.right_eye.x,
        face.right_eye.y,
        face.head_top,
        face.face_width,
        face.roll_deg,
    ];
    if numbers.iter().any(|v| !v.is_finite()) || face.inter_eye() < 2.0 || face.face_width <= 0.0 {
        return Err(RenderError::BadGeometry(
            "non-finite or degenerate landmarks",
        ));
    }
    let geometry = RenderGeometry::default();
    let placement = Placement::new(face, &geometry);
    if placement.scale > max_upscale() {
        return Err(RenderError::TooSmall {
            needed: placement.scale,
            allowed: max_upscale(),
        });
    }
    let sampled = resample::sample(image, &placement, geometry.width, geometry.height);
    let mut out = sampled.image;
    if let Some(backdrop) = face.backdrop {
        matte::replace_backdrop(&mut out, &sampled.outside, &backdrop, background);
    }
    let (jpeg, q) = encode::encode_in_band(&out, quality)?;
    Ok(RenderedPhoto {
        jpeg,
        width: geometry.width,
        height: geometry.height,
        quality: q,
    })
}
