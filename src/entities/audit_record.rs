use sea_orm::entity::prelude::*;

/// 操作记录: what an operator changed on a project, a staff account or an enrollment — who,
/// when, and the record before and after, as JSON. Changes to orders are on their own trail
/// (`order_events`) instead.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub actor_account_id: Uuid,
    /// e.g. PROJECT_UPDATED, STAFF_DISABLED
    pub action: String,
    /// PROJECT | ACCOUNT | ENROLLMENT
    pub target_type: String,
    pub target_id: Uuid,
    /// The school the target belongs to, if any.
    pub school_id: Option<Uuid>,
    pub before: Option<Json>,
    pub after: Option<Json>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
