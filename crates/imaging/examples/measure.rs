//! Prints every measure of the check for each photo given (or every fixture), with the
//! fixture's label, and writes the renders to a folder when one is given with --render DIR.
//!
//! cargo run --release -p campus-photo-imaging --example measure [-- --render /tmp/out] [FILES...]

use std::path::{Path, PathBuf};

use campus_photo_imaging::{
    CheckSpec, DecodeLimits, JpegQuality, Severity, check, decode_upload, render_standard,
};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let render_dir = match args.iter().position(|a| a == "--render") {
        Some(i) if i + 1 < args.len() => {
            let dir = args.remove(i + 1);
            args.remove(i);
            Some(PathBuf::from(dir))
        }
        _ => None,
    };
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/photos");
    let labels: serde_json::Value = std::fs::read(fixtures.join("labels.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(serde_json::Value::Null);
    let mut files: Vec<PathBuf> = args.iter().map(PathBuf::from).collect();
    if files.is_empty() {
        let mut names: Vec<String> = labels
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        files = names.iter().map(|n| fixtures.join(n)).collect();
    }
    let spec = CheckSpec::default();
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let label = labels.get(&name).map(|l| l.to_string()).unwrap_or_default();
        let Ok(bytes) = std::fs::read(&path) else {
            println!("{name}: unreadable");
            continue;
        };
        let photo = match decode_upload(&bytes, &DecodeLimits::default()) {
            Ok(p) => p,
            Err(e) => {
                println!("{name}: REJECTED {} ({e})   label {label}", e.code());
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
        let warnings: Vec<&str> = report
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Warning)
            .map(|i| i.code)
            .collect();
        println!(
            "{name}: {:?} errors {errors:?} warnings {warnings:?}   label {label}",
            report.verdict
        );
        let measures: Vec<String> = report
            .measures
            .iter()
            .map(|m| format!("{}={:.3}", m.name, m.value))
            .collect();
        println!("    {}", measures.join(" "));
        if let (Some(dir), Some(face)) = (&render_dir, &report.face) {
            match render_standard(&photo.image, face, [100, 197, 255], JpegQuality::default()) {
                Ok(r) => {
                    let out = dir.join(name.replace(".jpg", "").replace(".png", "") + ".jpg");
                    let _ = std::fs::write(&out, &r.jpeg);
                    println!("    render {} bytes q{}", r.jpeg.len(), r.quality);
                }
                Err(e) => println!("    render failed: {e}"),
            }
        }
    }
}
