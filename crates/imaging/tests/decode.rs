//! Upload decoding: EXIF orientation in all eight variants, limits, and the fixture uploads.

mod common;

use campus_photo_imaging::{DecodeError, DecodeLimits, PhotoFormat, decode_upload};
use image::{DynamicImage, ExtendedColorType, ImageEncoder, Rgb, RgbImage};

/// A 64×32 image of eight 16×16 blocks in distinct colours: every flip and rotation of it is
/// different.
fn pattern() -> RgbImage {
    const COLOURS: [[u8; 3]; 8] = [
        [230, 30, 30],
        [30, 230, 30],
        [30, 30, 230],
        [230, 230, 30],
        [230, 30, 230],
        [30, 230, 230],
        [250, 250, 250],
        [10, 10, 10],
    ];
    RgbImage::from_fn(64, 32, |x, y| Rgb(COLOURS[(y / 16 * 4 + x / 16) as usize]))
}

fn jpeg_with_orientation(img: &RgbImage, orientation: u16) -> Vec<u8> {
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 95)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            ExtendedColorType::Rgb8,
        )
        .expect("encode test JPEG");
    // APP1 "Exif" with a big-endian TIFF holding one IFD entry: Orientation (0x0112), SHORT.
    let mut tiff = b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01".to_vec();
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&tiff);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&plain[2..]);
    out
}

/// What a viewer shows for a stored image with the given EXIF orientation.
fn upright(img: &RgbImage, orientation: u16) -> RgbImage {
    let d = DynamicImage::ImageRgb8(img.clone());
    let d = match orientation {
        2 => d.fliph(),
        3 => d.rotate180(),
        4 => d.flipv(),
        5 => d.rotate90().fliph(),
        6 => d.rotate90(),
        7 => d.rotate270().fliph(),
        8 => d.rotate270(),
        _ => d,
    };
    d.into_rgb8()
}

#[test]
fn all_eight_exif_orientations_are_applied() {
    let img = pattern();
    for orientation in 1..=8u16 {
        let photo = decode_upload(
            &jpeg_with_orientation(&img, orientation),
            &DecodeLimits::default(),
        )
        .unwrap_or_else(|e| panic!("orientation {orientation}: {e}"));
        let expected = upright(&img, orientation);
        assert_eq!(
            (photo.width, photo.height),
            expected.dimensions(),
            "orientation {orientation}"
        );
        assert_eq!(photo.image.dimensions(), expected.dimensions());
        // Compare block centres (JPEG blurs the block edges).
        for by in 0..expected.height() / 16 {
            for bx in 0..expected.width() / 16 {
                let (x, y) = (bx * 16 + 8, by * 16 + 8);
                let (a, b) = (photo.image.get_pixel(x, y).0, expected.get_pixel(x, y).0);
                let diff: i32 = a
                    .iter()
                    .zip(b)
                    .map(|(p, q)| (i32::from(*p) - i32::from(q)).abs())
                    .sum();
                assert!(
                    diff < 60,
                    "orientation {orientation} block ({bx},{by}): {a:?} vs {b:?}"
                );
            }
        }
    }
}

#[test]
fn fixture_with_exif_rotation_comes_out_portrait() {
    let photo = decode_upload(
        &common::fixture_bytes("obama_exif_rotated.jpg"),
        &DecodeLimits::default(),
    )
    .expect("decodes");
    assert_eq!((photo.width, photo.height), (720, 960));
    assert_eq!(photo.format, PhotoFormat::Jpeg);
    assert_eq!(photo.content_type, "image/jpeg");
}

#[test]
fn png_and_webp_are_accepted() {
    let png = decode_upload(
        &common::fixture_bytes("obama_ok.png"),
        &DecodeLimits::default(),
    )
    .expect("png");
    assert_eq!(
        (png.format, png.content_type),
        (PhotoFormat::Png, "image/png")
    );
    let mut webp = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut webp)
        .write_image(pattern().as_raw(), 64, 32, ExtendedColorType::Rgb8)
        .expect("encode webp");
    let photo = decode_upload(&webp, &DecodeLimits::default()).expect("webp");
    assert_eq!(
        (photo.format, photo.width, photo.height),
        (PhotoFormat::WebP, 64, 32)
    );
    let cut = decode_upload(&webp[..webp.len() / 2], &DecodeLimits::default());
    assert!(matches!(cut, Err(DecodeError::Corrupt(_))), "{cut:?}");
}

#[test]
fn pixel_bomb_is_refused_from_its_header() {
    let err = decode_upload(
        &common::fixture_bytes("bomb_60000x60000.png"),
        &DecodeLimits::default(),
    )
    .expect_err("refused");
    assert!(
        matches!(
            err,
            DecodeError::TooManyPixels {
                width: 60000,
                height: 60000,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "FMT_FILE");
}

#[test]
fn truncated_phone_jpeg_is_refused() {
    let err = decode_upload(
        &common::fixture_bytes("broken_truncated.jpg"),
        &DecodeLimits::default(),
    )
    .expect_err("refused");
    assert!(matches!(err, DecodeError::Corrupt(_)), "{err:?}");
    // And every cut of a good JPEG is refused too.
    let good = common::fixture_bytes("obama_low_res.jpg");
    for cut in [good.len() / 4, good.len() / 2, good.len() - 3] {
        assert!(
            decode_upload(&good[..cut], &DecodeLimits::default()).is_err(),
            "cut {cut}"
        );
    }
}

#[test]
fn oversized_upload_is_refused_before_decoding() {
    let limits = DecodeLimits {
        max_bytes: 1000,
        ..DecodeLimits::default()
    };
    let err = decode_upload(&common::fixture_bytes("obama_ok.jpg"), &limits).expect_err("refused");
    assert!(matches!(err, DecodeError::TooLarge { .. }));
}
