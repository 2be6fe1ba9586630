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
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
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
        // One span per request with its id (set just outside) and the path only: query strings
        // carry signed-URL signatures, which stay out of the logs.
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        // Tokens travel in the Authorization header, never in cookies, so any origin may call.
        .layer(CorsLayer::permissive())
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Readiness: the database answers, and Redis when one is configured. 503 names what is down.
async fn ready(
    axum::extract::State(state): axum::extract::State<HttpState>,
) -> axum::response::Response {
    use axum::{http::StatusCode, response::IntoResponse};
    let app = &state.app;
    let database = match tokio::time::timeout(PROBE_TIMEOUT, app.db.ping()).await {
        Ok(Ok(())) => "ok",
        _ => "unavailable",
    };
    let redis = match &app.config.redis_url {
        None => "not configured",
        Some(url) => match tokio::time::timeout(PROBE_TIMEOUT, redis_ping(url)).await {
            Ok(Ok(())) => "ok",
            _ => "unavailable",
        },
    };
    let ready = database == "ok" && redis != "unavailable";
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "status": if ready { "ready" } else { "unavailable" },
        "database": database,
        "redis": redis,
    });
    (status, Json(body)).into_response()
}

const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

async fn redis_ping(url: &str) -> redis::RedisResult<()> {
    let client = redis::Client::open(url)?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    redis::cmd("PING").query_async::<String>(&mut conn).await?;
    Ok(())
}

/// Prometheus metrics; the queue sizes are counted now.
async fn metrics(
    axum::extract::State(state): axum::extract::State<HttpState>,
) -> axum::response::Response {
    use axum::{http::StatusCode, response::IntoResponse};
    let app = &state.app;
    match crate::services::review::queue_sizes(app).await {
        Ok(sizes) => {
            for (queue, size) in sizes {
                app.metrics
                    .queues
                    .get_or_create(&crate::metrics::Queue {
                        queue: queue.to_string(),
                    })
                    .set(size);
            }
        }
        Err(e) => tracing::warn!(error = %e, "reading queue sizes for /metrics"),
    }
    match app.metrics.encode() {
        Ok(text) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
