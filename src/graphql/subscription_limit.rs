//! At most [`MAX_PER_CONNECTION`] subscriptions at once on one WebSocket: each costs memory and
//! a task for as long as it lives, and a client has no use for more (a dashboard needs three).
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use async_graphql::{ServerError, extensions::ExtensionContext};

pub const MAX_PER_CONNECTION: usize = 20;

/// The live subscriptions of one connection (put in the connection's data).
#[derive(Clone, Default)]
pub struct ConnectionSubscriptions(Arc<AtomicUsize>);

/// Holds one of the connection's subscriptions while it lives.
pub struct Held(Arc<AtomicUsize>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Takes one of the connection's subscriptions, or refuses with `THROTTLED` when all are taken.
/// `None` outside a WebSocket connection (nothing to count).
pub fn take(ctx: &ExtensionContext<'_>) -> Result<Option<Held>, ServerError> {
    let Some(live) = ctx.data_opt::<ConnectionSubscriptions>() else {
        return Ok(None);
    };
    let count = live.0.clone();
    let taken = count.fetch_add(1, Ordering::SeqCst);
    let held = Held(count);
    if taken >= MAX_PER_CONNECTION {
        drop(held);
        let mut error = ServerError::new(
            format!("同一连接最多同时订阅 {MAX_PER_CONNECTION} 个，请先取消不用的订阅"),
            None,
        );
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set("code", "THROTTLED");
        error.extensions = Some(extensions);
        return Err(error);
    }
    Ok(Some(held))
}
