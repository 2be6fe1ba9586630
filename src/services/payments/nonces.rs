//! Replay protection for WeChat Pay notifications: a nonce is accepted once. Redis `SET NX EX`
//! when Redis is configured (shared by all instances), the database otherwise.
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

use crate::{
    AppState,
    entities::payment_nonce,
    error::{AppError, AppResult, is_unique_violation},
};

/// Longer than the ±5 minute timestamp window on both sides, so a replay is always caught:
/// after this, the timestamp check refuses it.
const REMEMBER_SECS: u64 = 15 * 60;

#[async_trait]
pub trait NonceStore: Send + Sync {
    /// True when the nonce is new (and is now remembered); false for a replay.
    async fn claim(&self, nonce: &str, now: DateTime<Utc>) -> AppResult<bool>;
    /// Drops nonces older than the replay window.
    async fn forget_before(&self, cutoff: DateTime<Utc>) -> AppResult<()>;
    /// Forgets one nonce: its notification failed on our side (database down …), so WeChat's
    /// retry of the very same request must be accepted, not refused as a replay.
    async fn release(&self, nonce: &str) -> AppResult<()>;
}

pub struct DbNonces(pub DatabaseConnection);

#[async_trait]
impl NonceStore for DbNonces {
    async fn claim(&self, nonce: &str, now: DateTime<Utc>) -> AppResult<bool> {
        let row = payment_nonce::ActiveModel {
            nonce: Set(nonce.to_string()),
            seen_at: Set(now),
        };
        match row.insert(&self.0).await {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn forget_before(&self, cutoff: DateTime<Utc>) -> AppResult<()> {
        payment_nonce::Entity::delete_many()
            .filter(payment_nonce::Column::SeenAt.lt(cutoff))
            .exec(&self.0)
            .await?;
        Ok(())
    }

    async fn release(&self, nonce: &str) -> AppResult<()> {
        payment_nonce::Entity::delete_many()
            .filter(payment_nonce::Column::Nonce.eq(nonce))
            .exec(&self.0)
            .await?;
        Ok(())
    }
}

pub struct RedisNonces {
    client: redis::Client,
    connection: tokio::sync::OnceCell<redis::aio::ConnectionManager>,
}

impl RedisNonces {
    pub fn new(client: redis::Client) -> Self {
        Self {
            client,
            connection: tokio::sync::OnceCell::new(),
        }
    }

    async fn connection(&self) -> AppResult<redis::aio::ConnectionManager> {
        self.connection
            .get_or_try_init(|| async {
                redis::aio::ConnectionManager::new(self.client.clone())
                    .await
                    .map_err(|e| AppError::Internal(format!("redis: {e}")))
            })
            .await
            .cloned()
    }
}

#[async_trait]
impl NonceStore for RedisNonces {
    async fn claim(&self, nonce: &str, _now: DateTime<Utc>) -> AppResult<bool> {
        let mut conn = self.connection().await?;
        let set: Option<String> = redis::cmd("SET")
            .arg(format!("campus-photo:wechatpay:nonce:{nonce}"))
            .arg(1)
            .arg("NX")
            .arg("EX")
            .arg(REMEMBER_SECS)
            .query_async(&mut conn)
            .await
            .map_err(|e| AppError::Internal(format!("redis: {e}")))?;
        Ok(set.is_some())
    }

    async fn forget_before(&self, _cutoff: DateTime<Utc>) -> AppResult<()> {
        // Redis expires them by itself.
        Ok(())
    }

    async fn release(&self, nonce: &str) -> AppResult<()> {
        let mut conn = self.connection().await?;
        let _: i64 = redis::cmd("DEL")
            .arg(format!("campus-photo:wechatpay:nonce:{nonce}"))
            .query_async(&mut conn)
            .await
            .map_err(|e| AppError::Internal(format!("redis: {e}")))?;
        Ok(())
    }
}

pub async fn forget_old(state: &AppState) -> AppResult<()> {
    let window = TimeDelta::seconds(i64::try_from(REMEMBER_SECS).unwrap_or(900));
    state.nonces.forget_before(state.clock.now() - window).await
}
