//! Applying what WeChat Pay confirmed (a verified notification or a verified query): a paid
//! transaction, or a refund's outcome. Idempotent: applying the same thing twice changes nothing.
use campus_photo_domain::records::{PaymentState, RefundState};
use campus_photo_wechatpay::notification::{RefundResource, Transaction};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, sea_query::Expr};
use uuid::Uuid;

use super::{
    checkout::{self, Payable, RefundSettled},
    refunds,
};
use crate::{
    AppState,
    entities::{order, payment, print_order, refund},
    error::{AppError, AppResult, is_unique_violation},
};

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{0} does not match the order")]
    Mismatch(&'static str),
    #[error("no such order")]
    UnknownOrder,
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<sea_orm::DbErr> for ApplyError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::App(e.into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// PENDING_PAYMENT → PAID → PENDING_REVIEW.
    Paid,
    /// Money for a closed order: recorded, and a refund started.
    RefundStarted,
    /// A refund went through.
    Refunded,
    /// A refund failed; the order is as it was.
    RefundFailed,
    /// Already known, or nothing to do.
    Unchanged,
}

/// Attempts when a concurrent change (a cancel, a duplicate) wins the compare-and-set first.
const ATTEMPTS: usize = 3;

pub async fn transaction(
    state: &AppState,
    t: &Transaction,
    raw: serde_json::Value,
) -> Result<Applied, ApplyError> {
    if t.mchid != state.wechat_pay.mchid() {
        return Err(ApplyError::Mismatch("mchid"));
    }
    if t.appid != state.wechat_pay.appid() {
        return Err(ApplyError::Mismatch("appid"));
    }
    if t.trade_state != "SUCCESS" {
        return Ok(Applied::Unchanged);
    }
    let Some(transaction_id) = t.transaction_id.clone() else {
        return Err(ApplyError::Mismatch("transaction_id"));
    };
    for _ in 0..ATTEMPTS {
        let pay = payment::Entity::find()
            .filter(payment::Column::OutTradeNo.eq(t.out_trade_no.clone()))
            .one(&state.db)
            .await?
            .ok_or(ApplyError::UnknownOrder)?;
        let attempt = match (pay.order_id, pay.print_order_id) {
            (Some(id), _) => paid::<order::Model>(state, t, &pay, id, &transaction_id, &raw).await,
            (None, Some(id)) => {
                paid::<print_order::Model>(state, t, &pay, id, &transaction_id, &raw).await
            }
            (None, None) => return Err(ApplyError::UnknownOrder),
        };
        match attempt? {
            Some(outcome) => return Ok(outcome),
            // Lost a compare-and-set: read again and decide on the new state.
            None => continue,
        }
    }
    Err(ApplyError::App(AppError::internal(
        "payment kept losing races; WeChat will retry",
    )))
}

/// One attempt at applying a paid transaction to the order of kind `P` it pays for. `None`
/// when a concurrent change (a cancel, a duplicate notification) won first.
async fn paid<P: Payable>(
    state: &AppState,
    t: &Transaction,
    pay: &payment::Model,
    id: Uuid,
    transaction_id: &str,
    raw: &serde_json::Value,
) -> Result<Option<Applied>, ApplyError> {
    let row = P::find(&state.db, id).await?;
    if t.amount.total != row.amount_fen() || t.amount.total != pay.amount_fen {
        return Err(ApplyError::Mismatch("amount"));
    }
    if t.amount.currency != "CNY" {
        return Err(ApplyError::Mismatch("currency"));
    }
    if pay.transaction_id.is_some() {
        // Already applied (this transaction; WeChat has one per out_trade_no).
        return Ok(Some(Applied::Unchanged));
    }
    let now = state.clock.now();
    let applied = state
        .write(async |txn| checkout::apply_paid(txn, pay, &row, transaction_id, raw, now).await)
        .await;
    match applied {
        Ok(outcome) => {
            if outcome == Applied::RefundStarted {
                refunds::send_pending(state, row.refund_of().column(), id).await;
            }
            Ok(Some(outcome))
        }
        // Lost a compare-and-set, or a duplicate claimed the payment first (rolled back).
        Err(AppError::User(_)) => Ok(None),
        Err(AppError::Database(e)) if is_unique_violation(&e) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// Marks the payment row as applied. False when a duplicate got there first: the caller then
/// undoes its work and the retry sees the new state.
pub(super) async fn claim_payment(
    txn: &DatabaseTransaction,
    pay: &payment::Model,
    transaction_id: &str,
    raw: &serde_json::Value,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<bool> {
    let claimed = payment::Entity::update_many()
        .col_expr(
            payment::Column::TransactionId,
            Expr::value(transaction_id.to_string()),
        )
        .col_expr(payment::Column::State, Expr::value(PaymentState::Success))
        .col_expr(payment::Column::Notification, Expr::value(raw.clone()))
        .col_expr(payment::Column::PaidAt, Expr::value(now))
        .col_expr(payment::Column::UpdatedAt, Expr::value(now))
        .filter(payment::Column::Id.eq(pay.id))
        .filter(payment::Column::TransactionId.is_null())
        .exec(txn)
        .await?;
    Ok(claimed.rows_affected == 1)
}

/// A refund's outcome from its verified notification.
pub async fn refund_outcome(
    state: &AppState,
    r: &RefundResource,
    raw: serde_json::Value,
) -> Result<Applied, ApplyError> {
    if r.mchid != state.wechat_pay.mchid() {
        return Err(ApplyError::Mismatch("mchid"));
    }
    let found = refund::Entity::find()
        .filter(refund::Column::OutRefundNo.eq(r.out_refund_no.clone()))
        .one(&state.db)
        .await?
        .ok_or(ApplyError::UnknownOrder)?;
    if r.amount.refund != found.amount_fen {
        return Err(ApplyError::Mismatch("amount"));
    }
    if found.state != RefundState::Processing {
        return Ok(Applied::Unchanged);
    }
    let now = state.clock.now();
    let succeeded = r.refund_status == "SUCCESS";
    let settled = state
        .write(async |txn| {
            let settled = refund::Entity::update_many()
                .col_expr(
                    refund::Column::State,
                    Expr::value(if succeeded {
                        RefundState::Success
                    } else {
                        RefundState::Failed
                    }),
                )
                .col_expr(refund::Column::RefundId, Expr::value(r.refund_id.clone()))
                .col_expr(refund::Column::Notification, Expr::value(raw))
                .col_expr(
                    refund::Column::FailureReason,
                    Expr::value((!succeeded).then(|| r.refund_status.clone())),
                )
                .col_expr(refund::Column::CompletedAt, Expr::value(now))
                .col_expr(refund::Column::UpdatedAt, Expr::value(now))
                .filter(refund::Column::Id.eq(found.id))
                .filter(refund::Column::State.eq(RefundState::Processing))
                .exec(txn)
                .await?;
            if settled.rows_affected == 0 {
                // Another delivery of the same notification settled it first.
                return Ok(false);
            }
            if succeeded {
                payment::Entity::update_many()
                    .col_expr(payment::Column::State, Expr::value(PaymentState::Refunded))
                    .col_expr(payment::Column::UpdatedAt, Expr::value(now))
                    .filter(payment::Column::Id.eq(found.payment_id))
                    .exec(txn)
                    .await?;
            }
            let outcome = if succeeded {
                RefundSettled::Refunded
            } else {
                RefundSettled::Failed(format!("退款未成功（{}），请联系客服", r.refund_status))
            };
            refunds::settle(txn, &found, outcome, now).await?;
            Ok(true)
        })
        .await?;
    Ok(match (settled, succeeded) {
        (false, _) => Applied::Unchanged,
        (true, true) => Applied::Refunded,
        (true, false) => Applied::RefundFailed,
    })
}
