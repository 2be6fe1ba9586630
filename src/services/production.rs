//! 制作: production batches. A batch moves each order PENDING_PRODUCTION → IN_PRODUCTION, renders
//! the standard 480×640 photo, stores it and moves the order to COMPLETED; a failure puts that
//! order back to PENDING_PRODUCTION for a retry. Progress lives in the database, so a batch
//! interrupted by a crash resumes where it stopped; a lease keeps two instances off one batch.
use std::sync::OnceLock;

use campus_photo_domain::{
    order::{OrderEvent, OrderStatus},
    records::{BatchState, ItemState},
};
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::services::scope::{self, Duty};

use super::{
    orders::{
        self,
        transition::{self, By, Detail},
    },
    photos,
    sessions::Viewer,
};
use crate::{
    AppState,
    entities::{order, photo, production_batch, production_item},
    error::{AppError, AppResult},
    services::scope::in_school_scope,
};

/// A batch's lease; renewed after every order, so a crashed instance's batch is picked up soon.
const LEASE: TimeDelta = TimeDelta::seconds(60);
const MAX_ORDERS: usize = 1000;

/// This process, as a lease owner.
fn instance() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| Uuid::new_v4().to_string())
}

/// 开始制作: a batch of the PENDING_PRODUCTION orders of a school (or the listed ones).
pub async fn start_batch(
    state: &AppState,
    viewer: &Viewer,
    school_code: Option<&str>,
    order_ids: Option<Vec<Uuid>>,
) -> AppResult<production_batch::Model> {
    scope::require(viewer, Duty::Produce)?;
    let school = crate::services::scope::school_filter(state, viewer, school_code).await?;
    let mut select =
        order::Entity::find().filter(order::Column::Status.eq(OrderStatus::PendingProduction));
    if let Some(school) = school {
        select = select.filter(order::Column::SchoolId.eq(school));
    }
    if let Some(ids) = &order_ids {
        if ids.is_empty() || ids.len() > MAX_ORDERS {
            return Err(AppError::user(
                "INVALID_ORDERS",
                "orderIds",
                format!("请选择 1 到 {MAX_ORDERS} 个订单"),
            ));
        }
        select = select.filter(order::Column::Id.is_in(ids.iter().copied()));
    }
    let candidates = select
        .order_by_asc(order::Column::Id)
        .all(&state.db)
        .await?;
    // Orders already waiting in a running batch stay there.
    let busy: Vec<Uuid> = production_item::Entity::find()
        .filter(production_item::Column::State.eq(ItemState::Pending))
        .filter(production_item::Column::OrderId.is_in(candidates.iter().map(|o| o.id)))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|i| i.order_id)
        .collect();
    let chosen: Vec<_> = candidates
        .into_iter()
        .filter(|o| !busy.contains(&o.id) && in_school_scope(viewer, o.school_id).is_ok())
        .take(MAX_ORDERS)
        .collect();
    if let Some(ids) = &order_ids
        && chosen.len() != ids.len()
    {
        return Err(AppError::user(
            "INVALID_ORDERS",
            "orderIds",
            "所选订单中有不在待制作状态、不在你的范围内或已在制作中的订单",
        ));
    }
    if chosen.is_empty() {
        return Err(AppError::user(
            "NOTHING_TO_PRODUCE",
            "schoolCode",
            "没有待制作的订单",
        ));
    }
    let now = state.clock.now();
    let id = Uuid::now_v7();
    let batch = production_batch::ActiveModel {
        id: Set(id),
        school_id: Set(school),
        created_by: Set(viewer.account_id),
        total: Set(i32::try_from(chosen.len()).unwrap_or(i32::MAX)),
        done: Set(0),
        failed: Set(0),
        state: Set(BatchState::Running),
        lease_owner: Set(None),
        lease_expires_at: Set(None),
        created_at: Set(now),
        finished_at: Set(None),
    };
    let batch = state
        .write(async |txn| {
            let batch = batch.insert(txn).await?;
            for o in &chosen {
                production_item::ActiveModel {
                    batch_id: Set(id),
                    order_id: Set(o.id),
                    state: Set(ItemState::Pending),
                    error: Set(None),
                    updated_at: Set(now),
                }
                .insert(txn)
                .await?;
            }
            Ok(batch)
        })
        .await?;
    if state.run_jobs {
        spawn(state.clone(), id);
    }
    Ok(batch)
}

/// Runs the batch in the background.
pub fn spawn(state: AppState, batch_id: Uuid) {
    tokio::spawn(async move {
        if let Err(e) = run(&state, batch_id, None).await {
            tracing::warn!(batch = %batch_id, error = %e, "production batch stopped; it resumes later");
        }
    });
}

/// Starts the unfinished batches nobody holds: at start-up every one (`including_unstarted`:
/// also those whose runner never began), later only those whose holder stopped renewing.
pub async fn resume_unfinished(state: &AppState, including_unstarted: bool) -> AppResult<usize> {
    let now = state.clock.now();
    let expired = production_batch::Column::LeaseExpiresAt.lte(now);
    let stalled = production_batch::Entity::find()
        .filter(production_batch::Column::State.eq(BatchState::Running))
        .filter(if including_unstarted {
            production_batch::Column::LeaseExpiresAt
                .is_null()
                .or(expired)
        } else {
            expired
        })
        .all(&state.db)
        .await?;
    for b in &stalled {
        spawn(state.clone(), b.id);
    }
    Ok(stalled.len())
}

/// Takes (or renews) the batch's lease; false when another instance holds it.
async fn hold_lease(
    db: &impl ConnectionTrait,
    batch_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let taken = production_batch::Entity::update_many()
        .col_expr(
            production_batch::Column::LeaseOwner,
            Expr::value(instance()),
        )
        .col_expr(
            production_batch::Column::LeaseExpiresAt,
            Expr::value(now + LEASE),
        )
        .filter(production_batch::Column::Id.eq(batch_id))
        .filter(production_batch::Column::State.eq(BatchState::Running))
        .filter(
            production_batch::Column::LeaseExpiresAt
                .is_null()
                .or(production_batch::Column::LeaseExpiresAt.lte(now))
                .or(production_batch::Column::LeaseOwner.eq(instance())),
        )
        .exec(db)
        .await?;
    Ok(taken.rows_affected == 1)
}

/// Works through the batch's pending orders (at most `limit` of them, for tests that stop a
/// batch half-way) and finishes the batch when none remain. Returns how many it handled.
pub async fn run(state: &AppState, batch_id: Uuid, limit: Option<usize>) -> AppResult<usize> {
    let mut handled = 0;
    loop {
        if !hold_lease(&state.db, batch_id, state.clock.now()).await? {
            return Ok(handled);
        }
        let next = production_item::Entity::find()
            .filter(production_item::Column::BatchId.eq(batch_id))
            .filter(production_item::Column::State.eq(ItemState::Pending))
            .order_by_asc(production_item::Column::OrderId)
            .one(&state.db)
            .await?;
        let Some(item) = next else {
            finish(state, batch_id).await?;
            crate::events::notify(state, crate::events::BusMessage::BatchProgress { batch_id })
                .await;
            return Ok(handled);
        };
        if limit.is_some_and(|l| handled >= l) {
            return Ok(handled);
        }
        produce(state, &item).await?;
        crate::events::notify(state, crate::events::BusMessage::BatchProgress { batch_id }).await;
        handled += 1;
    }
}

async fn finish(state: &AppState, batch_id: Uuid) -> AppResult<()> {
    production_batch::Entity::update_many()
        .col_expr(
            production_batch::Column::State,
            Expr::value(BatchState::Finished),
        )
        .col_expr(
            production_batch::Column::FinishedAt,
            Expr::value(state.clock.now()),
        )
        .col_expr(
            production_batch::Column::LeaseExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(production_batch::Column::Id.eq(batch_id))
        .filter(production_batch::Column::State.eq(BatchState::Running))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// One order: start (unless a crash left it started), render, complete — or put it back.
async fn produce(state: &AppState, item: &production_item::Model) -> AppResult<()> {
    let mut row = orders::find(&state.db, item.order_id).await?;
    match row.status {
        OrderStatus::PendingProduction => {
            let now = state.clock.now();
            let detail = Detail {
                payload: Some(serde_json::json!({ "batch": item.batch_id.to_string() })),
                ..Detail::default()
            };
            let (event, none) = (OrderEvent::StartProduction, Vec::new());
            row = state
                .write(async |txn| {
                    transition::apply(txn, &row, event, By::SYSTEM, now, none, detail).await
                })
                .await?;
        }
        // Started before a crash: carry on with it.
        OrderStatus::InProduction => {}
        other => {
            return settle(state, item, None, Some(format!("order is {other}"))).await;
        }
    }
    match render(state, &row).await {
        Ok(key) => {
            settle(state, item, Some((&row, key)), None).await?;
            // 虚拟发货: WeChat hears that the paid order was delivered.
            orders::shipping::upload_completed(state, row.id).await
        }
        Err(e) => {
            tracing::warn!(order = %row.id, error = %e, "rendering failed");
            let now = state.clock.now();
            let detail = Detail::reason("PRODUCTION_FAILED", "制作失败，将重新制作");
            let (event, none) = (OrderEvent::ProductionFailed, Vec::new());
            state
                .write(async |txn| {
                    transition::apply(txn, &row, event, By::SYSTEM, now, none, detail).await?;
                    mark_item(txn, item, ItemState::Failed, Some(e.to_string()), now).await
                })
                .await
        }
    }
}

/// Renders (or finds, when a crash came after it was stored) the standard photo's key.
async fn render(state: &AppState, row: &order::Model) -> AppResult<String> {
    photos::preview(state, row.photo_id)
        .await?
        .ok_or_else(|| AppError::internal("no face geometry to render from"))?;
    photo::Entity::find_by_id(row.photo_id)
        .one(&state.db)
        .await?
        .and_then(|p| p.preview_key)
        .ok_or_else(|| AppError::internal("rendered photo not recorded"))
}

/// Completes the order with its deliverable (or just closes the item), counting it once.
async fn settle(
    state: &AppState,
    item: &production_item::Model,
    completed: Option<(&order::Model, String)>,
    error: Option<String>,
) -> AppResult<()> {
    let now = state.clock.now();
    state
        .write(async |txn| match completed {
            Some((row, key)) => {
                let changes = vec![
                    (order::Column::DeliverableKey, Expr::value(key)),
                    (order::Column::CompletedAt, Expr::value(now)),
                ];
                let (event, detail) = (OrderEvent::FinishProduction, Detail::default());
                transition::apply(txn, row, event, By::SYSTEM, now, changes, detail).await?;
                mark_item(txn, item, ItemState::Done, None, now).await
            }
            None => mark_item(txn, item, ItemState::Failed, error, now).await,
        })
        .await
}

/// Closes the item and counts it on the batch, only if it was still pending.
async fn mark_item(
    db: &impl ConnectionTrait,
    item: &production_item::Model,
    outcome: ItemState,
    error: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let closed = production_item::Entity::update_many()
        .col_expr(production_item::Column::State, Expr::value(outcome))
        .col_expr(production_item::Column::Error, Expr::value(error))
        .col_expr(production_item::Column::UpdatedAt, Expr::value(now))
        .filter(production_item::Column::BatchId.eq(item.batch_id))
        .filter(production_item::Column::OrderId.eq(item.order_id))
        .filter(production_item::Column::State.eq(ItemState::Pending))
        .exec(db)
        .await?;
    if closed.rows_affected == 1 {
        let column = if outcome == ItemState::Done {
            production_batch::Column::Done
        } else {
            production_batch::Column::Failed
        };
        production_batch::Entity::update_many()
            .col_expr(column, Expr::col(column).add(1))
            .filter(production_batch::Column::Id.eq(item.batch_id))
            .exec(db)
            .await?;
    }
    Ok(())
}

pub async fn batch_for(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<production_batch::Model> {
    let batch = production_batch::find(&state.db, id).await?;
    if scope::staff_see(viewer, batch.school_id) {
        Ok(batch)
    } else {
        Err(AppError::NotFound("找不到该制作批次"))
    }
}
