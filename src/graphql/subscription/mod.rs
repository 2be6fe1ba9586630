//! Subscriptions over graphql-transport-ws (`/graphql/ws`): the root type here, the streams in
//! `order_feed` (orderUpdates: replay, then live) and `dashboards` (queueStats,
//! productionProgress).
pub mod dashboards;
pub mod order_feed;

use async_graphql::{Context, ID, Subscription};
use futures::{Stream, StreamExt};
use sea_orm::EntityTrait;
use tokio::sync::broadcast::error::RecvError;

use self::{
    dashboards as watch,
    order_feed::{self as feed, Audience},
};
use super::{
    context::ContextExt,
    types::{
        order::OrderEvent,
        production::{ProductionBatch, QueueStats},
        support::SupportTicket,
    },
};
use crate::{
    entities::support_ticket,
    error::AppError,
    events::BusMessage,
    ids::NodeType,
    services::{orders, support},
};

pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// The viewer's orders (students) or orders in scope (staff), or just `orderId`: every
    /// transition the moment it commits. With `after` (an OrderEvent id), first replays the events
    /// after it, so a client that reconnects misses nothing; de-duplicate by event id.
    async fn order_updates(
        &self,
        ctx: &Context<'_>,
        order_id: Option<ID>,
        after: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<OrderEvent>> + use<>> {
        let state = ctx.state().clone();
        let viewer = ctx.viewer().map_err(AppError::into_graphql)?.clone();
        let order_id = match order_id {
            Some(id) => {
                let row = ctx
                    .decode_id(NodeType::Order, &id)
                    .map_err(AppError::into_graphql)?;
                // Unknown and not-yours look the same.
                orders::readable(&state, &viewer, row)
                    .await
                    .map_err(AppError::into_graphql)?;
                Some(row)
            }
            None => None,
        };
        let after =
            match after {
                Some(id) => Some(state.ids.decode_as(NodeType::OrderEvent, &id).ok_or_else(
                    || AppError::BadUserInput("after 不是有效的事件 id".into()).into_graphql(),
                )?),
                None => None,
            };
        let audience = Audience { viewer, order_id };
        Ok(feed::order_updates(state, audience, after).map(|item| {
            item.map(|(row, order)| OrderEvent(row, order))
                .map_err(AppError::into_graphql)
        }))
    }

    /// Dashboards: the order counts per stage now, then whenever they change (at most 4 a second).
    async fn queue_stats(
        &self,
        ctx: &Context<'_>,
        school_code: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<QueueStats>> + use<>> {
        let state = ctx.state().clone();
        let viewer = ctx.viewer().map_err(AppError::into_graphql)?.clone();
        if !viewer.is_staff() {
            return Err(AppError::Forbidden.into_graphql());
        }
        let school = crate::services::scope::school_filter(&state, &viewer, school_code.as_deref())
            .await
            .map_err(AppError::into_graphql)?;
        let clock = state.clock.clone();
        let code = school_code.clone();
        Ok(
            watch::queue_counts(state, viewer, school, school_code).map(move |item| {
                item.map(|counts| QueueStats::from_counts(code.clone(), &counts, clock.now()))
                    .map_err(AppError::into_graphql)
            }),
        )
    }

    /// A production batch's counts while it runs; the stream ends when the batch finishes.
    async fn production_progress(
        &self,
        ctx: &Context<'_>,
        batch_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<ProductionProgress>> + use<>>
    {
        let state = ctx.state().clone();
        let viewer = ctx.viewer().map_err(AppError::into_graphql)?.clone();
        let id = ctx
            .decode_id(NodeType::ProductionBatch, &batch_id)
            .map_err(AppError::into_graphql)?;
        // Checked before the stream starts, so a stranger gets NOT_FOUND at once.
        crate::services::production::batch_for(&state, &viewer, id)
            .await
            .map_err(AppError::into_graphql)?;
        Ok(watch::batch_progress(state, viewer, id).map(|item| {
            item.map(|b| ProductionProgress {
                batch: ProductionBatch(b),
            })
            .map_err(AppError::into_graphql)
        }))
    }

    /// 在线客服: the viewer's tickets (students) or tickets in scope (staff), each time one is
    /// opened, answered or closed.
    async fn support_ticket_updates(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<SupportTicket>> + use<>>
    {
        let state = ctx.state().clone();
        let viewer = ctx.viewer().map_err(AppError::into_graphql)?.clone();
        Ok(async_stream::stream! {
            let mut live = state.bus.subscribe();
            loop {
                match live.recv().await {
                    Ok(BusMessage::TicketChanged { ticket_id, .. }) => {
                        let found = support_ticket::Entity::find_by_id(ticket_id)
                            .one(&state.db)
                            .await;
                        match found {
                            Ok(Some(t)) if support::may_handle(&viewer, &t) => yield Ok(SupportTicket(t)),
                            Ok(_) => {}
                            Err(e) => yield Err(AppError::from(e).into_graphql()),
                        }
                    }
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                }
            }
        })
    }
}

/// One update of `productionProgress`.
#[derive(async_graphql::SimpleObject)]
pub struct ProductionProgress {
    pub batch: ProductionBatch,
}
