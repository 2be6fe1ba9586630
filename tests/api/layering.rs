//! Dependencies point one way: http → graphql → services → (events, entities, integrations,
//! storage, pure crates). A file below a layer that names a layer above it fails here, with its
//! path.
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The layers `text` names through `crate::…` paths, including those inside grouped imports
/// (`use crate::{graphql::…, http::…}`), comments aside.
fn layers_named(text: &str) -> Vec<&'static str> {
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut named = Vec::new();
    for layer in ["graphql", "http", "services"] {
        let direct = format!("crate::{layer}::");
        let mut grouped = false;
        let mut rest = code.as_str();
        while let Some(at) = rest.find("crate::{") {
            // The group runs to its matching brace; a top-level entry `layer::` names the layer.
            let group = &rest[at + "crate::{".len()..];
            let mut depth = 1;
            let mut end = group.len();
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let mut level = 0;
            let mut entry_start = true;
            let body = &group[..end];
            for (i, c) in body.char_indices() {
                match c {
                    '{' => level += 1,
                    '}' => level -= 1,
                    ',' if level == 0 => entry_start = true,
                    c if c.is_whitespace() => {}
                    _ => {
                        if entry_start && level == 0 && body[i..].starts_with(&format!("{layer}::"))
                        {
                            grouped = true;
                        }
                        entry_start = false;
                    }
                }
            }
            rest = &group[end..];
        }
        if code.contains(&direct) || grouped {
            named.push(layer);
        }
    }
    named
}

#[test]
fn no_layer_imports_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rules: [(&str, &[&str]); 6] = [
        ("config", &["graphql", "http", "services"]),
        ("services", &["graphql", "http"]),
        ("events", &["graphql", "http", "services"]),
        ("entities", &["graphql", "http", "services"]),
        ("integrations", &["graphql", "http", "services"]),
        ("graphql", &["http"]),
    ];
    let mut offences = Vec::new();
    for (layer, forbidden) in rules {
        let mut files = Vec::new();
        rust_files(&src.join(layer), &mut files);
        assert!(
            !files.is_empty(),
            "src/{layer} has no files: the check would pass vacuously"
        );
        for file in files {
            let text = std::fs::read_to_string(&file).expect("read");
            for named in layers_named(&text) {
                if forbidden.contains(&named) {
                    offences.push(format!(
                        "{} uses crate::{named}",
                        file.strip_prefix(&src).unwrap_or(&file).display()
                    ));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "upward imports:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_check_sees_direct_and_grouped_imports() {
    assert_eq!(layers_named("use crate::graphql::node::x;"), ["graphql"]);
    assert_eq!(
        layers_named("use crate::{\n    AppState,\n    http::files::signed_url,\n};"),
        ["http"]
    );
    assert_eq!(
        layers_named("let x = crate::http::ClientIp(None);"),
        ["http"]
    );
    // Nested paths that merely end in the same word are not the layer.
    assert!(layers_named("use crate::{storage::{graphql_like, http_client}};").is_empty());
    assert!(layers_named("// crate::graphql::node in a comment").is_empty());
    assert_eq!(
        layers_named("use crate::services::sessions::Viewer;"),
        ["services"]
    );
}

/// The code of `text` without line comments.
fn code_of(text: &str) -> String {
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Inside services, the money flow sits below the orders it takes money for: `payments` (whose
/// `checkout` owns pay, cancel, close-unpaid and refund for anything `Payable`) names neither
/// `orders` nor `prints`, and `orders` does not name `prints` (prints belong to an order, not the
/// other way round). Photo and print orders plug in by implementing the trait.
#[test]
fn the_money_flow_does_not_import_the_orders_it_serves() {
    let services = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/services");
    let rules: [(&str, &[&str]); 2] = [
        ("payments", &["orders::", "prints::"]),
        ("orders", &["prints::"]),
    ];
    let mut offences = Vec::new();
    for (module, forbidden) in rules {
        let mut files = Vec::new();
        rust_files(&services.join(module), &mut files);
        assert!(!files.is_empty(), "src/services/{module} has no files");
        for file in files {
            let code = code_of(&std::fs::read_to_string(&file).expect("read"));
            for path in forbidden {
                // A path segment, not the tail of another name (`print_orders::` is not `orders::`).
                let named = code.match_indices(path).any(|(at, _)| {
                    !code[..at]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                if named {
                    offences.push(format!("{} names {path}", file.display()));
                }
            }
        }
    }
    assert!(offences.is_empty(), "{}", offences.join("\n"));
}
