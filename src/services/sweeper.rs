//! Background upkeep: closes orders left unpaid past the timeout, re-sends refunds WeChat never
//! acknowledged, and forgets old notification nonces. Safe with several instances running: every
//! close is a compare-and-set, so of two sweepers racing for one order exactly one closes it.
use std::time::Duration;

use crate::{
    AppState,
    entities::{order, print_order},
    error::AppResult,
    services::{
        notifications, orders,
        payments::{self, checkout},
        prints, production,
    },
};

/// Orders handled per pass; the next pass takes the rest.
const BATCH: u64 = 200;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    /// Photo orders closed unpaid.
    pub closed: usize,
    /// Orders another instance (or the student) changed first.
    pub skipped: usize,
    pub refunds_resent: usize,
    /// Production batches whose instance stopped renewing their lease.
    pub batches_resumed: usize,
    /// Print orders closed unpaid, received after the delivery window, or whose shipping
    /// information was sent again.
    pub print_orders_changed: usize,
    /// Completed photo orders whose virtual shipment was sent to WeChat again.
    pub shipments_resent: usize,
    /// Reminders sent to students whose unpaid order is about to close.
    pub payment_reminders: usize,
}

pub async fn run_once(state: &AppState) -> AppResult<SweepReport> {
    let mut report = SweepReport::default();
    let photo_orders = checkout::close_expired::<order::Model>(state, BATCH).await?;
    let print_orders = checkout::close_expired::<print_order::Model>(state, BATCH).await?;
    report.closed = photo_orders.closed;
    report.skipped = photo_orders.skipped + print_orders.skipped;
    report.refunds_resent = payments::refunds::resend_unacknowledged(state).await?;
    report.print_orders_changed = print_orders.closed + prints::sweep(state).await?;
    report.shipments_resent = orders::shipping::upload_pending(state).await?;
    report.payment_reminders = notifications::remind_unpaid(state).await?;
    if state.run_jobs {
        report.batches_resumed = production::resume_unfinished(state, false).await?;
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
