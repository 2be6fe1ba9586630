use campus_photo_domain::records::PaymentState;
use sea_orm::entity::prelude::*;

/// A WeChat Pay transaction for an order. `out_trade_no` is the order number.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub order_id: Option<Uuid>,
    /// Set instead of `order_id` when the payment is for a print order.
    pub print_order_id: Option<Uuid>,
    /// WECHATPAY | SANDBOX
    pub provider: String,
    #[sea_orm(unique)]
    pub out_trade_no: String,
    pub prepay_id: Option<String>,
    pub prepay_created_at: Option<DateTimeUtc>,
    /// WeChat's transaction id; unique, so one transaction is applied once.
    #[sea_orm(unique)]
    pub transaction_id: Option<String>,
    pub amount_fen: i64,
    pub payer_openid: Option<String>,
    /// CREATED | SUCCESS | CLOSED
    pub state: PaymentState,
    /// The decrypted notification (or queried transaction), kept for audit.
    pub notification: Option<Json>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub paid_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
