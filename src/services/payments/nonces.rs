//! Replay protection for WeChat Pay notifications, in two phases. A nonce is first claimed as
//! pending (its notification is being applied), then marked done once the notification was
//! applied. A nonce seen again is a replay when done; when still pending it is a delivery being
//! worked on (busy, WeChat retries later) — or, once older than [`PENDING_TAKEOVER_SECS`], one
//! whose worker died between claiming and committing, which the retry takes over and completes.
//! Applying is idempotent, so a takeover racing a slow worker changes nothing twice.
//! Redis when configured (shared by all instances), the database otherwise.
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
/// A pending claim older than this belongs to a worker that is gone.
pub const PENDING_TAKEOVER_SECS: i64 = 60;

/// What a nonce's claim found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// New (or taken over from a worker that died): apply the notification.
    Fresh,
    /// Its notification was applied already.
    Replayed,
    /// Another worker is applying it right now.
    Busy,
}

#[async_trait]
pub trait NonceStore: Send + Sync {
    async fn claim(&self, nonce: &str, now: DateTime<Utc>) -> AppResult<Claim>;
    /// The nonce's notification was applied (or refused for good): later copies are replays.
    async fn complete(&self, nonce: &str) -> AppResult<()>;
    /// Drops nonces older than the replay window.
    async fn forget_before(&self, cutoff: DateTime<Utc>) -> AppResult<()>;
    /// Forgets one nonce: its notification failed on our side (database down …), so WeChat's
    /// retry of the very same request must be accepted, not refused as a replay.
    async fn release(&self, nonce: &str) -> AppResult<()>;
}

pub struct DbNonces(pub DatabaseConnection);

#[async_trait]
impl NonceStore for DbNonces {
    async fn claim(&self, nonce: &str, now: DateTime<Utc>) -> AppResult<Claim> {
        let row = payment_nonce::ActiveModel {
            nonce: Set(nonce.to_string()),
            seen_at: Set(now),
            done: Set(false),
        };
        match row.insert(&self.0).await {
            Ok(_) => return Ok(Claim::Fresh),
            Err(e) if is_unique_violation(&e) => {}
            Err(e) => return Err(e.into()),
        }
        let Some(seen) = payment_nonce::Entity::find_by_id(nonce.to_string())
            .one(&self.0)
            .await?
        else {
            // Forgotten in between: claim again next time.
            return Ok(Claim::Busy);
        };
        if seen.done {
            return Ok(Claim::Replayed);
        }
        if now - seen.seen_at < TimeDelta::seconds(PENDING_TAKEOVER_SECS) {
            return Ok(Claim::Busy);
        }
        // Take the abandoned claim over; of two retries racing for it, one wins.
        let taken = payment_nonce::Entity::update_many()
            .col_expr(
                payment_nonce::Column::SeenAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(payment_nonce::Column::Nonce.eq(nonce))
            .filter(payment_nonce::Column::Done.eq(false))
            .filter(payment_nonce::Column::SeenAt.eq(seen.seen_at))
            .exec(&self.0)
            .await?;
        Ok(if taken.rows_affected == 1 {
            Claim::Fresh
        } else {
            Claim::Busy
        })
    }

    async fn complete(&self, nonce: &str) -> AppResult<()> {
        payment_nonce::Entity::update_many()
            .col_expr(
                payment_nonce::Column::Done,
                sea_orm::sea_query::Expr::value(true),
            )
            .filter(payment_nonce::Column::Nonce.eq(nonce))
            .exec(&self.0)
            .await?;
        Ok(())
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

fn key(nonce: &str) -> String {
    format!("campus-photo:wechatpay:nonce:{nonce}")
}

fn redis_error(e: redis::RedisError) -> AppError {
    AppError::Internal(format!("redis: {e}"))
}

#[async_trait]
impl NonceStore for RedisNonces {
    async fn claim(&self, nonce: &str, now: DateTime<Utc>) -> AppResult<Claim> {
        let mut conn = self.connection().await?;
        let pending = format!("pending:{}", now.timestamp());
        let set: Option<String> = redis::cmd("SET")
            .arg(key(nonce))
            .arg(&pending)
            .arg("NX")
            .arg("EX")
            .arg(REMEMBER_SECS)
            .query_async(&mut conn)
            .await
            .map_err(redis_error)?;
        if set.is_some() {
            return Ok(Claim::Fresh);
        }
        let seen: Option<String> = redis::cmd("GET")
            .arg(key(nonce))
            .query_async(&mut conn)
            .await
            .map_err(redis_error)?;
        let Some(seen) = seen else {
            return Ok(Claim::Busy);
        };
        let Some(since) = seen
            .strip_prefix("pending:")
            .and_then(|t| t.parse::<i64>().ok())
        else {
            return Ok(Claim::Replayed);
        };
        if now.timestamp() - since < PENDING_TAKEOVER_SECS {
            return Ok(Claim::Busy);
        }
        // Take the abandoned claim over: only if it is still the value we read.
        let taken: i64 = redis::Script::new(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) return 1 else return 0 end",
        )
        .key(key(nonce))
        .arg(&seen)
        .arg(&pending)
        .arg(REMEMBER_SECS)
        .invoke_async(&mut conn)
        .await
        .map_err(redis_error)?;
        Ok(if taken == 1 {
            Claim::Fresh
        } else {
            Claim::Busy
        })
    }

    async fn complete(&self, nonce: &str) -> AppResult<()> {
        let mut conn = self.connection().await?;
        let _: () = redis::cmd("SET")
            .arg(key(nonce))
            .arg("done")
            .arg("EX")
            .arg(REMEMBER_SECS)
            .query_async(&mut conn)
            .await
            .map_err(redis_error)?;
        Ok(())
    }

    async fn forget_before(&self, _cutoff: DateTime<Utc>) -> AppResult<()> {
        // Redis expires them by itself.
        Ok(())
    }

    async fn release(&self, nonce: &str) -> AppResult<()> {
        let mut conn = self.connection().await?;
        let _: i64 = redis::cmd("DEL")
            .arg(key(nonce))
            .query_async(&mut conn)
            .await
            .map_err(redis_error)?;
        Ok(())
    }
}

pub async fn forget_old(state: &AppState) -> AppResult<()> {
    let window = TimeDelta::seconds(i64::try_from(REMEMBER_SECS).unwrap_or(900));
    state.nonces.forget_before(state.clock.now() - window).await
}
