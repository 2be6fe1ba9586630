//! Rate limits on what costs money or CPU or invites guessing: sign-in (per IP), decoding
//! collection codes, photo uploads and opening payments (per account), payment notifications
//! (per IP). Fixed windows counted in Redis when configured — every instance counts together —
//! and in process otherwise. Over the limit → `THROTTLED` with `retryAfterSeconds`.
//! A Redis outage lets requests through (logged): limits protect the service, they must not
//! take it down with them.
use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use uuid::Uuid;

pub use crate::config::limits::{Action, Rule};
use crate::{
    clock::SharedClock,
    error::{AppError, AppResult},
};

/// Who is counted.
#[derive(Debug, Clone, Copy)]
pub enum Subject {
    Account(Uuid),
    Ip(IpAddr),
    /// The peer address is unknown (no connection info): one shared bucket.
    UnknownIp,
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Account(id) => write!(f, "a:{id}"),
            Self::Ip(ip) => write!(f, "ip:{ip}"),
            Self::UnknownIp => f.write_str("ip:unknown"),
        }
    }
}

/// Counts hits of a key that expires after `ttl_secs`.
#[async_trait]
pub trait Counter: Send + Sync {
    async fn incr(&self, key: &str, ttl_secs: u64, now_secs: i64) -> Result<u64, String>;
}

/// One process.
#[derive(Default)]
pub struct LocalCounter(Mutex<HashMap<String, (u64, i64)>>);

#[async_trait]
impl Counter for LocalCounter {
    async fn incr(&self, key: &str, ttl_secs: u64, now_secs: i64) -> Result<u64, String> {
        let mut map = self
            .0
            .lock()
            .map_err(|_| "limiter lock poisoned".to_string())?;
        if map.len() > 100_000 {
            map.retain(|_, (_, expires)| *expires > now_secs);
        }
        let expires = now_secs.saturating_add(i64::try_from(ttl_secs).unwrap_or(i64::MAX));
        let entry = map.entry(key.to_string()).or_insert((0, expires));
        if entry.1 <= now_secs {
            *entry = (0, expires);
        }
        entry.0 += 1;
        Ok(entry.0)
    }
}

/// Shared by every instance: `INCR` then `EXPIRE` on the first hit.
pub struct RedisCounter {
    client: redis::Client,
    connection: tokio::sync::OnceCell<redis::aio::ConnectionManager>,
}

impl RedisCounter {
    pub fn new(client: redis::Client) -> Self {
        Self {
            client,
            connection: tokio::sync::OnceCell::new(),
        }
    }
}

#[async_trait]
impl Counter for RedisCounter {
    async fn incr(&self, key: &str, ttl_secs: u64, _now_secs: i64) -> Result<u64, String> {
        let mut conn = self
            .connection
            .get_or_try_init(|| redis::aio::ConnectionManager::new(self.client.clone()))
            .await
            .map_err(|e| e.to_string())?
            .clone();
        let (count, _): (u64, i64) = redis::pipe()
            .cmd("INCR")
            .arg(key)
            // The key names its window, so renewing the expiry on every hit is harmless (and
            // works on Redis before 7, which has no EXPIRE NX).
            .cmd("EXPIRE")
            .arg(key)
            .arg(ttl_secs)
            .query_async(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        Ok(count)
    }
}

/// The limiter of one deployment.
pub struct Limiter {
    counter: Arc<dyn Counter>,
    rules: HashMap<Action, Rule>,
    /// Keeps deployments (and test instances) sharing one Redis apart.
    namespace: String,
    clock: SharedClock,
}

impl Limiter {
    pub fn new(
        counter: Arc<dyn Counter>,
        rules: HashMap<Action, Rule>,
        namespace: String,
        clock: SharedClock,
    ) -> Self {
        Self {
            counter,
            rules,
            namespace,
            clock,
        }
    }

    fn rule(&self, action: Action) -> Rule {
        self.rules
            .get(&action)
            .copied()
            .unwrap_or(action.default_rule())
    }

    /// Counts one `action` by `subject`; THROTTLED once over the limit for this window.
    pub async fn check(&self, action: Action, subject: Subject) -> AppResult<()> {
        let rule = self.rule(action);
        let now = self.clock.now().timestamp();
        let (window, retry_after_secs) = rule.window(now);
        let key = format!("{}:rl:{}:{subject}:{window}", self.namespace, action.name());
        match self.counter.incr(&key, rule.window_secs + 1, now).await {
            Ok(count) if count > rule.max => {
                tracing::info!(action = action.name(), %subject, count, "rate limited");
                Err(AppError::Throttled { retry_after_secs })
            }
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::warn!(error = %e, "rate-limit counter unavailable; letting the request through");
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_and_windows_end_on_time() {
        assert_eq!(Rule::parse("20/60"), Some(Rule::new(20, 60)));
        assert_eq!(Rule::parse(" 5 / 1 "), Some(Rule::new(5, 1)));
        for bad in ["", "20", "0/60", "20/0", "a/b", "-1/60"] {
            assert_eq!(Rule::parse(bad), None, "{bad}");
        }
        let rule = Rule::new(5, 60);
        assert_eq!(rule.window(120), (2, 60));
        assert_eq!(rule.window(179), (2, 1));
        assert_eq!(rule.window(180), (3, 60));
    }

    #[tokio::test]
    async fn the_local_counter_resets_when_its_key_expires() {
        let c = LocalCounter::default();
        assert_eq!(c.incr("k", 10, 100).await, Ok(1));
        assert_eq!(c.incr("k", 10, 105).await, Ok(2));
        assert_eq!(c.incr("other", 10, 105).await, Ok(1));
        assert_eq!(c.incr("k", 10, 110).await, Ok(1));
    }

    #[tokio::test]
    async fn over_the_limit_is_throttled_until_the_window_ends() {
        let start = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let clock = crate::clock::ManualClock::new(start);
        let rules = HashMap::from([(Action::Upload, Rule::new(2, 60))]);
        let limiter = Limiter::new(
            Arc::new(LocalCounter::default()),
            rules,
            "t".into(),
            Arc::new(clock.clone()),
        );
        let me = Subject::Account(Uuid::nil());
        let other = Subject::Account(Uuid::max());
        assert!(limiter.check(Action::Upload, me).await.is_ok());
        assert!(limiter.check(Action::Upload, me).await.is_ok());
        match limiter.check(Action::Upload, me).await {
            Err(AppError::Throttled { retry_after_secs }) => {
                assert!((1..=60).contains(&retry_after_secs))
            }
            other => panic!("expected THROTTLED, got {other:?}"),
        }
        // Someone else, or another action, is counted apart.
        assert!(limiter.check(Action::Upload, other).await.is_ok());
        assert!(limiter.check(Action::DecodeCode, me).await.is_ok());
        clock.advance(chrono::Duration::seconds(60));
        assert!(limiter.check(Action::Upload, me).await.is_ok());
    }
}
