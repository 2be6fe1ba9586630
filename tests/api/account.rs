//! 账号信息: signOutEverywhere and deleteAccount, over HTTP.
use crate::common;

use campus_photo::{
    entities::{account, enrollment, order, photo},
    ids::NodeType,
};
use common::flow::{Shop, shop};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

const DELETE: &str = "mutation { deleteAccount { deleted userErrors { code field message } } }";
const WHO: &str = "{ viewer { account { id } enrollments { id } } }";

async fn delete_account(shop: &Shop, token: &str) -> Value {
    shop.app.data(Some(token), DELETE, json!({})).await["deleteAccount"].clone()
}

async fn account_id(shop: &Shop, token: &str) -> Uuid {
    let who = shop.app.data(Some(token), WHO, json!({})).await;
    shop.app
        .row_id(NodeType::Account, &who["viewer"]["account"]["id"])
}

#[tokio::test]
async fn signing_out_everywhere_revokes_every_session() {
    let shop = shop().await;
    let phone = shop.app.sign_in_student("wx-acc-1", "13800138000").await;
    let tablet = shop.app.sign_in_student("wx-acc-1", "13800138000").await;
    assert_eq!(
        account_id(&shop, &phone).await,
        account_id(&shop, &tablet).await
    );
    let other = shop.app.sign_in_student("wx-acc-2", "13800138001").await;

    let r = shop
        .app
        .data(Some(&phone), "mutation { signOutEverywhere }", json!({}))
        .await;
    assert_eq!(r["signOutEverywhere"], true);
    for token in [&phone, &tablet] {
        let body = shop.app.gql(Some(token), WHO, json!({})).await;
        assert_eq!(common::error_code(&body), "UNAUTHENTICATED", "{body}");
    }
    // Someone else's sessions are untouched.
    let body = shop.app.gql(Some(&other), WHO, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
}

#[tokio::test]
async fn an_order_in_progress_keeps_the_account() {
    let shop = shop().await;
    let s = shop.student("wx-acc-3").await;
    let order = shop.submit(&s).await;

    let r = delete_account(&shop, &s.token).await;
    assert_eq!(r["deleted"], false);
    assert_eq!(r["userErrors"][0]["code"], "ORDER_IN_PROGRESS", "{r}");
    let message = r["userErrors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("注销"), "{message}");
    // Nothing changed: still signed in, the order still theirs.
    let still = shop.order(&s.token, &order["id"]).await;
    assert_eq!(still["status"], "PENDING_PAYMENT");
}

#[tokio::test]
async fn deleting_erases_personal_data_and_keeps_orders_for_accounting() {
    let shop = shop().await;
    let app = &shop.app;
    // Two photos: one only this student has, one another student uploaded too (originals are
    // content-addressed, so that object is shared and must stay).
    let s = shop
        .student_with_photo("wx-acc-4", "obama_q35_ok.jpg")
        .await;
    shop.upload(&s.token, &s.enrollment, "obama_ok.jpg").await;
    let neighbour = shop.student("wx-acc-5").await;
    let order = shop.submit(&s).await;
    shop.order_mutation(&s.token, "cancelOrder", json!({ "orderId": order["id"] }))
        .await;
    let asked = app
        .data(
            Some(&s.token),
            "mutation { openSupportTicket(input: { subject: \"问题\", text: \"我的电话是 13800138000\" }) { userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(asked["openSupportTicket"]["userErrors"], json!([]));
    let me = account_id(&shop, &s.token).await;
    let enrollment_id = shop.app.row_id(NodeType::Enrollment, &s.enrollment);
    let photos = photo::Entity::find()
        .filter(photo::Column::EnrollmentId.eq(enrollment_id))
        .all(&app.state.db)
        .await
        .expect("photos");
    assert_eq!(photos.len(), 2);
    let neighbour_photo =
        photo::Entity::find_by_id(shop.app.row_id(NodeType::Photo, &neighbour.photo))
            .one(&app.state.db)
            .await
            .expect("read")
            .expect("neighbour's photo");

    let r = delete_account(&shop, &s.token).await;
    assert_eq!(r, json!({ "deleted": true, "userErrors": [] }));

    // Signed out everywhere.
    let body = app.gql(Some(&s.token), WHO, json!({})).await;
    assert_eq!(common::error_code(&body), "UNAUTHENTICATED", "{body}");
    // The account is an empty shell.
    let a = account::Entity::find_by_id(me)
        .one(&app.state.db)
        .await
        .expect("read")
        .expect("the row stays");
    assert_eq!(a.wechat_openid, None);
    assert_eq!(a.phone_encrypted, None);
    assert_eq!(a.phone_masked, None);
    assert!(a.deleted_at.is_some());
    // What could name the student is gone from the collection info.
    let e = enrollment::Entity::find_by_id(enrollment_id)
        .one(&app.state.db)
        .await
        .expect("read")
        .expect("enrollment row");
    assert_eq!(e.account_id, None);
    assert_eq!(e.name_encrypted, None);
    assert_eq!(e.id_number_encrypted, None);
    assert_eq!(e.id_number_index, None);
    // The order stays for accounting, linked to nobody.
    let o = order::Entity::find_by_id(shop.app.row_id(NodeType::Order, &order["id"]))
        .one(&app.state.db)
        .await
        .expect("read")
        .expect("order row");
    assert_eq!(o.account_id, None);
    assert_eq!(o.status.as_str(), "CLOSED");
    // Support conversations go entirely.
    let tickets = campus_photo::entities::support_ticket::Entity::find()
        .all(&app.state.db)
        .await
        .expect("tickets");
    assert!(tickets.is_empty(), "{tickets:?}");
    let messages = campus_photo::entities::support_message::Entity::find()
        .all(&app.state.db)
        .await
        .expect("messages");
    assert!(messages.is_empty(), "{messages:?}");
    // The student's own image is gone; the one the neighbour also uses stays.
    for p in &photos {
        let stored = app.state.storage.get(&p.object_key).await.expect("storage");
        if p.object_key == neighbour_photo.object_key {
            assert!(
                stored.is_some(),
                "shared original {} was deleted",
                p.object_key
            );
        } else {
            assert!(stored.is_none(), "{} survived", p.object_key);
        }
    }

    // The same WeChat user signing in again starts afresh.
    let again = app.sign_in_student("wx-acc-4", "13800138000").await;
    let who = app.data(Some(&again), WHO, json!({})).await;
    assert_ne!(
        shop.app
            .row_id(NodeType::Account, &who["viewer"]["account"]["id"]),
        me
    );
    assert_eq!(who["viewer"]["enrollments"], json!([]));
}

#[tokio::test]
async fn a_completed_photo_must_be_reported_before_the_account_goes() {
    let shop = shop().await;
    let reviewer = shop
        .app
        .staff(&shop.admin, "acc-rev", "REVIEWER", Some("10027"))
        .await;
    let producer = shop
        .app
        .staff(&shop.admin, "acc-prod", "PRODUCER", Some("10027"))
        .await;
    let s = shop.student("wx-acc-6").await;
    let order = shop.paid_order(&s).await;
    shop.produce_all(&reviewer, &producer, 1).await;
    shop.wait_for_status(&s.token, &order["id"], "COMPLETED")
        .await;

    let r = delete_account(&shop, &s.token).await;
    assert_eq!(r["deleted"], false);
    assert_eq!(r["userErrors"][0]["code"], "NOT_YET_REPORTED", "{r}");

    crate::registry_export::export_ok(&shop.app, &shop.admin, "10027").await;
    let r = delete_account(&shop, &s.token).await;
    assert_eq!(r, json!({ "deleted": true, "userErrors": [] }));
}

#[tokio::test]
async fn staff_and_anonymous_callers_cannot_delete_accounts() {
    let shop = shop().await;
    let reviewer = shop
        .app
        .staff(&shop.admin, "acc-rev2", "REVIEWER", Some("10027"))
        .await;
    let r = delete_account(&shop, &reviewer).await;
    assert_eq!(r["deleted"], false);
    assert_eq!(r["userErrors"][0]["code"], "STAFF_ACCOUNT", "{r}");
    // The reviewer is still signed in.
    let body = shop.app.gql(Some(&reviewer), WHO, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");

    let body = shop.app.gql(None, DELETE, json!({})).await;
    assert_eq!(common::error_code(&body), "UNAUTHENTICATED", "{body}");
}

#[tokio::test]
async fn deleting_removes_the_payers_openid_from_payment_records() {
    use campus_photo::entities::payment;
    let shop = shop().await;
    let s = shop.student("wx-acc-openid").await;
    let order = shop.paid_order(&s).await;
    let refund = shop
        .order_mutation(
            &s.token,
            "requestRefund",
            json!({ "orderId": order["id"], "reason": "不需要了" }),
        )
        .await;
    assert_eq!(refund["userErrors"], json!([]), "{refund}");
    shop.wait_for_status(&s.token, &order["id"], "REFUNDED")
        .await;
    let order_row = shop.app.row_id(NodeType::Order, &order["id"]);
    let before = payment::Entity::find()
        .filter(payment::Column::OrderId.eq(order_row))
        .one(&shop.app.state.db)
        .await
        .expect("read")
        .expect("payment");
    let openid = before.payer_openid.clone().expect("the payer was recorded");
    assert!(
        before
            .notification
            .as_ref()
            .is_some_and(|n| n.to_string().contains(&openid)),
        "the notification names the payer"
    );

    let r = delete_account(&shop, &s.token).await;
    assert_eq!(r, json!({ "deleted": true, "userErrors": [] }));
    let after = payment::Entity::find_by_id(before.id)
        .one(&shop.app.state.db)
        .await
        .expect("read")
        .expect("the payment stays for accounting");
    assert_eq!(after.payer_openid, None);
    let kept = after.notification.expect("the notification stays");
    assert!(!kept.to_string().contains(&openid), "{kept}");
    assert_eq!(
        kept["transaction_id"],
        before.notification.unwrap()["transaction_id"]
    );
    assert_eq!(after.amount_fen, before.amount_fen);
}
