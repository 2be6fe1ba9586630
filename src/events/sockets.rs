//! Open WebSockets by the session they were opened with, so that a session that ends closes its
//! sockets at once on every instance.
//!
//! A socket authenticates once, at `connection_init`; without this it would keep receiving
//! events and running operations after sign-out, sign-out everywhere, account deletion or
//! expiry. Ending a session publishes [`BusMessage::SessionsEnded`] (through Redis when
//! configured, so every instance hears it); this registry's one task per instance wakes the
//! sockets concerned, and each re-reads its session from the database — the database decides,
//! the message only says when to look. Expiry needs no message: the same task wakes sockets
//! whose session has passed its expiry time, by the service's clock, once a second.
use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, broadcast::error::RecvError};
use uuid::Uuid;

use super::BusMessage;
use crate::AppState;

/// How often sessions are compared with their expiry time.
const EXPIRY_SWEEP: Duration = Duration::from_secs(1);

struct Watched {
    account_id: Uuid,
    session_id: Uuid,
    expires_at: DateTime<Utc>,
    wake: Arc<Notify>,
}

#[derive(Default)]
pub struct SocketSessions {
    sockets: Mutex<HashMap<u64, Watched>>,
    next_id: AtomicU64,
    started: OnceLock<()>,
}

/// A socket's place in the registry; dropping it (the socket closed) removes it.
pub struct Registration {
    id: u64,
    registry: Arc<SocketSessions>,
    wake: Arc<Notify>,
}

impl Registration {
    /// Resolves when the socket's session may have ended: check it again.
    pub async fn woken(&self) {
        self.wake.notified().await;
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut sockets) = self.registry.sockets.lock() {
            sockets.remove(&self.id);
        }
    }
}

impl SocketSessions {
    pub fn register(
        self: &Arc<Self>,
        state: &AppState,
        account_id: Uuid,
        session_id: Uuid,
        expires_at: DateTime<Utc>,
    ) -> Registration {
        self.started.get_or_init(|| {
            tokio::spawn(watch_bus(self.clone(), state.clone()));
            tokio::spawn(watch_expiry(Arc::downgrade(self), state.clone()));
        });
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let wake = Arc::new(Notify::new());
        if let Ok(mut sockets) = self.sockets.lock() {
            sockets.insert(
                id,
                Watched {
                    account_id,
                    session_id,
                    expires_at,
                    wake: wake.clone(),
                },
            );
        }
        Registration {
            id,
            registry: self.clone(),
            wake,
        }
    }

    /// Wakes the sockets `pick` selects. `notify_one` keeps a permit when the socket is busy, so
    /// no wake-up is lost.
    fn wake(&self, pick: impl Fn(&Watched) -> bool) {
        if let Ok(sockets) = self.sockets.lock() {
            sockets
                .values()
                .filter(|w| pick(w))
                .for_each(|w| w.wake.notify_one());
        }
    }

    pub fn open_sockets(&self) -> usize {
        self.sockets.lock().map_or(0, |s| s.len())
    }
}

async fn watch_bus(registry: Arc<SocketSessions>, state: AppState) {
    let mut messages = state.bus.subscribe();
    loop {
        match messages.recv().await {
            Ok(BusMessage::SessionsEnded {
                account_id,
                session_id,
            }) => registry.wake(|w| {
                w.account_id == account_id && session_id.is_none_or(|s| s == w.session_id)
            }),
            // A message may have been missed while the bus reconnected or this task lagged:
            // every socket checks its session again.
            Ok(BusMessage::Resync) | Err(RecvError::Lagged(_)) => registry.wake(|_| true),
            Ok(_) => {}
            Err(RecvError::Closed) => return,
        }
    }
}

async fn watch_expiry(registry: std::sync::Weak<SocketSessions>, state: AppState) {
    let mut tick = tokio::time::interval(EXPIRY_SWEEP);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(registry) = registry.upgrade() else {
            return;
        };
        let now = state.clock.now();
        registry.wake(|w| w.expires_at <= now);
    }
}

/// Tells every instance that sessions ended: one session, or every session of the account.
/// Called after the revocation committed; a lost message is made up for by the socket's check
/// before each operation.
pub async fn announce_ended(state: &AppState, account_id: Uuid, session_id: Option<Uuid>) {
    super::notify(
        state,
        BusMessage::SessionsEnded {
            account_id,
            session_id,
        },
    )
    .await;
}
