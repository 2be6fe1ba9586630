//! Every image in tests/fixtures/qr must give what labels.json says:
//! the exact `text`, or the API `error` code after reading and verifying
//! with the fixture key (keys.json).
//!
//! All 20 images that carry a `text` are asserted, including the 5 marked
//! `stretch` (small modules under heavy blur, read by none of zbar, OpenCV
//! or plain rqrr when the fixtures were made): this reader decodes all of
//! them (see the benchmark, benches/qr_decode.rs).

use std::path::PathBuf;
use std::time::Duration;

use campus_photo_codes::{Claims, KeyRing, read_qr};
use serde_json::Value;

/// After the fixtures' `iat` (1795300515), before their `exp` (1889994915).
const NOW: i64 = 1_795_300_600;

/// Generous: debug builds are many times slower than release, and the
/// outcome must not depend on the machine's speed.
const BUDGET: Duration = Duration::from_secs(300);

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/qr")
}

fn json(name: &str) -> Value {
    let bytes = std::fs::read(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn keyring() -> KeyRing {
    let keys = json("keys.json");
    let config = keys["config"].as_str().expect("keys.json has config");
    assert!(config.starts_with("chsi-fixture:f1:"));
    KeyRing::parse(config).expect("fixture key parses")
}

/// What reading then verifying an image gave: the text read, and the claims
/// or the API error code.
type Outcome = (Option<String>, Result<Claims, &'static str>);

/// What the API would answer for an image.
fn outcome(ring: &KeyRing, name: &str) -> Outcome {
    let img = image::open(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    match read_qr(&img, BUDGET) {
        Err(e) => (None, Err(e.code())),
        Ok(text) => {
            let verified = ring.verify(&text, NOW).map_err(|e| e.code());
            (Some(text), verified)
        }
    }
}

#[test]
fn every_fixture_image_gives_its_label() {
    let labels = json("labels.json");
    let claims = json("claims.json");
    let ring = keyring();
    let entries: Vec<(String, Value)> = labels
        .as_object()
        .expect("labels.json is an object")
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert!(
        entries.len() >= 26,
        "labels.json lists {} images",
        entries.len()
    );

    // Decode on all cores: the 12-megapixel images dominate in debug builds.
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunks: Vec<Vec<(String, Value)>> = (0..threads)
        .map(|t| entries.iter().skip(t).step_by(threads).cloned().collect())
        .collect();
    let results: Vec<(String, Value, Outcome)> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                let ring = &ring;
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|(name, label)| (name.clone(), label.clone(), outcome(ring, name)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("decoder thread panicked"))
            .collect()
    });

    let mut failures = Vec::new();
    for (name, label, (text, verified)) in &results {
        if let Some(expected) = label.get("text").and_then(Value::as_str) {
            if text.as_deref() != Some(expected) {
                failures.push(format!("{name}: expected its text, got {text:?}"));
                continue;
            }
            let want: Claims = serde_json::from_value(claims[name.as_str()].clone())
                .unwrap_or_else(|e| panic!("claims.json[{name}]: {e}"));
            if verified.as_ref() != Ok(&want) {
                failures.push(format!("{name}: verification gave {verified:?}"));
            }
        } else if let Some(code) = label.get("error").and_then(Value::as_str) {
            if verified.as_ref().err() != Some(&code) {
                failures.push(format!("{name}: expected {code}, got {verified:?}"));
            }
        } else {
            failures.push(format!("{name}: label has neither text nor error"));
        }
    }
    assert!(
        failures.is_empty(),
        "fixture failures:\n{}",
        failures.join("\n")
    );
}

#[test]
fn no_qr_image_is_not_found_rather_than_timed_out() {
    let img = image::open(dir().join("no_qr.jpg")).expect("fixture opens");
    assert_eq!(
        read_qr(&img, BUDGET),
        Err(campus_photo_codes::QrReadError::NotFound)
    );
}

#[test]
fn a_spent_budget_times_out() {
    let img = image::open(dir().join("no_qr.jpg")).expect("fixture opens");
    assert_eq!(
        read_qr(&img, Duration::ZERO),
        Err(campus_photo_codes::QrReadError::TimedOut)
    );
}
