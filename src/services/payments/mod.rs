//! 支付订单: opening WeChat Pay transactions, closing them, and the sandbox's "pay now".
//! An order becomes PAID only from a verified notification ([`notify`]) or a verified query.
pub mod apply;
pub mod nonces;
pub mod notify;
pub mod refunds;

use campus_photo_domain::order::OrderStatus;
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::Expr,
};
use uuid::Uuid;

use super::{orders, sessions::Viewer};
use crate::{
    AppState,
    entities::{account, order, payment, project},
    error::{AppError, AppResult},
    integrations::wechat_pay::{CloseOutcome, PayError, PayOrder, PayParams},
    services::orders::transition::invalid_state,
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

/// 去支付: opens (or reuses) the WeChat Pay transaction for an unpaid order and returns the
/// `wx.requestPayment` parameters.
pub async fn create_payment(
    state: &AppState,
    viewer: &Viewer,
    order_id: Uuid,
) -> AppResult<(order::Model, PayParams)> {
    let row = orders::own(state, viewer, order_id).await?;
    let status = orders::status_of(&row)?;
    if status != OrderStatus::PendingPayment {
        return Err(invalid_state(status));
    }
    let now = state.clock.now();
    let timeout =
        TimeDelta::from_std(state.config.order_payment_timeout).map_err(AppError::internal)?;
    let expires_at = row.created_at + timeout;
    if expires_at <= now {
        return Err(AppError::user(
            "PAYMENT_EXPIRED",
            "orderId",
            "订单已超过支付时限，请重新提交",
        ));
    }
    let existing = payment::Entity::find()
        .filter(payment::Column::OutTradeNo.eq(row.number.clone()))
        .one(&state.db)
        .await?;
    if let Some(p) = &existing
        && let (Some(prepay_id), Some(created)) = (&p.prepay_id, p.prepay_created_at)
        && now - created < PREPAY_REUSE
    {
        let params = state
            .wechat_pay
            .pay_params(prepay_id, now)
            .map_err(AppError::internal)?;
        return Ok((row, params));
    }
    let openid = account::Entity::find_by_id(viewer.account_id)
        .one(&state.db)
        .await?
        .and_then(|a| a.wechat_openid)
        .ok_or_else(|| AppError::internal("student without openid"))?;
    let project_name = project::Entity::find_by_id(row.project_id)
        .one(&state.db)
        .await?
        .map(|p| p.name)
        .unwrap_or_default();
    let prepay_id = state
        .wechat_pay
        .create_jsapi(&PayOrder {
            out_trade_no: row.number.clone(),
            // WeChat allows 127 bytes of description.
            description: truncate_bytes(&format!("学历图像采集-{project_name}"), 127),
            amount_fen: row.amount_fen,
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
                order_id: Set(Some(row.id)),
                provider: Set(state.wechat_pay.provider().into()),
                out_trade_no: Set(row.number.clone()),
                prepay_id: Set(Some(prepay_id.clone())),
                prepay_created_at: Set(Some(now)),
                transaction_id: Set(None),
                amount_fen: Set(row.amount_fen),
                payer_openid: Set(Some(openid)),
                state: Set("CREATED".into()),
                notification: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                paid_at: Set(None),
            }
            .insert(&state.db)
            .await?;
        }
    }
    let params = state
        .wechat_pay
        .pay_params(&prepay_id, now)
        .map_err(AppError::internal)?;
    Ok((row, params))
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

/// Sandbox only: the sandbox pays the order and posts its signed notification to
/// `/payments/wechat/notify`, which decides as it would for WeChat.
pub async fn sandbox_complete(
    state: &AppState,
    viewer: &Viewer,
    order_id: Uuid,
) -> AppResult<order::Model> {
    let Some(sandbox) = state.wechat_pay.as_sandbox() else {
        return Err(AppError::user(
            "SANDBOX_ONLY",
            "orderId",
            "仅在支付沙箱中可用：已配置真实商户，请在微信中完成支付",
        ));
    };
    let row = orders::own(state, viewer, order_id).await?;
    let status = orders::status_of(&row)?;
    if status != OrderStatus::PendingPayment {
        return Err(invalid_state(status));
    }
    sandbox
        .complete_payment(&row.number)
        .await
        .map_err(|e| match e {
            PayError::Rejected { code, .. } if code == "ORDER_NOT_EXIST" => AppError::user(
                "PAYMENT_NOT_CREATED",
                "orderId",
                "请先发起支付（createPayment）",
            ),
            other => pay_error(other, "PAYMENT_FAILED", "沙箱支付失败"),
        })?;
    orders::readable_by_system(state, row.id).await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    Closed,
    /// WeChat had the money: the payment was applied instead.
    AlreadyPaid,
}

/// Closes the order's transaction at WeChat before the order closes here, so it cannot be paid
/// after. When WeChat reports it paid, the verified transaction is applied.
pub async fn close_at_wechat(state: &AppState, row: &order::Model) -> AppResult<Closed> {
    let opened = payment::Entity::find()
        .filter(payment::Column::OutTradeNo.eq(row.number.clone()))
        .one(&state.db)
        .await?;
    if opened.is_none() {
        return Ok(Closed::Closed);
    }
    match state.wechat_pay.close(&row.number).await {
        Ok(CloseOutcome::Closed) => Ok(Closed::Closed),
        Ok(CloseOutcome::AlreadyPaid) => {
            let transaction = state
                .wechat_pay
                .query(&row.number)
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

/// Marks the order's payment closed along with the order.
pub async fn mark_closed(
    db: &impl ConnectionTrait,
    row: &order::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    payment::Entity::update_many()
        .col_expr(payment::Column::State, Expr::value("CLOSED"))
        .col_expr(payment::Column::UpdatedAt, Expr::value(now))
        .filter(payment::Column::OutTradeNo.eq(row.number.clone()))
        .filter(payment::Column::State.eq("CREATED"))
        .exec(db)
        .await?;
    Ok(())
}
