//! Errors shaped as clients expect them (Apollo Server's codes, the GraphQL spec's nulls):
//!
//! - every error has `extensions.code`: `GRAPHQL_PARSE_FAILED` for a document that does not parse,
//!   `GRAPHQL_VALIDATION_FAILED` for one that does not validate, `BAD_USER_INPUT` for variables
//!   (and argument values) that do not fit their types, `OPERATION_RESOLUTION_FAILURE` for an
//!   unknown or missing operation name, `INTERNAL_SERVER_ERROR` for anything else not coded where
//!   it arose (the service's own errors carry their codes from `error.rs`);
//! - a field whose resolver fails is `null` when its type is nullable (async-graphql leaves the
//!   key out), with its error listed, as the spec says; a non-null field's error still nulls its
//!   nearest nullable parent.
use std::collections::HashSet;

use async_graphql::{
    Name, PathSegment, Pos, ServerError, Value,
    parser::types::{ExecutableDocument, Selection},
    registry::{MetaField, MetaType, Registry},
};

use super::request_shape::{any_selection, directives_of};

pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
pub const OPERATION_RESOLUTION_FAILURE: &str = "OPERATION_RESOLUTION_FAILURE";
pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";

/// Sets `extensions.code` unless the error has one.
pub fn set_code(error: &mut ServerError, code: &str) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
}

fn has_code(error: &ServerError) -> bool {
    error
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some())
}

/// The code of an error raised while the operation ran and not coded where it arose.
fn execution_code(error: &ServerError) -> &'static str {
    let message = error.message.as_str();
    if message.starts_with("Failed to parse")
        || message.starts_with("Invalid value for argument")
        || (message.starts_with("Variable ") && message.ends_with("is not defined."))
    {
        BAD_USER_INPUT
    } else {
        INTERNAL_SERVER_ERROR
    }
}

/// Codes every error not coded where it arose: as an execution error when the operation ran,
/// otherwise as the operation not being found (an unknown or missing operation name is the only
/// refusal that reaches here uncoded).
pub fn code_all(errors: &mut [ServerError], executed: bool) {
    for error in errors {
        if has_code(error) {
            continue;
        }
        let code = if executed {
            execution_code(error)
        } else {
            OPERATION_RESOLUTION_FAILURE
        };
        set_code(error, code);
    }
}

/// Codes validation errors: an invalid value given through a variable is the caller's input
/// (`BAD_USER_INPUT`), anything else the document's (`GRAPHQL_VALIDATION_FAILED`).
pub fn code_validation_errors(errors: &mut [ServerError], variable_arguments: &HashSet<Pos>) {
    for error in errors {
        let from_variable = error.message.starts_with("Invalid value for argument")
            && error
                .locations
                .iter()
                .any(|at| variable_arguments.contains(at));
        set_code(
            error,
            if from_variable {
                BAD_USER_INPUT
            } else {
                GRAPHQL_VALIDATION_FAILED
            },
        );
    }
}

/// Response keys that are aliases, with the field each names (in operations and fragments).
pub fn aliases(document: &ExecutableDocument) -> Vec<(Name, Name)> {
    let mut found = Vec::new();
    any_selection(document, |selection| {
        if let Selection::Field(field) = selection
            && let Some(alias) = &field.node.alias
        {
            found.push((alias.node.clone(), field.node.name.node.clone()));
        }
        false
    });
    found
}

/// The field a response key names on a type: through an alias when one of the document's
/// aliases is that key and names a field of the type, otherwise the field of that name. On an
/// interface or a union, the field of the first possible type that has it.
fn field_of<'r>(
    registry: &'r Registry,
    type_name: &str,
    key: &str,
    aliases: &[(Name, Name)],
) -> Option<&'r MetaField> {
    let ty = registry.types.get(type_name)?;
    let on = |ty: &'r MetaType| {
        aliases
            .iter()
            .filter(|(alias, _)| alias.as_str() == key)
            .find_map(|(_, name)| ty.field_by_name(name))
            .or_else(|| ty.field_by_name(key))
    };
    match ty {
        MetaType::Interface { possible_types, .. } | MetaType::Union { possible_types, .. } => {
            on(ty).or_else(|| {
                possible_types
                    .iter()
                    .filter_map(|name| registry.types.get(name))
                    .find_map(on)
            })
        }
        _ => on(ty),
    }
}

/// The named type inside a type reference: `[Order!]!` → `Order`.
fn named(ty: &str) -> &str {
    ty.trim_matches(|c| c == '[' || c == ']' || c == '!')
}

/// The element type of a list type reference: `[Order!]!` → `Order!`.
fn element(ty: &str) -> Option<&str> {
    ty.trim_end_matches('!')
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
}

/// Where a failing field's error leaves the answer, as the GraphQL spec says: a nullable field
/// is `null`; a non-null one makes its nearest nullable ancestor `null` (the whole `data` when
/// there is none). async-graphql itself leaves a failing field's key out of its object; this runs
/// after execution, on the errors' paths, so that no field pays for it when nothing failed.
pub fn place_nulls(
    data: &mut Value,
    errors: &[ServerError],
    registry: &Registry,
    root: &str,
    aliases: &[(Name, Name)],
) {
    for error in errors {
        let path = &error.path;
        if path.is_empty() {
            continue;
        }
        // Whether each position of the path may be null.
        let mut nullable = Vec::with_capacity(path.len());
        let mut ty = root;
        for segment in path {
            let next = match segment {
                PathSegment::Field(key) => {
                    field_of(registry, named(ty), key, aliases).map(|f| f.ty.as_str())
                }
                PathSegment::Index(_) => element(ty),
            };
            let Some(next) = next else {
                break;
            };
            nullable.push(!next.ends_with('!'));
            ty = next;
        }
        if nullable.len() != path.len() {
            continue;
        }
        let at = nullable.iter().rposition(|n| *n);
        match at {
            Some(i) => set_null(data, &path[..=i]),
            None => *data = Value::Null,
        }
    }
}

/// Sets the value at `path` to null, unless the answer already has it or an ancestor is null.
fn set_null(data: &mut Value, path: &[PathSegment]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = data;
    for segment in parents {
        let next = match (segment, at) {
            (PathSegment::Field(key), Value::Object(fields)) => fields.get_mut(key.as_str()),
            (PathSegment::Index(i), Value::List(items)) => items.get_mut(*i),
            _ => None,
        };
        match next {
            Some(value) => at = value,
            // An ancestor was nulled already.
            None => return,
        }
    }
    match (last, at) {
        (PathSegment::Field(key), Value::Object(fields)) => {
            let slot = fields.entry(Name::new(key)).or_insert(Value::Null);
            *slot = Value::Null;
        }
        (PathSegment::Index(i), Value::List(items)) => {
            if let Some(item) = items.get_mut(*i) {
                *item = Value::Null;
            }
        }
        _ => {}
    }
}

/// The positions of the argument names (of fields and directives, in operations and fragments)
/// whose value is or holds a variable.
pub fn arguments_with_variables(document: &ExecutableDocument) -> HashSet<Pos> {
    use async_graphql::parser::Positioned;
    use async_graphql_value::Value as Literal;
    fn uses_variable(value: &Literal) -> bool {
        let mut stack = vec![value];
        while let Some(v) = stack.pop() {
            match v {
                Literal::Variable(_) => return true,
                Literal::List(items) => stack.extend(items.iter()),
                Literal::Object(fields) => stack.extend(fields.values()),
                _ => {}
            }
        }
        false
    }
    let mut found = HashSet::new();
    let mut note = |arguments: &[(Positioned<Name>, Positioned<Literal>)]| {
        for (name, value) in arguments {
            if uses_variable(&value.node) {
                found.insert(name.pos);
            }
        }
    };
    any_selection(document, |selection| {
        if let Selection::Field(field) = selection {
            note(&field.node.arguments);
        }
        for directive in directives_of(selection) {
            note(&directive.node.arguments);
        }
        false
    });
    found
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, OutputType, Schema};
    use serde_json::{Value as Json, json};

    use super::*;

    struct Query;
    struct Inner;

    #[Object]
    impl Inner {
        async fn ok(&self) -> i32 {
            1
        }
        async fn must(&self) -> async_graphql::Result<i32> {
            Err("must failed".into())
        }
        async fn may(&self) -> async_graphql::Result<Option<i32>> {
            Err("may failed".into())
        }
    }

    #[Object]
    impl Query {
        async fn inner(&self) -> Option<Inner> {
            Some(Inner)
        }
        async fn list(&self) -> Vec<Option<Inner>> {
            vec![Some(Inner), Some(Inner)]
        }
        async fn strict(&self) -> Inner {
            Inner
        }
        async fn fine(&self) -> i32 {
            2
        }
    }

    /// Runs `query` on a schema with no extension, then places the nulls as the pipeline does.
    async fn answer(query: &str) -> Json {
        let mut registry = Registry::default();
        <Query as OutputType>::create_type_info(&mut registry);
        registry.query_type = "Query".into();
        let schema = Schema::new(Query, EmptyMutation, EmptySubscription);
        let mut response = schema.execute(query).await;
        assert!(!response.errors.is_empty(), "{query} fails somewhere");
        let document = async_graphql::parser::parse_query(query).expect("parses");
        let aliases = aliases(&document);
        place_nulls(
            &mut response.data,
            &response.errors,
            &registry,
            "Query",
            &aliases,
        );
        response.data.into_json().expect("json")
    }

    #[tokio::test]
    async fn a_failing_nullable_field_is_null_beside_its_siblings() {
        let data = answer("{ inner { ok may } fine }").await;
        assert_eq!(
            data,
            json!({ "inner": { "ok": 1, "may": null }, "fine": 2 })
        );
    }

    #[tokio::test]
    async fn a_failing_non_null_field_nulls_its_nearest_nullable_parent() {
        let data = answer("{ inner { ok must } fine }").await;
        assert_eq!(data, json!({ "inner": null, "fine": 2 }));
        // In a list of nullable items, the item is that parent.
        let data = answer("{ list { ok must } }").await;
        assert_eq!(data, json!({ "list": [null, null] }));
    }

    #[tokio::test]
    async fn with_no_nullable_parent_the_whole_data_is_null() {
        let data = answer("{ strict { must } fine }").await;
        assert_eq!(data, Json::Null);
    }

    #[tokio::test]
    async fn aliases_are_followed_to_their_fields() {
        let data = answer("{ a: inner { m: may n: ok } b: inner { must } }").await;
        assert_eq!(data, json!({ "a": { "m": null, "n": 1 }, "b": null }));
    }
}
