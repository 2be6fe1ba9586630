//! The outbox relay: publishes `order_events` rows not yet published, oldest first, then marks
//! them. Woken right after a commit (see [`Relay::wake`]); also polls, for rows a crashed
//! instance committed but never published, and for other instances' commits.
use std::{sync::Arc, time::Duration};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr};
use tokio::sync::Notify;

use super::{BusMessage, Published, bus::EventBus};
use crate::{
    AppState,
    entities::{order, order_event},
    error::AppResult,
};

const BATCH: u64 = 500;
const POLL: Duration = Duration::from_millis(500);

#[derive(Clone, Default)]
pub struct Relay {
    wake: Arc<Notify>,
}

impl Relay {
    /// Call after committing a transaction that wrote order events.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub fn spawn(&self, state: AppState) -> tokio::task::JoinHandle<()> {
        let wake = self.wake.clone();
        tokio::spawn(async move {
            loop {
                match publish_pending(&state).await {
                    Ok(n) if n as u64 == BATCH => continue,
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "publishing order events failed; retrying")
                    }
                }
                let _ = tokio::time::timeout(POLL, wake.notified()).await;
            }
        })
    }
}

/// Publishes one batch of unpublished events; returns how many went out.
pub async fn publish_pending(state: &AppState) -> AppResult<usize> {
    let rows = order_event::Entity::find()
        .filter(order_event::Column::PublishedAt.is_null())
        .order_by_asc(order_event::Column::Id)
        .limit(BATCH)
        .all(&state.db)
        .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let orders = order::Entity::find()
        .filter(order::Column::Id.is_in(rows.iter().map(|r| r.order_id)))
        .all(&state.db)
        .await?;
    let mut sent = Vec::with_capacity(rows.len());
    for row in &rows {
        let Some(o) = orders.iter().find(|o| o.id == row.order_id) else {
            continue;
        };
        let event = Published {
            event_id: row.id,
            order_id: o.id,
            school_id: o.school_id,
            account_id: o.account_id,
        };
        if let Err(e) = state.bus.publish(&BusMessage::OrderEvent(event)).await {
            // Left unpublished: the next pass sends it (and whatever follows it) again.
            tracing::warn!(error = %e, "event bus unavailable");
            break;
        }
        sent.push(row.id);
    }
    if !sent.is_empty() {
        order_event::Entity::update_many()
            .col_expr(
                order_event::Column::PublishedAt,
                Expr::value(state.clock.now()),
            )
            .filter(order_event::Column::Id.is_in(sent.iter().copied()))
            .exec(&state.db)
            .await?;
    }
    Ok(sent.len())
}

pub type SharedBus = Arc<dyn EventBus>;
