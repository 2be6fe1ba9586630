use sea_orm::entity::prelude::*;

/// 学校: a university, known by its 5-digit registry code (院校代码).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "schools")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The row with this id, or NOT_FOUND (找不到该学校).
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> crate::error::AppResult<Model> {
    super::find_or::<Entity>(db, id, "找不到该学校").await
}
