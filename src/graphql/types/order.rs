use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use campus_photo_domain::order::OrderStatus;
use chrono::{DateTime, TimeDelta, Utc};
use std::sync::Arc;

use super::{
    enrollment::{Enrollment, Joined},
    money::Money,
    photo::Photo,
};
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
    storage::links::signed_download_url,
};

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "OrderStatus", remote = "OrderStatus")]
pub enum OrderStatusGql {
    /// 待支付
    PendingPayment,
    /// 已支付. In photo-first projects (the default) a paid order is passed through at once to
    /// PENDING_REVIEW, in the same transaction; in pay-first projects (先付款后拍照,
    /// `Project.payFirst`) it waits here until the student submits the photo
    /// (`submitPhotoForReview`).
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

#[derive(SimpleObject)]
pub struct Rejection {
    /// A code of the shared catalogue (see `rejectionReasons`).
    pub code: String,
    /// 驳回原因, the catalogue's title of the code (e.g. 图像额外内容（手、水印等）).
    pub title: String,
    /// 解决办法: what the student does next.
    pub solution: String,
    /// The sentence the student reads; for `REGISTRY_REJECTED`, the registry's own words.
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

/// 订单: a student's paid request for a standard photo, with its audit trail. The second
/// field holds what a page of orders loaded beside its rows (see [`order_connection`]).
pub struct Order(pub Arc<order::Model>, pub Beside);

/// An order's related rows, read for a whole page in one statement per kind by
/// [`order_connection`] when the query asks for them. `None`: not read, the field goes through
/// its DataLoader (an order that is not on a page, or a field the page did not look ahead to).
#[derive(Default)]
pub struct Beside {
    enrollment: Option<Enrollment>,
    photo: Option<Photo>,
    /// Read without `payload`, which no field of `OrderEvent` shows.
    events: Option<Vec<order_event::Model>>,
}

impl Order {
    pub fn new(row: order::Model) -> Self {
        Self(Arc::new(row), Beside::default())
    }
}

#[Object]
impl Order {
    pub async fn id(&self, ctx: &Context<'_>) -> ID {
        ID(ctx.state().ids.encode(NodeType::Order, self.0.id))
    }

    /// e.g. 000015-20240220115644602; also the WeChat Pay out_trade_no.
    async fn number(&self) -> &str {
        &self.0.number
    }

    async fn status(&self) -> OrderStatusGql {
        self.0.status.into()
    }

    /// 待支付 已支付 待审核 被驳回 待制作 制作中 已完成 订单关闭 已退款
    async fn status_label(&self) -> &'static str {
        self.0.status.label()
    }

    /// 集采 / 散拍 / 新生
    async fn kind_label(&self) -> &'static str {
        self.0.kind.label()
    }

    async fn enrollment(&self, ctx: &Context<'_>) -> ApiResult<Enrollment> {
        if let Some(enrollment) = &self.1.enrollment {
            return Ok(enrollment.clone());
        }
        load(ctx, EnrollmentId(self.0.enrollment_id))
            .await?
            .map(Enrollment::new)
            .ok_or_else(|| AppError::internal("order without enrollment").into())
    }

    /// The photo the order is for now (the latest take submitted).
    async fn photo(&self, ctx: &Context<'_>) -> ApiResult<Photo> {
        if let Some(photo) = &self.1.photo {
            return Ok(photo.clone());
        }
        load(ctx, PhotoId(self.0.photo_id))
            .await?
            .map(Photo::new)
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

    /// Staff: whether WeChat has taken the order's virtual shipment (虚拟发货, logistics type 3),
    /// uploaded when the order completes; null to students and before completion.
    async fn shipping_reported(&self, ctx: &Context<'_>) -> ApiResult<Option<bool>> {
        let staff = ctx.viewer()?.is_staff();
        let completed = self.0.status == OrderStatus::Completed;
        Ok((staff && completed).then_some(self.0.shipping_uploaded_at.is_some()))
    }

    /// Staff: why WeChat has not taken the virtual shipment yet (the sweeper keeps sending).
    async fn shipping_upload_error(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        let staff = ctx.viewer()?.is_staff();
        Ok(staff
            .then(|| self.0.shipping_upload_error.clone())
            .flatten())
    }

    async fn rejection(&self) -> Option<Rejection> {
        match (
            &self.0.rejection_code,
            &self.0.rejection_message,
            self.0.rejected_at,
        ) {
            (Some(code), Some(message), Some(at)) if self.0.status == OrderStatus::Rejected => {
                let entry = campus_photo_domain::reasons::find(code);
                Some(Rejection {
                    title: entry.map_or_else(|| message.clone(), |r| r.title.to_string()),
                    solution: entry
                        .map_or("请按拍摄指南重新拍摄", |r| r.solution)
                        .to_string(),
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
        let of_order = |event| OrderEvent(event, Some(Arc::clone(&self.0)));
        if let Some(events) = &self.1.events {
            return Ok(events.iter().cloned().map(of_order).collect());
        }
        Ok(load(ctx, EventsOfOrder(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(of_order)
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
        match (&self.0.deliverable_key, self.0.status) {
            (Some(key), OrderStatus::Completed) => Some(signed_download_url(
                ctx.state(),
                key,
                &format!("{}.jpg", self.0.number),
            )),
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
        (self.0.status == OrderStatus::PendingPayment)
            .then(|| TimeDelta::from_std(ctx.state().config.order_payment_timeout).ok())
            .flatten()
            .map(|t| self.0.created_at + t)
    }

    /// A refund was requested and WeChat has not confirmed it yet.
    async fn refund_pending(&self) -> bool {
        self.0.refund_pending
    }
}

/// What an entry of an order's audit trail records: a status change, a note about the order, or
/// an event of one of its print orders (加洗, `PRINT_…`).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum OrderEventKind {
    /// The student submitted the order (it starts PENDING_PAYMENT).
    Submit,
    /// `updatePendingOrder`: new photo or details before paying.
    UpdatePending,
    Cancel,
    /// Unpaid past the payment timeout.
    PaymentTimeout,
    PaymentConfirmed,
    EnqueueForReview,
    Approve,
    Reject,
    /// 撤回审核, recorded as REJECTED with reason WITHDRAWN.
    Withdraw,
    Resubmit,
    /// 先付款后拍照: the photo of a paid order goes to review.
    SubmitPhoto,
    StartProduction,
    FinishProduction,
    ProductionFailed,
    RefundConfirmed,
    /// 学信网 refused the reported photo: the order is rejected (REGISTRY_REJECTED) for a re-take.
    RegistryReject,
    RefundRequested,
    RefundFailed,
    /// Money arrived for an order that had already closed; it is refunded.
    PaidAfterClose,
    /// A member of staff read the student's full phone number.
    ContactPhoneRevealed,
    /// 已上报: 学信网 accepted the reported photo.
    RegistryReported,
    /// An operator released a reviewer's claim: the order is back in the queue.
    ClaimReleased,
    /// An operator gave a reviewer's claim to another reviewer.
    ClaimReassigned,
    /// An operator sent the student a reminder to finish.
    ReminderSent,
    /// An operator granted the order's enrollment more automatic checks.
    AutoChecksGranted,
    /// An operator unbound the order's enrollment from the account that took it.
    EnrollmentUnbound,
    PrintCreated,
    PrintCancel,
    PrintPaymentTimeout,
    PrintPaymentConfirmed,
    PrintShipped,
    PrintReceived,
    PrintRefundRequested,
    PrintRefundConfirmed,
    PrintRefundFailed,
    PrintPaidAfterClose,
}

/// Who caused an entry of an order's audit trail.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "OrderEventActor", remote = "campus_photo_domain::order::Actor")]
pub enum ActorGql {
    Student,
    Reviewer,
    Producer,
    SchoolAdmin,
    Admin,
    /// Background work (timeouts, production, the sweeper).
    System,
    /// A verified WeChat Pay notification.
    #[graphql(name = "WECHATPAY")]
    WeChatPay,
}

/// The GraphQL value of a stored name (the enums' names are the stored texts).
fn stored_enum<T: async_graphql::resolver_utils::EnumType>(text: &str, what: &str) -> ApiResult<T> {
    T::items()
        .iter()
        .find(|item| item.name == text)
        .map(|item| item.value)
        .ok_or_else(|| AppError::internal(format!("stored {what} {text:?} is unknown")).into())
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
            return Ok(Order(Arc::clone(order), Beside::default()));
        }
        load(ctx, OrderId(self.0.order_id))
            .await?
            .map(Order::new)
            .ok_or_else(|| AppError::internal("event without order").into())
    }

    /// 1, 2, 3, … per order.
    async fn sequence(&self) -> i32 {
        self.0.sequence
    }

    async fn from_status(&self) -> Option<OrderStatusGql> {
        self.0.from_status.map(Into::into)
    }

    async fn to_status(&self) -> OrderStatusGql {
        self.0.to_status.into()
    }

    /// What happened, e.g. SUBMIT, PAYMENT_CONFIRMED, REJECT, REFUND_REQUESTED.
    async fn event(&self) -> ApiResult<OrderEventKind> {
        stored_enum(&self.0.event, "order event")
    }

    /// Who made it happen.
    async fn actor(&self) -> ActorGql {
        self.0.actor.into()
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
        let row = crate::entities::print_order::find(&ctx.state().db, id).await?;
        Ok(Some(super::print_order::PrintOrder::listed(row)))
    }
}

/// A page of orders (newest or oldest first) as an OrderConnection. The enrollments (with their
/// schools and projects), photos and events the query asks for are read in the page's own
/// statement: one statement whatever the page's size, without the DataLoader's batching delay,
/// which under load fired before every order had asked and split a batch in two.
pub async fn order_connection(
    ctx: &Context<'_>,
    select: sea_orm::Select<order::Entity>,
    newest_first: bool,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<
    async_graphql::connection::Connection<String, Order, crate::graphql::connection::TotalCount>,
> {
    use crate::graphql::connection::{PageArgs, into_connection};
    use crate::services::orders::page::{self, PhotoColumns};
    let state = ctx.state();
    let args = PageArgs {
        first,
        after,
        ..PageArgs::default()
    };
    let enrollment = nodes_select(ctx, &["enrollment"]);
    let selected = page::Selected {
        enrollment,
        school: enrollment && nodes_select(ctx, &["enrollment", "school"]),
        project: enrollment && nodes_select(ctx, &["enrollment", "project"]),
        photo: nodes_select(ctx, &["photo"]).then(|| {
            if nodes_select(ctx, &["photo", "check"]) || nodes_select(ctx, &["photo", "previewUrl"])
            {
                PhotoColumns::Whole
            } else {
                PhotoColumns::Lean
            }
        }),
        events: nodes_select(ctx, &["events"]),
    };
    let page = page::page(&state.db, select, newest_first, &args, &state.ids, selected).await?;
    Ok(into_connection(
        page,
        &state.ids,
        NodeType::Order,
        |r| r.order.id,
        |r| {
            let beside = Beside {
                enrollment: r.enrollment.map(|e| {
                    let joined = Joined {
                        school: e.school.map(Arc::new),
                        project: e.project.map(Arc::new),
                    };
                    Enrollment(Arc::new(e.enrollment), joined)
                }),
                photo: r.photo.map(|(row, lean)| Photo(Arc::new(row), lean)),
                events: r.events,
            };
            Order(Arc::new(r.order), beside)
        },
    ))
}

/// Whether the page's nodes (`nodes { … }` or `edges { node { … } }`) select `path`.
fn nodes_select(ctx: &Context<'_>, path: &[&str]) -> bool {
    let connection = ctx.look_ahead();
    [
        connection.field("nodes"),
        connection.field("edges").field("node"),
    ]
    .into_iter()
    .any(|node| {
        path.iter()
            .fold(node, |selection, name| selection.field(name))
            .exists()
    })
}

/// Keeps the orders whose status is one of `statuses` (all when None or empty).
pub fn with_statuses(
    select: sea_orm::Select<order::Entity>,
    statuses: Option<Vec<OrderStatusGql>>,
) -> sea_orm::Select<order::Entity> {
    use sea_orm::{ColumnTrait, QueryFilter};
    match statuses {
        Some(list) if !list.is_empty() => {
            select.filter(order::Column::Status.is_in(list.into_iter().map(OrderStatus::from)))
        }
        _ => select,
    }
}

#[cfg(test)]
mod enum_tests {
    use super::*;
    use campus_photo_domain::{
        order::{Actor, OrderEvent as DomainEvent, OrderNote},
        print_order::PrintEvent,
    };

    /// Every name the services write into the audit trail has its GraphQL value, and no value
    /// names nothing.
    #[test]
    fn every_stored_event_and_actor_has_its_enum_value() {
        let mut stored: Vec<&str> = vec!["SUBMIT"];
        stored.extend(DomainEvent::ALL.iter().map(|e| e.as_str()));
        stored.extend(OrderNote::ALL.iter().map(|e| e.as_str()));
        stored.extend(PrintEvent::ALL.iter().map(|e| e.as_str()));
        for name in &stored {
            assert!(
                stored_enum::<OrderEventKind>(name, "event").is_ok(),
                "{name}"
            );
        }
        use async_graphql::resolver_utils::EnumType;
        assert_eq!(OrderEventKind::items().len(), stored.len());
        for actor in Actor::ALL {
            assert!(
                stored_enum::<ActorGql>(actor.as_str(), "actor").is_ok(),
                "{actor}"
            );
        }
        assert_eq!(ActorGql::items().len(), Actor::ALL.len());
        assert!(stored_enum::<ActorGql>("NOBODY", "actor").is_err());
    }
}
