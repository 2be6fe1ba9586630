//! A page of orders with what the page shows beside each order, in as few statements as the
//! shape allows: the orders joined with their enrollments (and those enrollments' schools and
//! projects) and their photos in one statement, read by column position, and the orders'
//! events in a second. Each statement costs a round trip, a pooled connection's check-out and
//! check-in (sqlx pings every connection it takes back) and a wake-up, which on the
//! mini-program's order page cost more CPU than the rows themselves.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, JoinType, QueryFilter,
    QueryOrder, QueryResult, QuerySelect, QueryTrait, RelationTrait, Select,
};
use uuid::Uuid;

use crate::{
    entities::{
        enrollment, order, order_event, photo,
        positional::{ReadAt, read_at, select_columns},
        project, school,
    },
    error::AppResult,
    ids::{GlobalIds, NodeType},
    services::paging::{Page, PageArgs, PageRows, page_by_id_read},
};
use campus_photo_domain::order::OrderStatus;

/// What a page reads beside each order: what its query selects.
#[derive(Debug, Clone, Copy, Default)]
pub struct Selected {
    pub enrollment: bool,
    /// The enrollment's school (only with `enrollment`).
    pub school: bool,
    /// The enrollment's project (only with `enrollment`).
    pub project: bool,
    pub photo: Option<PhotoColumns>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoColumns {
    /// Without the JSON columns (see [`LeanPhoto`]).
    Lean,
    Whole,
}

/// An order with the rows read beside it; `None` where the page did not ask (or a row is
/// missing, which the field reports when it reads the row itself).
pub struct OrderRow {
    pub order: order::Model,
    pub enrollment: Option<EnrollmentRow>,
    /// With `lean` true when read without its JSON columns.
    pub photo: Option<(photo::Model, bool)>,
}

pub struct EnrollmentRow {
    pub enrollment: enrollment::Model,
    pub school: Option<school::Model>,
    pub project: Option<project::Model>,
}

/// A keyset page of `select` (orders; newest first or oldest first) with what `selected` names joined in.
pub async fn page(
    db: &DatabaseConnection,
    select: Select<order::Entity>,
    newest_first: bool,
    args: &PageArgs,
    ids: &GlobalIds,
    selected: Selected,
) -> AppResult<Page<OrderRow>> {
    let rows = PageRows {
        widen: |select| widen(select, selected),
        read: |row: &QueryResult| read(row, selected),
    };
    page_by_id_read(
        db,
        select,
        order::Column::Id,
        newest_first,
        args,
        ids,
        NodeType::Order,
        rows,
    )
    .await
}

/// Left joins, so that an order whose row beside it is missing still lists (its field then
/// reports the gap, as it did when each was read on its own). Columns go after the order's, in
/// the order [`read`] takes them.
fn widen(select: Select<order::Entity>, selected: Selected) -> Select<order::Entity> {
    let mut select = select;
    if selected.enrollment {
        select = select.join(JoinType::LeftJoin, order::Relation::Enrollment.def());
        select = select_columns::<_, enrollment::Entity, enrollment::Model>(select);
        if selected.school {
            select = select.join(JoinType::LeftJoin, enrollment::Relation::School.def());
            select = select_columns::<_, school::Entity, school::Model>(select);
        }
        if selected.project {
            select = select.join(JoinType::LeftJoin, enrollment::Relation::Project.def());
            select = select_columns::<_, project::Entity, project::Model>(select);
        }
    }
    if let Some(columns) = selected.photo {
        select = select.join(JoinType::LeftJoin, order::Relation::Photo.def());
        select = match columns {
            PhotoColumns::Lean => select_columns::<_, photo::Entity, LeanPhoto>(select),
            PhotoColumns::Whole => select_columns::<_, photo::Entity, photo::Model>(select),
        };
    }
    select
}

/// The joined row `R` at `*at`, or None when the left join found none (its id is NULL); moves
/// `*at` past its columns either way.
fn joined<R: ReadAt>(row: &QueryResult, at: &mut usize) -> Result<Option<R>, DbErr> {
    let found: Option<Uuid> = row.try_get_by_index(*at)?;
    if found.is_none() {
        *at += R::FIELDS.len();
        return Ok(None);
    }
    R::read_at(row, at).map(Some)
}

fn read(row: &QueryResult, selected: Selected) -> Result<OrderRow, DbErr> {
    let mut at = 0;
    let order = order::Model::read_at(row, &mut at)?;
    let mut enrollment = None;
    if selected.enrollment {
        let found = joined::<enrollment::Model>(row, &mut at)?;
        let school = if selected.school {
            joined::<school::Model>(row, &mut at)?
        } else {
            None
        };
        let project = if selected.project {
            joined::<project::Model>(row, &mut at)?
        } else {
            None
        };
        enrollment = found.map(|enrollment| EnrollmentRow {
            enrollment,
            school,
            project,
        });
    }
    let photo = match selected.photo {
        None => None,
        Some(PhotoColumns::Lean) => {
            joined::<LeanPhoto>(row, &mut at)?.map(|p| (photo::Model::from(p), true))
        }
        Some(PhotoColumns::Whole) => joined::<photo::Model>(row, &mut at)?.map(|p| (p, false)),
    };
    Ok(OrderRow {
        order,
        enrollment,
        photo,
    })
}

/// A photo row without its JSON columns (`check_report`, `face_geometry`), for lists that show
/// neither the check nor the preview: decoding those into JSON values was a good part of the
/// order page's CPU.
struct LeanPhoto {
    id: uuid::Uuid,
    enrollment_id: uuid::Uuid,
    source: campus_photo_domain::records::PhotoSource,
    object_key: String,
    sha256: String,
    width: i32,
    height: i32,
    byte_size: i64,
    content_type: String,
    verdict: campus_photo_domain::records::Verdict,
    preview_key: Option<String>,
    created_at: chrono::DateTime<chrono::Utc>,
    manual_review_granted_at: Option<chrono::DateTime<chrono::Utc>>,
}

read_at!(LeanPhoto {
    id,
    enrollment_id,
    source,
    object_key,
    sha256,
    width,
    height,
    byte_size,
    content_type,
    verdict,
    preview_key,
    created_at,
    manual_review_granted_at,
});

impl From<LeanPhoto> for photo::Model {
    fn from(p: LeanPhoto) -> Self {
        Self {
            id: p.id,
            enrollment_id: p.enrollment_id,
            source: p.source,
            object_key: p.object_key,
            sha256: p.sha256,
            width: p.width,
            height: p.height,
            byte_size: p.byte_size,
            content_type: p.content_type,
            verdict: p.verdict,
            check_report: serde_json::Value::Null,
            face_geometry: None,
            preview_key: p.preview_key,
            created_at: p.created_at,
            manual_review_granted_at: p.manual_review_granted_at,
        }
    }
}

/// An event row without `payload`, which no list shows.
struct LeanEvent {
    id: Uuid,
    order_id: Uuid,
    sequence: i32,
    from_status: Option<OrderStatus>,
    to_status: OrderStatus,
    event: String,
    actor: campus_photo_domain::order::Actor,
    actor_account_id: Option<Uuid>,
    reason_code: Option<String>,
    message: Option<String>,
    created_at: DateTime<Utc>,
    published_at: Option<DateTime<Utc>>,
    feed_seq: Option<i64>,
    print_order_id: Option<Uuid>,
}

read_at!(LeanEvent {
    id,
    order_id,
    sequence,
    from_status,
    to_status,
    event,
    actor,
    actor_account_id,
    reason_code,
    message,
    created_at,
    published_at,
    feed_seq,
    print_order_id,
});

impl From<LeanEvent> for order_event::Model {
    fn from(e: LeanEvent) -> Self {
        Self {
            id: e.id,
            order_id: e.order_id,
            sequence: e.sequence,
            from_status: e.from_status,
            to_status: e.to_status,
            event: e.event,
            actor: e.actor,
            actor_account_id: e.actor_account_id,
            reason_code: e.reason_code,
            message: e.message,
            payload: None,
            created_at: e.created_at,
            published_at: e.published_at,
            feed_seq: e.feed_seq,
            print_order_id: e.print_order_id,
        }
    }
}

/// The events of `orders` (without payloads), oldest first, by order; every order present.
pub async fn events_of(
    db: &DatabaseConnection,
    orders: impl IntoIterator<Item = Uuid>,
) -> AppResult<HashMap<Uuid, Vec<order_event::Model>>> {
    use order_event::Column as C;
    let orders: Vec<Uuid> = orders.into_iter().collect();
    let mut by_order: HashMap<Uuid, Vec<order_event::Model>> =
        orders.iter().map(|id| (*id, Vec::new())).collect();
    if orders.is_empty() {
        return Ok(by_order);
    }
    let select = order_event::Entity::find()
        .select_only()
        .filter(C::OrderId.is_in(orders))
        .order_by_asc(C::OrderId)
        .order_by_asc(C::Sequence);
    let select = select_columns::<_, order_event::Entity, LeanEvent>(select);
    let found = db
        .query_all_raw(select.build(db.get_database_backend()))
        .await?;
    let rows = found
        .iter()
        .map(|row| LeanEvent::read_at(row, &mut 0))
        .collect::<Result<Vec<_>, DbErr>>()?;
    for row in rows {
        by_order.entry(row.order_id).or_default().push(row.into());
    }
    Ok(by_order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn lean_rows_name_their_tables_columns() {
        for field in LeanEvent::FIELDS {
            assert!(order_event::Column::from_str(field).is_ok(), "{field}");
        }
        for field in LeanPhoto::FIELDS {
            assert!(photo::Column::from_str(field).is_ok(), "{field}");
        }
    }
}
