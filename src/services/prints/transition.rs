//! The one way a print order changes: the pure table, a compare-and-set on `(id, version,
//! status)`, and the event on the photo order's trail (so it reaches `orderUpdates`) — all in the
//! caller's transaction.
use campus_photo_domain::print_order::{self as rules, PrintEvent, PrintOrderStatus};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};

pub use crate::services::trail::{By, Detail};
use crate::{
    entities::{order, print_order},
    error::{AppError, AppResult},
    services::orders::transition as order_transition,
};

pub type Changes = Vec<(print_order::Column, sea_orm::sea_query::SimpleExpr)>;

pub fn invalid_state(status: PrintOrderStatus) -> AppError {
    AppError::user(
        "INVALID_STATE",
        "printOrderId",
        format!("加洗订单当前状态为「{}」，不能进行此操作", status.label()),
    )
}

/// Moves `row` by `event` (or records it, for events that keep the status). Refused by the
/// table, or changed by someone else since it was read → INVALID_STATE and nothing written.
pub async fn apply(
    db: &impl ConnectionTrait,
    row: &print_order::Model,
    event: PrintEvent,
    by: By,
    now: DateTime<Utc>,
    changes: Changes,
    detail: Detail,
) -> AppResult<print_order::Model> {
    let from = row.status;
    let to = rules::transition(from, event, by.actor).ok_or_else(|| invalid_state(from))?;
    let mut update = print_order::Entity::update_many()
        .col_expr(print_order::Column::Version, Expr::value(row.version + 1))
        .col_expr(print_order::Column::UpdatedAt, Expr::value(now))
        .col_expr(print_order::Column::Status, Expr::value(to));
    for (column, value) in changes {
        update = update.col_expr(column, value);
    }
    let done = update
        .filter(print_order::Column::Id.eq(row.id))
        .filter(print_order::Column::Version.eq(row.version))
        .filter(print_order::Column::Status.eq(row.status))
        .exec(db)
        .await?;
    if done.rows_affected != 1 {
        let current = reload(db, row.id).await?;
        return Err(invalid_state(current.status));
    }
    record(db, row, event, by, now, detail).await?;
    reload(db, row.id).await
}

/// Appends the print order's event to its photo order's trail, with both statuses in the
/// payload so the audit trail reads on its own.
pub async fn record(
    db: &impl ConnectionTrait,
    row: &print_order::Model,
    event: PrintEvent,
    by: By,
    now: DateTime<Utc>,
    detail: Detail,
) -> AppResult<()> {
    let parent = order::Entity::find_by_id(row.order_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("print order without its order"))?;
    let from = row.status;
    let to = rules::transition(from, event, by.actor).unwrap_or(from);
    let mut payload = detail.payload.unwrap_or_else(|| serde_json::json!({}));
    if let Some(map) = payload.as_object_mut() {
        map.insert("printOrderNumber".into(), row.number.clone().into());
        map.insert("printFrom".into(), from.as_str().into());
        map.insert("printTo".into(), to.as_str().into());
    }
    order_transition::record(
        db,
        &parent,
        event.as_str(),
        by,
        now,
        Detail {
            payload: Some(payload),
            print_order_id: Some(row.id),
            ..detail
        },
    )
    .await?;
    Ok(())
}

pub async fn reload(db: &impl ConnectionTrait, id: uuid::Uuid) -> AppResult<print_order::Model> {
    print_order::find(db, id).await
}
