//! Per-request DataLoaders, so a page of objects costs a constant number of queries.
use crate::error::ApiResult;
use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    AppState,
    entities::{account, enrollment, order, order_event, photo, project, school},
    error::AppError,
};

pub struct DbLoader {
    state: AppState,
}

pub fn new_loader(state: AppState) -> DataLoader<DbLoader> {
    DataLoader::new(DbLoader { state }, tokio::spawn)
}

type LoadResult<K, V> = Result<HashMap<K, V>, Arc<AppError>>;

/// A key type for rows of `$entity` looked up by primary key, and its batched loader: one
/// `WHERE id IN (…)` per request tick, however many objects ask.
macro_rules! by_id_loader {
    ($key:ident, $entity:ident) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $key(pub Uuid);

        impl Loader<$key> for DbLoader {
            type Value = $entity::Model;
            type Error = Arc<AppError>;

            async fn load(&self, keys: &[$key]) -> LoadResult<$key, $entity::Model> {
                let rows = $entity::Entity::find()
                    .filter($entity::Column::Id.is_in(keys.iter().map(|k| k.0)))
                    .all(&self.state.db)
                    .await
                    .map_err(|e| Arc::new(e.into()))?;
                Ok(rows.into_iter().map(|r| ($key(r.id), r)).collect())
            }
        }
    };
}

by_id_loader!(SchoolId, school);
by_id_loader!(ProjectId, project);
by_id_loader!(AccountId, account);
by_id_loader!(EnrollmentId, enrollment);
by_id_loader!(PhotoId, photo);
by_id_loader!(OrderId, order);

/// Child rows under their parent's key, every key present (a parent without children gets an
/// empty list), in the order the rows came.
fn grouped<K, V>(keys: &[K], rows: Vec<V>, parent: impl Fn(&V) -> K) -> HashMap<K, Vec<V>>
where
    K: Copy + Eq + std::hash::Hash,
{
    let mut out: HashMap<K, Vec<V>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for row in rows {
        out.entry(parent(&row)).or_default().push(row);
    }
    out
}

/// An order's events (its audit trail), oldest first: one query for a whole page of orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventsOfOrder(pub Uuid);

impl Loader<EventsOfOrder> for DbLoader {
    type Value = Vec<order_event::Model>;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[EventsOfOrder]) -> LoadResult<EventsOfOrder, Self::Value> {
        use sea_orm::QueryOrder;
        let rows = order_event::Entity::find()
            .filter(order_event::Column::OrderId.is_in(keys.iter().map(|k| k.0)))
            .order_by_asc(order_event::Column::OrderId)
            .order_by_asc(order_event::Column::Sequence)
            .all(&self.state.db)
            .await
            .map_err(|e| Arc::new(e.into()))?;
        Ok(grouped(keys, rows, |row| EventsOfOrder(row.order_id)))
    }
}

/// A support ticket's messages, oldest first: one query for a whole list of tickets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessagesOfTicket(pub Uuid);

impl Loader<MessagesOfTicket> for DbLoader {
    type Value = Vec<crate::entities::support_message::Model>;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[MessagesOfTicket]) -> LoadResult<MessagesOfTicket, Self::Value> {
        use crate::entities::support_message;
        use sea_orm::QueryOrder;
        let rows = support_message::Entity::find()
            .filter(support_message::Column::TicketId.is_in(keys.iter().map(|k| k.0)))
            .order_by_asc(support_message::Column::Id)
            .all(&self.state.db)
            .await
            .map_err(|e| Arc::new(e.into()))?;
        Ok(grouped(keys, rows, |row| MessagesOfTicket(row.ticket_id)))
    }
}

/// Loads one row through the request's DataLoader.
pub async fn load<K>(
    ctx: &async_graphql::Context<'_>,
    key: K,
) -> ApiResult<Option<<DbLoader as Loader<K>>::Value>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    DbLoader: Loader<K, Error = Arc<AppError>>,
{
    let loader = ctx.data_unchecked::<DataLoader<DbLoader>>();
    loader.load_one(key).await.map_err(|e| {
        let e = Arc::try_unwrap(e).unwrap_or_else(|shared| AppError::internal(shared.to_string()));
        e.into()
    })
}
