//! The real WeChat Pay v3 client against a local server that speaks WeChat Pay's protocol like
//! api.mch.weixin.qq.com: it checks every request's merchant signature (`Authorization:
//! WECHATPAY2-SHA256-RSA2048 …`) and signs every answer with its platform key
//! (`Wechatpay-Timestamp/Nonce/Signature/Serial`), or, in the modes that test the client's
//! distrust, with another key, with none, or at the wrong time.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, OnceLock},
};

use axum::{
    Json, Router,
    body::{Body, to_bytes},
    extract::{Path, Query, Request, State},
    http::{HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use campus_photo::{
    clock::{Clock, ManualClock},
    integrations::wechat_pay::{
        CloseOutcome, PayError, PayOrder, RealWeChatPay, RefundCall, WeChatPay,
    },
};
use campus_photo_wechatpay::{
    AuthorizationFields,
    keys::{MerchantKey, PlatformKeys, generate_rsa_2048},
    notification::NotificationSigner,
    signature::{self, parse_authorization_header, pay_sign_message, verify_sha256_rsa},
};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

const MCHID: &str = "1230000109";
const APPID: &str = "wxd678efh567hg6787";
const MERCHANT_SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A72";
const PLATFORM_SERIAL: &str = "PUB_KEY_ID_0114232134912410000000000000";
const NOTIFY_URL: &str = "https://photo.example.edu.cn/api/wechatpay/notify";
const OPENID: &str = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";
/// A trade the fake already knows as paid.
const PAID: &str = "CP20241123PAID0001";
/// A paid trade whose refund the fake refuses: the merchant's balance is too low.
const BROKE: &str = "CP20241123PAID0002";
const BIG_BODY_LIMIT: usize = 1 << 20;

// ---------------------------------------------------------------------------------------------
// Keys: RSA-2048 generation takes a while, so once per test binary.

struct Keys {
    /// The merchant's key as the client holds it.
    merchant: MerchantKey,
    /// Another merchant key under the same serial: what a forger would sign with.
    wrong_merchant: MerchantKey,
    /// What WeChat holds: the merchant certificates' public keys by serial.
    registered_merchant: PlatformKeys,
    /// WeChat's platform key, whose public half the client trusts.
    platform: NotificationSigner,
    /// Another key claiming the platform key's serial.
    impostor_platform: NotificationSigner,
    /// What the client trusts.
    trusted_platform: PlatformKeys,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let generate = || {
            generate_rsa_2048(&mut rand::rngs::OsRng)
                .unwrap_or_else(|e| panic!("generating an RSA key: {e}"))
        };
        let [merchant, wrong_merchant, platform, impostor] = std::thread::scope(|s| {
            [(); 4].map(|()| s.spawn(generate)).map(|h| {
                h.join()
                    .unwrap_or_else(|_| panic!("key generation panicked"))
            })
        });
        let mut registered_merchant = PlatformKeys::new();
        registered_merchant
            .insert(MERCHANT_SERIAL, merchant.to_public_key())
            .unwrap_or_else(|e| panic!("{e}"));
        let mut trusted_platform = PlatformKeys::new();
        trusted_platform
            .insert(PLATFORM_SERIAL, platform.to_public_key())
            .unwrap_or_else(|e| panic!("{e}"));
        Keys {
            merchant: MerchantKey::new(MERCHANT_SERIAL, merchant).unwrap_or_else(|e| panic!("{e}")),
            wrong_merchant: MerchantKey::new(MERCHANT_SERIAL, wrong_merchant)
                .unwrap_or_else(|e| panic!("{e}")),
            registered_merchant,
            platform: NotificationSigner {
                serial: PLATFORM_SERIAL.into(),
                key: platform,
            },
            impostor_platform: NotificationSigner {
                serial: PLATFORM_SERIAL.into(),
                key: impostor,
            },
            trusted_platform,
        }
    })
}

// ---------------------------------------------------------------------------------------------
// The fake WeChat Pay.

/// How the fake signs its answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signing {
    /// With the platform key, now: as WeChat does.
    Platform,
    /// With another key under the platform key's serial.
    Impostor,
    /// Not at all.
    Unsigned,
    /// With the platform key, at now + this many seconds.
    Shifted(i64),
}

/// One request as the fake received it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path_and_query: String,
    body: String,
    authorization: Option<AuthorizationFields>,
    /// The merchant signature verified with the registered merchant key.
    signature_ok: bool,
}

#[derive(Debug, Clone)]
struct Trade {
    amount: i64,
    openid: String,
    /// NOTPAY | SUCCESS | CLOSED
    state: &'static str,
    transaction_id: Option<String>,
}

struct FakeState {
    signing: Signing,
    fail_with_500: bool,
    trades: HashMap<String, Trade>,
    prepay_ids: Vec<String>,
    refund_ids: HashMap<String, String>,
    seen: Vec<Seen>,
}

#[derive(Clone)]
struct Fake(Arc<Mutex<FakeState>>);

impl Fake {
    fn new() -> Self {
        let paid = |transaction_id: &str| Trade {
            amount: 1990,
            openid: OPENID.into(),
            state: "SUCCESS",
            transaction_id: Some(transaction_id.into()),
        };
        let trades = HashMap::from([
            (PAID.to_string(), paid("4200001234202411231234567890")),
            (BROKE.to_string(), paid("4200001234202411231234567891")),
        ]);
        Self(Arc::new(Mutex::new(FakeState {
            signing: Signing::Platform,
            fail_with_500: false,
            trades,
            prepay_ids: Vec::new(),
            refund_ids: HashMap::new(),
            seen: Vec::new(),
        })))
    }

    fn lock(&self) -> MutexGuard<'_, FakeState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_signing(&self, signing: Signing) {
        self.lock().signing = signing;
    }

    fn last_seen(&self) -> Seen {
        self.lock()
            .seen
            .last()
            .cloned()
            .unwrap_or_else(|| panic!("the fake saw no request"))
    }

    fn trade_state(&self, out_trade_no: &str) -> Option<&'static str> {
        self.lock().trades.get(out_trade_no).map(|t| t.state)
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "code": code, "message": message }))).into_response()
}

/// In front of every endpoint: checks the merchant's signature, then signs the answer as
/// [`FakeState::signing`] says.
async fn wechat_gate(State(fake): State<Fake>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, BIG_BODY_LIMIT).await.unwrap_or_default();
    let method = parts.method.as_str().to_owned();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_default();
    let body_text = String::from_utf8_lossy(&body).into_owned();
    let authorization = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_authorization_header(v).ok());
    let signature_ok = authorization.as_ref().is_some_and(|auth| {
        auth.mchid == MCHID
            && keys()
                .registered_merchant
                .get(&auth.serial_no)
                .is_some_and(|key| {
                    let message = auth.message(&method, &path_and_query, &body_text);
                    verify_sha256_rsa(key, message.as_bytes(), &auth.signature).is_ok()
                })
    });
    let fail_with_500 = {
        let mut state = fake.lock();
        state.seen.push(Seen {
            method,
            path_and_query,
            body: body_text,
            authorization,
            signature_ok,
        });
        state.fail_with_500
    };
    let answer = if !signature_ok {
        error(
            StatusCode::UNAUTHORIZED,
            "SIGN_ERROR",
            "签名错误，请检查后再试",
        )
    } else if fail_with_500 {
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "SYSTEM_ERROR",
            "系统错误",
        )
    } else {
        next.run(Request::from_parts(parts, Body::from(body))).await
    };
    sign_answer(&fake, answer).await
}

async fn sign_answer(fake: &Fake, answer: Response) -> Response {
    let (mut parts, body) = answer.into_parts();
    let body = to_bytes(body, BIG_BODY_LIMIT).await.unwrap_or_default();
    let signing = fake.lock().signing;
    let now = Utc::now().timestamp();
    let nonce = signature::new_nonce();
    let headers = match signing {
        Signing::Platform => Some(keys().platform.sign(&body, now, &nonce)),
        Signing::Impostor => Some(keys().impostor_platform.sign(&body, now, &nonce)),
        Signing::Unsigned => None,
        Signing::Shifted(secs) => Some(keys().platform.sign(&body, now + secs, &nonce)),
    };
    if let Some(headers) = headers {
        let headers = headers.unwrap_or_else(|e| panic!("signing an answer: {e}"));
        for (name, value) in headers.to_pairs() {
            let value = HeaderValue::from_str(value).unwrap_or_else(|e| panic!("{e}"));
            parts.headers.insert(name, value);
        }
    }
    parts.headers.insert(
        "Request-ID",
        HeaderValue::from_static("08F78BB5AF0610D302A8E4C72E0D9C1F"),
    );
    Response::from_parts(parts, Body::from(body))
}

fn str_field<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// `POST /v3/pay/transactions/jsapi`
async fn jsapi(State(fake): State<Fake>, Json(order): Json<Value>) -> Response {
    let mut problems = Vec::new();
    let mut check = |ok: bool, field: &str| {
        if !ok {
            problems.push(field.to_owned());
        }
    };
    check(str_field(&order, "/appid") == Some(APPID), "appid");
    check(str_field(&order, "/mchid") == Some(MCHID), "mchid");
    check(
        str_field(&order, "/description").is_some_and(|d| !d.is_empty()),
        "description",
    );
    let out_trade_no = str_field(&order, "/out_trade_no").unwrap_or_default();
    check((6..=32).contains(&out_trade_no.len()), "out_trade_no");
    check(
        str_field(&order, "/time_expire").is_some_and(|t| DateTime::parse_from_rfc3339(t).is_ok()),
        "time_expire",
    );
    check(
        str_field(&order, "/notify_url").is_some_and(|u| u.starts_with("https://")),
        "notify_url",
    );
    let total = order.pointer("/amount/total").and_then(Value::as_i64);
    check(total.is_some_and(|t| t > 0), "amount.total");
    check(
        str_field(&order, "/amount/currency") == Some("CNY"),
        "amount.currency",
    );
    let openid = str_field(&order, "/payer/openid").unwrap_or_default();
    check(!openid.is_empty(), "payer.openid");
    if !problems.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "PARAM_ERROR",
            &format!("参数错误: {}", problems.join(", ")),
        );
    }
    let total = total.unwrap_or_default();
    let mut state = fake.lock();
    let trade = state
        .trades
        .entry(out_trade_no.to_owned())
        .or_insert_with(|| Trade {
            amount: total,
            openid: openid.to_owned(),
            state: "NOTPAY",
            transaction_id: None,
        });
    if trade.amount != total || trade.state != "NOTPAY" {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "201 商户订单号重复",
        );
    }
    let simple = uuid::Uuid::new_v4().simple().to_string();
    let prepay_id = format!("wx{}{}", Utc::now().format("%d%H%M%S%3f"), &simple[..23]);
    state.prepay_ids.push(prepay_id.clone());
    Json(json!({ "prepay_id": prepay_id })).into_response()
}

/// `GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=…`
async fn query_trade(
    State(fake): State<Fake>,
    Path(out_trade_no): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if query.get("mchid").map(String::as_str) != Some(MCHID) {
        return error(StatusCode::BAD_REQUEST, "PARAM_ERROR", "mchid 错误");
    }
    let Some(trade) = fake.lock().trades.get(&out_trade_no).cloned() else {
        return error(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在");
    };
    // The documented shape: an unpaid trade lacks what only exists once paid.
    let mut body = json!({
        "appid": APPID,
        "mchid": MCHID,
        "out_trade_no": out_trade_no,
        "trade_state": trade.state,
        "trade_state_desc": match trade.state {
            "SUCCESS" => "支付成功",
            "CLOSED" => "订单已关闭",
            _ => "订单未支付",
        },
        "attach": "",
        "amount": { "total": trade.amount, "currency": "CNY", "payer_currency": "CNY" },
        "scene_info": { "device_id": "" },
        "promotion_detail": []
    });
    if let Some(transaction_id) = &trade.transaction_id {
        body["transaction_id"] = json!(transaction_id);
        body["trade_type"] = json!("JSAPI");
        body["bank_type"] = json!("CMC");
        body["success_time"] = json!("2024-11-23T10:34:56+08:00");
        body["payer"] = json!({ "openid": trade.openid });
        body["amount"]["payer_total"] = json!(trade.amount);
    }
    Json(body).into_response()
}

/// `POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close`
async fn close_trade(
    State(fake): State<Fake>,
    Path(out_trade_no): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    if str_field(&body, "/mchid") != Some(MCHID) {
        return error(StatusCode::BAD_REQUEST, "PARAM_ERROR", "mchid 错误");
    }
    let mut state = fake.lock();
    let Some(trade) = state.trades.get_mut(&out_trade_no) else {
        return error(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在");
    };
    if trade.state == "SUCCESS" {
        return error(StatusCode::BAD_REQUEST, "ORDERPAID", "该订单已支付");
    }
    trade.state = "CLOSED";
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /v3/refund/domestic/refunds`
async fn refund(State(fake): State<Fake>, Json(body): Json<Value>) -> Response {
    let out_trade_no = str_field(&body, "/out_trade_no").unwrap_or_default();
    let out_refund_no = str_field(&body, "/out_refund_no").unwrap_or_default();
    if out_trade_no == BROKE {
        return error(StatusCode::FORBIDDEN, "NOT_ENOUGH", "基本账户余额不足");
    }
    let Some(trade) = fake.lock().trades.get(out_trade_no).cloned() else {
        return error(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", "订单不存在");
    };
    let total = body.pointer("/amount/total").and_then(Value::as_i64);
    let amount = body.pointer("/amount/refund").and_then(Value::as_i64);
    let amounts_ok = total == Some(trade.amount)
        && amount.is_some_and(|r| r > 0 && r <= trade.amount)
        && str_field(&body, "/amount/currency") == Some("CNY");
    if out_refund_no.is_empty()
        || !amounts_ok
        || !str_field(&body, "/notify_url").is_some_and(|u| u.starts_with("https://"))
    {
        return error(StatusCode::BAD_REQUEST, "PARAM_ERROR", "参数错误");
    }
    if trade.state != "SUCCESS" {
        return error(StatusCode::BAD_REQUEST, "INVALID_REQUEST", "订单未支付");
    }
    let refund = amount.unwrap_or_default();
    let refund_id = format!("5030{}", &uuid::Uuid::new_v4().as_u128().to_string()[..25]);
    fake.lock()
        .refund_ids
        .insert(out_refund_no.to_owned(), refund_id.clone());
    Json(json!({
        "refund_id": refund_id,
        "out_refund_no": out_refund_no,
        "transaction_id": trade.transaction_id,
        "out_trade_no": out_trade_no,
        "channel": "ORIGINAL",
        "user_received_account": "招商银行信用卡0403",
        "create_time": "2024-11-24T16:18:12+08:00",
        "status": "PROCESSING",
        "funds_account": "AVAILABLE",
        "amount": {
            "total": trade.amount, "refund": refund, "from": [],
            "payer_total": trade.amount, "payer_refund": refund,
            "settlement_refund": refund, "settlement_total": trade.amount,
            "discount_refund": 0, "currency": "CNY"
        },
        "promotion_detail": []
    }))
    .into_response()
}

// ---------------------------------------------------------------------------------------------
// Harness.

struct Harness {
    client: RealWeChatPay,
    fake: Fake,
    clock: ManualClock,
}

async fn start() -> Harness {
    start_as(keys().merchant.clone()).await
}

/// The fake on a free port, and the real client pointed at it signing with `merchant`.
async fn start_as(merchant: MerchantKey) -> Harness {
    campus_photo::integrations::http_client::install_crypto_provider();
    let fake = Fake::new();
    let router = Router::new()
        .route("/v3/pay/transactions/jsapi", post(jsapi))
        .route(
            "/v3/pay/transactions/out-trade-no/{out_trade_no}",
            get(query_trade),
        )
        .route(
            "/v3/pay/transactions/out-trade-no/{out_trade_no}/close",
            post(close_trade),
        )
        .route("/v3/refund/domestic/refunds", post(refund))
        .layer(middleware::from_fn_with_state(fake.clone(), wechat_gate))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await.ok() });
    let clock = ManualClock::new(Utc::now());
    let client = RealWeChatPay::new(
        campus_photo::integrations::http_client::build(),
        format!("http://{addr}/"),
        MCHID.into(),
        APPID.into(),
        merchant,
        keys().trusted_platform.clone(),
        NOTIFY_URL.into(),
        Arc::new(clock.clone()),
    );
    Harness {
        client,
        fake,
        clock,
    }
}

fn order(out_trade_no: &str, expires_at: DateTime<Utc>) -> PayOrder {
    PayOrder {
        out_trade_no: out_trade_no.into(),
        description: "证件照采集 - 2024级新生".into(),
        amount_fen: 1990,
        payer_openid: OPENID.into(),
        expires_at,
    }
}

fn refund_call(out_trade_no: &str, out_refund_no: &str) -> RefundCall {
    RefundCall {
        out_trade_no: out_trade_no.into(),
        out_refund_no: out_refund_no.into(),
        reason: "照片未通过审核".into(),
        refund_fen: 1990,
        total_fen: 1990,
    }
}

fn assert_bad_response<T: std::fmt::Debug>(result: Result<T, PayError>, what: &str) {
    assert!(
        matches!(result, Err(PayError::BadResponse(_))),
        "{what}: expected BadResponse, got {result:?}"
    );
}

fn assert_rejected<T: std::fmt::Debug>(result: Result<T, PayError>, expected: &str) -> String {
    match result {
        Err(PayError::Rejected { code, message }) if code == expected => message,
        other => panic!("expected Rejected {{ code: {expected} }}, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Tests.

#[tokio::test]
async fn create_jsapi_sends_a_signed_order_and_returns_the_prepay_id() {
    let h = start().await;
    let expires_at = h.clock.now() + Duration::minutes(15);
    let prepay_id = h
        .client
        .create_jsapi(&order("CP20241123NEW00001", expires_at))
        .await
        .expect("prepay_id");

    assert_eq!(h.fake.lock().prepay_ids, vec![prepay_id.clone()]);
    assert!(prepay_id.starts_with("wx"), "{prepay_id}");

    let seen = h.fake.last_seen();
    assert!(seen.signature_ok, "the merchant signature verified");
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.path_and_query, "/v3/pay/transactions/jsapi");
    let auth = seen.authorization.expect("an Authorization header");
    assert_eq!(auth.mchid, MCHID);
    assert_eq!(auth.serial_no, MERCHANT_SERIAL);
    assert_eq!(auth.timestamp, h.clock.now().timestamp().to_string());
    assert_eq!(auth.nonce_str.len(), signature::NONCE_LEN);

    let body: Value = serde_json::from_str(&seen.body).expect("a JSON body");
    assert_eq!(body["appid"], APPID);
    assert_eq!(body["mchid"], MCHID);
    assert_eq!(body["out_trade_no"], "CP20241123NEW00001");
    assert_eq!(body["description"], "证件照采集 - 2024级新生");
    assert_eq!(body["notify_url"], NOTIFY_URL);
    assert_eq!(body["amount"], json!({ "total": 1990, "currency": "CNY" }));
    assert_eq!(body["payer"], json!({ "openid": OPENID }));
    let time_expire = body["time_expire"].as_str().expect("time_expire");
    assert!(
        time_expire.ends_with("+08:00"),
        "Beijing time: {time_expire}"
    );
    let parsed = DateTime::parse_from_rfc3339(time_expire).expect("RFC 3339");
    assert_eq!(parsed.timestamp(), expires_at.timestamp());

    assert_eq!(h.fake.trade_state("CP20241123NEW00001"), Some("NOTPAY"));
}

#[tokio::test]
async fn pay_params_are_signed_with_the_merchant_key() {
    let h = start().await;
    let now = Utc::now();
    let prepay_id = "wx201410272009395522657a690389285100";
    let params = h.client.pay_params(prepay_id, now).expect("pay params");
    assert_eq!(params.app_id, APPID);
    assert_eq!(params.time_stamp, now.timestamp().to_string());
    assert_eq!(params.package, format!("prepay_id={prepay_id}"));
    assert_eq!(params.sign_type, "RSA");
    assert_eq!(params.nonce_str.len(), signature::NONCE_LEN);
    assert!(params.nonce_str.bytes().all(|b| b.is_ascii_alphanumeric()));

    let merchant_public = keys()
        .registered_merchant
        .get(MERCHANT_SERIAL)
        .expect("registered");
    let message = format!(
        "{APPID}\n{}\n{}\nprepay_id={prepay_id}\n",
        params.time_stamp, params.nonce_str
    );
    assert_eq!(
        message,
        pay_sign_message(
            APPID,
            &params.time_stamp,
            &params.nonce_str,
            &params.package
        )
    );
    assert_eq!(
        verify_sha256_rsa(merchant_public, message.as_bytes(), &params.pay_sign),
        Ok(())
    );
    // The signature covers the package: another prepay_id does not verify.
    let other = message.replace("5100\n", "5101\n");
    assert!(verify_sha256_rsa(merchant_public, other.as_bytes(), &params.pay_sign).is_err());

    let again = h.client.pay_params(prepay_id, now).expect("pay params");
    assert_ne!(again.nonce_str, params.nonce_str, "a fresh nonce each time");
}

#[tokio::test]
async fn query_returns_the_transaction_or_none() {
    let h = start().await;
    let paid = h
        .client
        .query(PAID)
        .await
        .expect("query")
        .expect("a known trade");
    assert_eq!(paid.trade_state, "SUCCESS");
    assert_eq!(
        paid.transaction_id.as_deref(),
        Some("4200001234202411231234567890")
    );
    assert_eq!(paid.out_trade_no, PAID);
    assert_eq!((paid.appid.as_str(), paid.mchid.as_str()), (APPID, MCHID));
    assert_eq!(paid.amount.total, 1990);
    assert_eq!(paid.amount.payer_total, Some(1990));
    assert_eq!(paid.payer.map(|p| p.openid).as_deref(), Some(OPENID));

    let seen = h.fake.last_seen();
    assert!(seen.signature_ok, "the query string is signed as sent");
    assert_eq!(seen.method, "GET");
    assert_eq!(
        seen.path_and_query,
        format!("/v3/pay/transactions/out-trade-no/{PAID}?mchid={MCHID}")
    );
    assert_eq!(seen.body, "");

    let expires_at = Utc::now() + Duration::minutes(15);
    h.client
        .create_jsapi(&order("CP20241123NEW00002", expires_at))
        .await
        .expect("prepay_id");
    let unpaid = h
        .client
        .query("CP20241123NEW00002")
        .await
        .expect("query")
        .expect("a known trade");
    assert_eq!(unpaid.trade_state, "NOTPAY");
    assert_eq!(unpaid.transaction_id, None);
    assert_eq!(unpaid.payer, None);

    assert_eq!(
        h.client.query("CP20241123NOSUCH01").await.expect("query"),
        None
    );
    assert!(h.fake.last_seen().signature_ok);
}

#[tokio::test]
async fn close_closes_an_unpaid_trade_and_reports_a_paid_one() {
    let h = start().await;
    let expires_at = Utc::now() + Duration::minutes(15);
    h.client
        .create_jsapi(&order("CP20241123NEW00003", expires_at))
        .await
        .expect("prepay_id");
    assert_eq!(
        h.client.close("CP20241123NEW00003").await.expect("close"),
        CloseOutcome::Closed
    );
    assert_eq!(h.fake.trade_state("CP20241123NEW00003"), Some("CLOSED"));
    let seen = h.fake.last_seen();
    assert!(seen.signature_ok);
    assert_eq!(seen.method, "POST");
    assert_eq!(
        seen.path_and_query,
        "/v3/pay/transactions/out-trade-no/CP20241123NEW00003/close"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&seen.body).expect("JSON"),
        json!({ "mchid": MCHID })
    );

    assert_eq!(
        h.client.close(PAID).await.expect("close"),
        CloseOutcome::AlreadyPaid
    );
    assert_eq!(h.fake.trade_state(PAID), Some("SUCCESS"));
}

#[tokio::test]
async fn refund_returns_the_refund_id_or_the_rejection() {
    let h = start().await;
    let accepted = h
        .client
        .refund(&refund_call(PAID, "RF20241124000001"))
        .await
        .expect("refund accepted");
    assert_eq!(
        h.fake.lock().refund_ids.get("RF20241124000001"),
        Some(&accepted.refund_id)
    );
    assert_eq!(accepted.status, "PROCESSING");
    let seen = h.fake.last_seen();
    assert!(seen.signature_ok);
    assert_eq!(seen.path_and_query, "/v3/refund/domestic/refunds");
    let body: Value = serde_json::from_str(&seen.body).expect("JSON");
    assert_eq!(body["out_trade_no"], PAID);
    assert_eq!(body["out_refund_no"], "RF20241124000001");
    assert_eq!(body["reason"], "照片未通过审核");
    assert_eq!(body["notify_url"], NOTIFY_URL);
    assert_eq!(
        body["amount"],
        json!({ "refund": 1990, "total": 1990, "currency": "CNY" })
    );

    let message = assert_rejected(
        h.client
            .refund(&refund_call(BROKE, "RF20241124000002"))
            .await,
        "NOT_ENOUGH",
    );
    assert_eq!(message, "基本账户余额不足");
    assert!(!h.fake.lock().refund_ids.contains_key("RF20241124000002"));
}

#[tokio::test]
async fn answers_signed_with_another_platform_key_are_refused() {
    let h = start().await;
    h.fake.set_signing(Signing::Impostor);
    let expires_at = Utc::now() + Duration::minutes(15);
    assert_bad_response(
        h.client
            .create_jsapi(&order("CP20241123NEW00004", expires_at))
            .await,
        "create_jsapi",
    );
    assert_bad_response(h.client.query(PAID).await, "query");
    assert_bad_response(h.client.close("CP20241123NEW00004").await, "close");
    assert_bad_response(
        h.client
            .refund(&refund_call(PAID, "RF20241124000003"))
            .await,
        "refund",
    );
    // The requests themselves were fine: only the answers were not WeChat's.
    assert!(h.fake.lock().seen.iter().all(|s| s.signature_ok));

    // The same calls pass once the platform key signs again.
    h.fake.set_signing(Signing::Platform);
    assert!(h.client.query(PAID).await.expect("query").is_some());
}

#[tokio::test]
async fn unsigned_answers_are_refused() {
    let h = start().await;
    h.fake.set_signing(Signing::Unsigned);
    let expires_at = Utc::now() + Duration::minutes(15);
    assert_bad_response(
        h.client
            .create_jsapi(&order("CP20241123NEW00005", expires_at))
            .await,
        "create_jsapi (200)",
    );
    assert_eq!(h.fake.trade_state("CP20241123NEW00005"), Some("NOTPAY"));
    assert_bad_response(h.client.close("CP20241123NEW00005").await, "close (204)");
}

#[tokio::test]
async fn answers_ten_minutes_off_the_clock_are_refused() {
    let h = start().await;
    h.fake.set_signing(Signing::Shifted(-600));
    assert_bad_response(h.client.query(PAID).await, "ten minutes old");
    h.fake.set_signing(Signing::Shifted(600));
    assert_bad_response(h.client.query(PAID).await, "ten minutes ahead");
    // Within the five minutes WeChat's SDKs allow, the same answer is believed.
    h.fake.set_signing(Signing::Shifted(-240));
    assert!(h.client.query(PAID).await.expect("query").is_some());
    // It is the client's clock that counts: ten minutes ahead of the fake, fresh answers are stale.
    h.fake.set_signing(Signing::Platform);
    h.clock.advance(Duration::minutes(10));
    let result = h.client.query(PAID).await;
    assert!(
        matches!(result, Err(PayError::BadResponse(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn requests_signed_with_another_merchant_key_are_refused_by_wechat() {
    let h = start_as(keys().wrong_merchant.clone()).await;
    let expires_at = Utc::now() + Duration::minutes(15);
    assert_rejected(
        h.client
            .create_jsapi(&order("CP20241123NEW00006", expires_at))
            .await,
        "SIGN_ERROR",
    );
    assert!(!h.fake.last_seen().signature_ok);
    assert_eq!(h.fake.trade_state("CP20241123NEW00006"), None);
    assert_rejected(h.client.query(PAID).await, "SIGN_ERROR");
    assert_rejected(h.client.close(PAID).await, "SIGN_ERROR");
    assert_rejected(
        h.client
            .refund(&refund_call(PAID, "RF20241124000004"))
            .await,
        "SIGN_ERROR",
    );
    assert!(h.fake.lock().refund_ids.is_empty());
}

#[tokio::test]
async fn server_errors_are_unavailable() {
    let h = start().await;
    h.fake.lock().fail_with_500 = true;
    let expires_at = Utc::now() + Duration::minutes(15);
    let results = [
        h.client
            .create_jsapi(&order("CP20241123NEW00007", expires_at))
            .await
            .err(),
        h.client.query(PAID).await.err(),
        h.client.close(PAID).await.err(),
        h.client
            .refund(&refund_call(PAID, "RF20241124000005"))
            .await
            .err(),
    ];
    for result in results {
        match result {
            Some(PayError::Unavailable(detail)) => {
                assert!(detail.contains("500"), "{detail}");
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }
    assert_eq!(h.fake.lock().seen.len(), 4);
}

#[tokio::test]
async fn unreachable_wechat_pay_is_unavailable() {
    campus_photo::integrations::http_client::install_crypto_provider();
    let client = RealWeChatPay::new(
        campus_photo::integrations::http_client::build(),
        "http://127.0.0.1:1".into(),
        MCHID.into(),
        APPID.into(),
        keys().merchant.clone(),
        keys().trusted_platform.clone(),
        NOTIFY_URL.into(),
        Arc::new(ManualClock::new(Utc::now())),
    );
    let result = client.query(PAID).await;
    assert!(
        matches!(result, Err(PayError::Unavailable(_))),
        "{result:?}"
    );
}
