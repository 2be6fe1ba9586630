use crate::error::ApiResult;
use async_graphql::{Context, ID, Object, connection::Connection};
use campus_photo_domain::{codes::Role, reasons};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{
    connection::{PageArgs, TotalCount, into_connection, page_by_id},
    context::ContextExt,
    guards::{RoleGuard, SIGNED_IN, STAFF},
    node::{self, Node},
    types::{
        project::Project,
        school::School,
        service_info::{RejectionReason, ServiceInfo},
        viewer::Viewer,
    },
};
use crate::{
    entities::{project, school},
    error::AppError,
    ids::NodeType,
    services::{catalogue, sessions::Auth},
};

pub struct Query;

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
        if viewer.role != Role::Admin
            && let Some(own) = viewer.school_id
        {
            select = select.filter(school::Column::Id.eq(own));
        }
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        let page = page_by_id(
            &state.db,
            select,
            school::Column::Id,
            true,
            &args,
            &state.ids,
            NodeType::School,
        )
        .await?;
        Ok(into_connection(
            page,
            &state.ids,
            NodeType::School,
            |m| m.id,
            School,
        ))
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
        if let Some(code) = school_code {
            let school = catalogue::school_by_code(state, &code)
                .await?
                .ok_or(AppError::NotFound("学校不存在"))?;
            node::in_school_scope(viewer, school.id)?;
            select = select.filter(project::Column::SchoolId.eq(school.id));
        } else if viewer.role != Role::Admin
            && let Some(own) = viewer.school_id
        {
            select = select.filter(project::Column::SchoolId.eq(own));
        }
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        let page = page_by_id(
            &state.db,
            select,
            project::Column::Id,
            true,
            &args,
            &state.ids,
            NodeType::Project,
        )
        .await?;
        Ok(into_connection(
            page,
            &state.ids,
            NodeType::Project,
            |m| m.id,
            Project,
        ))
    }
}
