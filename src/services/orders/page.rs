//! A page of orders with what the page shows beside each order, in one statement: the orders
//! joined with their enrollments (and those enrollments' schools and projects) and their photos,
//! read by column position, and each order's events aggregated by the database into one JSON
//! column. Each statement costs a round trip, a pooled connection's check-out and check-in (sqlx
//! pings every connection it takes back) and a wake-up, which on the mini-program's order page
//! cost more CPU than the rows themselves.
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ColumnType, DatabaseConnection, DbBackend, DbErr, EntityName, IdenStatic,
    JoinType, QueryResult, QuerySelect, RelationTrait, Select,
    sea_query::{Expr, SimpleExpr},
};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    entities::{
        enrollment, order, order_event, photo,
        positional::{ReadAt, read_at, select_columns},
        project, school,
    },
    error::AppResult,
    ids::{GlobalIds, NodeType},
    services::paging::{PAGE_ALIAS, PAGE_KEY, Page, PageArgs, PageRows, page_by_id_read},
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
    /// Each order's events (without `payload`), oldest first.
    pub events: bool,
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
    /// Without `payload`, oldest first.
    pub events: Option<Vec<order_event::Model>>,
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
    let per_row = if selected.events {
        vec![(events_json(db.get_database_backend())?, EVENTS_COLUMN)]
    } else {
        Vec::new()
    };
    let rows = PageRows {
        widen: |select| widen(select, selected),
        read: |row: &QueryResult| read(row, selected),
        per_row,
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
    let events = if selected.events {
        let text: String = row.try_get("", EVENTS_COLUMN)?;
        let mut events: Vec<LeanEvent> = serde_json::from_str(&text)
            .map_err(|e| DbErr::Custom(format!("{EVENTS_COLUMN}: {e}")))?;
        events.sort_unstable_by_key(|e| e.sequence);
        Some(events.into_iter().map(Into::into).collect())
    } else {
        None
    };
    Ok(OrderRow {
        order,
        enrollment,
        photo,
        events,
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

/// An event without `payload`, which no list shows, as [`events_json`] spells it: an object
/// whose keys are the columns of [`EVENT_COLUMNS`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
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
    created_at: Timestamp,
    published_at: Option<Timestamp>,
    feed_seq: Option<i64>,
    print_order_id: Option<Uuid>,
}

/// A timestamp as both databases write it into JSON (RFC 3339 with an offset), read by chrono's
/// RFC 3339 parser from the borrowed text: chrono's own `Deserialize` copies the text and takes
/// its general parser, which was a fifth of decoding a page's events. Anything else that parses
/// as a `DateTime` is still read.
struct Timestamp(DateTime<Utc>);

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Rfc3339;
        impl serde::de::Visitor<'_> for Rfc3339 {
            type Value = Timestamp;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an RFC 3339 timestamp")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Timestamp, E> {
                DateTime::parse_from_rfc3339(text)
                    .map(|at| at.with_timezone(&Utc))
                    .or_else(|_| text.parse::<DateTime<Utc>>())
                    .map(Timestamp)
                    .map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Rfc3339)
    }
}

/// The columns of [`LeanEvent`]: every column of `order_events` but `payload`.
const EVENT_COLUMNS: [order_event::Column; 14] = {
    use order_event::Column as C;
    [
        C::Id,
        C::OrderId,
        C::Sequence,
        C::FromStatus,
        C::ToStatus,
        C::Event,
        C::Actor,
        C::ActorAccountId,
        C::ReasonCode,
        C::Message,
        C::CreatedAt,
        C::PublishedAt,
        C::FeedSeq,
        C::PrintOrderId,
    ]
};

/// The column a page's row carries its events in.
const EVENTS_COLUMN: &str = "page_events";

/// A page row's events (the row's key is its order's id) as one JSON array of objects, built by
/// the database, so that the page is one statement. Order is by `sequence` once read.
fn events_json(backend: DbBackend) -> Result<SimpleExpr, DbErr> {
    let table = order_event::Entity.table_name();
    let key = format!("\"{PAGE_ALIAS}\".\"{PAGE_KEY}\"");
    let pairs = |value: &dyn Fn(&str, bool) -> String| {
        EVENT_COLUMNS
            .iter()
            .map(|column| {
                let name = column.as_str();
                let uuid = matches!(column.def().get_column_type(), ColumnType::Uuid);
                format!("'{name}', {}", value(&format!("e.\"{name}\""), uuid))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let sql = match backend {
        DbBackend::Postgres => {
            let pairs = pairs(&|column, _| column.to_string());
            format!(
                "(SELECT COALESCE(json_agg(json_build_object({pairs})), '[]')::text \
                 FROM \"{table}\" e WHERE e.\"order_id\" = {key})"
            )
        }
        DbBackend::Sqlite => {
            // SQLite keeps a uuid as a 16-byte blob, which JSON cannot hold: as hex, which `Uuid`
            // reads (`hex(NULL)` is '', hence the NULLIF).
            let pairs = pairs(&|column, uuid| {
                if uuid {
                    format!("NULLIF(lower(hex({column})), '')")
                } else {
                    column.to_string()
                }
            });
            format!(
                "(SELECT COALESCE(json_group_array(json_object({pairs})), '[]') \
                 FROM \"{table}\" e WHERE e.\"order_id\" = {key})"
            )
        }
        other => {
            return Err(DbErr::Custom(format!(
                "order pages are not written for {other:?}"
            )));
        }
    };
    Ok(Expr::cust(sql))
}

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
            created_at: e.created_at.0,
            published_at: e.published_at.map(|at| at.0),
            feed_seq: e.feed_seq,
            print_order_id: e.print_order_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn lean_rows_name_their_tables_columns() {
        for field in LeanPhoto::FIELDS {
            assert!(photo::Column::from_str(field).is_ok(), "{field}");
        }
    }

    #[test]
    fn a_page_reads_every_event_column_but_the_payload() {
        use sea_orm::Iterable;
        let wanted: Vec<_> = order_event::Column::iter()
            .filter(|c| !matches!(c, order_event::Column::Payload))
            .map(|c| c.as_str())
            .collect();
        let read: Vec<_> = EVENT_COLUMNS.iter().map(|c| c.as_str()).collect();
        assert_eq!(read, wanted);
    }

    #[test]
    fn events_read_as_each_database_spells_them() {
        let postgres = r#"[{"id": "0193b0e4-7b3a-7c2e-9f00-000000000002", "order_id": "0193b0e4-7b3a-7c2e-9f00-000000000001", "sequence": 2, "from_status": "PENDING_PAYMENT", "to_status": "PAID", "event": "PAYMENT_CONFIRMED", "actor": "WECHATPAY", "actor_account_id": null, "reason_code": null, "message": null, "created_at": "2026-12-05T14:01:50.549716+00:00", "published_at": "2026-12-05T22:01:51+08:00", "feed_seq": 7, "print_order_id": null}]"#;
        let sqlite = r#"[{"id":"0193b0e47b3a7c2e9f00000000000002","order_id":"0193b0e47b3a7c2e9f00000000000001","sequence":2,"from_status":"PENDING_PAYMENT","to_status":"PAID","event":"PAYMENT_CONFIRMED","actor":"WECHATPAY","actor_account_id":null,"reason_code":null,"message":null,"created_at":"2026-12-05T14:01:50.549716+00:00","published_at":"2026-12-05 14:01:51Z","feed_seq":7,"print_order_id":null}]"#;
        let read = |text| -> order_event::Model {
            let mut events: Vec<LeanEvent> = serde_json::from_str(text).expect("reads");
            events.remove(0).into()
        };
        let (a, b) = (read(postgres), read(sqlite));
        assert_eq!(a, b);
        assert_eq!(a.to_status, OrderStatus::Paid);
        assert_eq!(a.published_at.map(|t| t.timestamp()), Some(1_796_479_311));
        assert!(serde_json::from_str::<Vec<LeanEvent>>(r#"[{"id": "x"}]"#).is_err());
    }
}
