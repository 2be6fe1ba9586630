//! Order events on their way out: every transition writes an `order_events` row (the outbox) in
//! its transaction; the relay publishes unpublished rows on the bus after commit, and again any a
//! crash left behind, so delivery is at-least-once (subscribers drop event ids they have sent).
pub mod bus;
pub mod hub;
pub mod relay;
pub mod sockets;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What travels on the bus: enough to decide who may see the event without a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    pub event_id: Uuid,
    pub order_id: Uuid,
    pub school_id: Uuid,
    pub account_id: Option<Uuid>,
}

/// Everything the bus carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum BusMessage {
    /// An order event row was committed (from the outbox).
    OrderEvent(Published),
    /// Review claims of a school changed (claims write no order event).
    ClaimsChanged { school_id: Uuid },
    /// A production batch's counts moved, or it finished.
    BatchProgress { batch_id: Uuid },
    /// A support ticket was opened, answered or closed.
    TicketChanged {
        ticket_id: Uuid,
        account_id: Option<Uuid>,
        school_id: Option<Uuid>,
    },
    /// Sessions ended (sign-out, sign-out everywhere, account deletion): one session, or every
    /// session of the account when `session_id` is `None`. Their open WebSockets close.
    SessionsEnded {
        account_id: Uuid,
        session_id: Option<Uuid>,
    },
    /// Sent in process when the Redis subscription (re)connects: whatever was published while
    /// it was down never arrived, so subscribers re-read from the database.
    Resync,
}

/// Sends a message that needs no outbox (it only prompts a re-read); a lost one costs a refresh.
pub async fn notify(state: &crate::AppState, message: BusMessage) {
    if let Err(e) = state.bus.publish(&message).await {
        tracing::warn!(error = %e, "event bus unavailable");
    }
}
