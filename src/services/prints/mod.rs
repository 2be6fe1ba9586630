//! 加洗照片: print orders of a completed photo — created by the student, paid through the same
//! WeChat Pay flow as photo orders (their own out_trade_no), shipped by staff (the shipping
//! information goes to WeChat), received, or closed and refunded.
pub mod payable;
pub mod shipping;
pub mod transition;

use campus_photo_domain::{
    codes::ProjectMode,
    order::{Actor, OrderStatus},
    print_order::{self as rules, Address, PrintEvent, PrintOrderStatus},
};
use chrono::TimeDelta;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, sea_query::Expr,
};
use uuid::Uuid;

use crate::services::scope::{self, Duty};

use super::{orders, payments::checkout, sessions::Viewer};
use crate::{
    AppState,
    entities::{print_order, project},
    error::{AppError, AppResult, is_unique_violation},
    services::scope::in_school_scope,
    services::{
        catalogue,
        orders::transition::{By, Detail},
    },
};

/// A shipped print order counts as received this long after shipping (WeChat's own automatic
/// confirmation of receipt is of the same order).
pub const AUTO_RECEIPT_AFTER: TimeDelta = TimeDelta::days(15);

pub fn not_found() -> AppError {
    AppError::NotFound("找不到该加洗订单")
}

/// What a student asks for.
pub struct NewPrintOrder {
    pub order_id: Uuid,
    pub layout_code: String,
    pub quantity: i32,
    pub address: Option<Address>,
}

/// The print order if the viewer may read it: its student, or shipping staff in its school's
/// scope. Anyone else gets NOT_FOUND, so ids reveal nothing.
pub async fn readable(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<print_order::Model> {
    let row = print_order::find(&state.db, id).await?;
    if may_read(viewer, &row) {
        Ok(row)
    } else {
        Err(not_found())
    }
}

pub fn may_read(viewer: &Viewer, row: &print_order::Model) -> bool {
    row.account_id == Some(viewer.account_id)
        || (scope::may(viewer, Duty::Ship) && in_school_scope(viewer, row.school_id).is_ok())
}

/// The viewer's own print order.
pub async fn own(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<print_order::Model> {
    checkout::own(state, viewer, id).await
}

/// 加洗照片: a print order for one of the student's COMPLETED photo orders, in PENDING_PAYMENT.
pub async fn create(
    state: &AppState,
    viewer: &Viewer,
    input: NewPrintOrder,
) -> AppResult<print_order::Model> {
    let parent = orders::own(state, viewer, input.order_id).await?;
    let parent_status = parent.status;
    if parent_status != OrderStatus::Completed {
        return Err(AppError::user(
            "ORDER_NOT_COMPLETED",
            "orderId",
            format!(
                "照片制作完成后才能加洗（订单当前状态为「{}」）",
                parent_status.label()
            ),
        ));
    }
    let project = project::Entity::find_by_id(parent.project_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::internal("order without project"))?;
    let layout = catalogue::print_layouts(&project)
        .into_iter()
        .find(|l| l.code == input.layout_code.trim())
        .ok_or_else(|| {
            AppError::user(
                "UNKNOWN_LAYOUT",
                "layoutCode",
                "没有这种加洗规格，请从列表中选择",
            )
        })?;
    let amount = rules::amount_fen(layout.price_fen, input.quantity)
        .map_err(|e| AppError::user("INVALID_QUANTITY", "quantity", format!("加洗{e}")))?;
    let to_school = project.prints_to_school && project.mode == ProjectMode::Central;
    let address_sealed = if to_school {
        // The school receives the prints; an address given anyway is not kept.
        None
    } else {
        let given = input
            .address
            .ok_or_else(|| AppError::user("ADDRESS_REQUIRED", "address", "请填写收货地址"))?;
        let valid = given
            .validated()
            .map_err(|e| AppError::user("INVALID_ADDRESS", e.field, e.message))?;
        Some(seal(state, &valid)?)
    };
    let now = state.clock.now();
    let by = By::account(Actor::Student, viewer.account_id);
    for _ in 0..3 {
        let earlier = print_order::Entity::find()
            .filter(print_order::Column::OrderId.eq(parent.id))
            .count(&state.db)
            .await?;
        let row = print_order::ActiveModel {
            id: Set(Uuid::now_v7()),
            order_id: Set(parent.id),
            account_id: Set(Some(viewer.account_id)),
            school_id: Set(parent.school_id),
            number: Set(rules::number(&parent.number, earlier + 1)),
            status: Set(PrintOrderStatus::PendingPayment),
            layout_code: Set(layout.code.clone()),
            layout_name: Set(layout.name.clone()),
            unit_price_fen: Set(layout.price_fen),
            quantity: Set(input.quantity),
            amount_fen: Set(amount),
            to_school: Set(to_school),
            address_sealed: Set(address_sealed.clone()),
            carrier: Set(None),
            tracking_number: Set(None),
            shipped_at: Set(None),
            shipped_by: Set(None),
            shipping_uploaded_at: Set(None),
            shipping_upload_error: Set(None),
            refund_pending: Set(false),
            paid_at: Set(None),
            completed_at: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let inserted = state
            .write(async |txn| {
                let row = row.insert(txn).await?;
                let detail = Detail {
                    payload: Some(serde_json::json!({
                        "layout": row.layout_code, "quantity": row.quantity,
                        "amountFen": row.amount_fen, "toSchool": row.to_school,
                    })),
                    ..Detail::default()
                };
                transition::record(txn, &row, PrintEvent::Create, by, now, detail).await?;
                Ok(row)
            })
            .await;
        match inserted {
            Ok(row) => return Ok(row),
            // Two print orders of one order created at once took the same number: count again.
            Err(AppError::Database(e)) if is_unique_violation(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Err(AppError::internal("no free print order number"))
}

fn seal(state: &AppState, address: &Address) -> AppResult<String> {
    let json = serde_json::to_string(address).map_err(AppError::internal)?;
    state.crypto.encrypt(&json).map_err(AppError::internal)
}

/// The stored address, opened; None for prints to the school or after account deletion.
pub fn address_of(state: &AppState, row: &print_order::Model) -> AppResult<Option<Address>> {
    let Some(sealed) = &row.address_sealed else {
        return Ok(None);
    };
    let json = state.crypto.decrypt(sealed).map_err(AppError::internal)?;
    serde_json::from_str(&json)
        .map(Some)
        .map_err(AppError::internal)
}

/// The student's print orders, newest first.
pub async fn of_student(state: &AppState, viewer: &Viewer) -> AppResult<Vec<print_order::Model>> {
    Ok(print_order::Entity::find()
        .filter(print_order::Column::AccountId.eq(viewer.account_id))
        .order_by_desc(print_order::Column::CreatedAt)
        .limit(200)
        .all(&state.db)
        .await?)
}

/// Staff list: print orders of the viewer's scope in the given statuses (default: PAID, the ones
/// to ship), oldest first — the order they should go out in — a page at a time.
pub async fn for_staff(
    state: &AppState,
    viewer: &Viewer,
    statuses: &[PrintOrderStatus],
    school_id: Option<Uuid>,
    args: &crate::services::paging::PageArgs,
) -> AppResult<crate::services::paging::Page<print_order::Model>> {
    if !scope::may(viewer, Duty::Ship) {
        return Err(AppError::Forbidden);
    }
    let mut query = print_order::Entity::find();
    let wanted: Vec<PrintOrderStatus> = if statuses.is_empty() {
        vec![PrintOrderStatus::Paid]
    } else {
        statuses.to_vec()
    };
    query = query.filter(print_order::Column::Status.is_in(wanted));
    // `school_id` comes from `scope::school_filter`: already within the viewer's scope.
    if let Some(school) = school_id.or(crate::services::scope::Scope::of(viewer).only_school()) {
        query = query.filter(print_order::Column::SchoolId.eq(school));
    }
    // Ids are UUIDv7: their order is the creation order.
    crate::services::paging::page_by_id(
        &state.db,
        query,
        print_order::Column::Id,
        false,
        args,
        &state.ids,
        crate::ids::NodeType::PrintOrder,
    )
    .await
}

/// 发货: staff enter the carrier and tracking number of a PAID print order; the shipping
/// information then goes to WeChat (retried by the sweeper if WeChat cannot take it now).
pub async fn mark_shipped(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    carrier: &str,
    tracking: &str,
) -> AppResult<print_order::Model> {
    if !scope::may(viewer, Duty::Ship) {
        return Err(AppError::Forbidden);
    }
    let row = readable(state, viewer, id).await?;
    let carrier = rules::carrier_code(carrier).ok_or_else(|| {
        let known: Vec<&str> = rules::CARRIERS.iter().map(|(_, n)| *n).collect();
        AppError::user(
            "UNKNOWN_CARRIER",
            "carrier",
            format!("不支持的快递公司，可选：{}", known.join("、")),
        )
    })?;
    let tracking = rules::tracking_number(tracking).ok_or_else(|| {
        AppError::user(
            "INVALID_TRACKING_NUMBER",
            "trackingNumber",
            "快递单号应为 8-32 位字母或数字",
        )
    })?;
    if row.refund_pending {
        return Err(AppError::user(
            "REFUND_PENDING",
            "printOrderId",
            "该加洗订单正在退款，不能发货",
        ));
    }
    let now = state.clock.now();
    let by = By::account(Actor::from(viewer.role), viewer.account_id);
    let changes = vec![
        (print_order::Column::Carrier, Expr::value(carrier)),
        (
            print_order::Column::TrackingNumber,
            Expr::value(tracking.clone()),
        ),
        (print_order::Column::ShippedAt, Expr::value(now)),
        (
            print_order::Column::ShippedBy,
            Expr::value(viewer.account_id),
        ),
    ];
    let detail = Detail {
        payload: Some(serde_json::json!({ "carrier": carrier, "trackingNumber": tracking })),
        ..Detail::default()
    };
    let shipped = state
        .write(async |txn| {
            transition::apply(txn, &row, PrintEvent::Ship, by, now, changes, detail).await
        })
        .await?;
    shipping::upload(state, &shipped).await;
    print_order::find(&state.db, shipped.id).await
}

/// 确认收货 by the student (the sweeper does it after [`AUTO_RECEIPT_AFTER`]).
pub async fn confirm_received(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<print_order::Model> {
    let row = own(state, viewer, id).await?;
    receive(state, &row, By::account(Actor::Student, viewer.account_id)).await
}

async fn receive(
    state: &AppState,
    row: &print_order::Model,
    by: By,
) -> AppResult<print_order::Model> {
    let now = state.clock.now();
    let completed_at = vec![(print_order::Column::CompletedAt, Expr::value(now))];
    let event = PrintEvent::ConfirmReceipt;
    state
        .write(async |txn| {
            transition::apply(txn, row, event, by, now, completed_at, Detail::default()).await
        })
        .await
}

/// Whether the account has print orders still being paid, made or delivered.
pub async fn in_progress_count(state: &AppState, account_id: Uuid) -> AppResult<u64> {
    let open: Vec<PrintOrderStatus> = PrintOrderStatus::ALL
        .iter()
        .copied()
        .filter(|s| s.is_in_progress())
        .collect();
    Ok(print_order::Entity::find()
        .filter(print_order::Column::AccountId.eq(account_id))
        .filter(
            Condition::any()
                .add(print_order::Column::Status.is_in(open))
                .add(print_order::Column::RefundPending.eq(true)),
        )
        .count(&state.db)
        .await?)
}

/// Sweeper work: confirms receipt of prints shipped long ago, and sends shipping information
/// WeChat has not taken yet. (Unpaid print orders close through [`checkout::close_expired`].)
pub async fn sweep(state: &AppState) -> AppResult<usize> {
    let now = state.clock.now();
    let mut changed = 0;
    let delivered = print_order::Entity::find()
        .filter(print_order::Column::Status.eq(PrintOrderStatus::Shipped))
        .filter(print_order::Column::ShippedAt.lte(now - AUTO_RECEIPT_AFTER))
        .limit(200)
        .all(&state.db)
        .await?;
    for row in delivered {
        match receive(state, &row, By::SYSTEM).await {
            Ok(_) => changed += 1,
            Err(AppError::User(_)) => {}
            Err(e) => tracing::warn!(error = %e, "confirming receipt of prints failed"),
        }
    }
    changed += shipping::upload_pending(state).await?;
    Ok(changed)
}
