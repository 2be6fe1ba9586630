//! The limits an operation is held to, and `extensions.cost` on every response: the operation's
//! complexity and depth as validated, the fields it selects once fragments are expanded, and the
//! limits they are held to (an operation over any of them is refused before it runs).
//!
//! Depth and complexity are checked here rather than by async-graphql's `limit_depth` /
//! `limit_complexity`, so that an operation made only of introspection (`__schema`, `__type`,
//! `__typename`) can be answered: the standard introspection query of graphql-js nests `ofType`
//! nine levels deep, past any depth limit that suits the API. Such an operation is held instead to
//! [`MAX_INTROSPECTION_LISTS`] nested lists (what makes an introspection answer large: types ×
//! fields × args), to the complexity limit, and, like everything, to the nesting and field guards
//! of `request_shape` that run before parsing.
use std::collections::HashMap;

use async_graphql::{
    ErrorExtensionValues, Pos, ServerError, ValidationResult, Value,
    parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet},
};

use super::request_shape::{MAX_EXPANDED_FIELDS, MAX_NESTING};

/// How many introspection lists (`types`, `fields`, `args`, …) may nest in an operation made only
/// of introspection. graphql-js's `getIntrospectionQuery()` nests three: types › fields › args.
pub const MAX_INTROSPECTION_LISTS: usize = 3;

pub const QUERY_TOO_DEEP: &str = "QUERY_TOO_DEEP";
pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
pub const INTROSPECTION_TOO_DEEP: &str = "INTROSPECTION_TOO_DEEP";

/// The introspection fields that answer a list of objects.
const INTROSPECTION_LISTS: &[&str] = &[
    "types",
    "directives",
    "fields",
    "args",
    "inputFields",
    "interfaces",
    "possibleTypes",
    "enumValues",
];

fn number(n: usize) -> Value {
    Value::from(u64::try_from(n).unwrap_or(u64::MAX))
}

fn refusal(code: &str, message: String) -> ServerError {
    let mut error = ServerError::new(message, None::<Pos>);
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code);
    error.extensions = Some(extensions);
    error
}

/// `extensions.cost` with the limits, and what was measured (null where the request did not get
/// that far: a document that did not parse has no depth).
pub fn cost_value(
    measured: Option<(usize, usize)>,
    fields: Option<usize>,
    max_complexity: usize,
    max_depth: usize,
) -> Value {
    let mut cost = async_graphql::indexmap::IndexMap::new();
    let or_null = |n: Option<usize>| n.map_or(Value::Null, number);
    cost.insert(
        async_graphql::Name::new("complexity"),
        or_null(measured.map(|m| m.0)),
    );
    cost.insert(
        async_graphql::Name::new("maxComplexity"),
        number(max_complexity),
    );
    cost.insert(
        async_graphql::Name::new("depth"),
        or_null(measured.map(|m| m.1)),
    );
    cost.insert(async_graphql::Name::new("maxDepth"), number(max_depth));
    cost.insert(async_graphql::Name::new("fields"), or_null(fields));
    cost.insert(
        async_graphql::Name::new("maxFields"),
        number(MAX_EXPANDED_FIELDS),
    );
    Value::Object(cost)
}

/// Holds a validated operation to the limits: complexity always; depth unless the operation is
/// introspection only (`introspection_lists` is `Some`), which is held to
/// [`MAX_INTROSPECTION_LISTS`] nested lists instead.
pub fn check_limits(
    result: &ValidationResult,
    introspection_lists: Option<usize>,
    max_complexity: usize,
    max_depth: usize,
) -> Result<(), ServerError> {
    if result.complexity > max_complexity {
        return Err(refusal(
            QUERY_TOO_COMPLEX,
            format!(
                "Query is too complex: complexity {}, at most {max_complexity} (page sizes count: `first: 100` costs 100× its nodes)",
                result.complexity
            ),
        ));
    }
    match introspection_lists {
        Some(lists) if lists > MAX_INTROSPECTION_LISTS => Err(refusal(
            INTROSPECTION_TOO_DEEP,
            format!(
                "Introspection nests {lists} lists (types, fields, args, …); at most {MAX_INTROSPECTION_LISTS}"
            ),
        )),
        None if result.depth > max_depth => Err(refusal(
            QUERY_TOO_DEEP,
            format!(
                "Query is nested too deep: depth {}, at most {max_depth}",
                result.depth
            ),
        )),
        _ => Ok(()),
    }
}

/// `Some(the deepest nesting of introspection lists)` when every operation of the document is a
/// query that selects only `__schema`, `__type` and `__typename` at its root (through fragments
/// too); `None` otherwise. Fragments are walked at most [`MAX_NESTING`] deep and memoised, so a
/// cycle (refused by validation afterwards) or a fragment bomb costs linear time.
pub fn introspection_lists(document: &ExecutableDocument) -> Option<usize> {
    let mut deepest = 0;
    let mut memo = HashMap::new();
    for (_, operation) in document.operations.iter() {
        if operation.node.ty != OperationType::Query
            || !root_is_introspection(&operation.node.selection_set.node, document, 0)
        {
            return None;
        }
        deepest = deepest.max(lists_in(
            &operation.node.selection_set.node,
            document,
            &mut memo,
            0,
        ));
    }
    Some(deepest)
}

fn root_is_introspection(set: &SelectionSet, document: &ExecutableDocument, depth: usize) -> bool {
    if depth > MAX_NESTING {
        return false;
    }
    set.items.iter().all(|item| match &item.node {
        Selection::Field(field) => matches!(
            field.node.name.node.as_str(),
            "__schema" | "__type" | "__typename"
        ),
        Selection::InlineFragment(fragment) => {
            root_is_introspection(&fragment.node.selection_set.node, document, depth + 1)
        }
        Selection::FragmentSpread(spread) => document
            .fragments
            .get(&spread.node.fragment_name.node)
            .is_some_and(|f| {
                root_is_introspection(&f.node.selection_set.node, document, depth + 1)
            }),
    })
}

fn lists_in<'a>(
    set: &'a SelectionSet,
    document: &'a ExecutableDocument,
    memo: &mut HashMap<&'a str, usize>,
    depth: usize,
) -> usize {
    if depth > MAX_NESTING {
        return 0;
    }
    let mut deepest = 0;
    for item in &set.items {
        let here = match &item.node {
            Selection::Field(field) => {
                let own = usize::from(INTROSPECTION_LISTS.contains(&field.node.name.node.as_str()));
                own + lists_in(&field.node.selection_set.node, document, memo, depth + 1)
            }
            Selection::InlineFragment(fragment) => {
                lists_in(&fragment.node.selection_set.node, document, memo, depth + 1)
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                if let Some(&known) = memo.get(name) {
                    known
                } else if let Some(fragment) = document.fragments.get(name) {
                    memo.insert(name, 0);
                    let n = lists_in(&fragment.node.selection_set.node, document, memo, depth + 1);
                    memo.insert(name, n);
                    n
                } else {
                    0
                }
            }
        };
        deepest = deepest.max(here);
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists(text: &str) -> Option<usize> {
        introspection_lists(&async_graphql::parser::parse_query(text).unwrap())
    }

    #[test]
    fn only_introspection_at_the_root_counts_as_introspection() {
        assert_eq!(lists("{ __typename }"), Some(0));
        assert_eq!(
            lists(
                "query Q { __schema { types { ...T } } } fragment T on __Type { fields { args { name } } }"
            ),
            Some(3)
        );
        assert_eq!(
            lists("{ __schema { types { name } } viewer { account { id } } }"),
            None
        );
        assert_eq!(
            lists("{ ...F } fragment F on Query { viewer { account { id } } }"),
            None
        );
        assert_eq!(lists("subscription { __typename }"), None);
        assert_eq!(
            lists(
                "{ __type(name: \"Query\") { fields { type { fields { type { fields { name } } } } } } }"
            ),
            Some(3)
        );
        assert_eq!(
            lists(
                "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
            ),
            Some(4)
        );
    }
}
