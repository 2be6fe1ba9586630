//! 加洗照片: PrintOrder and its address.
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use campus_photo_domain::print_order::{self as rules, PrintOrderStatus};
use chrono::{DateTime, Utc};

use super::{money::Money, order::Order, project::PrintLayout};
use crate::{
    entities::print_order,
    error::{ApiResult, AppError},
    graphql::{
        context::ContextExt,
        loaders::{OrderId, load},
    },
    ids::NodeType,
    services::prints,
};

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "PrintOrderStatus", remote = "PrintOrderStatus")]
pub enum PrintOrderStatusGql {
    /// 待支付
    PendingPayment,
    /// 已支付
    Paid,
    /// 已发货
    Shipped,
    /// 已完成
    Completed,
    /// 订单关闭
    Closed,
    /// 已退款
    Refunded,
}

/// A shipping address.
#[derive(SimpleObject)]
pub struct Address {
    pub name: String,
    pub phone: String,
    pub province: String,
    pub city: String,
    pub district: String,
    pub detail: String,
}

impl From<rules::Address> for Address {
    fn from(a: rules::Address) -> Self {
        Self {
            name: a.name,
            phone: a.phone,
            province: a.province,
            city: a.city,
            district: a.district,
            detail: a.detail,
        }
    }
}

/// A print order. `reveal` is false in lists, where the address is masked (张*三,
/// 138****8000, the start of the detail); one print order read by id, or returned by a mutation,
/// shows it whole to its student and to shipping staff.
pub struct PrintOrder {
    pub row: print_order::Model,
    pub reveal: bool,
}

impl PrintOrder {
    pub fn listed(row: print_order::Model) -> Self {
        Self { row, reveal: false }
    }

    pub fn whole(row: print_order::Model) -> Self {
        Self { row, reveal: true }
    }
}

#[Object]
impl PrintOrder {
    pub async fn id(&self, ctx: &Context<'_>) -> ID {
        ID(ctx.state().ids.encode(NodeType::PrintOrder, self.row.id))
    }

    /// `<order number>-P<n>`; also the WeChat Pay out_trade_no.
    async fn number(&self) -> &str {
        &self.row.number
    }

    async fn status(&self) -> PrintOrderStatusGql {
        self.row.status.into()
    }

    /// 待支付 / 已支付 / 已发货 / 已完成 / 订单关闭 / 已退款
    async fn status_label(&self) -> &'static str {
        self.row.status.label()
    }

    /// The photo order whose standard photo is printed.
    async fn order(&self, ctx: &Context<'_>) -> ApiResult<Order> {
        load(ctx, OrderId(self.row.order_id))
            .await?
            .map(Order::new)
            .ok_or_else(|| AppError::internal("print order without its order").into())
    }

    /// The layout and its unit price when ordered.
    async fn layout(&self) -> PrintLayout {
        PrintLayout {
            code: self.row.layout_code.clone(),
            name: self.row.layout_name.clone(),
            price: Money::cny(self.row.unit_price_fen),
        }
    }

    async fn quantity(&self) -> i32 {
        self.row.quantity
    }

    async fn amount(&self) -> Money {
        Money::cny(self.row.amount_fen)
    }

    /// null when the project sends prints to the school
    async fn address(&self, ctx: &Context<'_>) -> ApiResult<Option<Address>> {
        let address = prints::address_of(ctx.state(), &self.row)?;
        Ok(address.map(|a| if self.reveal { a } else { a.masked() }.into()))
    }

    /// Whether the prints go to the school rather than the student.
    async fn to_school(&self) -> bool {
        self.row.to_school
    }

    /// The carrier's name (顺丰速运 …) once shipped.
    async fn carrier(&self) -> Option<&str> {
        let code = self.row.carrier.as_deref()?;
        Some(rules::carrier_name(code).unwrap_or(code))
    }

    /// The carrier's WeChat delivery id (SF, ZTO, …) once shipped.
    async fn carrier_code(&self) -> Option<&str> {
        self.row.carrier.as_deref()
    }

    async fn tracking_number(&self) -> Option<&str> {
        self.row.tracking_number.as_deref()
    }

    /// A refund was asked for and WeChat has not confirmed it yet.
    async fn refund_pending(&self) -> bool {
        self.row.refund_pending
    }

    /// Staff: whether WeChat has taken the shipping information (发货信息录入).
    async fn shipping_reported(&self, ctx: &Context<'_>) -> ApiResult<Option<bool>> {
        let viewer = ctx.viewer()?;
        Ok(viewer
            .is_staff()
            .then_some(self.row.shipping_uploaded_at.is_some()))
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    async fn paid_at(&self) -> Option<DateTime<Utc>> {
        self.row.paid_at
    }

    async fn shipped_at(&self) -> Option<DateTime<Utc>> {
        self.row.shipped_at
    }

    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.row.completed_at
    }
}
