//! Bundles the playground's third-party JavaScript (GraphiQL, React, graphql-ws, and Chart.js for the
//! dashboard's charts; declared in
//! playground/package.json and its lock file) with esbuild into OUT_DIR, where the binary embeds
//! it. Without npm (or with CAMPUS_PHOTO_SKIP_NPM=1) the bundle is empty and /playground loads
//! GraphiQL from its CDN instead, saying what to install. Also lists playground/examples/.
use std::{
    env, fs,
    hash::{DefaultHasher, Hash, Hasher},
    io,
    path::{Path, PathBuf},
    process::Command,
};

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let playground = manifest.join("playground");
    for input in [
        "playground/package.json",
        "playground/package-lock.json",
        "playground/build.mjs",
        "playground/src",
        "playground/examples",
    ] {
        println!("cargo:rerun-if-changed={input}");
    }
    println!("cargo:rerun-if-env-changed=CAMPUS_PHOTO_SKIP_NPM");

    let examples = list_examples(&playground.join("examples")).expect("playground/examples");
    let mut source =
        String::from("/// playground/examples/*.graphql in order: (file name, text).\n");
    source.push_str("pub const EXAMPLES: &[(&str, &str)] = &[\n");
    for (name, path) in &examples {
        source.push_str(&format!("    ({name:?}, include_str!({path:?})),\n"));
    }
    source.push_str("];\n");

    let bundle_dir = out.join("playground");
    fs::create_dir_all(&bundle_dir).expect("OUT_DIR/playground");
    let bundled = match bundle(&playground, &bundle_dir) {
        Ok(()) => true,
        Err(why) => {
            println!(
                "cargo:warning=playground not bundled ({why}); /playground will load GraphiQL from \
                 its CDN. Install Node.js (>= 18) with npm, then `touch playground/package.json` \
                 and build again to serve it from the binary."
            );
            for file in [
                "playground.js",
                "playground.css",
                "playground.js.gz",
                "playground.css.gz",
                "charts.js",
                "charts.js.gz",
            ] {
                fs::write(bundle_dir.join(file), b"").expect("write empty bundle");
            }
            false
        }
    };
    let js = bundle_dir.join("playground.js");
    let css = bundle_dir.join("playground.css");
    let mut hasher = DefaultHasher::new();
    fs::read(&js).expect("read bundle").hash(&mut hasher);
    fs::read(&css).expect("read bundle").hash(&mut hasher);
    source.push_str(&format!(
        "/// Whether npm bundled GraphiQL into the binary.\npub const BUNDLED: bool = {bundled};\n\
         /// Changes with the bundle: part of the asset URLs, so they can be cached for good.\n\
         pub const VERSION: &str = \"{:016x}\";\n\
         pub const JS: &[u8] = include_bytes!({js:?});\n\
         pub const CSS: &[u8] = include_bytes!({css:?});\n\
         pub const JS_GZ: &[u8] = include_bytes!({js_gz:?});\n\
         pub const CSS_GZ: &[u8] = include_bytes!({css_gz:?});\n\
         /// The dashboard's chart library (Chart.js); empty without npm.\n\
         pub const CHARTS_JS: &[u8] = include_bytes!({charts:?});\n\
         pub const CHARTS_JS_GZ: &[u8] = include_bytes!({charts_gz:?});\n",
        hasher.finish(),
        js_gz = bundle_dir.join("playground.js.gz"),
        css_gz = bundle_dir.join("playground.css.gz"),
        charts = bundle_dir.join("charts.js"),
        charts_gz = bundle_dir.join("charts.js.gz"),
    ));
    fs::write(out.join("playground_assets.rs"), source).expect("write playground_assets.rs");
}

fn list_examples(dir: &Path) -> io::Result<Vec<(String, PathBuf)>> {
    let mut examples = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "graphql")
            && let Some(name) = path.file_name().and_then(|n| n.to_str())
        {
            examples.push((name.to_owned(), path.clone()));
        }
    }
    examples.sort();
    Ok(examples)
}

fn bundle(playground: &Path, out: &Path) -> Result<(), String> {
    if env::var_os("CAMPUS_PHOTO_SKIP_NPM").is_some_and(|v| !v.is_empty() && v != "0") {
        return Err("CAMPUS_PHOTO_SKIP_NPM is set".into());
    }
    run(Command::new("npm").arg("--version"), "npm --version")?;
    // `npm ci` only when node_modules is missing or older than the lock file.
    let installed = playground.join("node_modules/.package-lock.json");
    let lock = playground.join("package-lock.json");
    let fresh = match (fs::metadata(&installed), fs::metadata(&lock)) {
        (Ok(i), Ok(l)) => match (i.modified(), l.modified()) {
            (Ok(i), Ok(l)) => i >= l,
            _ => false,
        },
        _ => false,
    };
    if !fresh {
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(playground),
            "npm ci",
        )?;
    }
    run(
        Command::new("node")
            .arg("build.mjs")
            .arg(out)
            .current_dir(playground),
        "node build.mjs",
    )
}

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("`{what}` could not start: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(format!(
        "`{what}` failed with {}: {}",
        output.status,
        tail.join(" / ")
    ))
}
