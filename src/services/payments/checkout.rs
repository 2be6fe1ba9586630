//! The money flow, written once for anything a student pays for: opening the WeChat Pay
//! transaction, closing an unpaid order (cancel, payment timeout), applying a confirmed payment,
//! requesting a refund and settling its outcome.
//!
//! Photo orders and print orders (加洗) implement [`Payable`] with their own rules: which states
//! may be paid, closed or refunded, and which event each step writes on the order's trail. The
//! sequence is the same for both and lives only here: WeChat first (so a closed order can no
//! longer be paid), then one transaction that moves the order and its payment row together,
//! then the relay woken, then any refund sent.
use std::future::Future;

use campus_photo_domain::{codes::Role, order::Actor, records::PaymentState};
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::{
    Closed,
    apply::Applied,
    refunds::{self, RefundOf},
};
use crate::{
    AppState,
    entities::payment,
    error::{AppError, AppResult},
    integrations::wechat_pay::PayParams,
    services::{
        sessions::Viewer,
        trail::{By, Detail},
    },
};

/// Why an unpaid order closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing {
    /// 取消订单 by the student (or an admin).
    Cancel,
    /// Not paid within the payment window.
    PaymentTimeout,
}

/// How a refund ended, as WeChat reported it (or refused it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundSettled {
    /// The money went back.
    Refunded,
    /// WeChat refused or failed the refund; the message says what the student should do.
    Failed(String),
}

/// One step of the money flow as a [`Payable`] writes it: inside this transaction, by this
/// actor, at this time, with this detail on the trail.
pub struct Step<'a> {
    pub txn: &'a DatabaseTransaction,
    pub by: By,
    pub now: DateTime<Utc>,
    pub detail: Detail,
}

impl<'a> Step<'a> {
    pub fn parts(self) -> (&'a DatabaseTransaction, By, DateTime<Utc>, Detail) {
        (self.txn, self.by, self.now, self.detail)
    }
}

/// Something a student pays for through WeChat Pay, with its own out_trade_no.
///
/// The methods that change the order take the caller's transaction and must write the change
/// and its trail event together (each implementation goes through its own compare-and-set).
pub trait Payable: Sized + Send + Sync {
    /// 订单 / 加洗订单, in the messages the money flow writes.
    const NOUN: &'static str;
    /// The column of `payments` that points at this kind of order.
    const PAYMENT_OF: payment::Column;
    /// Its table, whose rows are `Self`, and the columns the sweeper selects unpaid orders by.
    type Entity: EntityTrait<Model = Self>;
    const STATUS: <Self::Entity as EntityTrait>::Column;
    const CREATED_AT: <Self::Entity as EntityTrait>::Column;

    fn id(&self) -> Uuid;
    /// The student's account; None after the account was deleted.
    fn account_id(&self) -> Option<Uuid>;
    /// The order number, which is also the WeChat Pay out_trade_no.
    fn out_trade_no(&self) -> &str;
    fn amount_fen(&self) -> i64;
    fn created_at(&self) -> DateTime<Utc>;
    fn refund_pending(&self) -> bool;
    fn awaits_payment(&self) -> bool;
    fn is_closed(&self) -> bool;
    /// Whether a refund may be asked for in the current state.
    fn refundable(&self) -> bool;
    /// INVALID_STATE naming the current state.
    fn invalid_state(&self) -> AppError;
    /// NOT_FOUND for an id that names no order of this kind the viewer may see.
    fn not_found() -> AppError;
    fn refund_of(&self) -> RefundOf;

    fn find<C: ConnectionTrait + Sync>(
        db: &C,
        id: Uuid,
    ) -> impl Future<Output = AppResult<Self>> + Send;
    /// The WeChat Pay description of the transaction (商品描述).
    fn description(&self, state: &AppState) -> impl Future<Output = AppResult<String>> + Send;
    /// The value of `STATUS` while the order awaits payment.
    fn unpaid_status() -> sea_orm::Value;

    fn close(&self, step: Step<'_>, why: Closing) -> impl Future<Output = AppResult<Self>> + Send;
    /// An unpaid order was paid (by WeChat Pay, with the transaction id in the detail).
    fn confirm_payment(&self, step: Step<'_>) -> impl Future<Output = AppResult<()>> + Send;
    /// Money arrived for an order already closed: recorded on its trail (a refund follows).
    fn paid_after_close(&self, step: Step<'_>) -> impl Future<Output = AppResult<()>> + Send;
    /// Marks the refund pending; the detail's message is the reason given.
    fn refund_requested(&self, step: Step<'_>) -> impl Future<Output = AppResult<()>> + Send;
    /// Clears the pending refund and records its outcome (REFUNDED when the money went back).
    fn refund_settled(
        &self,
        step: Step<'_>,
        outcome: RefundSettled,
    ) -> impl Future<Output = AppResult<()>> + Send;
}

/// The accessors of [`Payable`] for a row with the payable columns under their usual names
/// (`id`, `account_id`, `number`, `amount_fen`, `created_at`, `refund_pending`); used inside an
/// `impl Payable for …` block.
macro_rules! payable_columns {
    () => {
        fn id(&self) -> uuid::Uuid {
            self.id
        }

        fn account_id(&self) -> Option<uuid::Uuid> {
            self.account_id
        }

        fn out_trade_no(&self) -> &str {
            &self.number
        }

        fn amount_fen(&self) -> i64 {
            self.amount_fen
        }

        fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
            self.created_at
        }

        fn refund_pending(&self) -> bool {
            self.refund_pending
        }
    };
}
pub(crate) use payable_columns;

/// The viewer's own order of this kind; anyone else's is NOT_FOUND, so ids reveal nothing.
pub async fn own<P: Payable>(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<P> {
    let row = P::find(&state.db, id).await?;
    if row.account_id() == Some(viewer.account_id) {
        Ok(row)
    } else {
        Err(P::not_found())
    }
}

/// The student's own order, or any order for an admin (who cancels and refunds on request).
async fn own_or_admin<P: Payable>(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<P> {
    if viewer.role == Role::Admin {
        P::find(&state.db, id).await
    } else {
        own(state, viewer, id).await
    }
}

fn by_viewer(viewer: &Viewer) -> By {
    By::account(Actor::from(viewer.role), viewer.account_id)
}

/// 去支付: opens (or reuses) the WeChat Pay transaction of an unpaid order and returns the
/// `wx.requestPayment` parameters.
pub async fn pay<P: Payable>(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(P, PayParams)> {
    let row: P = own(state, viewer, id).await?;
    if !row.awaits_payment() {
        return Err(row.invalid_state());
    }
    let opening = super::Opening {
        out_trade_no: row.out_trade_no().to_string(),
        amount_fen: row.amount_fen(),
        created_at: row.created_at(),
        description: row.description(state).await?,
        order_id: match row.refund_of() {
            RefundOf::Order(id) => Some(id),
            RefundOf::Print(_) => None,
        },
        print_order_id: match row.refund_of() {
            RefundOf::Print(id) => Some(id),
            RefundOf::Order(_) => None,
        },
    };
    let params = super::open(state, viewer, opening).await?;
    Ok((row, params))
}

/// Sandbox only: the sandbox pays the order and posts its signed notification to
/// `/payments/wechat/notify`, which decides as it would for WeChat.
pub async fn sandbox_pay<P: Payable>(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<P> {
    super::require_sandbox(state)?;
    let row: P = own(state, viewer, id).await?;
    if !row.awaits_payment() {
        return Err(row.invalid_state());
    }
    super::sandbox_pay(state, row.out_trade_no()).await?;
    P::find(&state.db, row.id()).await
}

/// 取消: closes an unpaid order (the student's own; an admin any).
pub async fn cancel<P: Payable>(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<P> {
    let row: P = own_or_admin(state, viewer, id).await?;
    close_unpaid(state, row, Closing::Cancel, by_viewer(viewer)).await
}

/// Cancels an unpaid order the caller already found the viewer may act on (an operator's
/// override): INVALID_STATE unless it awaits payment.
pub async fn cancel_row<P: Payable>(state: &AppState, viewer: &Viewer, row: P) -> AppResult<P> {
    if !row.awaits_payment() {
        return Err(row.invalid_state());
    }
    close_unpaid(state, row, Closing::Cancel, by_viewer(viewer)).await
}

/// Closes an unpaid order, at WeChat first so it can no longer be paid. If WeChat says it was
/// paid meanwhile, the payment is applied instead and the close refused with the new state.
pub async fn close_unpaid<P: Payable>(
    state: &AppState,
    row: P,
    why: Closing,
    by: By,
) -> AppResult<P> {
    if !row.awaits_payment() {
        return Err(row.invalid_state());
    }
    if super::close_at_wechat(state, row.out_trade_no()).await? == Closed::AlreadyPaid {
        let current = P::find(&state.db, row.id()).await?;
        return Err(current.invalid_state());
    }
    let detail = match why {
        Closing::Cancel => Detail::default(),
        Closing::PaymentTimeout => Detail::reason(
            "PAYMENT_TIMEOUT",
            format!("超时未支付，{}已自动关闭", P::NOUN),
        ),
    };
    let now = state.clock.now();
    state
        .write(async |txn| {
            let step = Step {
                txn,
                by,
                now,
                detail,
            };
            let closed = row.close(step, why).await?;
            super::mark_closed(txn, row.out_trade_no(), now).await?;
            Ok(closed)
        })
        .await
}

/// What one pass of the sweeper did to unpaid orders of one kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub closed: usize,
    /// Changed by someone else first (paid, cancelled, or another instance's sweeper).
    pub skipped: usize,
}

/// Closes the orders of this kind left unpaid past the payment window. Safe with several
/// instances: every close is a compare-and-set, so of two sweepers exactly one closes an order.
pub async fn close_expired<P: Payable>(state: &AppState, limit: u64) -> AppResult<Swept> {
    let timeout =
        TimeDelta::from_std(state.config.order_payment_timeout).map_err(AppError::internal)?;
    let cutoff = state.clock.now() - timeout;
    let mut swept = Swept::default();
    let unpaid = P::Entity::find()
        .filter(P::STATUS.eq(P::unpaid_status()))
        .filter(P::CREATED_AT.lte(cutoff))
        .order_by_asc(P::CREATED_AT)
        .limit(limit)
        .all(&state.db)
        .await?;
    for row in unpaid {
        match close_unpaid(state, row, Closing::PaymentTimeout, By::SYSTEM).await {
            Ok(_) => swept.closed += 1,
            Err(AppError::User(_)) => swept.skipped += 1,
            Err(e) => {
                tracing::warn!(error = %e, "closing an unpaid {} failed; next pass retries", P::NOUN)
            }
        }
    }
    Ok(swept)
}

/// 申请退款: by the student for their order, or an admin. The order shows `refundPending` until
/// WeChat's refund notification settles it.
pub async fn request_refund<P: Payable>(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    reason: &str,
) -> AppResult<P> {
    let row: P = own_or_admin(state, viewer, id).await?;
    refund(state, viewer, row, reason).await
}

/// Asks WeChat for the refund of `row`, which the caller already found the viewer may refund
/// (the student's own, or an operator's override in scope). INVALID_STATE unless money was
/// taken and nothing produced; REFUND_PENDING while one is in flight.
pub async fn refund<P: Payable>(
    state: &AppState,
    viewer: &Viewer,
    row: P,
    reason: &str,
) -> AppResult<P> {
    let reason = refunds::valid_reason(reason)?;
    if !row.refundable() {
        return Err(row.invalid_state());
    }
    if row.refund_pending() {
        return Err(AppError::user(
            "REFUND_PENDING",
            "orderId",
            "退款正在处理中，请耐心等待",
        ));
    }
    let paid = payment::Entity::find()
        .filter(P::PAYMENT_OF.eq(row.id()))
        .filter(payment::Column::State.eq(PaymentState::Success))
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::internal("paid order without a successful payment"))?;
    let now = state.clock.now();
    let by = by_viewer(viewer);
    let requested_by = Some(viewer.account_id);
    let pending = state
        .write(async |txn| {
            let detail = Detail {
                message: Some(reason.to_string()),
                ..Detail::default()
            };
            row.refund_requested(Step {
                txn,
                by,
                now,
                detail,
            })
            .await?;
            refunds::insert_refund(txn, &paid, row.refund_of(), reason, requested_by, now).await
        })
        .await?;
    refunds::send_new(state, &pending).await?;
    P::find(&state.db, row.id()).await
}

/// Applies a verified paid transaction to the order it pays for, inside `txn`: an unpaid order
/// becomes paid; money for a closed one is recorded and refunded in full. The order row is
/// changed before the payment row, as every other writer does, so concurrent transactions never
/// wait on each other in opposite orders (PostgreSQL would abort one as a deadlock).
pub(super) async fn apply_paid<P: Payable>(
    txn: &DatabaseTransaction,
    pay: &payment::Model,
    row: &P,
    transaction_id: &str,
    raw: &serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<Applied> {
    let payload = serde_json::json!({ "transactionId": transaction_id });
    let outcome = if row.awaits_payment() {
        let detail = Detail {
            payload: Some(payload),
            ..Detail::default()
        };
        let by = By::WECHATPAY;
        row.confirm_payment(Step {
            txn,
            by,
            now,
            detail,
        })
        .await?;
        Applied::Paid
    } else if row.is_closed() {
        let detail = Detail {
            reason_code: Some("PAID_AFTER_CLOSE".into()),
            message: Some(format!("{}关闭后收到付款，已自动退款", P::NOUN)),
            payload: Some(payload),
            print_order_id: None,
        };
        let by = By::WECHATPAY;
        row.paid_after_close(Step {
            txn,
            by,
            now,
            detail,
        })
        .await?;
        Applied::RefundStarted
    } else {
        tracing::warn!(order = %row.id(), "payment for a {} past payment", P::NOUN);
        return Ok(Applied::Unchanged);
    };
    if !super::apply::claim_payment(txn, pay, transaction_id, raw, now).await? {
        return Err(row.invalid_state());
    }
    if outcome == Applied::RefundStarted {
        let mut paid = pay.clone();
        paid.transaction_id = Some(transaction_id.to_string());
        let reason = format!("{}已关闭，自动退款", P::NOUN);
        refunds::insert_refund(txn, &paid, row.refund_of(), &reason, None, now).await?;
    }
    Ok(outcome)
}

/// Settles a refund on the order it refunded, inside `txn`.
pub(super) async fn settle_refund<P: Payable>(
    txn: &DatabaseTransaction,
    id: Uuid,
    outcome: RefundSettled,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let row = P::find(txn, id).await?;
    let (by, detail) = (By::WECHATPAY, Detail::default());
    row.refund_settled(
        Step {
            txn,
            by,
            now,
            detail,
        },
        outcome,
    )
    .await
}
