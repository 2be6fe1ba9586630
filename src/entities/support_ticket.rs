use sea_orm::entity::prelude::*;

/// 在线客服: a student's question, optionally about one of their orders.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "support_tickets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// None once the student deleted their account.
    pub account_id: Option<Uuid>,
    pub order_id: Option<Uuid>,
    /// The order's school (staff scope); None for tickets about no order (admins answer).
    pub school_id: Option<Uuid>,
    pub subject: String,
    pub open: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The row with this id, or NOT_FOUND (找不到该工单).
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> crate::error::AppResult<Model> {
    super::find_or::<Entity>(db, id, "找不到该工单").await
}
