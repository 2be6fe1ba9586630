//! createPayment, sandboxCompletePayment and POST /payments/wechat/notify: only a verified,
//! fresh, first-seen, decryptable, matching notification moves an order, and a refused one
//! changes nothing.
use crate::common;

use campus_photo::{clock::Clock, entities::payment};
use campus_photo_wechatpay::{
    keys::generate_rsa_2048,
    notification::{Notification, NotificationSigner},
    signature,
};
use common::{
    flow::{Shop, Student, event_names, notification, shop, transaction},
    test_pay_keys,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

/// An order with its WeChat trade opened, ready to be paid.
async fn awaiting_payment(shop: &Shop, code: &str) -> (Student, Value) {
    let s = shop.student(code).await;
    let order = shop.submit(&s).await;
    let pay = shop.create_payment(&s.token, &order["id"]).await;
    assert_eq!(pay["userErrors"], json!([]), "{pay}");
    (s, order)
}

fn now(shop: &Shop) -> i64 {
    shop.app.clock.now().timestamp()
}

async fn stored_payment(shop: &Shop, number: &str) -> payment::Model {
    payment::Entity::find()
        .filter(payment::Column::OutTradeNo.eq(number))
        .one(&shop.app.state.db)
        .await
        .expect("query")
        .expect("payment row")
}

#[tokio::test]
async fn create_payment_returns_parameters_signed_with_the_merchant_key() {
    let shop = shop().await;
    let s = shop.student("wx-pay-1").await;
    let order = shop.submit(&s).await;
    let pay = shop.create_payment(&s.token, &order["id"]).await;
    assert_eq!(pay["userErrors"], json!([]), "{pay}");
    let p = &pay["payParams"];
    assert_eq!(p["signType"], "RSA");
    assert_eq!(p["appId"], "wx-sandbox-appid");
    assert_eq!(p["timeStamp"], now(&shop).to_string());
    let package = p["package"].as_str().unwrap_or_default();
    assert!(package.starts_with("prepay_id=wx"), "{package}");
    let message = signature::pay_sign_message(
        p["appId"].as_str().unwrap_or_default(),
        p["timeStamp"].as_str().unwrap_or_default(),
        p["nonceStr"].as_str().unwrap_or_default(),
        package,
    );
    let merchant_public = test_pay_keys().merchant.key.to_public_key();
    signature::verify_sha256_rsa(
        &merchant_public,
        message.as_bytes(),
        p["paySign"].as_str().unwrap_or_default(),
    )
    .expect("paySign verifies with the merchant key");
    // Asking again reuses the same WeChat trade (same prepay_id).
    let again = shop.create_payment(&s.token, &order["id"]).await;
    assert_eq!(again["payParams"]["package"], package);
    // Nobody else may pay for it.
    let other = shop.student("wx-pay-1b").await;
    let foreign = shop
        .app
        .gql(
            Some(&other.token),
            "mutation($i: OrderIdInput!) { createPayment(input: $i) { userErrors { code } } }",
            json!({ "i": { "orderId": order["id"] } }),
        )
        .await;
    assert_eq!(common::error_code(&foreign), "NOT_FOUND");
}

#[tokio::test]
async fn the_sandbox_pays_through_the_real_notification_path() {
    let shop = shop().await;
    let s = shop.student("wx-pay-2").await;
    let order = shop.submit(&s).await;
    let early = shop
        .order_mutation(
            &s.token,
            "sandboxCompletePayment",
            json!({ "orderId": order["id"] }),
        )
        .await;
    assert_eq!(early["userErrors"][0]["code"], "PAYMENT_NOT_CREATED");

    shop.create_payment(&s.token, &order["id"]).await;
    let paid = shop
        .order_mutation(
            &s.token,
            "sandboxCompletePayment",
            json!({ "orderId": order["id"] }),
        )
        .await;
    assert_eq!(paid["userErrors"], json!([]), "{paid}");
    let o = &paid["order"];
    assert_eq!(o["status"], "PENDING_REVIEW");
    assert!(o["paidAt"].is_string());
    assert_eq!(
        event_names(o),
        ["SUBMIT", "PAYMENT_CONFIRMED", "ENQUEUE_FOR_REVIEW"]
    );
    assert_eq!(o["events"][1]["actor"], "WECHATPAY");
    assert_eq!(o["events"][1]["toStatus"], "PAID");
    assert_eq!(o["events"][2]["fromStatus"], "PAID");

    // The payment keeps the decrypted notification for audit.
    let p = stored_payment(&shop, o["number"].as_str().unwrap_or_default()).await;
    assert_eq!(p.state.as_str(), "SUCCESS");
    let audit = p.notification.expect("notification kept");
    assert_eq!(audit["out_trade_no"], o["number"]);
    assert_eq!(audit["amount"]["total"], 3000);
    assert_eq!(
        p.transaction_id.as_deref(),
        audit["transaction_id"].as_str()
    );
}

/// Posts `resource` as a TRANSACTION.SUCCESS notification; returns the reply.
async fn notify(shop: &Shop, resource: &Value) -> (u16, Value) {
    let (headers, body) = notification("TRANSACTION.SUCCESS", resource, now(shop));
    shop.app.post_notification(&headers, body).await
}

#[tokio::test]
async fn a_valid_notification_pays_and_a_duplicate_changes_nothing() {
    let shop = shop().await;
    let (s, order) = awaiting_payment(&shop, "wx-pay-3").await;
    let number = order["number"].as_str().unwrap_or_default();
    let resource = transaction(number, 3000, "4200000001202611230001");
    let (status, _) = notify(&shop, &resource).await;
    assert_eq!(status, 204);
    let paid = shop.order(&s.token, &order["id"]).await;
    assert_eq!(paid["status"], "PENDING_REVIEW");

    // WeChat sends the same transaction again (a new nonce): acknowledged, nothing changes.
    let (status, _) = notify(&shop, &resource).await;
    assert_eq!(status, 204);
    let after = shop.order(&s.token, &order["id"]).await;
    assert_eq!(event_names(&after), event_names(&paid));
    assert_eq!(after["paidAt"], paid["paidAt"]);
}

/// Asserts a refused notification: the status, `{"code":"FAIL"}`, and the order untouched.
async fn assert_refused(shop: &Shop, s: &Student, order: &Value, reply: (u16, Value), status: u16) {
    assert_eq!(reply.0, status, "{}", reply.1);
    assert_eq!(reply.1["code"], "FAIL");
    assert!(reply.1["message"].as_str().is_some_and(|m| !m.is_empty()));
    let now = shop.order(&s.token, &order["id"]).await;
    assert_eq!(now["status"], "PENDING_PAYMENT");
    assert_eq!(event_names(&now), ["SUBMIT"]);
}

fn other_signer() -> NotificationSigner {
    static KEY: std::sync::OnceLock<rsa::RsaPrivateKey> = std::sync::OnceLock::new();
    let key = KEY
        .get_or_init(|| generate_rsa_2048(&mut rand::thread_rng()).expect("rsa"))
        .clone();
    NotificationSigner {
        serial: test_pay_keys().platform.serial.clone(),
        key,
    }
}

#[tokio::test]
async fn forged_stale_and_unknown_signers_are_refused() {
    let shop = shop().await;
    let (s, order) = awaiting_payment(&shop, "wx-pay-4").await;
    let number = order["number"].as_str().unwrap_or_default();
    let resource = transaction(number, 3000, "4200000001202611230002");
    let (good_headers, body) = notification("TRANSACTION.SUCCESS", &resource, now(&shop));

    // Signed by someone else's key under the platform serial.
    let forged = other_signer()
        .sign(&body, now(&shop), &signature::new_nonce())
        .expect("sign");
    let reply = shop.app.post_notification(&forged, body.clone()).await;
    assert_refused(&shop, &s, &order, reply, 401).await;

    // A serial we were never given.
    let mut unknown = good_headers.clone();
    unknown.serial = "7A1B2C3D4E5F".into();
    let reply = shop.app.post_notification(&unknown, body.clone()).await;
    assert_refused(&shop, &s, &order, reply, 401).await;

    // Correctly signed but 301 seconds old (and 301 seconds early).
    for skew in [-301, 301] {
        let stale = test_pay_keys()
            .platform
            .sign(&body, now(&shop) + skew, &signature::new_nonce())
            .expect("sign");
        let reply = shop.app.post_notification(&stale, body.clone()).await;
        assert_refused(&shop, &s, &order, reply, 401).await;
    }

    // A body changed after signing.
    let mut tampered = body.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 1;
    let reply = shop.app.post_notification(&good_headers, tampered).await;
    assert!(reply.0 == 401 || reply.0 == 400, "{reply:?}");
    assert_refused(&shop, &s, &order, reply.clone(), reply.0).await;

    // Missing headers.
    let resp = shop
        .app
        .http
        .post(shop.app.url("/payments/wechat/notify"))
        .body(body.clone())
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 401);

    // And the genuine one still works afterwards.
    let (status, _) = shop.app.post_notification(&good_headers, body).await;
    assert_eq!(status, 204);
    assert_eq!(
        shop.order(&s.token, &order["id"]).await["status"],
        "PENDING_REVIEW"
    );
}

#[tokio::test]
async fn a_replayed_nonce_is_refused() {
    let shop = shop().await;
    let (s, order) = awaiting_payment(&shop, "wx-pay-5").await;
    let (s2, order2) = awaiting_payment(&shop, "wx-pay-5b").await;
    let n1 = order["number"].as_str().unwrap_or_default();
    let n2 = order2["number"].as_str().unwrap_or_default();
    let (headers, body) = notification(
        "TRANSACTION.SUCCESS",
        &transaction(n1, 3000, "4200000001202611230003"),
        now(&shop),
    );
    let (status, _) = shop.app.post_notification(&headers, body.clone()).await;
    assert_eq!(status, 204);
    // The exact request again: the nonce was used.
    let reply = shop.app.post_notification(&headers, body).await;
    assert_eq!(reply.0, 401, "{}", reply.1);
    // A correctly signed notification for another order that reuses that nonce is refused too.
    let (_, body2) = notification(
        "TRANSACTION.SUCCESS",
        &transaction(n2, 3000, "4200000001202611230004"),
        now(&shop),
    );
    let reused = test_pay_keys()
        .platform
        .sign(&body2, now(&shop), &headers.nonce)
        .expect("sign");
    let reply = shop.app.post_notification(&reused, body2).await;
    assert_refused(&shop, &s2, &order2, reply, 401).await;
    assert_eq!(
        shop.order(&s.token, &order["id"]).await["status"],
        "PENDING_REVIEW"
    );
}

#[tokio::test]
async fn a_ciphertext_that_does_not_decrypt_is_refused() {
    let shop = shop().await;
    let (s, order) = awaiting_payment(&shop, "wx-pay-6").await;
    let number = order["number"].as_str().unwrap_or_default();
    let (_, body) = notification(
        "TRANSACTION.SUCCESS",
        &transaction(number, 3000, "4200000001202611230005"),
        now(&shop),
    );
    // Flip one character of the ciphertext, then sign the result properly: only the AEAD tag
    // can catch it.
    let mut envelope: Notification = serde_json::from_slice(&body).expect("envelope");
    let mut ct: Vec<char> = envelope.resource.ciphertext.chars().collect();
    ct[4] = if ct[4] == 'A' { 'B' } else { 'A' };
    envelope.resource.ciphertext = ct.into_iter().collect();
    let tampered = serde_json::to_vec(&envelope).expect("json");
    let headers = test_pay_keys()
        .platform
        .sign(&tampered, now(&shop), &signature::new_nonce())
        .expect("sign");
    let reply = shop.app.post_notification(&headers, tampered).await;
    assert_refused(&shop, &s, &order, reply, 401).await;
}

#[tokio::test]
async fn wrong_amount_merchant_and_unknown_orders_are_refused() {
    let shop = shop().await;
    let (s, order) = awaiting_payment(&shop, "wx-pay-7").await;
    let number = order["number"].as_str().unwrap_or_default();

    let reply = notify(&shop, &transaction(number, 1, "4200000001202611230006")).await;
    assert_refused(&shop, &s, &order, reply, 400).await;

    let mut other_merchant = transaction(number, 3000, "4200000001202611230007");
    other_merchant["mchid"] = json!("1230000109");
    let reply = notify(&shop, &other_merchant).await;
    assert_refused(&shop, &s, &order, reply, 400).await;

    let mut other_app = transaction(number, 3000, "4200000001202611230008");
    other_app["appid"] = json!("wx-someone-else");
    let reply = notify(&shop, &other_app).await;
    assert_refused(&shop, &s, &order, reply, 400).await;

    let reply = notify(
        &shop,
        &transaction("000015-20991231235959999", 3000, "4200000001202611230009"),
    )
    .await;
    assert_eq!(reply.0, 404, "{}", reply.1);
    assert_eq!(reply.1["code"], "FAIL");
    assert_eq!(
        shop.order(&s.token, &order["id"]).await["status"],
        "PENDING_PAYMENT"
    );
}

#[tokio::test]
async fn concurrent_duplicate_notifications_apply_once() {
    let shop = shop().await;
    let (s, order) = awaiting_payment(&shop, "wx-pay-8").await;
    let number = order["number"].as_str().unwrap_or_default();
    let resource = transaction(number, 3000, "4200000001202611230010");
    let (a, b, c) = tokio::join!(
        notify(&shop, &resource),
        notify(&shop, &resource),
        notify(&shop, &resource)
    );
    assert_eq!([a.0, b.0, c.0], [204, 204, 204], "{a:?} {b:?} {c:?}");
    let paid = shop.order(&s.token, &order["id"]).await;
    assert_eq!(
        event_names(&paid),
        ["SUBMIT", "PAYMENT_CONFIRMED", "ENQUEUE_FOR_REVIEW"]
    );
}

#[tokio::test]
async fn a_notification_racing_a_cancel_has_exactly_one_winner_and_loses_no_money() {
    let shop = shop().await;
    for round in 0..8 {
        let (s, order) = awaiting_payment(&shop, &format!("wx-pay-race-{round}")).await;
        let number = order["number"].as_str().unwrap_or_default().to_string();
        let resource = transaction(&number, 3000, &format!("42000000012026112301{round:02}"));
        let (paid, cancelled) = tokio::join!(
            notify(&shop, &resource),
            shop.order_mutation(&s.token, "cancelOrder", json!({ "orderId": order["id"] })),
        );
        assert_eq!(paid.0, 204, "{paid:?}");
        let end = shop.order(&s.token, &order["id"]).await;
        let names = event_names(&end);
        match end["status"].as_str() {
            Some("PENDING_REVIEW") => {
                assert_eq!(
                    cancelled["userErrors"][0]["code"], "INVALID_STATE",
                    "{cancelled}"
                );
                assert!(!names.contains(&"CANCEL".to_string()), "{names:?}");
            }
            Some("CLOSED") => {
                assert_eq!(cancelled["userErrors"], json!([]), "{cancelled}");
                // The money that arrived after the close goes back.
                assert_eq!(names, ["SUBMIT", "CANCEL", "PAID_AFTER_CLOSE"]);
                let p = stored_payment(&shop, &number).await;
                assert!(p.transaction_id.is_some());
            }
            other => panic!("unexpected end state {other:?}: {end}"),
        }
    }
}

#[tokio::test]
async fn money_for_a_closed_order_is_refunded() {
    let shop = shop().await;
    let (s, order) = awaiting_payment(&shop, "wx-pay-9").await;
    let number = order["number"].as_str().unwrap_or_default().to_string();
    let closed = shop
        .order_mutation(&s.token, "cancelOrder", json!({ "orderId": order["id"] }))
        .await;
    assert_eq!(closed["order"]["status"], "CLOSED");

    let (status, _) = notify(&shop, &transaction(&number, 3000, "4200000001202611230020")).await;
    assert_eq!(status, 204);
    let end = shop.order(&s.token, &order["id"]).await;
    assert_eq!(end["status"], "CLOSED");
    assert_eq!(event_names(&end), ["SUBMIT", "CANCEL", "PAID_AFTER_CLOSE"]);
    // The sandbox confirms the refund by notification; the payment ends refunded.
    let mut state = String::new();
    for _ in 0..100 {
        state = stored_payment(&shop, &number).await.state.to_string();
        if state == "REFUNDED" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(state, "REFUNDED");
}

#[tokio::test]
async fn with_a_real_merchant_the_sandbox_cannot_pay() {
    use campus_photo_wechatpay::keys::{private_key_pem, public_key_pem};
    let dir = tempfile::tempdir().expect("dir");
    let keys = test_pay_keys();
    let merchant_path = dir.path().join("apiclient_key.pem");
    let platform_path = dir.path().join("pub_key.pem");
    std::fs::write(
        &merchant_path,
        private_key_pem(&keys.merchant.key).expect("pem"),
    )
    .expect("write");
    std::fs::write(
        &platform_path,
        public_key_pem(&keys.platform.key.to_public_key()).expect("pem"),
    )
    .expect("write");
    let app = common::TestApp::spawn_with(
        |v| {
            for (k, val) in [
                ("WECHAT_APPID", "wx1234567890"),
                ("WECHAT_SECRET", "secret"),
                ("WECHATPAY_MCHID", "1230000109"),
                (
                    "WECHATPAY_MERCHANT_SERIAL",
                    "5157F09EFDC096DE15EBE81A47057A72",
                ),
                ("WECHATPAY_APIV3_KEY", "0123456789abcdefghijABCDEFGHIJ01"),
                ("WECHATPAY_PLATFORM_SERIAL", "PUB_KEY_ID_0112345678"),
                (
                    "WECHATPAY_NOTIFY_URL",
                    "https://photo.example.edu.cn/payments/wechat/notify",
                ),
            ] {
                v.insert(k.into(), val.into());
            }
            // Real WeChat settings refuse the development code key.
            v.insert("COLLECTION_CODE_KEYS".into(), common::fixture_issuer_keys());
            v.insert(
                "WECHATPAY_MERCHANT_KEY_PATH".into(),
                merchant_path.display().to_string(),
            );
            v.insert(
                "WECHATPAY_PLATFORM_PUBLIC_KEY_PATH".into(),
                platform_path.display().to_string(),
            );
        },
        campus_photo::Overrides {
            wechat_login: Some(std::sync::Arc::new(
                campus_photo::integrations::wechat_login::SandboxWeChatLogin,
            )),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(app.state.wechat_pay.provider(), "WECHATPAY");
    let student = app.sign_in_student("wx-real-merchant", "13800138000").await;
    let some_order = app
        .state
        .ids
        .encode(campus_photo::ids::NodeType::Order, uuid::Uuid::now_v7());
    let r = app
        .data(
            Some(&student),
            "mutation($i: OrderIdInput!) { sandboxCompletePayment(input: $i) { order { id } userErrors { code message } } }",
            json!({ "i": { "orderId": some_order } }),
        )
        .await;
    assert_eq!(
        r["sandboxCompletePayment"]["userErrors"][0]["code"],
        "SANDBOX_ONLY"
    );
    // The configured platform key is what notifications must verify with: the test keys'
    // platform signer is it, under the configured serial.
    let signer = NotificationSigner {
        serial: "PUB_KEY_ID_0112345678".into(),
        key: keys.platform.key.clone(),
    };
    let body = br#"{"id":"x"}"#.to_vec();
    let headers = signer
        .sign(&body, app.clock.now().timestamp(), &signature::new_nonce())
        .expect("sign");
    // Signature and serial pass; the body is no notification, so it is refused as malformed,
    // not as forged.
    let (status, reply) = app.post_notification(&headers, body.clone()).await;
    assert_eq!(status, 401, "{reply}");
    assert!(
        !reply["message"]
            .as_str()
            .unwrap_or_default()
            .contains("serial"),
        "{reply}"
    );
}

/// A worker that claimed a notification's nonce and died before committing: the same request,
/// retried by WeChat, is "busy" while the claim is fresh and completes the payment once the
/// claim is old enough to be abandoned; a copy after that is a replay.
#[tokio::test]
async fn a_notification_whose_worker_died_is_completed_by_wechats_retry() {
    let shop = shop().await;
    let (s, order) = awaiting_payment(&shop, "wx-pay-crash").await;
    let number = order["number"].as_str().unwrap_or_default();
    let (headers, body) = notification(
        "TRANSACTION.SUCCESS",
        &transaction(number, 3000, "4200000001202611230099"),
        now(&shop),
    );
    // The first delivery got as far as claiming the nonce, then the process died.
    let claimed = shop
        .app
        .state
        .nonces
        .claim(&headers.nonce, shop.app.clock.now())
        .await
        .expect("claim");
    assert_eq!(
        claimed,
        campus_photo::services::payments::nonces::Claim::Fresh
    );
    assert_eq!(
        shop.order(&s.token, &order["id"]).await["status"],
        "PENDING_PAYMENT"
    );
    // WeChat retries at once: someone may still be working on it, so "try later".
    let (status, _) = shop.app.post_notification(&headers, body.clone()).await;
    assert_eq!(status, 503);
    // A minute on, the claim is known to be abandoned: the retry completes the payment.
    shop.app.clock.advance(chrono::TimeDelta::seconds(61));
    let (status, reply) = shop.app.post_notification(&headers, body.clone()).await;
    assert_eq!(status, 204, "{reply}");
    let paid = shop.order(&s.token, &order["id"]).await;
    assert_eq!(paid["status"], "PENDING_REVIEW");
    assert_eq!(
        event_names(&paid),
        ["SUBMIT", "PAYMENT_CONFIRMED", "ENQUEUE_FOR_REVIEW"]
    );
    // Done now: another copy is a replay.
    let (status, _) = shop.app.post_notification(&headers, body).await;
    assert_eq!(status, 401);
}
