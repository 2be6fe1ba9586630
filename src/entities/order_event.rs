use campus_photo_domain::{order::Actor, order::OrderStatus};
use sea_orm::entity::prelude::*;

/// The append-only audit log of an order, and the outbox of the event bus.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_events")]
pub struct Model {
    /// UUIDv7: ordered by time, so "events after X" is a range.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub order_id: Uuid,
    /// 1, 2, 3, … per order.
    pub sequence: i32,
    pub from_status: Option<OrderStatus>,
    pub to_status: OrderStatus,
    /// The state-machine event, e.g. PAYMENT_CONFIRMED.
    pub event: String,
    /// STUDENT | REVIEWER | … | SYSTEM | WECHATPAY
    pub actor: Actor,
    pub actor_account_id: Option<Uuid>,
    pub reason_code: Option<String>,
    pub message: Option<String>,
    pub payload: Option<Json>,
    pub created_at: DateTimeUtc,
    /// Set once the event went out on the bus.
    pub published_at: Option<DateTimeUtc>,
    /// The event's place in the feed, given by the relay after the event committed: unlike
    /// `id` (taken before commit), it follows commit order, so a client resuming after an event
    /// cannot miss one that committed later with a smaller id.
    pub feed_seq: Option<i64>,
    /// The print order this event is about (加洗 events are part of the photo order's trail).
    pub print_order_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
