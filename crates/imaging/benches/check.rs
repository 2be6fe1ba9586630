//! Cost of decode, check and render on one thread (decode and check timed alternately).
//!
//! cargo bench -p campus-photo-imaging --bench check

use std::path::PathBuf;
use std::time::{Duration, Instant};

use campus_photo_imaging::{
    CheckSpec, DecodeLimits, JpegQuality, check, decode_upload, render_standard,
};
use image::{ExtendedColorType, ImageEncoder};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/photos")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Median wall time of `runs` calls.
fn median<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// Medians of `runs` calls of `f` and of `g`, alternating, so that both see the same load
/// from whatever else runs on the machine.
fn medians<T, U>(
    runs: usize,
    mut f: impl FnMut() -> T,
    mut g: impl FnMut() -> U,
) -> (Duration, Duration) {
    let (mut a, mut b) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for _ in 0..runs {
        let t = Instant::now();
        std::hint::black_box(f());
        a.push(t.elapsed());
        let t = Instant::now();
        std::hint::black_box(g());
        b.push(t.elapsed());
    }
    a.sort();
    b.sort();
    (a[runs / 2], b[runs / 2])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let loading = Instant::now();
    if let Err(e) = campus_photo_imaging::load_models() {
        panic!("{e}");
    }
    println!(
        "face models loaded in {:.0} ms (once per process)",
        ms(loading.elapsed())
    );
    let spec = CheckSpec::default();
    let limits = DecodeLimits::default();
    println!("one thread; median of several runs per step");
    println!(
        "{:<22} {:>10} {:>9} {:>9} {:>10} {:>13} {:>12}",
        "photo", "pixels", "decode", "check", "render", "decode share", "check/decode"
    );
    for (name, runs) in [
        ("obama_12mp_ok.jpg", 7),
        ("obama_ok.jpg", 21),
        ("hopper_ok.jpg", 21),
        ("collins_ok.jpg", 21),
    ] {
        let bytes = fixture(name);
        let photo = match decode_upload(&bytes, &limits) {
            Ok(p) => p,
            Err(e) => panic!("{name}: {e}"),
        };
        let report = check(&photo.image, &spec);
        let Some(face) = report.face.clone() else {
            panic!("{name}: no face")
        };
        let (decode, checking) = medians(
            runs,
            || decode_upload(&bytes, &limits).map(|p| p.width),
            || check(&photo.image, &spec).verdict,
        );
        let render = median(runs, || {
            render_standard(&photo.image, &face, [100, 197, 255], JpegQuality::default())
                .map(|r| r.jpeg.len())
        });
        let total = decode + checking + render;
        println!(
            "{:<22} {:>10} {:>7.1}ms {:>7.1}ms {:>8.1}ms {:>12.0}% {:>11.2}x",
            name,
            format!("{}x{}", photo.width, photo.height),
            ms(decode),
            ms(checking),
            ms(render),
            100.0 * decode.as_secs_f64() / total.as_secs_f64(),
            checking.as_secs_f64() / decode.as_secs_f64(),
        );
    }

    // A 3-megapixel phone JPEG, made from the 12-megapixel one.
    let big = match decode_upload(&fixture("obama_12mp_ok.jpg"), &limits) {
        Ok(p) => p.image,
        Err(e) => panic!("{e}"),
    };
    let small = image::imageops::resize(&big, 1500, 2000, image::imageops::FilterType::Triangle);
    let mut jpeg = Vec::new();
    if let Err(e) = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90).write_image(
        small.as_raw(),
        small.width(),
        small.height(),
        ExtendedColorType::Rgb8,
    ) {
        panic!("{e}");
    }
    // Medians, not means: one run preempted by another process on a shared machine must not
    // move the figure.
    let (decode, per) = medians(
        21,
        || decode_upload(&jpeg, &limits).map(|p| p.width),
        || {
            decode_upload(&jpeg, &limits)
                .ok()
                .map(|photo| check(&photo.image, &spec).verdict)
        },
    );
    println!(
        "3 MP JPEG (1500x2000, {} KB): decode {:.1} ms, decode+check {:.1} ms each, {:.1} photos/s on one thread (check/decode {:.2}x)",
        jpeg.len() / 1024,
        ms(decode),
        ms(per),
        1.0 / per.as_secs_f64(),
        (per.as_secs_f64() - decode.as_secs_f64()) / decode.as_secs_f64(),
    );
}
