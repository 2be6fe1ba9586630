use async_graphql::{Context, Object};

use async_graphql::connection::Connection;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{
    account::Account,
    enrollment::Enrollment,
    order::{Order, OrderStatusGql, order_connection, with_statuses},
};
use crate::error::ApiResult;
use crate::{entities::order, graphql::connection::TotalCount};
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
        Ok(rows.into_iter().map(Enrollment::new).collect())
    }

    /// 加洗照片: the viewer's print orders, newest first (addresses masked; read one by id for
    /// the whole address).
    async fn print_orders(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<super::print_order::PrintOrder>> {
        let rows = crate::services::prints::of_student(ctx.state(), &self.0).await?;
        Ok(rows
            .into_iter()
            .map(super::print_order::PrintOrder::listed)
            .collect())
    }

    /// 在线客服: the viewer's support tickets, newest first.
    async fn support_tickets(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<super::support::SupportTicket>> {
        let rows = crate::services::support::of_student(ctx.state(), &self.0).await?;
        Ok(rows
            .into_iter()
            .map(super::support::SupportTicket)
            .collect())
    }

    /// 我的订单: newest first (订单列表按时间倒序), optionally only some statuses (筛选).
    #[graphql(complexity = "crate::graphql::connection::page_size(first) * child_complexity + 1")]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        statuses: Option<Vec<OrderStatusGql>>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, Order, TotalCount>> {
        let select = order::Entity::find().filter(order::Column::AccountId.eq(self.0.account_id));
        order_connection(ctx, with_statuses(select, statuses), true, first, after).await
    }
}
