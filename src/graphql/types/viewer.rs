use async_graphql::{Context, Object};

use super::account::Account;
use crate::error::ApiResult;
use crate::{
    error::AppError,
    graphql::{
        context::ContextExt,
        loaders::{AccountId, load},
    },
    services::sessions,
};

/// The signed-in user and what belongs to them.
pub struct Viewer(pub sessions::Viewer);

#[Object]
impl Viewer {
    async fn account(&self, ctx: &Context<'_>) -> ApiResult<Account> {
        let _ = ctx.state();
        load(ctx, AccountId(self.0.account_id))
            .await?
            .map(Account)
            .ok_or_else(|| AppError::Unauthenticated("账号不存在，请重新登录").into())
    }
}
