//! A print order's part in the money flow ([`checkout`]): its own states and the `PRINT_*`
//! events each step writes on the photo order's trail.
use campus_photo_domain::print_order::{PrintEvent, PrintOrderStatus};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

use super::transition::{self, By, Detail};
use crate::{
    AppState,
    entities::{payment, print_order},
    error::{AppError, AppResult},
    services::payments::{
        checkout::{Closing, Payable, RefundSettled},
        refunds::RefundOf,
    },
};

impl Payable for print_order::Model {
    const NOUN: &'static str = "加洗订单";
    const PAYMENT_OF: payment::Column = payment::Column::PrintOrderId;

    fn id(&self) -> Uuid {
        self.id
    }

    fn account_id(&self) -> Option<Uuid> {
        self.account_id
    }

    fn out_trade_no(&self) -> &str {
        &self.number
    }

    fn amount_fen(&self) -> i64 {
        self.amount_fen
    }

    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    fn refund_pending(&self) -> bool {
        self.refund_pending
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

    async fn unpaid_since(
        state: &AppState,
        cutoff: DateTime<Utc>,
        limit: u64,
    ) -> AppResult<Vec<Self>> {
        Ok(print_order::Entity::find()
            .filter(print_order::Column::Status.eq(PrintOrderStatus::PendingPayment))
            .filter(print_order::Column::CreatedAt.lte(cutoff))
            .order_by_asc(print_order::Column::CreatedAt)
            .limit(limit)
            .all(&state.db)
            .await?)
    }

    async fn close(
        &self,
        txn: &DatabaseTransaction,
        why: Closing,
        by: By,
        now: DateTime<Utc>,
        detail: Detail,
    ) -> AppResult<Self> {
        let event = match why {
            Closing::Cancel => PrintEvent::Cancel,
            Closing::PaymentTimeout => PrintEvent::PaymentTimeout,
        };
        transition::apply(txn, self, event, by, now, Vec::new(), detail).await
    }

    async fn confirm_payment(
        &self,
        txn: &DatabaseTransaction,
        now: DateTime<Utc>,
        detail: Detail,
    ) -> AppResult<()> {
        let paid_at = vec![(print_order::Column::PaidAt, Expr::value(now))];
        let event = PrintEvent::PaymentConfirmed;
        transition::apply(txn, self, event, By::WECHATPAY, now, paid_at, detail).await?;
        Ok(())
    }

    async fn paid_after_close(
        &self,
        txn: &DatabaseTransaction,
        now: DateTime<Utc>,
        detail: Detail,
    ) -> AppResult<()> {
        let event = PrintEvent::PaidAfterClose;
        transition::apply(txn, self, event, By::WECHATPAY, now, Vec::new(), detail).await?;
        Ok(())
    }

    async fn refund_requested(
        &self,
        txn: &DatabaseTransaction,
        by: By,
        now: DateTime<Utc>,
        reason: &str,
    ) -> AppResult<()> {
        let pending = vec![(print_order::Column::RefundPending, Expr::value(true))];
        let detail = Detail {
            message: Some(reason.to_string()),
            ..Detail::default()
        };
        let event = PrintEvent::RefundRequested;
        transition::apply(txn, self, event, by, now, pending, detail).await?;
        Ok(())
    }

    async fn refund_settled(
        &self,
        txn: &DatabaseTransaction,
        outcome: RefundSettled,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
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
        match transition::apply(txn, self, event, By::WECHATPAY, now, cleared, detail).await {
            Ok(_) => Ok(()),
            // The refund stands whatever the print order's status says now.
            Err(AppError::User(_)) => {
                tracing::warn!(print_order = %self.id, status = %self.status, "refund outcome for a print order in another state");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}
