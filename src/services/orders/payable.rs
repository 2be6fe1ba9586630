//! A photo order's part in the money flow ([`checkout`]): which of its states may be paid,
//! closed or refunded, and which event each step writes on its trail.
use campus_photo_domain::order::{self as rules, OrderEvent, OrderNote, OrderStatus};
use sea_orm::{ConnectionTrait, EntityTrait, sea_query::Expr};
use uuid::Uuid;

use super::transition::{self, By, Detail};
use crate::{
    AppState,
    entities::{order, payment, project},
    error::{AppError, AppResult},
    services::payments::{
        checkout::{Closing, Payable, RefundSettled, Step, payable_columns},
        refunds::RefundOf,
    },
};

impl Payable for order::Model {
    const NOUN: &'static str = "订单";
    const PAYMENT_OF: payment::Column = payment::Column::OrderId;

    type Entity = order::Entity;
    const STATUS: order::Column = order::Column::Status;
    const CREATED_AT: order::Column = order::Column::CreatedAt;

    payable_columns!();

    fn unpaid_status() -> sea_orm::Value {
        OrderStatus::PendingPayment.into()
    }

    fn awaits_payment(&self) -> bool {
        self.status == OrderStatus::PendingPayment
    }

    fn is_closed(&self) -> bool {
        self.status == OrderStatus::Closed
    }

    fn refundable(&self) -> bool {
        rules::refundable(self.status)
    }

    fn invalid_state(&self) -> AppError {
        transition::invalid_state(self.status)
    }

    fn not_found() -> AppError {
        super::not_found()
    }

    fn refund_of(&self) -> RefundOf {
        RefundOf::Order(self.id)
    }

    async fn find<C: ConnectionTrait + Sync>(db: &C, id: Uuid) -> AppResult<Self> {
        super::find(db, id).await
    }

    async fn description(&self, state: &AppState) -> AppResult<String> {
        let project_name = project::Entity::find_by_id(self.project_id)
            .one(&state.db)
            .await?
            .map(|p| p.name)
            .unwrap_or_default();
        Ok(format!("学历图像采集-{project_name}"))
    }

    async fn close(&self, step: Step<'_>, why: Closing) -> AppResult<Self> {
        let event = match why {
            Closing::Cancel => OrderEvent::Cancel,
            Closing::PaymentTimeout => OrderEvent::PaymentTimeout,
        };
        let Step {
            txn,
            by,
            now,
            detail,
        } = step;
        let closed_at = vec![(order::Column::ClosedAt, Expr::value(now))];
        transition::apply(txn, self, event, by, now, closed_at, detail).await
    }

    /// PENDING_PAYMENT → PAID → PENDING_REVIEW: a paid photo order goes straight to review,
    /// unless its project takes payment first (先付款后拍照): then it waits in PAID (已支付) until
    /// the student submits the photo.
    async fn confirm_payment(&self, step: Step<'_>) -> AppResult<()> {
        let Step {
            txn,
            by,
            now,
            detail,
        } = step;
        let paid_at = vec![(order::Column::PaidAt, Expr::value(now))];
        let event = OrderEvent::PaymentConfirmed;
        let paid = transition::apply(txn, self, event, by, now, paid_at, detail).await?;
        if project::find(txn, self.project_id).await?.pay_first {
            return Ok(());
        }
        let queued = OrderEvent::EnqueueForReview;
        let none = Vec::new();
        transition::apply(txn, &paid, queued, By::SYSTEM, now, none, Detail::default()).await?;
        Ok(())
    }

    async fn paid_after_close(&self, step: Step<'_>) -> AppResult<()> {
        let Step {
            txn,
            by,
            now,
            detail,
        } = step;
        let note = OrderNote::PaidAfterClose;
        transition::note(txn, self, note, by, now, Vec::new(), detail).await?;
        Ok(())
    }

    async fn refund_requested(&self, step: Step<'_>) -> AppResult<()> {
        let Step {
            txn,
            by,
            now,
            detail,
        } = step;
        let pending = vec![(order::Column::RefundPending, Expr::value(true))];
        let note = OrderNote::RefundRequested;
        transition::note(txn, self, note, by, now, pending, detail).await?;
        Ok(())
    }

    /// A confirmed refund moves a refundable order to REFUNDED; a failed one is noted and the
    /// order stays as it was, so the student may ask again.
    async fn refund_settled(&self, step: Step<'_>, outcome: RefundSettled) -> AppResult<()> {
        let (txn, by, now, _) = step.parts();
        let mut changes = vec![(order::Column::RefundPending, Expr::value(false))];
        match outcome {
            RefundSettled::Refunded if self.refundable() => {
                changes.push((order::Column::RefundedAt, Expr::value(now)));
                let detail = Detail::reason("REFUNDED", "退款已原路退回");
                let event = OrderEvent::RefundConfirmed;
                transition::apply(txn, self, event, by, now, changes, detail).await?;
            }
            RefundSettled::Refunded => {
                tracing::warn!(order = %self.id, status = %self.status, "refund confirmed for an order no longer refundable");
            }
            RefundSettled::Failed(message) => {
                let detail = Detail::reason("REFUND_FAILED", message);
                let note = OrderNote::RefundFailed;
                transition::note(txn, self, note, by, now, changes, detail).await?;
            }
        }
        Ok(())
    }
}
