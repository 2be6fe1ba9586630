//! Dashboard subscriptions over graphql-transport-ws: `queueStats` pushes counts as they change
//! (coalesced), `productionProgress` follows a batch until it finishes; both only in scope.
use crate::common;

use std::time::{Duration, Instant};

use common::{
    flow::{Shop, deferred_shop, shop},
    ws::{Sub, next_data, subscribe_to},
};
use serde_json::{Value, json};

const STATS: &str = "subscription($s: String) { queueStats(schoolCode: $s) { schoolCode pendingPayment pendingReview claimed pendingProduction } }";
const PROGRESS: &str = "subscription($b: ID!) { productionProgress(batchId: $b) { batch { total done failed finished } } }";

/// Reads pushes until `until` holds (bounded), returning them with their arrival times.
async fn until(ws: &mut Sub, field: &str, until: impl Fn(&Value) -> bool) -> Vec<(Instant, Value)> {
    let mut seen = Vec::new();
    for _ in 0..20 {
        let v = next_data(ws, field).await;
        seen.push((Instant::now(), v.clone()));
        if until(&v) {
            return seen;
        }
    }
    panic!("condition never met: {seen:?}");
}

#[tokio::test]
async fn queue_stats_start_with_the_current_counts_and_follow_changes() {
    let shop = shop().await;
    let reviewer = shop
        .app
        .staff(&shop.admin, "dash-rev", "REVIEWER", Some("10027"))
        .await;
    let s = shop.student("wx-dash-1").await;
    shop.submit(&s).await;
    let mut ws = subscribe_to(&shop, &reviewer, STATS, json!({ "s": "10027" })).await;
    let first = next_data(&mut ws, "queueStats").await;
    assert_eq!(
        first,
        json!({ "schoolCode": "10027", "pendingPayment": 1, "pendingReview": 0, "claimed": 0, "pendingProduction": 0 })
    );

    // A burst of changes: two more students pay, while a reader notes when each push arrives
    // (reading only afterwards would time the reads of frames queued meanwhile, not arrivals).
    let a = shop.student("wx-dash-2").await;
    let b = shop.student("wx-dash-3").await;
    let reader = tokio::spawn(async move {
        let pushes = until(&mut ws, "queueStats", |v| v["pendingReview"] == 2).await;
        (ws, pushes)
    });
    shop.paid_order(&a).await;
    shop.paid_order(&b).await;
    let (mut ws, pushes) = reader.await.expect("reader");
    // Coalesced: the server waits 250 ms after a change before it reads and pushes. On arrival a
    // gap shrinks by however much the earlier push's read and delivery were slower; uncoalesced
    // pushes would arrive milliseconds apart.
    for pair in pushes.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        assert!(gap >= Duration::from_millis(150), "pushed {gap:?} apart");
    }
    assert_eq!(
        pushes.last().map(|p| p.1["pendingPayment"].clone()),
        Some(json!(1))
    );

    // Claims count too.
    shop.app
        .data(
            Some(&reviewer),
            "mutation { claimReviewTasks(input: { count: 1 }) { orders { id } } }",
            json!({}),
        )
        .await;
    let claimed = until(&mut ws, "queueStats", |v| v["claimed"] == 1).await;
    assert_eq!(
        claimed.last().map(|p| p.1["pendingReview"].clone()),
        Some(json!(2))
    );
}

#[tokio::test]
async fn queue_stats_are_for_staff_in_scope() {
    let shop = shop().await;
    let s = shop.student("wx-dash-4").await;
    shop.app
        .create_school(&shop.admin, "10001", "北京大学")
        .await;
    let pku = shop
        .app
        .staff(&shop.admin, "pku-dash", "SCHOOL_ADMIN", Some("10001"))
        .await;
    for (token, code) in [(&s.token, json!(null)), (&pku, json!("10027"))] {
        let mut ws = subscribe_to(&shop, token, STATS, json!({ "s": code })).await;
        let f = ws.frame().await.expect("reply");
        assert_eq!(
            f["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{f}"
        );
    }
}

async fn approved(shop: &Shop, n: usize) -> Vec<Value> {
    let reviewer = shop
        .app
        .staff(&shop.admin, "dash-rev-2", "REVIEWER", Some("10027"))
        .await;
    let mut orders = Vec::new();
    for i in 0..n {
        let s = shop.student(&format!("wx-dash-prod-{i}")).await;
        orders.push(shop.paid_order(&s).await);
    }
    shop.app
        .data(
            Some(&reviewer),
            "mutation { claimReviewTasks(input: { count: 20 }) { orders { id } } }",
            json!({}),
        )
        .await;
    for o in &orders {
        let r = shop
            .app
            .data(
                Some(&reviewer),
                "mutation($i: ReviewOrderInput!) { reviewOrder(input: $i) { userErrors { code } } }",
                json!({ "i": { "orderId": o["id"], "decision": "APPROVE" } }),
            )
            .await;
        assert_eq!(r["reviewOrder"]["userErrors"], json!([]));
    }
    orders
}

#[tokio::test]
async fn production_progress_follows_a_batch_to_the_end() {
    let shop = deferred_shop().await;
    approved(&shop, 2).await;
    let producer = shop
        .app
        .staff(&shop.admin, "dash-maker", "PRODUCER", Some("10027"))
        .await;
    let started = shop
        .app
        .data(
            Some(&producer),
            "mutation { startProductionBatch(input: { schoolCode: \"10027\" }) { batch { id } userErrors { code } } }",
            json!({}),
        )
        .await;
    let batch = started["startProductionBatch"]["batch"]["id"].clone();
    let mut ws = subscribe_to(&shop, &producer, PROGRESS, json!({ "b": batch })).await;
    assert_eq!(
        next_data(&mut ws, "productionProgress").await["batch"],
        json!({ "total": 2, "done": 0, "failed": 0, "finished": false })
    );
    let id = shop
        .app
        .row_id(campus_photo::ids::NodeType::ProductionBatch, &batch);
    campus_photo::services::production::run(&shop.app.state, id, None)
        .await
        .expect("run");
    let pushes = until(&mut ws, "productionProgress", |v| {
        v["batch"]["finished"] == true
    })
    .await;
    let done: Vec<_> = pushes
        .iter()
        .map(|p| p.1["batch"]["done"].clone())
        .collect();
    assert_eq!(done.last(), Some(&json!(2)));
    assert!(done.contains(&json!(1)), "{done:?}");
    // The stream ends with the batch.
    let end = ws.frame().await.expect("complete");
    assert_eq!(end["type"], "complete", "{end}");

    // Someone outside the batch's school cannot follow it.
    shop.app
        .create_school(&shop.admin, "10001", "北京大学")
        .await;
    let pku = shop
        .app
        .staff(&shop.admin, "pku-maker", "PRODUCER", Some("10001"))
        .await;
    let mut other = subscribe_to(&shop, &pku, PROGRESS, json!({ "b": batch })).await;
    let f = other.frame().await.expect("reply");
    assert_eq!(
        f["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{f}"
    );
}
