//! GET /playground: GraphiQL pointed at /graphql and /graphql/ws.
use async_graphql::http::GraphiQLSource;
use axum::response::Html;

pub async fn page() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .title("campus-photo playground")
            .finish(),
    )
}
