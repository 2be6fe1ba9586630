//! Review results as WeChat subscription messages: only to students who consented, within
//! WeChat's field limits, recorded for admins; a refusal such as 43101 is recorded and not
//! retried, a busy WeChat is tried three times in all.
use crate::common;

use std::sync::{
    Arc,
    atomic::{AtomicI64, AtomicUsize, Ordering},
};

use axum::{Json, Router, extract::State, routing::post};
use campus_photo::integrations::{
    wechat_login::SandboxWeChatLogin, wechat_messages::RealWeChatMessages,
};
use common::flow::{Shop, Student, shop, shop_with_overrides};
use serde_json::{Value, json};

const MESSAGES: &str = "query($o: ID) { wechatMessages(orderId: $o) { totalCount nodes { orderId provider templateId page data state attempts errorCode error } } }";

/// Pays, claims and rejects the student's order (POSE_PITCH); returns the order id.
async fn rejected_order(shop: &Shop, s: &Student, consent: bool) -> Value {
    let submitted = shop
        .order_mutation(
            &s.token,
            "submitOrder",
            json!({ "photoId": s.photo, "notificationConsent": consent }),
        )
        .await;
    let id = submitted["order"]["id"].clone();
    shop.create_payment(&s.token, &id).await;
    shop.order_mutation(&s.token, "sandboxCompletePayment", json!({ "orderId": id }))
        .await;
    let reviewer = shop
        .app
        .staff(
            &shop.admin,
            &format!("msg-rev-{}", rand::random::<u32>()),
            "REVIEWER",
            None,
        )
        .await;
    shop.app
        .data(
            Some(&reviewer),
            "mutation { claimReviewTasks(input: { count: 5 }) { orders { id } } }",
            json!({}),
        )
        .await;
    let r = shop
        .app
        .data(
            Some(&reviewer),
            "mutation($i: ReviewOrderInput!) { reviewOrder(input: $i) { userErrors { code } } }",
            json!({ "i": { "orderId": id, "decision": "REJECT", "reasonCode": "OCC_EXTRA_CONTENT" } }),
        )
        .await;
    assert_eq!(r["reviewOrder"]["userErrors"], json!([]), "{r}");
    id
}

/// The order's messages once their sending has settled (bounded wait).
async fn settled_messages(shop: &Shop, order: &Value) -> Vec<Value> {
    for _ in 0..60 {
        let r = shop
            .app
            .data(Some(&shop.admin), MESSAGES, json!({ "o": order }))
            .await;
        let list = r["wechatMessages"]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !list.is_empty() && list.iter().all(|m| m["state"] != "PENDING") {
            return list;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Vec::new()
}

#[tokio::test]
async fn a_consenting_student_gets_the_review_result_within_wechats_limits() {
    let shop = shop().await;
    let s = shop.student("wx-msg-1").await;
    let order = rejected_order(&shop, &s, true).await;
    let list = settled_messages(&shop, &order).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let m = &list[0];
    assert_eq!(m["provider"], "SANDBOX");
    assert_eq!(m["state"], "SENT");
    assert_eq!(m["templateId"], "sandbox-review-result");
    assert!(
        m["page"]
            .as_str()
            .is_some_and(|p| p.ends_with(order.as_str().unwrap_or("?")))
    );
    let data: Value = serde_json::from_str(m["data"].as_str().unwrap_or("{}")).expect("data");
    assert_eq!(data["phrase2"]["value"], "审核驳回");
    let reason = data["thing3"]["value"].as_str().unwrap_or_default();
    assert!(reason.starts_with("图像额外内容"), "{reason}");
    assert!(reason.chars().count() <= 20, "{reason}");
    assert!(
        data["thing1"]["value"]
            .as_str()
            .is_some_and(|t| t.chars().count() <= 20)
    );

    // Only admins read them.
    let denied = shop
        .app
        .gql(Some(&s.token), MESSAGES, json!({ "o": null }))
        .await;
    assert_eq!(common::error_code(&denied), "FORBIDDEN");
}

#[tokio::test]
async fn no_consent_no_message() {
    let shop = shop().await;
    let s = shop.student("wx-msg-2").await;
    let order = rejected_order(&shop, &s, false).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let r = shop
        .app
        .data(Some(&shop.admin), MESSAGES, json!({ "o": order }))
        .await;
    assert_eq!(r["wechatMessages"]["nodes"], json!([]));
}

/// A result reviewed while no sender listened (every instance down, a Redis outage) is not
/// lost: an instance finds it in the database when it starts.
#[tokio::test]
async fn a_result_no_sender_heard_is_sent_when_an_instance_starts() {
    use campus_photo::entities::outbound_message;
    use sea_orm::EntityTrait;

    let shop = shop().await;
    let s = shop.student("wx-msg-3").await;
    let order = rejected_order(&shop, &s, true).await;
    assert_eq!(settled_messages(&shop, &order).await.len(), 1);
    // As if nobody had been listening when the reviewer rejected it.
    outbound_message::Entity::delete_many()
        .exec(&shop.app.state.db)
        .await
        .expect("forget the message");
    let r = shop
        .app
        .data(Some(&shop.admin), MESSAGES, json!({ "o": order }))
        .await;
    assert_eq!(r["wechatMessages"]["nodes"], json!([]));

    let _second = shop.app.spawn_sibling().await;
    let list = settled_messages(&shop, &order).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["state"], "SENT");
    let data: Value = serde_json::from_str(list[0]["data"].as_str().unwrap_or("{}")).expect("data");
    assert_eq!(data["phrase2"]["value"], "审核驳回");
}

#[derive(Clone, Default)]
struct FakeWeChat {
    calls: Arc<AtomicUsize>,
    errcode: Arc<AtomicI64>,
}

async fn subscribe_send(State(f): State<FakeWeChat>, Json(body): Json<Value>) -> Json<Value> {
    f.calls.fetch_add(1, Ordering::SeqCst);
    assert!(body["touser"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(body["template_id"], "sandbox-review-result");
    match f.errcode.load(Ordering::SeqCst) {
        0 => Json(json!({ "errcode": 0, "errmsg": "ok" })),
        code => Json(json!({ "errcode": code, "errmsg": "refused" })),
    }
}

#[tokio::test]
async fn refusals_are_recorded_once_and_busy_wechat_is_tried_three_times() {
    let fake = FakeWeChat::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let router = Router::new()
        .route("/cgi-bin/message/subscribe/send", post(subscribe_send))
        .with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.ok() });
    campus_photo::integrations::http_client::install_crypto_provider();
    let sender = RealWeChatMessages::new(
        campus_photo::integrations::http_client::build(),
        base,
        Arc::new(SandboxWeChatLogin),
    );
    let shop = shop_with_overrides(
        |_| {},
        campus_photo::Overrides {
            wechat_messages: Some(Arc::new(sender)),
            ..Default::default()
        },
    )
    .await;

    // 43101: the student did not subscribe (or used the subscription up): recorded, not retried.
    fake.errcode.store(43101, Ordering::SeqCst);
    let s = shop.student("wx-msg-3").await;
    let order = rejected_order(&shop, &s, true).await;
    let list = settled_messages(&shop, &order).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["provider"], "WECHAT");
    assert_eq!(list[0]["state"], "FAILED");
    assert_eq!(list[0]["errorCode"], 43101);
    assert_eq!(list[0]["attempts"], 1);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 1);

    // -1: system busy: three tries, then recorded as failed.
    fake.errcode.store(-1, Ordering::SeqCst);
    let s = shop.student("wx-msg-4").await;
    let order = rejected_order(&shop, &s, true).await;
    let list = settled_messages(&shop, &order).await;
    assert_eq!(list[0]["state"], "FAILED", "{list:?}");
    assert_eq!(list[0]["attempts"], 3);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 4);

    // And a good day.
    fake.errcode.store(0, Ordering::SeqCst);
    let s = shop.student("wx-msg-5").await;
    let order = rejected_order(&shop, &s, true).await;
    let list = settled_messages(&shop, &order).await;
    assert_eq!(list[0]["state"], "SENT", "{list:?}");
    assert_eq!(fake.calls.load(Ordering::SeqCst), 5);
}
