use campus_photo_domain::records::EnrollmentSource;
use sea_orm::entity::prelude::*;

/// 采集信息: a student's registration in one collection project.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "enrollments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Option<Uuid>,
    pub project_id: Uuid,
    pub school_id: Uuid,
    /// COLLECTION_CODE | FRESHMAN
    pub source: EnrollmentSource,
    /// Unique per project: the registry student id, or `F:` + the ID number's blind index.
    pub identity_key: String,
    pub registry_student_id: Option<String>,
    pub name_masked: String,
    /// Freshmen type their full name; it is kept encrypted.
    pub name_encrypted: Option<String>,
    pub id_number_masked: String,
    pub id_number_encrypted: Option<String>,
    pub id_number_index: Option<String>,
    pub college: Option<String>,
    pub major: Option<String>,
    pub student_number: Option<String>,
    pub admission_number: Option<String>,
    pub education_level: Option<String>,
    pub graduation_year: Option<i32>,
    pub code_expires_at: Option<DateTimeUtc>,
    pub capture_guide_acknowledged_at: Option<DateTimeUtc>,
    /// The capture-guide version the student acknowledged (我已阅读).
    pub capture_guide_version: Option<String>,
    pub auto_checks_used: i32,
    /// HMAC blind index of the normalised full name (freshmen, who typed it), for search.
    pub name_index: Option<String>,
    /// Extra automatic checks an operator granted beyond the project's allowance.
    pub auto_checks_granted: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::project::Entity",
        from = "Column::ProjectId",
        to = "super::project::Column::Id"
    )]
    Project,
    /// Joined by order pages, which show the school's name beside each enrollment.
    #[sea_orm(
        belongs_to = "super::school::Entity",
        from = "Column::SchoolId",
        to = "super::school::Column::Id"
    )]
    School,
}

impl Related<super::project::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Project.def()
    }
}

impl Related<super::school::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::School.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

/// The row with this id, or NOT_FOUND (找不到该采集信息).
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> crate::error::AppResult<Model> {
    super::find_or::<Entity>(db, id, "找不到该采集信息").await
}
