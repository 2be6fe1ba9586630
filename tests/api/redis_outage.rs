//! Redis going away: the instance keeps serving, and once Redis is back the bus reconnects and
//! the relay publishes what it could not, so a live subscriber still gets every event.
use crate::common;

use std::time::Duration;

use common::{
    cable::Cable,
    flow::shop_with,
    ws::{UPDATES, next_data, silent, subscribe_to},
};
use serde_json::json;

#[tokio::test]
async fn the_instance_serves_through_a_redis_outage_and_catches_up() {
    let Some(redis) = std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        eprintln!("skipped: set TEST_REDIS_URL (as .ci/run does) to test a Redis outage");
        return;
    };
    let target = redis
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_string();
    let cable = Cable::to(target).await;
    let url = format!("redis://{}", cable.addr);
    let shop = shop_with(move |v| {
        v.insert("REDIS_URL".into(), url);
    })
    .await;
    let s = shop.student("wx-outage").await;
    let mut ws = subscribe_to(&shop, &s.token, UPDATES, json!({})).await;
    let order = shop.submit(&s).await;
    assert_eq!(next_data(&mut ws, "orderUpdates").await["event"], "SUBMIT");

    cable.cut();
    // Still serving: the cancel commits although its event cannot go out yet.
    let cancelled = shop
        .order_mutation(&s.token, "cancelOrder", json!({ "orderId": order["id"] }))
        .await;
    assert_eq!(cancelled["order"]["status"], "CLOSED", "{cancelled}");
    let health = shop
        .app
        .http
        .get(shop.app.url("/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), 200);
    silent(&mut ws, Duration::from_millis(800)).await;

    cable.restore();
    // The bus reconnects (with back-off) and the relay catches up: the event arrives, once.
    // (next_data waits up to 5 s; reconnecting takes well under that.)
    let event = next_data(&mut ws, "orderUpdates").await;
    assert_eq!(event["event"], "CANCEL", "{event}");
    silent(&mut ws, Duration::from_millis(800)).await;
}
