//! GET /graphql/ws: graphql-transport-ws (and the legacy graphql-ws). The token travels in
//! `connection_init` as `{"authorization": "Bearer <token>"}` or `{"token": "<token>"}`.
use std::{sync::Arc, time::Duration};

use async_graphql::{Data, http::ALL_WEBSOCKET_PROTOCOLS};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::{
    extract::{
        State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    response::Response,
};
use futures::{SinkExt, StreamExt};
use tokio::sync::Notify;

use super::HttpState;
use crate::{
    events::sockets::Registration,
    graphql::loaders::new_loader,
    services::sessions::{self, Auth},
};

fn token_from_payload(payload: &serde_json::Value) -> Option<String> {
    let from_header = |v: &serde_json::Value| {
        v.as_str().and_then(|s| {
            let (scheme, token) = s.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_string())
        })
    };
    payload
        .get("authorization")
        .or_else(|| payload.get("Authorization"))
        .and_then(from_header)
        .or_else(|| {
            payload
                .get("token")
                .and_then(|t| t.as_str())
                .map(str::to_string)
        })
}

/// How long a client may take to send `connection_init`.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);

const READ_BUFFER: usize = 1024;
const WRITE_BUFFER: usize = 8 * 1024;
/// A subscribe message carries one document and its variables; anything larger is refused.
const MAX_CLIENT_MESSAGE: usize = 64 * 1024;

/// Close codes of graphql-transport-ws.
const BAD_REQUEST: u16 = 4400;
const UNAUTHORIZED: u16 = 4401;
const FORBIDDEN: u16 = 4403;
const INIT_TIMED_OUT: u16 = 4408;
/// RFC 6455: the server is going away.
const GOING_AWAY: u16 = 1001;

pub async fn upgrade(
    State(state): State<HttpState>,
    protocol: GraphQLProtocol,
    ws: WebSocketUpgrade,
) -> Response {
    // Clients send only small control messages; axum's 128 KiB default read buffer would be most
    // of an idle subscriber's memory (measured: 149 KiB each at 10 000 subscribers). Larger
    // messages still arrive whole: the buffer grows for them.
    ws.protocols(ALL_WEBSOCKET_PROTOCOLS)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| serve_socket(state, protocol, socket))
}

async fn close(mut socket: WebSocket, code: u16, reason: &str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
}

/// The handshake is ours, so that a bad or missing token closes with 4403 before anything else
/// and a subscribe before the acknowledgement with 4401; then async-graphql serves the socket,
/// with the `connection_init` it was not shown replayed to it. The session is checked again
/// before every operation and whenever it may have ended (sign-out anywhere, account deletion,
/// expiry): an ended session closes the socket with 4403.
async fn serve_socket(state: HttpState, protocol: GraphQLProtocol, mut socket: WebSocket) {
    let first = match tokio::time::timeout(INIT_TIMEOUT, socket.recv()).await {
        Err(_) => return close(socket, INIT_TIMED_OUT, "Connection initialisation timeout").await,
        Ok(None | Some(Err(_))) => return,
        Ok(Some(Ok(message))) => message,
    };
    // The parsed message lives only inside `handshake`, not for the socket's whole life.
    let (viewer, token) = match handshake(&state, &first).await {
        Ok(signed_in) => signed_in,
        Err((code, reason)) => return close(socket, code, reason).await,
    };
    let session = Arc::new(SessionCheck {
        app: state.app.clone(),
        token,
        session_id: viewer.session_id,
        refused: Notify::new(),
    });
    let registration = state.app.sockets.register(
        &state.app,
        viewer.account_id,
        viewer.session_id,
        viewer.expires_at,
    );
    let mut data = Data::default();
    data.insert(Auth::SignedIn(viewer));
    data.insert(new_loader(state.app.clone()));
    data.insert(crate::graphql::subscription_limit::ConnectionSubscriptions::default());
    let (mut sink, stream) = socket.split();
    let checked = {
        // One Arc per socket in the combinator and its pending future, not a copy of the state:
        // this sits in every idle subscriber's memory.
        let session = session.clone();
        futures::stream::iter([Ok(first)])
            .chain(stream)
            .then(move |message| check_operation(session.clone(), message))
    };
    let mut checked = std::pin::pin!(checked);
    let mut shutdown = state.app.shutdown.subscribe();
    let ending = {
        // Borrowed halves, so that the sink is ours again to say goodbye.
        let served = GraphQLWebSocket::new_with_pair(
            &mut sink,
            &mut checked,
            state.schema.clone(),
            protocol,
        )
        .on_connection_init(move |_| async move { Ok(data) })
        .serve();
        tokio::select! {
            () = served => None,
            _ = shutdown.wait_for(|down| *down) => Some((GOING_AWAY, "server shutting down")),
            () = session_ended(&session, &registration) => {
                Some((FORBIDDEN, "Forbidden: the session has ended"))
            }
        }
    };
    if let Some((code, reason)) = ending {
        let _ = sink
            .send(Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })))
            .await;
    }
}

/// What a socket needs to check its session again.
struct SessionCheck {
    app: crate::AppState,
    token: String,
    session_id: uuid::Uuid,
    /// Woken when an operation found the session ended.
    refused: Notify,
}

impl SessionCheck {
    /// Whether the token still opens the same session. A database that cannot answer keeps the
    /// socket open: its operations fail on their own, and a blip must not drop every client.
    async fn still_valid(&self) -> bool {
        match sessions::authenticate(&self.app, Some(&self.token)).await {
            Ok(Auth::SignedIn(v)) => v.session_id == self.session_id,
            Ok(_) => false,
            Err(e) => {
                tracing::warn!(error = %e, "re-checking a WebSocket session");
                true
            }
        }
    }
}

/// Passes each client message on, but an operation (`subscribe`, or `start` in the legacy
/// protocol) only while the session is valid; otherwise the operation is dropped and the socket
/// told to close.
async fn check_operation(
    session: Arc<SessionCheck>,
    message: Result<Message, axum::Error>,
) -> Result<Message, axum::Error> {
    if let Ok(Message::Text(text)) = &message
        && is_operation(text.as_str())
        && !session.still_valid().await
    {
        session.refused.notify_one();
        // Not text: async-graphql skips it.
        return Ok(Message::Ping(Default::default()));
    }
    message
}

fn is_operation(text: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Kind<'a> {
        #[serde(borrow, rename = "type")]
        kind: Option<std::borrow::Cow<'a, str>>,
    }
    serde_json::from_str::<Kind>(text)
        .ok()
        .and_then(|k| k.kind)
        .is_some_and(|k| k == "subscribe" || k == "start")
}

/// Resolves once the socket's session has ended: an operation found it so, or the registry
/// woke the socket (a sign-out, a deletion, expiry) and the database confirms it.
async fn session_ended(session: &SessionCheck, registration: &Registration) {
    loop {
        tokio::select! {
            () = session.refused.notified() => return,
            () = registration.woken() => {
                if !session.still_valid().await {
                    return;
                }
            }
        }
    }
}

/// Checks that the first message is `connection_init` with a valid token.
async fn handshake(
    state: &HttpState,
    first: &Message,
) -> Result<(sessions::Viewer, String), (u16, &'static str)> {
    let Message::Text(text) = first else {
        return Err((BAD_REQUEST, "expected connection_init"));
    };
    let message: serde_json::Value = serde_json::from_str(text.as_str()).unwrap_or_default();
    match message.get("type").and_then(|t| t.as_str()) {
        Some("connection_init") => {}
        Some("subscribe" | "start") => return Err((UNAUTHORIZED, "Unauthorized")),
        _ => return Err((BAD_REQUEST, "expected connection_init")),
    }
    let token = message.get("payload").and_then(token_from_payload);
    match sessions::authenticate(&state.app, token.as_deref()).await {
        Ok(Auth::SignedIn(viewer)) => Ok((viewer, token.unwrap_or_default())),
        _ => Err((FORBIDDEN, "Forbidden")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_read_from_either_form() {
        assert_eq!(
            token_from_payload(&serde_json::json!({"authorization": "Bearer abc"})).as_deref(),
            Some("abc")
        );
        assert_eq!(
            token_from_payload(&serde_json::json!({"token": "xyz"})).as_deref(),
            Some("xyz")
        );
        assert_eq!(
            token_from_payload(&serde_json::json!({"authorization": "Basic abc"})),
            None
        );
        assert_eq!(token_from_payload(&serde_json::json!({})), None);
    }
}
