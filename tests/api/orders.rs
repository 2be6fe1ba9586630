//! submitOrder, updatePendingOrder, cancelOrder, order lists and the payment-timeout sweeper,
//! over HTTP.
use crate::common;

use campus_photo::clock::Clock;
use common::flow::{Shop, event_names, shop};
use serde_json::{Value, json};

#[tokio::test]
async fn submitting_a_passed_photo_opens_a_pending_order() {
    let shop = shop().await;
    let s = shop.student("wx-order-1").await;
    let now = shop.app.clock.now();
    let order = shop.submit(&s).await;

    assert_eq!(order["status"], "PENDING_PAYMENT");
    assert_eq!(order["statusLabel"], "待支付");
    assert_eq!(order["kindLabel"], "散拍");
    assert_eq!(
        order["amount"],
        json!({ "amountFen": 3000, "formatted": "¥30.00" })
    );
    assert_eq!(order["photo"]["id"], s.photo);
    assert_eq!(order["contactPhone"], "13800138000");
    // The number is the project prefix and the submission instant in Asia/Shanghai.
    let expected = campus_photo_domain::order_number::format("000015", now).expect("number");
    assert_eq!(order["number"], expected.as_str());
    let pay_before: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(order["payBefore"].clone()).expect("payBefore");
    // PostgreSQL keeps microseconds, the test clock nanoseconds.
    let window = (pay_before - now).num_microseconds().unwrap_or_default();
    assert!(
        (1_799_999_999..=1_800_000_000).contains(&window),
        "{window}"
    );
    assert_eq!(
        order["events"],
        json!([{ "sequence": 1, "fromStatus": null, "toStatus": "PENDING_PAYMENT", "event": "SUBMIT",
                 "actor": "STUDENT", "reasonCode": null, "message": null }])
    );

    let listed = shop
        .app
        .data(
            Some(&s.token),
            "{ viewer { orders { totalCount nodes { id number status } } } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["viewer"]["orders"]["totalCount"], 1);
    assert_eq!(listed["viewer"]["orders"]["nodes"][0]["id"], order["id"]);
}

#[tokio::test]
async fn one_open_order_per_student_and_failed_photos_are_refused() {
    let shop = shop().await;
    let s = shop.student("wx-order-2").await;
    let first = shop.submit(&s).await;
    let again = shop
        .order_mutation(
            &s.token,
            "submitOrder",
            json!({ "photoId": s.photo, "notificationConsent": false }),
        )
        .await;
    assert_eq!(again["order"], Value::Null);
    assert_eq!(again["userErrors"][0]["code"], "ORDER_EXISTS");
    let message = again["userErrors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains(first["number"].as_str().unwrap_or("?")),
        "{message}"
    );

    // A photo that failed the check cannot be submitted.
    let failed = shop
        .upload(&s.token, &s.enrollment, "noface_coffee.jpg")
        .await;
    assert_eq!(failed["check"]["verdict"], "FAILED", "{failed}");
    let refused = shop
        .order_mutation(
            &s.token,
            "updatePendingOrder",
            json!({ "orderId": first["id"], "photoId": failed["id"] }),
        )
        .await;
    assert_eq!(refused["userErrors"][0]["code"], "PHOTO_NOT_PASSED");
    assert_eq!(
        refused["userErrors"][0]["field"],
        json!(["input", "photoId"])
    );
    let unchanged = shop.order(&s.token, &first["id"]).await;
    assert_eq!(unchanged["photo"]["id"], s.photo);
    assert_eq!(event_names(&unchanged), ["SUBMIT"]);
}

#[tokio::test]
async fn concurrent_submits_make_one_order() {
    let shop = shop().await;
    let s = shop.student("wx-order-race").await;
    let input = json!({ "photoId": s.photo, "notificationConsent": true });
    let (a, b) = tokio::join!(
        shop.order_mutation(&s.token, "submitOrder", input.clone()),
        shop.order_mutation(&s.token, "submitOrder", input.clone()),
    );
    let made = [&a, &b].iter().filter(|r| r["order"].is_object()).count();
    assert_eq!(made, 1, "{a}\n{b}");
    let refused: Vec<_> = [&a, &b]
        .iter()
        .filter_map(|r| r["userErrors"][0]["code"].as_str())
        .collect();
    assert_eq!(refused, ["ORDER_EXISTS"]);
}

#[tokio::test]
async fn students_submitting_in_the_same_millisecond_get_distinct_numbers() {
    let shop = shop().await;
    let a = shop.student("wx-order-a").await;
    let b = shop.student("wx-order-b").await;
    // The test clock stands still, so both orders are made at the same instant.
    let first = shop.submit(&a).await;
    let second = shop.submit(&b).await;
    let (n1, n2) = (
        first["number"].as_str().unwrap_or_default(),
        second["number"].as_str().unwrap_or_default(),
    );
    assert_ne!(n1, n2);
    let (_, t1) = campus_photo_domain::order_number::parse(n1).expect("n1");
    let (_, t2) = campus_photo_domain::order_number::parse(n2).expect("n2");
    assert_eq!((t2 - t1).num_milliseconds(), 1);
}

#[tokio::test]
async fn the_photo_can_be_swapped_only_while_unpaid() {
    let shop = shop().await;
    let s = shop.student("wx-order-3").await;
    let order = shop.submit(&s).await;
    let retake = shop.upload(&s.token, &s.enrollment, "obama_ok.jpg").await;
    let swapped = shop
        .order_mutation(
            &s.token,
            "updatePendingOrder",
            json!({ "orderId": order["id"], "photoId": retake["id"] }),
        )
        .await;
    assert_eq!(swapped["userErrors"], json!([]), "{swapped}");
    assert_eq!(swapped["order"]["photo"]["id"], retake["id"]);
    assert_eq!(event_names(&swapped["order"]), ["SUBMIT", "UPDATE_PENDING"]);

    // Someone else's photo is not found; once paid, the photo is fixed.
    let other = shop.student("wx-order-3b").await;
    let foreign = shop
        .app
        .gql(
            Some(&s.token),
            "mutation($i: UpdatePendingOrderInput!) { updatePendingOrder(input: $i) { userErrors { code } } }",
            json!({ "i": { "orderId": order["id"], "photoId": other.photo } }),
        )
        .await;
    assert_eq!(common::error_code(&foreign), "NOT_FOUND");
    let pay = shop.create_payment(&s.token, &order["id"]).await;
    assert_eq!(pay["userErrors"], json!([]));
    let paid = shop
        .order_mutation(
            &s.token,
            "sandboxCompletePayment",
            json!({ "orderId": order["id"] }),
        )
        .await;
    assert_eq!(paid["order"]["status"], "PENDING_REVIEW", "{paid}");
    let late = shop
        .order_mutation(
            &s.token,
            "updatePendingOrder",
            json!({ "orderId": order["id"], "photoId": s.photo }),
        )
        .await;
    assert_eq!(late["userErrors"][0]["code"], "INVALID_STATE");
    assert_eq!(
        shop.order(&s.token, &order["id"]).await["photo"]["id"],
        retake["id"]
    );
}

#[tokio::test]
async fn cancelling_closes_the_order_and_frees_the_student_to_order_again() {
    let shop = shop().await;
    let s = shop.student("wx-order-4").await;
    let order = shop.submit(&s).await;
    shop.create_payment(&s.token, &order["id"]).await;

    // Another student cannot touch it, nor see it.
    let other = shop.student("wx-order-4b").await;
    let foreign = shop
        .app
        .gql(
            Some(&other.token),
            "mutation($i: OrderIdInput!) { cancelOrder(input: $i) { userErrors { code } } }",
            json!({ "i": { "orderId": order["id"] } }),
        )
        .await;
    assert_eq!(common::error_code(&foreign), "NOT_FOUND");
    assert_eq!(shop.order(&other.token, &order["id"]).await, Value::Null);

    let cancelled = shop
        .order_mutation(&s.token, "cancelOrder", json!({ "orderId": order["id"] }))
        .await;
    assert_eq!(cancelled["userErrors"], json!([]), "{cancelled}");
    assert_eq!(cancelled["order"]["status"], "CLOSED");
    assert_eq!(cancelled["order"]["statusLabel"], "订单关闭");
    assert!(cancelled["order"]["closedAt"].is_string());
    assert_eq!(event_names(&cancelled["order"]), ["SUBMIT", "CANCEL"]);

    let twice = shop
        .order_mutation(&s.token, "cancelOrder", json!({ "orderId": order["id"] }))
        .await;
    assert_eq!(twice["userErrors"][0]["code"], "INVALID_STATE");
    // The trade was closed at WeChat first, so it can no longer be paid there either.
    assert_eq!(trade_state(&shop, &order).await, "CLOSED");

    let again = shop.submit(&s).await;
    assert_ne!(again["id"], order["id"]);
}

/// The order's trade as WeChat Pay (the sandbox) reports it.
async fn trade_state(shop: &Shop, order: &Value) -> String {
    let number = order["number"].as_str().unwrap_or_default();
    shop.app
        .state
        .wechat_pay
        .query(number)
        .await
        .expect("query")
        .map(|t| t.trade_state)
        .unwrap_or_default()
}

async fn timeout_events(shop: &Shop, token: &str, id: &Value) -> usize {
    shop.order(token, id).await["events"]
        .as_array()
        .map_or(0, |l| {
            l.iter().filter(|e| e["event"] == "PAYMENT_TIMEOUT").count()
        })
}

#[tokio::test]
async fn unpaid_orders_close_after_the_timeout_once_however_many_sweepers_run() {
    let shop = shop().await;
    let s = shop.student("wx-order-5").await;
    let order = shop.submit(&s).await;
    shop.create_payment(&s.token, &order["id"]).await;

    // Not yet due.
    shop.app.clock.advance(chrono::TimeDelta::minutes(29));
    let report = campus_photo::services::sweeper::run_once(&shop.app.state)
        .await
        .expect("sweep");
    assert_eq!(report.closed, 0);
    assert_eq!(
        shop.order(&s.token, &order["id"]).await["status"],
        "PENDING_PAYMENT"
    );

    shop.app.clock.advance(chrono::TimeDelta::minutes(2));
    // Two instances sweeping at once: exactly one closes the order.
    let (a, b) = tokio::join!(
        campus_photo::services::sweeper::run_once(&shop.app.state),
        campus_photo::services::sweeper::run_once(&shop.app.state),
    );
    let (a, b) = (a.expect("sweep a"), b.expect("sweep b"));
    assert_eq!(a.closed + b.closed, 1, "{a:?} {b:?}");
    let closed = shop.order(&s.token, &order["id"]).await;
    assert_eq!(closed["status"], "CLOSED");
    assert_eq!(timeout_events(&shop, &s.token, &order["id"]).await, 1);
    let last = closed["events"]
        .as_array()
        .and_then(|l| l.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["actor"], "SYSTEM");
    assert_eq!(last["reasonCode"], "PAYMENT_TIMEOUT");
    // The WeChat trade was closed too: it cannot be paid any more.
    assert_eq!(trade_state(&shop, &order).await, "CLOSED");
}

#[tokio::test]
async fn lists_filter_by_status_newest_first_and_staff_see_their_scope() {
    let shop = shop().await;
    let s = shop.student("wx-order-6").await;
    let closed = shop.submit(&s).await;
    shop.order_mutation(&s.token, "cancelOrder", json!({ "orderId": closed["id"] }))
        .await;
    shop.app.clock.advance(chrono::TimeDelta::seconds(5));
    let open = shop.submit(&s).await;

    let q = "query($s: [OrderStatus!]) { viewer { orders(statuses: $s) { totalCount nodes { id status } } } }";
    let all = shop.app.data(Some(&s.token), q, json!({ "s": null })).await;
    let ids: Vec<_> = all["viewer"]["orders"]["nodes"]
        .as_array()
        .map(|l| l.iter().map(|o| o["id"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(ids, [open["id"].clone(), closed["id"].clone()]);
    let only_closed = shop
        .app
        .data(Some(&s.token), q, json!({ "s": ["CLOSED"] }))
        .await;
    assert_eq!(only_closed["viewer"]["orders"]["totalCount"], 1);
    assert_eq!(
        only_closed["viewer"]["orders"]["nodes"][0]["id"],
        closed["id"]
    );

    // Staff: the admin sees both; a school admin of another school sees none of them.
    let staff_q = "query($f: OrderFilter) { orders(filter: $f) { totalCount nodes { number } } }";
    let admin = shop
        .app
        .data(Some(&shop.admin), staff_q, json!({ "f": null }))
        .await;
    assert_eq!(admin["orders"]["totalCount"], 2);
    let by_number = shop
        .app
        .data(
            Some(&shop.admin),
            staff_q,
            json!({ "f": { "number": open["number"] } }),
        )
        .await;
    assert_eq!(
        by_number["orders"]["nodes"],
        json!([{ "number": open["number"] }])
    );
    shop.app
        .create_school(&shop.admin, "10001", "北京大学")
        .await;
    let other_school = shop
        .app
        .staff(&shop.admin, "pku-admin", "SCHOOL_ADMIN", Some("10001"))
        .await;
    let theirs = shop
        .app
        .data(Some(&other_school), staff_q, json!({ "f": null }))
        .await;
    assert_eq!(theirs["orders"]["totalCount"], 0);
    let forbidden = shop
        .app
        .gql(
            Some(&other_school),
            staff_q,
            json!({ "f": { "schoolCode": "10027" } }),
        )
        .await;
    assert_eq!(common::error_code(&forbidden), "FORBIDDEN");
    // Students cannot list everyone's orders.
    let student = shop
        .app
        .gql(Some(&s.token), staff_q, json!({ "f": null }))
        .await;
    assert_eq!(common::error_code(&student), "FORBIDDEN");
}

#[tokio::test]
async fn concurrent_cancels_and_payments_have_one_winner() {
    let shop = shop().await;
    let s = shop.student("wx-order-7").await;
    let order = shop.submit(&s).await;
    shop.create_payment(&s.token, &order["id"]).await;
    let input = json!({ "orderId": order["id"] });
    let (a, b) = tokio::join!(
        shop.order_mutation(&s.token, "cancelOrder", input.clone()),
        shop.order_mutation(&s.token, "cancelOrder", input.clone()),
    );
    let winners = [&a, &b].iter().filter(|r| r["order"].is_object()).count();
    assert_eq!(winners, 1, "{a}\n{b}");
    let closed = shop.order(&s.token, &order["id"]).await;
    assert_eq!(event_names(&closed), ["SUBMIT", "CANCEL"]);

    let again = shop.submit(&s).await;
    shop.create_payment(&s.token, &again["id"]).await;
    let input = json!({ "orderId": again["id"] });
    let (a, b) = tokio::join!(
        shop.order_mutation(&s.token, "sandboxCompletePayment", input.clone()),
        shop.order_mutation(&s.token, "sandboxCompletePayment", input.clone()),
    );
    assert!(
        [&a, &b]
            .iter()
            .any(|r| r["order"]["status"] == "PENDING_REVIEW"),
        "{a}\n{b}"
    );
    let paid = shop.order(&s.token, &again["id"]).await;
    assert_eq!(
        event_names(&paid),
        ["SUBMIT", "PAYMENT_CONFIRMED", "ENQUEUE_FOR_REVIEW"]
    );
}

/// The fields of an order that its page reads in the page's own statement (its enrollment with
/// the school and project, its photo without and with the check), against the same order read
/// alone, where each goes through its own loader.
const JOINED: &str = "id number enrollment { id college major school { code name } project { name price { amountFen } } } photo { id width height byteSize createdAt }";
const JOINED_WITH_CHECK: &str = "id photo { id width check { verdict issues { code } } }";

#[tokio::test]
async fn a_page_reads_what_each_order_shows_beside_it_as_the_order_alone_does() {
    let shop = shop().await;
    let first = shop.student("wx-order-page-1").await;
    let second = shop.student("wx-order-page-2").await;
    let cancelled = shop.submit(&first).await;
    shop.order_mutation(
        &first.token,
        "cancelOrder",
        json!({ "orderId": cancelled["id"] }),
    )
    .await;
    shop.app.clock.advance(chrono::TimeDelta::seconds(5));
    shop.submit(&first).await;
    shop.submit(&second).await;

    for fields in [JOINED, JOINED_WITH_CHECK] {
        // The staff list, one order a page, so that the later pages go behind a cursor (and
        // count in a statement of their own).
        let page_q = format!(
            "query($after: String) {{ orders(first: 1, after: $after) {{ totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ {fields} }} }} }}"
        );
        let alone_q =
            format!("query($id: ID!) {{ node(id: $id) {{ ... on Order {{ {fields} }} }} }}");
        let mut after = Value::Null;
        let mut seen = 0;
        loop {
            let page = shop
                .app
                .data(Some(&shop.admin), &page_q, json!({ "after": after }))
                .await;
            let orders = &page["orders"];
            assert_eq!(orders["totalCount"], 3, "{page}");
            let node = &orders["nodes"][0];
            assert!(
                node["enrollment"].is_object() || node["photo"]["check"].is_object(),
                "{node}"
            );
            let alone = shop
                .app
                .data(Some(&shop.admin), &alone_q, json!({ "id": node["id"] }))
                .await;
            assert_eq!(node, &alone["node"], "the page and the order alone differ");
            seen += 1;
            if orders["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = orders["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(seen, 3);
    }

    // The student's own list, with events beside the joined rows.
    let mine = shop
        .app
        .data(
            Some(&first.token),
            &format!(
                "{{ viewer {{ orders {{ nodes {{ {JOINED} events {{ sequence event }} }} }} }} }}"
            ),
            json!({}),
        )
        .await;
    let nodes = mine["viewer"]["orders"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(nodes.len(), 2);
    for node in &nodes {
        assert_eq!(node["enrollment"]["id"], first.enrollment);
        assert_eq!(
            node["enrollment"]["school"]["name"]
                .as_str()
                .map(str::is_empty),
            Some(false)
        );
        assert_eq!(node["photo"]["id"], first.photo);
        assert!(
            !node["events"].as_array().unwrap_or(&vec![]).is_empty(),
            "{node}"
        );
    }
}
