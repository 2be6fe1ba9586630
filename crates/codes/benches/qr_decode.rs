//! Decode every fixture image in tests/fixtures/qr several times and print a
//! table: file, size, median ms per decode, decoded or not, how.
//!
//! `cargo bench -p campus-photo-codes --bench qr_decode`
//! Env: `QR_BENCH_RUNS` (default 5), `QR_BENCH_FILTER` (substring of names),
//! `QR_BENCH_BUDGET_MS` (default 5000).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use campus_photo_codes::KeyRing;
use campus_photo_codes::qr_read::read_qr_with_stats;

/// After the fixtures' `iat`, before their `exp` (as in tests/fixtures.rs).
const NOW: i64 = 1_795_300_600;

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/qr");
    let labels: serde_json::Value = match std::fs::read(dir.join("labels.json"))
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => {
            eprintln!("cannot read labels.json: {e}");
            std::process::exit(1);
        }
    };
    let ring = std::fs::read(dir.join("keys.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|k| k["config"].as_str().and_then(|c| KeyRing::parse(c).ok()));
    let Some(ring) = ring else {
        eprintln!("cannot read the fixture key from keys.json");
        std::process::exit(1);
    };
    let runs: usize = env_or("QR_BENCH_RUNS", 5);
    let budget = Duration::from_millis(env_or("QR_BENCH_BUDGET_MS", 5000));
    let filter = std::env::var("QR_BENCH_FILTER").unwrap_or_default();
    let Some(entries) = labels.as_object() else {
        eprintln!("labels.json is not an object");
        std::process::exit(1);
    };

    println!(
        "{:<24} {:>11} {:>9} {:>8}  {:<24} {:>6}  {:<8} how",
        "file", "size", "ms(med)", "decoded", "api outcome", "label", "kind"
    );
    let (mut normal, mut normal_ok, mut stretch, mut stretch_ok) = (0, 0, 0, 0);
    let (mut errors, mut errors_ok) = (0, 0);
    for (name, label) in entries {
        if !name.contains(&filter) {
            continue;
        }
        let img = match image::open(dir.join(name)) {
            Ok(img) => img,
            Err(e) => {
                println!("{name:<24} cannot open: {e}");
                continue;
            }
        };
        let expected = label.get("text").and_then(|t| t.as_str());
        let is_stretch = label.get("stretch").and_then(|s| s.as_bool()) == Some(true);
        let mut times = Vec::with_capacity(runs);
        let mut last = None;
        for _ in 0..runs {
            let t = Instant::now();
            let out = read_qr_with_stats(&img, budget);
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            last = Some(out);
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let Some((result, stats)) = last else {
            continue;
        };
        let decoded = result.as_ref().ok();
        // What the API would answer: the claims, or an error code.
        let api = match &result {
            Ok(text) => match ring.verify(text, NOW) {
                Ok(_) => "valid",
                Err(e) => e.code(),
            },
            Err(e) => e.code(),
        };
        let expected_error = label.get("error").and_then(|e| e.as_str());
        let correct = match (expected, expected_error) {
            (Some(t), _) => decoded.map(String::as_str) == Some(t),
            (None, Some(code)) => api == code,
            (None, None) => false,
        };
        let kind = match (expected, is_stretch) {
            (Some(_), true) => "stretch",
            (Some(_), false) => "read",
            (None, _) => "error",
        };
        if expected.is_none() {
            errors += 1;
            errors_ok += correct as usize;
        } else {
            if is_stretch {
                stretch += 1;
                stretch_ok += correct as usize;
            } else {
                normal += 1;
                normal_ok += correct as usize;
            }
        }
        let how = match (&result, &stats.decoded_by) {
            (Ok(_), Some(by)) => format!("{by} ({} attempts)", stats.attempts),
            (Err(e), _) => format!(
                "{e} ({} attempts, {} grids undecoded)",
                stats.attempts, stats.undecoded_grids
            ),
            (Ok(_), None) => String::new(),
        };
        println!(
            "{:<24} {:>11} {:>9.1} {:>8}  {:<24} {:>6}  {:<8} {}",
            name,
            format!("{}x{}", img.width(), img.height()),
            median,
            if decoded.is_some() { "yes" } else { "no" },
            api,
            if correct { "ok" } else { "MISS" },
            kind,
            how
        );
    }
    println!();
    println!("should decode (non-stretch): {normal_ok}/{normal}");
    println!("stretch:                     {stretch_ok}/{stretch}");
    println!("error labels (read+verify):  {errors_ok}/{errors}");
}

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
