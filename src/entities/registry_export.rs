use sea_orm::entity::prelude::*;

/// A package of a school's completed photos for the registry (学信网).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "registry_exports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub school_id: Uuid,
    pub created_by: Uuid,
    pub count: i32,
    pub object_key: String,
    pub created_at: DateTimeUtc,
    /// `REGISTRY` (报至学信网; marks its orders exported) or `SCHOOL_DOWNLOAD` (a school admin's
    /// copy of its own photos; marks nothing).
    pub purpose: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
