//! JSON bodies and paths of the JSAPI calls the back end makes: place an order (JSAPI下单),
//! query and close it by our order number, and refund. Absent optional fields are not sent;
//! unknown fields in WeChat's answers are ignored so new fields do not break parsing.

use serde::{Deserialize, Serialize};

use crate::keys::MerchantKey;
use crate::signature::{SignatureError, pay_sign};

/// Base URL of the API; paths below are relative to it and are what the signature covers.
pub const BASE_URL: &str = "https://api.mch.weixin.qq.com";

pub const JSAPI_PATH: &str = "/v3/pay/transactions/jsapi";
pub const REFUNDS_PATH: &str = "/v3/refund/domestic/refunds";

/// `POST`: place a JSAPI / mini-program order, answered with a `prepay_id`.
pub fn jsapi_path() -> &'static str {
    JSAPI_PATH
}

/// `GET`: query an order by our order number (`out_trade_no`).
pub fn query_by_out_trade_no_path(out_trade_no: &str, mchid: &str) -> String {
    format!(
        "/v3/pay/transactions/out-trade-no/{}?mchid={}",
        encode_component(out_trade_no),
        encode_component(mchid)
    )
}

/// `POST` with [`CloseRequest`]: close an unpaid order (answered 204 No Content).
pub fn close_path(out_trade_no: &str) -> String {
    format!(
        "/v3/pay/transactions/out-trade-no/{}/close",
        encode_component(out_trade_no)
    )
}

/// `POST` with [`RefundRequest`]: apply for a refund.
pub fn refunds_path() -> &'static str {
    REFUNDS_PATH
}

/// Percent-encodes all but unreserved characters and `*`, so a path built here is the same
/// string the HTTP client sends, and so the same string the signature covers. WeChat order
/// numbers are `[0-9A-Za-z_\-*]`, which pass unchanged.
fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'*') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Order amount in fen (分).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    pub total: i64,
    pub currency: String,
}

/// The paying user: their openid under the order's `appid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payer {
    pub openid: String,
}

/// Body of `POST /v3/pay/transactions/jsapi`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsapiRequest {
    pub appid: String,
    pub mchid: String,
    pub description: String,
    pub out_trade_no: String,
    /// RFC 3339, e.g. `2018-06-08T10:34:56+08:00`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_expire: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach: Option<String>,
    pub notify_url: String,
    pub amount: Amount,
    pub payer: Payer,
}

/// Answer to a JSAPI order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsapiResponse {
    pub prepay_id: String,
}

/// Body of the close call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseRequest {
    pub mchid: String,
}

/// Refund amounts in fen: how much to refund out of the order's total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequestAmount {
    pub refund: i64,
    pub total: i64,
    pub currency: String,
}

/// Body of `POST /v3/refund/domestic/refunds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequest {
    pub out_trade_no: String,
    pub out_refund_no: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub notify_url: String,
    pub amount: RefundRequestAmount,
}

fn cny() -> String {
    "CNY".to_owned()
}

/// Amounts of a refund as WeChat reports them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundResponseAmount {
    pub total: i64,
    pub refund: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_total: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_refund: Option<i64>,
    /// CNY is WeChat's default when absent.
    #[serde(default = "cny")]
    pub currency: String,
}

/// Answer to a refund application. `status` is `SUCCESS`, `CLOSED`, `PROCESSING` or `ABNORMAL`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundResponse {
    pub refund_id: String,
    pub out_refund_no: String,
    #[serde(default)]
    pub transaction_id: String,
    #[serde(default)]
    pub out_trade_no: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_received_account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<RefundResponseAmount>,
}

/// Body of a 4xx/5xx answer, e.g. `{"code":"ORDERPAID","message":"该订单已支付"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    pub code: String,
    pub message: String,
}

/// The arguments of the mini-program's `wx.requestPayment`, signed, in its camelCase names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestPayment {
    pub time_stamp: String,
    pub nonce_str: String,
    pub package: String,
    pub sign_type: String,
    pub pay_sign: String,
}

impl RequestPayment {
    /// Signs the payment of `prepay_id` for `app_id`; `now_unix` and `nonce_str` from the caller.
    pub fn new(
        key: &MerchantKey,
        app_id: &str,
        prepay_id: &str,
        now_unix: i64,
        nonce_str: &str,
    ) -> Result<Self, SignatureError> {
        let time_stamp = now_unix.to_string();
        let package = format!("prepay_id={prepay_id}");
        let pay_sign = pay_sign(key, app_id, &time_stamp, nonce_str, &package)?;
        Ok(Self {
            time_stamp,
            nonce_str: nonce_str.to_owned(),
            package,
            sign_type: "RSA".to_owned(),
            pay_sign,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::signature::{pay_sign_message, verify_sha256_rsa};
    use crate::test_support::{key_a, merchant_a, ok};

    #[test]
    fn paths() {
        assert_eq!(jsapi_path(), "/v3/pay/transactions/jsapi");
        assert_eq!(refunds_path(), "/v3/refund/domestic/refunds");
        assert_eq!(
            query_by_out_trade_no_path("1217752501201407033233368018", "1230000109"),
            "/v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid=1230000109"
        );
        assert_eq!(
            close_path("CP_2024-0001*a"),
            "/v3/pay/transactions/out-trade-no/CP_2024-0001*a/close"
        );
        assert_eq!(
            close_path("a/b?c|d 订"),
            "/v3/pay/transactions/out-trade-no/a%2Fb%3Fc%7Cd%20%E8%AE%A2/close"
        );
    }

    #[test]
    fn jsapi_request_skips_absent_fields() {
        let mut request = JsapiRequest {
            appid: "wxd678efh567hg6787".into(),
            mchid: "1230000109".into(),
            description: "证件照采集".into(),
            out_trade_no: "1217752501201407033233368018".into(),
            time_expire: None,
            attach: None,
            notify_url: "https://example.com/wechatpay/notify".into(),
            amount: Amount {
                total: 100,
                currency: "CNY".into(),
            },
            payer: Payer {
                openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into(),
            },
        };
        let value = ok(serde_json::to_value(&request));
        assert_eq!(
            value,
            json!({
                "appid": "wxd678efh567hg6787",
                "mchid": "1230000109",
                "description": "证件照采集",
                "out_trade_no": "1217752501201407033233368018",
                "notify_url": "https://example.com/wechatpay/notify",
                "amount": {"total": 100, "currency": "CNY"},
                "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}
            })
        );
        request.time_expire = Some("2018-06-08T10:34:56+08:00".into());
        request.attach = Some("batch 7".into());
        let value = ok(serde_json::to_value(&request));
        assert_eq!(value["time_expire"], "2018-06-08T10:34:56+08:00");
        assert_eq!(value["attach"], "batch 7");
        let back: JsapiRequest = ok(serde_json::from_value(value));
        assert_eq!(back, request);
    }

    #[test]
    fn refund_request_shape() {
        let request = RefundRequest {
            out_trade_no: "1217752501201407033233368018".into(),
            out_refund_no: "1217752501201407033233368019".into(),
            reason: None,
            notify_url: "https://example.com/wechatpay/refund".into(),
            amount: RefundRequestAmount {
                refund: 50,
                total: 100,
                currency: "CNY".into(),
            },
        };
        let value = ok(serde_json::to_value(&request));
        assert_eq!(value.get("reason"), None);
        assert_eq!(
            value["amount"],
            json!({"refund": 50, "total": 100, "currency": "CNY"})
        );
        assert_eq!(
            ok(serde_json::to_value(CloseRequest {
                mchid: "1230000109".into()
            })),
            json!({"mchid": "1230000109"})
        );
    }

    #[test]
    fn responses_parse_and_ignore_unknown_fields() {
        let prepay: JsapiResponse = ok(serde_json::from_str(
            r#"{"prepay_id":"wx26112221580621e9b071c00d9e093b0000","new_field":1}"#,
        ));
        assert_eq!(prepay.prepay_id, "wx26112221580621e9b071c00d9e093b0000");

        let refund: RefundResponse = ok(serde_json::from_str(
            r#"{
                "refund_id": "50000000382019052709732678859",
                "out_refund_no": "1217752501201407033233368018",
                "transaction_id": "1217752501201407033233368018",
                "out_trade_no": "1217752501201407033233368018",
                "channel": "ORIGINAL",
                "user_received_account": "招商银行信用卡0403",
                "create_time": "2020-12-01T16:18:12+08:00",
                "status": "PROCESSING",
                "funds_account": "UNSETTLED",
                "amount": {
                    "total": 100, "refund": 100, "payer_total": 90, "payer_refund": 90,
                    "settlement_refund": 100, "settlement_total": 100, "discount_refund": 10,
                    "currency": "CNY", "from": []
                },
                "promotion_detail": []
            }"#,
        ));
        assert_eq!(refund.status, "PROCESSING");
        assert_eq!(refund.success_time, None);
        let amount = refund.amount.unwrap_or_else(|| panic!("amount"));
        assert_eq!(
            (amount.total, amount.refund, amount.payer_refund),
            (100, 100, Some(90))
        );

        let error: ApiErrorBody = ok(serde_json::from_str(
            r#"{"code":"PARAM_ERROR","message":"参数错误","detail":{"field":"/amount/total"}}"#,
        ));
        assert_eq!(error.code, "PARAM_ERROR");
    }

    #[test]
    fn request_payment_is_signed_over_its_fields() {
        let payment = ok(RequestPayment::new(
            merchant_a(),
            "wx8888888888888888",
            "wx201410272009395522657a690389285100",
            1_414_561_699,
            "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        ));
        let value = ok(serde_json::to_value(&payment));
        assert_eq!(value["timeStamp"], "1414561699");
        assert_eq!(
            value["package"],
            "prepay_id=wx201410272009395522657a690389285100"
        );
        assert_eq!(value["signType"], "RSA");
        let message = pay_sign_message(
            "wx8888888888888888",
            &payment.time_stamp,
            &payment.nonce_str,
            &payment.package,
        );
        assert_eq!(
            verify_sha256_rsa(
                &key_a().to_public_key(),
                message.as_bytes(),
                &payment.pay_sign
            ),
            Ok(())
        );
    }
}
