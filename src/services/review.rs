//! 审核: the review queue, claims (leases: no two reviewers get one order, an expired claim returns
//! it to the queue), approve/reject with a catalogue reason, and the student's side — withdraw
//! (撤回审核) and resubmit a new photo (修改照片).
use campus_photo_domain::{
    order::{Actor, OrderEvent, OrderStatus},
    reasons,
};
use chrono::TimeDelta;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, Set,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::{
    orders::{
        self,
        transition::{self, By, Detail, invalid_state},
    },
    sessions::Viewer,
};
use crate::{
    AppState,
    entities::{enrollment, order, photo, review_claim},
    error::{AppError, AppResult, is_unique_violation},
    services::scope::{self, Duty, in_school_scope},
};

pub const MAX_CLAIM: i32 = 20;
const MAX_NOTE_CHARS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

/// PENDING_REVIEW orders awaiting a decision, in scope. Orders with a refund in flight wait.
pub async fn queue(
    state: &AppState,
    viewer: &Viewer,
    school_code: Option<&str>,
) -> AppResult<Select<order::Entity>> {
    scope::require(viewer, Duty::Review)?;
    let mut select = order::Entity::find()
        .filter(order::Column::Status.eq(OrderStatus::PendingReview))
        .filter(order::Column::RefundPending.eq(false));
    if let Some(school) = scope::school_filter(state, viewer, school_code).await? {
        select = select.filter(order::Column::SchoolId.eq(school));
    }
    Ok(select)
}

pub fn lease(state: &AppState) -> TimeDelta {
    TimeDelta::from_std(state.config.review_claim_ttl).unwrap_or(TimeDelta::minutes(5))
}

/// 领取审核任务: up to `count` orders, oldest first, that nobody else holds. The reviewer's own
/// live claims come back first (renewed).
pub async fn claim(
    state: &AppState,
    viewer: &Viewer,
    school_code: Option<&str>,
    count: i32,
) -> AppResult<Vec<order::Model>> {
    if !(1..=MAX_CLAIM).contains(&count) {
        return Err(AppError::user(
            "INVALID_COUNT",
            "count",
            format!("一次可领取 1 到 {MAX_CLAIM} 个任务"),
        ));
    }
    let wanted = usize::try_from(count).unwrap_or(1);
    let now = state.clock.now();
    let expires = now + lease(state);
    let candidates = queue(state, viewer, school_code)
        .await?
        .order_by_asc(order::Column::Id)
        .limit(u64::try_from(wanted * 4 + 16).unwrap_or(100))
        .all(&state.db)
        .await?;
    let mut claimed = Vec::new();
    for row in candidates {
        if claimed.len() == wanted {
            break;
        }
        if take(&state.db, row.id, viewer.account_id, now, expires).await? {
            claimed.push(row);
        }
    }
    let mut schools: Vec<Uuid> = claimed.iter().map(|o| o.school_id).collect();
    schools.dedup();
    for school_id in schools {
        crate::events::notify(
            state,
            crate::events::BusMessage::ClaimsChanged { school_id },
        )
        .await;
    }
    Ok(claimed)
}

/// Takes the claim on one order if it is free, expired, or already the reviewer's. Each attempt
/// is a single conditional statement, so of two reviewers racing exactly one gets it.
async fn take(
    db: &impl ConnectionTrait,
    order_id: Uuid,
    reviewer: Uuid,
    now: chrono::DateTime<chrono::Utc>,
    expires: chrono::DateTime<chrono::Utc>,
) -> AppResult<bool> {
    let renewed = review_claim::Entity::update_many()
        .col_expr(review_claim::Column::ReviewerId, Expr::value(reviewer))
        .col_expr(review_claim::Column::ClaimedAt, Expr::value(now))
        .col_expr(review_claim::Column::ExpiresAt, Expr::value(expires))
        .filter(review_claim::Column::OrderId.eq(order_id))
        .filter(
            review_claim::Column::ExpiresAt
                .lte(now)
                .or(review_claim::Column::ReviewerId.eq(reviewer)),
        )
        .exec(db)
        .await?;
    if renewed.rows_affected == 1 {
        return Ok(true);
    }
    let exists = review_claim::Entity::find_by_id(order_id).one(db).await?;
    if exists.is_some() {
        return Ok(false);
    }
    let inserted = review_claim::ActiveModel {
        order_id: Set(order_id),
        reviewer_id: Set(reviewer),
        claimed_at: Set(now),
        expires_at: Set(expires),
    }
    .insert(db)
    .await;
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Who holds a live claim on the order, if anyone.
pub async fn live_claim(
    state: &AppState,
    order_id: Uuid,
) -> AppResult<Option<review_claim::Model>> {
    let now = state.clock.now();
    Ok(review_claim::Entity::find_by_id(order_id)
        .one(&state.db)
        .await?
        .filter(|c| c.expires_at > now))
}

pub struct ReviewInput<'a> {
    pub order_id: Uuid,
    pub decision: Decision,
    pub reason_code: Option<&'a str>,
    pub note: Option<&'a str>,
}

/// 审核: APPROVE → 待制作; REJECT with a catalogue reason → 被驳回. Only with a live claim.
pub async fn review(
    state: &AppState,
    viewer: &Viewer,
    input: ReviewInput<'_>,
) -> AppResult<order::Model> {
    scope::require(viewer, Duty::Review)?;
    let row = orders::readable(state, viewer, input.order_id).await?;
    in_school_scope(viewer, row.school_id)?;
    let status = row.status;
    if status != OrderStatus::PendingReview {
        return Err(invalid_state(status));
    }
    if row.refund_pending {
        return Err(AppError::user(
            "REFUND_PENDING",
            "orderId",
            "该订单正在退款，不能审核",
        ));
    }
    match live_claim(state, row.id).await? {
        Some(c) if c.reviewer_id == viewer.account_id => {}
        _ => {
            return Err(AppError::user(
                "NOT_CLAIMED",
                "orderId",
                "请先领取该审核任务（或领取已过期）",
            ));
        }
    }
    let note = input.note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
        return Err(AppError::user(
            "INVALID_NOTE",
            "message",
            format!("备注不能超过 {MAX_NOTE_CHARS} 个字"),
        ));
    }
    let now = state.clock.now();
    let by = By::account(Actor::from(viewer.role), viewer.account_id);
    let (event, changes, detail) = match input.decision {
        Decision::Approve => (
            OrderEvent::Approve,
            Vec::new(),
            Detail {
                message: note.map(str::to_string),
                ..Detail::default()
            },
        ),
        Decision::Reject => {
            let reason = input
                .reason_code
                .map(str::trim)
                .and_then(|code| reasons::for_reviewers().find(|r| r.code == code))
                .ok_or_else(|| {
                    AppError::user(
                        "INVALID_REASON",
                        "reasonCode",
                        "请从驳回原因列表中选择一项（rejectionReasons）",
                    )
                })?;
            (
                OrderEvent::Reject,
                vec![
                    (order::Column::RejectionCode, Expr::value(reason.code)),
                    (order::Column::RejectionMessage, Expr::value(reason.message)),
                    (
                        order::Column::RejectionNote,
                        Expr::value(note.map(str::to_string)),
                    ),
                    (order::Column::RejectedBy, Expr::value(viewer.account_id)),
                    (order::Column::RejectedAt, Expr::value(now)),
                ],
                Detail {
                    reason_code: Some(reason.code.to_string()),
                    message: Some(match note {
                        Some(n) => format!("{}（{n}）", reason.message),
                        None => reason.message.to_string(),
                    }),
                    payload: None,
                    print_order_id: None,
                },
            )
        }
    };
    let rejected = input.decision == Decision::Reject;
    state
        .write(async |txn| {
            let updated = transition::apply(txn, &row, event, by, now, changes, detail).await?;
            review_claim::Entity::delete_by_id(row.id).exec(txn).await?;
            if rejected {
                restore_auto_checks(txn, row.enrollment_id).await?;
            }
            Ok(updated)
        })
        .await
}

/// A rejected student must be able to re-take: the enrollment's automatic checks start again.
pub async fn restore_auto_checks(db: &impl ConnectionTrait, enrollment_id: Uuid) -> AppResult<()> {
    enrollment::Entity::update_many()
        .col_expr(enrollment::Column::AutoChecksUsed, Expr::value(0))
        .filter(enrollment::Column::Id.eq(enrollment_id))
        .exec(db)
        .await?;
    Ok(())
}

/// 撤回审核: the student pulls the order back from review to change the photo.
pub async fn withdraw(
    state: &AppState,
    viewer: &Viewer,
    order_id: Uuid,
) -> AppResult<order::Model> {
    let row = orders::own(state, viewer, order_id).await?;
    let now = state.clock.now();
    let message = reasons::message("WITHDRAWN");
    let by = By::account(Actor::Student, viewer.account_id);
    let changes = vec![
        (order::Column::RejectionCode, Expr::value("WITHDRAWN")),
        (order::Column::RejectionMessage, Expr::value(message)),
        (
            order::Column::RejectionNote,
            Expr::value(Option::<String>::None),
        ),
        (order::Column::RejectedBy, Expr::value(viewer.account_id)),
        (order::Column::RejectedAt, Expr::value(now)),
    ];
    let (event, detail) = (OrderEvent::Withdraw, Detail::reason("WITHDRAWN", message));
    state
        .write(async |txn| {
            let updated = transition::apply(txn, &row, event, by, now, changes, detail).await?;
            review_claim::Entity::delete_by_id(row.id).exec(txn).await?;
            Ok(updated)
        })
        .await
}

/// 修改照片: a rejected order goes back to review with a new photo that passed the check; no
/// new payment. The rejected photo stays in the enrollment's history.
pub async fn resubmit(
    state: &AppState,
    viewer: &Viewer,
    order_id: Uuid,
    photo_id: Uuid,
) -> AppResult<order::Model> {
    let row = orders::own(state, viewer, order_id).await?;
    let status = row.status;
    if status != OrderStatus::Rejected {
        return Err(invalid_state(status));
    }
    let photo = orders::passed_photo_of_order(state, viewer, &row, photo_id).await?;
    // A withdrawn order was not judged: its photo may go back as it was.
    let judged = row.rejection_code.as_deref() != Some("WITHDRAWN");
    let rejected = photo::find(&state.db, row.photo_id).await?;
    if judged && rejected.sha256 == photo.sha256 {
        return Err(AppError::user(
            "PHOTO_ALREADY_REJECTED",
            "photoId",
            "这张照片已被驳回，请按驳回原因重新拍摄后再提交",
        ));
    }
    let now = state.clock.now();
    let none = || Expr::value(Option::<String>::None);
    let by = By::account(Actor::Student, viewer.account_id);
    let changes = vec![
        (order::Column::PhotoId, Expr::value(photo.id)),
        (order::Column::RejectionCode, none()),
        (order::Column::RejectionMessage, none()),
        (order::Column::RejectionNote, none()),
        (order::Column::RejectedBy, Expr::value(Option::<Uuid>::None)),
        (
            order::Column::RejectedAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        ),
    ];
    let previous = state.ids.encode(crate::ids::NodeType::Photo, row.photo_id);
    let detail = Detail {
        payload: Some(serde_json::json!({ "previousPhoto": previous })),
        ..Detail::default()
    };
    let event = OrderEvent::Resubmit;
    state
        .write(async |txn| transition::apply(txn, &row, event, by, now, changes, detail).await)
        .await
}

/// Orders per status in scope, and how many of those awaiting review are claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counts {
    pub by_status: std::collections::HashMap<OrderStatus, i64>,
    pub claimed: i64,
}

pub async fn counts(
    state: &AppState,
    viewer: &Viewer,
    school_code: Option<&str>,
) -> AppResult<Counts> {
    if !viewer.is_staff() {
        return Err(AppError::Forbidden);
    }
    let school = scope::school_filter(state, viewer, school_code).await?;
    let mut select = order::Entity::find()
        .select_only()
        .column(order::Column::Status)
        .column_as(order::Column::Id.count(), "n")
        .group_by(order::Column::Status);
    if let Some(s) = school {
        select = select.filter(order::Column::SchoolId.eq(s));
    }
    let rows: Vec<(OrderStatus, i64)> = select.into_tuple().all(&state.db).await?;
    let now = state.clock.now();
    let live_claims = sea_orm::sea_query::Query::select()
        .column(review_claim::Column::OrderId)
        .from(review_claim::Entity)
        .and_where(review_claim::Column::ExpiresAt.gt(now))
        .to_owned();
    let mut claimed = order::Entity::find()
        .filter(order::Column::Status.eq(OrderStatus::PendingReview))
        .filter(order::Column::Id.in_subquery(live_claims));
    if let Some(s) = school {
        claimed = claimed.filter(order::Column::SchoolId.eq(s));
    }
    let claimed = sea_orm::PaginatorTrait::count(claimed, &state.db).await?;
    Ok(Counts {
        by_status: rows.into_iter().collect(),
        claimed: i64::try_from(claimed).unwrap_or(i64::MAX),
    })
}

/// The work queues across every school, for `/metrics`: orders waiting for review, for
/// production and in production, and print orders waiting to ship.
pub async fn queue_sizes(state: &AppState) -> AppResult<Vec<(&'static str, i64)>> {
    let rows: Vec<(OrderStatus, i64)> = order::Entity::find()
        .select_only()
        .column(order::Column::Status)
        .column_as(order::Column::Id.count(), "n")
        .filter(order::Column::Status.is_in([
            OrderStatus::PendingReview,
            OrderStatus::PendingProduction,
            OrderStatus::InProduction,
        ]))
        .group_by(order::Column::Status)
        .into_tuple()
        .all(&state.db)
        .await?;
    let of = |status: OrderStatus| {
        rows.iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n)
    };
    let to_ship = sea_orm::PaginatorTrait::count(
        crate::entities::print_order::Entity::find().filter(
            crate::entities::print_order::Column::Status
                .eq(campus_photo_domain::print_order::PrintOrderStatus::Paid),
        ),
        &state.db,
    )
    .await?;
    Ok(vec![
        ("pending_review", of(OrderStatus::PendingReview)),
        ("pending_production", of(OrderStatus::PendingProduction)),
        ("in_production", of(OrderStatus::InProduction)),
        ("prints_to_ship", i64::try_from(to_ship).unwrap_or(i64::MAX)),
    ])
}
