use campus_photo_domain::records::{PhotoSource, Verdict};
use sea_orm::entity::prelude::*;

/// One take of an enrollment's photo. Immutable: a new take is a new row.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "photos")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub enrollment_id: Uuid,
    /// CAMERA | ALBUM
    pub source: PhotoSource,
    /// Content-addressed key of the original in object storage.
    pub object_key: String,
    pub sha256: String,
    pub width: i32,
    pub height: i32,
    pub byte_size: i64,
    pub content_type: String,
    /// PASSED | FAILED
    pub verdict: Verdict,
    /// The preliminary check: issues and measures.
    pub check_report: Json,
    /// Face geometry found by the check; the render uses it later.
    pub face_geometry: Option<Json>,
    /// The standard-photo preview, when a face was found.
    pub preview_key: Option<String>,
    pub created_at: DateTimeUtc,
    /// An operator let this take go to a reviewer although the automatic check refused it
    /// (`allowManualReview`): the student may submit it with `manualReview`.
    pub manual_review_granted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The row with this id, or NOT_FOUND (找不到该照片).
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> crate::error::AppResult<Model> {
    super::find_or::<Entity>(db, id, "找不到该照片").await
}
