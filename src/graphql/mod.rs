//! The GraphQL layer: thin resolvers that parse, authorise and call a service.
pub mod connection;
pub mod context;
pub mod cost;
pub mod documents;
pub mod errors;
pub mod guards;
pub mod loaders;
pub mod mutation;
pub mod node;
pub mod pipeline;
pub mod query;
pub mod request_shape;
pub mod subscription;
pub mod subscription_limit;
pub mod types;
pub mod validated;

use async_graphql::Schema;

use crate::AppState;

pub type AppSchema = Schema<query::Query, mutation::Mutation, subscription::SubscriptionRoot>;

/// What the `DateTime` scalar is, for clients (async-graphql's own description names the Rust
/// type).
const DATE_TIME: &str = "A moment in time as an RFC 3339 string with its offset, e.g. `2024-02-20T11:56:44.602Z`; answers are in UTC.";

type Builder =
    async_graphql::SchemaBuilder<query::Query, mutation::Mutation, subscription::SubscriptionRoot>;

/// The schema's types, as the SDL and introspection show them.
fn schema_builder() -> Builder {
    Schema::build(
        query::Query,
        mutation::Mutation::default(),
        subscription::SubscriptionRoot,
    )
    .override_output_type_description::<chrono::DateTime<chrono::Utc>>(DATE_TIME)
    .override_input_type_description::<chrono::DateTime<chrono::Utc>>(DATE_TIME)
}

/// The schema, twice: one runs every request through the pipeline (`pipeline.rs`) and validates
/// it fully; the other, in async-graphql's `Fast` mode and without the pipeline's extension,
/// serves repeats of documents without variables or extensions that passed every step before
/// (`validated.rs`), with what the steps learnt the first time. Both share the state and the
/// limits.
#[derive(Clone)]
pub struct Schemas {
    /// Validates fully; also the one for batches, WebSockets and SDL.
    pub strict: AppSchema,
    repeats: AppSchema,
    validated: validated::ValidatedDocuments,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
    max_complexity: usize,
    max_depth: usize,
}

impl Schemas {
    pub async fn execute(&self, request: async_graphql::Request) -> async_graphql::Response {
        let learnt = (request.variables.is_empty() && request.extensions.is_empty())
            .then(|| {
                self.validated
                    .get(&request.query, request.operation_name.as_deref())
            })
            .flatten();
        self.metrics.count_validation(learnt.is_some());
        match learnt {
            Some(learnt) => {
                pipeline::execute_repeat(
                    &self.repeats,
                    request,
                    &learnt,
                    &self.metrics,
                    self.max_complexity,
                    self.max_depth,
                )
                .await
            }
            None => self.strict.execute(request).await,
        }
    }
}

/// Builds the schemas with the service's request-shape limits.
pub fn build_schema(state: AppState) -> Schemas {
    let validated = validated::ValidatedDocuments::default();
    let documents = documents::Documents::default();
    let limits = &state.config.limits;
    let build = |pipeline: Option<pipeline::RequestPipeline>| {
        let mut builder = schema_builder()
            // Depth and complexity are held by the pipeline (`cost`), which lets introspection
            // through.
            .limit_recursive_depth(32)
            .limit_directives(20);
        builder = match pipeline {
            // One extension for everything the service adds per request (see `pipeline` for why).
            Some(pipeline) => builder.extension(pipeline),
            None => builder.validation_mode(async_graphql::ValidationMode::Fast),
        };
        if !state.config.introspection {
            // "Did you mean …?" would spell the schema out one field at a time.
            builder = builder.disable_introspection().disable_suggestions();
        }
        builder.data(state.clone()).finish()
    };
    Schemas {
        strict: build(Some(pipeline::RequestPipeline {
            documents: documents.clone(),
            metrics: state.metrics.clone(),
            max_complexity: limits.max_query_complexity,
            max_depth: limits.max_query_depth,
            records_validated: Some(validated.clone()),
        })),
        repeats: build(None),
        validated,
        metrics: state.metrics.clone(),
        max_complexity: limits.max_query_complexity,
        max_depth: limits.max_query_depth,
    }
}

/// The SDL as committed in `schema/schema.graphql`.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}
