//! 提交照片 / 订单: creating orders, changing the photo while unpaid, cancelling, and reading
//! orders with the viewer's permissions.
pub mod page;
pub mod payable;
pub mod shipping;
pub mod transition;

use campus_photo_domain::{
    order::{self as rules, Actor, OrderEvent},
    order_number,
    records::Verdict,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::Expr,
};
use uuid::Uuid;

use self::transition::{By, Detail};
use super::{enrollment, sessions::Viewer};
use crate::{
    AppState,
    entities::{account, order, photo, project},
    error::{AppError, AppResult, is_unique_violation},
    services::{payments::checkout, scope::in_school_scope},
};

/// How many later milliseconds to try when an order number is taken.
const NUMBER_ATTEMPTS: usize = 20;

pub fn not_found() -> AppError {
    AppError::NotFound("找不到该订单")
}

/// The order by id, whoever asks (the system, and services that checked access already).
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<order::Model> {
    order::find(db, id).await
}

/// The order, if the viewer may read it: its student, or staff in its school's scope. Anyone
/// else gets NOT_FOUND, so order ids reveal nothing.
pub async fn readable(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<order::Model> {
    let row = find(&state.db, id).await?;
    if may_read(viewer, &row) {
        Ok(row)
    } else {
        Err(not_found())
    }
}

pub fn may_read(viewer: &Viewer, row: &order::Model) -> bool {
    row.account_id == Some(viewer.account_id)
        || (viewer.is_staff() && in_school_scope(viewer, row.school_id).is_ok())
}

/// The orders of one enrollment the viewer may read, newest first (a short list: one open order
/// at a time, and the closed or refunded ones before it).
pub async fn of_enrollment(
    state: &AppState,
    viewer: &Viewer,
    enrollment_id: Uuid,
) -> AppResult<Vec<order::Model>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    Ok(order::Entity::find()
        .filter(order::Column::EnrollmentId.eq(enrollment_id))
        .order_by_desc(order::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .filter(|o| may_read(viewer, o))
        .collect())
}

/// The viewer's own order (students acting on their orders).
pub async fn own(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<order::Model> {
    checkout::own(state, viewer, id).await
}

/// A photo of the viewer's that passed the preliminary check.
async fn passed_photo(
    state: &AppState,
    viewer: &Viewer,
    photo_id: Uuid,
) -> AppResult<(photo::Model, crate::entities::enrollment::Model)> {
    submittable_photo(state, viewer, photo_id, false).await
}

/// The viewer's photo if it may be submitted: it passed the check, or `manual_review` is asked
/// for and every error of its check is a judgement (`IssueKind::Soft`) a reviewer may overrule.
async fn submittable_photo(
    state: &AppState,
    viewer: &Viewer,
    photo_id: Uuid,
    manual_review: bool,
) -> AppResult<(photo::Model, crate::entities::enrollment::Model)> {
    let found = photo::find(&state.db, photo_id).await?;
    let owner = enrollment::own(state, viewer, found.enrollment_id)
        .await
        .map_err(|_| AppError::NotFound("找不到该照片"))?;
    if found.verdict != Verdict::Passed {
        let check = crate::services::photos::stored_check(&found)?;
        // A hard fault is final unless an operator let this take through (`allowManualReview`).
        if check.manual_review_allowed() || found.manual_review_granted_at.is_some() {
            if !manual_review {
                return Err(AppError::user(
                    "PHOTO_NOT_PASSED",
                    "photoId",
                    "这张照片未通过初审，请按提示重新拍摄；如认为初审有误，可提交人工审核",
                ));
            }
        } else {
            return Err(AppError::user(
                "PHOTO_NOT_PASSED",
                "photoId",
                "这张照片未通过初审，请按提示重新拍摄后再提交",
            ));
        }
    }
    Ok((found, owner))
}

pub struct NewOrder {
    pub photo_id: Uuid,
    pub notification_consent: bool,
    /// 提交人工审核: submit a photo that failed the check on judgements only.
    pub manual_review: bool,
}

/// 提交: creates the order in PENDING_PAYMENT with the project's price.
pub async fn submit(state: &AppState, viewer: &Viewer, input: NewOrder) -> AppResult<order::Model> {
    let (photo, enrollment) =
        submittable_photo(state, viewer, input.photo_id, input.manual_review).await?;
    // Flagged only when a person really has to overrule the check: asking for it with a photo
    // that passed changes nothing.
    let manual_review = photo.verdict != Verdict::Passed;
    let project = project::Entity::find_by_id(enrollment.project_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::internal("enrollment without project"))?;
    let now = state.clock.now();
    if project.closed_at.is_some() || project.closes_at.is_some_and(|c| c <= now) {
        return Err(AppError::user(
            "PROJECT_CLOSED",
            "photoId",
            "本次采集已截止，不能再提交订单",
        ));
    }
    if let Some(open) = open_order_of(state, &enrollment.identity_key).await? {
        return Err(order_exists(&open));
    }
    let (mut number, mut at) = (
        order_number::format(&project.order_number_prefix, now).map_err(AppError::internal)?,
        now,
    );
    for _ in 0..NUMBER_ATTEMPTS {
        let row = order::ActiveModel {
            id: Set(Uuid::now_v7()),
            number: Set(number.clone()),
            account_id: Set(Some(viewer.account_id)),
            enrollment_id: Set(enrollment.id),
            project_id: Set(project.id),
            school_id: Set(enrollment.school_id),
            identity_key: Set(enrollment.identity_key.clone()),
            open_identity_key: Set(Some(enrollment.identity_key.clone())),
            kind: Set(project.mode),
            status: Set(rules::INITIAL),
            amount_fen: Set(project.price_fen),
            photo_id: Set(photo.id),
            notification_consent: Set(input.notification_consent),
            manual_review: Set(manual_review),
            rejection_code: Set(None),
            rejection_message: Set(None),
            rejected_by: Set(None),
            rejected_at: Set(None),
            rejection_note: Set(None),
            refund_pending: Set(false),
            version: Set(1),
            deliverable_key: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            paid_at: Set(None),
            completed_at: Set(None),
            closed_at: Set(None),
            refunded_at: Set(None),
            shipping_uploaded_at: Set(None),
            shipping_upload_error: Set(None),
        };
        let by = By::account(Actor::Student, viewer.account_id);
        let inserted = state
            .write(async |txn| {
                let row = row.insert(txn).await?;
                let (initial, detail) = (rules::INITIAL, Detail::default());
                transition::write_event(txn, row.id, None, initial, "SUBMIT", by, now, detail)
                    .await?;
                Ok(row)
            })
            .await;
        match inserted {
            Ok(row) => return Ok(row),
            Err(AppError::Database(e)) if is_unique_violation(&e) => {
                // Either the student already has an open order (a concurrent submit won), or the
                // number is taken: try the next millisecond.
                if let Some(open) = open_order_of(state, &enrollment.identity_key).await? {
                    return Err(order_exists(&open));
                }
                (number, at) = order_number::next_candidate(&project.order_number_prefix, at)
                    .map_err(AppError::internal)?;
            }
            Err(e) => return Err(e),
        }
    }
    Err(AppError::internal("no free order number"))
}

/// A student who already has a live order: a completed one means the collection is done, not
/// that something is unfinished.
fn order_exists(open: &order::Model) -> AppError {
    if open.status == rules::OrderStatus::Completed {
        return AppError::user(
            "COLLECTION_COMPLETE",
            "photoId",
            format!(
                "你的图像采集已完成（订单 {}），无需再次提交；如需更正请联系客服",
                open.number
            ),
        );
    }
    let number = &open.number;
    AppError::user(
        "ORDER_EXISTS",
        "photoId",
        format!("你已有未完成的订单（{number}），请在订单列表中查看"),
    )
}

async fn open_order_of(state: &AppState, identity_key: &str) -> AppResult<Option<order::Model>> {
    Ok(order::Entity::find()
        .filter(order::Column::OpenIdentityKey.eq(identity_key))
        .one(&state.db)
        .await?)
}

/// A passed photo of the order's own enrollment (for 去编辑 and 修改照片).
pub async fn passed_photo_of_order(
    state: &AppState,
    viewer: &Viewer,
    row: &order::Model,
    photo_id: Uuid,
) -> AppResult<photo::Model> {
    let (photo, _) = passed_photo(state, viewer, photo_id).await?;
    if photo.enrollment_id != row.enrollment_id {
        return Err(AppError::user(
            "PHOTO_MISMATCH",
            "photoId",
            "这张照片不属于该订单的采集信息",
        ));
    }
    Ok(photo)
}

/// 去编辑: swaps the photo of an unpaid order for another passed take of the same enrollment.
pub async fn update_pending(
    state: &AppState,
    viewer: &Viewer,
    order_id: Uuid,
    photo_id: Uuid,
) -> AppResult<order::Model> {
    let row = own(state, viewer, order_id).await?;
    let photo = passed_photo_of_order(state, viewer, &row, photo_id).await?;
    let now = state.clock.now();
    let by = By::account(Actor::Student, viewer.account_id);
    // The new photo passed the check, so no reviewer has to overrule it any more.
    let changes = vec![
        (order::Column::PhotoId, Expr::value(photo.id)),
        (order::Column::ManualReview, Expr::value(false)),
    ];
    let event = OrderEvent::UpdatePending;
    state
        .write(async |txn| {
            transition::apply(txn, &row, event, by, now, changes, Detail::default()).await
        })
        .await
}

/// 提交照片 (先付款后拍照): a paid order of a pay-first project waits in PAID until the student
/// sends a take of its enrollment to review. `input.notification_consent` is not used here (the
/// consent given when ordering stands).
pub async fn submit_photo(
    state: &AppState,
    viewer: &Viewer,
    order_id: Uuid,
    input: NewOrder,
) -> AppResult<order::Model> {
    let row = own(state, viewer, order_id).await?;
    if row.status != rules::OrderStatus::Paid {
        return Err(transition::invalid_state(row.status));
    }
    if row.refund_pending {
        return Err(AppError::user(
            "REFUND_PENDING",
            "orderId",
            "该订单正在退款，不能提交审核",
        ));
    }
    let (photo, _) = submittable_photo(state, viewer, input.photo_id, input.manual_review).await?;
    if photo.enrollment_id != row.enrollment_id {
        return Err(AppError::user(
            "PHOTO_MISMATCH",
            "photoId",
            "这张照片不属于该订单的采集信息",
        ));
    }
    let now = state.clock.now();
    let by = By::account(Actor::Student, viewer.account_id);
    let changes = vec![
        (order::Column::PhotoId, Expr::value(photo.id)),
        (
            order::Column::ManualReview,
            Expr::value(photo.verdict != Verdict::Passed),
        ),
    ];
    let event = OrderEvent::SubmitPhoto;
    state
        .write(async |txn| {
            transition::apply(txn, &row, event, by, now, changes, Detail::default()).await
        })
        .await
}

/// 联系学生: staff in the order's scope read the student's full phone number once, and the
/// order's trail records who did and when. Lists show staff only the masked number.
pub async fn reveal_contact_phone(
    state: &AppState,
    viewer: &Viewer,
    order_id: Uuid,
) -> AppResult<String> {
    if !viewer.is_staff() {
        return Err(AppError::Forbidden);
    }
    let row = readable(state, viewer, order_id).await?;
    let account = match row.account_id {
        Some(id) => account::Entity::find_by_id(id).one(&state.db).await?,
        None => None,
    };
    let phone = account
        .as_ref()
        .and_then(|a| a.phone_encrypted.as_deref())
        .and_then(|sealed| state.crypto.decrypt(sealed).ok())
        .ok_or_else(|| {
            AppError::user(
                "NO_CONTACT_PHONE",
                "orderId",
                "该订单没有可联系的手机号（学生可能已注销账号）",
            )
        })?;
    let by = By::account(Actor::from(viewer.role), viewer.account_id);
    let (note, now) = (rules::OrderNote::ContactPhoneRevealed, state.clock.now());
    state
        .write(async |txn| {
            transition::note(txn, &row, note, by, now, Vec::new(), Detail::default()).await
        })
        .await?;
    Ok(phone)
}
