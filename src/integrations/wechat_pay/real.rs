//! The real WeChat Pay v3 client: every request signed `WECHATPAY2-SHA256-RSA2048` with the
//! merchant key, every answer's `Wechatpay-Signature` verified with the platform key before its
//! body is believed.
use async_trait::async_trait;
use campus_photo_wechatpay::{
    api,
    keys::{MerchantKey, PlatformKeys},
    notification::{self, NotificationHeaders, Transaction},
    signature,
};
use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use super::{
    CloseOutcome, PayError, PayOrder, PayParams, RefundAccepted, RefundCall, WeChatPay,
    sign_pay_params,
};
use crate::clock::SharedClock;

/// Answers older or newer than this are refused, as notifications are.
const MAX_SKEW_SECS: i64 = 300;

pub struct RealWeChatPay {
    http: reqwest::Client,
    base: String,
    mchid: String,
    appid: String,
    merchant: MerchantKey,
    platform: PlatformKeys,
    notify_url: String,
    clock: SharedClock,
}

struct Answer {
    status: StatusCode,
    body: Vec<u8>,
}

impl RealWeChatPay {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        http: reqwest::Client,
        base: String,
        mchid: String,
        appid: String,
        merchant: MerchantKey,
        platform: PlatformKeys,
        notify_url: String,
        clock: SharedClock,
    ) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_string(),
            mchid,
            appid,
            merchant,
            platform,
            notify_url,
            clock,
        }
    }

    async fn call(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<String>,
    ) -> Result<Answer, PayError> {
        let now = self.clock.now().timestamp();
        let nonce = signature::new_nonce();
        let body_text = body.unwrap_or_default();
        let authorization = signature::authorization_header(
            &self.mchid,
            &self.merchant,
            method.as_str(),
            path_and_query,
            now,
            &nonce,
            &body_text,
        )
        .map_err(|e| PayError::BadResponse(format!("signing the request: {e}")))?;
        let mut request = self
            .http
            .request(method, format!("{}{}", self.base, path_and_query))
            .header("Authorization", authorization)
            .header("Accept", "application/json")
            .header("User-Agent", "campus-photo");
        if !body_text.is_empty() {
            request = request
                .header("Content-Type", "application/json")
                .body(body_text);
        }
        let response = request
            .send()
            .await
            .map_err(|e| PayError::Unavailable(e.to_string()))?;
        let status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (timestamp, nonce, sig, serial) = (
            header("Wechatpay-Timestamp"),
            header("Wechatpay-Nonce"),
            header("Wechatpay-Signature"),
            header("Wechatpay-Serial"),
        );
        let body = response
            .bytes()
            .await
            .map_err(|e| PayError::Unavailable(e.to_string()))?
            .to_vec();
        // 5xx and 429 (FREQUENCY_LIMITED) are worth retrying later; other 4xx are answers.
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(PayError::Unavailable(format!(
                "{status}: {}",
                String::from_utf8_lossy(&body)
            )));
        }
        if status.is_success() {
            self.verify_answer(timestamp, nonce, sig, serial, &body)?;
        }
        Ok(Answer { status, body })
    }

    /// A 2xx answer counts only when WeChat's platform key signed it, recently.
    fn verify_answer(
        &self,
        timestamp: Option<String>,
        nonce: Option<String>,
        sig: Option<String>,
        serial: Option<String>,
        body: &[u8],
    ) -> Result<(), PayError> {
        let (Some(timestamp), Some(nonce), Some(signature), Some(serial)) =
            (timestamp, nonce, sig, serial)
        else {
            return Err(PayError::BadResponse("unsigned answer".into()));
        };
        let headers = NotificationHeaders {
            timestamp,
            nonce,
            signature,
            serial,
        };
        notification::verify_signed(
            &headers,
            body,
            &self.platform,
            self.clock.now().timestamp(),
            MAX_SKEW_SECS,
        )
        .map_err(|e| PayError::BadResponse(format!("answer refused: {e}")))
    }
}

fn rejected(answer: &Answer) -> PayError {
    match serde_json::from_slice::<api::ApiErrorBody>(&answer.body) {
        Ok(e) => PayError::Rejected {
            code: e.code,
            message: e.message,
        },
        Err(_) => PayError::Rejected {
            code: answer.status.as_u16().to_string(),
            message: String::from_utf8_lossy(&answer.body).into_owned(),
        },
    }
}

fn parse<T: DeserializeOwned>(answer: &Answer) -> Result<T, PayError> {
    serde_json::from_slice(&answer.body).map_err(|e| PayError::BadResponse(e.to_string()))
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, PayError> {
    serde_json::to_string(value).map_err(|e| PayError::BadResponse(e.to_string()))
}

#[async_trait]
impl WeChatPay for RealWeChatPay {
    fn provider(&self) -> &'static str {
        "WECHATPAY"
    }

    fn mchid(&self) -> &str {
        &self.mchid
    }

    fn appid(&self) -> &str {
        &self.appid
    }

    async fn create_jsapi(&self, order: &PayOrder) -> Result<String, PayError> {
        let request = api::JsapiRequest {
            appid: self.appid.clone(),
            mchid: self.mchid.clone(),
            description: order.description.clone(),
            out_trade_no: order.out_trade_no.clone(),
            time_expire: Some(rfc3339(order.expires_at)),
            attach: None,
            notify_url: self.notify_url.clone(),
            amount: api::Amount {
                total: order.amount_fen,
                currency: "CNY".into(),
            },
            payer: api::Payer {
                openid: order.payer_openid.clone(),
            },
        };
        let answer = self
            .call(Method::POST, api::JSAPI_PATH, Some(json(&request)?))
            .await?;
        if !answer.status.is_success() {
            return Err(rejected(&answer));
        }
        Ok(parse::<api::JsapiResponse>(&answer)?.prepay_id)
    }

    fn pay_params(&self, prepay_id: &str, now: DateTime<Utc>) -> Result<PayParams, PayError> {
        sign_pay_params(&self.merchant, &self.appid, prepay_id, now)
    }

    async fn query(&self, out_trade_no: &str) -> Result<Option<Transaction>, PayError> {
        let path = api::query_by_out_trade_no_path(out_trade_no, &self.mchid);
        let answer = self.call(Method::GET, &path, None).await?;
        if !answer.status.is_success() {
            let e = rejected(&answer);
            if matches!(&e, PayError::Rejected { code, .. } if code == "ORDER_NOT_EXIST") {
                return Ok(None);
            }
            return Err(e);
        }
        parse(&answer).map(Some)
    }

    async fn close(&self, out_trade_no: &str) -> Result<CloseOutcome, PayError> {
        let body = json(&api::CloseRequest {
            mchid: self.mchid.clone(),
        })?;
        let answer = self
            .call(Method::POST, &api::close_path(out_trade_no), Some(body))
            .await?;
        if answer.status.is_success() {
            return Ok(CloseOutcome::Closed);
        }
        match rejected(&answer) {
            PayError::Rejected { code, .. } if code == "ORDERPAID" || code == "ORDER_PAID" => {
                Ok(CloseOutcome::AlreadyPaid)
            }
            // Never opened at WeChat: there is nothing to close.
            PayError::Rejected { code, .. } if code == "ORDER_NOT_EXIST" => {
                Ok(CloseOutcome::Closed)
            }
            e => Err(e),
        }
    }

    async fn refund(&self, call: &RefundCall) -> Result<RefundAccepted, PayError> {
        let request = api::RefundRequest {
            out_trade_no: call.out_trade_no.clone(),
            out_refund_no: call.out_refund_no.clone(),
            reason: Some(call.reason.clone()),
            notify_url: self.notify_url.clone(),
            amount: api::RefundRequestAmount {
                refund: call.refund_fen,
                total: call.total_fen,
                currency: "CNY".into(),
            },
        };
        let answer = self
            .call(Method::POST, api::REFUNDS_PATH, Some(json(&request)?))
            .await?;
        if !answer.status.is_success() {
            return Err(rejected(&answer));
        }
        let refund: api::RefundResponse = parse(&answer)?;
        Ok(RefundAccepted {
            refund_id: refund.refund_id,
            status: refund.status,
        })
    }
}

fn rfc3339(at: DateTime<Utc>) -> String {
    match chrono::FixedOffset::east_opt(8 * 3600) {
        Some(offset) => at
            .with_timezone(&offset)
            .format("%Y-%m-%dT%H:%M:%S%:z")
            .to_string(),
        None => at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    }
}
