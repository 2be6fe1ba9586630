//! Every label of tests/fixtures/photos/labels.json, checked.

mod common;

use campus_photo_imaging::{CheckSpec, DecodeLimits, Severity, Verdict, check, decode_upload};
use serde_json::Value;

#[test]
fn every_fixture_label_holds() {
    let labels: Value =
        serde_json::from_slice(&common::fixture_bytes("labels.json")).expect("labels.json parses");
    let labels = labels.as_object().expect("labels.json is an object");
    assert!(labels.len() >= 30, "expected the full fixture set");
    let spec = CheckSpec::default();
    let mut failures = Vec::new();
    for (name, label) in labels {
        let verdict = label["verdict"].as_str().unwrap_or_default();
        let decoded = decode_upload(&common::fixture_bytes(name), &DecodeLimits::default());
        if verdict == "REJECTED_UPLOAD" {
            match decoded {
                Err(e) if Some(e.code()) == label["code"].as_str() => {}
                Err(e) => failures.push(format!("{name}: refused with {} ({e})", e.code())),
                Ok(_) => failures.push(format!("{name}: accepted, expected FMT_FILE")),
            }
            continue;
        }
        let photo = match decoded {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{name}: refused at upload ({e})"));
                continue;
            }
        };
        let report = check(&photo.image, &spec);
        let errors: Vec<&str> = report
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .map(|i| i.code)
            .collect();
        let codes = |key: &str| -> Vec<String> {
            label[key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        match verdict {
            "PASSED" => {
                if report.verdict != Verdict::Passed {
                    failures.push(format!("{name}: expected PASSED, errors {errors:?}"));
                }
            }
            "FAILED" => {
                if report.verdict != Verdict::Failed {
                    failures.push(format!("{name}: expected FAILED, passed"));
                }
                for code in codes("must_include") {
                    if !errors.contains(&code.as_str()) {
                        failures.push(format!("{name}: missing {code} among errors {errors:?}"));
                    }
                }
                let any = codes("must_include_any");
                if !any.is_empty() && !any.iter().any(|c| errors.contains(&c.as_str())) {
                    failures.push(format!("{name}: none of {any:?} among errors {errors:?}"));
                }
            }
            // No verdict required (the keystone photo: a flat warp, not a head pitch).
            "EITHER" => {}
            other => failures.push(format!("{name}: unknown verdict {other}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
