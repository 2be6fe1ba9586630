//! Serving: connecting and migrating at start, the HTTP listeners, background jobs and a
//! graceful shutdown.
use tokio::net::TcpListener;

use crate::{AppState, Overrides, config::Config, db, graphql, http, integrations, services};

/// The HTTP application for a state.
pub fn app(state: AppState) -> axum::Router {
    let schema = graphql::build_schema(state.clone());
    http::router(state, schema)
}

/// Connects, migrates, creates the bootstrap admin and returns the state.
pub async fn start(config: Config, overrides: Overrides) -> anyhow::Result<AppState> {
    integrations::http_client::install_crypto_provider();
    // The face models of the photo check are parsed once per process, here: a model that does
    // not load stops the service at start with its reason, never at the first upload.
    let loading = std::time::Instant::now();
    campus_photo_imaging::load_models()
        .map_err(|e| anyhow::anyhow!("cannot start the photo check: {e}"))?;
    tracing::info!(
        ms = loading.elapsed().as_millis() as u64,
        "face models loaded"
    );
    let db = db::connect(&config.database_url, None).await?;
    db::migrate(&db).await?;
    services::deployment::check_secret_key(&db, &config.secret_key, chrono::Utc::now()).await?;
    let state = AppState::new(config, db, overrides)?;
    if services::accounts::ensure_bootstrap_admin(&state).await? {
        tracing::info!("bootstrap admin created");
    }
    // Phone numbers and names written before their blind indexes existed become searchable.
    let indexed = services::search::backfill_indexes(&state).await?;
    if indexed > 0 {
        tracing::info!(rows = indexed, "search indexes backfilled");
    }
    Ok(state)
}

/// How often unpaid orders are closed and unacknowledged refunds re-sent.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Serves until SIGINT/SIGTERM, then drains in-flight requests.
pub async fn serve(state: AppState) -> anyhow::Result<()> {
    let listener = TcpListener::bind(state.config.bind)
        .await
        .map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
                " (another process holds it: stop it, or set CAMPUS_PHOTO_BIND / --campus-photo-bind to another address)"
            } else {
                ""
            };
            anyhow::anyhow!(
                "cannot listen on {} (CAMPUS_PHOTO_BIND): {e}{hint}",
                state.config.bind
            )
        })?;
    if let Some(addr) = state.config.metrics_bind {
        let metrics = TcpListener::bind(addr).await.map_err(|e| {
            anyhow::anyhow!("cannot listen on {addr} for /metrics (CAMPUS_PHOTO_METRICS_BIND): {e}")
        })?;
        tracing::info!(addr = %metrics.local_addr()?, "serving /metrics");
        let router = http::metrics_router(state.clone());
        tokio::spawn(async move { axum::serve(metrics, router).await });
    }
    let resumed = services::production::resume_unfinished(&state, true).await?;
    if resumed > 0 {
        tracing::info!(batches = resumed, "resuming unfinished production batches");
    }
    let _sweeper = services::sweeper::spawn(state.clone(), SWEEP_EVERY);
    let _relay = state.relay.spawn(state.clone());
    let _messages = services::notifications::spawn(state.clone());
    tracing::info!(addr = %listener.local_addr()?, database = %db_kind(&state.config.database_url),
        wechat = if state.config.wechat.is_some() { "real" } else { "sandbox" },
        wechat_pay = state.wechat_pay.provider(), "serving");
    let shutdown = state.shutdown.clone();
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    // In-flight requests finish; WebSockets (which the drain does not wait for) are told to
    // close with 1001 so clients reconnect elsewhere rather than see a reset.
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        shutdown.send_replace(true);
    })
    .await?;
    Ok(())
}

fn db_kind(url: &str) -> &'static str {
    if url.starts_with("sqlite:") {
        "sqlite"
    } else {
        "postgres"
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down");
}
