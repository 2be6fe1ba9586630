//! Inputs found by `fuzz/` (cargo fuzz target `image_check`), kept so the fixes stay fixed. Each
//! goes through the whole pipeline of an upload: decoded under the fuzz target's limits,
//! checked and, when a face was found, rendered. None of it may panic.

use campus_photo_imaging::{
    CheckSpec, DecodeLimits, JpegQuality, check, decode_upload, render_standard,
};

const FUZZ_LIMITS: DecodeLimits = DecodeLimits {
    max_bytes: 64 * 1024,
    max_pixels: 512 * 512,
};

fn pipeline(bytes: &[u8]) {
    let photo = decode_upload(bytes, &FUZZ_LIMITS).expect("the regression input decodes");
    let report = check(&photo.image, &CheckSpec::default());
    if let Some(face) = &report.face {
        // Refusing is fine; panicking is not.
        let _ = render_standard(&photo.image, face, [100, 197, 255], JpegQuality::default());
    }
}

/// A mangled JPEG of the fixture portrait whose crown estimate lies so far above the eyes that,
/// at the scale the face-width band forces, the eye-line and head-top bands cross: placing the
/// frame panicked in `f64::clamp` (min > max) inside `check` and `render_standard`.
#[test]
fn crossed_eye_and_head_top_bands_do_not_panic() {
    pipeline(include_bytes!("fuzz_regressions/eye_band_crossed.jpg"));
}
