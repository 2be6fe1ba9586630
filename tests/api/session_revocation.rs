//! A WebSocket authenticates once, at connection_init; a session that ends afterwards (sign-out,
//! sign-out everywhere, account deletion, expiry) must close it with 4403 within a second, on
//! every instance, and no operation may run on it meanwhile.
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::common::{
    self, TestApp,
    flow::shop,
    ws::{UPDATES, Ws, subscribe_to},
};

/// Waits for the close frame and returns its code (and how long it took).
async fn closed_with(ws: &mut Ws) -> (u16, Duration) {
    let started = Instant::now();
    loop {
        let next = tokio::time::timeout(Duration::from_secs(3), ws.next())
            .await
            .expect("the socket was not closed within 3 s");
        match next {
            Some(Ok(Message::Close(Some(frame)))) => {
                return (u16::from(frame.code), started.elapsed());
            }
            Some(Ok(Message::Text(_) | Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn signing_out_closes_the_sessions_sockets_and_only_them() {
    let shop = shop().await;
    let student = shop.student("wx-ws-signout").await;
    let other_device = shop
        .app
        .sign_in_student("wx-ws-signout", "13800138000")
        .await;
    let mut this = subscribe_to(&shop, &student.token, UPDATES, json!({})).await;
    let mut other = subscribe_to(&shop, &other_device, UPDATES, json!({})).await;
    shop.app
        .data(Some(&student.token), "mutation { signOut }", json!({}))
        .await;
    let (code, took) = closed_with(&mut this.ws).await;
    assert_eq!(code, 4403);
    assert!(took < Duration::from_secs(1), "closed after {took:?}");
    // The other device's session is untouched: its socket still serves.
    other
        .ws
        .send(Message::text(json!({ "type": "ping" }).to_string()))
        .await
        .expect("ping");
    assert_eq!(
        common::ws::frame(&mut other.ws).await.expect("pong")["type"],
        "pong"
    );
}

#[tokio::test]
async fn signing_out_everywhere_and_deleting_the_account_close_every_socket() {
    let shop = shop().await;
    let student = shop.student("wx-ws-everywhere").await;
    let tablet = shop
        .app
        .sign_in_student("wx-ws-everywhere", "13800138000")
        .await;
    let mut phone_ws = subscribe_to(&shop, &student.token, UPDATES, json!({})).await;
    let mut tablet_ws = subscribe_to(&shop, &tablet, UPDATES, json!({})).await;
    shop.app
        .data(Some(&tablet), "mutation { signOutEverywhere }", json!({}))
        .await;
    assert_eq!(closed_with(&mut phone_ws.ws).await.0, 4403);
    assert_eq!(closed_with(&mut tablet_ws.ws).await.0, 4403);

    let gone = shop.student("wx-ws-delete").await;
    let mut ws = subscribe_to(&shop, &gone.token, UPDATES, json!({})).await;
    let deleted = shop
        .app
        .data(
            Some(&gone.token),
            "mutation { deleteAccount { deleted userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(deleted["deleteAccount"]["deleted"], true, "{deleted}");
    assert_eq!(closed_with(&mut ws.ws).await.0, 4403);
}

#[tokio::test]
async fn an_expired_session_closes_its_socket() {
    let shop = shop().await;
    let student = shop.student("wx-ws-expiry").await;
    let mut ws = subscribe_to(&shop, &student.token, UPDATES, json!({})).await;
    // Sessions last SESSION_TTL_SECS (a week by default) by the service's clock.
    shop.app.clock.advance(chrono::Duration::days(8));
    let (code, took) = closed_with(&mut ws.ws).await;
    assert_eq!(code, 4403);
    assert!(took < Duration::from_millis(2500), "closed after {took:?}");
}

#[tokio::test]
async fn no_operation_runs_on_a_socket_whose_session_ended_even_if_the_news_was_lost() {
    let shop = shop().await;
    let student = shop.student("wx-ws-op-check").await;
    let mut sub = subscribe_to(&shop, &student.token, UPDATES, json!({})).await;
    // Revoke behind the service's back: no message tells the socket, so only the check
    // before each operation can stop it.
    {
        use sea_orm::{EntityTrait, sea_query::Expr};
        campus_photo::entities::session::Entity::update_many()
            .col_expr(
                campus_photo::entities::session::Column::RevokedAt,
                Expr::value(chrono::Utc::now()),
            )
            .exec(&shop.app.state.db)
            .await
            .expect("revoke");
    }
    sub.ws
        .send(Message::text(
            json!({ "id": "m", "type": "subscribe", "payload": { "query": "mutation { signOutEverywhere }" } })
                .to_string(),
        ))
        .await
        .expect("send");
    assert_eq!(closed_with(&mut sub.ws).await.0, 4403);
}

#[tokio::test]
async fn a_sign_out_on_one_instance_closes_sockets_on_another() {
    let shop = shop().await;
    let sibling = shop.app.spawn_sibling().await;
    let student = shop.student("wx-ws-sibling").await;
    // The socket lives on the sibling; the sign-out happens on the first instance.
    let on_sibling = common::flow::Shop {
        app: sibling,
        admin: shop.admin.clone(),
    };
    let mut ws = subscribe_to(&on_sibling, &student.token, UPDATES, json!({})).await;
    shop.app
        .data(
            Some(&student.token),
            "mutation { signOutEverywhere }",
            json!({}),
        )
        .await;
    if std::env::var("TEST_REDIS_URL").is_ok_and(|v| !v.is_empty()) {
        // With Redis the news crosses instances: closed within a second.
        let (code, took) = closed_with(&mut ws.ws).await;
        assert_eq!(code, 4403);
        assert!(took < Duration::from_secs(1), "closed after {took:?}");
    } else {
        // Without Redis each instance hears only itself; the next operation is still refused.
        ws.ws
            .send(Message::text(
                json!({ "id": "q", "type": "subscribe", "payload": { "query": "{ viewer { account { id } } }" } })
                    .to_string(),
            ))
            .await
            .expect("send");
        assert_eq!(closed_with(&mut ws.ws).await.0, 4403);
    }
    let _: &TestApp = &shop.app;
}
