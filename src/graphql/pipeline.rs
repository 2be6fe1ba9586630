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
//!
//! A repeat of a document that passed every step before (no variables, no extensions; see
//! `validated.rs`) takes none: steps 1–3 depend only on its text, so what they learnt is kept
//! ([`Learnt`], the parsed document included) and [`execute_repeat`] runs steps 4 and 5 around
//! an execution on a schema that has no extension, whose fields therefore skip the chain.
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
    AppSchema, cost,
    documents::Documents,
    errors, request_shape, subscription_limit,
    validated::{Learnt, ValidatedDocuments},
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
    /// The parsed document of such a request, kept for its repeats.
    document: Option<ExecutableDocument>,
}

/// The most fields a document may select for its parsed form to be kept with its text: a parsed
/// field takes a few hundred bytes, and `validated::CAPACITY` texts are kept, so this bounds what
/// senders of many distinct large documents can make the process hold (about 25 MB). The
/// mini-program's documents select 20–100.
const KEEP_PARSED_FIELDS: usize = 200;

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
}

/// Step 5: codes every error of an answer, puts the nulls of its failing fields in place when
/// the operation ran, and adds `extensions.cost`.
#[allow(clippy::too_many_arguments)]
fn answer(
    mut response: Response,
    executed: Option<OperationType>,
    aliases: &[(Name, Name)],
    registry: &Registry,
    measured: Option<(usize, usize)>,
    fields: Option<usize>,
    max_complexity: usize,
    max_depth: usize,
) -> Response {
    let ran = executed.is_some();
    shape_errors(executed, aliases, registry, &mut response, ran);
    response.extension(
        "cost",
        cost::cost_value(measured, fields, max_complexity, max_depth),
    )
}

/// The kind of the operation `operation_name` picks (the only one when None).
fn operation_kind(
    operations: &[(Option<Name>, OperationType)],
    operation_name: Option<&str>,
) -> OperationType {
    operations
        .iter()
        .find(|(name, _)| match operation_name {
            Some(wanted) => name.as_ref().is_some_and(|n| n.as_str() == wanted),
            None => true,
        })
        .map_or(OperationType::Query, |(_, kind)| *kind)
}

/// Step 4's metrics: the operation's label, kind, time and outcome.
fn observe(
    metrics: &Metrics,
    described: Option<(String, &'static str)>,
    operation_name: Option<&str>,
    kind: OperationType,
    took: std::time::Duration,
    ok: bool,
) {
    let label = described.map(|(name, _)| operation_name.map_or(name, str::to_string));
    metrics.observe_operation(label, kind, took, ok);
}

/// Steps 4 and 5 for a repeat of a document that passed every step before, on `schema`, which
/// has no extension (and validates in `Fast` mode): the same metrics, error codes, nulls and
/// `extensions.cost` as the first time, without the per-field chain.
pub async fn execute_repeat(
    schema: &AppSchema,
    mut request: Request,
    learnt: &Learnt,
    metrics: &Metrics,
    max_complexity: usize,
    max_depth: usize,
) -> Response {
    let operation_name = request.operation_name.clone();
    let kind = operation_kind(&learnt.operations, operation_name.as_deref());
    if let Some(document) = &learnt.document {
        request.set_parsed_query(document.clone());
    }
    let started = std::time::Instant::now();
    let response = schema.execute(request).await;
    observe(
        metrics,
        learnt.described.clone(),
        operation_name.as_deref(),
        kind,
        started.elapsed(),
        response.errors.is_empty(),
    );
    answer(
        response,
        Some(kind),
        &learnt.aliases,
        &learnt.schema_env.registry,
        learnt.measured,
        learnt.fields,
        max_complexity,
        max_depth,
    )
}

/// Codes every error of an answer and, when the operation ran, puts the nulls of its failing
/// fields in place.
fn shape_errors(
    executed: Option<OperationType>,
    aliases: &[(Name, Name)],
    registry: &Registry,
    response: &mut Response,
    ran: bool,
) {
    if response.errors.is_empty() {
        return;
    }
    if ran {
        // A subscription's events run without the execute hook.
        let root = match executed.unwrap_or(OperationType::Subscription) {
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
                aliases,
            );
        }
    }
    errors::code_all(&mut response.errors, ran);
}

#[async_trait::async_trait]
impl Extension for Pipeline {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let response = next.run(ctx).await;
        let seen = self.seen();
        answer(
            response,
            seen.executed,
            &seen.aliases,
            &ctx.schema_env.registry,
            seen.measured,
            seen.fields,
            self.max_complexity,
            self.max_depth,
        )
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let state = ctx.data_unchecked::<crate::AppState>();
        // Only a text sent as it is, without variables or extensions, is kept for its repeats:
        // what the steps make of it then depends on nothing else (a document sent by hash may
        // be held to rules a text is not).
        let plain = request.variables.is_empty()
            && request.extensions.is_empty()
            && request.query.len() <= super::validated::MAX_TEXT;
        let fields = request_shape::prepare(state, &self.documents, &mut request).await?;
        let validating = (self.records_validated.is_some() && plain)
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
        if seen.validating.is_some() && seen.fields.is_some_and(|n| n <= KEEP_PARSED_FIELDS) {
            seen.document = Some(document.clone());
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        match next.run(ctx).await {
            Ok(result) => {
                let (introspection_lists, validating, document) = {
                    let mut seen = self.seen();
                    seen.measured = Some((result.complexity, result.depth));
                    (
                        seen.introspection_lists,
                        seen.validating.take(),
                        seen.document.take(),
                    )
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
                    let learnt = {
                        let seen = self.seen();
                        Learnt {
                            fields: seen.fields,
                            measured: seen.measured,
                            operations: seen.operations.clone(),
                            described: seen.described.clone(),
                            aliases: seen.aliases.clone(),
                            document,
                            schema_env: ctx.schema_env.clone(),
                        }
                    };
                    validated.insert(text, operation_name, Arc::new(learnt));
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
            let kind = operation_kind(&seen.operations, operation_name);
            seen.executed = Some(kind);
            (seen.described.take(), kind)
        };
        let started = std::time::Instant::now();
        let response = next.run(ctx, operation_name).await;
        observe(
            &self.metrics,
            described,
            operation_name,
            kind,
            started.elapsed(),
            response.errors.is_empty(),
        );
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
                let seen = lock(&seen);
                shape_errors(
                    seen.executed,
                    &seen.aliases,
                    &schema_env.registry,
                    &mut response,
                    ran,
                );
                response
            })
            .boxed()
    }
}
