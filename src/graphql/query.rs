use crate::error::ApiResult;
use async_graphql::{Context, ID, Object, connection::Connection};
use campus_photo_domain::reasons;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{
    connection::{PageArgs, TotalCount, into_connection, newest_first},
    context::ContextExt,
    guards::{ADMIN, OPERATORS, RoleGuard, SIGNED_IN, STAFF},
    node::{self, Node},
    types::{
        account::Account,
        enrollment::Enrollment,
        order::{Order, OrderStatusGql, order_connection, with_statuses},
        production::{QueueStats, WeChatMessage},
        project::Project,
        school::School,
        service_info::{RejectionReason, ServiceInfo},
        viewer::Viewer,
    },
};
use crate::{
    entities::{account, order, project, school},
    error::AppError,
    ids::NodeType,
    services::{
        scope::{self, Scope},
        sessions::Auth,
    },
};

pub struct Query;

#[derive(async_graphql::InputObject, Default)]
pub struct OrderFilter {
    pub statuses: Option<Vec<OrderStatusGql>>,
    pub school_code: Option<String>,
    /// The order number, exactly.
    pub number: Option<String>,
}

#[Object]
impl Query {
    /// Fetches any object by its global id. Objects the viewer may not read are NOT_FOUND.
    #[graphql(guard = "RoleGuard::new(SIGNED_IN)")]
    async fn node(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Node>> {
        node::resolve(ctx, &id).await.map(Some)
    }

    /// Fetches several objects; each unknown id is null.
    #[graphql(guard = "RoleGuard::new(SIGNED_IN)")]
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> ApiResult<Vec<Option<Node>>> {
        if ids.len() > 100 {
            return Err(AppError::BadUserInput("一次最多查询 100 个对象".into()).into());
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in &ids {
            out.push(node::resolve(ctx, id).await.ok());
        }
        Ok(out)
    }

    /// The signed-in user; null when not signed in. An expired token is UNAUTHENTICATED.
    async fn viewer(&self, ctx: &Context<'_>) -> ApiResult<Option<Viewer>> {
        match ctx.auth() {
            Auth::Anonymous => Ok(None),
            other => Ok(Some(Viewer(other.viewer()?.clone()))),
        }
    }

    /// The service agreement and customer-service contacts. Public.
    async fn service_info(&self, ctx: &Context<'_>) -> ServiceInfo {
        (&ctx.state().config.service_info).into()
    }

    /// The catalogue of rejection reasons reviewers choose from, with the messages students see.
    async fn rejection_reasons(&self) -> Vec<RejectionReason> {
        reasons::for_reviewers()
            .map(|r| RejectionReason {
                code: r.code.to_string(),
                title: r.title.to_string(),
                solution: r.solution.to_string(),
                message: r.message.to_string(),
            })
            .collect()
    }

    /// Staff: schools, in the viewer's scope, newest first.
    #[graphql(
        guard = "RoleGuard::new(STAFF)",
        complexity = "super::connection::page_size(first.or(last)) * child_complexity + 1"
    )]
    async fn schools(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> ApiResult<Connection<String, School, TotalCount>> {
        let state = ctx.state();
        let viewer = ctx.viewer()?;
        let mut select = school::Entity::find();
        if let Some(own) = Scope::of(viewer).only_school() {
            select = select.filter(school::Column::Id.eq(own));
        }
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        let id = school::Column::Id;
        newest_first(state, select, id, args, NodeType::School, |m| m.id, School).await
    }

    /// Staff: collection projects in the viewer's scope (optionally of one school), newest first.
    #[graphql(
        guard = "RoleGuard::new(STAFF)",
        complexity = "super::connection::page_size(first.or(last)) * child_complexity + 1"
    )]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        school_code: Option<String>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> ApiResult<Connection<String, Project, TotalCount>> {
        let state = ctx.state();
        let viewer = ctx.viewer()?;
        let mut select = project::Entity::find();
        if let Some(school) = scope::school_filter(state, viewer, school_code.as_deref()).await? {
            select = select.filter(project::Column::SchoolId.eq(school));
        }
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        let id = project::Column::Id;
        newest_first(
            state,
            select,
            id,
            args,
            NodeType::Project,
            |m| m.id,
            Project,
        )
        .await
    }

    /// Staff: orders in the viewer's scope, newest first.
    #[graphql(
        guard = "RoleGuard::new(STAFF)",
        complexity = "super::connection::page_size(first) * child_complexity + 1"
    )]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        filter: Option<OrderFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, Order, TotalCount>> {
        let state = ctx.state();
        let viewer = ctx.viewer()?;
        let filter = filter.unwrap_or_default();
        let mut select = order::Entity::find();
        if let Some(school) =
            scope::school_filter(state, viewer, filter.school_code.as_deref()).await?
        {
            select = select.filter(order::Column::SchoolId.eq(school));
        }
        if let Some(number) = filter.number {
            select = select.filter(order::Column::Number.eq(number.trim().to_string()));
        }
        order_connection(
            ctx,
            with_statuses(select, filter.statuses),
            true,
            first,
            after,
        )
        .await
    }

    /// Staff: 查找学生 — the enrollments in scope (optionally of one school) that `query` finds,
    /// newest first: an order number, a phone number or its last 4 digits, an ID number or its
    /// last 4, the exact name (of a student who typed it), a student or admission number. Names,
    /// phones and ID numbers are shown masked; each enrollment lists its orders.
    #[graphql(
        guard = "RoleGuard::new(STAFF)",
        complexity = "super::connection::page_size(first) * child_complexity + 1"
    )]
    async fn search_students(
        &self,
        ctx: &Context<'_>,
        query: String,
        school_code: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, Enrollment, TotalCount>> {
        let state = ctx.state();
        let args = PageArgs {
            first,
            after,
            last: None,
            before: None,
        };
        let page = crate::services::search::students(
            state,
            ctx.viewer()?,
            &query,
            school_code.as_deref(),
            &args,
        )
        .await?;
        Ok(into_connection(
            page,
            &state.ids,
            NodeType::Enrollment,
            |m| m.id,
            Enrollment::new,
        ))
    }

    /// Staff: PENDING_REVIEW orders, oldest first (orders with a refund in flight wait).
    #[graphql(
        guard = "RoleGuard::new(STAFF)",
        complexity = "super::connection::page_size(first) * child_complexity + 1"
    )]
    async fn review_queue(
        &self,
        ctx: &Context<'_>,
        school_code: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, Order, TotalCount>> {
        let state = ctx.state();
        let viewer = ctx.viewer()?;
        let select = crate::services::review::queue(state, viewer, school_code.as_deref()).await?;
        order_connection(ctx, select, false, first, after).await
    }

    /// Staff: how many orders wait at each stage, in scope (optionally one school).
    #[graphql(guard = "RoleGuard::new(STAFF)")]
    async fn queue_stats(
        &self,
        ctx: &Context<'_>,
        school_code: Option<String>,
    ) -> ApiResult<QueueStats> {
        let state = ctx.state();
        let viewer = ctx.viewer()?;
        let counts = crate::services::review::counts(state, viewer, school_code.as_deref()).await?;
        Ok(QueueStats::from_counts(
            school_code,
            &counts,
            state.clock.now(),
        ))
    }

    /// Shipping staff (producers, school admins, admins): print orders in scope, oldest first;
    /// by default the PAID ones waiting to be shipped. Addresses are masked here; read one
    /// print order by id for the label.
    #[graphql(
        guard = "RoleGuard::new(STAFF)",
        complexity = "super::connection::page_size(first.or(last)) * child_complexity + 1"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn print_orders(
        &self,
        ctx: &Context<'_>,
        statuses: Option<Vec<super::types::print_order::PrintOrderStatusGql>>,
        school_code: Option<String>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> ApiResult<Connection<String, super::types::print_order::PrintOrder, TotalCount>> {
        let state = ctx.state();
        let school_id = scope::school_filter(state, ctx.viewer()?, school_code.as_deref()).await?;
        let statuses: Vec<_> = statuses
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        let page =
            crate::services::prints::for_staff(state, ctx.viewer()?, &statuses, school_id, &args)
                .await?;
        Ok(into_connection(
            page,
            &state.ids,
            NodeType::PrintOrder,
            |m| m.id,
            super::types::print_order::PrintOrder::listed,
        ))
    }

    /// Staff: support tickets in scope waiting for an answer (with `includeClosed`, closed ones
    /// too), oldest first; tickets about no order are for admins.
    #[graphql(
        guard = "RoleGuard::new(STAFF)",
        complexity = "super::connection::page_size(first.or(last)) * child_complexity + 1"
    )]
    async fn support_tickets(
        &self,
        ctx: &Context<'_>,
        include_closed: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> ApiResult<Connection<String, super::types::support::SupportTicket, TotalCount>> {
        let state = ctx.state();
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        let page = crate::services::support::for_staff(
            state,
            ctx.viewer()?,
            include_closed.unwrap_or(false),
            &args,
        )
        .await?;
        Ok(into_connection(
            page,
            &state.ids,
            NodeType::SupportTicket,
            |m| m.id,
            super::types::support::SupportTicket,
        ))
    }

    /// Operators: 人员 — the staff accounts in the viewer's scope (a school admin's: their
    /// school's; optionally of one school), disabled ones too, newest first.
    #[graphql(
        guard = "RoleGuard::new(OPERATORS)",
        complexity = "super::connection::page_size(first.or(last)) * child_complexity + 1"
    )]
    async fn staff_accounts(
        &self,
        ctx: &Context<'_>,
        school_code: Option<String>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> ApiResult<Connection<String, Account, TotalCount>> {
        let state = ctx.state();
        let viewer = ctx.viewer()?;
        let mut select = account::Entity::find()
            .filter(account::Column::Role.ne(campus_photo_domain::codes::Role::Student));
        if let Some(school) = scope::school_filter(state, viewer, school_code.as_deref()).await? {
            select = select.filter(account::Column::SchoolId.eq(school));
        }
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        let id = account::Column::Id;
        newest_first(
            state,
            select,
            id,
            args,
            NodeType::Account,
            |m| m.id,
            Account,
        )
        .await
    }

    /// Admins: 操作记录 — what operators changed on projects, staff accounts and enrollments
    /// (of one of them when `targetId` is given), newest first.
    #[graphql(
        guard = "RoleGuard::new(ADMIN)",
        complexity = "super::connection::page_size(first) * child_complexity + 1"
    )]
    async fn audit_records(
        &self,
        ctx: &Context<'_>,
        target_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, super::types::console::AuditRecord, TotalCount>> {
        let state = ctx.state();
        let target = match target_id {
            Some(id) => Some(
                state
                    .ids
                    .decode(&id)
                    .map(|(_, row)| row)
                    .ok_or(AppError::NotFound("找不到该对象"))?,
            ),
            None => None,
        };
        let args = PageArgs {
            first,
            after,
            last: None,
            before: None,
        };
        let page = crate::services::audit::list(state, ctx.viewer()?, target, &args).await?;
        Ok(into_connection(
            page,
            &state.ids,
            NodeType::AuditRecord,
            |m| m.id,
            super::types::console::AuditRecord,
        ))
    }

    /// Operators: 学校进度 — a school's students (of one project when given) by stage, with the
    /// list behind each count. A school out of scope is NOT_FOUND, like an unknown one.
    #[graphql(guard = "RoleGuard::new(OPERATORS)")]
    async fn school_progress(
        &self,
        ctx: &Context<'_>,
        school_code: String,
        project_id: Option<ID>,
    ) -> ApiResult<super::types::console::SchoolProgress> {
        let project = match project_id {
            Some(id) => Some(ctx.decode_id(NodeType::Project, &id)?),
            None => None,
        };
        let (school, of) =
            crate::services::progress::resolve(ctx.state(), ctx.viewer()?, &school_code, project)
                .await?;
        Ok(super::types::console::SchoolProgress { school, of })
    }

    /// Operators: 审核质量 — per reviewer, decisions per day and rejection reasons over the
    /// last `days` days (1–31, default 7), and the queue's oldest wait; in scope (one school when
    /// `schoolCode` names it).
    #[graphql(guard = "RoleGuard::new(OPERATORS)")]
    async fn review_quality(
        &self,
        ctx: &Context<'_>,
        school_code: Option<String>,
        days: Option<i32>,
    ) -> ApiResult<super::types::console::ReviewQuality> {
        let state = ctx.state();
        let viewer = ctx.viewer()?;
        let school = match school_code {
            Some(code) => Some(
                crate::services::progress::resolve(state, viewer, &code, None)
                    .await?
                    .1
                    .school_id,
            ),
            None => None,
        };
        let quality =
            crate::services::review_quality::quality(state, viewer, school, days.unwrap_or(7))
                .await?;
        Ok(super::types::console::ReviewQuality {
            quality,
            now: state.clock.now(),
        })
    }

    /// Admins: the WeChat subscription messages (what the sandbox would have sent, too), newest
    /// first.
    #[graphql(
        guard = "RoleGuard::new(ADMIN)",
        complexity = "super::connection::page_size(first.or(last)) * child_complexity + 1"
    )]
    async fn wechat_messages(
        &self,
        ctx: &Context<'_>,
        order_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> ApiResult<Connection<String, WeChatMessage, TotalCount>> {
        use crate::entities::outbound_message;
        let state = ctx.state();
        let mut select = outbound_message::Entity::find();
        if let Some(id) = order_id {
            let row = ctx.decode_id(NodeType::Order, &id)?;
            select = select.filter(outbound_message::Column::OrderId.eq(row));
        }
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        let id = outbound_message::Column::Id;
        newest_first(
            state,
            select,
            id,
            args,
            NodeType::WeChatMessage,
            |m| m.id,
            |m| WeChatMessage {
                order_id: ID(state.ids.encode(NodeType::Order, m.order_id)),
                provider: m.provider,
                template_id: m.template_id,
                page: m.page,
                data: m.data.to_string(),
                state: m.state.as_str().to_string(),
                attempts: m.attempts,
                error_code: m.error_code,
                error: m.error,
                created_at: m.created_at,
                sent_at: m.sent_at,
            },
        )
        .await
    }
}
