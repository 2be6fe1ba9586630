//! WeChat (the mini-program's login and server API) and WeChat Pay (the merchant), each unset for
//! its sandbox. Every key file must exist and parse at start, not at the first payment.
use super::{ConfigError, invalid};

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

/// The WeChat and WeChat Pay variables, read together: a merchant needs the mini-program.
pub(super) struct WeChatSettings {
    pub app: Option<WeChatAppConfig>,
    pub api_base: String,
    pub review_template_id: String,
    pub completed_template_id: String,
    pub payment_reminder_template_id: String,
    pub finish_reminder_template_id: String,
    pub pay: Option<WeChatPayConfig>,
    pub pay_notify_url: Option<String>,
    pub pay_api_base: String,
}

pub(super) fn read<'a>(
    get: &impl Fn(&str) -> Option<&'a str>,
    trusts_dev_codes: bool,
) -> Result<WeChatSettings, ConfigError> {
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
    let completed_template_id = get("WECHAT_COMPLETED_TEMPLATE_ID")
        .unwrap_or("sandbox-order-completed")
        .to_string();
    let payment_reminder_template_id = get("WECHAT_PAYMENT_REMINDER_TEMPLATE_ID")
        .unwrap_or("sandbox-payment-reminder")
        .to_string();
    let finish_reminder_template_id = get("WECHAT_FINISH_REMINDER_TEMPLATE_ID")
        .unwrap_or("sandbox-finish-reminder")
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
    Ok(WeChatSettings {
        app: wechat,
        api_base: wechat_api_base,
        review_template_id: wechat_review_template_id,
        completed_template_id,
        payment_reminder_template_id,
        finish_reminder_template_id,
        pay: wechat_pay,
        pay_notify_url: wechat_pay_notify_url,
        pay_api_base: wechat_pay_api_base,
    })
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
