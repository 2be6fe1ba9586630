//! One typed configuration, read once from the environment (and `.env`) and validated at start
//! with a clear message per bad variable. Each group of variables has its file: the secret key,
//! WeChat and WeChat Pay, limits, the network (proxies), what `serviceInfo` shows.
use std::{collections::HashMap, net::SocketAddr, path::PathBuf, time::Duration};

use thiserror::Error;

pub mod documents;
pub mod limits;
pub mod network;
mod secret;
mod service_info;
pub mod variables;
mod wechat;

pub use limits::Limits;
pub use secret::{DEV_SECRET_PATH, SecretKey};
pub use service_info::ServiceInfoConfig;
pub use wechat::{WeChatAppConfig, WeChatPayConfig};

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
    /// The template for 制作完成，可下载电子照片 when an order completes.
    pub wechat_completed_template_id: String,
    /// The template for the reminder before an unpaid order closes.
    pub wechat_payment_reminder_template_id: String,
    /// The template for an operator's reminder to students who have not finished.
    pub wechat_finish_reminder_template_id: String,
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
    pub rate_limits: HashMap<limits::Action, limits::Rule>,
    /// Prefix of the rate-limit keys in Redis, so deployments sharing a Redis stay apart.
    pub rate_limit_namespace: String,
    pub introspection: bool,
    /// Proxies whose forwarding headers name the client (`CAMPUS_PHOTO_TRUSTED_PROXIES`).
    pub trusted_proxies: network::TrustedProxies,
    /// Where `/metrics` is served, apart from the public port; `None` when switched off.
    pub metrics_bind: Option<SocketAddr>,
    /// `GRAPHQL_TRUSTED_DOCUMENTS`: when set, the only documents answered.
    pub trusted_documents: Option<documents::TrustedDocuments>,
    /// `CAMPUS_PHOTO_PUBLIC_URL`: the service's address as clients reach it; links are absolute
    /// under it. `None`: links are paths on this host.
    pub public_url: Option<String>,
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

pub(crate) fn invalid(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        variable,
        message: message.into(),
    }
}

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

        let secret_key = secret::read(&get, &database_url, may_create_dev_secret)?;

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

        let wechat::WeChatSettings {
            app: wechat,
            api_base: wechat_api_base,
            review_template_id: wechat_review_template_id,
            completed_template_id: wechat_completed_template_id,
            payment_reminder_template_id: wechat_payment_reminder_template_id,
            finish_reminder_template_id: wechat_finish_reminder_template_id,
            pay: wechat_pay,
            pay_notify_url: wechat_pay_notify_url,
            pay_api_base: wechat_pay_api_base,
        } = wechat::read(&get, trusts_dev_codes)?;

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

        let service_info = service_info::read(&get);
        let (limits, rate_limits, rate_limit_namespace) = limits::read(&get)?;

        let introspection = match get("GRAPHQL_INTROSPECTION") {
            None => true,
            Some("true" | "1") => true,
            Some("false" | "0") => false,
            Some(_) => return Err(invalid("GRAPHQL_INTROSPECTION", "expected true or false")),
        };

        let trusted_proxies =
            network::TrustedProxies::parse(get("CAMPUS_PHOTO_TRUSTED_PROXIES").unwrap_or(""))
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

        let trusted_documents = documents::read_trusted(get("GRAPHQL_TRUSTED_DOCUMENTS"))?;
        let public_url = documents::read_public_url(get("CAMPUS_PHOTO_PUBLIC_URL"))?;

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
            wechat_completed_template_id,
            wechat_payment_reminder_template_id,
            wechat_finish_reminder_template_id,
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
            trusted_documents,
            public_url,
        })
    }
}

pub(crate) fn parse_u64(
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

#[cfg(test)]
mod tests {
    use super::*;
    use base64::{Engine, engine::general_purpose::STANDARD};

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
            ("GRAPHQL_TRUSTED_DOCUMENTS", "/nonexistent/manifest.json"),
            ("CAMPUS_PHOTO_PUBLIC_URL", "photo.example.edu.cn"),
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

    /// The defaults `serve --help` shows are the ones applied: setting each to its shown default
    /// changes nothing.
    #[test]
    fn the_documented_defaults_are_the_applied_ones() {
        let defaults = Config::from_vars(&vars(&[]), false).expect("defaults");
        let shown: Vec<(&str, &str)> = variables::VARIABLES
            .iter()
            .filter_map(|v| v.default.map(|d| (v.name, d)))
            .filter(|(name, _)| !matches!(*name, "RUST_LOG" | "LOG_FORMAT"))
            .collect();
        let mut explicit = Config::from_vars(&vars(&shown), false).expect("shown defaults");
        let mut defaults = defaults;
        assert!(defaults.rate_limits == explicit.rate_limits);
        defaults.rate_limits.clear();
        explicit.rate_limits.clear();
        assert_eq!(format!("{defaults:?}"), format!("{explicit:?}"));
        // Every variable a configuration file reads is one `--help` lists.
        let sources = [
            include_str!("mod.rs"),
            include_str!("service_info.rs"),
            include_str!("wechat.rs"),
            include_str!("limits.rs"),
            include_str!("network.rs"),
            include_str!("secret.rs"),
            include_str!("documents.rs"),
        ];
        let mut read = Vec::new();
        for source in sources {
            for call in ["get(\"", "text(\""] {
                for (at, _) in source.match_indices(call) {
                    let rest = &source[at + call.len()..];
                    let name = &rest[..rest.find('"').unwrap_or(0)];
                    if !name.is_empty()
                        && name
                            .bytes()
                            .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit())
                    {
                        read.push(name);
                    }
                }
            }
        }
        assert!(read.len() > 20, "the scan found only {read:?}");
        for name in read {
            assert!(
                variables::VARIABLES.iter().any(|v| v.name == name),
                "{name} is read but serve --help does not list it"
            );
        }
    }

    #[test]
    fn secret_key_is_never_printed() {
        let c = Config::from_vars(&vars(&[]), false).expect("defaults");
        assert!(!format!("{c:?}").contains(&STANDARD.encode([7u8; 32])));
    }
}
