//! The GraphQL layer: thin resolvers that parse, authorise and call a service.
pub mod connection;
pub mod context;
pub mod cost;
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

/// Builds the schema with the service's request-shape limits.
pub fn build_schema(state: AppState) -> AppSchema {
    let limits = state.config.limits.clone();
    let mut builder = Schema::build(
        query::Query,
        mutation::Mutation::default(),
        subscription::SubscriptionRoot,
    )
    .limit_depth(limits.max_query_depth)
    .limit_complexity(limits.max_query_complexity)
    .limit_recursive_depth(32)
    .limit_directives(20)
    // First, so that nothing else sees a document before its shape is checked.
    .extension(request_shape::RequestShape)
    .extension(crate::metrics::GraphqlMetrics(state.metrics.clone()))
    .extension(subscription_limit::SubscriptionLimit)
    .extension(cost::QueryCost {
        max_complexity: limits.max_query_complexity,
        max_depth: limits.max_query_depth,
    });
    if !state.config.introspection {
        // "Did you mean …?" would spell the schema out one field at a time.
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.data(state).finish()
}

/// The SDL as committed in `schema/schema.graphql`.
pub fn sdl() -> String {
    Schema::build(
        query::Query,
        mutation::Mutation::default(),
        subscription::SubscriptionRoot,
    )
    .finish()
    .sdl()
}
