//! The service's shared state and how it is assembled from the configuration: the database,
//! the real WeChat clients or their sandboxes, Redis-backed or in-process parts.
use std::sync::Arc;

use campus_photo_codes::token::KeyRing;
use campus_photo_domain::field_crypto::FieldCrypto;
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use tokio::sync::Semaphore;

use crate::{
    clock::{SharedClock, SystemClock},
    config::Config,
    events,
    ids::GlobalIds,
    integrations,
    integrations::{
        wechat_login::{RealWeChatLogin, SandboxWeChatLogin, WeChatLogin},
        wechat_pay::{NotificationTrust, RealWeChatPay, SandboxKeys, SandboxWeChatPay, WeChatPay},
    },
    metrics, services,
    services::payments::nonces::{DbNonces, NonceStore, RedisNonces},
    storage,
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
    pub wechat_messages: Arc<dyn integrations::wechat_messages::WeChatMessages>,
    /// Reports shipped print orders to WeChat.
    pub wechat_shipping: Arc<dyn integrations::wechat_shipping::WeChatShipping>,
    /// Issuer keys that collection codes must be signed with.
    pub keyring: Arc<KeyRing>,
    pub storage: storage::Storage,
    /// Bounds CPU-heavy work (decoding, QR reading, checks) to one job per core.
    pub cpu: Arc<Semaphore>,
    pub wechat_pay: Arc<dyn WeChatPay>,
    /// The keys a payment notification must verify and decrypt with.
    pub pay_trust: Arc<NotificationTrust>,
    pub nonces: Arc<dyn NonceStore>,
    /// Where order events go out to subscribers (in process, or Redis across instances).
    pub bus: Arc<dyn events::bus::EventBus>,
    /// Publishes committed order events; services wake it after each commit.
    pub relay: events::relay::Relay,
    /// Fans order events out to `orderUpdates` subscribers, loading each once.
    pub hub: Arc<events::hub::Hub>,
    /// Open WebSockets by session, closed when their session ends.
    pub sockets: Arc<events::sockets::SocketSessions>,
    /// Set to true when the process begins to shut down: open WebSockets close with 1001.
    pub shutdown: Arc<tokio::sync::watch::Sender<bool>>,
    /// Prometheus metrics (`/metrics`).
    pub metrics: Arc<metrics::Metrics>,
    /// Rate limits (Redis-counted when Redis is configured).
    pub limiter: Arc<services::limits::Limiter>,
    /// Automatic persisted queries by hash (in Redis when configured).
    pub persisted_queries: Arc<services::persisted_queries::PersistedQueries>,
    /// Whether background jobs (production batches) start on their own; tests that stop a job
    /// half-way turn this off and drive it by hand.
    pub run_jobs: bool,
}

/// Replacements for the parts tests need to control.
#[derive(Default)]
pub struct Overrides {
    pub clock: Option<SharedClock>,
    pub wechat_login: Option<Arc<dyn WeChatLogin>>,
    pub wechat_messages: Option<Arc<dyn integrations::wechat_messages::WeChatMessages>>,
    pub wechat_shipping: Option<Arc<dyn integrations::wechat_shipping::WeChatShipping>>,
    /// Keys for the WeChat Pay sandbox (tests bring their own; otherwise one set per process).
    pub sandbox_pay_keys: Option<Arc<SandboxKeys>>,
    /// Do not start background jobs by themselves.
    pub defer_jobs: bool,
}

impl AppState {
    pub fn new(
        config: Config,
        db: DatabaseConnection,
        overrides: Overrides,
    ) -> anyhow::Result<Self> {
        let clock = overrides.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let metrics = Arc::new(metrics::Metrics::new());
        // Every statement of this state's connection (and its transactions) is counted.
        let mut db = db;
        let counted = metrics.clone();
        db.set_metric_callback(move |_| counted.count_statement());
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
        let wechat_messages: Arc<dyn integrations::wechat_messages::WeChatMessages> =
            match (overrides.wechat_messages, &config.wechat) {
                (Some(m), _) => m,
                (None, Some(_)) => {
                    Arc::new(integrations::wechat_messages::RealWeChatMessages::new(
                        integrations::http_client::build(),
                        config.wechat_api_base.clone(),
                        wechat_login.clone(),
                    ))
                }
                (None, None) => Arc::new(integrations::wechat_messages::SandboxWeChatMessages),
            };
        let wechat_shipping: Arc<dyn integrations::wechat_shipping::WeChatShipping> =
            match (overrides.wechat_shipping, &config.wechat) {
                (Some(s), _) => s,
                (None, Some(_)) => {
                    Arc::new(integrations::wechat_shipping::RealWeChatShipping::new(
                        integrations::http_client::build(),
                        config.wechat_api_base.clone(),
                        wechat_login.clone(),
                    ))
                }
                (None, None) => Arc::new(integrations::wechat_shipping::SandboxWeChatShipping),
            };
        let (wechat_pay, pay_trust) =
            build_wechat_pay(&config, &db, clock.clone(), overrides.sandbox_pay_keys)?;
        type Shared = (
            Arc<dyn NonceStore>,
            Arc<dyn events::bus::EventBus>,
            Arc<dyn services::limits::Counter>,
            services::persisted_queries::PersistedQueries,
        );
        let (nonces, bus, counter, persisted_queries): Shared = match &config.redis_url {
            Some(url) => {
                let client = redis::Client::open(url.as_str())?;
                (
                    Arc::new(RedisNonces::new(client.clone())),
                    events::bus::RedisBus::start(client.clone()),
                    Arc::new(services::limits::RedisCounter::new(client.clone())),
                    services::persisted_queries::PersistedQueries::redis(
                        client,
                        &config.rate_limit_namespace,
                    ),
                )
            }
            None => (
                Arc::new(DbNonces(db.clone())),
                Arc::new(events::bus::LocalBus::new()),
                Arc::new(services::limits::LocalCounter::default()),
                services::persisted_queries::PersistedQueries::local(),
            ),
        };
        let limiter = Arc::new(services::limits::Limiter::new(
            counter,
            config.rate_limits.clone(),
            config.rate_limit_namespace.clone(),
            clock.clone(),
        ));
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
            wechat_messages,
            wechat_shipping,
            wechat_pay,
            pay_trust: Arc::new(pay_trust),
            nonces,
            limiter,
            persisted_queries: Arc::new(persisted_queries),
            metrics,
            shutdown: Arc::new(tokio::sync::watch::Sender::new(false)),
            run_jobs: !overrides.defer_jobs,
            bus,
            relay: events::relay::Relay::default(),
            hub: Arc::default(),
            sockets: Arc::default(),
            config: Arc::new(config),
        })
    }
}

/// The real WeChat Pay client when a merchant is configured, the sandbox otherwise.
fn build_wechat_pay(
    config: &Config,
    db: &DatabaseConnection,
    clock: SharedClock,
    sandbox_keys: Option<Arc<SandboxKeys>>,
) -> anyhow::Result<(Arc<dyn WeChatPay>, NotificationTrust)> {
    use campus_photo_wechatpay::keys::{ApiV3Key, MerchantKey, PlatformKeys};
    let appid = config
        .wechat
        .as_ref()
        .map_or_else(|| "wx-sandbox-appid".to_string(), |w| w.app_id.clone());
    let http = integrations::http_client::build();
    match &config.wechat_pay {
        Some(merchant) => {
            let mut platform = PlatformKeys::default();
            platform.insert_pem(&merchant.platform_serial, &merchant.platform_public_key_pem)?;
            let trust = NotificationTrust {
                platform_keys: platform.clone(),
                apiv3_key: ApiV3Key::parse(&merchant.apiv3_key)?,
            };
            let client = RealWeChatPay::new(
                http,
                config.wechat_pay_api_base.clone(),
                merchant.mchid.clone(),
                appid,
                MerchantKey::from_pem(&merchant.merchant_serial, &merchant.merchant_key_pem)?,
                platform,
                config.wechat_pay_notify_url.clone().unwrap_or_default(),
                clock,
            );
            Ok((Arc::new(client), trust))
        }
        None => {
            let keys = sandbox_keys.unwrap_or_else(SandboxKeys::shared);
            let trust = keys.trust();
            let notify_url = config.wechat_pay_notify_url.clone().unwrap_or_else(|| {
                let mut addr = config.bind;
                if addr.ip().is_unspecified() {
                    addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                }
                format!("http://{addr}/payments/wechat/notify")
            });
            let sandbox = SandboxWeChatPay::new(keys, appid, notify_url, http, clock)
                .persisted_in(db.clone());
            Ok((Arc::new(sandbox), trust))
        }
    }
}

impl AppState {
    /// Runs `work` in one database transaction, commits it, then wakes the outbox relay so the
    /// order events it wrote reach subscribers now rather than at the relay's next poll. On an
    /// error the transaction is rolled back (dropped) and the relay left alone. Every service
    /// that changes orders writes through here, so none can commit and forget the wake.
    pub async fn write<T>(
        &self,
        work: impl AsyncFnOnce(&DatabaseTransaction) -> crate::error::AppResult<T>,
    ) -> crate::error::AppResult<T> {
        let txn = crate::db::begin_write(&self.db).await?;
        let done = work(&txn).await?;
        txn.commit().await?;
        self.relay.wake();
        Ok(done)
    }

    /// The upload limits image decoding runs under.
    pub fn decode_limits(&self) -> campus_photo_imaging::DecodeLimits {
        campus_photo_imaging::DecodeLimits {
            max_bytes: self.config.limits.max_upload_bytes,
            ..Default::default()
        }
    }
}
