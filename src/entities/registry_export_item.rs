use sea_orm::entity::prelude::*;

/// An order carried by an export; the key makes each order go out once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "registry_export_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_id: Uuid,
    pub export_id: Uuid,
    /// The registry's answer: null until imported, then `ACCEPTED` or `REJECTED` (with the
    /// registry's words; the re-taken order moves to the next export).
    pub outcome: Option<String>,
    pub outcome_message: Option<String>,
    pub settled_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
