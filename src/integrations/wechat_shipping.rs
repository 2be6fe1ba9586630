//! WeChat's shipping-information upload (小程序发货信息管理, `upload_shipping_info`) behind a
//! trait. Mini-programs that take WeChat Pay for goods must report how each paid order was
//! shipped, or WeChat holds the merchant's settlement. The real client posts to
//! `/wxa/sec/order/upload_shipping_info`; the sandbox checks the same rules and accepts.
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, FixedOffset, Utc};

use super::{wechat_login::WeChatLogin, wechat_messages::SendError};

/// WeChat wants the upload time in RFC 3339 with the China offset.
const SHANGHAI: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

/// 1: 实体物流配送, goods sent by a carrier (print orders).
pub const LOGISTICS_EXPRESS: u8 = 1;
/// 3: 虚拟商品 (虚拟发货), nothing is sent by a carrier (the electronic photo of a photo order).
pub const LOGISTICS_VIRTUAL: u8 = 3;

/// One paid order's shipment, as WeChat wants it: an express parcel (logistics type 1) or
/// virtual goods (type 3, no carrier or tracking number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippingInfo {
    /// [`LOGISTICS_EXPRESS`] or [`LOGISTICS_VIRTUAL`].
    pub logistics_type: u8,
    pub mchid: String,
    pub out_trade_no: String,
    pub payer_openid: String,
    /// WeChat's delivery id of the carrier (SF, ZTO, …); empty for virtual goods.
    pub express_company: String,
    pub tracking_no: String,
    /// What is in the parcel, ≤ 120 characters.
    pub item_desc: String,
    /// The receiver's phone, masked (WeChat requires it for SF; 138****8000).
    pub receiver_contact: Option<String>,
    pub upload_time: DateTime<Utc>,
}

impl ShippingInfo {
    /// The request body of `upload_shipping_info`.
    pub fn body(&self) -> serde_json::Value {
        let mut parcel = if self.is_virtual() {
            serde_json::json!({ "item_desc": self.item_desc })
        } else {
            serde_json::json!({
                "tracking_no": self.tracking_no,
                "express_company": self.express_company,
                "item_desc": self.item_desc,
            })
        };
        if let Some(contact) = &self.receiver_contact {
            parcel["contact"] = serde_json::json!({ "receiver_contact": contact });
        }
        serde_json::json!({
            // 1: the order is named by merchant id + out_trade_no.
            "order_key": {
                "order_number_type": 1,
                "mchid": self.mchid,
                "out_trade_no": self.out_trade_no,
            },
            // 1: 实体物流配送 (express) or 3: 虚拟商品; delivery mode 1: one parcel.
            "logistics_type": self.logistics_type,
            "delivery_mode": 1,
            "shipping_list": [parcel],
            "upload_time": self.upload_time.with_timezone(&SHANGHAI).to_rfc3339_opts(chrono::SecondsFormat::Millis, false),
            "payer": { "openid": self.payer_openid },
        })
    }

    pub fn is_virtual(&self) -> bool {
        self.logistics_type == LOGISTICS_VIRTUAL
    }

    /// The rules WeChat enforces on the body, checked before sending (the sandbox's answer).
    pub fn problems(&self) -> Option<String> {
        if self.payer_openid.is_empty() || self.out_trade_no.is_empty() {
            return Some("order_key".into());
        }
        if self.is_virtual() {
            return (self.item_desc.is_empty() || self.item_desc.chars().count() > 120)
                .then(|| "item_desc".into());
        }
        if self.tracking_no.is_empty() || self.tracking_no.len() > 128 {
            return Some("tracking_no".into());
        }
        if self.express_company.is_empty() {
            return Some("express_company".into());
        }
        if self.item_desc.is_empty() || self.item_desc.chars().count() > 120 {
            return Some("item_desc".into());
        }
        if self.payer_openid.is_empty() || self.out_trade_no.is_empty() {
            return Some("order_key".into());
        }
        if self.express_company == "SF" && self.receiver_contact.is_none() {
            return Some("contact required for SF".into());
        }
        None
    }
}

#[async_trait]
pub trait WeChatShipping: Send + Sync {
    fn provider(&self) -> &'static str;
    async fn upload(&self, info: &ShippingInfo) -> Result<(), SendError>;
}

/// Checks the rules WeChat would and accepts.
pub struct SandboxWeChatShipping;

#[async_trait]
impl WeChatShipping for SandboxWeChatShipping {
    fn provider(&self) -> &'static str {
        "SANDBOX"
    }

    async fn upload(&self, info: &ShippingInfo) -> Result<(), SendError> {
        match info.problems() {
            None => Ok(()),
            Some(field) => Err(SendError::Refused {
                code: 10060001,
                message: format!("invalid {field}"),
            }),
        }
    }
}

pub struct RealWeChatShipping {
    http: reqwest::Client,
    base: String,
    login: Arc<dyn WeChatLogin>,
}

/// 10060003: the order was already reported shipped (a retry after a lost answer).
const ALREADY_UPLOADED: i64 = 10060003;

impl RealWeChatShipping {
    pub fn new(http: reqwest::Client, base: String, login: Arc<dyn WeChatLogin>) -> Self {
        Self { http, base, login }
    }
}

#[async_trait]
impl WeChatShipping for RealWeChatShipping {
    fn provider(&self) -> &'static str {
        "WECHAT"
    }

    async fn upload(&self, info: &ShippingInfo) -> Result<(), SendError> {
        let url = format!("{}/wxa/sec/order/upload_shipping_info", self.base);
        super::wechat_api::post_with_token(
            &self.http,
            self.login.as_ref(),
            &url,
            &info.body(),
            &[ALREADY_UPLOADED],
        )
        .await
    }
}
