//! /ready, /metrics, and the SQL statements a page of orders costs (its related rows are read for
//! the whole page at once: a constant number, whatever the page size).
use crate::common;

use common::{flow::shop, ws::subscribe_to};
use serde_json::{Value, json};

async fn metrics_text(app: &common::TestApp) -> String {
    let resp = app
        .http
        .get(format!("{}/metrics", app.metrics_base))
        .send()
        .await
        .expect("metrics");
    assert_eq!(resp.status(), 200);
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    resp.text().await.expect("text")
}

/// The value of the first sample line that starts with `prefix`.
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn ready_reports_the_database_and_redis() {
    let shop = shop().await;
    let resp = shop
        .app
        .http
        .get(shop.app.url("/ready"))
        .send()
        .await
        .expect("ready");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], "ok");
    let redis_expected = if std::env::var("TEST_REDIS_URL").is_ok_and(|v| !v.is_empty()) {
        "ok"
    } else {
        "not configured"
    };
    assert_eq!(body["redis"], redis_expected);
}

#[tokio::test]
async fn ready_says_503_when_redis_is_unreachable() {
    // A Redis that is not there: the service still serves, /ready tells the balancer.
    let app = common::TestApp::spawn_with(
        |v| {
            v.insert("REDIS_URL".into(), "redis://127.0.0.1:1".into());
        },
        Default::default(),
    )
    .await;
    let resp = app.http.get(app.url("/ready")).send().await.expect("ready");
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["redis"], "unavailable");
    assert_eq!(body["database"], "ok");
    let health = app
        .http
        .get(app.url("/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn metrics_count_operations_subscriptions_statements_queues_and_notifications() {
    let shop = shop().await;
    let s = shop.student("wx-metrics-1").await;
    shop.paid_order(&s).await;
    let before = metrics_text(&shop.app).await;
    assert!(
        sample(
            &before,
            "campus_photo_graphql_requests_total{operation=\"signInWithWeChat\",kind=\"mutation\",outcome=\"ok\"}"
        )
        .is_some_and(|n| n >= 1.0),
        "{before}"
    );
    assert!(
        before.contains("campus_photo_graphql_request_duration_seconds_bucket{le=\"0.001\",operation=\"uploadPhoto\"}")
            || before.contains("operation=\"uploadPhoto\""),
        "{before}"
    );
    assert!(
        sample(&before, "campus_photo_photo_check_duration_seconds_count")
            .is_some_and(|n| n >= 1.0)
    );
    assert!(sample(&before, "campus_photo_sql_statements_total").is_some_and(|n| n > 10.0));
    assert_eq!(
        sample(&before, "campus_photo_queue_size{queue=\"pending_review\"}"),
        Some(1.0),
        "{before}"
    );
    assert!(
        sample(
            &before,
            "campus_photo_payment_notifications_total{outcome=\"accepted\"}"
        )
        .is_some_and(|n| n >= 1.0)
    );
    assert_eq!(
        sample(&before, "campus_photo_open_subscriptions"),
        Some(0.0)
    );

    // A forged notification is counted as refused.
    let r = shop
        .app
        .http
        .post(shop.app.url("/payments/wechat/notify"))
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("notify");
    assert_eq!(r.status().as_u16() / 100, 4);

    // An open subscription is counted while it lives.
    let mut sub = subscribe_to(
        &shop,
        &s.token,
        "subscription { orderUpdates { event } }",
        json!({}),
    )
    .await;
    let during = metrics_text(&shop.app).await;
    assert_eq!(
        sample(&during, "campus_photo_open_subscriptions"),
        Some(1.0),
        "{during}"
    );
    assert!(
        sample(
            &during,
            "campus_photo_payment_notifications_total{outcome=\"refused\"}"
        )
        .is_some_and(|n| n >= 1.0)
    );
    drop(sub.ws.close(None).await);
    let mut closed = f64::NAN;
    for _ in 0..50 {
        closed = sample(
            &metrics_text(&shop.app).await,
            "campus_photo_open_subscriptions",
        )
        .unwrap_or(f64::NAN);
        if closed == 0.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(closed, 0.0);
}

const PAGE: &str = "query($n: Int) { viewer { orders(first: $n) { totalCount nodes { number status enrollment { id project { name } } photo { id check { verdict } } events { sequence event } } } } }";

/// The fewest statements one request cost over several tries. Background work (the event relay
/// polls every 500 ms) shares the counter and only ever adds to it, so each try starts in a quiet
/// moment and the minimum is the request's own; on a loaded machine a slow request can overlap a
/// poll, hence more than one try.
async fn statements_for(app: &common::TestApp, token: &str, n: i64) -> (u64, usize) {
    let mut fewest = u64::MAX;
    let mut seen = 0;
    for _ in 0..10 {
        for _ in 0..20 {
            let quiet = app.state.metrics.statements();
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            if app.state.metrics.statements() == quiet {
                break;
            }
        }
        let before = app.state.metrics.statements();
        let data = app.data(Some(token), PAGE, json!({ "n": n })).await;
        let after = app.state.metrics.statements();
        seen = data["viewer"]["orders"]["nodes"]
            .as_array()
            .map_or(0, Vec::len);
        fewest = fewest.min(after - before);
    }
    (fewest, seen)
}

#[tokio::test]
async fn a_page_of_orders_costs_the_same_statements_whatever_its_size() {
    let shop = shop().await;
    let s = shop.student("wx-sql-1").await;
    // Eight orders of one student: submit, cancel, submit again …
    for i in 0..8 {
        let order = shop.submit(&s).await;
        if i < 7 {
            let r = shop
                .order_mutation(&s.token, "cancelOrder", json!({ "orderId": order["id"] }))
                .await;
            assert_eq!(r["userErrors"], json!([]), "{r}");
        }
    }
    let (small, small_seen) = statements_for(&shop.app, &s.token, 2).await;
    let (large, large_seen) = statements_for(&shop.app, &s.token, 8).await;
    eprintln!("statements: page of 2 = {small}, page of 8 = {large}");
    assert_eq!((small_seen, large_seen), (2, 8));
    assert_eq!(
        small, large,
        "a page of 8 orders must not cost more statements than a page of 2 (N+1)"
    );
    // The session, then the page with its count, its enrollments, their projects, its photos
    // and its events.
    assert!(large <= 2, "{large} statements for one page");
}
