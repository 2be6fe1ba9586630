//! Runs the check on one photo in a loop, for a profiler to watch (perf record, callgrind).
//!
//! cargo run --release -p campus-photo-imaging --example check_loop -- PHOTO [RUNS]

use campus_photo_imaging::{CheckSpec, DecodeLimits, check, decode_upload};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: check_loop PHOTO [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(200);
    // DECODE_ONLY=1 times the decode instead, for the check/decode ratio.
    let decode_only = std::env::var_os("DECODE_ONLY").is_some();
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let photo = decode_upload(&bytes, &DecodeLimits::default()).unwrap_or_else(|e| panic!("{e}"));
    let spec = CheckSpec::default();
    // Models are parsed once per process: load them here so that a profiler's count of the
    // loop (callgrind --toggle-collect=campus_photo_imaging::check::check) is the checks alone.
    campus_photo_imaging::load_models().unwrap_or_else(|e| panic!("{e}"));
    if decode_only {
        let start = std::time::Instant::now();
        for _ in 0..runs {
            std::hint::black_box(
                decode_upload(&bytes, &DecodeLimits::default())
                    .map(|p| p.width)
                    .ok(),
            );
        }
        let per = start.elapsed().as_secs_f64() * 1e3 / runs as f64;
        println!("{path}: {per:.2} ms per decode");
        return;
    }
    let start = std::time::Instant::now();
    let mut passed = 0;
    for _ in 0..runs {
        passed += usize::from(
            check(&photo.image, &spec).verdict == campus_photo_imaging::Verdict::Passed,
        );
    }
    let per = start.elapsed().as_secs_f64() * 1e3 / runs as f64;
    println!("{path}: {per:.2} ms per check, {passed}/{runs} passed");
}
