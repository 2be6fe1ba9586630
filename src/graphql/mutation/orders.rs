//! 提交照片, 去编辑, 取消订单, 支付订单, 申请退款.
use crate::services::limits::Action;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use crate::{
    entities::{order, print_order},
    error::{ApiResult, AppError, AppResult, UserError, into_payload},
    graphql::{
        context::ContextExt,
        guards::{RoleGuard, SIGNED_IN, STAFF, STUDENT},
        loaders::{OrderId, load},
        types::{
            order::{Order, WeChatPayParamsGql},
            print_order::PrintOrder,
        },
    },
    ids::NodeType,
    services::{
        orders::{self, NewOrder},
        payments::checkout,
    },
};

#[derive(InputObject)]
pub struct SubmitOrderInput {
    pub photo_id: ID,
    /// allowed the mini-program to send messages
    pub notification_consent: bool,
    /// 提交人工审核: submit a photo that failed the preliminary check only on measured
    /// judgements (`Photo.check.manualReviewAllowed`), for a reviewer to decide. Photos failed
    /// for objective faults (no face, several faces, unreadable, too few pixels) are refused.
    #[graphql(default = false)]
    pub manual_review: bool,
}

#[derive(InputObject)]
pub struct UpdatePendingOrderInput {
    pub order_id: ID,
    pub photo_id: ID,
}

#[derive(InputObject)]
pub struct SubmitPhotoForReviewInput {
    pub order_id: ID,
    pub photo_id: ID,
    /// 提交人工审核: submit a photo that failed the automatic check on judgements only.
    #[graphql(default)]
    pub manual_review: bool,
}

#[derive(InputObject)]
pub struct OrderIdInput {
    pub order_id: ID,
}

#[derive(InputObject)]
pub struct RequestRefundInput {
    pub order_id: ID,
    pub reason: String,
}

#[derive(SimpleObject)]
pub struct OrderPayload {
    /// The order; for a print order, the photo order it prints.
    pub order: Option<Order>,
    /// Set when the mutation was given a print order (加洗) id.
    pub print_order: Option<PrintOrder>,
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
pub struct CreatePaymentPayload {
    /// The order; for a print order, the photo order it prints.
    pub order: Option<Order>,
    pub pay_params: Option<WeChatPayParamsGql>,
    /// Set when the payment is for a print order (加洗).
    pub print_order: Option<PrintOrder>,
    pub user_errors: Vec<UserError>,
}

pub fn order_payload(result: AppResult<crate::entities::order::Model>) -> ApiResult<OrderPayload> {
    let (order, user_errors) = into_payload(result)?;
    Ok(OrderPayload {
        order: order.map(Order::new),
        print_order: None,
        user_errors,
    })
}

/// The payload of a mutation given a print order id: the print order and its photo order.
async fn print_payload(
    ctx: &Context<'_>,
    result: AppResult<print_order::Model>,
) -> ApiResult<OrderPayload> {
    let (print, user_errors) = into_payload(result)?;
    let order = match &print {
        Some(p) => load(ctx, OrderId(p.order_id)).await?.map(Order::new),
        None => None,
    };
    Ok(OrderPayload {
        order,
        print_order: print.map(PrintOrder::whole),
        user_errors,
    })
}

/// What an `orderId` names: a photo order, or (for payments, cancelling and refunds) a print
/// order. Anything else is NOT_FOUND, like an id of someone else's order.
enum Target {
    Order(uuid::Uuid),
    Print(uuid::Uuid),
}

fn target(ctx: &Context<'_>, id: &ID) -> AppResult<Target> {
    match ctx.state().ids.decode(id) {
        Some((NodeType::Order, row)) => Ok(Target::Order(row)),
        Some((NodeType::PrintOrder, row)) => Ok(Target::Print(row)),
        _ => Err(AppError::NotFound("找不到该订单")),
    }
}

#[derive(Default)]
pub struct OrderMutation;

#[Object]
impl OrderMutation {
    /// 提交: creates the order (待支付) for a photo that passed the preliminary check, or, with
    /// `manualReview`, for one that failed it on judgements only (the order is then flagged
    /// for reviewers: 自动初审未通过，申请人工审核).
    #[graphql(guard = "RoleGuard::new(STUDENT)")]
    async fn submit_order(
        &self,
        ctx: &Context<'_>,
        input: SubmitOrderInput,
    ) -> ApiResult<OrderPayload> {
        let viewer = ctx.viewer()?.clone();
        let photo_id = ctx.decode_id(NodeType::Photo, &input.photo_id)?;
        let new = NewOrder {
            photo_id,
            notification_consent: input.notification_consent,
            manual_review: input.manual_review,
        };
        order_payload(orders::submit(ctx.state(), &viewer, new).await)
    }

    /// 去编辑: swaps the photo while the order is unpaid.
    #[graphql(guard = "RoleGuard::new(STUDENT)")]
    async fn update_pending_order(
        &self,
        ctx: &Context<'_>,
        input: UpdatePendingOrderInput,
    ) -> ApiResult<OrderPayload> {
        let viewer = ctx.viewer()?.clone();
        let order_id = ctx.decode_id(NodeType::Order, &input.order_id)?;
        let photo_id = ctx.decode_id(NodeType::Photo, &input.photo_id)?;
        order_payload(orders::update_pending(ctx.state(), &viewer, order_id, photo_id).await)
    }

    /// 提交照片 (先付款后拍照): in a pay-first project, sends the paid order's photo — a passed take
    /// of the order's enrollment — to review: PAID → PENDING_REVIEW. INVALID_STATE for any other
    /// status (photo-first orders reach review by themselves).
    #[graphql(guard = "RoleGuard::new(STUDENT)")]
    async fn submit_photo_for_review(
        &self,
        ctx: &Context<'_>,
        input: SubmitPhotoForReviewInput,
    ) -> ApiResult<OrderPayload> {
        let viewer = ctx.viewer()?.clone();
        let order_id = ctx.decode_id(NodeType::Order, &input.order_id)?;
        let photo_id = ctx.decode_id(NodeType::Photo, &input.photo_id)?;
        let submitted = orders::NewOrder {
            photo_id,
            notification_consent: false,
            manual_review: input.manual_review,
        };
        order_payload(orders::submit_photo(ctx.state(), &viewer, order_id, submitted).await)
    }

    /// 取消订单: closes an unpaid order (the student's own; admins any).
    #[graphql(guard = "RoleGuard::new(SIGNED_IN)")]
    async fn cancel_order(
        &self,
        ctx: &Context<'_>,
        input: OrderIdInput,
    ) -> ApiResult<OrderPayload> {
        let viewer = ctx.viewer()?.clone();
        match target(ctx, &input.order_id)? {
            Target::Order(id) => {
                order_payload(checkout::cancel::<order::Model>(ctx.state(), &viewer, id).await)
            }
            Target::Print(id) => {
                let result = checkout::cancel::<print_order::Model>(ctx.state(), &viewer, id).await;
                print_payload(ctx, result).await
            }
        }
    }

    /// 去支付: the `wx.requestPayment` parameters for an unpaid order. The order becomes PAID
    /// only when WeChat Pay's signed notification arrives, never on the client's word.
    #[graphql(guard = "RoleGuard::new(STUDENT)")]
    async fn create_payment(
        &self,
        ctx: &Context<'_>,
        input: OrderIdInput,
    ) -> ApiResult<CreatePaymentPayload> {
        let viewer = ctx.viewer()?.clone();
        ctx.rate_limit(Action::CreatePayment).await?;
        let state = ctx.state();
        let (order, print, pay_params, user_errors) = match target(ctx, &input.order_id)? {
            Target::Order(id) => {
                let (result, errors) =
                    into_payload(checkout::pay::<order::Model>(state, &viewer, id).await)?;
                match result {
                    Some((order, params)) => (Some(order), None, Some(params), errors),
                    None => (None, None, None, errors),
                }
            }
            Target::Print(id) => {
                let (result, errors) =
                    into_payload(checkout::pay::<print_order::Model>(state, &viewer, id).await)?;
                match result {
                    Some((print, params)) => {
                        let order = load(ctx, OrderId(print.order_id)).await?;
                        (order, Some(print), Some(params), errors)
                    }
                    None => (None, None, None, errors),
                }
            }
        };
        Ok(CreatePaymentPayload {
            order: order.map(Order::new),
            pay_params: pay_params.map(Into::into),
            print_order: print.map(PrintOrder::whole),
            user_errors,
        })
    }

    /// sandbox only: the sandbox pays and posts a signed notification to the real verification path
    #[graphql(guard = "RoleGuard::new(STUDENT)")]
    async fn sandbox_complete_payment(
        &self,
        ctx: &Context<'_>,
        input: OrderIdInput,
    ) -> ApiResult<OrderPayload> {
        let viewer = ctx.viewer()?.clone();
        match target(ctx, &input.order_id)? {
            Target::Order(id) => {
                order_payload(checkout::sandbox_pay::<order::Model>(ctx.state(), &viewer, id).await)
            }
            Target::Print(id) => {
                let result =
                    checkout::sandbox_pay::<print_order::Model>(ctx.state(), &viewer, id).await;
                print_payload(ctx, result).await
            }
        }
    }

    /// 申请退款 (PAID, PENDING_REVIEW or REJECTED): the student's own order, or an admin. The
    /// order shows `refundPending` until WeChat's refund notification moves it to REFUNDED.
    #[graphql(guard = "RoleGuard::new(SIGNED_IN)")]
    async fn request_refund(
        &self,
        ctx: &Context<'_>,
        input: RequestRefundInput,
    ) -> ApiResult<OrderPayload> {
        let viewer = ctx.viewer()?.clone();
        match target(ctx, &input.order_id)? {
            Target::Order(id) => {
                let reason = &input.reason;
                let result =
                    checkout::request_refund::<order::Model>(ctx.state(), &viewer, id, reason)
                        .await;
                order_payload(result)
            }
            Target::Print(id) => {
                let reason = &input.reason;
                let result = checkout::request_refund::<print_order::Model>(
                    ctx.state(),
                    &viewer,
                    id,
                    reason,
                )
                .await;
                print_payload(ctx, result).await
            }
        }
    }

    /// 联系学生: staff in the order's scope read the student's full phone number (lists show it
    /// masked). Each use is recorded on the order's trail as CONTACT_PHONE_REVEALED.
    #[graphql(guard = "RoleGuard::new(STAFF)")]
    async fn reveal_contact_phone(
        &self,
        ctx: &Context<'_>,
        input: OrderIdInput,
    ) -> ApiResult<RevealContactPhonePayload> {
        let viewer = ctx.viewer()?.clone();
        let order_id = ctx.decode_id(NodeType::Order, &input.order_id)?;
        let result = orders::reveal_contact_phone(ctx.state(), &viewer, order_id).await;
        let (phone, user_errors) = into_payload(result)?;
        Ok(RevealContactPhonePayload { phone, user_errors })
    }
}

#[derive(SimpleObject)]
pub struct RevealContactPhonePayload {
    /// The full number (null with a userError when the order has none).
    pub phone: Option<String>,
    pub user_errors: Vec<UserError>,
}
