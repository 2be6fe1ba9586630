//! The committed SDL matches the code, and the code implements the API contract.
use std::collections::BTreeMap;

use async_graphql::parser::{
    parse_schema,
    types::{ServiceDocument, TypeKind, TypeSystemDefinition},
};

fn committed_schema_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/schema.graphql")
}

#[test]
fn committed_schema_is_current() {
    let built = campus_photo::graphql::sdl();
    let path = committed_schema_path();
    if std::env::var("UPDATE_SCHEMA").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &built).expect("write schema");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == built,
        "schema/schema.graphql is out of date: run `UPDATE_SCHEMA=1 cargo test --test api schema_contract` (or `cargo run -- schema > schema/schema.graphql`) and commit it"
    );
}

/// type name -> field name -> (type text, argument name -> type text)
type Shape = BTreeMap<String, BTreeMap<String, (String, BTreeMap<String, String>)>>;

fn shape(doc: &ServiceDocument) -> Shape {
    let mut out = Shape::new();
    for def in &doc.definitions {
        let TypeSystemDefinition::Type(t) = def else {
            continue;
        };
        let t = &t.node;
        let mut fields = BTreeMap::new();
        match &t.kind {
            TypeKind::Object(o) => {
                for f in &o.fields {
                    let args = f
                        .node
                        .arguments
                        .iter()
                        .map(|a| (a.node.name.node.to_string(), a.node.ty.node.to_string()))
                        .collect();
                    fields.insert(
                        f.node.name.node.to_string(),
                        (f.node.ty.node.to_string(), args),
                    );
                }
            }
            TypeKind::Interface(o) => {
                for f in &o.fields {
                    fields.insert(
                        f.node.name.node.to_string(),
                        (f.node.ty.node.to_string(), BTreeMap::new()),
                    );
                }
            }
            TypeKind::InputObject(o) => {
                for f in &o.fields {
                    fields.insert(
                        f.node.name.node.to_string(),
                        (f.node.ty.node.to_string(), BTreeMap::new()),
                    );
                }
            }
            TypeKind::Enum(e) => {
                for v in &e.values {
                    fields.insert(
                        v.node.value.node.to_string(),
                        (String::new(), BTreeMap::new()),
                    );
                }
            }
            _ => {}
        }
        out.insert(t.name.node.to_string(), fields);
    }
    out
}

/// Parts of the contract that later issues build. The test fails when one of them is built
/// but still listed here, so this list only shrinks.
const NOT_YET_BUILT: &[&str] = &[];

#[test]
fn contract_is_implemented_with_the_same_names_and_nullability() {
    let contract_text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/contract/core.graphql"),
    )
    .expect("schema/contract/core.graphql (a copy of ../shared/api/core.graphql)");
    let contract = shape(&parse_schema(&contract_text).expect("contract parses"));
    let ours = shape(&parse_schema(campus_photo::graphql::sdl()).expect("our SDL parses"));

    let pending = |key: &str| NOT_YET_BUILT.contains(&key);
    let mut missing = Vec::new();
    let mut mismatched = Vec::new();
    let mut built_but_listed = Vec::new();
    for (type_name, fields) in &contract {
        let Some(our_fields) = ours.get(type_name) else {
            if !pending(type_name) {
                missing.push(type_name.clone());
            }
            continue;
        };
        if pending(type_name) {
            built_but_listed.push(type_name.clone());
        }
        for (field, (ty, args)) in fields {
            let key = format!("{type_name}.{field}");
            match our_fields.get(field) {
                None if pending(&key) => {}
                None => missing.push(key),
                Some((our_ty, our_args)) => {
                    if pending(&key) {
                        built_but_listed.push(key.clone());
                    }
                    if our_ty != ty {
                        mismatched.push(format!("{key}: contract {ty}, ours {our_ty}"));
                    }
                    for (arg, arg_ty) in args {
                        match our_args.get(arg) {
                            None => missing.push(format!("{key}({arg})")),
                            Some(t) if t != arg_ty => mismatched
                                .push(format!("{key}({arg}): contract {arg_ty}, ours {t}")),
                            Some(_) => {}
                        }
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "missing from our schema: {missing:#?}");
    assert!(
        mismatched.is_empty(),
        "type or nullability differs: {mismatched:#?}"
    );
    assert!(
        built_but_listed.is_empty(),
        "built now, remove from NOT_YET_BUILT: {built_but_listed:#?}"
    );
}

#[test]
fn contract_copy_matches_shared_when_present() {
    let shared =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/api/core.graphql");
    let Ok(shared) = std::fs::read_to_string(shared) else {
        // A clone without shared/ beside it: the committed copy is the contract.
        return;
    };
    let copy = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/contract/core.graphql"),
    )
    .expect("copy");
    assert_eq!(
        copy, shared,
        "schema/contract/core.graphql differs from ../shared/api/core.graphql: copy it again"
    );
}
