//! `orderUpdates`: first the events after the client's cursor, from the database, then live from
//! the bus — subscribed before the replay starts, so nothing falls between the two, and with the
//! ids already sent remembered, so nothing is sent twice. A subscriber that falls behind the bus
//! reads what it missed from the database instead of holding anyone up.
use std::collections::{HashSet, VecDeque};

use futures::Stream;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Query};
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use crate::events::{Published, hub::Delivery};
use crate::{
    AppState,
    entities::{order, order_event},
    error::{AppError, AppResult},
    services::scope::in_school_scope,
    services::sessions::Viewer,
};

const PAGE: u64 = 500;
const REMEMBERED: usize = 4096;

/// Whose events a subscription may carry.
#[derive(Debug, Clone)]
pub struct Audience {
    pub viewer: Viewer,
    pub order_id: Option<Uuid>,
}

impl Audience {
    pub fn admits(&self, p: &Published) -> bool {
        if self.order_id.is_some_and(|o| o != p.order_id) {
            return false;
        }
        if self.viewer.is_staff() {
            in_school_scope(&self.viewer, p.school_id).is_ok()
        } else {
            p.account_id == Some(self.viewer.account_id)
        }
    }

    /// The audience's events placed in the feed after `after`, in feed order, one page.
    async fn page_after(&self, state: &AppState, after: i64) -> AppResult<Vec<order_event::Model>> {
        let mut orders = Query::select()
            .column(order::Column::Id)
            .from(order::Entity)
            .to_owned();
        if let Some(id) = self.order_id {
            orders.and_where(order::Column::Id.eq(id));
        }
        if self.viewer.is_staff() {
            if self.viewer.role != campus_photo_domain::codes::Role::Admin
                && let Some(school) = self.viewer.school_id
            {
                orders.and_where(order::Column::SchoolId.eq(school));
            }
        } else {
            orders.and_where(order::Column::AccountId.eq(self.viewer.account_id));
        }
        Ok(order_event::Entity::find()
            .filter(order_event::Column::FeedSeq.gt(after))
            .filter(order_event::Column::OrderId.in_subquery(orders))
            .order_by_asc(order_event::Column::FeedSeq)
            .limit(PAGE)
            .all(&state.db)
            .await?)
    }
}

impl Audience {
    /// Every event after `cursor` not sent yet, oldest first; moves the cursor past them.
    async fn catch_up(
        &self,
        state: &AppState,
        cursor: &mut i64,
        sent: &mut Sent,
    ) -> AppResult<Vec<order_event::Model>> {
        let mut out = Vec::new();
        loop {
            let page = self.page_after(state, *cursor).await?;
            let full = page.len() as u64 == PAGE;
            for row in page {
                *cursor = (*cursor).max(row.feed_seq.unwrap_or(*cursor));
                if sent.first_time(row.id) {
                    out.push(row);
                }
            }
            if !full {
                return Ok(out);
            }
        }
    }
}

/// Remembers the ids sent lately.
struct Sent {
    order: VecDeque<Uuid>,
    ids: HashSet<Uuid>,
}

impl Sent {
    fn new() -> Self {
        Self {
            order: VecDeque::new(),
            ids: HashSet::new(),
        }
    }

    /// True the first time an id is seen.
    fn first_time(&mut self, id: Uuid) -> bool {
        if !self.ids.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > REMEMBERED
            && let Some(old) = self.order.pop_front()
        {
            self.ids.remove(&old);
        }
        true
    }
}

/// Where in the feed a subscription starts: just after the `after` event, or at the end now.
/// An event the relay has not placed yet (seen in a query a moment after it committed) counts
/// as coming after every placed event with a smaller id.
async fn feed_position(state: &AppState, after: Option<Uuid>) -> AppResult<i64> {
    let mut last_placed = order_event::Entity::find()
        .select_only()
        .column_as(order_event::Column::FeedSeq.max(), "last")
        .filter(order_event::Column::FeedSeq.is_not_null());
    if let Some(after) = after {
        let placed: Option<Option<i64>> = order_event::Entity::find_by_id(after)
            .select_only()
            .column(order_event::Column::FeedSeq)
            .into_tuple()
            .one(&state.db)
            .await?;
        match placed {
            None => return Err(AppError::BadUserInput("after 不是有效的事件 id".into())),
            Some(Some(seq)) => return Ok(seq),
            Some(None) => last_placed = last_placed.filter(order_event::Column::Id.lt(after)),
        }
    }
    let last: Option<Option<i64>> = last_placed.into_tuple().one(&state.db).await?;
    Ok(last.flatten().unwrap_or(0))
}

/// An event for a subscriber, with its order when the hub already loaded it.
pub type FeedItem = (order_event::Model, Option<std::sync::Arc<order::Model>>);

pub fn order_updates(
    state: AppState,
    audience: Audience,
    after: Option<Uuid>,
) -> impl Stream<Item = AppResult<FeedItem>> {
    async_stream::try_stream! {
        let mut live = state.hub.subscribe(&state, crate::services::scope::event_route(&audience.viewer));
        let mut sent = Sent::new();
        // Read after subscribing: anything placed later is both live and after the cursor.
        let mut cursor = Box::pin(feed_position(&state, after)).await?;
        // The catch-up (a database read) is boxed: inline, its large future would be part of
        // every idle subscriber's stream.
        if after.is_some() {
            for row in Box::pin(audience.catch_up(&state, &mut cursor, &mut sent)).await? {
                yield (row, None);
            }
        }
        loop {
            match live.recv().await {
                Ok(Delivery::Event(event)) => {
                    if !audience.admits(&event.published) || !sent.first_time(event.row.id) {
                        continue;
                    }
                    cursor = cursor.max(event.row.feed_seq.unwrap_or(cursor));
                    yield (event.row.clone(), Some(event.order.clone()));
                }
                Ok(Delivery::Resync) | Err(RecvError::Lagged(_)) => {
                    tracing::debug!("subscriber reads what it may have missed from the database");
                    for row in Box::pin(audience.catch_up(&state, &mut cursor, &mut sent)).await? {
                        yield (row, None);
                    }
                }
                Err(RecvError::Closed) => break,
            }
        }
    }
}
