//! Signing in and out.
use crate::services::limits::Action;
use async_graphql::{Context, InputObject, Object, SimpleObject};

use crate::{
    error::{ApiResult, UserError, into_payload},
    graphql::{context::ContextExt, types::account::Account},
    services::{accounts, sessions},
};

#[derive(InputObject)]
pub struct SignInWithWeChatInput {
    /// wx.login code
    pub code: String,
    /// getPhoneNumber code
    pub phone_code: String,
    /// The agreement version the student accepted.
    pub agreement_version: String,
}

#[derive(InputObject)]
pub struct SignInStaffInput {
    pub username: String,
    pub password: String,
}

#[derive(SimpleObject, Default)]
pub struct SignInPayload {
    /// The bearer token: send it as `Authorization: Bearer <token>`.
    pub token: Option<String>,
    pub account: Option<Account>,
    pub user_errors: Vec<UserError>,
}

fn sign_in_payload(
    result: crate::error::AppResult<accounts::SignedIn>,
) -> ApiResult<SignInPayload> {
    let (signed_in, user_errors) = into_payload(result)?;
    Ok(match signed_in {
        Some(s) => SignInPayload {
            token: Some(s.token),
            account: Some(Account(s.account)),
            user_errors,
        },
        None => SignInPayload {
            user_errors,
            ..Default::default()
        },
    })
}

#[derive(Default)]
pub struct SignInMutation;

#[Object]
impl SignInMutation {
    /// 微信一键登录: signs a student in with the wx.login code and the getPhoneNumber code, after
    /// they accepted the current service agreement.
    async fn sign_in_with_we_chat(
        &self,
        ctx: &Context<'_>,
        input: SignInWithWeChatInput,
    ) -> ApiResult<SignInPayload> {
        ctx.rate_limit(Action::SignIn).await?;
        let result = accounts::sign_in_student(
            ctx.state(),
            accounts::StudentSignIn {
                ip: ctx.client_ip().0,
                code: &input.code,
                phone_code: &input.phone_code,
                agreement_version: &input.agreement_version,
            },
        )
        .await;
        sign_in_payload(result)
    }

    /// Staff sign-in with username and password.
    async fn sign_in_staff(
        &self,
        ctx: &Context<'_>,
        input: SignInStaffInput,
    ) -> ApiResult<SignInPayload> {
        // Limited inside: per address unless the address is familiar to the account, and per
        // account whatever the address.
        sign_in_payload(
            accounts::sign_in_staff(
                ctx.state(),
                &input.username,
                &input.password,
                ctx.client_ip(),
            )
            .await,
        )
    }

    /// Revokes the session whose token made this request.
    async fn sign_out(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let viewer = ctx.signed_in()?;
        sessions::revoke(ctx.state(), viewer).await?;
        Ok(true)
    }
}
