//! A graphql-transport-ws client for tests.
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

use super::flow::Shop;

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub const UPDATES: &str = "subscription($o: ID, $a: ID) { orderUpdates(orderId: $o, after: $a) { id sequence event fromStatus toStatus reasonCode order { id number status } } }";

/// A subscription and the frames that arrived while we waited for it to be in place.
pub struct Sub {
    pub ws: Ws,
    pub early: std::collections::VecDeque<Value>,
}

/// Connects to `base` (the app's http:// address) and authenticates; returns once acknowledged.
pub async fn connect(base: &str, token: &str) -> Ws {
    let mut request = format!("{}/graphql/ws", base.replace("http://", "ws://"))
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    ws.send(Message::text(
        json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } })
            .to_string(),
    ))
    .await
    .expect("init");
    assert_eq!(frame(&mut ws).await.expect("ack")["type"], "connection_ack");
    ws
}

/// Connects, authenticates and subscribes; returns once the server has the subscription.
pub async fn subscribe_to(shop: &Shop, token: &str, query: &str, variables: Value) -> Sub {
    let mut ws = connect(&shop.app.base, token).await;
    ws.send(Message::text(
        json!({ "id": "u", "type": "subscribe", "payload": { "query": query, "variables": variables } })
            .to_string(),
    ))
    .await
    .expect("subscribe");
    // The stream starts when first polled; a ping round-trip shows the server has read it.
    ws.send(Message::text(json!({ "type": "ping" }).to_string()))
        .await
        .expect("ping");
    let mut early = std::collections::VecDeque::new();
    loop {
        let f = frame(&mut ws).await.expect("pong");
        if f["type"] == "pong" {
            break;
        }
        early.push_back(f);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    Sub { ws, early }
}

impl Sub {
    pub async fn frame(&mut self) -> Option<Value> {
        match self.early.pop_front() {
            Some(f) => Some(f),
            None => frame(&mut self.ws).await,
        }
    }
}

pub async fn frame(ws: &mut Ws) -> Option<Value> {
    let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("nothing arrived in 5 s")?;
    match msg.expect("frame") {
        Message::Text(t) => Some(serde_json::from_str(t.as_str()).expect("json")),
        Message::Close(_) => None,
        other => panic!("unexpected frame {other:?}"),
    }
}

/// The next pushed `data.<field>` (skipping pongs).
pub async fn next_data(ws: &mut Sub, field: &str) -> Value {
    loop {
        let f = ws.frame().await.expect("open socket");
        match f["type"].as_str() {
            Some("next") => {
                assert!(f["payload"]["errors"].is_null(), "{f}");
                return f["payload"]["data"][field].clone();
            }
            Some("pong" | "ping") => continue,
            _ => panic!("unexpected message {f}"),
        }
    }
}

/// Nothing arrives within `wait`.
pub async fn silent(ws: &mut Sub, wait: Duration) {
    assert!(ws.early.is_empty(), "unexpected push: {:?}", ws.early);
    if let Ok(Some(Ok(Message::Text(t)))) = tokio::time::timeout(wait, ws.ws.next()).await {
        panic!("unexpected push: {t}");
    }
}
