//! One typed configuration, read once from the environment (and `.env`) and validated at start
//! with a clear message per bad variable.
use std::{collections::HashMap, net::SocketAddr, path::PathBuf, time::Duration};

use base64::{Engine, engine::general_purpose::STANDARD};
use thiserror::Error;

/// Everything the service reads from its environment.
#[derive(Clone, Debug)]
pub struct Config {
    pub bind: SocketAddr,
    pub database_url: String,
    pub redis_url: Option<String>,
    pub storage_url: String,
    /// 32 bytes: field encryption, blind indexes, global ids, signed URLs.
    pub secret_key: SecretKey,
    pub bootstrap_admin: Option<(String, String)>,
    /// `iss:kid:base64(ed25519 public key)` entries; the development key by default.
    pub collection_code_keys: String,
    pub wechat: Option<WeChatAppConfig>,
    pub wechat_api_base: String,
    /// The subscription-message template for review results (订阅消息).
    pub wechat_review_template_id: String,
    /// The merchant account; None → the WeChat Pay sandbox.
    pub wechat_pay: Option<WeChatPayConfig>,
    /// Where WeChat Pay (or the sandbox) posts notifications. Required with a real merchant;
    /// the sandbox defaults to this server's own `/payments/wechat/notify`.
    pub wechat_pay_notify_url: Option<String>,
    pub wechat_pay_api_base: String,
    pub session_ttl: Duration,
    pub order_payment_timeout: Duration,
    /// How long a reviewer's claim on an order lasts.
    pub review_claim_ttl: Duration,
    pub service_info: ServiceInfoConfig,
    pub limits: Limits,
    /// Per-action rate limits (`RATE_LIMIT_<ACTION>=max/seconds`).
    pub rate_limits:
        std::collections::HashMap<crate::services::limits::Action, crate::services::limits::Rule>,
    /// Prefix of the rate-limit keys in Redis, so deployments sharing a Redis stay apart.
    pub rate_limit_namespace: String,
    pub introspection: bool,
    /// Proxies whose forwarding headers name the client (`CAMPUS_PHOTO_TRUSTED_PROXIES`).
    pub trusted_proxies: crate::services::client_ip::TrustedProxies,
    /// Where `/metrics` is served, apart from the public port; `None` when switched off.
    pub metrics_bind: Option<SocketAddr>,
}

/// The 32-byte master secret. Debug never prints it.
#[derive(Clone)]
pub struct SecretKey(pub [u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

#[derive(Clone, Debug)]
pub struct WeChatAppConfig {
    pub app_id: String,
    pub secret: String,
}

/// A WeChat Pay v3 merchant. The PEM texts were read and parsed at start.
#[derive(Clone)]
pub struct WeChatPayConfig {
    pub mchid: String,
    pub merchant_serial: String,
    pub merchant_key_pem: String,
    pub apiv3_key: String,
    pub platform_serial: String,
    pub platform_public_key_pem: String,
}

impl std::fmt::Debug for WeChatPayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeChatPayConfig")
            .field("mchid", &self.mchid)
            .field("merchant_serial", &self.merchant_serial)
            .field("platform_serial", &self.platform_serial)
            .finish_non_exhaustive()
    }
}

/// What `serviceInfo` returns: the agreement and the customer-service contacts.
#[derive(Clone, Debug)]
pub struct ServiceInfoConfig {
    pub agreement_title: String,
    pub agreement_version: String,
    pub customer_service_phone: String,
    pub customer_service_email: String,
    pub customer_service_hours: String,
}

/// Request-shape bounds that protect the service.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_json_body_bytes: usize,
    pub max_upload_bytes: usize,
    pub max_query_depth: usize,
    pub max_query_complexity: usize,
    pub max_batch_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_json_body_bytes: 1024 * 1024,
            max_upload_bytes: 10 * 1024 * 1024,
            max_query_depth: 10,
            max_query_complexity: 2_000,
            max_batch_size: 10,
        }
    }
}

impl Default for ServiceInfoConfig {
    fn default() -> Self {
        Self {
            agreement_title: "《大学生图像信息采集网服务使用协议》".into(),
            agreement_version: "2024.1".into(),
            customer_service_phone: "010-63072281".into(),
            customer_service_email: "service@campus-photo.example".into(),
            customer_service_hours: "周一至周五 8:00-17:00".into(),
        }
    }
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{variable}: {message}")]
    Invalid {
        variable: &'static str,
        message: String,
    },
    #[error("could not prepare {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn invalid(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        variable,
        message: message.into(),
    }
}

/// Where the development secret lives when `CAMPUS_PHOTO_SECRET_KEY` is unset.
pub const DEV_SECRET_PATH: &str = "data/secret.key";

impl Config {
    /// Reads the process environment (after loading `.env` when present).
    pub fn from_env() -> Result<Self, ConfigError> {
        let _ = dotenvy::dotenv();
        let vars: HashMap<String, String> = std::env::vars().collect();
        Self::from_vars(&vars, true)
    }

    /// Builds the configuration from a map of variables. `may_create_dev_secret` lets the
    /// development default write `data/secret.key` on first start.
    pub fn from_vars(
        vars: &HashMap<String, String>,
        may_create_dev_secret: bool,
    ) -> Result<Self, ConfigError> {
        let get = |k: &str| vars.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());

        let bind = get("CAMPUS_PHOTO_BIND")
            .unwrap_or("127.0.0.1:8080")
            .parse()
            .map_err(|_| {
                invalid(
                    "CAMPUS_PHOTO_BIND",
                    "expected host:port, e.g. 127.0.0.1:8080",
                )
            })?;

        let database_url = get("DATABASE_URL")
            .unwrap_or("sqlite://data/campus-photo.db?mode=rwc")
            .to_string();
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "DATABASE_URL",
                "expected sqlite://… or postgres://…",
            ));
        }

        let redis_url = get("REDIS_URL").map(str::to_string);
        if let Some(url) = &redis_url
            && !(url.starts_with("redis://") || url.starts_with("rediss://"))
        {
            return Err(invalid("REDIS_URL", "expected redis://host:port"));
        }

        let storage_url = get("CAMPUS_PHOTO_STORAGE")
            .unwrap_or("file://data/objects")
            .to_string();
        if !(storage_url.starts_with("file://") || storage_url.starts_with("s3://")) {
            return Err(invalid(
                "CAMPUS_PHOTO_STORAGE",
                "expected file://dir or s3://bucket/prefix",
            ));
        }

        // Every instance on one PostgreSQL must share the key, so none may invent its own.
        let shared_database = !database_url.starts_with("sqlite:");
        let secret_key = match get("CAMPUS_PHOTO_SECRET_KEY") {
            Some(text) => parse_secret(text)?,
            None if shared_database => {
                return Err(invalid(
                    "CAMPUS_PHOTO_SECRET_KEY",
                    "is required with PostgreSQL: every instance must use the same key (generate one with `openssl rand -base64 32`)",
                ));
            }
            None if may_create_dev_secret => load_or_create_dev_secret(DEV_SECRET_PATH.as_ref())?,
            None => return Err(invalid("CAMPUS_PHOTO_SECRET_KEY", "is required")),
        };

        let bootstrap_admin = match get("CAMPUS_PHOTO_BOOTSTRAP_ADMIN") {
            None => None,
            Some(text) => {
                let (user, pass) = text.split_once(':').ok_or_else(|| {
                    invalid("CAMPUS_PHOTO_BOOTSTRAP_ADMIN", "expected username:password")
                })?;
                if user.is_empty() || pass.len() < 8 {
                    return Err(invalid(
                        "CAMPUS_PHOTO_BOOTSTRAP_ADMIN",
                        "the username must not be empty and the password needs at least 8 characters",
                    ));
                }
                Some((user.to_string(), pass.to_string()))
            }
        };

        let collection_code_keys = get("COLLECTION_CODE_KEYS")
            .map(str::to_string)
            .unwrap_or_else(campus_photo_codes::token::dev_keyring_entry);
        campus_photo_codes::token::KeyRing::parse(&collection_code_keys)
            .map_err(|e| invalid("COLLECTION_CODE_KEYS", e.to_string()))?;
        let trusts_dev_codes = collection_code_keys
            .split(',')
            .any(|entry| entry.trim() == campus_photo_codes::token::dev_keyring_entry());

        let wechat = match (get("WECHAT_APPID"), get("WECHAT_SECRET")) {
            (None, None) => None,
            (Some(app_id), Some(secret)) => Some(WeChatAppConfig {
                app_id: app_id.to_string(),
                secret: secret.to_string(),
            }),
            (Some(_), None) => {
                return Err(invalid("WECHAT_SECRET", "is required with WECHAT_APPID"));
            }
            (None, Some(_)) => {
                return Err(invalid("WECHAT_APPID", "is required with WECHAT_SECRET"));
            }
        };
        let wechat_api_base = get("WECHAT_API_BASE")
            .unwrap_or("https://api.weixin.qq.com")
            .trim_end_matches('/')
            .to_string();

        let wechat_review_template_id = get("WECHAT_REVIEW_TEMPLATE_ID")
            .unwrap_or("sandbox-review-result")
            .to_string();
        let wechat_pay = match get("WECHATPAY_MCHID") {
            None => None,
            Some(mchid) => Some(read_wechat_pay(mchid, &get)?),
        };
        if wechat_pay.is_some() && wechat.is_none() {
            return Err(invalid(
                "WECHATPAY_MCHID",
                "a real merchant needs the mini-program too: set WECHAT_APPID and WECHAT_SECRET",
            ));
        }
        let wechat_pay_notify_url = get("WECHATPAY_NOTIFY_URL").map(str::to_string);
        if let Some(url) = &wechat_pay_notify_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(invalid("WECHATPAY_NOTIFY_URL", "expected an http(s) URL"));
        }
        if wechat_pay.is_some()
            && !wechat_pay_notify_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://"))
        {
            return Err(invalid(
                "WECHATPAY_NOTIFY_URL",
                "a real merchant needs the public https URL of /payments/wechat/notify",
            ));
        }
        // The development issuer's private key is public (it signs the demo's codes): a service
        // that talks to real WeChat must not accept codes signed with it.
        if trusts_dev_codes && (wechat.is_some() || wechat_pay.is_some()) {
            return Err(invalid(
                "COLLECTION_CODE_KEYS",
                "with real WeChat settings, set the registry's issuer keys: the built-in development key is refused",
            ));
        }
        let wechat_pay_api_base = get("WECHATPAY_API_BASE")
            .unwrap_or("https://api.mch.weixin.qq.com")
            .trim_end_matches('/')
            .to_string();

        let session_ttl = Duration::from_secs(parse_u64(
            get("SESSION_TTL_SECS"),
            "SESSION_TTL_SECS",
            7 * 24 * 3600,
            60,
        )?);
        let order_payment_timeout = Duration::from_secs(parse_u64(
            get("ORDER_PAYMENT_TIMEOUT_SECS"),
            "ORDER_PAYMENT_TIMEOUT_SECS",
            1800,
            1,
        )?);

        let review_claim_ttl = Duration::from_secs(parse_u64(
            get("REVIEW_CLAIM_TTL_SECS"),
            "REVIEW_CLAIM_TTL_SECS",
            300,
            10,
        )?);

        let defaults = ServiceInfoConfig::default();
        let text = |k: &str, d: String| get(k).map(str::to_string).unwrap_or(d);
        let service_info = ServiceInfoConfig {
            agreement_title: text("AGREEMENT_TITLE", defaults.agreement_title),
            agreement_version: text("AGREEMENT_VERSION", defaults.agreement_version),
            customer_service_phone: text("CUSTOMER_SERVICE_PHONE", defaults.customer_service_phone),
            customer_service_email: text("CUSTOMER_SERVICE_EMAIL", defaults.customer_service_email),
            customer_service_hours: text("CUSTOMER_SERVICE_HOURS", defaults.customer_service_hours),
        };

        let mut limits = Limits::default();
        if let Some(v) = get("MAX_UPLOAD_BYTES") {
            limits.max_upload_bytes = v.parse().ok().filter(|n| *n >= 1024).ok_or_else(|| {
                invalid("MAX_UPLOAD_BYTES", "expected a byte count of at least 1024")
            })?;
        }

        let mut rate_limits = std::collections::HashMap::new();
        for action in crate::services::limits::Action::ALL {
            let variable = action.variable();
            let rule = match get(variable) {
                Some(text) => crate::services::limits::Rule::parse(text)
                    .ok_or_else(|| invalid(variable, "expected <max>/<seconds>, e.g. 20/60"))?,
                None => action.default_rule(),
            };
            rate_limits.insert(action, rule);
        }
        let rate_limit_namespace = get("RATE_LIMIT_NAMESPACE")
            .unwrap_or("campus-photo")
            .to_string();

        let introspection = match get("GRAPHQL_INTROSPECTION") {
            None => true,
            Some("true" | "1") => true,
            Some("false" | "0") => false,
            Some(_) => return Err(invalid("GRAPHQL_INTROSPECTION", "expected true or false")),
        };

        let trusted_proxies = crate::services::client_ip::TrustedProxies::parse(
            get("CAMPUS_PHOTO_TRUSTED_PROXIES").unwrap_or(""),
        )
        .map_err(|bad| {
            invalid(
                "CAMPUS_PHOTO_TRUSTED_PROXIES",
                format!("`{bad}` is not an address or CIDR block (e.g. 10.0.0.0/8,::1)"),
            )
        })?;
        let metrics_bind = match get("CAMPUS_PHOTO_METRICS_BIND") {
            Some("off") => None,
            Some(text) => Some(text.parse().map_err(|_| {
                invalid(
                    "CAMPUS_PHOTO_METRICS_BIND",
                    "expected host:port (e.g. 127.0.0.1:9090) or off",
                )
            })?),
            None => Some(SocketAddr::from(([127, 0, 0, 1], 9090))),
        };

        Ok(Self {
            bind,
            database_url,
            redis_url,
            storage_url,
            secret_key,
            bootstrap_admin,
            collection_code_keys,
            wechat,
            wechat_api_base,
            wechat_review_template_id,
            wechat_pay,
            wechat_pay_notify_url,
            wechat_pay_api_base,
            session_ttl,
            order_payment_timeout,
            review_claim_ttl,
            service_info,
            limits,
            rate_limits,
            rate_limit_namespace,
            introspection,
            trusted_proxies,
            metrics_bind,
        })
    }
}

/// Reads and checks the merchant's variables: every key file must exist and parse now, not at
/// the first payment.
fn read_wechat_pay<'a>(
    mchid: &str,
    get: &impl Fn(&str) -> Option<&'a str>,
) -> Result<WeChatPayConfig, ConfigError> {
    use campus_photo_wechatpay::keys::{ApiV3Key, MerchantKey, PlatformKeys};
    let required = |k: &'static str| {
        get(k)
            .map(str::to_string)
            .ok_or_else(|| invalid(k, "is required with WECHATPAY_MCHID"))
    };
    let read = |k: &'static str| -> Result<String, ConfigError> {
        let path = required(k)?;
        std::fs::read_to_string(&path).map_err(|e| invalid(k, format!("cannot read {path}: {e}")))
    };
    let merchant_serial = required("WECHATPAY_MERCHANT_SERIAL")?;
    let merchant_key_pem = read("WECHATPAY_MERCHANT_KEY_PATH")?;
    MerchantKey::from_pem(&merchant_serial, &merchant_key_pem)
        .map_err(|e| invalid("WECHATPAY_MERCHANT_KEY_PATH", e.to_string()))?;
    let apiv3_key = required("WECHATPAY_APIV3_KEY")?;
    ApiV3Key::parse(&apiv3_key).map_err(|e| invalid("WECHATPAY_APIV3_KEY", e.to_string()))?;
    let platform_serial = required("WECHATPAY_PLATFORM_SERIAL")?;
    let platform_public_key_pem = read("WECHATPAY_PLATFORM_PUBLIC_KEY_PATH")?;
    PlatformKeys::default()
        .insert_pem(&platform_serial, &platform_public_key_pem)
        .map_err(|e| invalid("WECHATPAY_PLATFORM_PUBLIC_KEY_PATH", e.to_string()))?;
    Ok(WeChatPayConfig {
        mchid: mchid.to_string(),
        merchant_serial,
        merchant_key_pem,
        apiv3_key,
        platform_serial,
        platform_public_key_pem,
    })
}

fn parse_u64(
    value: Option<&str>,
    variable: &'static str,
    default: u64,
    min: u64,
) -> Result<u64, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) => v.parse::<u64>().ok().filter(|n| *n >= min).ok_or_else(|| {
            invalid(
                variable,
                format!("expected a whole number of seconds ≥ {min}"),
            )
        }),
    }
}

fn parse_secret(text: &str) -> Result<SecretKey, ConfigError> {
    let bytes = STANDARD
        .decode(text)
        .map_err(|_| invalid("CAMPUS_PHOTO_SECRET_KEY", "expected base64"))?;
    let key: [u8; 32] = bytes.try_into().map_err(|_| {
        invalid(
            "CAMPUS_PHOTO_SECRET_KEY",
            "expected exactly 32 bytes once decoded",
        )
    })?;
    Ok(SecretKey(key))
}

/// Development convenience: a random key kept in `data/` so restarts can still decrypt.
fn load_or_create_dev_secret(path: &std::path::Path) -> Result<SecretKey, ConfigError> {
    let io = |source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => parse_secret(text.trim()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(io)?;
            }
            let key: [u8; 32] = rand::random();
            std::fs::write(path, STANDARD.encode(key)).map_err(io)?;
            restrict_permissions(path);
            Ok(SecretKey(key))
        }
        Err(e) => Err(io(e)),
    }
}

#[cfg(unix)]
fn restrict_permissions(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}
#[cfg(not(unix))]
fn restrict_permissions(_: &std::path::Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        m.entry("CAMPUS_PHOTO_SECRET_KEY".into())
            .or_insert_with(|| STANDARD.encode([7u8; 32]));
        m
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = Config::from_vars(&vars(&[]), false).expect("defaults");
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://data/campus-photo.db?mode=rwc");
        assert!(c.redis_url.is_none() && c.wechat.is_none());
        assert_eq!(c.order_payment_timeout, Duration::from_secs(1800));
        assert_eq!(c.service_info.customer_service_phone, "010-63072281");
    }

    #[test]
    fn each_bad_variable_is_named() {
        for (k, v) in [
            ("CAMPUS_PHOTO_BIND", "nowhere"),
            ("DATABASE_URL", "mysql://x"),
            ("REDIS_URL", "http://x"),
            ("CAMPUS_PHOTO_SECRET_KEY", "c2hvcnQ="),
            ("CAMPUS_PHOTO_BOOTSTRAP_ADMIN", "nocolon"),
            ("ORDER_PAYMENT_TIMEOUT_SECS", "soon"),
            ("WECHAT_APPID", "wx123"),
            ("GRAPHQL_INTROSPECTION", "maybe"),
            ("COLLECTION_CODE_KEYS", "iss:kid:notbase64!"),
            ("CAMPUS_PHOTO_TRUSTED_PROXIES", "10.0.0.0/40"),
            ("CAMPUS_PHOTO_METRICS_BIND", "everywhere"),
        ] {
            let err = Config::from_vars(&vars(&[(k, v)]), false).expect_err(k);
            let text = err.to_string();
            let named =
                text.starts_with(k) || (k == "WECHAT_APPID" && text.starts_with("WECHAT_SECRET"));
            assert!(named, "{k}: {text}");
        }
    }

    #[test]
    fn postgres_needs_an_explicit_secret_key() {
        let mut v = vars(&[("DATABASE_URL", "postgres://db/x")]);
        v.remove("CAMPUS_PHOTO_SECRET_KEY");
        let err = Config::from_vars(&v, true).expect_err("no key").to_string();
        assert!(err.starts_with("CAMPUS_PHOTO_SECRET_KEY"), "{err}");
        assert!(err.contains("PostgreSQL"), "{err}");
    }

    #[test]
    fn real_wechat_refuses_the_development_code_key() {
        let real = [("WECHAT_APPID", "wx123"), ("WECHAT_SECRET", "s")];
        let err = Config::from_vars(&vars(&real), false)
            .expect_err("dev key with real WeChat")
            .to_string();
        assert!(err.starts_with("COLLECTION_CODE_KEYS"), "{err}");
        let issuer = "chsi:k1:".to_string() + &STANDARD.encode([3u8; 32]);
        let mut with_keys = vars(&real);
        with_keys.insert("COLLECTION_CODE_KEYS".into(), issuer);
        assert!(Config::from_vars(&with_keys, false).is_ok());
        // The sandbox keeps the development key, so the demo's codes work.
        assert!(Config::from_vars(&vars(&[]), false).is_ok());
    }

    #[test]
    fn metrics_listen_on_loopback_unless_told_otherwise() {
        let c = Config::from_vars(&vars(&[]), false).expect("defaults");
        assert_eq!(c.metrics_bind, Some("127.0.0.1:9090".parse().unwrap()));
        let off = Config::from_vars(&vars(&[("CAMPUS_PHOTO_METRICS_BIND", "off")]), false);
        assert_eq!(off.expect("off").metrics_bind, None);
    }

    #[test]
    fn secret_key_is_never_printed() {
        let c = Config::from_vars(&vars(&[]), false).expect("defaults");
        assert!(!format!("{c:?}").contains(&STANDARD.encode([7u8; 32])));
    }
}
