//! Limits: request-shape bounds, and the rate-limit rules per action (`RATE_LIMIT_<ACTION>`),
//! which `services::limits` enforces.
use std::collections::HashMap;

use super::{ConfigError, invalid};

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

/// What is being limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    SignIn,
    DecodeCode,
    Upload,
    CreatePayment,
    PaymentNotification,
}

impl Action {
    pub const ALL: [Action; 5] = [
        Self::SignIn,
        Self::DecodeCode,
        Self::Upload,
        Self::CreatePayment,
        Self::PaymentNotification,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::DecodeCode => "decode_code",
            Self::Upload => "upload",
            Self::CreatePayment => "create_payment",
            Self::PaymentNotification => "payment_notification",
        }
    }

    /// The configuration variable.
    pub const fn variable(self) -> &'static str {
        match self {
            Self::SignIn => "RATE_LIMIT_SIGN_IN",
            Self::DecodeCode => "RATE_LIMIT_DECODE_CODE",
            Self::Upload => "RATE_LIMIT_UPLOAD",
            Self::CreatePayment => "RATE_LIMIT_CREATE_PAYMENT",
            Self::PaymentNotification => "RATE_LIMIT_PAYMENT_NOTIFICATION",
        }
    }

    /// Defaults: a person at a phone never comes near them; a script does at once.
    pub const fn default_rule(self) -> Rule {
        match self {
            // Per IP: a campus NAT puts many students behind one address.
            Self::SignIn => Rule::new(60, 60),
            Self::DecodeCode => Rule::new(20, 60),
            Self::Upload => Rule::new(20, 60),
            Self::CreatePayment => Rule::new(20, 60),
            // WeChat posts from a few addresses for every merchant order.
            Self::PaymentNotification => Rule::new(600, 60),
        }
    }
}

/// At most `max` in each window of `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub max: u64,
    pub window_secs: u64,
}

impl Rule {
    pub const fn new(max: u64, window_secs: u64) -> Self {
        Self { max, window_secs }
    }

    /// `"<max>/<window seconds>"`, e.g. `20/60`.
    pub fn parse(text: &str) -> Option<Self> {
        let (max, window) = text.trim().split_once('/')?;
        let rule = Self::new(max.trim().parse().ok()?, window.trim().parse().ok()?);
        (rule.max > 0 && rule.window_secs > 0).then_some(rule)
    }

    /// The window `now` falls in, and the seconds until it ends.
    pub fn window(self, now_secs: i64) -> (i64, u64) {
        let width = i64::try_from(self.window_secs).unwrap_or(i64::MAX);
        let index = now_secs.div_euclid(width);
        let ends = (index + 1).saturating_mul(width);
        (index, u64::try_from(ends - now_secs).unwrap_or(1).max(1))
    }
}

/// Reads `MAX_UPLOAD_BYTES`, every `RATE_LIMIT_<ACTION>` and `RATE_LIMIT_NAMESPACE`.
pub(super) fn read<'a>(
    get: &impl Fn(&str) -> Option<&'a str>,
) -> Result<(Limits, HashMap<Action, Rule>, String), ConfigError> {
    let mut limits = Limits::default();
    if let Some(v) = get("MAX_UPLOAD_BYTES") {
        limits.max_upload_bytes =
            v.parse().ok().filter(|n| *n >= 1024).ok_or_else(|| {
                invalid("MAX_UPLOAD_BYTES", "expected a byte count of at least 1024")
            })?;
    }

    let mut rate_limits = HashMap::new();
    for action in Action::ALL {
        let variable = action.variable();
        let rule = match get(variable) {
            Some(text) => Rule::parse(text)
                .ok_or_else(|| invalid(variable, "expected <max>/<seconds>, e.g. 20/60"))?,
            None => action.default_rule(),
        };
        rate_limits.insert(action, rule);
    }
    let rate_limit_namespace = get("RATE_LIMIT_NAMESPACE")
        .unwrap_or("campus-photo")
        .to_string();
    Ok((limits, rate_limits, rate_limit_namespace))
}
