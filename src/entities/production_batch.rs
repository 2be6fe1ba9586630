use campus_photo_domain::records::BatchState;
use sea_orm::entity::prelude::*;

/// A production run: renders the standard photos of its orders.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "production_batches")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub school_id: Option<Uuid>,
    pub created_by: Uuid,
    pub total: i32,
    pub done: i32,
    pub failed: i32,
    /// RUNNING | FINISHED
    pub state: BatchState,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The row with this id, or NOT_FOUND (找不到该制作批次).
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> crate::error::AppResult<Model> {
    super::find_or::<Entity>(db, id, "找不到该制作批次").await
}
