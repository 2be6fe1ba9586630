//! Applying what WeChat Pay confirmed (a verified notification or a verified query): a paid
//! transaction, or a refund's outcome. Idempotent: applying the same thing twice changes nothing.
use campus_photo_domain::{
    order::{OrderEvent, OrderNote, OrderStatus},
    print_order::{PrintEvent, PrintOrderStatus},
};
use campus_photo_wechatpay::notification::{RefundResource, Transaction};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set,
    TransactionTrait, sea_query::Expr,
};

use super::refunds;
use crate::{
    AppState,
    entities::{order, payment, print_order, refund},
    error::{AppError, is_unique_violation},
    services::{
        orders::{
            self,
            transition::{self, By, Detail},
        },
        prints,
    },
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
        let target = match (pay.order_id, pay.print_order_id) {
            (Some(id), _) => Paying::Order(orders::readable_by_system(state, id).await?),
            (None, Some(id)) => Paying::Print(prints::by_system(state, id).await?),
            (None, None) => return Err(ApplyError::UnknownOrder),
        };
        let expected = match &target {
            Paying::Order(row) => row.amount_fen,
            Paying::Print(row) => row.amount_fen,
        };
        if t.amount.total != expected || t.amount.total != pay.amount_fen {
            return Err(ApplyError::Mismatch("amount"));
        }
        if t.amount.currency != "CNY" {
            return Err(ApplyError::Mismatch("currency"));
        }
        if pay.transaction_id.is_some() {
            // Already applied (this transaction; WeChat has one per out_trade_no).
            return Ok(Applied::Unchanged);
        }
        let txn = state.db.begin().await?;
        let applied = match &target {
            Paying::Order(row) => apply_paid(state, &txn, &pay, row, &transaction_id, &raw).await,
            Paying::Print(row) => {
                apply_print_paid(state, &txn, &pay, row, &transaction_id, &raw).await
            }
        };
        match applied {
            Ok(outcome) => {
                txn.commit().await?;
                state.relay.wake();
                if let Applied::RefundStarted = outcome {
                    match &target {
                        Paying::Order(row) => {
                            refunds::send_pending(state, refund::Column::OrderId, row.id).await
                        }
                        Paying::Print(row) => {
                            refunds::send_pending(state, refund::Column::PrintOrderId, row.id).await
                        }
                    }
                }
                return Ok(outcome);
            }
            Err(ApplyError::App(AppError::User(_))) => {
                // Lost a compare-and-set: read again and decide on the new state.
                txn.rollback().await?;
            }
            Err(ApplyError::App(AppError::Database(e))) if is_unique_violation(&e) => {
                txn.rollback().await?;
            }
            Err(other) => {
                txn.rollback().await?;
                return Err(other);
            }
        }
    }
    Err(ApplyError::App(AppError::internal(
        "payment kept losing races; WeChat will retry",
    )))
}

/// What a transaction pays for.
enum Paying {
    Order(order::Model),
    Print(print_order::Model),
}

/// Marks the payment row as applied. False when a duplicate got there first: the caller then
/// undoes its work and the retry sees the new state.
async fn claim_payment(
    txn: &DatabaseTransaction,
    pay: &payment::Model,
    transaction_id: &str,
    raw: &serde_json::Value,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, ApplyError> {
    let claimed = payment::Entity::update_many()
        .col_expr(
            payment::Column::TransactionId,
            Expr::value(transaction_id.to_string()),
        )
        .col_expr(payment::Column::State, Expr::value("SUCCESS"))
        .col_expr(payment::Column::Notification, Expr::value(raw.clone()))
        .col_expr(payment::Column::PaidAt, Expr::value(now))
        .col_expr(payment::Column::UpdatedAt, Expr::value(now))
        .filter(payment::Column::Id.eq(pay.id))
        .filter(payment::Column::TransactionId.is_null())
        .exec(txn)
        .await?;
    Ok(claimed.rows_affected == 1)
}

/// Applies a paid transaction inside `txn`. The order row is changed before the payment row, as
/// every other writer does (cancel, close), so concurrent transactions never wait on each other
/// in opposite orders (PostgreSQL would abort one as a deadlock).
async fn apply_paid(
    state: &AppState,
    txn: &DatabaseTransaction,
    pay: &payment::Model,
    row: &order::Model,
    transaction_id: &str,
    raw: &serde_json::Value,
) -> Result<Applied, ApplyError> {
    let now = state.clock.now();
    let payload = serde_json::json!({ "transactionId": transaction_id });
    let outcome = match orders::status_of(row)? {
        OrderStatus::PendingPayment => {
            let paid = transition::apply(
                txn,
                row,
                OrderEvent::PaymentConfirmed,
                By::WECHATPAY,
                now,
                vec![(order::Column::PaidAt, Expr::value(now))],
                Detail {
                    payload: Some(payload),
                    ..Detail::default()
                },
            )
            .await?;
            transition::apply(
                txn,
                &paid,
                OrderEvent::EnqueueForReview,
                By::SYSTEM,
                now,
                Vec::new(),
                Detail::default(),
            )
            .await?;
            Applied::Paid
        }
        OrderStatus::Closed => {
            transition::note(
                txn,
                row,
                OrderNote::PaidAfterClose,
                By::WECHATPAY,
                now,
                Vec::new(),
                Detail {
                    reason_code: Some("PAID_AFTER_CLOSE".into()),
                    message: Some("订单关闭后收到付款，已自动退款".into()),
                    payload: Some(payload),
                    print_order_id: None,
                },
            )
            .await?;
            Applied::RefundStarted
        }
        other => {
            tracing::warn!(order = %row.id, status = %other, "payment for an order past payment");
            return Ok(Applied::Unchanged);
        }
    };
    if !claim_payment(txn, pay, transaction_id, raw, now).await? {
        return Err(ApplyError::App(transition::invalid_state(
            orders::status_of(row)?,
        )));
    }
    if outcome == Applied::RefundStarted {
        let mut paid = pay.clone();
        paid.transaction_id = Some(transaction_id.to_string());
        let target = refunds::RefundOf::Order(row.id);
        refunds::insert_refund(txn, &paid, target, "订单已关闭，自动退款", None, now).await?;
    }
    Ok(outcome)
}

/// A paid print order (加洗): PENDING_PAYMENT → PAID, or money after closing → refund.
async fn apply_print_paid(
    state: &AppState,
    txn: &DatabaseTransaction,
    pay: &payment::Model,
    row: &print_order::Model,
    transaction_id: &str,
    raw: &serde_json::Value,
) -> Result<Applied, ApplyError> {
    let now = state.clock.now();
    let payload = serde_json::json!({ "transactionId": transaction_id });
    let outcome = match prints::transition::status_of(row)? {
        PrintOrderStatus::PendingPayment => {
            prints::transition::apply(
                txn,
                row,
                PrintEvent::PaymentConfirmed,
                By::WECHATPAY,
                now,
                vec![(print_order::Column::PaidAt, Expr::value(now))],
                Detail {
                    payload: Some(payload),
                    ..Detail::default()
                },
            )
            .await?;
            Applied::Paid
        }
        PrintOrderStatus::Closed => {
            prints::transition::apply(
                txn,
                row,
                PrintEvent::PaidAfterClose,
                By::WECHATPAY,
                now,
                Vec::new(),
                Detail {
                    reason_code: Some("PAID_AFTER_CLOSE".into()),
                    message: Some("加洗订单关闭后收到付款，已自动退款".into()),
                    payload: Some(payload),
                    print_order_id: None,
                },
            )
            .await?;
            Applied::RefundStarted
        }
        other => {
            tracing::warn!(print_order = %row.id, status = %other, "payment for a print order past payment");
            return Ok(Applied::Unchanged);
        }
    };
    if !claim_payment(txn, pay, transaction_id, raw, now).await? {
        return Err(ApplyError::App(prints::transition::invalid_state(
            prints::transition::status_of(row)?,
        )));
    }
    if outcome == Applied::RefundStarted {
        let mut paid = pay.clone();
        paid.transaction_id = Some(transaction_id.to_string());
        let target = refunds::RefundOf::Print(row.id);
        refunds::insert_refund(txn, &paid, target, "加洗订单已关闭，自动退款", None, now).await?;
    }
    Ok(outcome)
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
    if found.state != "PROCESSING" {
        return Ok(Applied::Unchanged);
    }
    let now = state.clock.now();
    let succeeded = r.refund_status == "SUCCESS";
    let txn = state.db.begin().await?;
    let settled = refund::Entity::update_many()
        .col_expr(
            refund::Column::State,
            Expr::value(if succeeded { "SUCCESS" } else { "FAILED" }),
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
        .filter(refund::Column::State.eq("PROCESSING"))
        .exec(&txn)
        .await?;
    if settled.rows_affected == 0 {
        txn.rollback().await?;
        return Ok(Applied::Unchanged);
    }
    if succeeded {
        let mut pay: payment::ActiveModel = payment::Entity::find_by_id(found.payment_id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::internal("refund without payment"))?
            .into();
        pay.state = Set("REFUNDED".into());
        pay.updated_at = Set(now);
        pay.update(&txn).await?;
    }
    if let Some(order_id) = found.order_id {
        let row = orders::readable_by_system(state, order_id).await?;
        let status = orders::status_of(&row)?;
        let by = By::WECHATPAY;
        let cleared = vec![(order::Column::RefundPending, Expr::value(false))];
        if succeeded && campus_photo_domain::order::refundable(status) {
            let mut changes = cleared;
            changes.push((order::Column::RefundedAt, Expr::value(now)));
            transition::apply(
                &txn,
                &row,
                OrderEvent::RefundConfirmed,
                by,
                now,
                changes,
                Detail::reason("REFUNDED", "退款已原路退回"),
            )
            .await?;
        } else if !succeeded {
            transition::note(
                &txn,
                &row,
                OrderNote::RefundFailed,
                by,
                now,
                cleared,
                Detail::reason(
                    "REFUND_FAILED",
                    format!("退款未成功（{}），请联系客服", r.refund_status),
                ),
            )
            .await?;
        }
    }
    if let Some(print_id) = found.print_order_id {
        let row = prints::transition::reload(&txn, print_id).await?;
        let (event, detail) = if succeeded {
            (
                PrintEvent::RefundConfirmed,
                Detail::reason("REFUNDED", "退款已原路退回"),
            )
        } else {
            (
                PrintEvent::RefundFailed,
                Detail::reason(
                    "REFUND_FAILED",
                    format!("退款未成功（{}），请联系客服", r.refund_status),
                ),
            )
        };
        let cleared = vec![(print_order::Column::RefundPending, Expr::value(false))];
        match prints::transition::apply(&txn, &row, event, By::WECHATPAY, now, cleared, detail)
            .await
        {
            Ok(_) => {}
            // The refund stands whatever the print order's status says now.
            Err(AppError::User(_)) => {
                tracing::warn!(print_order = %print_id, "refund outcome for a print order in another state")
            }
            Err(e) => return Err(e.into()),
        }
    }
    txn.commit().await?;
    state.relay.wake();
    Ok(if succeeded {
        Applied::Refunded
    } else {
        Applied::RefundFailed
    })
}
