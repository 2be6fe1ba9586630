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

use crate::{
    AppState,
    graphql::{AppSchema, Schemas},
};

pub use crate::services::client_ip::ClientIp;

/// The client's address: the TCP peer, or — when the peer is a trusted proxy — the address the
/// proxy forwarded. Unknown when the server was mounted without connection info.
impl axum::extract::FromRequestParts<HttpState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &HttpState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        Ok(Self(peer.map(|peer| {
            state.app.config.trusted_proxies.client(
                peer,
                header("x-forwarded-for"),
                header("x-real-ip"),
            )
        })))
    }
}

/// Shared by every handler.
#[derive(Clone)]
pub struct HttpState {
    pub app: AppState,
    pub schema: Schemas,
}

pub fn router(app: AppState, schema: Schemas) -> Router {
    app.metrics
        .know_operations(known_operation_names(&schema.strict));
    let state = HttpState { app, schema };
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
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
        .route("/dashboard/charts.js", get(playground::dashboard_charts))
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

/// The names an operation may be labelled with in metrics: every root field of the schema (an
/// unnamed operation is labelled by its first root field) and the operations of the playground
/// examples, the documents the clients are built from.
fn known_operation_names(schema: &AppSchema) -> Vec<String> {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    let mut names = Vec::new();
    if let Ok(document) = async_graphql::parser::parse_schema(schema.sdl()) {
        for definition in document.definitions {
            if let TypeSystemDefinition::Type(ty) = definition
                && let TypeKind::Object(object) = ty.node.kind
                && ["Query", "Mutation", "Subscription", "SubscriptionRoot"]
                    .contains(&ty.node.name.node.as_str())
            {
                names.extend(object.fields.iter().map(|f| f.node.name.node.to_string()));
            }
        }
    }
    for (_, text) in playground::EXAMPLES {
        if let Ok(document) = async_graphql::parser::parse_query(text) {
            names.extend(
                document
                    .operations
                    .iter()
                    .filter_map(|(n, _)| n.map(|n| n.to_string())),
            );
        }
    }
    names
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
    let storage = match tokio::time::timeout(PROBE_TIMEOUT, app.storage.probe()).await {
        Ok(Ok(())) => "ok",
        _ => "unavailable",
    };
    let ready = database == "ok" && redis != "unavailable" && storage == "ok";
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "status": if ready { "ready" } else { "unavailable" },
        "database": database,
        "redis": redis,
        "storage": storage,
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

/// `/metrics` on a router of its own, served on `CAMPUS_PHOTO_METRICS_BIND` (loopback by
/// default) so that the public port never exposes it.
pub fn metrics_router(app: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(app)
}

/// Prometheus metrics; the queue sizes are counted now.
async fn metrics(
    axum::extract::State(app): axum::extract::State<AppState>,
) -> axum::response::Response {
    use axum::{http::StatusCode, response::IntoResponse};
    let app = &app;
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
