//! `orderUpdates`: first the events after the client's cursor, from the database, then live from
//! the bus — subscribed before the replay starts, so nothing falls between the two, and with the
//! ids already sent remembered, so nothing is sent twice. A subscriber that falls behind the bus
//! reads what it missed from the database instead of holding anyone up.
use std::collections::{HashSet, VecDeque};

use futures::Stream;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Query};
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::{
    Published,
    hub::{Delivery, Route},
};
use crate::{
    AppState,
    entities::{order, order_event},
    error::AppResult,
    graphql::node::in_school_scope,
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

    /// The audience's events after `after`, oldest first, one page.
    async fn page_after(
        &self,
        state: &AppState,
        after: Uuid,
    ) -> AppResult<Vec<order_event::Model>> {
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
            .filter(order_event::Column::Id.gt(after))
            .filter(order_event::Column::OrderId.in_subquery(orders))
            .order_by_asc(order_event::Column::Id)
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
        cursor: &mut Uuid,
        sent: &mut Sent,
    ) -> AppResult<Vec<order_event::Model>> {
        let mut out = Vec::new();
        loop {
            let page = self.page_after(state, *cursor).await?;
            let full = page.len() as u64 == PAGE;
            for row in page {
                *cursor = (*cursor).max(row.id);
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

/// An event for a subscriber, with its order when the hub already loaded it.
pub type FeedItem = (order_event::Model, Option<std::sync::Arc<order::Model>>);

pub fn order_updates(
    state: AppState,
    audience: Audience,
    after: Option<Uuid>,
) -> impl Stream<Item = AppResult<FeedItem>> {
    async_stream::try_stream! {
        let mut live = state.hub.subscribe(&state, Route::for_viewer(&audience.viewer));
        let mut sent = Sent::new();
        // Without a cursor, "after" is now: an id made now sorts before any event written later.
        let mut cursor = after.unwrap_or_else(Uuid::now_v7);
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
                    cursor = cursor.max(event.row.id);
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
