//! 支付订单: WeChat Pay transactions — opening, closing, the sandbox's "pay now" — beneath the
//! money flow of [`checkout`], which owns the order-side sequence for photo and print orders
//! alike. An order becomes PAID only from a verified notification ([`notify`]) or a verified
//! query.
pub mod apply;
pub mod checkout;
pub mod nonces;
pub mod notify;
pub mod refunds;

use campus_photo_domain::records::PaymentState;
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::Expr,
};
use uuid::Uuid;

use super::sessions::Viewer;
use crate::{
    AppState,
    entities::{account, payment},
    error::{AppError, AppResult},
    integrations::wechat_pay::{CloseOutcome, PayError, PayOrder, PayParams, SandboxWeChatPay},
};

/// WeChat keeps a prepay_id usable for two hours; renew it a little earlier.
const PREPAY_REUSE: TimeDelta = TimeDelta::minutes(100);

/// Maps a refusal by WeChat to what the student sees, and an outage to an upstream error.
pub fn pay_error(e: PayError, code: &str, what: &str) -> AppError {
    match e {
        PayError::Rejected { code: wx, message } => {
            tracing::info!(wechat_code = %wx, %message, "WeChat Pay refused");
            AppError::user(code, "orderId", format!("{what}：{message}（{wx}）"))
        }
        other => AppError::Upstream(other.to_string()),
    }
}

/// A WeChat Pay transaction to open: a photo order or a print order (加洗), each its own
/// out_trade_no.
pub(super) struct Opening {
    pub out_trade_no: String,
    pub amount_fen: i64,
    pub created_at: DateTime<Utc>,
    pub description: String,
    pub order_id: Option<Uuid>,
    pub print_order_id: Option<Uuid>,
}

/// Opens (or reuses, while its prepay_id is fresh) the transaction and signs the parameters of
/// `wx.requestPayment`.
pub(super) async fn open(
    state: &AppState,
    viewer: &Viewer,
    payable: Opening,
) -> AppResult<PayParams> {
    let now = state.clock.now();
    let timeout =
        TimeDelta::from_std(state.config.order_payment_timeout).map_err(AppError::internal)?;
    let expires_at = payable.created_at + timeout;
    if expires_at <= now {
        return Err(AppError::user(
            "PAYMENT_EXPIRED",
            "orderId",
            "订单已超过支付时限，请重新提交",
        ));
    }
    let existing = payment::Entity::find()
        .filter(payment::Column::OutTradeNo.eq(payable.out_trade_no.clone()))
        .one(&state.db)
        .await?;
    if let Some(p) = &existing
        && let (Some(prepay_id), Some(created)) = (&p.prepay_id, p.prepay_created_at)
        && now - created < PREPAY_REUSE
    {
        return state
            .wechat_pay
            .pay_params(prepay_id, now)
            .map_err(AppError::internal);
    }
    let openid = account::Entity::find_by_id(viewer.account_id)
        .one(&state.db)
        .await?
        .and_then(|a| a.wechat_openid)
        .ok_or_else(|| AppError::internal("student without openid"))?;
    let prepay_id = state
        .wechat_pay
        .create_jsapi(&PayOrder {
            out_trade_no: payable.out_trade_no.clone(),
            // WeChat allows 127 bytes of description.
            description: truncate_bytes(&payable.description, 127),
            amount_fen: payable.amount_fen,
            payer_openid: openid.clone(),
            expires_at,
        })
        .await
        .map_err(|e| pay_error(e, "PAYMENT_FAILED", "发起支付失败"))?;
    match existing {
        Some(p) => {
            let mut active: payment::ActiveModel = p.into();
            active.prepay_id = Set(Some(prepay_id.clone()));
            active.prepay_created_at = Set(Some(now));
            active.updated_at = Set(now);
            active.update(&state.db).await?;
        }
        None => {
            payment::ActiveModel {
                id: Set(Uuid::now_v7()),
                order_id: Set(payable.order_id),
                print_order_id: Set(payable.print_order_id),
                provider: Set(state.wechat_pay.provider().into()),
                out_trade_no: Set(payable.out_trade_no),
                prepay_id: Set(Some(prepay_id.clone())),
                prepay_created_at: Set(Some(now)),
                transaction_id: Set(None),
                amount_fen: Set(payable.amount_fen),
                payer_openid: Set(Some(openid)),
                state: Set(PaymentState::Created),
                notification: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                paid_at: Set(None),
            }
            .insert(&state.db)
            .await?;
        }
    }
    state
        .wechat_pay
        .pay_params(&prepay_id, now)
        .map_err(AppError::internal)
}

fn truncate_bytes(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if out.len() + c.len_utf8() > max {
            break;
        }
        out.push(c);
    }
    out
}

/// With a real merchant the sandbox cannot pay; said before anything is looked up.
pub(super) fn require_sandbox(state: &AppState) -> AppResult<&SandboxWeChatPay> {
    state.wechat_pay.as_sandbox().ok_or_else(|| {
        AppError::user(
            "SANDBOX_ONLY",
            "orderId",
            "仅在支付沙箱中可用：已配置真实商户，请在微信中完成支付",
        )
    })
}

pub(super) async fn sandbox_pay(state: &AppState, out_trade_no: &str) -> AppResult<()> {
    require_sandbox(state)?
        .complete_payment(out_trade_no)
        .await
        .map_err(|e| match e {
            PayError::Rejected { code, .. } if code == "ORDER_NOT_EXIST" => AppError::user(
                "PAYMENT_NOT_CREATED",
                "orderId",
                "请先发起支付（createPayment）",
            ),
            other => pay_error(other, "PAYMENT_FAILED", "沙箱支付失败"),
        })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    Closed,
    /// WeChat had the money: the payment was applied instead.
    AlreadyPaid,
}

/// Closes an order's (or print order's) transaction at WeChat before it closes here, so it
/// cannot be paid after. When WeChat reports it paid, the verified transaction is applied.
pub async fn close_at_wechat(state: &AppState, out_trade_no: &str) -> AppResult<Closed> {
    let opened = payment::Entity::find()
        .filter(payment::Column::OutTradeNo.eq(out_trade_no))
        .one(&state.db)
        .await?;
    if opened.is_none() {
        return Ok(Closed::Closed);
    }
    match state.wechat_pay.close(out_trade_no).await {
        Ok(CloseOutcome::Closed) => Ok(Closed::Closed),
        Ok(CloseOutcome::AlreadyPaid) => {
            let transaction = state
                .wechat_pay
                .query(out_trade_no)
                .await
                .map_err(|e| AppError::Upstream(e.to_string()))?
                .ok_or_else(|| AppError::Upstream("paid order unknown to WeChat".into()))?;
            let raw = serde_json::to_value(&transaction).map_err(AppError::internal)?;
            apply::transaction(state, &transaction, raw)
                .await
                .map_err(|e| AppError::internal(e.to_string()))?;
            Ok(Closed::AlreadyPaid)
        }
        Err(e) => Err(AppError::Upstream(e.to_string())),
    }
}

/// Marks the payment of `out_trade_no` closed along with its order.
pub async fn mark_closed(
    db: &impl ConnectionTrait,
    out_trade_no: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    payment::Entity::update_many()
        .col_expr(payment::Column::State, Expr::value(PaymentState::Closed))
        .col_expr(payment::Column::UpdatedAt, Expr::value(now))
        .filter(payment::Column::OutTradeNo.eq(out_trade_no))
        .filter(payment::Column::State.eq(PaymentState::Created))
        .exec(db)
        .await?;
    Ok(())
}
