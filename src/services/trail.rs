//! Who changed an order and what its trail says about it: the two values every change of a photo
//! or print order carries down to its `order_events` row. Shared by orders, prints and the money
//! flow, so none of them imports another for it.
use campus_photo_domain::order::Actor;
use uuid::Uuid;

/// Who caused a change: the actor kind and, for people, their account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct By {
    pub actor: Actor,
    pub account_id: Option<Uuid>,
}

impl By {
    pub const SYSTEM: By = By {
        actor: Actor::System,
        account_id: None,
    };
    pub const WECHATPAY: By = By {
        actor: Actor::WeChatPay,
        account_id: None,
    };

    pub fn account(actor: Actor, account_id: Uuid) -> Self {
        Self {
            actor,
            account_id: Some(account_id),
        }
    }
}

/// What the event row says beside the statuses.
#[derive(Debug, Clone, Default)]
pub struct Detail {
    pub reason_code: Option<String>,
    pub message: Option<String>,
    pub payload: Option<serde_json::Value>,
    /// The print order the event is about, for 加洗 events on the photo order's trail.
    pub print_order_id: Option<Uuid>,
}

impl Detail {
    pub fn reason(code: &str, message: impl Into<String>) -> Self {
        Self {
            reason_code: Some(code.to_string()),
            message: Some(message.into()),
            payload: None,
            print_order_id: None,
        }
    }
}
