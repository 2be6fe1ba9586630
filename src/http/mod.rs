//! The axum router: GraphQL over HTTP and WebSocket, health, and the playground.
pub mod files;
mod graphql_http;
mod graphql_ws;
mod payments;
mod playground;

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

/// The peer's address, when the server was started with connection info (it always is by
/// `serve`; a router mounted without it counts every caller as one unknown address).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

impl ClientIp {
    pub fn subject(self) -> crate::services::limits::Subject {
        match self.0 {
            Some(ip) => crate::services::limits::Subject::Ip(ip),
            None => crate::services::limits::Subject::UnknownIp,
        }
    }
}

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
