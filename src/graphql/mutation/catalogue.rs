//! Admin: schools, projects and staff accounts.
use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::{
    error::{ApiResult, UserError, into_payload},
    graphql::{
        context::ContextExt,
        guards::{ADMIN, RoleGuard},
        types::{
            account::Account,
            enums::{BackgroundColorGql, ProjectModeGql, RoleGql},
            project::Project,
            school::School,
        },
    },
    services::{accounts, catalogue},
};

#[derive(InputObject)]
pub struct CreateSchoolInput {
    pub code: String,
    pub name: String,
}

#[derive(SimpleObject)]
pub struct SchoolPayload {
    pub school: Option<School>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct PrintLayoutInput {
    pub code: String,
    pub name: String,
    pub price_fen: i32,
}

#[derive(InputObject)]
pub struct CreateProjectInput {
    pub school_code: String,
    pub name: String,
    pub feature_code: String,
    pub mode: ProjectModeGql,
    pub price_fen: i32,
    pub order_number_prefix: String,
    pub allow_album_upload: Option<bool>,
    pub max_auto_checks: Option<i32>,
    pub background: Option<BackgroundColorGql>,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub print_layouts: Option<Vec<PrintLayoutInput>>,
    pub prints_to_school: Option<bool>,
    /// 先付款后拍照 (default false): paid orders wait in PAID until the photo is submitted.
    pub pay_first: Option<bool>,
}

#[derive(SimpleObject)]
pub struct ProjectPayload {
    pub project: Option<Project>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct CreateStaffAccountInput {
    pub username: String,
    pub password: String,
    pub role: RoleGql,
    pub school_code: Option<String>,
}

#[derive(SimpleObject)]
pub struct AccountPayload {
    pub account: Option<Account>,
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct CatalogueMutation;

#[Object]
impl CatalogueMutation {
    /// Admin: adds a school.
    #[graphql(guard = "RoleGuard::new(ADMIN)")]
    async fn create_school(
        &self,
        ctx: &Context<'_>,
        input: CreateSchoolInput,
    ) -> ApiResult<SchoolPayload> {
        let (school, user_errors) =
            into_payload(catalogue::create_school(ctx.state(), &input.code, &input.name).await)?;
        Ok(SchoolPayload {
            school: school.map(School),
            user_errors,
        })
    }

    /// Admin: adds a collection project with its feature code (特征码).
    #[graphql(guard = "RoleGuard::new(ADMIN)")]
    async fn create_project(
        &self,
        ctx: &Context<'_>,
        input: CreateProjectInput,
    ) -> ApiResult<ProjectPayload> {
        let new = catalogue::NewProject {
            school_code: input.school_code,
            name: input.name,
            feature_code: input.feature_code,
            mode: input.mode.into(),
            price_fen: input.price_fen.into(),
            order_number_prefix: input.order_number_prefix,
            allow_album_upload: input.allow_album_upload,
            max_auto_checks: input.max_auto_checks,
            background: input.background.map(Into::into),
            opens_at: input.opens_at,
            closes_at: input.closes_at,
            print_layouts: input
                .print_layouts
                .unwrap_or_default()
                .into_iter()
                .map(|l| catalogue::PrintLayout {
                    code: l.code,
                    name: l.name,
                    price_fen: l.price_fen.into(),
                })
                .collect(),
            prints_to_school: input.prints_to_school,
            pay_first: input.pay_first,
        };
        let (project, user_errors) =
            into_payload(catalogue::create_project_by(ctx.state(), ctx.viewer()?, new).await)?;
        Ok(ProjectPayload {
            project: project.map(Project),
            user_errors,
        })
    }

    /// Admin: adds a reviewer, producer, school admin or admin.
    #[graphql(guard = "RoleGuard::new(ADMIN)")]
    async fn create_staff_account(
        &self,
        ctx: &Context<'_>,
        input: CreateStaffAccountInput,
    ) -> ApiResult<AccountPayload> {
        let result = crate::services::staff::create(
            ctx.state(),
            ctx.viewer()?,
            accounts::NewStaff {
                username: &input.username,
                password: &input.password,
                role: input.role.into(),
                school_code: input.school_code.as_deref(),
            },
        )
        .await;
        let (account, user_errors) = into_payload(result)?;
        Ok(AccountPayload {
            account: account.map(Account),
            user_errors,
        })
    }
}
