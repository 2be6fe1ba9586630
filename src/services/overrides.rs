//! 人工干预: what operators (school admins in their school, admins anywhere) do for a student who
//! is stuck. Each override of an order is an event on its trail (`order_events`, with the
//! operator as actor); each override of an enrollment is an audit record. An override on an
//! order or enrollment in the wrong state is refused (INVALID_STATE, ORDER_IN_PROGRESS …) and
//! changes nothing.
use campus_photo_domain::{
    codes::Role,
    order::{Actor, OrderEvent, OrderNote, OrderStatus},
    records::Verdict,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use uuid::Uuid;

use super::{
    audit,
    orders::transition::{self, By, Detail, invalid_state},
    payments::checkout,
    review,
    scope::{self, Duty, Scope},
    sessions::Viewer,
};
use crate::{
    AppState,
    entities::{account, enrollment, order, photo, review_claim},
    error::{AppError, AppResult},
};

/// Writes `note` on the trail of the enrollment's newest order, if it has one: an override of an
/// enrollment shows where the student and the staff follow the order too.
async fn note_on_newest_order(
    txn: &sea_orm::DatabaseTransaction,
    enrollment_id: Uuid,
    note: OrderNote,
    by: By,
    now: chrono::DateTime<chrono::Utc>,
    detail: Detail,
) -> AppResult<()> {
    use sea_orm::QueryOrder;
    let newest = order::Entity::find()
        .filter(order::Column::EnrollmentId.eq(enrollment_id))
        .order_by_desc(order::Column::Id)
        .one(txn)
        .await?;
    if let Some(row) = newest {
        transition::note(txn, &row, note, by, now, Vec::new(), detail).await?;
    }
    Ok(())
}

/// Automatic checks one grant may add.
pub const MAX_GRANT: i32 = 20;

fn by(viewer: &Viewer) -> By {
    By::account(Actor::from(viewer.role), viewer.account_id)
}

/// An order the viewer may override: NOT_FOUND when unknown or of another school.
pub async fn order_in_scope(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<order::Model> {
    scope::require(viewer, Duty::Administer)?;
    let row = order::find(&state.db, id).await?;
    if Scope::of(viewer).covers(row.school_id) {
        Ok(row)
    } else {
        Err(AppError::NotFound("找不到该订单"))
    }
}

/// An enrollment the viewer may override: NOT_FOUND when unknown or of another school.
pub async fn enrollment_in_scope(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<enrollment::Model> {
    scope::require(viewer, Duty::Administer)?;
    let row = enrollment::find(&state.db, id).await?;
    if Scope::of(viewer).covers(row.school_id) {
        Ok(row)
    } else {
        Err(AppError::NotFound("找不到该采集信息"))
    }
}

/// `grantAutoChecks`: more automatic checks for a student who used them up.
pub async fn grant_auto_checks(
    state: &AppState,
    viewer: &Viewer,
    enrollment_id: Uuid,
    count: i32,
) -> AppResult<enrollment::Model> {
    let found = enrollment_in_scope(state, viewer, enrollment_id).await?;
    if !(1..=MAX_GRANT).contains(&count) {
        return Err(AppError::user(
            "INVALID_COUNT",
            "count",
            format!("一次可增加 1 到 {MAX_GRANT} 次自动检测"),
        ));
    }
    if found.account_id.is_none() {
        return Err(AppError::user(
            "ENROLLMENT_UNBOUND",
            "enrollmentId",
            "该采集信息已解绑，无需增加检测次数",
        ));
    }
    let now = state.clock.now();
    let before = serde_json::json!({ "autoChecksGranted": found.auto_checks_granted, "autoChecksUsed": found.auto_checks_used });
    let by = by(viewer);
    state
        .write(async |txn| {
            let detail = Detail {
                payload: Some(serde_json::json!({ "count": count })),
                ..Detail::default()
            };
            note_on_newest_order(txn, found.id, OrderNote::AutoChecksGranted, by, now, detail)
                .await?;
            enrollment::Entity::update_many()
                .col_expr(
                    enrollment::Column::AutoChecksGranted,
                    Expr::col(enrollment::Column::AutoChecksGranted).add(count),
                )
                .filter(enrollment::Column::Id.eq(found.id))
                .exec(txn)
                .await?;
            let saved = enrollment::find(txn, found.id).await?;
            audit::record(
                txn,
                viewer,
                audit::Change {
                    action: "AUTO_CHECKS_GRANTED",
                    target: audit::Target::Enrollment,
                    target_id: found.id,
                    school_id: Some(found.school_id),
                    before: Some(before),
                    after: Some(serde_json::json!({
                        "autoChecksGranted": saved.auto_checks_granted,
                        "autoChecksUsed": saved.auto_checks_used,
                    })),
                },
                now,
            )
            .await?;
            Ok(saved)
        })
        .await
}

/// `sendPhotoToReview`: a take the automatic check refused goes to a reviewer anyway (flagged
/// 人工审核), for a rejected order (as its re-take) or a paid order of a pay-first project. The
/// take must be of the order's enrollment.
pub async fn send_photo_to_review(
    state: &AppState,
    viewer: &Viewer,
    order_id: Uuid,
    photo_id: Uuid,
) -> AppResult<order::Model> {
    let row = order_in_scope(state, viewer, order_id).await?;
    let event = match row.status {
        OrderStatus::Rejected => OrderEvent::Resubmit,
        OrderStatus::Paid => OrderEvent::SubmitPhoto,
        other => return Err(invalid_state(other)),
    };
    if row.refund_pending {
        return Err(AppError::user(
            "REFUND_PENDING",
            "orderId",
            "该订单正在退款，不能提交审核",
        ));
    }
    let take = photo::Entity::find_by_id(photo_id)
        .one(&state.db)
        .await?
        .filter(|p| p.enrollment_id == row.enrollment_id)
        .ok_or_else(|| {
            AppError::user(
                "PHOTO_MISMATCH",
                "photoId",
                "这张照片不属于该订单的采集信息",
            )
        })?;
    if take.verdict == Verdict::Passed {
        return Err(AppError::user(
            "PHOTO_PASSED",
            "photoId",
            "这张照片已通过自动初审，学生可自行提交",
        ));
    }
    let now = state.clock.now();
    let none = || Expr::value(Option::<String>::None);
    let changes = vec![
        (order::Column::PhotoId, Expr::value(take.id)),
        (order::Column::ManualReview, Expr::value(true)),
        (order::Column::RejectionCode, none()),
        (order::Column::RejectionMessage, none()),
        (order::Column::RejectionNote, none()),
        (order::Column::RejectedBy, Expr::value(Option::<Uuid>::None)),
        (
            order::Column::RejectedAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        ),
    ];
    let detail = Detail {
        reason_code: Some("OPERATOR_MANUAL_REVIEW".into()),
        message: Some("自动初审未通过，客服转人工审核".into()),
        payload: Some(serde_json::json!({
            "photo": state.ids.encode(crate::ids::NodeType::Photo, take.id),
        })),
        print_order_id: None,
    };
    let by = by(viewer);
    state
        .write(async |txn| transition::apply(txn, &row, event, by, now, changes, detail).await)
        .await
}

/// `allowManualReview`: a take the automatic check refused — even for a fault it calls hard, such
/// as no face found on a good photo — may be submitted by the student for a reviewer to decide
/// (提交人工审核). For a student with no order yet; a rejected or paid pay-first order takes
/// `sendPhotoToReview` instead. Audited on the enrollment.
pub async fn allow_manual_review(
    state: &AppState,
    viewer: &Viewer,
    photo_id: Uuid,
) -> AppResult<photo::Model> {
    scope::require(viewer, Duty::Administer)?;
    let take = photo::find(&state.db, photo_id).await?;
    let enrollment = enrollment::find(&state.db, take.enrollment_id).await?;
    if !Scope::of(viewer).covers(enrollment.school_id) {
        return Err(AppError::NotFound("找不到该照片"));
    }
    if take.verdict == Verdict::Passed {
        return Err(AppError::user(
            "PHOTO_PASSED",
            "photoId",
            "这张照片已通过自动初审，学生可自行提交",
        ));
    }
    if take.manual_review_granted_at.is_some() {
        return Ok(take);
    }
    let now = state.clock.now();
    let photo_gid = state.ids.encode(crate::ids::NodeType::Photo, take.id);
    state
        .write(async |txn| {
            let mut next: photo::ActiveModel = take.clone().into();
            next.manual_review_granted_at = Set(Some(now));
            let saved = next.update(txn).await?;
            audit::record(
                txn,
                viewer,
                audit::Change {
                    action: "MANUAL_REVIEW_ALLOWED",
                    target: audit::Target::Enrollment,
                    target_id: enrollment.id,
                    school_id: Some(enrollment.school_id),
                    before: Some(
                        serde_json::json!({ "photo": photo_gid, "manualReviewGranted": false }),
                    ),
                    after: Some(
                        serde_json::json!({ "photo": photo_gid, "manualReviewGranted": true }),
                    ),
                },
                now,
            )
            .await?;
            Ok(saved)
        })
        .await
}

/// The live claim on an order awaiting review, or why there is none to act on.
async fn claimed(state: &AppState, row: &order::Model) -> AppResult<review_claim::Model> {
    if row.status != OrderStatus::PendingReview {
        return Err(invalid_state(row.status));
    }
    review::live_claim(state, row.id)
        .await?
        .ok_or_else(|| AppError::user("NOT_CLAIMED", "orderId", "该订单当前没有审核员领取"))
}

async fn claims_changed(state: &AppState, school_id: Uuid) {
    crate::events::notify(
        state,
        crate::events::BusMessage::ClaimsChanged { school_id },
    )
    .await;
}

/// `releaseReviewClaim`: the order goes back to the queue for any reviewer.
pub async fn release_claim(
    state: &AppState,
    viewer: &Viewer,
    order_id: Uuid,
) -> AppResult<order::Model> {
    let row = order_in_scope(state, viewer, order_id).await?;
    let claim = claimed(state, &row).await?;
    let now = state.clock.now();
    let detail = Detail {
        payload: Some(serde_json::json!({
            "reviewer": state.ids.encode(crate::ids::NodeType::Account, claim.reviewer_id),
        })),
        ..Detail::default()
    };
    let by = by(viewer);
    let done = state
        .write(async |txn| {
            review_claim::Entity::delete_many()
                .filter(review_claim::Column::OrderId.eq(row.id))
                .filter(review_claim::Column::ReviewerId.eq(claim.reviewer_id))
                .exec(txn)
                .await?;
            transition::note(
                txn,
                &row,
                OrderNote::ClaimReleased,
                by,
                now,
                Vec::new(),
                detail,
            )
            .await
        })
        .await?;
    claims_changed(state, row.school_id).await;
    Ok(done)
}

/// `reassignReviewClaim`: the claim passes to another reviewer of the order's school, with a
/// fresh lease. The reviewer must be an enabled staff account that reviews and covers the school.
pub async fn reassign_claim(
    state: &AppState,
    viewer: &Viewer,
    order_id: Uuid,
    reviewer_id: Uuid,
) -> AppResult<order::Model> {
    let row = order_in_scope(state, viewer, order_id).await?;
    let claim = claimed(state, &row).await?;
    let reviewer = account::Entity::find_by_id(reviewer_id)
        .one(&state.db)
        .await?
        .filter(|a| {
            a.deleted_at.is_none()
                && Duty::Review.allowed(a.role)
                && (a.role == Role::Admin || a.school_id.is_none_or(|s| s == row.school_id))
                && (viewer.role == Role::Admin || a.school_id == Some(row.school_id))
        })
        .ok_or(AppError::NotFound("找不到该账号"))?;
    if reviewer.disabled_at.is_some() {
        return Err(AppError::user(
            "ACCOUNT_DISABLED",
            "reviewerId",
            "该审核员账号已停用",
        ));
    }
    if reviewer.id == claim.reviewer_id {
        return Err(AppError::user(
            "ALREADY_CLAIMED",
            "reviewerId",
            "该订单已由这位审核员领取",
        ));
    }
    let now = state.clock.now();
    let expires = now + review::lease(state);
    let detail = Detail {
        payload: Some(serde_json::json!({
            "from": state.ids.encode(crate::ids::NodeType::Account, claim.reviewer_id),
            "to": state.ids.encode(crate::ids::NodeType::Account, reviewer.id),
        })),
        ..Detail::default()
    };
    let by = by(viewer);
    let done = state
        .write(async |txn| {
            review_claim::Entity::insert(review_claim::ActiveModel {
                order_id: Set(row.id),
                reviewer_id: Set(reviewer.id),
                claimed_at: Set(now),
                expires_at: Set(expires),
            })
            .on_conflict(
                OnConflict::column(review_claim::Column::OrderId)
                    .update_columns([
                        review_claim::Column::ReviewerId,
                        review_claim::Column::ClaimedAt,
                        review_claim::Column::ExpiresAt,
                    ])
                    .to_owned(),
            )
            .exec(txn)
            .await?;
            transition::note(
                txn,
                &row,
                OrderNote::ClaimReassigned,
                by,
                now,
                Vec::new(),
                detail,
            )
            .await
        })
        .await?;
    claims_changed(state, row.school_id).await;
    Ok(done)
}

/// `unbindEnrollment`: an enrollment taken by the wrong account (the real owner's dispute,
/// checked by staff) is let go, so the owner can add it again. Refused while one of its orders is
/// open — cancel or refund it first (ORDER_IN_PROGRESS) — or once the collection is done.
pub async fn unbind_enrollment(
    state: &AppState,
    viewer: &Viewer,
    enrollment_id: Uuid,
    reason: &str,
) -> AppResult<enrollment::Model> {
    let found = enrollment_in_scope(state, viewer, enrollment_id).await?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(AppError::user(
            "INVALID_REASON",
            "reason",
            "请填写解绑原因（不超过 200 字）",
        ));
    }
    if found.account_id.is_none() {
        return Err(AppError::user(
            "ENROLLMENT_UNBOUND",
            "enrollmentId",
            "该采集信息已解绑",
        ));
    }
    let open = order::Entity::find()
        .filter(order::Column::EnrollmentId.eq(found.id))
        .all(&state.db)
        .await?
        .into_iter()
        .find(|o| o.status.is_open());
    if let Some(open) = open {
        return Err(AppError::user(
            "ORDER_IN_PROGRESS",
            "enrollmentId",
            format!(
                "该采集信息有未结束的订单（{}，{}），请先取消或退款后再解绑",
                open.number,
                open.status.label()
            ),
        ));
    }
    let now = state.clock.now();
    let ids = &state.ids;
    let before = serde_json::json!({
        "account": found.account_id.map(|a| ids.encode(crate::ids::NodeType::Account, a)),
        "identityKey": found.identity_key,
    });
    // The unique (project, identity) slot is freed: the owner can add the same code again.
    let released_key = format!("U:{}:{}", found.id, found.identity_key);
    let by = by(viewer);
    state
        .write(async |txn| {
            let detail = Detail {
                reason_code: Some("ENROLLMENT_UNBOUND".into()),
                message: Some(reason.to_string()),
                ..Detail::default()
            };
            note_on_newest_order(txn, found.id, OrderNote::EnrollmentUnbound, by, now, detail)
                .await?;
            let mut next: enrollment::ActiveModel = found.clone().into();
            next.account_id = Set(None);
            next.identity_key = Set(released_key.clone());
            let saved = next.update(txn).await?;
            audit::record(
                txn,
                viewer,
                audit::Change {
                    action: "ENROLLMENT_UNBOUND",
                    target: audit::Target::Enrollment,
                    target_id: found.id,
                    school_id: Some(found.school_id),
                    before: Some(before),
                    after: Some(serde_json::json!({
                        "account": null,
                        "identityKey": saved.identity_key,
                        "reason": reason,
                    })),
                },
                now,
            )
            .await?;
            Ok(saved)
        })
        .await
}

/// `cancelAndRefundOrder`: an unpaid order is cancelled (closed at WeChat first); a paid one
/// not yet produced is refunded through the money flow. Anything else is INVALID_STATE.
pub async fn cancel_and_refund(
    state: &AppState,
    viewer: &Viewer,
    order_id: Uuid,
    reason: &str,
) -> AppResult<order::Model> {
    let row = order_in_scope(state, viewer, order_id).await?;
    if row.status == OrderStatus::PendingPayment {
        checkout::cancel_row(state, viewer, row).await
    } else {
        checkout::refund(state, viewer, row, reason).await
    }
}
