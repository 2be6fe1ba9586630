//! The schema's one extension: every step the service adds to async-graphql's handling of a
//! request, in the order a request meets them.
//!
//! 1. **Prepare** (every transport): a document sent by hash gets its text (`documents`); the
//!    shape checks run on the raw text and then on the document, parsed once and kept on the
//!    request (`request_shape`).
//! 2. **Parse**: a document that does not parse gets `GRAPHQL_PARSE_FAILED`; what later steps need
//!    is read off the parsed document once (its operations, whether it is introspection only, the
//!    arguments given by variables, its aliases).
//! 3. **Validate**: the complexity and depth limits (introspection held to its own, `cost`), and
//!    the codes of validation errors (`errors`).
//! 4. **Execute**: timed for the metrics (`metrics`).
//! 5. **Answer**: every error gets its code, a failing field's null is put where the spec says
//!    (`errors::place_nulls`), and `extensions.cost` is added (`cost`).
//! 6. **Subscribe** (WebSocket): at most `subscription_limit::MAX_PER_CONNECTION` per connection,
//!    counted open for the metrics, every event's errors coded.
//!
//! Why one extension and no field hook: as soon as a schema has any extension, async-graphql
//! sends every field through the chain (a `ResolveInfo`, two registry lookups and one boxed
//! future per extension and field). With the five separate extensions this replaced, the order
//! page's ~700 fields took ~3,500 such hops; now they take one each, and `{ __typename }` does
//! one chain of hooks instead of five.
use std::{
    collections::HashSet,
    sync::{Arc, Mutex, MutexGuard},
};

use async_graphql::{
    Name, Pos, Request, Response, ServerError, ServerResult, ValidationResult, Value, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery,
        NextPrepareRequest, NextRequest, NextSubscribe, NextValidation,
    },
    futures_util::stream::{BoxStream, StreamExt},
    parser::types::{ExecutableDocument, OperationType},
    registry::Registry,
};

use super::{
    cost, documents::Documents, errors, request_shape, subscription_limit,
    validated::ValidatedDocuments,
};
use crate::metrics::{Metrics, OpenSubscription, describe};

/// Builds one [`Pipeline`] per request.
pub struct RequestPipeline {
    pub documents: Documents,
    pub metrics: Arc<Metrics>,
    pub max_complexity: usize,
    pub max_depth: usize,
    /// On the schema that validates fully: where the texts that passed are recorded.
    pub records_validated: Option<ValidatedDocuments>,
}

impl ExtensionFactory for RequestPipeline {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Pipeline {
            documents: self.documents.clone(),
            metrics: self.metrics.clone(),
            max_complexity: self.max_complexity,
            max_depth: self.max_depth,
            records_validated: self.records_validated.clone(),
            seen: Arc::default(),
        })
    }
}

/// What one request's steps learn, for the steps after them.
#[derive(Default)]
struct Seen {
    /// Fields selected with fragments expanded (from the shape checks).
    fields: Option<usize>,
    /// `Some(nested lists)` when every operation is introspection only.
    introspection_lists: Option<usize>,
    /// Complexity and depth, as validated.
    measured: Option<(usize, usize)>,
    /// The document's operations: name and kind.
    operations: Vec<(Option<Name>, OperationType)>,
    /// (label, kind) for the metrics.
    described: Option<(String, &'static str)>,
    /// Where arguments take their value from a variable (an invalid value there is the caller's).
    variable_arguments: HashSet<Pos>,
    /// Response key → field name, for aliased fields.
    aliases: Vec<(Name, Name)>,
    /// The kind of the operation that ran, once it runs.
    executed: Option<OperationType>,
    /// Text and operation name of a request without variables, to record if it validates.
    validating: Option<(String, Option<String>)>,
}

struct Pipeline {
    documents: Documents,
    metrics: Arc<Metrics>,
    max_complexity: usize,
    max_depth: usize,
    records_validated: Option<ValidatedDocuments>,
    /// Shared with a subscription's stream, which outlives the hook that builds it.
    seen: Arc<Mutex<Seen>>,
}

fn lock(seen: &Mutex<Seen>) -> MutexGuard<'_, Seen> {
    // A panic while holding it poisons nothing worth refusing a request for.
    seen.lock().unwrap_or_else(|p| p.into_inner())
}

impl Pipeline {
    fn seen(&self) -> MutexGuard<'_, Seen> {
        lock(&self.seen)
    }

    /// Codes every error, places the nulls of failing fields.
    fn finish(&self, ctx: &ExtensionContext<'_>, mut response: Response) -> Response {
        let seen = self.seen();
        let ran = seen.executed.is_some();
        shape_errors(&seen, &ctx.schema_env.registry, &mut response, ran);
        response
    }
}

/// Codes every error of an answer and, when the operation ran, puts the nulls of its failing
/// fields in place.
fn shape_errors(seen: &Seen, registry: &Registry, response: &mut Response, ran: bool) {
    if response.errors.is_empty() {
        return;
    }
    if ran {
        // A subscription's events run without the execute hook.
        let root = match seen.executed.unwrap_or(OperationType::Subscription) {
            OperationType::Query => Some(registry.query_type.as_str()),
            OperationType::Mutation => registry.mutation_type.as_deref(),
            OperationType::Subscription => registry.subscription_type.as_deref(),
        };
        if let Some(root) = root {
            errors::place_nulls(
                &mut response.data,
                &response.errors,
                registry,
                root,
                &seen.aliases,
            );
        }
    }
    errors::code_all(&mut response.errors, ran);
}

#[async_trait::async_trait]
impl Extension for Pipeline {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let response = next.run(ctx).await;
        let response = self.finish(ctx, response);
        let (measured, fields) = {
            let seen = self.seen();
            (seen.measured, seen.fields)
        };
        response.extension(
            "cost",
            cost::cost_value(measured, fields, self.max_complexity, self.max_depth),
        )
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let state = ctx.data_unchecked::<crate::AppState>();
        let fields = request_shape::prepare(state, &self.documents, &mut request).await?;
        let validating = (self.records_validated.is_some()
            && request.variables.is_empty()
            && request.query.len() <= super::validated::MAX_TEXT)
            .then(|| (request.query.clone(), request.operation_name.clone()));
        {
            let mut seen = self.seen();
            seen.fields = Some(fields);
            seen.validating = validating;
        }
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await.map_err(|mut error| {
            errors::set_code(&mut error, errors::GRAPHQL_PARSE_FAILED);
            error
        })?;
        let mut seen = self.seen();
        seen.operations = document
            .operations
            .iter()
            .map(|(name, op)| (name.cloned(), op.node.ty))
            .collect();
        seen.described = describe(&document, None);
        seen.introspection_lists = cost::introspection_lists(&document);
        seen.variable_arguments = errors::arguments_with_variables(&document);
        seen.aliases = errors::aliases(&document);
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        match next.run(ctx).await {
            Ok(result) => {
                let (introspection_lists, validating) = {
                    let mut seen = self.seen();
                    seen.measured = Some((result.complexity, result.depth));
                    (seen.introspection_lists, seen.validating.take())
                };
                cost::check_limits(
                    &result,
                    introspection_lists,
                    self.max_complexity,
                    self.max_depth,
                )
                .map_err(|refusal| vec![refusal])?;
                if let (Some(validated), Some((text, operation_name))) =
                    (&self.records_validated, validating)
                {
                    validated.insert(text, operation_name);
                }
                Ok(result)
            }
            Err(mut refused) => {
                errors::code_validation_errors(&mut refused, &self.seen().variable_arguments);
                Err(refused)
            }
        }
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let (described, kind) = {
            let mut seen = self.seen();
            let kind = seen
                .operations
                .iter()
                .find(|(name, _)| match operation_name {
                    Some(wanted) => name.as_ref().is_some_and(|n| n.as_str() == wanted),
                    None => true,
                })
                .map_or(OperationType::Query, |(_, kind)| *kind);
            seen.executed = Some(kind);
            (seen.described.take(), kind)
        };
        let started = std::time::Instant::now();
        let response = next.run(ctx, operation_name).await;
        let label = described.map(|(name, _)| operation_name.map_or(name, str::to_string));
        self.metrics
            .observe_operation(label, kind, started.elapsed(), response.errors.is_empty());
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let held = match subscription_limit::take(ctx) {
            Ok(held) => held,
            Err(refusal) => {
                return futures::stream::once(async move { Response::from_errors(vec![refusal]) })
                    .boxed();
            }
        };
        let open = OpenSubscription::new(self.metrics.clone());
        let schema_env = ctx.schema_env.clone();
        let seen = self.seen.clone();
        let inner = next.run(ctx, stream);
        inner
            .map(move |mut response| {
                let _held = (&held, &open);
                // Events of a subscription ran; an answer before any ran is a refusal.
                let ran = response.data != Value::Null;
                shape_errors(&lock(&seen), &schema_env.registry, &mut response, ran);
                response
            })
            .boxed()
    }
}
