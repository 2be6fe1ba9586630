//! WeChat Pay API v3 (JSAPI for mini-programs) behind a trait: the real client, and a sandbox that
//! speaks the same protocol — it signs `wx.requestPayment` parameters with a merchant key and posts
//! notifications signed with its own platform key and encrypted with its APIv3 key, so the
//! notification handler verifies sandbox payments exactly as it verifies real ones.
mod real;
mod sandbox;

use async_trait::async_trait;
use campus_photo_wechatpay::{
    keys::{ApiV3Key, MerchantKey},
    notification::Transaction,
    signature,
};
use chrono::{DateTime, Utc};

pub use real::RealWeChatPay;
pub use sandbox::{RefundBehaviour, SANDBOX_MCHID, SandboxKeys, SandboxWeChatPay};

/// What WeChat needs to open a JSAPI payment.
#[derive(Debug, Clone)]
pub struct PayOrder {
    pub out_trade_no: String,
    pub description: String,
    pub amount_fen: i64,
    pub payer_openid: String,
    pub expires_at: DateTime<Utc>,
}

/// The parameters of `wx.requestPayment`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayParams {
    pub app_id: String,
    pub time_stamp: String,
    pub nonce_str: String,
    pub package: String,
    pub sign_type: String,
    pub pay_sign: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseOutcome {
    Closed,
    /// WeChat refused to close: the payment already went through.
    AlreadyPaid,
}

#[derive(Debug, Clone)]
pub struct RefundCall {
    pub out_trade_no: String,
    pub out_refund_no: String,
    pub reason: String,
    pub refund_fen: i64,
    pub total_fen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundAccepted {
    pub refund_id: String,
    /// SUCCESS | PROCESSING | …; the notification has the final word.
    pub status: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PayError {
    /// WeChat answered and said no (a business error such as NOT_ENOUGH or ORDER_NOT_EXIST).
    #[error("WeChat Pay refused: {code} {message}")]
    Rejected { code: String, message: String },
    /// WeChat could not be reached or failed; the call may be retried.
    #[error("WeChat Pay unavailable: {0}")]
    Unavailable(String),
    /// WeChat's answer did not verify or did not parse.
    #[error("WeChat Pay answer refused: {0}")]
    BadResponse(String),
}

#[async_trait]
pub trait WeChatPay: Send + Sync {
    /// `WECHATPAY` or `SANDBOX`, stored on each payment.
    fn provider(&self) -> &'static str;
    fn mchid(&self) -> &str;
    fn appid(&self) -> &str;
    /// Opens the JSAPI transaction and returns its prepay_id. Calling again with the same
    /// out_trade_no and amount returns a usable prepay_id again (WeChat's own idempotency).
    async fn create_jsapi(&self, order: &PayOrder) -> Result<String, PayError>;
    /// The `wx.requestPayment` parameters for a prepay_id, signed with the merchant key.
    fn pay_params(&self, prepay_id: &str, now: DateTime<Utc>) -> Result<PayParams, PayError>;
    /// The transaction as WeChat knows it; None when WeChat has no such order.
    async fn query(&self, out_trade_no: &str) -> Result<Option<Transaction>, PayError>;
    async fn close(&self, out_trade_no: &str) -> Result<CloseOutcome, PayError>;
    async fn refund(&self, call: &RefundCall) -> Result<RefundAccepted, PayError>;
    /// The sandbox, when this is one (for `sandboxCompletePayment`).
    fn as_sandbox(&self) -> Option<&SandboxWeChatPay> {
        None
    }
}

/// Signs `wx.requestPayment` parameters: RSA over "appId\ntimeStamp\nnonceStr\npackage\n".
pub(crate) fn sign_pay_params(
    merchant: &MerchantKey,
    app_id: &str,
    prepay_id: &str,
    now: DateTime<Utc>,
) -> Result<PayParams, PayError> {
    let time_stamp = now.timestamp().to_string();
    let nonce_str = signature::new_nonce();
    let package = format!("prepay_id={prepay_id}");
    let pay_sign = signature::pay_sign(merchant, app_id, &time_stamp, &nonce_str, &package)
        .map_err(|e| PayError::BadResponse(format!("signing pay parameters: {e}")))?;
    Ok(PayParams {
        app_id: app_id.to_string(),
        time_stamp,
        nonce_str,
        package,
        sign_type: "RSA".into(),
        pay_sign,
    })
}

/// What the notification handler trusts: platform keys by serial, and the APIv3 key.
pub struct NotificationTrust {
    pub platform_keys: campus_photo_wechatpay::keys::PlatformKeys,
    pub apiv3_key: ApiV3Key,
}
