//! The instance's one reader of order events for `orderUpdates`: it takes each event off the bus,
//! loads the event row and its order once (one query each for a burst), and hands the result
//! only to the subscribers it concerns — the student's own, their school's staff, and admins.
//! Without it every subscriber task woke for every event and queried the database itself, so
//! 10 000 subscribers meant 10 000 wake-ups and reads per event.
use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tokio::sync::broadcast::{self, error::RecvError};
use uuid::Uuid;

use super::{BusMessage, Published};
use crate::{
    AppState,
    entities::{order, order_event},
    error::AppResult,
};

/// Deliveries buffered per route before its slowest subscriber counts as lagging (it then
/// re-reads from the database).
const ROUTE_CAPACITY: usize = 256;
/// Bus messages taken in one go when they arrive in a burst, so their rows load in one query.
const BURST: usize = 256;
const PRUNE_EVERY: Duration = Duration::from_secs(10);

/// Who a subscriber listens for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// A student's own orders.
    Account(Uuid),
    /// Staff of one school.
    School(Uuid),
    /// Admins and staff without a school: every order.
    All,
}

impl Route {
    fn of_event(p: &Published) -> impl Iterator<Item = Route> {
        p.account_id
            .map(Route::Account)
            .into_iter()
            .chain([Route::School(p.school_id), Route::All])
    }
}

/// An event with what a subscriber needs to answer for it.
#[derive(Debug)]
pub struct LoadedEvent {
    pub published: Published,
    pub row: order_event::Model,
    pub order: Arc<order::Model>,
}

#[derive(Debug, Clone)]
pub enum Delivery {
    Event(Arc<LoadedEvent>),
    /// Something may have been missed (bus reconnect, the hub fell behind, a failed read):
    /// re-read from the database.
    Resync,
}

#[derive(Default)]
pub struct Hub {
    routes: Mutex<HashMap<Route, broadcast::Sender<Delivery>>>,
    started: OnceLock<()>,
}

impl Hub {
    /// Subscribes to a route. Call before reading the backlog: what commits afterwards arrives
    /// here (it may also be in the backlog; subscribers de-duplicate by event id).
    pub fn subscribe(
        self: &Arc<Self>,
        state: &AppState,
        route: Route,
    ) -> broadcast::Receiver<Delivery> {
        self.started.get_or_init(|| {
            // Subscribed to the bus before the first route exists, so nothing is missed.
            let live = state.bus.subscribe();
            tokio::spawn(pump(Arc::clone(self), state.clone(), live));
        });
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        routes
            .entry(route)
            .or_insert_with(|| broadcast::channel(ROUTE_CAPACITY).0)
            .subscribe()
    }

    fn listened(&self, p: &Published) -> bool {
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        Route::of_event(p).any(|r| routes.get(&r).is_some_and(|s| s.receiver_count() > 0))
    }

    fn deliver(&self, p: &Published, delivery: &Delivery) {
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        for route in Route::of_event(p) {
            if let Some(sender) = routes.get(&route) {
                let _ = sender.send(delivery.clone());
            }
        }
    }

    fn resync_all(&self) {
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        for sender in routes.values() {
            let _ = sender.send(Delivery::Resync);
        }
    }

    fn prune(&self) {
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        routes.retain(|_, sender| sender.receiver_count() > 0);
    }
}

async fn pump(hub: Arc<Hub>, state: AppState, mut live: broadcast::Receiver<BusMessage>) {
    let mut prune = tokio::time::interval(PRUNE_EVERY);
    loop {
        let first = tokio::select! {
            message = live.recv() => message,
            _ = prune.tick() => {
                hub.prune();
                continue;
            }
        };
        let mut burst = Vec::new();
        match first {
            Ok(message) => burst.push(message),
            Err(RecvError::Lagged(_)) => {
                hub.resync_all();
                continue;
            }
            Err(RecvError::Closed) => return,
        }
        while burst.len() < BURST {
            match live.try_recv() {
                Ok(message) => burst.push(message),
                Err(broadcast::error::TryRecvError::Lagged(_)) => {
                    burst.push(BusMessage::Resync);
                    break;
                }
                Err(_) => break,
            }
        }
        dispatch(&hub, &state, burst).await;
    }
}

/// Delivers a burst in bus order, with the rows of the events someone listens for loaded at once.
async fn dispatch(hub: &Hub, state: &AppState, burst: Vec<BusMessage>) {
    let wanted: Vec<Published> = burst
        .iter()
        .filter_map(|m| match m {
            BusMessage::OrderEvent(p) if hub.listened(p) => Some(*p),
            _ => None,
        })
        .collect();
    let loaded = match load(state, &wanted).await {
        Ok(loaded) => loaded,
        Err(e) => {
            // Listeners re-read from the database themselves (and retry there).
            tracing::warn!(error = %e, "loading order events for subscribers failed");
            for p in &wanted {
                hub.deliver(p, &Delivery::Resync);
            }
            HashMap::new()
        }
    };
    for message in burst {
        match message {
            BusMessage::OrderEvent(p) => {
                if let Some(event) = loaded.get(&p.event_id) {
                    hub.deliver(&p, &Delivery::Event(Arc::clone(event)));
                }
            }
            BusMessage::Resync => hub.resync_all(),
            BusMessage::ClaimsChanged { .. }
            | BusMessage::BatchProgress { .. }
            | BusMessage::TicketChanged { .. }
            | BusMessage::SessionsEnded { .. } => {}
        }
    }
}

async fn load(
    state: &AppState,
    wanted: &[Published],
) -> AppResult<HashMap<Uuid, Arc<LoadedEvent>>> {
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = order_event::Entity::find()
        .filter(order_event::Column::Id.is_in(wanted.iter().map(|p| p.event_id)))
        .all(&state.db)
        .await?;
    let order_ids: HashSet<Uuid> = rows.iter().map(|r| r.order_id).collect();
    let orders: HashMap<Uuid, Arc<order::Model>> = order::Entity::find()
        .filter(order::Column::Id.is_in(order_ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|o| (o.id, Arc::new(o)))
        .collect();
    let published: HashMap<Uuid, Published> = wanted.iter().map(|p| (p.event_id, *p)).collect();
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let order = orders.get(&row.order_id)?.clone();
            let published = *published.get(&row.id)?;
            Some((
                row.id,
                Arc::new(LoadedEvent {
                    published,
                    row,
                    order,
                }),
            ))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_goes_to_its_student_its_school_and_admins_only() {
        let p = Published {
            event_id: Uuid::from_u128(1),
            order_id: Uuid::from_u128(2),
            school_id: Uuid::from_u128(3),
            account_id: Some(Uuid::from_u128(4)),
        };
        let routes: Vec<Route> = Route::of_event(&p).collect();
        assert_eq!(
            routes,
            vec![
                Route::Account(Uuid::from_u128(4)),
                Route::School(Uuid::from_u128(3)),
                Route::All
            ]
        );
    }
}
