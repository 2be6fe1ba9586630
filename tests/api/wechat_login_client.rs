//! The real WeChat login client against a local server that speaks WeChat's protocol.
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use axum::{
    Json, Router,
    extract::{Query, State},
    routing::{get, post},
};
use campus_photo::{
    clock::ManualClock,
    integrations::wechat_login::{RealWeChatLogin, WeChatLogin, WeChatLoginError},
};
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct Fake {
    token_fetches: Arc<AtomicUsize>,
    revoke_first_token: bool,
}

async fn code2session(Query(q): Query<std::collections::HashMap<String, String>>) -> Json<Value> {
    if q.get("appid").map(String::as_str) != Some("wxapp")
        || q.get("secret").map(String::as_str) != Some("s3cret")
    {
        return Json(json!({ "errcode": 40013, "errmsg": "invalid appid" }));
    }
    match q.get("js_code").map(String::as_str) {
        Some("good") => Json(json!({ "openid": "o-123", "session_key": "k", "unionid": "u-9" })),
        Some("busy") => Json(json!({ "errcode": 45011, "errmsg": "api minute-quota reach limit" })),
        _ => Json(json!({ "errcode": 40029, "errmsg": "invalid code" })),
    }
}

async fn stable_token(State(f): State<Fake>, Json(body): Json<Value>) -> Json<Value> {
    assert_eq!(body["grant_type"], "client_credential");
    let n = f.token_fetches.fetch_add(1, Ordering::SeqCst) + 1;
    Json(json!({ "access_token": format!("tok-{n}"), "expires_in": 7200 }))
}

async fn phone(
    State(f): State<Fake>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let token = q.get("access_token").cloned().unwrap_or_default();
    if f.revoke_first_token && token == "tok-1" {
        return Json(json!({ "errcode": 40001, "errmsg": "invalid credential" }));
    }
    match body["code"].as_str() {
        Some("phone-ok") => Json(json!({ "errcode": 0, "errmsg": "ok", "phone_info": {
            "phoneNumber": "13800138000", "purePhoneNumber": "13800138000", "countryCode": "86",
            "watermark": { "timestamp": 1, "appid": "wxapp" } } })),
        Some("phone-hk") => Json(json!({ "errcode": 0, "errmsg": "ok", "phone_info": {
            "phoneNumber": "+852 61234567", "purePhoneNumber": "61234567", "countryCode": "852" } })),
        _ => Json(json!({ "errcode": 40029, "errmsg": "invalid code" })),
    }
}

async fn start(fake: Fake) -> (RealWeChatLogin, Fake, ManualClock) {
    campus_photo::integrations::http_client::install_crypto_provider();
    let router = Router::new()
        .route("/sns/jscode2session", get(code2session))
        .route("/cgi-bin/stable_token", post(stable_token))
        .route("/wxa/business/getuserphonenumber", post(phone))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await.ok() });
    let clock = ManualClock::new(chrono::Utc::now());
    let client = RealWeChatLogin::new(
        campus_photo::integrations::http_client::build(),
        format!("http://{addr}"),
        "wxapp".into(),
        "s3cret".into(),
        Arc::new(clock.clone()),
    );
    (client, fake, clock)
}

#[tokio::test]
async fn code_to_session_maps_replies() {
    let (client, _, _) = start(Fake::default()).await;
    let id = client.code_to_session("good").await.expect("identity");
    assert_eq!(id.openid, "o-123");
    assert_eq!(id.unionid.as_deref(), Some("u-9"));
    assert_eq!(
        client.code_to_session("used").await,
        Err(WeChatLoginError::InvalidCode(40029))
    );
    assert_eq!(
        client.code_to_session("busy").await,
        Err(WeChatLoginError::Throttled)
    );
}

#[tokio::test]
async fn access_token_is_cached_until_near_expiry() {
    let (client, fake, clock) = start(Fake::default()).await;
    assert_eq!(
        client.phone_number("phone-ok").await.as_deref(),
        Ok("13800138000")
    );
    assert_eq!(
        client.phone_number("phone-ok").await.as_deref(),
        Ok("13800138000")
    );
    assert_eq!(
        fake.token_fetches.load(Ordering::SeqCst),
        1,
        "one token for both calls"
    );
    clock.advance(chrono::Duration::seconds(7200 - 200));
    client.phone_number("phone-ok").await.expect("phone");
    assert_eq!(
        fake.token_fetches.load(Ordering::SeqCst),
        2,
        "refreshed five minutes before expiry"
    );
}

#[tokio::test]
async fn a_rejected_token_is_refreshed_once() {
    let (client, fake, _) = start(Fake {
        revoke_first_token: true,
        ..Default::default()
    })
    .await;
    assert_eq!(
        client.phone_number("phone-ok").await.as_deref(),
        Ok("13800138000")
    );
    assert_eq!(fake.token_fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn bad_or_foreign_phone_codes_are_refused() {
    let (client, _, _) = start(Fake::default()).await;
    assert_eq!(
        client.phone_number("nope").await,
        Err(WeChatLoginError::InvalidPhoneCode(40029))
    );
    assert!(matches!(
        client.phone_number("phone-hk").await,
        Err(WeChatLoginError::InvalidPhoneCode(_))
    ));
}

#[tokio::test]
async fn unreachable_wechat_is_a_transport_error() {
    campus_photo::integrations::http_client::install_crypto_provider();
    let client = RealWeChatLogin::new(
        campus_photo::integrations::http_client::build(),
        "http://127.0.0.1:1".into(),
        "wxapp".into(),
        "s3cret".into(),
        Arc::new(ManualClock::new(chrono::Utc::now())),
    );
    assert!(matches!(
        client.code_to_session("good").await,
        Err(WeChatLoginError::Transport(_))
    ));
}
