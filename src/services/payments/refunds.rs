//! 退款: refunds through WeChat Pay with an idempotent out_refund_no — writing, sending, resending
//! and recording refusals. Asking for one is [`checkout::request_refund`]; the order moves to
//! REFUNDED only when the verified refund notification says the money went back.
use campus_photo_domain::records::RefundState;
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, sea_query::Expr,
};
use uuid::Uuid;

use super::{
    checkout::{self, RefundSettled},
    pay_error,
};
use crate::{
    AppState,
    entities::{order, payment, print_order, refund},
    error::{AppError, AppResult},
    integrations::wechat_pay::{PayError, RefundCall},
};

/// WeChat limits a refund reason to 80 characters.
const MAX_REASON_CHARS: usize = 80;
/// A refund WeChat never acknowledged is sent again after this long (same out_refund_no).
const RESEND_AFTER: TimeDelta = TimeDelta::seconds(60);

/// What a refund gives money back for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundOf {
    Order(Uuid),
    Print(Uuid),
}

impl RefundOf {
    /// The column of `refunds` that points at it.
    pub fn column(self) -> refund::Column {
        match self {
            Self::Order(_) => refund::Column::OrderId,
            Self::Print(_) => refund::Column::PrintOrderId,
        }
    }
}

/// Sends a refund just written. WeChat refusing it is the requester's error; WeChat not
/// answering is not: the sweeper sends it again with the same out_refund_no.
pub(super) async fn send_new(state: &AppState, pending: &refund::Model) -> AppResult<()> {
    match send(state, pending).await {
        Ok(()) => Ok(()),
        Err(PayError::Rejected { code, message }) => {
            record_failure(state, pending, &format!("{code} {message}")).await?;
            Err(pay_error(
                PayError::Rejected { code, message },
                "REFUND_FAILED",
                "退款申请未被受理",
            ))
        }
        Err(e) => {
            tracing::warn!(error = %e, refund = %pending.out_refund_no, "refund not sent yet");
            Ok(())
        }
    }
}

pub(super) fn valid_reason(reason: &str) -> AppResult<&str> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(AppError::user(
            "INVALID_REASON",
            "reason",
            format!("请填写退款原因（不超过 {MAX_REASON_CHARS} 个字）"),
        ));
    }
    Ok(reason)
}

/// Writes a PROCESSING refund of the whole payment. Its out_refund_no counts the payment's
/// refunds, so a retry after a failure is a new refund and a resend is the same one.
pub(crate) async fn insert_refund(
    db: &impl ConnectionTrait,
    pay: &payment::Model,
    of: RefundOf,
    reason: &str,
    requested_by: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<refund::Model> {
    let earlier = refund::Entity::find()
        .filter(refund::Column::PaymentId.eq(pay.id))
        .count(db)
        .await?;
    Ok(refund::ActiveModel {
        id: Set(Uuid::now_v7()),
        payment_id: Set(pay.id),
        order_id: Set(match of {
            RefundOf::Order(id) => Some(id),
            RefundOf::Print(_) => None,
        }),
        print_order_id: Set(match of {
            RefundOf::Print(id) => Some(id),
            RefundOf::Order(_) => None,
        }),
        out_refund_no: Set(format!("{}-R{}", pay.out_trade_no, earlier + 1)),
        refund_id: Set(None),
        amount_fen: Set(pay.amount_fen),
        reason: Set(reason.to_string()),
        state: Set(RefundState::Processing),
        requested_by: Set(requested_by),
        failure_reason: Set(None),
        notification: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        completed_at: Set(None),
    }
    .insert(db)
    .await?)
}

/// Calls the refund API and keeps WeChat's refund id.
async fn send(state: &AppState, pending: &refund::Model) -> Result<(), PayError> {
    let pay = payment::Entity::find_by_id(pending.payment_id)
        .one(&state.db)
        .await
        .map_err(|e| PayError::Unavailable(e.to_string()))?
        .ok_or_else(|| PayError::BadResponse("refund without payment".into()))?;
    let accepted = state
        .wechat_pay
        .refund(&RefundCall {
            out_trade_no: pay.out_trade_no.clone(),
            out_refund_no: pending.out_refund_no.clone(),
            reason: pending.reason.clone(),
            refund_fen: pending.amount_fen,
            total_fen: pay.amount_fen,
        })
        .await?;
    refund::Entity::update_many()
        .col_expr(refund::Column::RefundId, Expr::value(accepted.refund_id))
        .col_expr(refund::Column::UpdatedAt, Expr::value(state.clock.now()))
        .filter(refund::Column::Id.eq(pending.id))
        .filter(refund::Column::RefundId.is_null())
        .exec(&state.db)
        .await
        .map_err(|e| PayError::Unavailable(e.to_string()))?;
    Ok(())
}

/// WeChat refused the refund: it is FAILED and the order may be refunded again later.
async fn record_failure(state: &AppState, pending: &refund::Model, why: &str) -> AppResult<()> {
    let now = state.clock.now();
    state
        .write(async |txn| {
            refund::Entity::update_many()
                .col_expr(refund::Column::State, Expr::value(RefundState::Failed))
                .col_expr(refund::Column::FailureReason, Expr::value(why.to_string()))
                .col_expr(refund::Column::UpdatedAt, Expr::value(now))
                .filter(refund::Column::Id.eq(pending.id))
                .filter(refund::Column::State.eq(RefundState::Processing))
                .exec(txn)
                .await?;
            let outcome =
                RefundSettled::Failed("退款申请未被受理，请稍后重试或联系客服".to_string());
            settle(txn, pending, outcome, now).await
        })
        .await
}

/// Settles the refund on whatever it refunded (a photo order or a print order).
pub(super) async fn settle(
    txn: &DatabaseTransaction,
    r: &refund::Model,
    outcome: RefundSettled,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if let Some(order_id) = r.order_id {
        checkout::settle_refund::<order::Model>(txn, order_id, outcome.clone(), now).await?;
    }
    if let Some(print_id) = r.print_order_id {
        checkout::settle_refund::<print_order::Model>(txn, print_id, outcome, now).await?;
    }
    Ok(())
}

/// Sends the refunds of an order (`refund::Column::OrderId`) or print order
/// (`refund::Column::PrintOrderId`) that have not reached WeChat yet (after a paid-after-close).
pub async fn send_pending(state: &AppState, of: refund::Column, id: Uuid) {
    let pending = refund::Entity::find()
        .filter(of.eq(id))
        .filter(refund::Column::State.eq(RefundState::Processing))
        .filter(refund::Column::RefundId.is_null())
        .all(&state.db)
        .await;
    match pending {
        Ok(rows) => {
            for r in rows {
                send_or_record(state, &r).await;
            }
        }
        Err(e) => tracing::warn!(error = %e, "reading refunds to send"),
    }
}

async fn send_or_record(state: &AppState, r: &refund::Model) {
    match send(state, r).await {
        Ok(()) => {}
        Err(PayError::Rejected { code, message }) => {
            if let Err(e) = record_failure(state, r, &format!("{code} {message}")).await {
                tracing::warn!(error = %e, "recording a refused refund");
            }
        }
        Err(e) => tracing::warn!(error = %e, refund = %r.out_refund_no, "refund not sent yet"),
    }
}

/// Sends again the refunds WeChat never acknowledged. Returns how many were tried.
pub async fn resend_unacknowledged(state: &AppState) -> AppResult<usize> {
    let cutoff = state.clock.now() - RESEND_AFTER;
    let stale = refund::Entity::find()
        .filter(refund::Column::State.eq(RefundState::Processing))
        .filter(refund::Column::RefundId.is_null())
        .filter(refund::Column::UpdatedAt.lte(cutoff))
        .order_by_asc(refund::Column::CreatedAt)
        .limit(50)
        .all(&state.db)
        .await?;
    for r in &stale {
        send_or_record(state, r).await;
    }
    Ok(stale.len())
}
