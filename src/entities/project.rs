use campus_photo_domain::codes::{BackgroundColor, ProjectMode};
use sea_orm::entity::prelude::*;

/// 采集项目: a collection project of one school, found by its feature code (特征码).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "projects")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub school_id: Uuid,
    pub name: String,
    /// Upper-case; matched case-insensitively by normalising the input.
    #[sea_orm(unique)]
    pub feature_code: String,
    /// CENTRAL | INDIVIDUAL | FRESHMAN
    pub mode: ProjectMode,
    pub price_fen: i64,
    /// 4–6 digits; several projects may share one.
    pub order_number_prefix: String,
    pub allow_album_upload: bool,
    pub max_auto_checks: i32,
    /// BLUE | WHITE | LIGHT_GREY
    pub background: BackgroundColor,
    pub opens_at: Option<DateTimeUtc>,
    pub closes_at: Option<DateTimeUtc>,
    /// `[{"code","name","priceFen"}]`
    pub print_layouts: Json,
    pub prints_to_school: bool,
    /// 先付款后拍照: a paid order waits in PAID until the photo is submitted.
    pub pay_first: bool,
    pub created_at: DateTimeUtc,
    /// Closed by an operator (`closeProject`): no enrollment or order until reopened.
    pub closed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The row with this id, or NOT_FOUND (找不到该采集项目).
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> crate::error::AppResult<Model> {
    super::find_or::<Entity>(db, id, "找不到该采集项目").await
}
