//! Role guards, in one place. A field guarded here answers UNAUTHENTICATED to anonymous callers
//! (or expired tokens) and FORBIDDEN to signed-in callers without one of the roles.
use async_graphql::{Context, Guard};
use campus_photo_domain::codes::Role;

use super::context::ContextExt;
use crate::error::AppError;

pub struct RoleGuard {
    roles: &'static [Role],
}

impl RoleGuard {
    pub const fn new(roles: &'static [Role]) -> Self {
        Self { roles }
    }
}

pub const ADMIN: &[Role] = &[Role::Admin];
pub const STUDENT: &[Role] = &[Role::Student];
pub const STAFF: &[Role] = &[
    Role::Reviewer,
    Role::Producer,
    Role::SchoolAdmin,
    Role::Admin,
];
pub const SIGNED_IN: &[Role] = &[
    Role::Student,
    Role::Reviewer,
    Role::Producer,
    Role::SchoolAdmin,
    Role::Admin,
];

impl Guard for RoleGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let viewer = ctx.viewer().map_err(AppError::into_graphql)?;
        if self.roles.contains(&viewer.role) {
            Ok(())
        } else {
            Err(AppError::Forbidden.into_graphql())
        }
    }
}
