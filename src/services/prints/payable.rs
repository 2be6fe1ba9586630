//! A print order's part in the money flow ([`checkout`]): its own states and the `PRINT_*`
//! events each step writes on the photo order's trail.
use campus_photo_domain::print_order::{PrintEvent, PrintOrderStatus};
use sea_orm::{ConnectionTrait, sea_query::Expr};
use uuid::Uuid;

use super::transition::{self, Detail};
use crate::{
    AppState,
    entities::{payment, print_order},
    error::{AppError, AppResult},
    services::payments::{
        checkout::{Closing, Payable, RefundSettled, Step, payable_columns},
        refunds::RefundOf,
    },
};

impl Payable for print_order::Model {
    const NOUN: &'static str = "加洗订单";
    const PAYMENT_OF: payment::Column = payment::Column::PrintOrderId;

    type Entity = print_order::Entity;
    const STATUS: print_order::Column = print_order::Column::Status;
    const CREATED_AT: print_order::Column = print_order::Column::CreatedAt;

    payable_columns!();

    fn unpaid_status() -> sea_orm::Value {
        PrintOrderStatus::PendingPayment.into()
    }

    fn awaits_payment(&self) -> bool {
        self.status == PrintOrderStatus::PendingPayment
    }

    fn is_closed(&self) -> bool {
        self.status == PrintOrderStatus::Closed
    }

    /// Paid and not shipped yet: once the prints are on their way the money stays.
    fn refundable(&self) -> bool {
        self.status == PrintOrderStatus::Paid
    }

    fn invalid_state(&self) -> AppError {
        transition::invalid_state(self.status)
    }

    fn not_found() -> AppError {
        super::not_found()
    }

    fn refund_of(&self) -> RefundOf {
        RefundOf::Print(self.id)
    }

    async fn find<C: ConnectionTrait + Sync>(db: &C, id: Uuid) -> AppResult<Self> {
        print_order::find(db, id).await
    }

    async fn description(&self, _state: &AppState) -> AppResult<String> {
        Ok(format!(
            "学历照片加洗-{}×{}",
            self.layout_name, self.quantity
        ))
    }

    async fn close(&self, step: Step<'_>, why: Closing) -> AppResult<Self> {
        let event = match why {
            Closing::Cancel => PrintEvent::Cancel,
            Closing::PaymentTimeout => PrintEvent::PaymentTimeout,
        };
        let Step {
            txn,
            by,
            now,
            detail,
        } = step;
        transition::apply(txn, self, event, by, now, Vec::new(), detail).await
    }

    async fn confirm_payment(&self, step: Step<'_>) -> AppResult<()> {
        let Step {
            txn,
            by,
            now,
            detail,
        } = step;
        let paid_at = vec![(print_order::Column::PaidAt, Expr::value(now))];
        let event = PrintEvent::PaymentConfirmed;
        transition::apply(txn, self, event, by, now, paid_at, detail).await?;
        Ok(())
    }

    async fn paid_after_close(&self, step: Step<'_>) -> AppResult<()> {
        let Step {
            txn,
            by,
            now,
            detail,
        } = step;
        let event = PrintEvent::PaidAfterClose;
        transition::apply(txn, self, event, by, now, Vec::new(), detail).await?;
        Ok(())
    }

    async fn refund_requested(&self, step: Step<'_>) -> AppResult<()> {
        let Step {
            txn,
            by,
            now,
            detail,
        } = step;
        let pending = vec![(print_order::Column::RefundPending, Expr::value(true))];
        let event = PrintEvent::RefundRequested;
        transition::apply(txn, self, event, by, now, pending, detail).await?;
        Ok(())
    }

    /// The outcome is recorded whatever the print order's status says now: the refund stands.
    async fn refund_settled(&self, step: Step<'_>, outcome: RefundSettled) -> AppResult<()> {
        let (txn, by, now, _) = step.parts();
        let (event, detail) = match outcome {
            RefundSettled::Refunded => (
                PrintEvent::RefundConfirmed,
                Detail::reason("REFUNDED", "退款已原路退回"),
            ),
            RefundSettled::Failed(message) => (
                PrintEvent::RefundFailed,
                Detail::reason("REFUND_FAILED", message),
            ),
        };
        let cleared = vec![(print_order::Column::RefundPending, Expr::value(false))];
        match transition::apply(txn, self, event, by, now, cleared, detail).await {
            Ok(_) => Ok(()),
            Err(AppError::User(_)) => {
                tracing::warn!(print_order = %self.id, status = %self.status, "refund outcome for a print order in another state");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}
