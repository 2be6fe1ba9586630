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
pub mod query;
pub mod request_shape;
pub mod subscription;
pub mod subscription_limit;
pub mod types;

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

/// Builds the schema with the service's request-shape limits.
pub fn build_schema(state: AppState) -> AppSchema {
    let limits = state.config.limits.clone();
    let mut builder = schema_builder()
        // Depth and complexity are held by `cost::QueryCost`, which lets introspection through.
        .limit_recursive_depth(32)
        .limit_directives(20)
        // First, so that nothing else sees a document before its shape is checked (a document
        // sent by hash gets its text, and its parsed form when cached, there too).
        .extension(request_shape::RequestShape::default())
        .extension(crate::metrics::GraphqlMetrics(state.metrics.clone()))
        .extension(subscription_limit::SubscriptionLimit)
        .extension(cost::QueryCost {
            max_complexity: limits.max_query_complexity,
            max_depth: limits.max_query_depth,
        })
        // Last, so that its field hook sees each field's own error and its answer is final.
        .extension(errors::ErrorShape);
    if !state.config.introspection {
        // "Did you mean …?" would spell the schema out one field at a time.
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.data(state).finish()
}

/// The SDL as committed in `schema/schema.graphql`.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}
