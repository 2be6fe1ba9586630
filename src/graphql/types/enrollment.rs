use async_graphql::{Context, Enum, ID, Object, connection::Connection};
use chrono::{DateTime, Utc};
use std::sync::Arc;

use super::{photo::Photo, project::Project, school::School};
use crate::{
    entities::{enrollment, project, school},
    error::{ApiResult, AppError},
    graphql::{
        connection::{PageArgs, TotalCount, into_connection},
        context::ContextExt,
        loaders::{ProjectId, SchoolId, load},
    },
    ids::NodeType,
    services::photos,
};

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "campus_photo_domain::records::EnrollmentSource")]
pub enum EnrollmentSource {
    /// From the registry's collection code (图像采集码).
    CollectionCode,
    /// 新生照片上传: typed by a freshman without a code.
    Freshman,
}

/// 采集信息: a student's registration in one collection project. The row is shared (a page of
/// orders hands the same enrollment to each of its orders without copying it).
#[derive(Clone)]
pub struct Enrollment(pub Arc<enrollment::Model>, pub Joined);

/// The school and project rows loaded with the enrollment in the same statement, when a page
/// of orders asked for them; `None` means "not loaded", and the field goes through its
/// DataLoader.
#[derive(Clone, Default)]
pub struct Joined {
    pub school: Option<Arc<school::Model>>,
    pub project: Option<Arc<project::Model>>,
}

impl Enrollment {
    pub fn new(row: enrollment::Model) -> Self {
        Self(Arc::new(row), Joined::default())
    }

    fn is_owner(&self, ctx: &Context<'_>) -> bool {
        ctx.viewer()
            .is_ok_and(|v| Some(v.account_id) == self.0.account_id)
    }
}

#[Object]
impl Enrollment {
    pub async fn id(&self, ctx: &Context<'_>) -> ID {
        ID(ctx.state().ids.encode(NodeType::Enrollment, self.0.id))
    }

    async fn source(&self) -> EnrollmentSource {
        self.0.source.into()
    }

    async fn project(&self, ctx: &Context<'_>) -> ApiResult<Project> {
        if let Some(project) = &self.1.project {
            return Ok(Project(project.as_ref().clone()));
        }
        load(ctx, ProjectId(self.0.project_id))
            .await?
            .map(Project)
            .ok_or_else(|| AppError::internal("enrollment without project").into())
    }

    async fn school(&self, ctx: &Context<'_>) -> ApiResult<School> {
        if let Some(school) = &self.1.school {
            return Ok(School(school.as_ref().clone()));
        }
        load(ctx, SchoolId(self.0.school_id))
            .await?
            .map(School)
            .ok_or_else(|| AppError::internal("enrollment without school").into())
    }

    /// The student's name: in full for the owner where it is known, masked (张*三) otherwise.
    async fn name(&self, ctx: &Context<'_>) -> String {
        let full = self
            .0
            .name_encrypted
            .as_deref()
            .filter(|_| self.is_owner(ctx))
            .and_then(|c| ctx.state().crypto.decrypt(c).ok());
        full.unwrap_or_else(|| self.0.name_masked.clone())
    }

    /// Masked (110101********123X) except for the owner of a freshman enrollment, who typed it.
    async fn id_number(&self, ctx: &Context<'_>) -> String {
        let full = self
            .0
            .id_number_encrypted
            .as_deref()
            .filter(|_| self.is_owner(ctx))
            .and_then(|c| ctx.state().crypto.decrypt(c).ok());
        full.unwrap_or_else(|| self.0.id_number_masked.clone())
    }

    /// The registry's student id (from the collection code); null for freshmen.
    async fn registry_student_id(&self) -> Option<&str> {
        self.0.registry_student_id.as_deref()
    }

    async fn college(&self) -> Option<&str> {
        self.0.college.as_deref()
    }

    async fn major(&self) -> Option<&str> {
        self.0.major.as_deref()
    }

    async fn student_number(&self) -> Option<&str> {
        self.0.student_number.as_deref()
    }

    /// 录取通知书编号 / 考生号, for freshmen.
    async fn admission_number(&self) -> Option<&str> {
        self.0.admission_number.as_deref()
    }

    /// 本科 / 专科 / 硕士 / 博士
    async fn education_level(&self) -> Option<&str> {
        self.0.education_level.as_deref()
    }

    async fn graduation_year(&self) -> Option<i32> {
        self.0.graduation_year
    }

    /// When the student confirmed reading the capture guide (我已阅读) — the current version, or an
    /// earlier one (see `captureGuideRead`).
    async fn capture_guide_acknowledged_at(&self) -> Option<DateTime<Utc>> {
        self.0.capture_guide_acknowledged_at
    }

    /// Whether the student acknowledged the current version of the capture guide; until then
    /// `uploadPhoto` is refused with CAPTURE_GUIDE_NOT_READ.
    async fn capture_guide_read(&self) -> bool {
        crate::services::enrollment::guide_read(&self.0)
    }

    /// 拍摄要求 for this enrollment's project (its backdrop colour), to read before 我已阅读.
    async fn capture_guide(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<super::service_info::CaptureGuide> {
        let project = load(ctx, ProjectId(self.0.project_id))
            .await?
            .ok_or_else(|| AppError::internal("enrollment without project"))?;
        Ok(super::service_info::CaptureGuide::for_background(
            project.background,
        ))
    }

    /// How many preliminary checks are left.
    async fn auto_checks_remaining(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        let project = load(ctx, ProjectId(self.0.project_id))
            .await?
            .ok_or_else(|| AppError::internal("enrollment without project"))?;
        Ok((project.max_auto_checks + self.0.auto_checks_granted - self.0.auto_checks_used).max(0))
    }

    /// The takes of this enrollment, newest first; rejected ones stay in the history.
    #[graphql(complexity = "crate::graphql::connection::page_size(first) * child_complexity + 1")]
    async fn photos(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, Photo, TotalCount>> {
        let state = ctx.state();
        let args = PageArgs {
            first,
            after,
            last: None,
            before: None,
        };
        let page = photos::page_for(state, self.0.id, &args).await?;
        Ok(into_connection(
            page,
            &state.ids,
            NodeType::Photo,
            |m| m.id,
            Photo::new,
        ))
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// The orders of this enrollment the viewer may read, newest first.
    async fn orders(&self, ctx: &Context<'_>) -> ApiResult<Vec<super::order::Order>> {
        let viewer = ctx.viewer()?;
        let rows = crate::services::orders::of_enrollment(ctx.state(), viewer, self.0.id).await?;
        Ok(rows.into_iter().map(super::order::Order::new).collect())
    }

    /// The phone number of the account holding the enrollment, masked (138****8000) for
    /// everyone but its owner; null once nobody holds it.
    async fn contact_phone(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        let Some(account_id) = self.0.account_id else {
            return Ok(None);
        };
        let Some(account) = load(ctx, crate::graphql::loaders::AccountId(account_id)).await? else {
            return Ok(None);
        };
        Ok(crate::services::accounts::phone_for(
            ctx.state(),
            &account,
            self.is_owner(ctx),
        ))
    }
}
