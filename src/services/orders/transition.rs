//! The one way an order changes: the pure transition table, then a compare-and-set on
//! `(id, version, status)`, then the OrderEvent row — all inside the caller's transaction.
use campus_photo_domain::order::{self as rules, OrderEvent, OrderNote, OrderStatus};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, sea_query::Expr,
};
use uuid::Uuid;

pub use crate::services::trail::{By, Detail};
use crate::{
    entities::{order, order_event},
    error::{AppError, AppResult},
};

/// Column changes that go with a transition (timestamps, the new photo, the rejection …).
pub type Changes = Vec<(order::Column, sea_orm::sea_query::SimpleExpr)>;

pub fn invalid_state(status: OrderStatus) -> AppError {
    AppError::user(
        "INVALID_STATE",
        "orderId",
        format!("订单当前状态为「{}」，不能进行此操作", status.label()),
    )
}

/// Moves `row` by `event`. Refused by the table → INVALID_STATE; lost the race (someone changed
/// the order since it was read) → INVALID_STATE too, and nothing is written.
pub async fn apply(
    db: &impl ConnectionTrait,
    row: &order::Model,
    event: OrderEvent,
    by: By,
    now: DateTime<Utc>,
    changes: Changes,
    detail: Detail,
) -> AppResult<order::Model> {
    let from = row.status;
    let to = rules::transition(from, event, by.actor).map_err(|_| invalid_state(from))?;
    let mut changes = changes;
    changes.push((order::Column::Status, Expr::value(to)));
    if !to.is_open() {
        changes.push((
            order::Column::OpenIdentityKey,
            Expr::value(Option::<String>::None),
        ));
    }
    compare_and_set(db, row, changes, now).await?;
    write_event(db, row.id, Some(from), to, event.as_str(), by, now, detail).await?;
    reload(db, row.id).await
}

/// Appends an event named `event` to the order's trail without changing its status: 加洗 events
/// of the order's prints go through here. A compare-and-set on the order all the same, so event
/// sequence numbers never race.
pub async fn record(
    db: &impl ConnectionTrait,
    row: &order::Model,
    event: &str,
    by: By,
    now: DateTime<Utc>,
    detail: Detail,
) -> AppResult<order_event::Model> {
    let status = row.status;
    compare_and_set(db, row, Vec::new(), now).await?;
    write_event(db, row.id, Some(status), status, event, by, now, detail).await
}

/// Records something about the order without changing its status (still a compare-and-set, so
/// event sequence numbers never race).
pub async fn note(
    db: &impl ConnectionTrait,
    row: &order::Model,
    note: OrderNote,
    by: By,
    now: DateTime<Utc>,
    changes: Changes,
    detail: Detail,
) -> AppResult<order::Model> {
    let status = row.status;
    compare_and_set(db, row, changes, now).await?;
    write_event(
        db,
        row.id,
        Some(status),
        status,
        note.as_str(),
        by,
        now,
        detail,
    )
    .await?;
    reload(db, row.id).await
}

async fn compare_and_set(
    db: &impl ConnectionTrait,
    row: &order::Model,
    changes: Changes,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut update = order::Entity::update_many()
        .col_expr(order::Column::Version, Expr::value(row.version + 1))
        .col_expr(order::Column::UpdatedAt, Expr::value(now));
    for (column, value) in changes {
        update = update.col_expr(column, value);
    }
    let done = update
        .filter(order::Column::Id.eq(row.id))
        .filter(order::Column::Version.eq(row.version))
        .filter(order::Column::Status.eq(row.status))
        .exec(db)
        .await?;
    if done.rows_affected == 1 {
        Ok(())
    } else {
        // Someone else moved the order first; report the state it is in now.
        let current = reload(db, row.id).await?;
        Err(invalid_state(current.status))
    }
}

async fn reload(db: &impl ConnectionTrait, id: Uuid) -> AppResult<order::Model> {
    order::find(db, id).await
}

/// Appends the event row. The caller holds the order's version, so the sequence cannot race.
#[allow(clippy::too_many_arguments)]
pub async fn write_event(
    db: &impl ConnectionTrait,
    order_id: Uuid,
    from: Option<OrderStatus>,
    to: OrderStatus,
    event: &str,
    by: By,
    now: DateTime<Utc>,
    detail: Detail,
) -> AppResult<order_event::Model> {
    let last: Option<i32> = order_event::Entity::find()
        .select_only()
        .column(order_event::Column::Sequence)
        .filter(order_event::Column::OrderId.eq(order_id))
        .order_by_desc(order_event::Column::Sequence)
        .into_tuple()
        .one(db)
        .await?;
    let row = order_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        order_id: Set(order_id),
        sequence: Set(last.unwrap_or(0) + 1),
        from_status: Set(from),
        to_status: Set(to),
        event: Set(event.to_string()),
        actor: Set(by.actor),
        actor_account_id: Set(by.account_id),
        reason_code: Set(detail.reason_code),
        message: Set(detail.message),
        payload: Set(detail.payload),
        created_at: Set(now),
        published_at: Set(None),
        feed_seq: Set(None),
        print_order_id: Set(detail.print_order_id),
    }
    .insert(db)
    .await?;
    Ok(row)
}
