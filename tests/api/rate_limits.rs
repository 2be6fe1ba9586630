//! Rate limits: sign-in per IP, code decoding, uploads and payments per account, payment
//! notifications per IP — THROTTLED (or 429) with a retry hint, counted per window, shared by
//! instances through Redis when it is configured.
use crate::common;

use common::{
    AGREEMENT, TestApp, error_code,
    flow::{Shop, shop_with},
    mint_code,
};
use serde_json::{Value, json};

const SIGN_IN: &str = "mutation($i: SignInWithWeChatInput!) { signInWithWeChat(input: $i) { token userErrors { code } } }";
const DECODE: &str = "mutation($i: DecodeCollectionCodeInput!) { decodeCollectionCode(input: $i) { info { maskedName } userErrors { code } } }";

async fn sign_in(app: &TestApp, code: &str) -> Value {
    app.gql(
        None,
        SIGN_IN,
        json!({ "i": { "code": code, "phoneCode": "13800138000", "agreementVersion": AGREEMENT } }),
    )
    .await
}

fn retry_after(body: &Value) -> u64 {
    body["errors"][0]["extensions"]["retryAfterSeconds"]
        .as_u64()
        .unwrap_or(0)
}

fn redis_configured() -> bool {
    std::env::var("TEST_REDIS_URL").is_ok_and(|v| !v.is_empty())
}

#[tokio::test]
async fn sign_in_is_limited_per_address_until_the_window_ends() {
    let shop = shop_with(|v| {
        v.insert("RATE_LIMIT_SIGN_IN".into(), "3/60".into());
    })
    .await;
    // The shop's own admin sign-in counted once already.
    for n in 0..2 {
        let body = sign_in(&shop.app, &format!("wx-rl-{n}")).await;
        assert!(
            body["data"]["signInWithWeChat"]["token"].is_string(),
            "{body}"
        );
    }
    let body = sign_in(&shop.app, "wx-rl-9").await;
    assert_eq!(error_code(&body), "THROTTLED", "{body}");
    assert!((1..=60).contains(&retry_after(&body)), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("秒后再试"))
    );

    // Another instance of the deployment counts with it when they share Redis.
    let sibling = shop.app.spawn_sibling().await;
    let body = sign_in(&sibling, "wx-rl-10").await;
    if redis_configured() {
        assert_eq!(error_code(&body), "THROTTLED", "{body}");
    } else {
        assert!(
            body["data"]["signInWithWeChat"]["token"].is_string(),
            "{body}"
        );
    }

    shop.app.clock.advance(chrono::TimeDelta::seconds(60));
    let body = sign_in(&shop.app, "wx-rl-11").await;
    assert!(
        body["data"]["signInWithWeChat"]["token"].is_string(),
        "{body}"
    );
}

async fn limited_shop(variable: &str) -> Shop {
    let variable = variable.to_string();
    shop_with(move |v| {
        v.insert(variable, "2/60".into());
    })
    .await
}

#[tokio::test]
async fn decoding_uploads_and_payments_are_limited_per_account() {
    let shop = limited_shop("RATE_LIMIT_DECODE_CODE").await;
    let a = shop.app.sign_in_student("wx-rl-a", "13800138000").await;
    let b = shop.app.sign_in_student("wx-rl-b", "13800138001").await;
    let decode = |token: String| {
        let app = &shop.app;
        async move {
            app.gql(
                Some(&token),
                DECODE,
                json!({ "i": { "text": mint_code(|_| {}) } }),
            )
            .await
        }
    };
    for _ in 0..2 {
        let body = decode(a.clone()).await;
        assert!(
            body["data"]["decodeCollectionCode"]["info"].is_object(),
            "{body}"
        );
    }
    let body = decode(a.clone()).await;
    assert_eq!(error_code(&body), "THROTTLED", "{body}");
    // Another student is counted apart.
    let body = decode(b.clone()).await;
    assert!(
        body["data"]["decodeCollectionCode"]["info"].is_object(),
        "{body}"
    );

    let shop = limited_shop("RATE_LIMIT_UPLOAD").await;
    let s = shop.student("wx-rl-c").await; // one upload
    let second = shop.upload(&s.token, &s.enrollment, "obama_ok.jpg").await;
    assert!(second["id"].is_string(), "{second}");
    let body = shop
        .app
        .upload(
            Some(&s.token),
            "mutation($i: UploadPhotoInput!) { uploadPhoto(input: $i) { photo { id } userErrors { code } } }",
            json!({ "i": { "enrollmentId": s.enrollment, "file": null, "source": "CAMERA" } }),
            "variables.i.file",
            common::fixture("photos/obama_ok.jpg"),
            "obama_ok.jpg",
        )
        .await
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(error_code(&body), "THROTTLED", "{body}");

    let shop = limited_shop("RATE_LIMIT_CREATE_PAYMENT").await;
    let s = shop.student("wx-rl-d").await;
    let order = shop.submit(&s).await;
    for _ in 0..2 {
        let r = shop.create_payment(&s.token, &order["id"]).await;
        assert_eq!(r["userErrors"], json!([]), "{r}");
    }
    let body = shop
        .app
        .gql(
            Some(&s.token),
            "mutation($i: OrderIdInput!) { createPayment(input: $i) { userErrors { code } } }",
            json!({ "i": { "orderId": order["id"] } }),
        )
        .await;
    assert_eq!(error_code(&body), "THROTTLED", "{body}");
}

#[tokio::test]
async fn a_flood_of_notifications_gets_429_before_any_signature_work() {
    let shop = limited_shop("RATE_LIMIT_PAYMENT_NOTIFICATION").await;
    let post = || async {
        shop.app
            .http
            .post(shop.app.url("/payments/wechat/notify"))
            .header("Content-Type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("notify")
    };
    for _ in 0..2 {
        // Unsigned: refused for that, not for the rate.
        let r = post().await;
        assert_eq!(r.status().as_u16() / 100, 4);
        assert_ne!(r.status().as_u16(), 429);
    }
    let r = post().await;
    assert_eq!(r.status().as_u16(), 429);
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!((1..=60).contains(&retry), "{retry}");
}
