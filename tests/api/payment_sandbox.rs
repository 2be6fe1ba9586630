//! The WeChat Pay sandbox keeps its trades in the database, as WeChat keeps its own: a restart
//! (here: another instance with an empty memory) can still pay and refund a trade opened before.
use serde_json::json;

use crate::common::flow::{Shop, shop};

#[tokio::test]
async fn a_trade_opened_before_a_restart_can_be_paid_and_refunded_after_it() {
    let first = shop().await;
    let s = first.student("wx-sandbox-restart").await;
    let order = first.submit(&s).await;
    let pay = first.create_payment(&s.token, &order["id"]).await;
    assert_eq!(pay["userErrors"], json!([]), "{pay}");

    // The "restarted" service: same database, a sandbox that has seen nothing.
    let restarted = Shop {
        app: first.app.spawn_sibling().await,
        admin: first.admin.clone(),
    };
    let paid = restarted
        .order_mutation(
            &s.token,
            "sandboxCompletePayment",
            json!({ "orderId": order["id"] }),
        )
        .await;
    assert_eq!(paid["userErrors"], json!([]), "{paid}");
    assert_eq!(paid["order"]["status"], "PENDING_REVIEW", "{paid}");

    let again = Shop {
        app: restarted.app.spawn_sibling().await,
        admin: first.admin.clone(),
    };
    let refund = again
        .order_mutation(
            &s.token,
            "requestRefund",
            json!({ "orderId": order["id"], "reason": "重复下单" }),
        )
        .await;
    assert_eq!(refund["userErrors"], json!([]), "{refund}");
    again
        .wait_for_status(&s.token, &order["id"], "REFUNDED")
        .await;
}
