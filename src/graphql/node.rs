//! The Node interface and global-id look-ups, authorised per type.
use async_graphql::{Context, Interface};
use campus_photo_domain::codes::Role;

use super::{
    context::ContextExt,
    loaders::{AccountId, EnrollmentId, OrderId, PhotoId, ProjectId, SchoolId, load},
    types::{
        account::Account,
        enrollment::Enrollment,
        order::{Order, OrderEvent},
        photo::Photo,
        production::{ProductionBatch, RegistryExport},
        project::Project,
        school::School,
    },
};
use crate::{
    error::{ApiResult, AppError},
    ids::NodeType,
    services::scope::in_school_scope,
};

#[derive(Interface)]
#[graphql(field(name = "id", ty = "async_graphql::ID"))]
pub enum Node {
    Account(Account),
    School(School),
    Project(Project),
    Enrollment(Enrollment),
    Photo(Photo),
    Order(Order),
    OrderEvent(OrderEvent),
    ProductionBatch(ProductionBatch),
    RegistryExport(RegistryExport),
    SupportTicket(crate::graphql::types::support::SupportTicket),
    PrintOrder(crate::graphql::types::print_order::PrintOrder),
}

/// Resolves a global id for the viewer. Unknown ids, and ids of objects the viewer may not read,
/// are both NOT_FOUND, so ids reveal nothing.
pub async fn resolve(ctx: &Context<'_>, id: &str) -> ApiResult<Node> {
    let viewer = ctx.viewer()?.clone();
    let not_found = || AppError::NotFound("找不到该对象");
    let (node_type, row) = ctx.state().ids.decode(id).ok_or_else(not_found)?;
    let node = match node_type {
        NodeType::Account => {
            let account = load(ctx, AccountId(row)).await?.ok_or_else(not_found)?;
            let allowed = account.id == viewer.account_id
                || viewer.role == Role::Admin
                || (viewer.role == Role::SchoolAdmin
                    && account.school_id.is_some()
                    && account.school_id == viewer.school_id);
            allowed.then_some(Node::Account(Account(account)))
        }
        NodeType::School => load(ctx, SchoolId(row))
            .await?
            .map(|s| Node::School(School(s))),
        NodeType::Project => {
            let project = load(ctx, ProjectId(row)).await?;
            project
                .filter(|p| {
                    in_school_scope(&viewer, p.school_id).is_ok() || viewer.role == Role::Student
                })
                .map(|p| Node::Project(Project(p)))
        }
        NodeType::Enrollment => load(ctx, EnrollmentId(row))
            .await?
            .filter(|e| {
                e.account_id == Some(viewer.account_id)
                    || in_school_scope(&viewer, e.school_id).is_ok()
            })
            .map(|e| Node::Enrollment(Enrollment::new(e))),
        NodeType::Photo => match load(ctx, PhotoId(row)).await? {
            Some(photo) => load(ctx, EnrollmentId(photo.enrollment_id))
                .await?
                .filter(|e| {
                    e.account_id == Some(viewer.account_id)
                        || in_school_scope(&viewer, e.school_id).is_ok()
                })
                .map(|_| Node::Photo(Photo::new(photo))),
            None => None,
        },
        NodeType::Order => load(ctx, OrderId(row))
            .await?
            .filter(|o| crate::services::orders::may_read(&viewer, o))
            .map(|o| Node::Order(Order::new(o))),
        NodeType::OrderEvent => {
            use sea_orm::EntityTrait;
            match crate::entities::order_event::Entity::find_by_id(row)
                .one(&ctx.state().db)
                .await?
            {
                Some(event) => load(ctx, OrderId(event.order_id))
                    .await?
                    .filter(|o| crate::services::orders::may_read(&viewer, o))
                    .map(|_| Node::OrderEvent(OrderEvent(event, None))),
                None => None,
            }
        }
        NodeType::ProductionBatch => {
            crate::services::production::batch_for(ctx.state(), &viewer, row)
                .await
                .ok()
                .map(|b| Node::ProductionBatch(ProductionBatch(b)))
        }
        NodeType::RegistryExport => {
            crate::services::registry_export::export_for(ctx.state(), &viewer, row)
                .await
                .ok()
                .map(|e| Node::RegistryExport(RegistryExport(e)))
        }
        NodeType::SupportTicket => {
            use sea_orm::EntityTrait;
            crate::entities::support_ticket::Entity::find_by_id(row)
                .one(&ctx.state().db)
                .await?
                .filter(|t| crate::services::support::may_handle(&viewer, t))
                .map(|t| Node::SupportTicket(crate::graphql::types::support::SupportTicket(t)))
        }
        NodeType::PrintOrder => crate::services::prints::readable(ctx.state(), &viewer, row)
            .await
            .ok()
            .map(|p| Node::PrintOrder(crate::graphql::types::print_order::PrintOrder::whole(p))),
        NodeType::WeChatMessage | NodeType::AuditRecord => None,
    };
    node.ok_or_else(|| not_found().into())
}
