use crate::error::ApiResult;
use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::{
    enums::{BackgroundColorGql, ProjectModeGql},
    money::Money,
    school::School,
};
use crate::{
    entities::project,
    error::AppError,
    graphql::{
        context::ContextExt,
        loaders::{SchoolId, load},
    },
    ids::NodeType,
    services::catalogue,
};

/// 采集项目
pub struct Project(pub project::Model);

/// 加洗照片: a paper-print layout and its price.
#[derive(SimpleObject)]
pub struct PrintLayout {
    pub code: String,
    pub name: String,
    pub price: Money,
}

#[Object]
impl Project {
    pub async fn id(&self, ctx: &Context<'_>) -> ID {
        ID(ctx.state().ids.encode(NodeType::Project, self.0.id))
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    /// 特征码: visible to staff only; null for students.
    async fn feature_code(&self, ctx: &Context<'_>) -> Option<&str> {
        let staff = ctx.viewer().is_ok_and(|v| v.is_staff());
        staff.then_some(self.0.feature_code.as_str())
    }

    async fn school(&self, ctx: &Context<'_>) -> ApiResult<School> {
        load(ctx, SchoolId(self.0.school_id))
            .await?
            .map(School)
            .ok_or_else(|| AppError::internal("project without school").into())
    }

    async fn mode(&self) -> ProjectModeGql {
        self.0.mode.into()
    }

    /// 集采 / 散拍 / 新生
    async fn mode_label(&self) -> &'static str {
        self.0.mode.label()
    }

    async fn price(&self) -> Money {
        Money::cny(self.0.price_fen)
    }

    async fn opens_at(&self) -> Option<DateTime<Utc>> {
        self.0.opens_at
    }

    async fn closes_at(&self) -> Option<DateTime<Utc>> {
        self.0.closes_at
    }

    /// When an operator closed the project (`closeProject`); null while it is not closed.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }

    /// Whether a photo may be picked from the album instead of taken with the camera.
    async fn allow_album_upload(&self) -> bool {
        self.0.allow_album_upload
    }

    /// How many automatic preliminary checks one enrollment gets.
    async fn max_auto_checks(&self) -> i32 {
        self.0.max_auto_checks
    }

    /// Background colour of the standard photo.
    async fn background(&self) -> BackgroundColorGql {
        self.0.background.into()
    }

    async fn print_layouts(&self) -> Vec<PrintLayout> {
        catalogue::print_layouts(&self.0)
            .into_iter()
            .map(|l| PrintLayout {
                code: l.code,
                name: l.name,
                price: Money::cny(l.price_fen),
            })
            .collect()
    }

    /// 先付款后拍照: the student pays first and the paid order waits in PAID (已支付) until the
    /// photo is submitted (`submitPhotoForReview`). False (the default): a paid order goes to
    /// review at once.
    async fn pay_first(&self) -> bool {
        self.0.pay_first
    }

    /// Prints of CENTRAL projects go to the school.
    async fn prints_to_school(&self) -> bool {
        self.0.prints_to_school
    }

    /// 4–6-digit prefix of the project's order numbers (several projects may share one); staff
    /// only.
    async fn order_number_prefix(&self, ctx: &Context<'_>) -> Option<&str> {
        let staff = ctx.viewer().is_ok_and(|v| v.is_staff());
        staff.then_some(self.0.order_number_prefix.as_str())
    }
}
