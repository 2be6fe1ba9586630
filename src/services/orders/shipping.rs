//! 虚拟发货: WeChat requires a mini-program that takes payments to upload shipping information for
//! every paid order, or it may hold the funds. A photo order is virtual goods (the electronic
//! photo), so when it completes its shipment goes up as logistics type 3. The sweeper sends again
//! whatever WeChat has not taken — refusals included — until it does; staff see the last error.
use campus_photo_domain::{order::OrderStatus, records::PaymentState};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr};

use crate::{
    AppState,
    entities::{order, payment, project},
    error::AppResult,
    integrations::{
        wechat_messages::SendError,
        wechat_shipping::{LOGISTICS_VIRTUAL, ShippingInfo},
    },
};

/// Orders the sweeper sends per pass.
const BATCH: u64 = 50;

/// The order's successful payment, if it was paid through WeChat (a free order has none).
async fn payment_of(state: &AppState, row: &order::Model) -> AppResult<Option<payment::Model>> {
    Ok(payment::Entity::find()
        .filter(payment::Column::OrderId.eq(row.id))
        .filter(payment::Column::State.eq(PaymentState::Success))
        .one(&state.db)
        .await?)
}

/// What goes to WeChat for a completed photo order.
async fn info_for(
    state: &AppState,
    row: &order::Model,
    pay: payment::Model,
) -> AppResult<ShippingInfo> {
    let project = project::find(&state.db, row.project_id).await?;
    Ok(ShippingInfo {
        logistics_type: LOGISTICS_VIRTUAL,
        mchid: state.wechat_pay.mchid().to_string(),
        out_trade_no: pay.out_trade_no,
        payer_openid: pay.payer_openid.unwrap_or_default(),
        express_company: String::new(),
        tracking_no: String::new(),
        item_desc: format!("学历图像采集-{}（电子照片）", project.name)
            .chars()
            .take(120)
            .collect(),
        receiver_contact: None,
        upload_time: row.completed_at.unwrap_or(row.updated_at),
    })
}

/// Uploads the shipment of a completed order and records the outcome on the order: when WeChat
/// took it, or why not. Never fails the caller: the order is complete either way.
pub async fn upload(state: &AppState, row: &order::Model) {
    let outcome = match payment_of(state, row).await {
        Ok(Some(pay)) => match info_for(state, row, pay).await {
            Ok(info) => state.wechat_shipping.upload(&info).await,
            Err(e) => Err(SendError::Retryable(e.to_string())),
        },
        // Nothing was paid through WeChat: there is nothing to report.
        Ok(None) => return,
        Err(e) => Err(SendError::Retryable(e.to_string())),
    };
    let update = order::Entity::update_many().filter(order::Column::Id.eq(row.id));
    let update = match &outcome {
        Ok(()) => update
            .col_expr(
                order::Column::ShippingUploadedAt,
                Expr::value(state.clock.now()),
            )
            .col_expr(
                order::Column::ShippingUploadError,
                Expr::value(Option::<String>::None),
            ),
        Err(e) => {
            tracing::warn!(order = %row.id, error = %e, "virtual shipment not taken by WeChat");
            update.col_expr(
                order::Column::ShippingUploadError,
                Expr::value(e.to_string()),
            )
        }
    };
    if let Err(e) = update.exec(&state.db).await {
        tracing::warn!(error = %e, "recording the virtual shipment");
    }
}

/// Uploads the completed order `id` (after production finished it).
pub async fn upload_completed(state: &AppState, id: uuid::Uuid) -> AppResult<()> {
    let row = super::find(&state.db, id).await?;
    // Only a completed order ships; anything else has nothing to report yet.
    if row.status == OrderStatus::Completed && row.shipping_uploaded_at.is_none() {
        upload(state, &row).await;
    }
    Ok(())
}

/// Sends again the completed orders WeChat has not taken, oldest first. Returns how many were
/// tried.
pub async fn upload_pending(state: &AppState) -> AppResult<usize> {
    let paid = sea_orm::sea_query::Query::select()
        .column(payment::Column::OrderId)
        .from(payment::Entity)
        .and_where(payment::Column::State.eq(PaymentState::Success))
        .and_where(payment::Column::OrderId.is_not_null())
        .to_owned();
    let pending = order::Entity::find()
        .filter(order::Column::Status.eq(OrderStatus::Completed))
        .filter(order::Column::ShippingUploadedAt.is_null())
        .filter(order::Column::Id.in_subquery(paid))
        .order_by_asc(order::Column::Id)
        .limit(BATCH)
        .all(&state.db)
        .await?;
    for row in &pending {
        upload(state, row).await;
    }
    Ok(pending.len())
}
