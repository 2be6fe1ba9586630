//! Photo uploads: `decode_upload` under tight limits on arbitrary bytes, then the preliminary
//! check on whatever decodes, then the standard render when a face was found. The input is the file itself, so corpus entries and crash files
//! are ordinary (or broken) JPEG/PNG/WebP files.
//!
//! Besides "never panics" (and libFuzzer's time and memory limits), it checks that a decoded
//! photo respects the limits and reports its own size.

#![no_main]

use campus_photo_imaging::{
    CheckSpec, DecodeLimits, JpegQuality, check, decode_upload, render_standard,
};
use libfuzzer_sys::fuzz_target;

/// Tight so the fuzzer spends its time in the decoders and the check, not on huge canvases:
/// 64 KiB files, 0.25 MP.
const LIMITS: DecodeLimits = DecodeLimits {
    max_bytes: 64 * 1024,
    max_pixels: 512 * 512,
};

fuzz_target!(|bytes: &[u8]| {
    let Ok(photo) = decode_upload(bytes, &LIMITS) else {
        return;
    };
    assert_eq!(photo.image.dimensions(), (photo.width, photo.height));
    assert!(u64::from(photo.width) * u64::from(photo.height) <= LIMITS.max_pixels);
    assert_eq!(photo.content_type, photo.format.content_type());
    let report = check(&photo.image, &CheckSpec::default());
    // The report is logged with Debug; formatting walks every measure.
    let _ = format!("{report:?}");
    // The render uses the same frame placement as the check; refusing is fine, panicking not.
    if let Some(face) = &report.face
        && let Ok(rendered) =
            render_standard(&photo.image, face, [100, 197, 255], JpegQuality::default())
    {
        assert_eq!((rendered.width, rendered.height), (480, 640));
        assert!(rendered.jpeg.starts_with(&[0xFF, 0xD8]));
    }
});
