use campus_photo_domain::codes::Role;
use sea_orm::entity::prelude::*;

/// A student (WeChat openid + verified phone) or a staff member (username + argon2id hash).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// STUDENT | REVIEWER | PRODUCER | SCHOOL_ADMIN | ADMIN
    pub role: Role,
    #[sea_orm(unique)]
    pub wechat_openid: Option<String>,
    /// AES-256-GCM; the plain number is never stored.
    pub phone_encrypted: Option<String>,
    pub phone_masked: Option<String>,
    pub agreement_version: Option<String>,
    pub agreement_accepted_at: Option<DateTimeUtc>,
    /// The privacy notice (个人信息保护) accepted, apart from the agreement.
    pub privacy_version: Option<String>,
    pub privacy_accepted_at: Option<DateTimeUtc>,
    #[sea_orm(unique)]
    pub username: Option<String>,
    pub password_hash: Option<String>,
    pub school_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Set when the student deleted the account: its personal data is gone, its sessions revoked.
    pub deleted_at: Option<DateTimeUtc>,
    /// HMAC blind index of the phone number (`services::search`), to find a student by it.
    pub phone_index: Option<String>,
    /// Set while an operator has disabled the staff account: it cannot sign in or act.
    pub disabled_at: Option<DateTimeUtc>,
    /// Set when an operator reset the password: the account must choose a new one first.
    pub must_change_password: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The row with this id, or NOT_FOUND (找不到该账号).
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> crate::error::AppResult<Model> {
    super::find_or::<Entity>(db, id, "找不到该账号").await
}
