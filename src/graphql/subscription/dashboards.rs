//! Dashboards' subscriptions: `queueStats` (counts pushed when they change, coalesced) and
//! `productionProgress` (a batch's counts while it runs).
use std::time::Duration;

use futures::Stream;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use crate::events::BusMessage;
use crate::{
    AppState,
    entities::production_batch,
    error::AppResult,
    services::{production, review, sessions::Viewer},
};

/// At most 4 updates a second.
const COALESCE: Duration = Duration::from_millis(250);

/// Pushes `review::counts` now, then again whenever an order or claim of the scope changes.
pub fn queue_counts(
    state: AppState,
    viewer: Viewer,
    school: Option<Uuid>,
    school_code: Option<String>,
) -> impl Stream<Item = AppResult<review::Counts>> {
    async_stream::try_stream! {
        let mut live = state.bus.subscribe();
        let mut last = review::counts(&state, &viewer, school_code.as_deref()).await?;
        yield last.clone();
        let concerns = |m: &BusMessage| match (m, school) {
            (BusMessage::OrderEvent(p), Some(s)) => p.school_id == s,
            (BusMessage::ClaimsChanged { school_id }, Some(s)) => *school_id == s,
            (BusMessage::OrderEvent(p), None) => {
                crate::services::scope::in_school_scope(&viewer, p.school_id).is_ok()
            }
            (BusMessage::ClaimsChanged { school_id }, None) => {
                crate::services::scope::in_school_scope(&viewer, *school_id).is_ok()
            }
            (
                BusMessage::BatchProgress { .. }
                | BusMessage::TicketChanged { .. }
                | BusMessage::SessionsEnded { .. },
                _,
            ) => false,
            (BusMessage::Resync, _) => true,
        };
        loop {
            match live.recv().await {
                Ok(m) if concerns(&m) => {}
                Ok(_) => continue,
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            }
            // Let a burst settle, then read once: one update for many changes.
            tokio::time::sleep(COALESCE).await;
            while let Ok(_) | Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) =
                live.try_recv()
            {}
            let now = review::counts(&state, &viewer, school_code.as_deref()).await?;
            if now.by_status != last.by_status || now.claimed != last.claimed {
                last = now.clone();
                yield now;
            }
        }
    }
}

/// The batch now, then after each order it handles; ends once it is finished.
pub fn batch_progress(
    state: AppState,
    viewer: Viewer,
    batch_id: Uuid,
) -> impl Stream<Item = AppResult<production_batch::Model>> {
    async_stream::try_stream! {
        let mut live = state.bus.subscribe();
        let mut batch = production::batch_for(&state, &viewer, batch_id).await?;
        yield batch.clone();
        while batch.state != campus_photo_domain::records::BatchState::Finished {
            match tokio::time::timeout(Duration::from_secs(5), live.recv()).await {
                Ok(Ok(BusMessage::BatchProgress { batch_id: id })) if id == batch_id => {}
                Ok(Ok(BusMessage::Resync)) => {}
                Ok(Ok(_)) => continue,
                Ok(Err(RecvError::Closed)) => break,
                // Lagged, or quiet for a while: read the batch anyway.
                Ok(Err(RecvError::Lagged(_))) | Err(_) => {}
            }
            let now = production::batch_for(&state, &viewer, batch_id).await?;
            if now != batch {
                batch = now;
                yield batch.clone();
            }
        }
    }
}
