//! Role guards, in one place. A field guarded here answers UNAUTHENTICATED to anonymous callers
//! (or expired tokens) and FORBIDDEN to signed-in callers without one of the roles.
use async_graphql::{Context, Guard};
use campus_photo_domain::codes::Role;

use super::context::ContextExt;
use crate::error::AppError;

pub struct RoleGuard {
    roles: &'static [Role],
    /// Whether the field answers an account that must first choose a new password (only
    /// `changePassword` does).
    before_password_change: bool,
}

impl RoleGuard {
    pub const fn new(roles: &'static [Role]) -> Self {
        Self {
            roles,
            before_password_change: false,
        }
    }

    /// The guard of the one field an account whose password was reset may use.
    pub const fn before_password_change(roles: &'static [Role]) -> Self {
        Self {
            roles,
            before_password_change: true,
        }
    }
}

pub const ADMIN: &[Role] = &[Role::Admin];
pub const STUDENT: &[Role] = &[Role::Student];
/// Who runs projects, staff and overrides: school admins (their school) and admins.
pub const OPERATORS: &[Role] = &[Role::SchoolAdmin, Role::Admin];
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
        let viewer = ctx.signed_in().map_err(AppError::into_graphql)?;
        if viewer.must_change_password && !self.before_password_change {
            Err(AppError::PasswordChangeRequired.into_graphql())
        } else if self.roles.contains(&viewer.role) {
            Ok(())
        } else {
            Err(AppError::Forbidden.into_graphql())
        }
    }
}
