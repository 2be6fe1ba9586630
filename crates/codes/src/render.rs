//! Rendering a text as a QR code PNG, for the CLI that mints demo codes.

use std::io::Cursor;

use image::{ImageFormat, Luma};
use qrcode::{EcLevel, QrCode};
use thiserror::Error;

/// Why a QR PNG could not be produced.
#[derive(Debug, Error)]
pub enum RenderError {
    /// The text does not fit in any QR version.
    #[error("text does not fit in a QR code: {0}")]
    TooLong(#[from] qrcode::types::QrError),
    /// `module_px` was 0 or the image would be absurdly large.
    #[error("module size must be 1..=64 pixels, got {0}")]
    ModuleSize(u32),
    /// PNG encoding failed.
    #[error("PNG encoding failed: {0}")]
    Png(#[from] image::ImageError),
}

/// Encode `text` as a QR code PNG, `module_px` pixels per module, with the
/// standard 4-module quiet zone so phone scanners find it. Level M: a CQ1
/// token fits in a version that is still comfortable to photograph, with 15%
/// recovery for glare and creases.
pub fn render_qr_png(text: &str, module_px: u32) -> Result<Vec<u8>, RenderError> {
    if !(1..=64).contains(&module_px) {
        return Err(RenderError::ModuleSize(module_px));
    }
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)?;
    let img = code
        .render::<Luma<u8>>()
        .module_dimensions(module_px, module_px)
        .quiet_zone(true)
        .build();
    let mut png = Vec::new();
    img.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)?;
    Ok(png)
}
