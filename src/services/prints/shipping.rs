//! Reporting a shipped print order to WeChat (发货信息录入). The shipment is recorded first;
//! the upload follows, and the sweeper sends again what WeChat could not take.
use campus_photo_domain::{
    print_order::{PrintOrderStatus, carrier_name},
    records::PaymentState,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, sea_query::Expr};

use crate::{
    AppState,
    entities::{payment, print_order},
    error::{AppError, AppResult},
    integrations::{wechat_messages::SendError, wechat_shipping::ShippingInfo},
};

/// What goes to WeChat for a shipped print order.
pub async fn info_for(state: &AppState, row: &print_order::Model) -> AppResult<ShippingInfo> {
    let pay = payment::Entity::find()
        .filter(payment::Column::PrintOrderId.eq(row.id))
        .filter(payment::Column::State.eq(PaymentState::Success))
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::internal("shipped print order without a payment"))?;
    let (Some(carrier), Some(tracking)) = (&row.carrier, &row.tracking_number) else {
        return Err(AppError::internal("shipped print order without tracking"));
    };
    let receiver_contact =
        super::address_of(state, row)?.map(|a| campus_photo_domain::phone::mask(&a.phone));
    let carrier_label = carrier_name(carrier).unwrap_or(carrier.as_str());
    Ok(ShippingInfo {
        logistics_type: crate::integrations::wechat_shipping::LOGISTICS_EXPRESS,
        mchid: state.wechat_pay.mchid().to_string(),
        out_trade_no: pay.out_trade_no,
        payer_openid: pay.payer_openid.unwrap_or_default(),
        express_company: carrier.clone(),
        tracking_no: tracking.clone(),
        item_desc: format!(
            "学历照片加洗 {}×{}（{carrier_label}）",
            row.layout_name, row.quantity
        ),
        receiver_contact,
        upload_time: row.shipped_at.unwrap_or(row.updated_at),
    })
}

/// Sends the shipment; records success, or why WeChat refused. Failures never undo the
/// shipment: staff did ship.
pub async fn upload(state: &AppState, row: &print_order::Model) {
    let outcome = match info_for(state, row).await {
        Ok(info) => state.wechat_shipping.upload(&info).await,
        Err(e) => Err(SendError::Retryable(e.to_string())),
    };
    let now = state.clock.now();
    let update = print_order::Entity::update_many().filter(print_order::Column::Id.eq(row.id));
    let update = match &outcome {
        Ok(()) => update
            .col_expr(print_order::Column::ShippingUploadedAt, Expr::value(now))
            .col_expr(
                print_order::Column::ShippingUploadError,
                Expr::value(Option::<String>::None),
            ),
        Err(e) => {
            tracing::warn!(print_order = %row.id, error = %e, "shipping information not taken by WeChat");
            update.col_expr(
                print_order::Column::ShippingUploadError,
                Expr::value(e.to_string()),
            )
        }
    };
    if let Err(e) = update.exec(&state.db).await {
        tracing::warn!(error = %e, "recording the shipping upload");
    }
}

/// Sends again the shipments WeChat has not taken (not those it refused for good: a refusal
/// needs a person to look at the tracking number). Returns how many were tried.
pub async fn upload_pending(state: &AppState) -> AppResult<usize> {
    let pending = print_order::Entity::find()
        .filter(
            print_order::Column::Status
                .is_in([PrintOrderStatus::Shipped, PrintOrderStatus::Completed]),
        )
        .filter(print_order::Column::ShippedAt.is_not_null())
        .filter(print_order::Column::ShippingUploadedAt.is_null())
        .limit(50)
        .all(&state.db)
        .await?;
    let mut tried = 0;
    for row in pending {
        let refused_for_good = row
            .shipping_upload_error
            .as_deref()
            .is_some_and(|e| e.starts_with("WeChat refused"));
        if !refused_for_good {
            upload(state, &row).await;
            tried += 1;
        }
    }
    Ok(tried)
}
