//! The axum router: GraphQL over HTTP and WebSocket, health, the playground and the dashboard.
pub mod files;
mod graphql_http;
mod graphql_ws;
mod payments;
pub mod playground;

use axum::{
    Json, Router,
    extract::DefaultBodyLimit,
    routing::{get, post},
};
use tower_http::{
    cors::CorsLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use crate::{AppState, graphql::AppSchema};

/// Shared by every handler.
#[derive(Clone)]
pub struct HttpState {
    pub app: AppState,
    pub schema: AppSchema,
}

pub fn router(app: AppState, schema: AppSchema) -> Router {
    let state = HttpState { app, schema };
    Router::new()
        .route("/health", get(health))
        .route(
            "/graphql",
            get(graphql_http::get_query).post(graphql_http::post),
        )
        .route("/graphql/ws", get(graphql_ws::upgrade))
        .route("/playground", get(playground::page))
        .route("/playground/assets/{file}", get(playground::asset))
        .route("/playground/examples.json", get(playground::examples))
        .route("/playground/examples/{file}", get(playground::example))
        .route("/dashboard", get(playground::dashboard))
        .route("/dashboard/dashboard.js", get(playground::dashboard_js))
        .route("/dashboard/dashboard.css", get(playground::dashboard_css))
        .route("/files/{*key}", get(files::serve))
        .route("/previews/{file}", get(files::serve_preview))
        .route(
            "/payments/wechat/notify",
            post(payments::wechat_notify)
                .layer(DefaultBodyLimit::max(payments::MAX_NOTIFICATION_BYTES)),
        )
        .with_state(state)
        .layer(TraceLayer::new_for_http())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        // Tokens travel in the Authorization header, never in cookies, so any origin may call.
        .layer(CorsLayer::permissive())
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}
