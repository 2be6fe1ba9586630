use crate::error::ApiResult;
use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};

use super::{enums::RoleGql, school::School};
use crate::{
    entities::account,
    graphql::{
        context::ContextExt,
        loaders::{SchoolId, load},
    },
    ids::NodeType,
    services::accounts::phone_for,
};

pub struct Account(pub account::Model);

#[Object]
impl Account {
    pub async fn id(&self, ctx: &Context<'_>) -> ID {
        ID(ctx.state().ids.encode(NodeType::Account, self.0.id))
    }

    async fn role(&self) -> RoleGql {
        self.0.role.into()
    }

    /// Masked (138****8000) for everyone but the account itself.
    async fn phone(&self, ctx: &Context<'_>) -> Option<String> {
        let owner = ctx.viewer().is_ok_and(|v| v.account_id == self.0.id);
        phone_for(ctx.state(), &self.0, owner)
    }

    /// Staff sign-in name; null for students.
    async fn username(&self) -> Option<&str> {
        self.0.username.as_deref()
    }

    /// The service-agreement version the student accepted.
    async fn agreement_version(&self) -> Option<&str> {
        self.0.agreement_version.as_deref()
    }

    /// When the agreement was accepted.
    async fn agreement_accepted_at(&self) -> Option<DateTime<Utc>> {
        self.0.agreement_accepted_at
    }

    /// The privacy-notice (个人信息保护) version the student accepted, apart from the agreement.
    async fn privacy_version(&self) -> Option<&str> {
        self.0.privacy_version.as_deref()
    }

    /// When the privacy notice was accepted.
    async fn privacy_accepted_at(&self) -> Option<DateTime<Utc>> {
        self.0.privacy_accepted_at
    }

    /// The school a school admin (or a school-scoped reviewer/producer) belongs to.
    async fn school(&self, ctx: &Context<'_>) -> ApiResult<Option<School>> {
        let Some(id) = self.0.school_id else {
            return Ok(None);
        };
        Ok(load(ctx, SchoolId(id)).await?.map(School))
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Whether an operator disabled the (staff) account: it cannot sign in.
    async fn disabled(&self) -> bool {
        self.0.disabled_at.is_some()
    }

    /// When the account was disabled.
    async fn disabled_at(&self) -> Option<DateTime<Utc>> {
        self.0.disabled_at
    }

    /// An operator reset the password: the account must choose a new one (`changePassword`)
    /// before anything else.
    async fn must_change_password(&self) -> bool {
        self.0.must_change_password
    }
}
