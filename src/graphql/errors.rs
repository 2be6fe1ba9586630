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
use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use async_graphql::{
    Pos, Response, ServerError, ServerResult, ValidationResult, Value, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextRequest,
        NextResolve, NextSubscribe, NextValidation, ResolveInfo,
    },
    futures_util::stream::{BoxStream, StreamExt},
    parser::types::{ExecutableDocument, Selection},
};

pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
pub const OPERATION_RESOLUTION_FAILURE: &str = "OPERATION_RESOLUTION_FAILURE";
pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";

pub struct ErrorShape;

impl ExtensionFactory for ErrorShape {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Shaper(Arc::default()))
    }
}

#[derive(Default)]
struct State {
    /// Where the arguments whose value uses a variable are named: an invalid value there is the
    /// caller's variable, not the document.
    variable_arguments: Mutex<HashSet<Pos>>,
    /// Errors of nullable fields answered with null, to list with the response.
    nulled: Mutex<Vec<ServerError>>,
    /// Whether the operation got as far as running.
    executed: Mutex<bool>,
}

struct Shaper(Arc<State>);

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

impl State {
    /// Lists the nulled fields' errors with the response and codes every error.
    fn finish(&self, mut response: Response) -> Response {
        if let Ok(mut nulled) = self.nulled.lock() {
            response.errors.append(&mut nulled);
        }
        let executed = self.executed.lock().is_ok_and(|e| *e);
        for error in &mut response.errors {
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
        response
    }
}

#[async_trait::async_trait]
impl Extension for Shaper {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let response = next.run(ctx).await;
        self.0.finish(response)
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let state = self.0.clone();
        next.run(ctx, stream)
            .map(move |response| {
                // Events of a subscription ran; an answer before any ran is a refusal.
                if response.data != Value::Null
                    && let Ok(mut executed) = state.executed.lock()
                {
                    *executed = true;
                }
                state.finish(response)
            })
            .boxed()
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        match next.run(ctx, query, variables).await {
            Ok(document) => {
                if let Ok(mut found) = self.0.variable_arguments.lock() {
                    *found = arguments_with_variables(&document);
                }
                Ok(document)
            }
            Err(mut error) => {
                set_code(&mut error, GRAPHQL_PARSE_FAILED);
                Err(error)
            }
        }
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|mut errors| {
            let variable_arguments = self
                .0
                .variable_arguments
                .lock()
                .map(|found| found.clone())
                .unwrap_or_default();
            for error in &mut errors {
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
            errors
        })
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let Ok(mut executed) = self.0.executed.lock() {
            *executed = true;
        }
        next.run(ctx, operation_name).await
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let nullable = !info.return_type.ends_with('!');
        match next.run(ctx, info).await {
            Err(error) if nullable => {
                if let Ok(mut nulled) = self.0.nulled.lock() {
                    nulled.push(error);
                }
                Ok(Some(Value::Null))
            }
            other => other,
        }
    }
}

/// The positions of the argument names (of fields and directives, in operations and fragments)
/// whose value is or holds a variable.
fn arguments_with_variables(document: &ExecutableDocument) -> HashSet<Pos> {
    use async_graphql::parser::{Positioned, types::Directive};
    use async_graphql_value::{Name, Value as Literal};
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
    let mut sets: Vec<_> = document
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
    let mut directives: Vec<&[Positioned<Directive>]> = Vec::new();
    while let Some(set) = sets.pop() {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    note(&field.node.arguments);
                    directives.push(&field.node.directives);
                    sets.push(&field.node.selection_set.node);
                }
                Selection::InlineFragment(fragment) => {
                    directives.push(&fragment.node.directives);
                    sets.push(&fragment.node.selection_set.node);
                }
                Selection::FragmentSpread(spread) => directives.push(&spread.node.directives),
            }
        }
    }
    for list in directives {
        for directive in list {
            note(&directive.node.arguments);
        }
    }
    found
}
