//! The standard render on the fixtures: geometry bands measured on the output itself, size
//! band, format.

mod common;

use campus_photo_imaging::{
    CheckSpec, DecodeLimits, FaceGeometry, JpegQuality, RenderError, Verdict, check, decode_upload,
    render_standard,
};

const PROJECT_BLUE: [u8; 3] = [100, 197, 255];

fn render_fixture(name: &str) -> (campus_photo_imaging::RenderedPhoto, FaceGeometry) {
    let img = common::fixture(name);
    let report = check(&img, &CheckSpec::default());
    assert_eq!(
        report.verdict,
        Verdict::Passed,
        "{name}: {:?}",
        report.issues
    );
    let face = report.face.expect("a face");
    let rendered =
        render_standard(&img, &face, PROJECT_BLUE, JpegQuality::default()).expect("renders");
    (rendered, face)
}

#[test]
fn renders_meet_the_standard_geometry_measured_on_the_output() {
    for name in [
        "obama_ok.jpg",
        "obama_12mp_ok.jpg",
        "obama_roll4_ok.jpg",
        "obama_shift_ok.jpg",
        "obama_white_background_ok.jpg",
        "obama_exif_rotated.jpg",
        "obama_q35_ok.jpg",
        "obama_dim_ok.jpg",
    ] {
        let (r, _) = render_fixture(name);
        assert_eq!((r.width, r.height), (480, 640));
        let kb = r.jpeg.len() as f64 / 1024.0;
        assert!(
            (20.0..=40.0).contains(&kb),
            "{name}: {kb:.1} KB at q{}",
            r.quality
        );
        assert!(r.quality >= 60);
        let out = decode_upload(&r.jpeg, &DecodeLimits::default()).expect("render decodes");
        assert_eq!((out.width, out.height), (480, 640));
        assert_eq!(out.image.as_raw().len(), 480 * 640 * 3, "24-bit RGB");
        // Measure the output with the same landmark finder.
        let again = check(&out.image, &CheckSpec::default());
        let face = again
            .face
            .unwrap_or_else(|| panic!("{name}: no face on the render"));
        let eyes = face.eye_mid().y;
        let top = eyes - face.head_top;
        assert!((200.0..=300.0).contains(&eyes), "{name}: eyes at {eyes:.0}");
        assert!(
            (50.0..=110.0).contains(&top),
            "{name}: head top at {top:.0}"
        );
        assert!(
            (180.0..=300.0).contains(&face.face_width),
            "{name}: face width {:.0}",
            face.face_width
        );
        assert!(
            face.roll_deg.abs() < 2.0,
            "{name}: render not levelled ({:.1}°)",
            face.roll_deg
        );
        assert_eq!(
            again.verdict,
            Verdict::Passed,
            "{name}: the render itself fails {:?}",
            again.issues
        );
    }
}

#[test]
fn backdrop_is_recoloured_when_plain() {
    let (r, face) = render_fixture("obama_white_background_ok.jpg");
    assert!(face.backdrop.is_some());
    let out = decode_upload(&r.jpeg, &DecodeLimits::default())
        .expect("decodes")
        .image;
    for (x, y) in [(10, 10), (470, 10), (10, 200), (470, 200)] {
        let p = out.get_pixel(x, y).0;
        let d: i32 = p
            .iter()
            .zip(PROJECT_BLUE)
            .map(|(a, b)| (i32::from(*a) - i32::from(b)).abs())
            .sum();
        assert!(d < 30, "({x},{y}) is {p:?}");
    }
}

#[test]
fn geometry_survives_json_and_renders_later() {
    let img = common::fixture("obama_ok.jpg");
    let face = check(&img, &CheckSpec::default()).face.expect("face");
    let json = serde_json::to_string(&face).expect("serialises");
    let back: FaceGeometry = serde_json::from_str(&json).expect("deserialises");
    // serde_json may round the last bit of a float; the geometry is the same to far below a pixel.
    assert!(
        (back.left_eye.x - face.left_eye.x).abs() < 1e-9
            && (back.head_top - face.head_top).abs() < 1e-9
    );
    assert_eq!(back.backdrop, face.backdrop);
    assert_eq!(
        (back.image_width, back.image_height),
        (face.image_width, face.image_height)
    );
    let a = render_standard(&img, &face, PROJECT_BLUE, JpegQuality::default()).expect("renders");
    let b = render_standard(&img, &back, PROJECT_BLUE, JpegQuality::default()).expect("renders");
    assert_eq!(a.jpeg, b.jpeg);
}

#[test]
fn refuses_mismatched_or_too_small_sources() {
    let img = common::fixture("obama_ok.jpg");
    let face = check(&img, &CheckSpec::default()).face.expect("face");
    let other = image::imageops::crop_imm(&img, 0, 0, 700, 900).to_image();
    assert!(matches!(
        render_standard(&other, &face, PROJECT_BLUE, JpegQuality::default()),
        Err(RenderError::GeometryMismatch { .. })
    ));
    let low = common::fixture("obama_low_res.jpg");
    let face = check(&low, &CheckSpec::default()).face.expect("face");
    assert!(matches!(
        render_standard(&low, &face, PROJECT_BLUE, JpegQuality::default()),
        Err(RenderError::TooSmall { .. })
    ));
}
