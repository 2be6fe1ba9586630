use campus_photo_domain::records::MessageState;
use sea_orm::entity::prelude::*;

/// A WeChat subscription message for a student: what was (or would be) sent, and how it went.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbound_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub event_id: Uuid,
    pub order_id: Uuid,
    pub account_id: Uuid,
    /// WECHAT | SANDBOX
    pub provider: String,
    pub template_id: String,
    pub page: String,
    pub data: Json,
    /// PENDING | SENT | FAILED
    pub state: MessageState,
    pub attempts: i32,
    /// WeChat's errcode when it refused, e.g. 43101.
    pub error_code: Option<i64>,
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
