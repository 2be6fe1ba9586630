//! The outbox relay: publishes `order_events` rows not yet published, oldest first, then marks
//! them. Woken right after a commit (see [`Relay::wake`]); also polls, for rows a crashed
//! instance committed but never published, and for other instances' commits.
use std::{sync::Arc, time::Duration};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement, sea_query::Expr,
};
use tokio::sync::Notify;
use uuid::Uuid;

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

/// Gives committed events without a place in the feed the next places, oldest id first, in one
/// transaction that first locks the counter row: the relays of all instances take turns, and
/// an event committing later always gets a later place. Returns how many were placed.
pub async fn sequence_committed(state: &AppState) -> AppResult<usize> {
    // A plain read first: the relay polls twice a second, and an idle one should not write.
    let waiting: Option<Uuid> = order_event::Entity::find()
        .select_only()
        .column(order_event::Column::Id)
        .filter(order_event::Column::FeedSeq.is_null())
        .into_tuple()
        .one(&state.db)
        .await?;
    if waiting.is_none() {
        return Ok(0);
    }
    let txn = crate::db::begin_write(&state.db).await?;
    let backend = txn.get_database_backend();
    // A write first: it takes the lock (PostgreSQL: the row; SQLite: the database) before
    // anything is read, so what follows sees every event committed before it.
    txn.execute_raw(Statement::from_string(
        backend,
        "UPDATE feed_counter SET last_seq = last_seq WHERE id = 1",
    ))
    .await?;
    let ids: Vec<Uuid> = order_event::Entity::find()
        .select_only()
        .column(order_event::Column::Id)
        .filter(order_event::Column::FeedSeq.is_null())
        .order_by_asc(order_event::Column::Id)
        .limit(BATCH)
        .into_tuple()
        .all(&txn)
        .await?;
    if ids.is_empty() {
        txn.commit().await?;
        return Ok(0);
    }
    let last: i64 = txn
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT last_seq FROM feed_counter WHERE id = 1",
        ))
        .await?
        .ok_or_else(|| crate::error::AppError::internal("feed_counter row missing"))?
        .try_get("", "last_seq")?;
    let mut seq = last;
    for id in &ids {
        seq += 1;
        order_event::Entity::update_many()
            .col_expr(order_event::Column::FeedSeq, Expr::value(seq))
            .filter(order_event::Column::Id.eq(*id))
            .exec(&txn)
            .await?;
    }
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        match backend {
            DbBackend::Postgres => "UPDATE feed_counter SET last_seq = $1 WHERE id = 1",
            _ => "UPDATE feed_counter SET last_seq = ? WHERE id = 1",
        },
        [seq.into()],
    ))
    .await?;
    txn.commit().await?;
    Ok(ids.len())
}

/// Places newly committed events in the feed, then publishes one batch of placed but unpublished
/// events in feed order; returns how many went out.
pub async fn publish_pending(state: &AppState) -> AppResult<usize> {
    sequence_committed(state).await?;
    let rows = order_event::Entity::find()
        .filter(order_event::Column::PublishedAt.is_null())
        .filter(order_event::Column::FeedSeq.is_not_null())
        .order_by_asc(order_event::Column::FeedSeq)
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
