use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use campus_photo_domain::{codes::ProjectMode, order::OrderStatus};
use chrono::{DateTime, TimeDelta, Utc};
use std::sync::Arc;

use super::{enrollment::Enrollment, money::Money, photo::Photo};
use crate::{
    entities::{order, order_event},
    error::{ApiResult, AppError},
    graphql::{
        context::ContextExt,
        loaders::{AccountId, EnrollmentId, EventsOfOrder, OrderId, PhotoId, load},
    },
    ids::NodeType,
    integrations::wechat_pay::PayParams,
    services::accounts::phone_for,
    storage::links::signed_url,
};

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "OrderStatus")]
pub enum OrderStatusGql {
    /// 待支付
    PendingPayment,
    /// 已支付
    Paid,
    /// 待审核
    PendingReview,
    /// 被驳回
    Rejected,
    /// 待制作
    PendingProduction,
    /// 制作中
    InProduction,
    /// 已完成
    Completed,
    /// 订单关闭
    Closed,
    /// 已退款
    Refunded,
}

impl From<OrderStatus> for OrderStatusGql {
    fn from(s: OrderStatus) -> Self {
        match s {
            OrderStatus::PendingPayment => Self::PendingPayment,
            OrderStatus::Paid => Self::Paid,
            OrderStatus::PendingReview => Self::PendingReview,
            OrderStatus::Rejected => Self::Rejected,
            OrderStatus::PendingProduction => Self::PendingProduction,
            OrderStatus::InProduction => Self::InProduction,
            OrderStatus::Completed => Self::Completed,
            OrderStatus::Closed => Self::Closed,
            OrderStatus::Refunded => Self::Refunded,
        }
    }
}

impl From<OrderStatusGql> for OrderStatus {
    fn from(s: OrderStatusGql) -> Self {
        match s {
            OrderStatusGql::PendingPayment => Self::PendingPayment,
            OrderStatusGql::Paid => Self::Paid,
            OrderStatusGql::PendingReview => Self::PendingReview,
            OrderStatusGql::Rejected => Self::Rejected,
            OrderStatusGql::PendingProduction => Self::PendingProduction,
            OrderStatusGql::InProduction => Self::InProduction,
            OrderStatusGql::Completed => Self::Completed,
            OrderStatusGql::Closed => Self::Closed,
            OrderStatusGql::Refunded => Self::Refunded,
        }
    }
}

fn parse_status(text: &str) -> ApiResult<OrderStatus> {
    text.parse()
        .map_err(|_| AppError::internal(format!("unknown order status {text}")).into())
}

#[derive(SimpleObject)]
pub struct Rejection {
    /// A code of the shared catalogue (see `rejectionReasons`).
    pub code: String,
    pub message: String,
    /// The reviewer's note beside the catalogue reason, if any.
    pub note: Option<String>,
    pub rejected_at: DateTime<Utc>,
}

/// The parameters of `wx.requestPayment`, signed with the merchant key.
#[derive(SimpleObject)]
#[graphql(name = "WeChatPayParams")]
pub struct WeChatPayParamsGql {
    pub app_id: String,
    pub time_stamp: String,
    pub nonce_str: String,
    pub package: String,
    /// Always RSA (WeChat Pay v3).
    pub sign_type: String,
    pub pay_sign: String,
}

impl From<PayParams> for WeChatPayParamsGql {
    fn from(p: PayParams) -> Self {
        Self {
            app_id: p.app_id,
            time_stamp: p.time_stamp,
            nonce_str: p.nonce_str,
            package: p.package,
            sign_type: p.sign_type,
            pay_sign: p.pay_sign,
        }
    }
}

/// 订单: a student's paid request for a standard photo, with its audit trail.
pub struct Order(pub order::Model);

#[Object]
impl Order {
    pub async fn id(&self, ctx: &Context<'_>) -> ID {
        ID(ctx.state().ids.encode(NodeType::Order, self.0.id))
    }

    /// e.g. 000015-20240220115644602; also the WeChat Pay out_trade_no.
    async fn number(&self) -> &str {
        &self.0.number
    }

    async fn status(&self) -> ApiResult<OrderStatusGql> {
        Ok(parse_status(&self.0.status)?.into())
    }

    /// 待支付 已支付 待审核 被驳回 待制作 制作中 已完成 订单关闭 已退款
    async fn status_label(&self) -> ApiResult<&'static str> {
        Ok(parse_status(&self.0.status)?.label())
    }

    /// 集采 / 散拍 / 新生
    async fn kind_label(&self) -> &'static str {
        self.0
            .kind
            .parse::<ProjectMode>()
            .map_or("", ProjectMode::label)
    }

    async fn enrollment(&self, ctx: &Context<'_>) -> ApiResult<Enrollment> {
        load(ctx, EnrollmentId(self.0.enrollment_id))
            .await?
            .map(Enrollment)
            .ok_or_else(|| AppError::internal("order without enrollment").into())
    }

    /// The photo the order is for now (the latest take submitted).
    async fn photo(&self, ctx: &Context<'_>) -> ApiResult<Photo> {
        load(ctx, PhotoId(self.0.photo_id))
            .await?
            .map(Photo)
            .ok_or_else(|| AppError::internal("order without photo").into())
    }

    async fn amount(&self) -> Money {
        Money::cny(self.0.amount_fen)
    }

    /// Submitted for a person to decide although the automatic check failed it on measured
    /// judgements only (提交人工审核); the photo's `check` holds the issues it was failed for.
    async fn manual_review(&self) -> bool {
        self.0.manual_review
    }

    /// 自动初审未通过，申请人工审核 when `manualReview`, for the review queue and dashboard.
    async fn manual_review_note(&self) -> Option<&'static str> {
        self.0
            .manual_review
            .then_some(campus_photo_domain::reasons::MANUAL_REVIEW_NOTE)
    }

    async fn rejection(&self) -> Option<Rejection> {
        match (
            &self.0.rejection_code,
            &self.0.rejection_message,
            self.0.rejected_at,
        ) {
            (Some(code), Some(message), Some(at)) if self.0.status == "REJECTED" => {
                Some(Rejection {
                    code: code.clone(),
                    message: message.clone(),
                    note: self.0.rejection_note.clone(),
                    rejected_at: at,
                })
            }
            _ => None,
        }
    }

    /// The audit trail, oldest first: PENDING_PAYMENT, PAID, PENDING_REVIEW, …
    async fn events(&self, ctx: &Context<'_>) -> ApiResult<Vec<OrderEvent>> {
        let order = Arc::new(self.0.clone());
        Ok(load(ctx, EventsOfOrder(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(|event| OrderEvent(event, Some(Arc::clone(&order))))
            .collect())
    }

    /// 联系电话: the student's phone, whole for the student and masked (138****8000) for staff,
    /// who reveal one number with `revealContactPhone` (recorded on the order's trail).
    async fn contact_phone(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        let Some(account_id) = self.0.account_id else {
            return Ok(None);
        };
        let Some(account) = load(ctx, AccountId(account_id)).await? else {
            return Ok(None);
        };
        let owner = ctx.viewer().is_ok_and(|v| v.account_id == account_id);
        Ok(phone_for(ctx.state(), &account, owner))
    }

    /// Signed URL of the standard 480×640 photo once COMPLETED (下载电子照片).
    async fn deliverable_url(&self, ctx: &Context<'_>) -> Option<String> {
        match (&self.0.deliverable_key, self.0.status.as_str()) {
            (Some(key), "COMPLETED") => Some(signed_url(ctx.state(), key)),
            _ => None,
        }
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn paid_at(&self) -> Option<DateTime<Utc>> {
        self.0.paid_at
    }

    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }

    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }

    async fn refunded_at(&self) -> Option<DateTime<Utc>> {
        self.0.refunded_at
    }

    /// While PENDING_PAYMENT: when the order closes unless paid (for the countdown).
    async fn pay_before(&self, ctx: &Context<'_>) -> Option<DateTime<Utc>> {
        (self.0.status == "PENDING_PAYMENT")
            .then(|| TimeDelta::from_std(ctx.state().config.order_payment_timeout).ok())
            .flatten()
            .map(|t| self.0.created_at + t)
    }

    /// A refund was requested and WeChat has not confirmed it yet.
    async fn refund_pending(&self) -> bool {
        self.0.refund_pending
    }
}

/// One entry of an order's audit trail; also what `orderUpdates` pushes.
/// An order event; subscriptions hand it over with its order already loaded (the same for every
/// subscriber), so fanning one event out to thousands of sockets reads the database once.
pub struct OrderEvent(pub order_event::Model, pub Option<Arc<order::Model>>);

#[Object]
impl OrderEvent {
    pub async fn id(&self, ctx: &Context<'_>) -> ID {
        ID(ctx.state().ids.encode(NodeType::OrderEvent, self.0.id))
    }

    async fn order(&self, ctx: &Context<'_>) -> ApiResult<Order> {
        if let Some(order) = &self.1 {
            return Ok(Order(order.as_ref().clone()));
        }
        load(ctx, OrderId(self.0.order_id))
            .await?
            .map(Order)
            .ok_or_else(|| AppError::internal("event without order").into())
    }

    /// 1, 2, 3, … per order.
    async fn sequence(&self) -> i32 {
        self.0.sequence
    }

    async fn from_status(&self) -> ApiResult<Option<OrderStatusGql>> {
        match &self.0.from_status {
            Some(s) => Ok(Some(parse_status(s)?.into())),
            None => Ok(None),
        }
    }

    async fn to_status(&self) -> ApiResult<OrderStatusGql> {
        Ok(parse_status(&self.0.to_status)?.into())
    }

    /// What happened, e.g. SUBMIT, PAYMENT_CONFIRMED, REJECT, REFUND_REQUESTED.
    async fn event(&self) -> &str {
        &self.0.event
    }

    /// STUDENT, REVIEWER, PRODUCER, SCHOOL_ADMIN, ADMIN, SYSTEM or WECHATPAY.
    async fn actor(&self) -> &str {
        &self.0.actor
    }

    /// e.g. a REJECT reason code, PAYMENT_TIMEOUT
    async fn reason_code(&self) -> Option<&str> {
        self.0.reason_code.as_deref()
    }

    async fn message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }

    async fn at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// The print order (加洗) a PRINT_… event is about.
    async fn print_order(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<super::print_order::PrintOrder>> {
        let Some(id) = self.0.print_order_id else {
            return Ok(None);
        };
        let row = crate::services::prints::by_system(ctx.state(), id).await?;
        Ok(Some(super::print_order::PrintOrder::listed(row)))
    }
}

/// A page of orders (newest or oldest first) as an OrderConnection.
pub async fn order_connection(
    ctx: &Context<'_>,
    select: sea_orm::Select<order::Entity>,
    newest_first: bool,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<
    async_graphql::connection::Connection<String, Order, crate::graphql::connection::TotalCount>,
> {
    use crate::graphql::connection::{PageArgs, into_connection, page_by_id};
    let state = ctx.state();
    let args = PageArgs {
        first,
        after,
        ..PageArgs::default()
    };
    let page = page_by_id(
        &state.db,
        select,
        order::Column::Id,
        newest_first,
        &args,
        &state.ids,
        NodeType::Order,
    )
    .await?;
    Ok(into_connection(
        page,
        &state.ids,
        NodeType::Order,
        |m| m.id,
        Order,
    ))
}

/// Keeps the orders whose status is one of `statuses` (all when None or empty).
pub fn with_statuses(
    select: sea_orm::Select<order::Entity>,
    statuses: Option<Vec<OrderStatusGql>>,
) -> sea_orm::Select<order::Entity> {
    use sea_orm::{ColumnTrait, QueryFilter};
    match statuses {
        Some(list) if !list.is_empty() => select.filter(
            order::Column::Status.is_in(
                list.into_iter()
                    .map(|s| OrderStatus::from(s).as_str().to_string()),
            ),
        ),
        _ => select,
    }
}
