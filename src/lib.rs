//! campus-photo: the back end of a university ID-photo collection service (高校图像信息采集).
//!
//! `main.rs` only parses the command line; this crate assembles the service: configuration,
//! database, integrations, the GraphQL schema and the HTTP router.
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod entities;
pub mod error;
pub mod graphql;
pub mod http;
pub mod ids;
pub mod integrations;
pub mod services;
pub mod storage;

use std::sync::Arc;

use campus_photo_codes::token::KeyRing;
use campus_photo_domain::field_crypto::FieldCrypto;
use sea_orm::DatabaseConnection;
use tokio::{net::TcpListener, sync::Semaphore};

use crate::{
    clock::{SharedClock, SystemClock},
    config::Config,
    ids::GlobalIds,
    integrations::wechat_login::{RealWeChatLogin, SandboxWeChatLogin, WeChatLogin},
};

/// Everything a request handler or background task needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub clock: SharedClock,
    pub ids: Arc<GlobalIds>,
    pub crypto: Arc<FieldCrypto>,
    pub wechat_login: Arc<dyn WeChatLogin>,
    /// Issuer keys that collection codes must be signed with.
    pub keyring: Arc<KeyRing>,
    pub storage: storage::Storage,
    /// Bounds CPU-heavy work (decoding, QR reading, checks) to one job per core.
    pub cpu: Arc<Semaphore>,
}

/// Replacements for the parts tests need to control.
#[derive(Default)]
pub struct Overrides {
    pub clock: Option<SharedClock>,
    pub wechat_login: Option<Arc<dyn WeChatLogin>>,
}

impl AppState {
    pub fn new(
        config: Config,
        db: DatabaseConnection,
        overrides: Overrides,
    ) -> anyhow::Result<Self> {
        let clock = overrides.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let wechat_login: Arc<dyn WeChatLogin> = match (overrides.wechat_login, &config.wechat) {
            (Some(w), _) => w,
            (None, Some(app)) => Arc::new(RealWeChatLogin::new(
                integrations::http_client::build(),
                config.wechat_api_base.clone(),
                app.app_id.clone(),
                app.secret.clone(),
                clock.clone(),
            )),
            (None, None) => Arc::new(SandboxWeChatLogin),
        };
        // Config validated the keys at start; an empty ring would refuse every code.
        let keyring = KeyRing::parse(&config.collection_code_keys).unwrap_or_default();
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let storage = storage::Storage::from_url(&config.storage_url)?;
        Ok(Self {
            storage,
            keyring: Arc::new(keyring),
            cpu: Arc::new(Semaphore::new(cores)),
            ids: Arc::new(GlobalIds::new(&config.secret_key.0)),
            crypto: Arc::new(FieldCrypto::new(config.secret_key.0)),
            db,
            clock,
            wechat_login,
            config: Arc::new(config),
        })
    }
}

impl AppState {
    /// The upload limits image decoding runs under.
    pub fn decode_limits(&self) -> campus_photo_imaging::DecodeLimits {
        campus_photo_imaging::DecodeLimits {
            max_bytes: self.config.limits.max_upload_bytes,
            ..Default::default()
        }
    }
}

/// The HTTP application for a state.
pub fn app(state: AppState) -> axum::Router {
    let schema = graphql::build_schema(state.clone());
    http::router(state, schema)
}

/// Connects, migrates, creates the bootstrap admin and returns the state.
pub async fn start(config: Config, overrides: Overrides) -> anyhow::Result<AppState> {
    integrations::http_client::install_crypto_provider();
    let db = db::connect(&config.database_url, None).await?;
    db::migrate(&db).await?;
    let state = AppState::new(config, db, overrides)?;
    if services::accounts::ensure_bootstrap_admin(&state).await? {
        tracing::info!("bootstrap admin created");
    }
    Ok(state)
}

/// Serves until SIGINT/SIGTERM, then drains in-flight requests.
pub async fn serve(state: AppState) -> anyhow::Result<()> {
    let listener = TcpListener::bind(state.config.bind).await?;
    tracing::info!(addr = %listener.local_addr()?, database = %db_kind(&state.config.database_url),
        wechat = if state.config.wechat.is_some() { "real" } else { "sandbox" }, "serving");
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown_signal())
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

/// Structured logs: JSON when `LOG_FORMAT=json`, human-readable otherwise; level from `RUST_LOG`.
pub fn init_tracing() {
    use tracing_subscriber::{EnvFilter, fmt};
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,tower_http=info"));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|v| v == "json");
    if json {
        let _ = fmt().with_env_filter(filter).json().try_init();
    } else {
        let _ = fmt().with_env_filter(filter).try_init();
    }
}
