//! Documents by their SHA-256 (Apollo's automatic persisted queries): a client sends a hash, and
//! the document itself only the first time. Kept in Redis when configured (every instance sees
//! what any one stored; a week, renewed on use), else in a bounded in-process LRU. A Redis that
//! cannot answer is a miss: the client sends the document again.
use std::{collections::HashMap, sync::Mutex};

use sha2::{Digest, Sha256};

/// Documents one process keeps without Redis.
pub const LOCAL_CAPACITY: usize = 1_000;
/// How long Redis keeps a document after its last use.
const REDIS_TTL_SECS: u64 = 7 * 24 * 3600;

/// The lowercase hex SHA-256 of a document's text, as Apollo clients send it.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A map holding at most `capacity` entries, forgetting the least recently used.
pub struct Lru<V> {
    capacity: usize,
    tick: u64,
    entries: HashMap<String, (V, u64)>,
}

impl<V: Clone> Lru<V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            tick: 0,
            entries: HashMap::new(),
        }
    }

    pub fn get(&mut self, key: &str) -> Option<V> {
        self.tick += 1;
        let tick = self.tick;
        self.entries.get_mut(key).map(|(value, used)| {
            *used = tick;
            value.clone()
        })
    }

    pub fn put(&mut self, key: String, value: V) {
        self.tick += 1;
        if !self.entries.contains_key(&key)
            && self.entries.len() >= self.capacity
            && let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
        {
            self.entries.remove(&oldest);
        }
        self.entries.insert(key, (value, self.tick));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

pub enum PersistedQueries {
    Local(Mutex<Lru<String>>),
    Redis {
        client: redis::Client,
        connection: tokio::sync::OnceCell<redis::aio::ConnectionManager>,
        namespace: String,
    },
}

impl PersistedQueries {
    pub fn local() -> Self {
        Self::Local(Mutex::new(Lru::new(LOCAL_CAPACITY)))
    }

    pub fn redis(client: redis::Client, namespace: &str) -> Self {
        Self::Redis {
            client,
            connection: tokio::sync::OnceCell::new(),
            namespace: namespace.to_string(),
        }
    }

    async fn connection(
        client: &redis::Client,
        cell: &tokio::sync::OnceCell<redis::aio::ConnectionManager>,
    ) -> Result<redis::aio::ConnectionManager, redis::RedisError> {
        Ok(cell
            .get_or_try_init(|| redis::aio::ConnectionManager::new(client.clone()))
            .await?
            .clone())
    }

    /// The document stored under `hash`, if any.
    pub async fn get(&self, hash: &str) -> Option<String> {
        match self {
            Self::Local(lru) => lru.lock().ok()?.get(hash),
            Self::Redis {
                client,
                connection,
                namespace,
            } => {
                let key = format!("{namespace}:apq:{hash}");
                let result: Result<Option<String>, redis::RedisError> = async {
                    let mut conn = Self::connection(client, connection).await?;
                    redis::cmd("GETEX")
                        .arg(&key)
                        .arg("EX")
                        .arg(REDIS_TTL_SECS)
                        .query_async(&mut conn)
                        .await
                }
                .await;
                result
                    .inspect_err(|e| tracing::warn!(error = %e, "reading a persisted query"))
                    .ok()
                    .flatten()
            }
        }
    }

    /// Stores `text` under its hash (the caller checked that they match).
    pub async fn put(&self, hash: &str, text: &str) {
        match self {
            Self::Local(lru) => {
                if let Ok(mut lru) = lru.lock() {
                    lru.put(hash.to_string(), text.to_string());
                }
            }
            Self::Redis {
                client,
                connection,
                namespace,
            } => {
                let key = format!("{namespace}:apq:{hash}");
                let result: Result<(), redis::RedisError> = async {
                    let mut conn = Self::connection(client, connection).await?;
                    redis::cmd("SET")
                        .arg(&key)
                        .arg(text)
                        .arg("EX")
                        .arg(REDIS_TTL_SECS)
                        .query_async(&mut conn)
                        .await
                }
                .await;
                if let Err(e) = result {
                    tracing::warn!(error = %e, "storing a persisted query");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_entry_goes_first() {
        let mut lru = Lru::new(2);
        lru.put("a".into(), 1);
        lru.put("b".into(), 2);
        assert_eq!(lru.get("a"), Some(1));
        lru.put("c".into(), 3);
        assert_eq!(lru.get("b"), None);
        assert_eq!(lru.get("a"), Some(1));
        assert_eq!(lru.get("c"), Some(3));
        assert_eq!(lru.len(), 2);
    }

    #[test]
    fn hashes_are_lowercase_hex_sha256() {
        assert_eq!(
            sha256_hex("{ __typename }"),
            hex::encode(Sha256::digest(b"{ __typename }"))
        );
        assert_eq!(sha256_hex("").len(), 64);
    }
}
