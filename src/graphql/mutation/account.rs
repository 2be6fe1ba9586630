//! 账号信息: signing out of every device and deleting the account.
use async_graphql::{Context, Object, SimpleObject};

use crate::{
    error::{ApiResult, UserError, into_payload},
    graphql::context::ContextExt,
    services::account_closure,
};

#[derive(SimpleObject, Default)]
pub struct DeleteAccountPayload {
    pub deleted: bool,
    pub user_errors: Vec<UserError>,
}

#[derive(async_graphql::InputObject)]
pub struct AcceptPrivacyNoticeInput {
    /// The `serviceInfo.privacyNotice.version` the student read.
    pub version: String,
}

#[derive(SimpleObject)]
pub struct AcceptPrivacyNoticePayload {
    pub account: Option<crate::graphql::types::account::Account>,
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// 退出所有设备: revokes every session of the viewer, this one included.
    async fn sign_out_everywhere(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let viewer = ctx.signed_in()?;
        account_closure::sign_out_everywhere(ctx.state(), viewer).await?;
        Ok(true)
    }

    /// 个人信息保护: the student accepts the current privacy notice (recorded apart from the
    /// agreement accepted at sign-in). PRIVACY_VERSION_MISMATCH when the notice changed.
    #[graphql(guard = "crate::graphql::guards::RoleGuard::new(crate::graphql::guards::STUDENT)")]
    async fn accept_privacy_notice(
        &self,
        ctx: &Context<'_>,
        input: AcceptPrivacyNoticeInput,
    ) -> ApiResult<AcceptPrivacyNoticePayload> {
        let viewer = ctx.viewer()?;
        let result =
            crate::services::accounts::accept_privacy_notice(ctx.state(), viewer, &input.version)
                .await;
        let (account, user_errors) = into_payload(result)?;
        Ok(AcceptPrivacyNoticePayload {
            account: account.map(crate::graphql::types::account::Account),
            user_errors,
        })
    }

    /// 注销账号 (students): erases the phone, WeChat identity, name, ID number and photos, keeps
    /// the orders for accounting without the link, and signs out everywhere. Refused while an
    /// order is in progress (ORDER_IN_PROGRESS) or a completed photo is not yet reported to the
    /// registry (NOT_YET_REPORTED).
    async fn delete_account(&self, ctx: &Context<'_>) -> ApiResult<DeleteAccountPayload> {
        let viewer = ctx.viewer()?;
        let (done, user_errors) =
            into_payload(account_closure::delete_student_account(ctx.state(), viewer).await)?;
        Ok(DeleteAccountPayload {
            deleted: done.is_some(),
            user_errors,
        })
    }
}
