use campus_photo_domain::print_order::PrintOrderStatus;
use sea_orm::entity::prelude::*;

/// 加洗照片: paper prints of a completed photo order, paid and shipped on their own.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "print_orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The photo order whose standard photo is printed.
    pub order_id: Uuid,
    /// NULL after the student deleted their account.
    pub account_id: Option<Uuid>,
    pub school_id: Uuid,
    /// `<order number>-P<n>`, WeChat Pay's out_trade_no.
    #[sea_orm(unique)]
    pub number: String,
    pub status: PrintOrderStatus,
    pub layout_code: String,
    pub layout_name: String,
    pub unit_price_fen: i64,
    pub quantity: i32,
    pub amount_fen: i64,
    /// The project sends prints to the school: no address.
    pub to_school: bool,
    /// The address as JSON sealed with the field key; NULL for prints to the school and after
    /// the account was deleted.
    pub address_sealed: Option<String>,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub shipped_at: Option<DateTimeUtc>,
    pub shipped_by: Option<Uuid>,
    pub shipping_uploaded_at: Option<DateTimeUtc>,
    pub shipping_upload_error: Option<String>,
    pub refund_pending: bool,
    pub paid_at: Option<DateTimeUtc>,
    pub completed_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The row with this id, or NOT_FOUND (找不到该加洗订单).
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> crate::error::AppResult<Model> {
    super::find_or::<Entity>(db, id, "找不到该加洗订单").await
}
