//! The operators' console: projects and staff accounts over their whole life. School admins act
//! on their own school, admins on every school; each change is audited (`auditRecords`).
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::catalogue::{AccountPayload, ProjectPayload};
use crate::{
    error::{ApiResult, UserError, into_payload},
    graphql::{
        context::ContextExt,
        guards::{OPERATORS, RoleGuard, STAFF},
        types::{
            account::Account,
            enums::{BackgroundColorGql, RoleGql},
            project::Project,
        },
    },
    ids::NodeType,
    services::{catalogue, staff},
};

#[derive(InputObject)]
pub struct UpdateProjectInput {
    pub project_id: ID,
    pub name: Option<String>,
    /// The price of orders created from now on (existing orders keep theirs).
    pub price_fen: Option<i32>,
    pub feature_code: Option<String>,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub allow_album_upload: Option<bool>,
    pub max_auto_checks: Option<i32>,
    pub background: Option<BackgroundColorGql>,
}

#[derive(InputObject)]
pub struct ProjectIdInput {
    pub project_id: ID,
}

#[derive(InputObject)]
pub struct ExtendProjectInput {
    pub project_id: ID,
    /// The new end of the collection window: later than the current one and than now.
    pub closes_at: DateTime<Utc>,
}

#[derive(InputObject)]
pub struct StaffAccountIdInput {
    pub account_id: ID,
}

#[derive(InputObject)]
pub struct ResetStaffPasswordInput {
    pub account_id: ID,
    /// A temporary password (at least 10 characters) to hand to the colleague, who must choose
    /// a new one at the next sign-in.
    pub temporary_password: String,
}

#[derive(InputObject)]
pub struct UpdateStaffAccountInput {
    pub account_id: ID,
    pub role: Option<RoleGql>,
    /// The school the account is bound to; `null` unbinds it, leaving it out keeps it (admins
    /// only).
    pub school_code: MaybeUndefined<String>,
}

#[derive(InputObject)]
pub struct ChangePasswordInput {
    pub current_password: String,
    pub new_password: String,
}

#[derive(SimpleObject)]
pub struct ChangePasswordPayload {
    pub account: Option<Account>,
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct ConsoleMutation;

fn project_payload(
    result: crate::error::AppResult<crate::entities::project::Model>,
) -> ApiResult<ProjectPayload> {
    let (project, user_errors) = into_payload(result)?;
    Ok(ProjectPayload {
        project: project.map(Project),
        user_errors,
    })
}

fn account_payload(
    result: crate::error::AppResult<crate::entities::account::Model>,
) -> ApiResult<AccountPayload> {
    let (account, user_errors) = into_payload(result)?;
    Ok(AccountPayload {
        account: account.map(Account),
        user_errors,
    })
}

#[Object]
impl ConsoleMutation {
    /// Operators: changes a project (name, price for orders not yet created, feature code,
    /// window, album uploads, automatic-check allowance, background colour). INVALID_PRICE,
    /// INVALID_WINDOW, FEATURE_CODE_TAKEN, INVALID_FEATURE_CODE, INVALID_MAX_AUTO_CHECKS.
    #[graphql(guard = "RoleGuard::new(OPERATORS)")]
    async fn update_project(
        &self,
        ctx: &Context<'_>,
        input: UpdateProjectInput,
    ) -> ApiResult<ProjectPayload> {
        let id = ctx.decode_id(NodeType::Project, &input.project_id)?;
        let changes = catalogue::ProjectChanges {
            name: input.name,
            price_fen: input.price_fen.map(Into::into),
            feature_code: input.feature_code,
            opens_at: input.opens_at,
            closes_at: input.closes_at,
            allow_album_upload: input.allow_album_upload,
            max_auto_checks: input.max_auto_checks,
            background: input.background.map(Into::into),
        };
        project_payload(catalogue::update_project(ctx.state(), ctx.viewer()?, id, changes).await)
    }

    /// Operators: closes a project at once — students then get PROJECT_CLOSED — until reopened.
    #[graphql(guard = "RoleGuard::new(OPERATORS)")]
    async fn close_project(
        &self,
        ctx: &Context<'_>,
        input: ProjectIdInput,
    ) -> ApiResult<ProjectPayload> {
        let id = ctx.decode_id(NodeType::Project, &input.project_id)?;
        project_payload(catalogue::close_project(ctx.state(), ctx.viewer()?, id).await)
    }

    /// Operators: reopens a closed project (its collection window still applies).
    #[graphql(guard = "RoleGuard::new(OPERATORS)")]
    async fn reopen_project(
        &self,
        ctx: &Context<'_>,
        input: ProjectIdInput,
    ) -> ApiResult<ProjectPayload> {
        let id = ctx.decode_id(NodeType::Project, &input.project_id)?;
        project_payload(catalogue::reopen_project(ctx.state(), ctx.viewer()?, id).await)
    }

    /// Operators: 延期 — moves the end of the collection window later.
    #[graphql(guard = "RoleGuard::new(OPERATORS)")]
    async fn extend_project(
        &self,
        ctx: &Context<'_>,
        input: ExtendProjectInput,
    ) -> ApiResult<ProjectPayload> {
        let id = ctx.decode_id(NodeType::Project, &input.project_id)?;
        project_payload(
            catalogue::extend_project(ctx.state(), ctx.viewer()?, id, input.closes_at).await,
        )
    }

    /// Operators: disables a staff account; its sessions and WebSockets end at once and it can
    /// no longer sign in (ACCOUNT_DISABLED).
    #[graphql(guard = "RoleGuard::new(OPERATORS)")]
    async fn disable_staff_account(
        &self,
        ctx: &Context<'_>,
        input: StaffAccountIdInput,
    ) -> ApiResult<AccountPayload> {
        let id = ctx.decode_id(NodeType::Account, &input.account_id)?;
        account_payload(staff::disable(ctx.state(), ctx.viewer()?, id).await)
    }

    /// Operators: lets a disabled staff account sign in again.
    #[graphql(guard = "RoleGuard::new(OPERATORS)")]
    async fn enable_staff_account(
        &self,
        ctx: &Context<'_>,
        input: StaffAccountIdInput,
    ) -> ApiResult<AccountPayload> {
        let id = ctx.decode_id(NodeType::Account, &input.account_id)?;
        account_payload(staff::enable(ctx.state(), ctx.viewer()?, id).await)
    }

    /// Operators: gives a staff account a temporary password and ends its sessions; at the next
    /// sign-in it must choose a new one (`changePassword`) before anything else.
    #[graphql(guard = "RoleGuard::new(OPERATORS)")]
    async fn reset_staff_password(
        &self,
        ctx: &Context<'_>,
        input: ResetStaffPasswordInput,
    ) -> ApiResult<AccountPayload> {
        let id = ctx.decode_id(NodeType::Account, &input.account_id)?;
        account_payload(
            staff::reset_password(ctx.state(), ctx.viewer()?, id, &input.temporary_password).await,
        )
    }

    /// Operators: changes a staff account's role or school (the school and the ADMIN role:
    /// admins only). The account's sessions end, so the new scope applies at once.
    #[graphql(guard = "RoleGuard::new(OPERATORS)")]
    async fn update_staff_account(
        &self,
        ctx: &Context<'_>,
        input: UpdateStaffAccountInput,
    ) -> ApiResult<AccountPayload> {
        let id = ctx.decode_id(NodeType::Account, &input.account_id)?;
        let school_code = match &input.school_code {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(code) => Some(Some(code.as_str())),
        };
        let changes = staff::StaffChanges {
            role: input.role.map(Into::into),
            school_code,
        };
        account_payload(staff::update(ctx.state(), ctx.viewer()?, id, changes).await)
    }

    /// Staff: sets a new password — what an account whose password was reset must do first.
    #[graphql(guard = "RoleGuard::before_password_change(STAFF)")]
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> ApiResult<ChangePasswordPayload> {
        let result = staff::change_own_password(
            ctx.state(),
            ctx.signed_in()?,
            &input.current_password,
            &input.new_password,
        )
        .await;
        let (account, user_errors) = into_payload(result)?;
        Ok(ChangePasswordPayload {
            account: account.map(Account),
            user_errors,
        })
    }
}

#[derive(InputObject)]
pub struct SchoolProgressInput {
    pub school_code: String,
    /// One project of the school; all of them when left out.
    pub project_id: Option<ID>,
}

#[derive(InputObject)]
pub struct ExportSchoolProgressInput {
    pub school_code: String,
    pub project_id: Option<ID>,
    pub stage: crate::graphql::types::console::ProgressStage,
}

#[derive(SimpleObject, Default)]
pub struct ExportSchoolProgressPayload {
    /// Signed, expiring download link of the CSV (UTF-8 with BOM, opens in Excel).
    pub url: Option<String>,
    /// Students in the file.
    pub rows: Option<i32>,
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject, Default)]
pub struct RemindUnfinishedStudentsPayload {
    /// Students a message went to.
    pub sent: i64,
    /// Students reminded already today (one reminder per student per day).
    pub already_reminded: i64,
    /// Students not finished who did not consent to messages (or have no open order).
    pub without_consent: i64,
    pub user_errors: Vec<UserError>,
}

async fn progress_of(
    ctx: &Context<'_>,
    school_code: &str,
    project_id: Option<&ID>,
) -> crate::error::AppResult<(
    crate::entities::school::Model,
    crate::services::progress::Of,
)> {
    let project = match project_id {
        Some(id) => Some(
            ctx.state()
                .ids
                .decode_as(NodeType::Project, id)
                .ok_or(crate::error::AppError::NotFound("找不到该采集项目"))?,
        ),
        None => None,
    };
    crate::services::progress::resolve(ctx.state(), ctx.viewer()?, school_code, project).await
}

#[derive(Default)]
pub struct ProgressMutation;

#[Object]
impl ProgressMutation {
    /// Operators: the students of one stage as a CSV download (UTF-8 with BOM, CRLF; masked as
    /// everywhere), served like the registry exports.
    #[graphql(guard = "RoleGuard::new(OPERATORS)")]
    async fn export_school_progress(
        &self,
        ctx: &Context<'_>,
        input: ExportSchoolProgressInput,
    ) -> ApiResult<ExportSchoolProgressPayload> {
        let (school, of) = progress_of(ctx, &input.school_code, input.project_id.as_ref()).await?;
        let state = ctx.state();
        let (key, name, rows) =
            crate::services::progress::export(state, &school, of, input.stage.into()).await?;
        Ok(ExportSchoolProgressPayload {
            url: Some(crate::storage::links::signed_download_url(
                state, &key, &name,
            )),
            rows: Some(i32::try_from(rows).unwrap_or(i32::MAX)),
            user_errors: Vec::new(),
        })
    }

    /// Operators: reminds the students who have not finished (subscription message), only those
    /// who consented, at most once per student per day.
    #[graphql(guard = "RoleGuard::new(OPERATORS)")]
    async fn remind_unfinished_students(
        &self,
        ctx: &Context<'_>,
        input: SchoolProgressInput,
    ) -> ApiResult<RemindUnfinishedStudentsPayload> {
        let (_, of) = progress_of(ctx, &input.school_code, input.project_id.as_ref()).await?;
        let result = crate::services::progress::remind(ctx.state(), ctx.viewer()?, of).await;
        let (done, user_errors) = into_payload(result)?;
        let done = done.unwrap_or_default();
        Ok(RemindUnfinishedStudentsPayload {
            sent: done.sent,
            already_reminded: done.already_reminded,
            without_consent: done.without_consent,
            user_errors,
        })
    }
}
