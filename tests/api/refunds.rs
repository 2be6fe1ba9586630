//! requestRefund: the refund API is called with an idempotent out_refund_no, and only the
//! verified refund notification moves the order to REFUNDED.
use crate::common;

use campus_photo::{entities::refund, integrations::wechat_pay::RefundBehaviour};
use common::flow::{Shop, event_names, shop};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

fn sandbox(shop: &Shop) -> &campus_photo::integrations::wechat_pay::SandboxWeChatPay {
    shop.app
        .state
        .wechat_pay
        .as_sandbox()
        .expect("tests run on the sandbox")
}

async fn refunds_of(shop: &Shop, number: &str) -> Vec<refund::Model> {
    refund::Entity::find()
        .filter(refund::Column::OutRefundNo.starts_with(number))
        .order_by_asc(refund::Column::CreatedAt)
        .all(&shop.app.state.db)
        .await
        .expect("refunds")
}

async fn refund(shop: &Shop, token: &str, order: &Value, reason: &str) -> Value {
    shop.order_mutation(
        token,
        "requestRefund",
        json!({ "orderId": order["id"], "reason": reason }),
    )
    .await
}

#[tokio::test]
async fn a_refund_is_confirmed_by_its_notification() {
    let shop = shop().await;
    let s = shop.student("wx-refund-1").await;
    let order = shop.paid_order(&s).await;
    let r = refund(&shop, &s.token, &order, "不需要了").await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    // Requested, not yet refunded: WeChat has the last word.
    assert_eq!(r["order"]["refundPending"], true);
    let refunded = shop
        .wait_for_status(&s.token, &order["id"], "REFUNDED")
        .await;
    assert_eq!(refunded["statusLabel"], "已退款");
    assert_eq!(refunded["refundPending"], false);
    assert!(refunded["refundedAt"].is_string());
    assert_eq!(
        event_names(&refunded),
        [
            "SUBMIT",
            "PAYMENT_CONFIRMED",
            "ENQUEUE_FOR_REVIEW",
            "REFUND_REQUESTED",
            "REFUND_CONFIRMED"
        ]
    );
    assert_eq!(refunded["events"][3]["message"], "不需要了");
    let number = order["number"].as_str().unwrap_or_default();
    let rows = refunds_of(&shop, number).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].out_refund_no, format!("{number}-R1"));
    assert_eq!(rows[0].state.as_str(), "SUCCESS");
    assert_eq!(rows[0].amount_fen, 3000);
    assert!(rows[0].refund_id.is_some() && rows[0].notification.is_some());
    // Refunded is final.
    let again = refund(&shop, &s.token, &order, "再退一次").await;
    assert_eq!(again["userErrors"][0]["code"], "INVALID_STATE");
}

#[tokio::test]
async fn a_refused_refund_leaves_the_order_as_it_was_and_may_be_retried() {
    let shop = shop().await;
    let s = shop.student("wx-refund-2").await;
    let order = shop.paid_order(&s).await;
    sandbox(&shop).set_refund_behaviour(RefundBehaviour::RejectRequest);
    let r = refund(&shop, &s.token, &order, "拍错了").await;
    assert_eq!(r["order"], Value::Null);
    assert_eq!(r["userErrors"][0]["code"], "REFUND_FAILED");
    assert!(
        r["userErrors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("余额不足")),
        "{r}"
    );
    let after = shop.order(&s.token, &order["id"]).await;
    assert_eq!(after["status"], "PENDING_REVIEW");
    assert_eq!(after["refundPending"], false);
    assert_eq!(
        event_names(&after)[3..],
        ["REFUND_REQUESTED", "REFUND_FAILED"]
    );

    // Next time WeChat accepts: a new out_refund_no, and the order is refunded.
    sandbox(&shop).set_refund_behaviour(RefundBehaviour::Succeed);
    let r = refund(&shop, &s.token, &order, "拍错了").await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    shop.wait_for_status(&s.token, &order["id"], "REFUNDED")
        .await;
    let number = order["number"].as_str().unwrap_or_default();
    let states: Vec<_> = refunds_of(&shop, number)
        .await
        .into_iter()
        .map(|r| (r.out_refund_no, r.state.to_string()))
        .collect();
    assert_eq!(
        states,
        [
            (format!("{number}-R1"), "FAILED".to_string()),
            (format!("{number}-R2"), "SUCCESS".to_string())
        ]
    );
}

#[tokio::test]
async fn an_abnormal_refund_notification_reopens_the_order_for_another_try() {
    let shop = shop().await;
    let s = shop.student("wx-refund-3").await;
    let order = shop.paid_order(&s).await;
    sandbox(&shop).set_refund_behaviour(RefundBehaviour::NotifyAbnormal);
    let r = refund(&shop, &s.token, &order, "重复下单").await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert_eq!(r["order"]["refundPending"], true);
    let mut after = Value::Null;
    for _ in 0..100 {
        after = shop.order(&s.token, &order["id"]).await;
        if after["refundPending"] == false {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(after["refundPending"], false, "{after}");
    assert_eq!(after["status"], "PENDING_REVIEW");
    assert_eq!(
        event_names(&after).last().map(String::as_str),
        Some("REFUND_FAILED")
    );
    let rows = refunds_of(&shop, order["number"].as_str().unwrap_or_default()).await;
    assert_eq!(rows[0].state.as_str(), "FAILED");
    assert_eq!(rows[0].failure_reason.as_deref(), Some("ABNORMAL"));
}

#[tokio::test]
async fn refunds_need_a_paid_order_of_ones_own_and_a_reason() {
    let shop = shop().await;
    let s = shop.student("wx-refund-4").await;
    let unpaid = shop.submit(&s).await;
    let r = refund(&shop, &s.token, &unpaid, "不想要了").await;
    assert_eq!(r["userErrors"][0]["code"], "INVALID_STATE");
    shop.order_mutation(&s.token, "cancelOrder", json!({ "orderId": unpaid["id"] }))
        .await;

    let order = shop.paid_order(&s).await;
    for reason in ["", "   ", &"太".repeat(81)] {
        let r = refund(&shop, &s.token, &order, reason).await;
        assert_eq!(r["userErrors"][0]["code"], "INVALID_REASON", "{reason}");
        assert_eq!(r["userErrors"][0]["field"], json!(["input", "reason"]));
    }
    let other = shop.student("wx-refund-4b").await;
    let foreign = shop
        .app
        .gql(
            Some(&other.token),
            "mutation($i: RequestRefundInput!) { requestRefund(input: $i) { userErrors { code } } }",
            json!({ "i": { "orderId": order["id"], "reason": "别人的" } }),
        )
        .await;
    assert_eq!(common::error_code(&foreign), "NOT_FOUND");
    assert_eq!(
        shop.order(&s.token, &order["id"]).await["events"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );

    // Twice while the first is pending: refused.
    let first = refund(&shop, &shop.admin, &order, "管理员退款").await;
    assert_eq!(first["userErrors"], json!([]), "{first}");
    let second = refund(&shop, &s.token, &order, "我也要退").await;
    let code = second["userErrors"][0]["code"].as_str().unwrap_or_default();
    assert!(
        code == "REFUND_PENDING" || code == "INVALID_STATE",
        "{second}"
    );
    let done = shop
        .wait_for_status(&s.token, &order["id"], "REFUNDED")
        .await;
    assert_eq!(done["events"][3]["actor"], "ADMIN");
}
