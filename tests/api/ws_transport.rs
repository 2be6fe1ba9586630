//! GraphQL over WebSocket (graphql-transport-ws) with the token in connection_init.
use crate::common;

use common::TestApp;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp) -> Ws {
    let mut request = format!("{}/graphql/ws", app.base.replace("http://", "ws://"))
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (ws, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    assert_eq!(
        response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok()),
        Some("graphql-transport-ws")
    );
    ws
}

async fn next_json(ws: &mut Ws) -> Option<Value> {
    let msg = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
        .await
        .expect("no reply in 5 s")?;
    match msg.expect("frame") {
        Message::Text(t) => Some(serde_json::from_str(t.as_str()).expect("json frame")),
        Message::Close(_) => None,
        other => panic!("unexpected frame {other:?}"),
    }
}

#[tokio::test]
async fn signed_in_client_runs_operations_over_the_socket() {
    let app = TestApp::spawn().await;
    let token = app.sign_in_student("wx-ws", "13800138000").await;
    for payload in [
        json!({ "authorization": format!("Bearer {token}") }),
        json!({ "token": token }),
    ] {
        let mut ws = connect(&app).await;
        ws.send(Message::text(
            json!({ "type": "connection_init", "payload": payload }).to_string(),
        ))
        .await
        .expect("init");
        assert_eq!(
            next_json(&mut ws).await.expect("ack")["type"],
            "connection_ack"
        );
        ws.send(Message::text(
            json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ viewer { account { role phone } } }" } }).to_string(),
        ))
        .await
        .expect("subscribe");
        let next = next_json(&mut ws).await.expect("next");
        assert_eq!(next["type"], "next");
        assert_eq!(
            next["payload"]["data"]["viewer"]["account"]["role"],
            "STUDENT"
        );
        assert_eq!(
            next["payload"]["data"]["viewer"]["account"]["phone"],
            "13800138000"
        );
        assert_eq!(
            next_json(&mut ws).await.expect("complete")["type"],
            "complete"
        );
    }
}

#[tokio::test]
async fn missing_or_bad_token_closes_the_socket() {
    let app = TestApp::spawn().await;
    for payload in [json!({}), json!({ "token": "forged" })] {
        let mut ws = connect(&app).await;
        ws.send(Message::text(
            json!({ "type": "connection_init", "payload": payload }).to_string(),
        ))
        .await
        .expect("init");
        let reply = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
            .await
            .expect("reply");
        match reply {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(u16::from(frame.code), 4403, "{frame:?}")
            }
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn subscribing_before_the_handshake_is_refused() {
    let app = TestApp::spawn().await;
    let mut ws = connect(&app).await;
    ws.send(Message::text(
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ serviceInfo { agreementVersion } }" } })
            .to_string(),
    ))
    .await
    .expect("subscribe");
    let reply = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
        .await
        .expect("reply");
    match reply {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 4401),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn an_oversized_message_closes_the_socket() {
    let app = TestApp::spawn().await;
    let mut ws = connect(&app).await;
    // Clients only send small control messages; 64 KiB is the limit.
    let padding = "x".repeat(80 * 1024);
    ws.send(Message::text(
        json!({ "type": "connection_init", "payload": { "padding": padding } }).to_string(),
    ))
    .await
    .expect("send");
    let reply = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
        .await
        .expect("reply");
    match reply {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 1009),
        // The server may drop the connection without a close frame: either way nothing is served.
        Some(Err(_)) | None => {}
        other => panic!("expected the socket to close, got {other:?}"),
    }
}

#[tokio::test]
async fn socket_without_the_protocol_header_is_refused() {
    let app = TestApp::spawn().await;
    let url = format!("{}/graphql/ws", app.base.replace("http://", "ws://"));
    let result = tokio_tungstenite::connect_async(url).await;
    assert!(
        result.is_err(),
        "a client must ask for graphql-transport-ws"
    );
}

#[tokio::test]
async fn one_connection_holds_at_most_twenty_subscriptions() {
    let app = TestApp::spawn().await;
    let token = app.sign_in_student("wx-ws-many", "13800138000").await;
    let mut ws = connect(&app).await;
    ws.send(Message::text(
        json!({ "type": "connection_init", "payload": { "token": token } }).to_string(),
    ))
    .await
    .expect("init");
    assert_eq!(
        next_json(&mut ws).await.expect("ack")["type"],
        "connection_ack"
    );
    let subscribe = |id: String| {
        Message::text(
            json!({ "id": id, "type": "subscribe", "payload": { "query": "subscription { orderUpdates { event } }" } })
                .to_string(),
        )
    };
    for n in 0..20 {
        ws.send(subscribe(format!("s{n}")))
            .await
            .expect("subscribe");
    }
    ws.send(subscribe("s20".into())).await.expect("subscribe");
    let refused = next_json(&mut ws).await.expect("refusal");
    assert_eq!(refused["id"], "s20", "{refused}");
    // Refused before it ran: graphql-transport-ws's `error`, which ends the operation.
    assert_eq!(refused["type"], "error", "{refused}");
    let errors = refused["payload"].clone();
    assert_eq!(errors[0]["extensions"]["code"], "THROTTLED", "{refused}");
    // Ending one makes room for another.
    ws.send(Message::text(
        json!({ "id": "s0", "type": "complete" }).to_string(),
    ))
    .await
    .expect("complete");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    ws.send(subscribe("s21".into())).await.expect("subscribe");
    let quiet = tokio::time::timeout(std::time::Duration::from_millis(500), ws.next()).await;
    match quiet {
        Err(_) => {}
        Ok(frame) => {
            let text = format!("{frame:?}");
            // Only the completion of the one the client ended may arrive (an `error` ended s20:
            // no `complete` follows it).
            assert!(text.contains("s0") && text.contains("complete"), "{text}");
        }
    }
}

#[tokio::test]
async fn shutting_down_closes_open_sockets_with_going_away() {
    let app = TestApp::spawn().await;
    let token = app.sign_in_student("wx-ws-bye", "13800138000").await;
    let mut ws = connect(&app).await;
    ws.send(Message::text(
        json!({ "type": "connection_init", "payload": { "token": token } }).to_string(),
    ))
    .await
    .expect("init");
    assert_eq!(
        next_json(&mut ws).await.expect("ack")["type"],
        "connection_ack"
    );
    ws.send(Message::text(
        json!({ "id": "u", "type": "subscribe", "payload": { "query": "subscription { orderUpdates { event } }" } })
            .to_string(),
    ))
    .await
    .expect("subscribe");
    app.state.shutdown.send_replace(true);
    let frame = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
        .await
        .expect("a frame within 5 s")
        .expect("not just dropped")
        .expect("frame");
    match frame {
        Message::Close(Some(close)) => {
            assert_eq!(u16::from(close.code), 1001);
            assert_eq!(close.reason.as_str(), "server shutting down");
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
}
