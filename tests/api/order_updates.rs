//! `orderUpdates` over graphql-transport-ws: every transition pushed the moment it commits, only
//! to those who may read the order, and nothing lost or repeated across a reconnect.
use crate::common;

use std::time::Duration;

use common::{
    flow::{Shop, shop},
    ws::{Sub, UPDATES, next_data, silent, subscribe_to},
};
use serde_json::{Value, json};

async fn subscribe(shop: &Shop, token: &str, variables: Value) -> Sub {
    subscribe_to(shop, token, UPDATES, variables).await
}

async fn next_event(ws: &mut Sub) -> Value {
    next_data(ws, "orderUpdates").await
}

#[tokio::test]
async fn students_see_their_own_orders_move_live_and_nobody_elses() {
    let shop = shop().await;
    let s = shop.student("wx-live-1").await;
    let other = shop.student("wx-live-2").await;
    let reviewer = shop
        .app
        .staff(&shop.admin, "live-rev", "REVIEWER", Some("10027"))
        .await;
    shop.app
        .create_school(&shop.admin, "10001", "北京大学")
        .await;
    let elsewhere = shop
        .app
        .staff(&shop.admin, "pku-live", "SCHOOL_ADMIN", Some("10001"))
        .await;

    let mut mine = subscribe(&shop, &s.token, json!({})).await;
    let mut theirs = subscribe(&shop, &other.token, json!({})).await;
    let mut staff = subscribe(&shop, &reviewer, json!({})).await;
    let mut outsider = subscribe(&shop, &elsewhere, json!({})).await;
    let mut admin = subscribe(&shop, &shop.admin, json!({})).await;

    let order = shop.paid_order(&s).await;
    let seen: Vec<_> = [
        next_event(&mut mine).await,
        next_event(&mut mine).await,
        next_event(&mut mine).await,
    ]
    .into_iter()
    .map(|e| e["event"].as_str().unwrap_or_default().to_string())
    .collect();
    assert_eq!(seen, ["SUBMIT", "PAYMENT_CONFIRMED", "ENQUEUE_FOR_REVIEW"]);

    shop.app
        .data(
            Some(&reviewer),
            "mutation { claimReviewTasks(input: { count: 1 }) { orders { id } } }",
            json!({}),
        )
        .await;
    let r = shop
        .app
        .data(
            Some(&reviewer),
            "mutation($i: ReviewOrderInput!) { reviewOrder(input: $i) { userErrors { code } } }",
            json!({ "i": { "orderId": order["id"], "decision": "REJECT", "reasonCode": "POSE_PITCH" } }),
        )
        .await;
    assert_eq!(r["reviewOrder"]["userErrors"], json!([]));
    let rejected = next_event(&mut mine).await;
    assert_eq!(rejected["event"], "REJECT");
    assert_eq!(rejected["reasonCode"], "POSE_PITCH");
    assert_eq!(rejected["toStatus"], "REJECTED");
    assert_eq!(rejected["order"]["status"], "REJECTED");
    assert_eq!(rejected["sequence"], 4);

    // Staff of the school saw all four; the other student and the other school saw nothing.
    let mut staff_seen = Vec::new();
    for _ in 0..4 {
        staff_seen.push(next_event(&mut staff).await["event"].clone());
    }
    assert_eq!(
        staff_seen,
        [
            "SUBMIT",
            "PAYMENT_CONFIRMED",
            "ENQUEUE_FOR_REVIEW",
            "REJECT"
        ]
    );
    // Admins see every school's orders.
    let mut admin_seen = Vec::new();
    for _ in 0..4 {
        admin_seen.push(next_event(&mut admin).await["event"].clone());
    }
    assert_eq!(admin_seen, staff_seen);
    silent(&mut theirs, Duration::from_millis(600)).await;
    silent(&mut outsider, Duration::from_millis(100)).await;
}

#[tokio::test]
async fn a_reconnecting_client_resumes_after_its_last_event_without_loss_or_repeat() {
    let shop = shop().await;
    let s = shop.student("wx-live-3").await;
    let mut ws = subscribe(&shop, &s.token, json!({})).await;
    let order = shop.submit(&s).await;
    let first = next_event(&mut ws).await;
    assert_eq!(first["event"], "SUBMIT");
    // The connection drops (a mini-program losing signal) …
    drop(ws);
    // … while the order is paid.
    shop.create_payment(&s.token, &order["id"]).await;
    shop.order_mutation(
        &s.token,
        "sandboxCompletePayment",
        json!({ "orderId": order["id"] }),
    )
    .await;

    let mut again = subscribe(&shop, &s.token, json!({ "a": first["id"] })).await;
    let replayed = [next_event(&mut again).await, next_event(&mut again).await];
    assert_eq!(replayed[0]["event"], "PAYMENT_CONFIRMED");
    assert_eq!(replayed[1]["event"], "ENQUEUE_FOR_REVIEW");
    // Then live, with no gap at the seam and nothing twice.
    shop.order_mutation(
        &s.token,
        "withdrawSubmission",
        json!({ "orderId": order["id"] }),
    )
    .await;
    let live = next_event(&mut again).await;
    assert_eq!(live["event"], "WITHDRAW");
    assert_eq!(live["sequence"], 4);
    silent(&mut again, Duration::from_millis(500)).await;
}

/// Event ids are taken before a transaction commits, so two transactions can commit in the
/// opposite order of their ids. The feed follows commit order: a client that resumes after the
/// event committed first still gets the one committed later with the smaller id.
#[tokio::test]
async fn an_event_committed_late_with_a_smaller_id_reaches_a_resuming_client() {
    use campus_photo::{entities::order_event, ids::NodeType};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};

    let shop = shop().await;
    let s = shop.student("wx-live-late").await;
    let mut ws = subscribe(&shop, &s.token, json!({})).await;
    let order = shop.submit(&s).await;
    assert_eq!(next_event(&mut ws).await["event"], "SUBMIT");
    let order_id = shop.app.row_id(NodeType::Order, &order["id"]);

    // Transaction 1 takes its event id now …
    let late_id = uuid::Uuid::now_v7();
    tokio::time::sleep(Duration::from_millis(5)).await;
    // … transaction 2 takes a later id and commits first; the client sees it, then drops.
    shop.order_mutation(&s.token, "cancelOrder", json!({ "orderId": order["id"] }))
        .await;
    let cancel = next_event(&mut ws).await;
    assert_eq!(cancel["event"], "CANCEL");
    let cancel_id = shop.app.row_id(NodeType::OrderEvent, &cancel["id"]);
    assert!(
        late_id < cancel_id,
        "the scenario needs the late event to sort first by id"
    );
    drop(ws);

    // Transaction 1 commits.
    let now = chrono::Utc::now();
    order_event::ActiveModel {
        id: Set(late_id),
        order_id: Set(order_id),
        sequence: Set(3),
        from_status: Set(Some(campus_photo_domain::order::OrderStatus::Closed)),
        to_status: Set(campus_photo_domain::order::OrderStatus::Closed),
        event: Set("PAID_AFTER_CLOSE".into()),
        actor: Set(campus_photo_domain::order::Actor::System),
        actor_account_id: Set(None),
        reason_code: Set(None),
        message: Set(None),
        payload: Set(None),
        created_at: Set(now),
        published_at: Set(None),
        feed_seq: Set(None),
        print_order_id: Set(None),
    }
    .insert(&shop.app.state.db)
    .await
    .expect("insert the late event");
    shop.app.state.relay.wake();
    // Wait until it has gone out, so only the replay can bring it to the resuming client.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let row = order_event::Entity::find_by_id(late_id)
            .one(&shop.app.state.db)
            .await
            .expect("read")
            .expect("row");
        if row.published_at.is_some() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never published");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let mut again = subscribe(&shop, &s.token, json!({ "a": cancel["id"] })).await;
    let replayed = next_event(&mut again).await;
    assert_eq!(replayed["event"], "PAID_AFTER_CLOSE");
    silent(&mut again, Duration::from_millis(300)).await;
}

#[tokio::test]
async fn one_order_only_and_never_someone_elses() {
    let shop = shop().await;
    let s = shop.student("wx-live-4").await;
    let other = shop.student("wx-live-5").await;
    let order = shop.submit(&s).await;
    let second = shop.submit(&other).await;

    // Subscribing to another student's order is refused like an unknown id.
    let mut ws = subscribe(&shop, &other.token, json!({ "o": order["id"] })).await;
    let refused = ws.frame().await.expect("reply");
    assert_eq!(refused["type"], "next", "{refused}");
    assert_eq!(refused["payload"]["data"], Value::Null);
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"],
        "NOT_FOUND"
    );

    // One order: events of the student's other orders do not arrive.
    let mut one = subscribe(&shop, &other.token, json!({ "o": second["id"] })).await;
    shop.order_mutation(&s.token, "cancelOrder", json!({ "orderId": order["id"] }))
        .await;
    shop.order_mutation(
        &other.token,
        "cancelOrder",
        json!({ "orderId": second["id"] }),
    )
    .await;
    let e = next_event(&mut one).await;
    assert_eq!(e["event"], "CANCEL");
    assert_eq!(e["order"]["id"], second["id"]);
}

#[tokio::test]
async fn a_subscriber_on_one_instance_sees_what_another_instance_did() {
    if std::env::var("TEST_REDIS_URL").map_or(true, |v| v.is_empty()) {
        // Two instances meet only through Redis; .ci/run always sets TEST_REDIS_URL.
        eprintln!("skipped: set TEST_REDIS_URL to run two instances on one Redis");
        return;
    }
    let a = shop().await;
    let b = Shop {
        app: a.app.spawn_sibling().await,
        admin: a.admin.clone(),
    };
    let s = a.student("wx-two-instances").await;
    let reviewer = a
        .app
        .staff(&a.admin, "two-rev", "REVIEWER", Some("10027"))
        .await;
    // The student is connected to instance B …
    let mut on_b = subscribe(&b, &s.token, json!({})).await;
    // … while instance A takes the order, the payment notification and the review.
    let order = a.paid_order(&s).await;
    a.app
        .data(
            Some(&reviewer),
            "mutation { claimReviewTasks(input: { count: 1 }) { orders { id } } }",
            json!({}),
        )
        .await;
    let r = a
        .app
        .data(
            Some(&reviewer),
            "mutation($i: ReviewOrderInput!) { reviewOrder(input: $i) { userErrors { code } } }",
            json!({ "i": { "orderId": order["id"], "decision": "APPROVE" } }),
        )
        .await;
    assert_eq!(r["reviewOrder"]["userErrors"], json!([]));
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(next_event(&mut on_b).await["event"].clone());
    }
    assert_eq!(
        seen,
        [
            "SUBMIT",
            "PAYMENT_CONFIRMED",
            "ENQUEUE_FOR_REVIEW",
            "APPROVE"
        ]
    );
    silent(&mut on_b, Duration::from_millis(600)).await;
}
