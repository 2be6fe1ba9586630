//! The event bus: `tokio::sync::broadcast` inside one process; with Redis, one pub/sub connection
//! per instance feeds the same in-process broadcast, so a GraphQL subscriber never holds a Redis
//! connection of its own.
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use tokio::sync::broadcast;

use super::BusMessage;

/// Events buffered per subscriber before it counts as lagging (it then resynchronises from the
/// database instead of slowing anyone down).
const CAPACITY: usize = 4096;
const CHANNEL: &str = "campus-photo:order-events";

#[async_trait]
pub trait EventBus: Send + Sync {
    async fn publish(&self, event: &BusMessage) -> anyhow::Result<()>;
    fn subscribe(&self) -> broadcast::Receiver<BusMessage>;
}

/// One process: a broadcast channel.
pub struct LocalBus {
    sender: broadcast::Sender<BusMessage>,
}

impl LocalBus {
    pub fn new() -> Self {
        Self {
            sender: broadcast::channel(CAPACITY).0,
        }
    }
}

impl Default for LocalBus {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl EventBus for LocalBus {
    async fn publish(&self, event: &BusMessage) -> anyhow::Result<()> {
        // No receiver is not an error: nobody is listening.
        let _ = self.sender.send(*event);
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<BusMessage> {
        self.sender.subscribe()
    }
}

/// Several instances: publish to Redis only (the subscribing connection brings our own messages
/// back, so publishing locally too would deliver twice).
pub struct RedisBus {
    client: redis::Client,
    publisher: tokio::sync::OnceCell<redis::aio::ConnectionManager>,
    local: broadcast::Sender<BusMessage>,
}

impl RedisBus {
    /// Starts the instance's one subscribing connection, reconnecting whenever it drops.
    pub fn start(client: redis::Client) -> std::sync::Arc<Self> {
        let bus = std::sync::Arc::new(Self {
            client: client.clone(),
            publisher: tokio::sync::OnceCell::new(),
            local: broadcast::channel(CAPACITY).0,
        });
        let local = bus.local.clone();
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(100);
            loop {
                match listen(&client, &local).await {
                    Ok(()) => tracing::warn!("redis subscription ended; reconnecting"),
                    Err(e) => tracing::warn!(error = %e, "redis subscription failed; reconnecting"),
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        });
        bus
    }
}

async fn listen(
    client: &redis::Client,
    local: &broadcast::Sender<BusMessage>,
) -> anyhow::Result<()> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(CHANNEL).await?;
    tracing::info!("subscribed to the redis event channel");
    let _ = local.send(BusMessage::Resync);
    let mut messages = pubsub.on_message();
    while let Some(message) = messages.next().await {
        let payload: String = message.get_payload()?;
        match serde_json::from_str::<BusMessage>(&payload) {
            Ok(event) => {
                let _ = local.send(event);
            }
            Err(e) => tracing::warn!(error = %e, "ignoring a malformed bus message"),
        }
    }
    Ok(())
}

#[async_trait]
impl EventBus for RedisBus {
    async fn publish(&self, event: &BusMessage) -> anyhow::Result<()> {
        let mut conn = self
            .publisher
            .get_or_try_init(|| redis::aio::ConnectionManager::new(self.client.clone()))
            .await?
            .clone();
        let payload = serde_json::to_string(event)?;
        redis::cmd("PUBLISH")
            .arg(CHANNEL)
            .arg(payload)
            .query_async::<i64>(&mut conn)
            .await?;
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<BusMessage> {
        self.local.subscribe()
    }
}
