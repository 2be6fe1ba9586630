//! Demo-code PNGs must read back with our own reader.

use std::time::Duration;

use campus_photo_codes::{RenderError, read_qr, render_qr_png};

#[test]
fn rendered_png_reads_back() {
    let text = "CQ1.eyJ2IjoxfQ.c2lnbmF0dXJl-_demo";
    let png = render_qr_png(text, 4).expect("renders");
    assert!(png.starts_with(&[0x89, b'P', b'N', b'G']));
    let img = image::load_from_memory(&png).expect("valid PNG");
    assert_eq!(read_qr(&img, Duration::from_secs(60)).as_deref(), Ok(text));
}

#[test]
fn module_size_is_checked() {
    assert!(matches!(
        render_qr_png("x", 0),
        Err(RenderError::ModuleSize(0))
    ));
    assert!(matches!(
        render_qr_png("x", 65),
        Err(RenderError::ModuleSize(65))
    ));
}

#[test]
fn too_long_text_is_an_error() {
    let text = "x".repeat(5000);
    assert!(matches!(
        render_qr_png(&text, 2),
        Err(RenderError::TooLong(_))
    ));
}

#[test]
fn degenerate_images_are_not_found_without_panicking() {
    use campus_photo_codes::QrReadError;
    for (w, h) in [(0, 0), (1, 1), (20, 500), (9000, 30), (3, 5000)] {
        let img = image::DynamicImage::new_luma8(w, h);
        assert_eq!(
            read_qr(&img, Duration::from_secs(30)),
            Err(QrReadError::NotFound),
            "{w}x{h}"
        );
    }
    // Noise: finder-like blobs everywhere, nothing decodable.
    let mut state = 12345u32;
    let noisy = image::GrayImage::from_fn(640, 480, |_, _| {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
        image::Luma([(state >> 24) as u8])
    });
    let img = image::DynamicImage::ImageLuma8(noisy);
    assert_eq!(
        read_qr(&img, Duration::from_secs(60)),
        Err(QrReadError::NotFound)
    );
}

/// A dark-mode app shows the code light on dark.
#[test]
fn inverted_code_reads() {
    let text = "CQ1.eyJ2IjoxfQ.aW52ZXJ0ZWQ";
    let png = render_qr_png(text, 5).expect("renders");
    let mut img = image::load_from_memory(&png).expect("valid PNG").to_luma8();
    image::imageops::invert(&mut img);
    let img = image::DynamicImage::ImageLuma8(img);
    assert_eq!(read_qr(&img, Duration::from_secs(60)).as_deref(), Ok(text));
}

/// A CQ1 code next to another QR code (e.g. a WeChat contact code) wins,
/// whichever is found first.
#[test]
fn cq1_code_is_preferred_over_another_code() {
    let cq1 = "CQ1.eyJ2IjoxfQ.cHJlZmVycmVk";
    let other = "https://u.wechat.com/some-contact";
    let a = image::load_from_memory(&render_qr_png(other, 6).expect("renders")).expect("png");
    let b = image::load_from_memory(&render_qr_png(cq1, 4).expect("renders")).expect("png");
    let (a, b) = (a.to_luma8(), b.to_luma8());
    let mut canvas = image::GrayImage::from_pixel(
        a.width() + b.width() + 40,
        a.height().max(b.height()) + 40,
        image::Luma([255]),
    );
    image::imageops::overlay(&mut canvas, &a, 20, 20);
    image::imageops::overlay(&mut canvas, &b, i64::from(a.width()) + 20, 20);
    let img = image::DynamicImage::ImageLuma8(canvas);
    assert_eq!(read_qr(&img, Duration::from_secs(60)).as_deref(), Ok(cq1));
}
