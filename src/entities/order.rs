use campus_photo_domain::{codes::ProjectMode, order::OrderStatus};
use sea_orm::entity::prelude::*;

/// 订单: one student's paid request for a standard photo. Every status change is a
/// compare-and-set on `(id, version, status)` with an `order_events` row in the same transaction.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `<prefix>-<yyyyMMddHHmmssSSS>`; also the WeChat Pay out_trade_no.
    #[sea_orm(unique)]
    pub number: String,
    /// NULL once the account is deleted (orders are kept for accounting).
    pub account_id: Option<Uuid>,
    pub enrollment_id: Uuid,
    pub project_id: Uuid,
    pub school_id: Uuid,
    /// The enrollment's identity key (registry student id, or the freshman's blind index).
    pub identity_key: String,
    /// `identity_key` while open, NULL once closed or refunded (unique: one open order each).
    pub open_identity_key: Option<String>,
    /// CENTRAL | INDIVIDUAL | FRESHMAN
    pub kind: ProjectMode,
    pub status: OrderStatus,
    pub amount_fen: i64,
    pub photo_id: Uuid,
    pub notification_consent: bool,
    /// Submitted with a photo that failed the automatic check on judgements only, for a
    /// reviewer to decide (提交人工审核).
    pub manual_review: bool,
    pub rejection_code: Option<String>,
    pub rejection_message: Option<String>,
    pub rejected_by: Option<Uuid>,
    pub rejected_at: Option<DateTimeUtc>,
    /// The reviewer's optional note beside the catalogue reason.
    pub rejection_note: Option<String>,
    /// A refund was requested and its outcome is not known yet.
    pub refund_pending: bool,
    pub version: i32,
    pub deliverable_key: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub paid_at: Option<DateTimeUtc>,
    pub completed_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub refunded_at: Option<DateTimeUtc>,
    /// When WeChat took the virtual shipment of the completed order (虚拟发货).
    pub shipping_uploaded_at: Option<DateTimeUtc>,
    /// Why WeChat has not taken it yet; the sweeper keeps sending.
    pub shipping_upload_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// Joined by order pages, which show each order's enrollment and photo beside it.
    #[sea_orm(
        belongs_to = "super::enrollment::Entity",
        from = "Column::EnrollmentId",
        to = "super::enrollment::Column::Id"
    )]
    Enrollment,
    #[sea_orm(
        belongs_to = "super::photo::Entity",
        from = "Column::PhotoId",
        to = "super::photo::Column::Id"
    )]
    Photo,
}

impl ActiveModelBehavior for ActiveModel {}

/// The row with this id, or NOT_FOUND (找不到该订单).
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> crate::error::AppResult<Model> {
    super::find_or::<Entity>(db, id, "找不到该订单").await
}
