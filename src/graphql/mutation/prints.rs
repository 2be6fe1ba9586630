//! 加洗照片: ordering prints of a completed photo, shipping them, confirming receipt.
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use campus_photo_domain::print_order::Address;

use crate::{
    entities::print_order,
    error::{ApiResult, AppResult, UserError, into_payload},
    graphql::{
        context::ContextExt,
        guards::{RoleGuard, STAFF, STUDENT},
        types::print_order::PrintOrder,
    },
    ids::NodeType,
    services::prints::{self, NewPrintOrder},
};

#[derive(InputObject)]
pub struct AddressInput {
    pub name: String,
    pub phone: String,
    pub province: String,
    pub city: String,
    pub district: String,
    pub detail: String,
}

#[derive(InputObject)]
pub struct CreatePrintOrderInput {
    pub order_id: ID,
    pub layout_code: String,
    pub quantity: i32,
    /// Required unless the project sends prints to the school.
    pub address: Option<AddressInput>,
}

#[derive(InputObject)]
pub struct MarkPrintOrderShippedInput {
    pub print_order_id: ID,
    /// The carrier's name or WeChat delivery id: 顺丰速运 / SF, 中通快递 / ZTO, …
    pub carrier: String,
    pub tracking_number: String,
}

#[derive(InputObject)]
pub struct PrintOrderIdInput {
    pub print_order_id: ID,
}

#[derive(SimpleObject)]
pub struct PrintOrderPayload {
    pub print_order: Option<PrintOrder>,
    pub user_errors: Vec<UserError>,
}

fn payload(result: AppResult<print_order::Model>) -> ApiResult<PrintOrderPayload> {
    let (row, user_errors) = into_payload(result)?;
    Ok(PrintOrderPayload {
        print_order: row.map(PrintOrder::whole),
        user_errors,
    })
}

#[derive(Default)]
pub struct PrintMutation;

#[Object]
impl PrintMutation {
    /// 加洗照片: prints of a COMPLETED order's standard photo, in PENDING_PAYMENT; pay with
    /// `createPayment` given the print order's id.
    #[graphql(guard = "RoleGuard::new(STUDENT)")]
    async fn create_print_order(
        &self,
        ctx: &Context<'_>,
        input: CreatePrintOrderInput,
    ) -> ApiResult<PrintOrderPayload> {
        let viewer = ctx.viewer()?.clone();
        let order_id = ctx.decode_id(NodeType::Order, &input.order_id)?;
        let new = NewPrintOrder {
            order_id,
            layout_code: input.layout_code,
            quantity: input.quantity,
            address: input.address.map(|a| Address {
                name: a.name,
                phone: a.phone,
                province: a.province,
                city: a.city,
                district: a.district,
                detail: a.detail,
            }),
        };
        payload(prints::create(ctx.state(), &viewer, new).await)
    }

    /// 发货: shipping staff enter the carrier and tracking number of a PAID print order; the
    /// shipping information is reported to WeChat.
    #[graphql(guard = "RoleGuard::new(STAFF)")]
    async fn mark_print_order_shipped(
        &self,
        ctx: &Context<'_>,
        input: MarkPrintOrderShippedInput,
    ) -> ApiResult<PrintOrderPayload> {
        let viewer = ctx.viewer()?.clone();
        let id = ctx.decode_id(NodeType::PrintOrder, &input.print_order_id)?;
        payload(
            prints::mark_shipped(
                ctx.state(),
                &viewer,
                id,
                &input.carrier,
                &input.tracking_number,
            )
            .await,
        )
    }

    /// 确认收货: the student received the prints (otherwise 15 days after shipping).
    #[graphql(guard = "RoleGuard::new(STUDENT)")]
    async fn confirm_print_order_received(
        &self,
        ctx: &Context<'_>,
        input: PrintOrderIdInput,
    ) -> ApiResult<PrintOrderPayload> {
        let viewer = ctx.viewer()?.clone();
        let id = ctx.decode_id(NodeType::PrintOrder, &input.print_order_id)?;
        payload(prints::confirm_received(ctx.state(), &viewer, id).await)
    }
}
