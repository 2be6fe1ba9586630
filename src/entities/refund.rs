use campus_photo_domain::records::RefundState;
use sea_orm::entity::prelude::*;

/// A refund of a payment. `out_refund_no` is derived from the payment, so asking twice is one refund.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refunds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub payment_id: Uuid,
    pub order_id: Option<Uuid>,
    /// Set instead of `order_id` when the refund is of a print order.
    pub print_order_id: Option<Uuid>,
    #[sea_orm(unique)]
    pub out_refund_no: String,
    pub refund_id: Option<String>,
    pub amount_fen: i64,
    pub reason: String,
    /// PROCESSING | SUCCESS | FAILED
    pub state: RefundState,
    pub requested_by: Option<Uuid>,
    pub failure_reason: Option<String>,
    pub notification: Option<Json>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
