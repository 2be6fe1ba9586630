//! Bounds on a request's shape that must hold before the parser or the validator sees it.
//!
//! async-graphql's parser recurses once per nested value (`[[[…]]]`, `{a:{a:…}}`) and per
//! selection set, so a few kilobytes of brackets overflow a worker's stack and abort the whole
//! process; its validator walks fragment spreads without memoising them, so a kilobyte of
//! fragments that each spread the next one twice costs seconds and a gigabyte. Neither is caught
//! by the depth and complexity limits, which run after both. The checks here are linear in the
//! size of the text and run first: on HTTP in the handler (answering 400), and for every
//! transport in [`prepare`], which the schema's extension runs before parsing (so WebSocket
//! operations are bounded too).
use std::collections::HashMap;

use async_graphql::{
    ErrorExtensionValues, Pos, Request, ServerError, ServerResult, Value, Variables,
    parser::{
        Positioned,
        types::{Directive, ExecutableDocument, Selection, SelectionSet},
    },
};

/// Deepest bracket nesting (`{`, `[`, `(`) a document may have, and the deepest nesting of its
/// variables. The deepest legitimate document here is the standard introspection query (about
/// 14: `ofType` nested eight times inside its fragments); the parser copes with hundreds.
pub const MAX_NESTING: usize = 64;

/// Most fields an operation may select once every fragment spread is expanded. The standard
/// introspection query expands to about 200, the order page to under 100.
pub const MAX_EXPANDED_FIELDS: usize = 5_000;

pub const NESTING_TOO_DEEP: &str = "NESTING_TOO_DEEP";
pub const TOO_MANY_FIELDS: &str = "TOO_MANY_FIELDS";
pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";

/// Why a request was refused before parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn too_deep(what: &str) -> Self {
        Self {
            code: NESTING_TOO_DEEP,
            message: format!("{what} nests deeper than {MAX_NESTING} levels"),
        }
    }

    fn nul() -> Self {
        Self {
            code: BAD_USER_INPUT,
            message: "文本中不能含有空字符（NUL）".into(),
        }
    }

    pub fn into_server_error(self) -> ServerError {
        let mut error = ServerError::new(self.message, None::<Pos>);
        let mut extensions = ErrorExtensionValues::default();
        extensions.set("code", self.code);
        error.extensions = Some(extensions);
        error
    }
}

/// The deepest bracket nesting of a GraphQL document, ignoring brackets inside strings, block
/// strings and comments. Stops counting as soon as `limit` is passed.
pub fn document_nesting(text: &str, limit: usize) -> Result<(), Refusal> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                // Block string: ends at the next unescaped `"""`.
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > limit {
                    return Err(Refusal::too_deep("the document"));
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// The deepest nesting of a JSON text (objects and arrays, strings skipped), without parsing it.
pub fn json_nesting(bytes: &[u8], limit: usize) -> Result<(), Refusal> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > limit {
                    return Err(Refusal::too_deep("the request body"));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// The nesting of the variables, walked without recursion.
pub fn check_variables(variables: &Variables, limit: usize) -> Result<(), Refusal> {
    let mut stack: Vec<(&Value, usize)> = variables.values().map(|v| (v, 1)).collect();
    while let Some((value, depth)) = stack.pop() {
        if depth > limit {
            return Err(Refusal::too_deep("the variables"));
        }
        match value {
            Value::List(items) => stack.extend(items.iter().map(|v| (v, depth + 1))),
            Value::Object(fields) => stack.extend(fields.values().map(|v| (v, depth + 1))),
            _ => {}
        }
    }
    Ok(())
}

/// No NUL in any string of the variables. PostgreSQL refuses NUL in text (an internal error)
/// and SQLite would store it: either way it is the user's input to fix. (Runs after
/// `check_variables`, so the walk is bounded.)
pub fn check_nul_in_variables(variables: &Variables) -> Result<(), Refusal> {
    let mut stack: Vec<&Value> = variables.values().collect();
    while let Some(value) = stack.pop() {
        match value {
            Value::String(s) if s.contains('\0') => return Err(Refusal::nul()),
            Value::List(items) => stack.extend(items.iter()),
            Value::Object(fields) => {
                if fields.keys().any(|k| k.contains('\0')) {
                    return Err(Refusal::nul());
                }
                stack.extend(fields.values());
            }
            _ => {}
        }
    }
    Ok(())
}

/// The nesting checks that run on the raw text of one request, before any parsing.
pub fn check_request(query: &str, variables: &Variables) -> Result<(), Refusal> {
    document_nesting(query, MAX_NESTING)?;
    check_variables(variables, MAX_NESTING)
}

/// The number of fields each operation selects with fragments expanded, the largest of them.
/// Each fragment is counted once and memoised, so the count costs time linear in the document
/// even when the expansion is exponential. A spread of an unknown or cyclic fragment counts as
/// nothing here: validation refuses it afterwards.
pub fn expanded_fields(document: &ExecutableDocument) -> usize {
    let mut memo: HashMap<&str, usize> = HashMap::new();
    document
        .operations
        .iter()
        .map(|(_, op)| count_selection(&op.node.selection_set.node, document, &mut memo, 0))
        .max()
        .unwrap_or(0)
}

fn count_selection<'a>(
    set: &'a SelectionSet,
    document: &'a ExecutableDocument,
    memo: &mut HashMap<&'a str, usize>,
    fragment_depth: usize,
) -> usize {
    // Fragments nest at most as deep as the document's brackets allow; past that it is a cycle.
    if fragment_depth > MAX_NESTING {
        return 0;
    }
    let mut total = 0usize;
    for item in &set.items {
        let add = match &item.node {
            Selection::Field(field) => 1usize.saturating_add(count_selection(
                &field.node.selection_set.node,
                document,
                memo,
                fragment_depth,
            )),
            Selection::InlineFragment(fragment) => count_selection(
                &fragment.node.selection_set.node,
                document,
                memo,
                fragment_depth,
            ),
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                if let Some(&known) = memo.get(name) {
                    known
                } else if let Some(fragment) = document.fragments.get(name) {
                    // Mark it in progress so a cycle ends here instead of looping.
                    memo.insert(name, 0);
                    let n = count_selection(
                        &fragment.node.selection_set.node,
                        document,
                        memo,
                        fragment_depth + 1,
                    );
                    memo.insert(name, n);
                    n
                } else {
                    0
                }
            }
        };
        total = total.saturating_add(add);
    }
    total
}

/// Visits every selection of the document's operations and fragments, until `visit` answers
/// true; answers whether it did. Walks with a stack of its own, not by recursion, so a deep
/// document cannot overflow a worker's stack; a fragment's selections are visited where it is
/// defined, not at each spread.
pub fn any_selection<'a>(
    document: &'a ExecutableDocument,
    mut visit: impl FnMut(&'a Selection) -> bool,
) -> bool {
    let mut sets: Vec<&SelectionSet> = document
        .operations
        .iter()
        .map(|(_, op)| &op.node.selection_set.node)
        .chain(
            document
                .fragments
                .values()
                .map(|f| &f.node.selection_set.node),
        )
        .collect();
    while let Some(set) = sets.pop() {
        for item in &set.items {
            if visit(&item.node) {
                return true;
            }
            match &item.node {
                Selection::Field(field) => sets.push(&field.node.selection_set.node),
                Selection::InlineFragment(fragment) => sets.push(&fragment.node.selection_set.node),
                Selection::FragmentSpread(_) => {}
            }
        }
    }
    false
}

/// The directives a selection carries.
pub fn directives_of(selection: &Selection) -> &[Positioned<Directive>] {
    match selection {
        Selection::Field(field) => &field.node.directives,
        Selection::InlineFragment(fragment) => &fragment.node.directives,
        Selection::FragmentSpread(spread) => &spread.node.directives,
    }
}

/// A NUL in any string literal of the document (`"\u0000"`), found after parsing because it is
/// an escape in the text. Walks arguments of fields and directives in operations and fragments.
fn document_has_nul(document: &ExecutableDocument) -> bool {
    use async_graphql_value::Value as Literal;
    fn has_nul(value: &Literal) -> bool {
        let mut stack = vec![value];
        while let Some(v) = stack.pop() {
            match v {
                Literal::String(s) if s.contains('\0') => return true,
                Literal::List(items) => stack.extend(items.iter()),
                Literal::Object(fields) => stack.extend(fields.values()),
                _ => {}
            }
        }
        false
    }
    any_selection(document, |selection| {
        let in_arguments = match selection {
            Selection::Field(field) => field.node.arguments.iter().any(|(_, v)| has_nul(&v.node)),
            _ => false,
        };
        in_arguments
            || directives_of(selection)
                .iter()
                .any(|d| d.node.arguments.iter().any(|(_, v)| has_nul(&v.node)))
    })
}

/// The same checks for every transport (HTTP, GET, WebSocket), run by the schema's extension
/// (`pipeline`) in its `prepare_request` hook, which runs before async-graphql parses the
/// document: nesting on the raw text, then the document is parsed once (and kept on the request,
/// so it is not parsed again) and its fragment expansion and string literals are checked before
/// anything walks it. (async-graphql's own recursion-depth check runs inside parsing and follows
/// every spread, so a check after parsing would come too late for a fragment bomb.)
///
/// A document sent by hash (a persisted query, a trusted document) gets its text, and its parsed
/// form when cached, before these checks (`documents.rs`). Answers the number of fields the
/// operation selects with fragments expanded.
pub async fn prepare(
    state: &crate::AppState,
    documents: &super::documents::Documents,
    request: &mut Request,
) -> ServerResult<usize> {
    let known = documents.before(state, request).await?;
    check_request(&request.query, &request.variables).map_err(Refusal::into_server_error)?;
    check_nul_in_variables(&request.variables).map_err(Refusal::into_server_error)?;
    let document = request.parsed_query().map_err(|mut error| {
        super::errors::set_code(&mut error, super::errors::GRAPHQL_PARSE_FAILED);
        error
    })?;
    let fields = check_document(document).map_err(Refusal::into_server_error)?;
    if let Some(known) = known {
        documents.after(state, known, request).await?;
    }
    Ok(fields)
}

/// Fragment expansion and NUL literals of a parsed document; answers the fields it selects with
/// fragments expanded.
pub fn check_document(document: &ExecutableDocument) -> Result<usize, Refusal> {
    let fields = expanded_fields(document);
    if fields > MAX_EXPANDED_FIELDS {
        return Err(Refusal {
            code: TOO_MANY_FIELDS,
            message: format!(
                "the operation selects {fields} fields once fragments are expanded; at most {MAX_EXPANDED_FIELDS} are allowed"
            ),
        });
    }
    if document_has_nul(document) {
        return Err(Refusal::nul());
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_in_strings_comments_and_block_strings_do_not_count() {
        let deep = "[".repeat(100);
        let text = format!(
            "query {{ a(s: \"{deep}\", t: \"\"\"{deep} \\\"\"\" {deep}\"\"\") # {deep}\n }}"
        );
        assert_eq!(document_nesting(&text, 4), Ok(()));
    }

    #[test]
    fn nested_lists_and_objects_are_refused_past_the_limit() {
        let lists = format!("{{__typename(a:{}1{})}}", "[".repeat(65), "]".repeat(65));
        assert_eq!(
            document_nesting(&lists, MAX_NESTING).unwrap_err().code,
            NESTING_TOO_DEEP
        );
        let objects = format!("{{f(a:{}1{})}}", "{a:".repeat(3000), "}".repeat(3000));
        assert!(document_nesting(&objects, MAX_NESTING).is_err());
        let fine = format!("{{f(a:{}1{})}}", "[".repeat(20), "]".repeat(20));
        assert_eq!(document_nesting(&fine, MAX_NESTING), Ok(()));
    }

    #[test]
    fn an_unterminated_string_or_escape_at_the_end_does_not_panic() {
        for text in ["\"abc\\", "\"\"\"abc", "\"", "#", "\\", "\"\"\"\\\"\"\""] {
            let _ = document_nesting(text, 3);
            let _ = json_nesting(text.as_bytes(), 3);
        }
    }

    #[test]
    fn json_depth_skips_strings() {
        assert!(json_nesting(br#"{"query":"[[[[[[[[[[[[[[[["}"#, 2).is_ok());
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(json_nesting(deep.as_bytes(), MAX_NESTING).is_err());
    }

    #[test]
    fn variables_are_walked_without_recursion() {
        let mut value = serde_json::json!(1);
        // Deep enough to pass the limit, shallow enough that building and dropping the value
        // (both recursive in serde_json) fits the test thread's stack.
        for _ in 0..200 {
            value = serde_json::json!({ "a": value });
        }
        let variables = Variables::from_json(serde_json::json!({ "v": value }));
        assert_eq!(
            check_variables(&variables, MAX_NESTING).unwrap_err().code,
            NESTING_TOO_DEEP
        );
        let nul = Variables::from_json(serde_json::json!({ "v": ["ok", "a\u{0}b"] }));
        assert_eq!(check_variables(&nul, MAX_NESTING), Ok(()));
        assert_eq!(
            check_nul_in_variables(&nul).unwrap_err().code,
            BAD_USER_INPUT
        );
    }

    #[test]
    fn a_fragment_bomb_is_counted_without_expanding_it() {
        let mut text = String::from("query{...F0}");
        for i in 0..40 {
            text.push_str(&format!(
                " fragment F{i} on Query{{...F{} ...F{}}}",
                i + 1,
                i + 1
            ));
        }
        text.push_str(" fragment F40 on Query{__typename}");
        let document = async_graphql::parser::parse_query(&text).unwrap();
        assert_eq!(expanded_fields(&document), 1 << 40);
        let cyclic =
            async_graphql::parser::parse_query("query{...A} fragment A on Query{a ...A}").unwrap();
        assert_eq!(expanded_fields(&cyclic), 1);
        let plain = async_graphql::parser::parse_query("{a b {c d}}").unwrap();
        assert_eq!(expanded_fields(&plain), 4);
    }

    #[test]
    fn nul_in_a_string_literal_is_found() {
        let document =
            async_graphql::parser::parse_query(r#"{ orders(filter: {number: "a\u0000"}) { id } }"#)
                .unwrap();
        assert!(document_has_nul(&document));
        let clean =
            async_graphql::parser::parse_query(r#"{ orders(filter: {number: "a"}) { id } }"#)
                .unwrap();
        assert!(!document_has_nul(&clean));
    }
}
