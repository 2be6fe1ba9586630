//! 加洗照片: createPrintOrder, paying it like a photo order, markPrintOrderShipped (with the
//! WeChat shipping-info upload), receipt, refunds, timeouts, and every refusal — over HTTP.
use std::sync::{Arc, Mutex};

use axum::{Json, Router, extract::State, routing::post};
use campus_photo::{
    clock::Clock,
    entities::print_order,
    integrations::{
        wechat_login::SandboxWeChatLogin,
        wechat_shipping::{RealWeChatShipping, WeChatShipping},
    },
};
use common::{
    TestApp, fixture_code_keys,
    flow::{Shop, Student, notification, transaction},
    project_input,
    ws::{next_data, subscribe_to},
};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::common;

const PRINT_FIELDS: &str = "id number status statusLabel order { id number status } layout { code name price { amountFen } } quantity amount { amountFen formatted } address { name phone province city district detail } toSchool carrier carrierCode trackingNumber refundPending shippingReported createdAt paidAt shippedAt completedAt";

fn create_mutation() -> String {
    format!(
        "mutation($i: CreatePrintOrderInput!) {{ createPrintOrder(input: $i) {{ printOrder {{ {PRINT_FIELDS} }} userErrors {{ code field message }} }} }}"
    )
}

fn ship_mutation() -> String {
    format!(
        "mutation($i: MarkPrintOrderShippedInput!) {{ markPrintOrderShipped(input: $i) {{ printOrder {{ {PRINT_FIELDS} }} userErrors {{ code field message }} }} }}"
    )
}

fn address() -> Value {
    json!({
        "name": " 张小三 ", "phone": "13912345678", "province": "北京市", "city": "北京市",
        "district": "海淀区", "detail": "新街口外大街19号 学生宿舍1号楼",
    })
}

/// A shop whose project offers two print layouts; `to_school` makes it a CENTRAL project that
/// sends prints to the school.
async fn print_shop(to_school: bool, overrides: campus_photo::Overrides) -> Shop {
    let app = TestApp::spawn_with(
        |v| {
            v.insert("COLLECTION_CODE_KEYS".into(), fixture_code_keys());
        },
        overrides,
    )
    .await;
    let admin = app.admin_token().await;
    app.create_school(&admin, "10027", "北京师范大学").await;
    let mut input = project_input("10027", "BNU27", "000015");
    input["printLayouts"] = json!([
        { "code": "1IN-8", "name": "一寸 8张", "priceFen": 1000 },
        { "code": "2IN-4", "name": "二寸 4张", "priceFen": 1500 },
    ]);
    if to_school {
        input["mode"] = json!("CENTRAL");
        input["printsToSchool"] = json!(true);
    }
    let created = app.create_project(&admin, input).await;
    assert_eq!(created["userErrors"], json!([]), "{created}");
    assert_eq!(created["project"]["printsToSchool"], to_school, "{created}");
    Shop { app, admin }
}

struct Staff {
    reviewer: String,
    producer: String,
}

async fn staff(shop: &Shop) -> Staff {
    Staff {
        reviewer: shop
            .app
            .staff(&shop.admin, "rev", "REVIEWER", Some("10027"))
            .await,
        producer: shop
            .app
            .staff(&shop.admin, "prod", "PRODUCER", Some("10027"))
            .await,
    }
}

/// Students whose orders went all the way to COMPLETED; returns (student, order id) pairs.
async fn completed(shop: &Shop, staff: &Staff, codes: &[&str]) -> Vec<(Student, Value)> {
    let mut out = Vec::new();
    for code in codes {
        let s = shop.student(code).await;
        let order = shop.paid_order(&s).await;
        out.push((s, order["id"].clone()));
    }
    shop.produce_all(&staff.reviewer, &staff.producer, codes.len())
        .await;
    for (s, id) in &out {
        shop.wait_for_status(&s.token, id, "COMPLETED").await;
    }
    out
}

async fn create(shop: &Shop, token: &str, input: Value) -> Value {
    shop.app
        .data(Some(token), &create_mutation(), json!({ "i": input }))
        .await["createPrintOrder"]
        .clone()
}

async fn ship(shop: &Shop, token: &str, print: &Value, carrier: &str, tracking: &str) -> Value {
    shop.app
        .data(
            Some(token),
            &ship_mutation(),
            json!({ "i": { "printOrderId": print["id"], "carrier": carrier, "trackingNumber": tracking } }),
        )
        .await["markPrintOrderShipped"]
        .clone()
}

async fn print_node(shop: &Shop, token: &str, id: &Value) -> Value {
    let query =
        format!("query($id: ID!) {{ node(id: $id) {{ ... on PrintOrder {{ {PRINT_FIELDS} }} }} }}");
    shop.app.gql(Some(token), &query, json!({ "id": id })).await["data"]["node"].clone()
}

/// createPayment then sandboxCompletePayment, both given the print order's id.
async fn pay(shop: &Shop, token: &str, print: &Value) -> Value {
    let opened = shop
        .app
        .data(
            Some(token),
            "mutation($i: OrderIdInput!) { createPayment(input: $i) { order { id status } printOrder { id status } payParams { package paySign } userErrors { code field message } } }",
            json!({ "i": { "orderId": print["id"] } }),
        )
        .await["createPayment"]
        .clone();
    assert_eq!(opened["userErrors"], json!([]), "{opened}");
    assert_eq!(opened["printOrder"]["id"], print["id"]);
    assert_eq!(opened["order"]["status"], "COMPLETED");
    assert!(
        opened["payParams"]["package"]
            .as_str()
            .is_some_and(|p| p.starts_with("prepay_id="))
    );
    let paid = shop
        .app
        .data(
            Some(token),
            &format!("mutation($i: OrderIdInput!) {{ sandboxCompletePayment(input: $i) {{ order {{ id status }} printOrder {{ {PRINT_FIELDS} }} userErrors {{ code field message }} }} }}"),
            json!({ "i": { "orderId": print["id"] } }),
        )
        .await["sandboxCompletePayment"]
        .clone();
    assert_eq!(paid["userErrors"], json!([]), "{paid}");
    paid["printOrder"].clone()
}

fn events(order: &Value) -> Vec<String> {
    common::flow::event_names(order)
}

#[tokio::test]
async fn prints_are_ordered_paid_shipped_reported_to_wechat_and_received() {
    let shop = print_shop(false, Default::default()).await;
    let staff = staff(&shop).await;
    let done = completed(&shop, &staff, &["wx-print-1"]).await;
    let (s, order_id) = &done[0];

    let r = create(
        &shop,
        &s.token,
        json!({ "orderId": order_id, "layoutCode": "2IN-4", "quantity": 3, "address": address() }),
    )
    .await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    let print = r["printOrder"].clone();
    assert_eq!(print["status"], "PENDING_PAYMENT");
    assert_eq!(print["statusLabel"], "待支付");
    assert_eq!(print["amount"]["amountFen"], 4500);
    assert_eq!(print["amount"]["formatted"], "¥45.00");
    assert_eq!(print["layout"]["name"], "二寸 4张");
    assert_eq!(print["toSchool"], false);
    // The whole (trimmed) address for its student here, masked in the list.
    assert_eq!(print["address"]["name"], "张小三");
    assert_eq!(print["address"]["phone"], "13912345678");
    let number = print["number"].as_str().unwrap_or_default().to_string();
    let order_number = print["order"]["number"].as_str().unwrap_or_default();
    assert_eq!(number, format!("{order_number}-P1"));
    let listed = shop
        .app
        .data(
            Some(&s.token),
            &format!("{{ viewer {{ printOrders {{ {PRINT_FIELDS} }} }} }}"),
            json!({}),
        )
        .await["viewer"]["printOrders"]
        .clone();
    assert_eq!(listed[0]["id"], print["id"]);
    assert_eq!(listed[0]["address"]["name"], "张*三");
    assert_eq!(listed[0]["address"]["phone"], "139****5678");
    assert_eq!(listed[0]["address"]["detail"], "新街口外****");
    // Nothing of the address is stored readable.
    let rows = print_order::Entity::find()
        .all(&shop.app.state.db)
        .await
        .expect("rows");
    let sealed = rows[0].address_sealed.clone().unwrap_or_default();
    assert!(!sealed.is_empty() && !sealed.contains("13912345678") && !sealed.contains("新街口"));

    let paid = pay(&shop, &s.token, &print).await;
    assert_eq!(paid["status"], "PAID", "{paid}");
    assert!(paid["paidAt"].is_string());

    // Shipping staff see it in their list, masked; the label comes from the print order itself.
    let to_ship = shop
        .app
        .data(
            Some(&staff.producer),
            "{ printOrders { totalCount nodes { id status address { name phone } } } }",
            json!({}),
        )
        .await["printOrders"]["nodes"]
        .clone();
    assert_eq!(to_ship.as_array().map(Vec::len), Some(1), "{to_ship}");
    assert_eq!(to_ship[0]["address"]["phone"], "139****5678");
    let label = print_node(&shop, &staff.producer, &print["id"]).await;
    assert_eq!(label["address"]["phone"], "13912345678");

    let shipped = ship(&shop, &staff.producer, &print, "顺丰速运", "sf1234567890").await;
    assert_eq!(shipped["userErrors"], json!([]), "{shipped}");
    let p = &shipped["printOrder"];
    assert_eq!(p["status"], "SHIPPED");
    assert_eq!(p["statusLabel"], "已发货");
    assert_eq!(p["carrier"], "顺丰速运");
    assert_eq!(p["carrierCode"], "SF");
    assert_eq!(p["trackingNumber"], "SF1234567890");
    assert_eq!(p["shippingReported"], true, "{p}");
    // The student sees the tracking, not the staff-only upload flag.
    let mine = print_node(&shop, &s.token, &print["id"]).await;
    assert_eq!(mine["trackingNumber"], "SF1234567890");
    assert_eq!(mine["shippingReported"], Value::Null);
    // Shipped is not shipped twice.
    let again = ship(&shop, &staff.producer, &print, "SF", "SF0000000001").await;
    assert_eq!(again["userErrors"][0]["code"], "INVALID_STATE", "{again}");

    let received = shop
        .app
        .data(
            Some(&s.token),
            "mutation($i: PrintOrderIdInput!) { confirmPrintOrderReceived(input: $i) { printOrder { status completedAt } userErrors { code } } }",
            json!({ "i": { "printOrderId": print["id"] } }),
        )
        .await["confirmPrintOrderReceived"]
        .clone();
    assert_eq!(received["printOrder"]["status"], "COMPLETED", "{received}");

    // The audit trail of the photo order carries the print order's life, after its own.
    let order = shop.order(&s.token, order_id).await;
    let names = events(&order);
    let prints: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| n.starts_with("PRINT_"))
        .collect();
    assert_eq!(
        prints,
        [
            "PRINT_CREATED",
            "PRINT_PAYMENT_CONFIRMED",
            "PRINT_SHIPPED",
            "PRINT_RECEIVED"
        ]
    );
    assert_eq!(order["status"], "COMPLETED");
    // A second print order of the same photo gets the next number.
    let second = create(
        &shop,
        &s.token,
        json!({ "orderId": order_id, "layoutCode": "1IN-8", "quantity": 1, "address": address() }),
    )
    .await;
    assert_eq!(
        second["printOrder"]["number"],
        format!("{order_number}-P2"),
        "{second}"
    );
}

#[tokio::test]
async fn print_events_reach_the_students_order_updates() {
    let shop = print_shop(false, Default::default()).await;
    let staff = staff(&shop).await;
    let done = completed(&shop, &staff, &["wx-print-2"]).await;
    let (s, order_id) = &done[0];
    let print = create(
        &shop,
        &s.token,
        json!({ "orderId": order_id, "layoutCode": "1IN-8", "quantity": 1, "address": address() }),
    )
    .await["printOrder"]
        .clone();
    pay(&shop, &s.token, &print).await;

    let mut sub = subscribe_to(
        &shop,
        &s.token,
        "subscription($o: ID) { orderUpdates(orderId: $o) { event toStatus printOrder { id status trackingNumber } } }",
        json!({ "o": order_id }),
    )
    .await;
    ship(&shop, &staff.producer, &print, "ZTO", "75123456789012").await;
    // The payment's own event may still be on its way (the relay publishes after commit).
    let mut update = next_data(&mut sub, "orderUpdates").await;
    if update["event"] == "PRINT_PAYMENT_CONFIRMED" {
        update = next_data(&mut sub, "orderUpdates").await;
    }
    assert_eq!(update["event"], "PRINT_SHIPPED", "{update}");
    assert_eq!(update["toStatus"], "COMPLETED");
    assert_eq!(update["printOrder"]["id"], print["id"]);
    assert_eq!(update["printOrder"]["status"], "SHIPPED");
    assert_eq!(update["printOrder"]["trackingNumber"], "75123456789012");
}

#[tokio::test]
async fn refused_print_orders() {
    let shop = print_shop(false, Default::default()).await;
    let staff = staff(&shop).await;
    let done = completed(&shop, &staff, &["wx-print-3", "wx-print-4"]).await;
    let (a, a_order) = &done[0];
    let (b, _) = &done[1];
    let good = |extra: Value| {
        let mut input = json!({ "orderId": a_order, "layoutCode": "1IN-8", "quantity": 2, "address": address() });
        if let (Some(map), Some(more)) = (input.as_object_mut(), extra.as_object()) {
            for (k, v) in more {
                map.insert(k.clone(), v.clone());
            }
        }
        input
    };
    // (code, the field path after "input", dotted)
    let code_of = |r: &Value| {
        let path: Vec<&str> = r["userErrors"][0]["field"]
            .as_array()
            .map(|p| p.iter().skip(1).filter_map(Value::as_str).collect())
            .unwrap_or_default();
        (
            r["userErrors"][0]["code"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            path.join("."),
        )
    };
    let mut bad_phone = address();
    bad_phone["phone"] = json!("1234");
    let r = create(&shop, &a.token, good(json!({ "address": bad_phone }))).await;
    assert_eq!(
        code_of(&r),
        ("INVALID_ADDRESS".into(), "address.phone".into()),
        "{r}"
    );
    assert!(
        r["userErrors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("手机号"))
    );
    let mut short = address();
    short["detail"] = json!("1号");
    let r = create(&shop, &a.token, good(json!({ "address": short }))).await;
    assert_eq!(code_of(&r).1, "address.detail", "{r}");
    let r = create(&shop, &a.token, good(json!({ "address": null }))).await;
    assert_eq!(code_of(&r).0, "ADDRESS_REQUIRED", "{r}");
    let r = create(&shop, &a.token, good(json!({ "layoutCode": "6IN" }))).await;
    assert_eq!(code_of(&r), ("UNKNOWN_LAYOUT".into(), "layoutCode".into()));
    for q in [0, -1, 51] {
        let r = create(&shop, &a.token, good(json!({ "quantity": q }))).await;
        assert_eq!(code_of(&r).0, "INVALID_QUANTITY", "{q}: {r}");
    }
    // Someone else's order: not found, as if it did not exist.
    let body = shop
        .app
        .gql(
            Some(&b.token),
            &create_mutation(),
            json!({ "i": good(json!({})) }),
        )
        .await;
    assert_eq!(common::error_code(&body), "NOT_FOUND", "{body}");
    // An order that is not COMPLETED.
    let c = shop.student("wx-print-5").await;
    let pending = shop.submit(&c).await;
    let r = create(
        &shop,
        &c.token,
        json!({ "orderId": pending["id"], "layoutCode": "1IN-8", "quantity": 1, "address": address() }),
    )
    .await;
    assert_eq!(
        code_of(&r),
        ("ORDER_NOT_COMPLETED".into(), "orderId".into()),
        "{r}"
    );
    // Nothing was created by any of these.
    let rows = print_order::Entity::find()
        .all(&shop.app.state.db)
        .await
        .expect("rows");
    assert!(rows.is_empty(), "{rows:?}");

    let print = create(&shop, &a.token, good(json!({}))).await["printOrder"].clone();
    // Unpaid prints cannot ship.
    let r = ship(&shop, &staff.producer, &print, "SF", "SF1234567890").await;
    assert_eq!(code_of(&r).0, "INVALID_STATE", "{r}");
    // Another student can neither pay nor see it.
    let body = shop
        .app
        .gql(
            Some(&b.token),
            "mutation($i: OrderIdInput!) { createPayment(input: $i) { userErrors { code } } }",
            json!({ "i": { "orderId": print["id"] } }),
        )
        .await;
    assert_eq!(common::error_code(&body), "NOT_FOUND", "{body}");
    assert_eq!(print_node(&shop, &b.token, &print["id"]).await, Value::Null);

    pay(&shop, &a.token, &print).await;
    // Students and reviewers do not ship; staff of another school do not even see it.
    let body = shop
        .app
        .gql(
            Some(&a.token),
            &ship_mutation(),
            json!({ "i": { "printOrderId": print["id"], "carrier": "SF", "trackingNumber": "SF1234567890" } }),
        )
        .await;
    assert_eq!(common::error_code(&body), "FORBIDDEN", "{body}");
    let body = shop
        .app
        .gql(
            Some(&staff.reviewer),
            &ship_mutation(),
            json!({ "i": { "printOrderId": print["id"], "carrier": "SF", "trackingNumber": "SF1234567890" } }),
        )
        .await;
    assert_eq!(common::error_code(&body), "FORBIDDEN", "{body}");
    shop.app
        .create_school(&shop.admin, "10001", "北京大学")
        .await;
    let elsewhere = shop
        .app
        .staff(&shop.admin, "prod-pku", "PRODUCER", Some("10001"))
        .await;
    let body = shop
        .app
        .gql(
            Some(&elsewhere),
            &ship_mutation(),
            json!({ "i": { "printOrderId": print["id"], "carrier": "SF", "trackingNumber": "SF1234567890" } }),
        )
        .await;
    assert_eq!(common::error_code(&body), "NOT_FOUND", "{body}");
    let list = shop
        .app
        .data(
            Some(&elsewhere),
            "{ printOrders { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(list["printOrders"]["nodes"], json!([]));
    // Carrier and tracking number are checked.
    let r = ship(&shop, &staff.producer, &print, "飞鸽传书", "SF1234567890").await;
    assert_eq!(
        code_of(&r),
        ("UNKNOWN_CARRIER".into(), "carrier".into()),
        "{r}"
    );
    let r = ship(&shop, &staff.producer, &print, "SF", "12-34").await;
    assert_eq!(code_of(&r).0, "INVALID_TRACKING_NUMBER", "{r}");
    assert_eq!(
        print_node(&shop, &a.token, &print["id"]).await["status"],
        "PAID"
    );
}

#[tokio::test]
async fn prints_for_the_school_ask_no_address() {
    let shop = print_shop(true, Default::default()).await;
    let staff = staff(&shop).await;
    let done = completed(&shop, &staff, &["wx-print-6"]).await;
    let (s, order_id) = &done[0];
    let project = shop
        .app
        .data(
            Some(&s.token),
            "{ viewer { enrollments { project { printsToSchool printLayouts { code } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        project["viewer"]["enrollments"][0]["project"]["printsToSchool"],
        true
    );
    let r = create(
        &shop,
        &s.token,
        json!({ "orderId": order_id, "layoutCode": "1IN-8", "quantity": 1 }),
    )
    .await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert_eq!(r["printOrder"]["toSchool"], true);
    assert_eq!(r["printOrder"]["address"], Value::Null);
    // An address given anyway is not kept.
    let r = create(
        &shop,
        &s.token,
        json!({ "orderId": order_id, "layoutCode": "1IN-8", "quantity": 1, "address": address() }),
    )
    .await;
    assert_eq!(r["printOrder"]["address"], Value::Null, "{r}");
    let paid = pay(&shop, &s.token, &r["printOrder"]).await;
    let shipped = ship(&shop, &staff.producer, &paid, "EMS", "1234567890123").await;
    assert_eq!(shipped["printOrder"]["status"], "SHIPPED", "{shipped}");
    assert_eq!(shipped["printOrder"]["shippingReported"], true);
}

#[tokio::test]
async fn a_paid_print_order_is_refunded_and_an_unpaid_one_closes() {
    let shop = print_shop(false, Default::default()).await;
    let staff = staff(&shop).await;
    let done = completed(&shop, &staff, &["wx-print-7"]).await;
    let (s, order_id) = &done[0];
    let input =
        json!({ "orderId": order_id, "layoutCode": "1IN-8", "quantity": 2, "address": address() });
    let print = create(&shop, &s.token, input.clone()).await["printOrder"].clone();
    pay(&shop, &s.token, &print).await;
    let refund = shop
        .app
        .data(
            Some(&s.token),
            "mutation($i: RequestRefundInput!) { requestRefund(input: $i) { order { status } printOrder { status refundPending } userErrors { code field message } } }",
            json!({ "i": { "orderId": print["id"], "reason": "不需要了" } }),
        )
        .await["requestRefund"]
        .clone();
    assert_eq!(refund["userErrors"], json!([]), "{refund}");
    assert_eq!(refund["printOrder"]["refundPending"], true);
    // The photo order itself is untouched.
    assert_eq!(refund["order"]["status"], "COMPLETED");
    let mut last = Value::Null;
    for _ in 0..100 {
        last = print_node(&shop, &s.token, &print["id"]).await;
        if last["status"] == "REFUNDED" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(last["status"], "REFUNDED", "{last}");
    assert_eq!(last["refundPending"], false);
    // Refunded prints do not ship.
    let r = ship(&shop, &staff.producer, &print, "SF", "SF1234567890").await;
    assert_eq!(r["userErrors"][0]["code"], "INVALID_STATE");

    // An unpaid print order closes after the payment timeout, its WeChat trade with it.
    let unpaid = create(&shop, &s.token, input.clone()).await["printOrder"].clone();
    shop.app.clock.advance(chrono::TimeDelta::minutes(31));
    let report = campus_photo::services::sweeper::run_once(&shop.app.state)
        .await
        .expect("sweep");
    assert!(report.print_orders_changed >= 1, "{report:?}");
    let closed = print_node(&shop, &s.token, &unpaid["id"]).await;
    assert_eq!(closed["status"], "CLOSED", "{closed}");
    // And one the student cancels closes at once.
    let cancelled = create(&shop, &s.token, input).await["printOrder"].clone();
    let r = shop
        .app
        .data(
            Some(&s.token),
            "mutation($i: OrderIdInput!) { cancelOrder(input: $i) { printOrder { status statusLabel } userErrors { code } } }",
            json!({ "i": { "orderId": cancelled["id"] } }),
        )
        .await["cancelOrder"]
        .clone();
    assert_eq!(r["printOrder"]["statusLabel"], "订单关闭", "{r}");
    let names = events(&shop.order(&s.token, order_id).await);
    for expected in [
        "PRINT_REFUND_REQUESTED",
        "PRINT_REFUND_CONFIRMED",
        "PRINT_PAYMENT_TIMEOUT",
        "PRINT_CANCEL",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected}: {names:?}");
    }
}

#[tokio::test]
async fn print_payment_notifications_are_verified_like_order_payments() {
    let shop = print_shop(false, Default::default()).await;
    let staff = staff(&shop).await;
    let done = completed(&shop, &staff, &["wx-print-8"]).await;
    let (s, order_id) = &done[0];
    let print = create(
        &shop,
        &s.token,
        json!({ "orderId": order_id, "layoutCode": "2IN-4", "quantity": 2, "address": address() }),
    )
    .await["printOrder"]
        .clone();
    let opened = shop
        .app
        .data(
            Some(&s.token),
            "mutation($i: OrderIdInput!) { createPayment(input: $i) { userErrors { code } } }",
            json!({ "i": { "orderId": print["id"] } }),
        )
        .await;
    assert_eq!(opened["createPayment"]["userErrors"], json!([]));
    let number = print["number"].as_str().unwrap_or_default();
    let now = shop.app.clock.now().timestamp();
    // The price of one sheet instead of two: refused, nothing changes.
    let (h, body) = notification(
        "TRANSACTION.SUCCESS",
        &transaction(number, 1500, "4200000000000000000000000001"),
        now,
    );
    let (status, _) = shop.app.post_notification(&h, body).await;
    assert!((400..500).contains(&status), "{status}");
    assert_eq!(
        print_node(&shop, &s.token, &print["id"]).await["status"],
        "PENDING_PAYMENT"
    );
    // The right amount, signed by the platform key: paid, once, however often WeChat retries.
    let (h, body) = notification(
        "TRANSACTION.SUCCESS",
        &transaction(number, 3000, "4200000000000000000000000002"),
        now,
    );
    let (status, _) = shop.app.post_notification(&h, body.clone()).await;
    assert_eq!(status, 204);
    let (h2, body2) = notification(
        "TRANSACTION.SUCCESS",
        &transaction(number, 3000, "4200000000000000000000000002"),
        now,
    );
    let (status, _) = shop.app.post_notification(&h2, body2).await;
    assert_eq!(status, 204);
    let paid = print_node(&shop, &s.token, &print["id"]).await;
    assert_eq!(paid["status"], "PAID");
    let names = events(&shop.order(&s.token, order_id).await);
    assert_eq!(
        names
            .iter()
            .filter(|n| *n == "PRINT_PAYMENT_CONFIRMED")
            .count(),
        1
    );
}

/// A fake WeChat that records shipping uploads and answers with a configurable errcode.
#[derive(Clone, Default)]
struct FakeWeChat {
    bodies: Arc<Mutex<Vec<Value>>>,
    errcode: Arc<Mutex<i64>>,
}

impl FakeWeChat {
    /// The express uploads (logistics type 1): the print orders'. The photo orders' virtual
    /// shipments (type 3) go to the same WeChat.
    fn express(&self) -> Vec<Value> {
        let bodies = self.bodies.lock().expect("lock");
        bodies
            .iter()
            .filter(|b| b["logistics_type"] == 1)
            .cloned()
            .collect()
    }
}

async fn upload_shipping_info(State(f): State<FakeWeChat>, Json(body): Json<Value>) -> Json<Value> {
    f.bodies.lock().expect("lock").push(body);
    let code = *f.errcode.lock().expect("lock");
    Json(json!({ "errcode": code, "errmsg": if code == 0 { "ok" } else { "system busy" } }))
}

#[tokio::test]
async fn the_real_client_uploads_shipping_info_and_the_sweeper_retries_a_busy_wechat() {
    let fake = FakeWeChat::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let router = Router::new()
        .route(
            "/wxa/sec/order/upload_shipping_info",
            post(upload_shipping_info),
        )
        .with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.ok() });
    campus_photo::integrations::http_client::install_crypto_provider();
    let client: Arc<dyn WeChatShipping> = Arc::new(RealWeChatShipping::new(
        campus_photo::integrations::http_client::build(),
        base,
        Arc::new(SandboxWeChatLogin),
    ));
    let shop = print_shop(
        false,
        campus_photo::Overrides {
            wechat_shipping: Some(client),
            ..Default::default()
        },
    )
    .await;
    let staff = staff(&shop).await;
    let done = completed(&shop, &staff, &["wx-print-9"]).await;
    let (s, order_id) = &done[0];
    let print = create(
        &shop,
        &s.token,
        json!({ "orderId": order_id, "layoutCode": "1IN-8", "quantity": 2, "address": address() }),
    )
    .await["printOrder"]
        .clone();
    pay(&shop, &s.token, &print).await;

    // WeChat busy: the shipment stands, the upload waits.
    *fake.errcode.lock().expect("lock") = -1;
    let shipped = ship(&shop, &staff.producer, &print, "SF", "SF1234567890").await;
    assert_eq!(shipped["printOrder"]["status"], "SHIPPED", "{shipped}");
    assert_eq!(shipped["printOrder"]["shippingReported"], false);
    let body = fake.express()[0].clone();
    assert_eq!(body["order_key"]["order_number_type"], 1);
    assert_eq!(body["order_key"]["out_trade_no"], print["number"]);
    assert_eq!(
        body["order_key"]["mchid"],
        shop.app.state.wechat_pay.mchid()
    );
    assert_eq!(body["logistics_type"], 1);
    assert_eq!(body["delivery_mode"], 1);
    assert_eq!(body["shipping_list"][0]["tracking_no"], "SF1234567890");
    assert_eq!(body["shipping_list"][0]["express_company"], "SF");
    assert_eq!(
        body["shipping_list"][0]["contact"]["receiver_contact"],
        "139****5678"
    );
    assert!(
        body["payer"]["openid"]
            .as_str()
            .is_some_and(|o| !o.is_empty())
    );
    assert!(
        body["upload_time"]
            .as_str()
            .is_some_and(|t| t.ends_with("+08:00"))
    );

    // WeChat back: the sweeper sends it again and records it.
    *fake.errcode.lock().expect("lock") = 0;
    campus_photo::services::sweeper::run_once(&shop.app.state)
        .await
        .expect("sweep");
    assert_eq!(fake.express().len(), 2);
    let now = print_node(&shop, &staff.producer, &print["id"]).await;
    assert_eq!(now["shippingReported"], true, "{now}");
    // Reported is not sent again.
    campus_photo::services::sweeper::run_once(&shop.app.state)
        .await
        .expect("sweep");
    assert_eq!(fake.express().len(), 2);
}

#[tokio::test]
async fn prints_in_progress_keep_the_account_and_deletion_erases_the_address() {
    let shop = print_shop(false, Default::default()).await;
    let staff = staff(&shop).await;
    let done = completed(&shop, &staff, &["wx-print-10"]).await;
    let (s, order_id) = &done[0];
    crate::registry_export::export_ok(&shop.app, &shop.admin, "10027").await;
    let print = create(
        &shop,
        &s.token,
        json!({ "orderId": order_id, "layoutCode": "1IN-8", "quantity": 1, "address": address() }),
    )
    .await["printOrder"]
        .clone();
    let paid = pay(&shop, &s.token, &print).await;
    let delete = "mutation { deleteAccount { deleted userErrors { code } } }";
    let r = shop.app.data(Some(&s.token), delete, json!({})).await;
    assert_eq!(
        r["deleteAccount"]["userErrors"][0]["code"], "ORDER_IN_PROGRESS",
        "{r}"
    );
    ship(&shop, &staff.producer, &paid, "SF", "SF1234567890").await;
    shop.app
        .data(
            Some(&s.token),
            "mutation($i: PrintOrderIdInput!) { confirmPrintOrderReceived(input: $i) { userErrors { code } } }",
            json!({ "i": { "printOrderId": print["id"] } }),
        )
        .await;
    let r = shop.app.data(Some(&s.token), delete, json!({})).await;
    assert_eq!(r["deleteAccount"]["deleted"], true, "{r}");
    // The print order stays for accounting, without its student or address.
    let row = print_order::Entity::find_by_id(
        shop.app
            .row_id(campus_photo::ids::NodeType::PrintOrder, &print["id"]),
    )
    .one(&shop.app.state.db)
    .await
    .expect("query")
    .expect("kept");
    assert_eq!(row.status.as_str(), "COMPLETED");
    assert_eq!((row.account_id, row.address_sealed), (None, None));
    let staff_view = print_node(&shop, &staff.producer, &print["id"]).await;
    assert_eq!(staff_view["address"], Value::Null);
    assert_eq!(staff_view["number"], print["number"]);
}
