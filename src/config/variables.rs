//! Every environment variable the service reads, with its default as `serve --help` shows it
//! (the defaults themselves are applied where each variable is read; a test holds the two
//! together).

/// One environment variable.
pub struct Variable {
    pub name: &'static str,
    /// What `--help` shows as the default; `None` where there is none (unset means off, the
    /// sandbox, or a value derived from others).
    pub default: Option<&'static str>,
    pub help: &'static str,
    /// Never echo its value.
    pub secret: bool,
}

const fn var(name: &'static str, default: Option<&'static str>, help: &'static str) -> Variable {
    Variable {
        name,
        default,
        help,
        secret: false,
    }
}

const fn secret(name: &'static str, help: &'static str) -> Variable {
    Variable {
        name,
        default: None,
        help,
        secret: true,
    }
}

pub const VARIABLES: &[Variable] = &[
    var(
        "CAMPUS_PHOTO_BIND",
        Some("127.0.0.1:8080"),
        "Listen address (host:port)",
    ),
    var(
        "CAMPUS_PHOTO_PUBLIC_URL",
        None,
        "The address clients reach the service at (https://host[/prefix]); links are absolute under it [default: unset → paths on this host]",
    ),
    var(
        "DATABASE_URL",
        Some("sqlite://data/campus-photo.db?mode=rwc"),
        "SQLite or postgres://…; migrated at start",
    ),
    var(
        "REDIS_URL",
        None,
        "redis://host:port: event bus, limits and persisted queries across instances [default: unset → in process]",
    ),
    var(
        "CAMPUS_PHOTO_STORAGE",
        Some("file://data/objects"),
        "Object storage: file://dir or s3://bucket/prefix",
    ),
    secret(
        "CAMPUS_PHOTO_SECRET_KEY",
        "32 bytes, base64 [default: SQLite → generated into data/secret.key; PostgreSQL → required]",
    ),
    secret(
        "CAMPUS_PHOTO_BOOTSTRAP_ADMIN",
        "username:password of an admin created at start if missing [default: unset]",
    ),
    var(
        "COLLECTION_CODE_KEYS",
        None,
        "iss:kid:base64(ed25519 public key) entries, comma-separated [default: the development key]",
    ),
    var(
        "WECHAT_APPID",
        None,
        "Mini-program app id [default: unset → WeChat sandbox]",
    ),
    secret("WECHAT_SECRET", "Mini-program app secret [default: unset]"),
    var(
        "WECHAT_API_BASE",
        Some("https://api.weixin.qq.com"),
        "Where the real WeChat client calls",
    ),
    var(
        "WECHAT_REVIEW_TEMPLATE_ID",
        Some("sandbox-review-result"),
        "Subscription-message template for review results",
    ),
    var(
        "WECHAT_COMPLETED_TEMPLATE_ID",
        Some("sandbox-order-completed"),
        "Subscription-message template for 制作完成，可下载电子照片",
    ),
    var(
        "WECHAT_PAYMENT_REMINDER_TEMPLATE_ID",
        Some("sandbox-payment-reminder"),
        "Subscription-message template for the reminder before an unpaid order closes",
    ),
    var(
        "WECHAT_FINISH_REMINDER_TEMPLATE_ID",
        Some("sandbox-finish-reminder"),
        "Subscription-message template for an operator's reminder to finish the collection",
    ),
    var(
        "WECHATPAY_MCHID",
        None,
        "WeChat Pay merchant id [default: unset → payment sandbox]",
    ),
    var(
        "WECHATPAY_MERCHANT_SERIAL",
        None,
        "Merchant API certificate serial [default: unset]",
    ),
    var(
        "WECHATPAY_MERCHANT_KEY_PATH",
        None,
        "Merchant private key (apiclient_key.pem) [default: unset]",
    ),
    secret(
        "WECHATPAY_APIV3_KEY",
        "The 32-character APIv3 key [default: unset]",
    ),
    var(
        "WECHATPAY_PLATFORM_SERIAL",
        None,
        "WeChat Pay public key id [default: unset]",
    ),
    var(
        "WECHATPAY_PLATFORM_PUBLIC_KEY_PATH",
        None,
        "WeChat Pay public key (pub_key.pem) [default: unset]",
    ),
    var(
        "WECHATPAY_NOTIFY_URL",
        None,
        "Where WeChat Pay posts notifications [default: sandbox → http://<bind>/payments/wechat/notify]",
    ),
    var(
        "WECHATPAY_API_BASE",
        Some("https://api.mch.weixin.qq.com"),
        "Where the real WeChat Pay client calls",
    ),
    var(
        "SESSION_TTL_SECS",
        Some("604800"),
        "How long a sign-in lasts, in seconds",
    ),
    var(
        "ORDER_PAYMENT_TIMEOUT_SECS",
        Some("1800"),
        "Unpaid orders close after this many seconds",
    ),
    var(
        "REVIEW_CLAIM_TTL_SECS",
        Some("300"),
        "How long a reviewer's claim on an order lasts, in seconds",
    ),
    var(
        "AGREEMENT_TITLE",
        Some("《大学生图像信息采集网服务使用协议》"),
        "The agreement students accept",
    ),
    var(
        "AGREEMENT_VERSION",
        Some("2024.1"),
        "The agreement version students accept",
    ),
    var(
        "AGREEMENT_URL",
        None,
        "Where the agreement is published (served instead of its text)",
    ),
    var(
        "AGREEMENT_TEXT",
        None,
        "The agreement's text (a built-in text when unset)",
    ),
    var(
        "PRIVACY_TITLE",
        Some("《个人信息保护政策》"),
        "The privacy notice (个人信息保护) students accept apart from the agreement",
    ),
    var(
        "PRIVACY_VERSION",
        Some("2024.1"),
        "The privacy notice version students accept",
    ),
    var(
        "PRIVACY_URL",
        None,
        "Where the privacy notice is published (served instead of its text)",
    ),
    var(
        "PRIVACY_TEXT",
        None,
        "The privacy notice's text (a built-in text when unset)",
    ),
    var(
        "CUSTOMER_SERVICE_PHONE",
        Some("010-63072281"),
        "Shown by serviceInfo",
    ),
    var(
        "CUSTOMER_SERVICE_EMAIL",
        Some("xhszgtps@163.com"),
        "Shown by serviceInfo",
    ),
    var(
        "CUSTOMER_SERVICE_HOURS",
        Some("周一至周五 8:00-17:00"),
        "Shown by serviceInfo",
    ),
    var(
        "MAX_UPLOAD_BYTES",
        Some("10485760"),
        "Largest accepted upload",
    ),
    var(
        "RATE_LIMIT_SIGN_IN",
        Some("60/60"),
        "Sign-ins per client IP per window: <max>/<seconds>",
    ),
    var(
        "RATE_LIMIT_DECODE_CODE",
        Some("20/60"),
        "decodeCollectionCode per account: <max>/<seconds>",
    ),
    var(
        "RATE_LIMIT_UPLOAD",
        Some("20/60"),
        "uploadPhoto per account: <max>/<seconds>",
    ),
    var(
        "RATE_LIMIT_CREATE_PAYMENT",
        Some("20/60"),
        "createPayment per account: <max>/<seconds>",
    ),
    var(
        "RATE_LIMIT_PAYMENT_NOTIFICATION",
        Some("600/60"),
        "Payment notifications per IP: <max>/<seconds>",
    ),
    var(
        "RATE_LIMIT_NAMESPACE",
        Some("campus-photo"),
        "Prefix of the keys in Redis (rate limits, persisted queries)",
    ),
    var(
        "GRAPHQL_INTROSPECTION",
        Some("true"),
        "false hides the schema (introspection, suggestions, playground examples)",
    ),
    var(
        "GRAPHQL_TRUSTED_DOCUMENTS",
        None,
        "A manifest (JSON, hash → document); when set only its documents are answered [default: unset → any document]",
    ),
    var(
        "CAMPUS_PHOTO_TRUSTED_PROXIES",
        None,
        "Reverse proxies (addresses or CIDR blocks) whose X-Forwarded-For is believed [default: unset → none]",
    ),
    var(
        "CAMPUS_PHOTO_METRICS_BIND",
        Some("127.0.0.1:9090"),
        "Where /metrics is served (off to switch it off)",
    ),
    var(
        "RUST_LOG",
        Some("info,sqlx=warn,sea_orm=warn,tower_http=info"),
        "Log filter",
    ),
    var(
        "LOG_FORMAT",
        Some("text"),
        "text or json (text has colours only on a terminal)",
    ),
];
