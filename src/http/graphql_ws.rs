//! GET /graphql/ws: graphql-transport-ws (and the legacy graphql-ws). The token travels in
//! `connection_init` as `{"authorization": "Bearer <token>"}` or `{"token": "<token>"}`.
use std::{sync::Arc, time::Duration};

use async_graphql::{
    Data,
    http::{ALL_WEBSOCKET_PROTOCOLS, WebSocketProtocols},
};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::http::{HeaderMap, header::SEC_WEBSOCKET_PROTOCOL};
use axum::{
    extract::{
        State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    response::Response,
};
use futures::{Sink, SinkExt, StreamExt};
use tokio::sync::Notify;

use super::HttpState;
use crate::{
    events::sockets::Registration,
    graphql::loaders::new_loader,
    services::sessions::{self, Auth},
};

/// The token of `connection_init`'s payload: `Ok(None)` when it carries none, `Err` when its
/// `authorization` is not `Bearer <token>`.
fn token_from_payload(
    payload: Option<&serde_json::Value>,
) -> Result<Option<String>, sessions::Rejection> {
    let malformed = sessions::Rejection::Malformed;
    let Some(payload) = payload else {
        return Ok(None);
    };
    if let Some(header) = payload
        .get("authorization")
        .or_else(|| payload.get("Authorization"))
    {
        let text = header.as_str().ok_or(malformed)?;
        let (scheme, token) = text.trim().split_once(' ').ok_or(malformed)?;
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
            return Err(malformed);
        }
        return Ok(Some(token.to_string()));
    }
    match payload.get("token") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(token) => token.as_str().map(|t| Some(t.to_string())).ok_or(malformed),
    }
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
/// RFC 6455: try again later (the database could not check the token).
const TRY_AGAIN_LATER: u16 = 1013;

/// Whether the client speaks graphql-transport-ws (the protocol `GraphQLProtocol` picks: the first
/// one of the client's list that is known) rather than the legacy graphql-ws.
fn speaks_transport_ws(headers: &HeaderMap) -> bool {
    headers
        .get(SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .into_iter()
        .flat_map(|v| v.split(','))
        .find_map(|p| p.trim().parse::<WebSocketProtocols>().ok())
        .is_some_and(|p| p.sec_websocket_protocol() == "graphql-transport-ws")
}

pub async fn upgrade(
    State(state): State<HttpState>,
    protocol: GraphQLProtocol,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let transport_ws = speaks_transport_ws(&headers);
    // Clients send only small control messages; axum's 128 KiB default read buffer would be most
    // of an idle subscriber's memory (measured: 149 KiB each at 10 000 subscribers). Larger
    // messages still arrive whole: the buffer grows for them.
    ws.protocols(ALL_WEBSOCKET_PROTOCOLS)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| serve_socket(state, protocol, transport_ws, socket))
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
async fn serve_socket(
    state: HttpState,
    protocol: GraphQLProtocol,
    transport_ws: bool,
    mut socket: WebSocket,
) {
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
            RequestErrors::new(&mut sink, transport_ws),
            &mut checked,
            state.schema.strict.clone(),
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

/// The socket's outgoing half, turning an operation refused before it ran (a document that does
/// not parse or validate, variables that do not fit, a refused shape) into the protocol's `error`
/// message instead of async-graphql's `next` (legacy graphql-ws: `data`) + `complete`:
/// graphql-transport-ws's `error` carries the errors, the legacy protocol's one error object. A
/// refusal is an answer without data whose errors have no path; the `complete` that follows it is
/// dropped (an `error` ends the operation). Other messages pass as they are: only a text holding
/// `"errors"` is parsed at all.
struct RequestErrors<S> {
    inner: S,
    /// graphql-transport-ws; else the legacy graphql-ws.
    transport_ws: bool,
    /// Operations answered with `error`, whose `complete` is not sent.
    ended: Vec<String>,
}

impl<S> RequestErrors<S> {
    fn new(inner: S, transport_ws: bool) -> Self {
        Self {
            inner,
            transport_ws,
            ended: Vec::new(),
        }
    }

    /// What to send instead of `message`; `None` to send nothing.
    fn rewrite(&mut self, message: Message) -> Option<Message> {
        let Message::Text(text) = &message else {
            return Some(message);
        };
        if !self.ended.is_empty() && text.as_str().contains("\"complete\"") {
            let value: serde_json::Value = serde_json::from_str(text.as_str()).ok()?;
            if value["type"] == "complete"
                && let Some(id) = value["id"].as_str()
                && let Some(at) = self.ended.iter().position(|e| e == id)
            {
                self.ended.swap_remove(at);
                return None;
            }
            return Some(message);
        }
        if !text.as_str().contains("\"errors\"") {
            return Some(message);
        }
        let Ok(value) = serde_json::from_str::<serde_json::Value>(text.as_str()) else {
            return Some(message);
        };
        let payload = &value["payload"];
        let answer = if self.transport_ws { "next" } else { "data" };
        let refused = value["type"] == answer
            && payload.get("data").is_none_or(serde_json::Value::is_null)
            && payload["errors"]
                .as_array()
                .is_some_and(|errors| errors.iter().all(|e| e.get("path").is_none()));
        let Some(id) = value["id"].as_str().filter(|_| refused) else {
            return Some(message);
        };
        self.ended.push(id.to_string());
        let errors = if self.transport_ws {
            payload["errors"].clone()
        } else {
            payload["errors"][0].clone()
        };
        let error = serde_json::json!({ "type": "error", "id": id, "payload": errors });
        Some(Message::Text(error.to_string().into()))
    }
}

impl<S: Sink<Message> + Unpin> Sink<Message> for RequestErrors<S> {
    type Error = S::Error;

    fn poll_ready(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::pin::Pin::new(&mut self.inner).poll_ready(cx)
    }

    fn start_send(mut self: std::pin::Pin<&mut Self>, item: Message) -> Result<(), Self::Error> {
        match self.rewrite(item) {
            Some(message) => std::pin::Pin::new(&mut self.inner).start_send(message),
            None => Ok(()),
        }
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::pin::Pin::new(&mut self.inner).poll_close(cx)
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
    let token = match token_from_payload(message.get("payload")) {
        Ok(Some(token)) => token,
        Ok(None) => return Err((FORBIDDEN, NO_TOKEN)),
        Err(why) => return Err(refused(why)),
    };
    match sessions::authenticate(&state.app, Some(&token)).await {
        Ok(Auth::SignedIn(viewer)) => Ok((viewer, token)),
        Ok(Auth::Rejected(why)) => Err(refused(why)),
        Ok(Auth::Anonymous) => Err((FORBIDDEN, NO_TOKEN)),
        Err(e) => {
            tracing::error!(error = %e, "authenticating a WebSocket");
            Err((
                TRY_AGAIN_LATER,
                "Try again later: sessions cannot be checked",
            ))
        }
    }
}

/// Close reasons of the handshake: one per cause, all with 4403, so that a client tells a token
/// to renew (expired) from one to drop (invalid) and from a payload it got wrong.
const NO_TOKEN: &str = "Forbidden: connection_init carries no token";

fn refused(why: sessions::Rejection) -> (u16, &'static str) {
    match why {
        sessions::Rejection::Malformed => (
            FORBIDDEN,
            "Forbidden: malformed authorization, expected \"Bearer <token>\"",
        ),
        sessions::Rejection::Invalid => (FORBIDDEN, "Forbidden: invalid token"),
        sessions::Rejection::Expired => (FORBIDDEN, "Forbidden: token expired"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_read_from_either_form() {
        let read = |v: serde_json::Value| token_from_payload(Some(&v));
        assert_eq!(
            read(serde_json::json!({"authorization": "Bearer abc"})),
            Ok(Some("abc".into()))
        );
        assert_eq!(
            read(serde_json::json!({"token": "xyz"})),
            Ok(Some("xyz".into()))
        );
        assert_eq!(
            read(serde_json::json!({"authorization": "Basic abc"})),
            Err(sessions::Rejection::Malformed)
        );
        assert_eq!(read(serde_json::json!({})), Ok(None));
        assert_eq!(token_from_payload(None), Ok(None));
    }
}
