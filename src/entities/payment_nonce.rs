use sea_orm::entity::prelude::*;

/// A WeChat Pay notification nonce already accepted (replay protection without Redis).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_nonces")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub nonce: String,
    pub seen_at: DateTimeUtc,
    /// False while its notification is being applied; true once it was.
    pub done: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
