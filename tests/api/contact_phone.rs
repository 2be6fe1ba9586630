//! Staff read a student's phone masked; one who must call reveals it, and the order's trail
//! says who did.
use serde_json::json;

use crate::common::{self, flow::shop};

const REVEAL: &str = "mutation($i: OrderIdInput!) { revealContactPhone(input: $i) { phone userErrors { code field message } } }";

#[tokio::test]
async fn staff_see_the_phone_masked_and_a_reveal_is_on_the_trail() {
    let shop = shop().await;
    let s = shop.student("wx-phone-1").await;
    let order = shop.paid_order(&s).await;
    let reviewer = shop
        .app
        .staff(&shop.admin, "phone-reviewer", "REVIEWER", Some("10027"))
        .await;
    // The student reads their own number whole; staff read it masked, in lists and by id.
    assert_eq!(
        shop.order(&s.token, &order["id"]).await["contactPhone"],
        "13800138000"
    );
    assert_eq!(
        shop.order(&reviewer, &order["id"]).await["contactPhone"],
        "138****8000"
    );
    let list = shop
        .app
        .data(
            Some(&reviewer),
            "{ orders(first: 10) { nodes { contactPhone } } }",
            json!({}),
        )
        .await;
    assert!(!list.to_string().contains("13800138000"), "{list}");

    let revealed = shop
        .app
        .data(
            Some(&reviewer),
            REVEAL,
            json!({ "i": { "orderId": order["id"] } }),
        )
        .await;
    assert_eq!(
        revealed["revealContactPhone"],
        json!({ "phone": "13800138000", "userErrors": [] })
    );
    let trail = shop.order(&shop.admin, &order["id"]).await;
    let last = trail["events"]
        .as_array()
        .expect("events")
        .last()
        .expect("an event")
        .clone();
    assert_eq!(last["event"], "CONTACT_PHONE_REVEALED", "{trail}");
    assert_eq!(last["actor"], "REVIEWER", "{trail}");
    assert_eq!(
        last["toStatus"], trail["status"],
        "the status did not change"
    );
}

#[tokio::test]
async fn only_staff_in_scope_may_reveal() {
    let shop = shop().await;
    let s = shop.student("wx-phone-2").await;
    let order = shop.paid_order(&s).await;
    let admin = &shop.admin;
    shop.app.create_school(admin, "10028", "另一所学校").await;
    let elsewhere = shop
        .app
        .staff(admin, "phone-elsewhere", "REVIEWER", Some("10028"))
        .await;
    let body = shop
        .app
        .gql(
            Some(&elsewhere),
            REVEAL,
            json!({ "i": { "orderId": order["id"] } }),
        )
        .await;
    assert_eq!(common::error_code(&body), "NOT_FOUND", "{body}");
    let body = shop
        .app
        .gql(
            Some(&s.token),
            REVEAL,
            json!({ "i": { "orderId": order["id"] } }),
        )
        .await;
    assert_eq!(common::error_code(&body), "FORBIDDEN", "{body}");
    let body = shop
        .app
        .gql(None, REVEAL, json!({ "i": { "orderId": order["id"] } }))
        .await;
    assert_eq!(common::error_code(&body), "UNAUTHENTICATED", "{body}");
    // None of these left a trace on the order.
    let trail = shop.order(admin, &order["id"]).await;
    assert!(
        !trail.to_string().contains("CONTACT_PHONE_REVEALED"),
        "{trail}"
    );
}
