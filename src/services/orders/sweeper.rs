//! Background upkeep: closes orders left unpaid past the timeout, re-sends refunds WeChat never
//! acknowledged, and forgets old notification nonces. Safe with several instances running: every
//! close is a compare-and-set, so of two sweepers racing for one order exactly one closes it.
use std::time::Duration;

use campus_photo_domain::order::{OrderEvent, OrderStatus};
use chrono::TimeDelta;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::transition::{By, Detail};
use crate::{AppState, entities::order, error::AppError, error::AppResult, services::payments};

/// Orders handled per pass; the next pass takes the rest.
const BATCH: u64 = 200;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    pub closed: usize,
    /// Orders another instance (or the student) changed first.
    pub skipped: usize,
    pub refunds_resent: usize,
    /// Production batches whose instance stopped renewing their lease.
    pub batches_resumed: usize,
    /// Print orders closed unpaid, received after the delivery window, or whose shipping
    /// information was sent again.
    pub print_orders_changed: usize,
}

pub async fn run_once(state: &AppState) -> AppResult<SweepReport> {
    let mut report = SweepReport::default();
    let timeout =
        TimeDelta::from_std(state.config.order_payment_timeout).map_err(AppError::internal)?;
    let cutoff = state.clock.now() - timeout;
    let expired = order::Entity::find()
        .filter(order::Column::Status.eq(OrderStatus::PendingPayment.as_str()))
        .filter(order::Column::CreatedAt.lte(cutoff))
        .order_by_asc(order::Column::CreatedAt)
        .limit(BATCH)
        .all(&state.db)
        .await?;
    for row in expired {
        let detail = Detail::reason("PAYMENT_TIMEOUT", "超时未支付，订单已自动关闭");
        match super::close_unpaid(state, row, OrderEvent::PaymentTimeout, By::SYSTEM, detail).await
        {
            Ok(_) => report.closed += 1,
            Err(AppError::User(_)) => report.skipped += 1,
            Err(e) => {
                tracing::warn!(error = %e, "closing an unpaid order failed; next pass retries")
            }
        }
    }
    report.refunds_resent = payments::refunds::resend_unacknowledged(state).await?;
    report.print_orders_changed = crate::services::prints::sweep(state).await?;
    if state.run_jobs {
        report.batches_resumed =
            crate::services::production::resume_unfinished(state, false).await?;
    }
    payments::nonces::forget_old(state).await?;
    Ok(report)
}

/// Runs [`run_once`] every `every` until the process ends.
pub fn spawn(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match run_once(&state).await {
                Ok(r) if r.closed + r.refunds_resent > 0 => {
                    tracing::info!(
                        closed = r.closed,
                        skipped = r.skipped,
                        refunds_resent = r.refunds_resent,
                        "sweeper pass"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "sweeper pass failed"),
            }
        }
    })
}
