//! 在线客服 tickets.
use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};

use super::{enums::RoleGql, order::Order};
use crate::{
    entities::{support_message, support_ticket},
    error::ApiResult,
    graphql::{
        context::ContextExt,
        loaders::{MessagesOfTicket, OrderId, load},
    },
    ids::NodeType,
};

pub struct SupportTicket(pub support_ticket::Model);

#[Object]
impl SupportTicket {
    pub async fn id(&self, ctx: &Context<'_>) -> ID {
        ID(ctx.state().ids.encode(NodeType::SupportTicket, self.0.id))
    }

    /// The order it is about, if any.
    async fn order(&self, ctx: &Context<'_>) -> ApiResult<Option<Order>> {
        match self.0.order_id {
            Some(id) => Ok(load(ctx, OrderId(id)).await?.map(Order::new)),
            None => Ok(None),
        }
    }

    async fn subject(&self) -> &str {
        &self.0.subject
    }

    /// False once the student or staff closed it.
    async fn open(&self) -> bool {
        self.0.open
    }

    /// Oldest first: the question, then answers and follow-ups.
    async fn messages(&self, ctx: &Context<'_>) -> ApiResult<Vec<SupportMessage>> {
        Ok(load(ctx, MessagesOfTicket(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(SupportMessage)
            .collect())
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

pub struct SupportMessage(pub support_message::Model);

#[Object]
impl SupportMessage {
    async fn author_role(&self) -> RoleGql {
        self.0.author_role.into()
    }

    async fn text(&self) -> &str {
        &self.0.text
    }

    async fn at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// A signed, expiring link to the picture the student attached.
    async fn picture_url(&self, ctx: &Context<'_>) -> Option<String> {
        self.0
            .photo_key
            .as_deref()
            .map(|key| crate::storage::links::signed_url(ctx.state(), key))
    }
}
