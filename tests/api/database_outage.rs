//! The database going away (a restart, a network cut): requests fail fast with a clear error,
//! `/ready` says so while `/health` stays up, nothing is left half-done, a payment notification
//! that could not be applied is completed by WeChat's retry of the same request, and once the
//! database is back the same instance serves again without a restart. PostgreSQL only (SQLite is a file):
//! `.ci/run` runs this in its PostgreSQL stage.
use crate::common;

use std::time::{Duration, Instant};

use common::{
    cable::Cable,
    flow::{notification, shop_with, transaction},
};
use serde_json::{Value, json};

#[tokio::test]
async fn the_instance_survives_a_database_outage_with_nothing_half_done() {
    let Some(url) = common::postgres_url() else {
        eprintln!("skipped: set TEST_DATABASE_URL (as .ci/run does) to test a database outage");
        return;
    };
    // postgres://user@host:port/db → relay host:port through the cable.
    let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
    let (userinfo, hostpath) = rest.split_once('@').unwrap_or(("", rest));
    let (hostport, path) = hostpath.split_once('/').unwrap_or((hostpath, ""));
    let cable = Cable::to(hostport.to_string()).await;
    let relayed = format!("postgres://{userinfo}@{}/{path}", cable.addr);
    let shop = shop_with(move |v| {
        v.insert("DATABASE_URL".into(), relayed);
    })
    .await;
    let s = shop.student("wx-db-outage").await;
    let order = shop.submit(&s).await;
    let opened = shop.create_payment(&s.token, &order["id"]).await;
    assert_eq!(opened["userErrors"], json!([]), "{opened}");
    // WeChat's notification of the payment, as it will be sent (and sent again).
    let number = order["number"].as_str().unwrap_or_default();
    let now = campus_photo::clock::Clock::now(&shop.app.clock).timestamp();
    let (headers, notice) = notification(
        "TRANSACTION.SUCCESS",
        &transaction(number, 3000, "4200000000000000000000000042"),
        now,
    );

    cable.cut();
    // A signed-in request: a clear "try again" within the pool's acquire timeout, not a hang.
    let started = Instant::now();
    let resp = shop
        .app
        .http
        .post(shop.app.url("/graphql"))
        .bearer_auth(&s.token)
        .json(&json!({ "query": "mutation($i: OrderIdInput!) { cancelOrder(input: $i) { order { status } } }", "variables": { "i": { "orderId": order["id"] } } }))
        .send()
        .await
        .expect("answered");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let code = body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("");
    assert!(
        status == 503 || code == "INTERNAL_SERVER_ERROR",
        "{status} {body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| !m.contains("postgres") && !m.contains("127.0.0.1")),
        "no internals in the message: {body}"
    );
    let ready = shop
        .app
        .http
        .get(shop.app.url("/ready"))
        .send()
        .await
        .expect("ready");
    assert_eq!(ready.status(), 503);
    // The notification arrives now: it cannot be applied, so WeChat is told to retry (5xx).
    let (status, _) = shop.app.post_notification(&headers, notice.clone()).await;
    assert!(status >= 500, "{status}");
    let health = shop
        .app
        .http
        .get(shop.app.url("/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), 200);

    cable.restore();
    // The pool reconnects by itself; the refused cancel left no trace.
    let mut seen = Value::Null;
    for _ in 0..100 {
        let body = shop
            .app
            .gql(
                Some(&s.token),
                "query($id: ID!) { node(id: $id) { ... on Order { status events { event } } } }",
                json!({ "id": order["id"] }),
            )
            .await;
        if body.get("errors").is_none() {
            seen = body["data"]["node"].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen["status"], "PENDING_PAYMENT", "{seen}");
    assert_eq!(seen["events"], json!([{ "event": "SUBMIT" }]), "{seen}");
    // WeChat's retry of the very same request (same nonce and signature) completes the payment.
    let (status, reply) = shop.app.post_notification(&headers, notice).await;
    assert_eq!(status, 204, "{reply}");
    let paid = shop
        .wait_for_status(&s.token, &order["id"], "PENDING_REVIEW")
        .await;
    assert_eq!(
        common::flow::event_names(&paid),
        ["SUBMIT", "PAYMENT_CONFIRMED", "ENQUEUE_FOR_REVIEW"]
    );
    let ready = shop
        .app
        .http
        .get(shop.app.url("/ready"))
        .send()
        .await
        .expect("ready");
    assert_eq!(ready.status(), 200);
}
