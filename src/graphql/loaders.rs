//! Per-request DataLoaders, so a page of objects costs a constant number of queries.
use crate::error::ApiResult;
use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    AppState,
    entities::{account, enrollment, photo, project, school},
    error::AppError,
};

pub struct DbLoader {
    state: AppState,
}

pub fn new_loader(state: AppState) -> DataLoader<DbLoader> {
    DataLoader::new(DbLoader { state }, tokio::spawn)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SchoolId(pub Uuid);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProjectId(pub Uuid);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccountId(pub Uuid);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnrollmentId(pub Uuid);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PhotoId(pub Uuid);

type LoadResult<K, V> = Result<HashMap<K, V>, Arc<AppError>>;

impl Loader<SchoolId> for DbLoader {
    type Value = school::Model;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[SchoolId]) -> LoadResult<SchoolId, school::Model> {
        let rows = school::Entity::find()
            .filter(school::Column::Id.is_in(keys.iter().map(|k| k.0)))
            .all(&self.state.db)
            .await
            .map_err(|e| Arc::new(e.into()))?;
        Ok(rows.into_iter().map(|r| (SchoolId(r.id), r)).collect())
    }
}

impl Loader<ProjectId> for DbLoader {
    type Value = project::Model;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[ProjectId]) -> LoadResult<ProjectId, project::Model> {
        let rows = project::Entity::find()
            .filter(project::Column::Id.is_in(keys.iter().map(|k| k.0)))
            .all(&self.state.db)
            .await
            .map_err(|e| Arc::new(e.into()))?;
        Ok(rows.into_iter().map(|r| (ProjectId(r.id), r)).collect())
    }
}

impl Loader<AccountId> for DbLoader {
    type Value = account::Model;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[AccountId]) -> LoadResult<AccountId, account::Model> {
        let rows = account::Entity::find()
            .filter(account::Column::Id.is_in(keys.iter().map(|k| k.0)))
            .all(&self.state.db)
            .await
            .map_err(|e| Arc::new(e.into()))?;
        Ok(rows.into_iter().map(|r| (AccountId(r.id), r)).collect())
    }
}

impl Loader<EnrollmentId> for DbLoader {
    type Value = enrollment::Model;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[EnrollmentId]) -> LoadResult<EnrollmentId, enrollment::Model> {
        let rows = enrollment::Entity::find()
            .filter(enrollment::Column::Id.is_in(keys.iter().map(|k| k.0)))
            .all(&self.state.db)
            .await
            .map_err(|e| Arc::new(e.into()))?;
        Ok(rows.into_iter().map(|r| (EnrollmentId(r.id), r)).collect())
    }
}

impl Loader<PhotoId> for DbLoader {
    type Value = photo::Model;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[PhotoId]) -> LoadResult<PhotoId, photo::Model> {
        let rows = photo::Entity::find()
            .filter(photo::Column::Id.is_in(keys.iter().map(|k| k.0)))
            .all(&self.state.db)
            .await
            .map_err(|e| Arc::new(e.into()))?;
        Ok(rows.into_iter().map(|r| (PhotoId(r.id), r)).collect())
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
