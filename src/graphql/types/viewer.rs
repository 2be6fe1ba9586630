use async_graphql::{Context, Object};

use super::{account::Account, enrollment::Enrollment};
use crate::error::ApiResult;
use crate::{
    error::AppError,
    graphql::{
        context::ContextExt,
        loaders::{AccountId, load},
    },
    services::{enrollment, sessions},
};

/// The signed-in user and what belongs to them.
pub struct Viewer(pub sessions::Viewer);

#[Object]
impl Viewer {
    async fn account(&self, ctx: &Context<'_>) -> ApiResult<Account> {
        load(ctx, AccountId(self.0.account_id))
            .await?
            .map(Account)
            .ok_or_else(|| AppError::Unauthenticated("账号不存在，请重新登录").into())
    }

    /// The student's collection info (采集信息), newest first.
    async fn enrollments(&self, ctx: &Context<'_>) -> ApiResult<Vec<Enrollment>> {
        let rows = enrollment::list_for(ctx.state(), self.0.account_id).await?;
        Ok(rows.into_iter().map(Enrollment).collect())
    }
}
