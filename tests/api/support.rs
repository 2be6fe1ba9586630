//! 在线客服: openSupportTicket, answerSupportTicket, the lists and the live updates, over HTTP
//! and graphql-transport-ws.
use crate::common;

use common::{
    fixture,
    flow::{Shop, shop},
    ws::{next_data, subscribe_to},
};
use serde_json::{Value, json};

const TICKET: &str = "id subject open order { id } messages { authorRole text pictureUrl }";

fn open_query() -> String {
    format!(
        "mutation($i: OpenSupportTicketInput!) {{ openSupportTicket(input: $i) {{ ticket {{ {TICKET} }} userErrors {{ code field message }} }} }}"
    )
}

fn answer_query() -> String {
    format!(
        "mutation($i: AnswerSupportTicketInput!) {{ answerSupportTicket(input: $i) {{ ticket {{ {TICKET} }} userErrors {{ code field message }} }} }}"
    )
}

async fn open(shop: &Shop, token: &str, input: Value) -> Value {
    shop.app
        .data(Some(token), &open_query(), json!({ "i": input }))
        .await["openSupportTicket"]
        .clone()
}

async fn answer(shop: &Shop, token: &str, input: Value) -> Value {
    shop.app
        .data(Some(token), &answer_query(), json!({ "i": input }))
        .await["answerSupportTicket"]
        .clone()
}

async fn staff_list(shop: &Shop, token: &str) -> Vec<Value> {
    shop.app
        .data(
            Some(token),
            "{ supportTickets(includeClosed: true) { nodes { id subject } } }",
            json!({}),
        )
        .await["supportTickets"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_question_about_an_order_with_a_picture_is_answered_live() {
    let shop = shop().await;
    let app = &shop.app;
    let reviewer = app
        .staff(&shop.admin, "cs-rev", "REVIEWER", Some("10027"))
        .await;
    app.create_school(&shop.admin, "10001", "北京大学").await;
    let elsewhere = app
        .staff(&shop.admin, "cs-pku", "SCHOOL_ADMIN", Some("10001"))
        .await;
    let s = shop.student("wx-cs-1").await;
    let order = shop.submit(&s).await;

    // The question, with a screenshot.
    let body = app
        .upload(
            Some(&s.token),
            &open_query(),
            json!({ "i": { "orderId": order["id"], "subject": "付款后状态没有变化", "text": "  已经付款了，订单还是待支付。  ", "picture": null } }),
            "variables.i.picture",
            fixture("photos/obama_ok.jpg"),
            "screenshot.jpg",
        )
        .await
        .json::<Value>()
        .await
        .expect("json");
    let opened = &body["data"]["openSupportTicket"];
    assert_eq!(opened["userErrors"], json!([]), "{body}");
    let ticket = &opened["ticket"];
    assert_eq!(ticket["open"], true);
    assert_eq!(ticket["order"]["id"], order["id"]);
    assert_eq!(ticket["messages"][0]["authorRole"], "STUDENT");
    assert_eq!(
        ticket["messages"][0]["text"],
        "已经付款了，订单还是待支付。"
    );
    let picture = ticket["messages"][0]["pictureUrl"].as_str().expect("url");
    let resp = app.http.get(app.url(picture)).send().await.expect("GET");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.bytes().await.expect("bytes").to_vec(),
        fixture("photos/obama_ok.jpg")
    );

    // The student sees it; the school's staff see it; another school's do not.
    let mine = app
        .data(
            Some(&s.token),
            "{ viewer { supportTickets { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(mine["viewer"]["supportTickets"][0]["id"], ticket["id"]);
    assert_eq!(staff_list(&shop, &reviewer).await.len(), 1);
    assert_eq!(staff_list(&shop, &shop.admin).await.len(), 1);
    assert!(staff_list(&shop, &elsewhere).await.is_empty());
    let r = answer(
        &shop,
        &elsewhere,
        json!({ "ticketId": ticket["id"], "text": "不该看到" }),
    )
    .await;
    assert_eq!(r["userErrors"][0]["code"], "NOT_FOUND", "{r}");

    // The answer reaches the student's subscription at once.
    let mut live = subscribe_to(
        &shop,
        &s.token,
        "subscription { supportTicketUpdates { id open messages { authorRole text } } }",
        json!({}),
    )
    .await;
    let r = answer(
        &shop,
        &reviewer,
        json!({ "ticketId": ticket["id"], "text": "支付结果已同步，请刷新订单。" }),
    )
    .await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    let pushed = next_data(&mut live, "supportTicketUpdates").await;
    assert_eq!(pushed["id"], ticket["id"]);
    assert_eq!(pushed["messages"][1]["authorRole"], "REVIEWER");
    assert_eq!(
        pushed["messages"][1]["text"],
        "支付结果已同步，请刷新订单。"
    );

    // The student follows up and closes it; a closed ticket takes no more messages.
    let r = answer(
        &shop,
        &s.token,
        json!({ "ticketId": ticket["id"], "text": "好了，谢谢！", "close": true }),
    )
    .await;
    assert_eq!(r["ticket"]["open"], false, "{r}");
    assert_eq!(r["ticket"]["messages"].as_array().map(Vec::len), Some(3));
    let r = answer(
        &shop,
        &reviewer,
        json!({ "ticketId": ticket["id"], "text": "还有问题吗？" }),
    )
    .await;
    assert_eq!(r["userErrors"][0]["code"], "INVALID_STATE", "{r}");
}

#[tokio::test]
async fn bad_questions_are_refused_and_nothing_is_stored() {
    let shop = shop().await;
    let app = &shop.app;
    let s = shop.student("wx-cs-2").await;
    let other = shop.student("wx-cs-3").await;
    let theirs = shop.submit(&other).await;

    let cases = [
        (
            json!({ "orderId": theirs["id"], "subject": "问题", "text": "别人的订单" }),
            "NOT_FOUND",
        ),
        (
            json!({ "subject": "   ", "text": "没有标题" }),
            "INVALID_SUBJECT",
        ),
        (
            json!({ "subject": "太长".repeat(31), "text": "标题太长" }),
            "INVALID_SUBJECT",
        ),
        (
            json!({ "subject": "问题", "text": "字".repeat(1001) }),
            "INVALID_TEXT",
        ),
    ];
    for (input, code) in cases {
        let r = open(&shop, &s.token, input.clone()).await;
        assert_eq!(r["ticket"], Value::Null, "{input}");
        assert_eq!(r["userErrors"][0]["code"], code, "{input}: {r}");
        assert!(
            r["userErrors"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    // A picture that is not an image.
    let body = app
        .upload(
            Some(&s.token),
            &open_query(),
            json!({ "i": { "subject": "截图", "text": "见附件", "picture": null } }),
            "variables.i.picture",
            b"%PDF-1.4 not an image".to_vec(),
            "note.pdf",
        )
        .await
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(
        body["data"]["openSupportTicket"]["userErrors"][0]["code"], "FMT_FILE",
        "{body}"
    );
    let mine = app
        .data(
            Some(&s.token),
            "{ viewer { supportTickets { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(mine["viewer"]["supportTickets"], json!([]));

    // Someone else's ticket cannot be answered, and staff do not open tickets.
    let t = open(
        &shop,
        &other.token,
        json!({ "subject": "问题", "text": "我的问题" }),
    )
    .await;
    let r = answer(
        &shop,
        &s.token,
        json!({ "ticketId": t["ticket"]["id"], "text": "插话" }),
    )
    .await;
    assert_eq!(r["userErrors"][0]["code"], "NOT_FOUND", "{r}");
    let body = app
        .gql(
            Some(&shop.admin),
            &open_query(),
            json!({ "i": { "subject": "问题", "text": "工作人员" } }),
        )
        .await;
    assert_eq!(common::error_code(&body), "FORBIDDEN", "{body}");
}

#[tokio::test]
async fn questions_about_no_order_go_to_admins() {
    let shop = shop().await;
    let reviewer = shop
        .app
        .staff(&shop.admin, "cs-rev2", "REVIEWER", Some("10027"))
        .await;
    let s = shop.student("wx-cs-4").await;
    let t = open(
        &shop,
        &s.token,
        json!({ "subject": "怎么拍照", "text": "可以戴眼镜吗？" }),
    )
    .await;
    assert_eq!(t["userErrors"], json!([]), "{t}");
    assert!(staff_list(&shop, &reviewer).await.is_empty());
    let listed = staff_list(&shop, &shop.admin).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["subject"], "怎么拍照");
    // Students cannot read the staff list.
    let body = shop
        .app
        .gql(
            Some(&s.token),
            "{ supportTickets { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(common::error_code(&body), "FORBIDDEN", "{body}");
}
