use campus_photo_domain::codes::Role;
use sea_orm::entity::prelude::*;

/// One message of a support ticket, from the student or from staff.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "support_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub author_account_id: Option<Uuid>,
    /// STUDENT | REVIEWER | PRODUCER | SCHOOL_ADMIN | ADMIN
    pub author_role: Role,
    pub text: String,
    /// An optional picture the student attached (a screenshot, the photo in question).
    pub photo_key: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
