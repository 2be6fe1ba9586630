//! 制作 over HTTP: approved orders go through a production batch to COMPLETED with a signed
//! 480×640 deliverable; a broken original fails only its order (back to PENDING_PRODUCTION);
//! a batch interrupted half-way resumes without rendering anything twice; and who may start one.
use crate::common;

use campus_photo::{
    entities::{order, photo, production_item},
    ids::NodeType,
    services::{
        orders::transition::{self, By, Detail},
        production,
    },
};
use campus_photo_domain::order::OrderEvent;
use common::{
    TestApp, error_code, fixture,
    flow::{deferred_shop, event_names, shop},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

const START: &str = "mutation($i: StartProductionBatchInput!) { startProductionBatch(input: $i) { batch { id total done failed finished } userErrors { code field message } } }";
const BATCH: &str = "query($id: ID!) { node(id: $id) { ... on ProductionBatch { id total done failed finished finishedAt } } }";
const ORDER: &str = "query($id: ID!) { node(id: $id) { ... on Order { id number status completedAt deliverableUrl events { sequence fromStatus toStatus event actor reasonCode message } } } }";

/// startProductionBatch: the whole response (errors included).
async fn start(app: &TestApp, token: &str, input: Value) -> Value {
    app.gql(Some(token), START, json!({ "i": input })).await
}

/// Starts a batch that must be accepted and returns it.
async fn start_ok(app: &TestApp, token: &str, input: Value) -> Value {
    let body = start(app, token, input).await;
    assert!(body.get("errors").is_none(), "{body}");
    let payload = &body["data"]["startProductionBatch"];
    assert_eq!(payload["userErrors"], json!([]), "{body}");
    payload["batch"].clone()
}

async fn batch(app: &TestApp, token: &str, id: &Value) -> Value {
    app.data(Some(token), BATCH, json!({ "id": id })).await["node"].clone()
}

/// Polls the batch until it is finished (at most 10 s).
async fn wait_finished(app: &TestApp, token: &str, id: &Value) -> Value {
    for _ in 0..200 {
        let b = batch(app, token, id).await;
        if b["finished"] == true {
            return b;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("batch never finished: {}", batch(app, token, id).await);
}

async fn order_view(app: &TestApp, token: &str, id: &Value) -> Value {
    app.data(Some(token), ORDER, json!({ "id": id })).await["node"].clone()
}

fn count_of(order: &Value, event: &str) -> usize {
    event_names(order).iter().filter(|e| *e == event).count()
}

/// The order's photo row.
async fn photo_of(app: &TestApp, id: &Value) -> photo::Model {
    let row = order::Entity::find_by_id(app.row_id(NodeType::Order, id))
        .one(&app.state.db)
        .await
        .expect("order query")
        .expect("order row");
    photo::Entity::find_by_id(row.photo_id)
        .one(&app.state.db)
        .await
        .expect("photo query")
        .expect("photo row")
}

/// Where an object key lives in the test's local storage.
fn object_path(app: &TestApp, key: &str) -> std::path::PathBuf {
    let dir = app
        .state
        .config
        .storage_url
        .strip_prefix("file://")
        .expect("local storage");
    std::path::Path::new(dir).join(key)
}

async fn get(app: &TestApp, url: &str) -> reqwest::Response {
    app.http.get(app.url(url)).send().await.expect("GET")
}

#[tokio::test]
async fn approved_orders_are_produced_and_the_photo_downloads() {
    let shop = shop().await;
    let app = &shop.app;
    let reviewer = app
        .staff(&shop.admin, "rev1", "REVIEWER", Some("10027"))
        .await;
    let producer = app
        .staff(&shop.admin, "prod1", "PRODUCER", Some("10027"))
        .await;
    let a = shop.student("wx-prod-a").await;
    let b = shop.student("wx-prod-b").await;
    let oa = shop.paid_order(&a).await;
    let ob = shop.paid_order(&b).await;
    shop.approve_all(&reviewer, 2).await;

    let started = start_ok(app, &producer, json!({ "schoolCode": "10027" })).await;
    assert_eq!(started["total"], 2, "{started}");
    let id = started["id"].clone();
    let finished = wait_finished(app, &producer, &id).await;
    assert_eq!(finished["id"], id);
    assert_eq!(
        (&finished["total"], &finished["done"], &finished["failed"]),
        (&json!(2), &json!(2), &json!(0)),
        "{finished}"
    );
    assert!(finished["finishedAt"].is_string(), "{finished}");

    for (s, o) in [(&a, &oa), (&b, &ob)] {
        let seen = order_view(app, &s.token, &o["id"]).await;
        assert_eq!(seen["status"], "COMPLETED", "{seen}");
        assert!(seen["completedAt"].is_string(), "{seen}");
        assert_eq!(
            event_names(&seen),
            [
                "SUBMIT",
                "PAYMENT_CONFIRMED",
                "ENQUEUE_FOR_REVIEW",
                "APPROVE",
                "START_PRODUCTION",
                "FINISH_PRODUCTION"
            ],
            "{seen}"
        );
        let events = seen["events"].as_array().cloned().unwrap_or_default();
        let n = events.len();
        assert_eq!(events[n - 2]["fromStatus"], "PENDING_PRODUCTION");
        assert_eq!(events[n - 2]["toStatus"], "IN_PRODUCTION");
        assert_eq!(events[n - 2]["actor"], "SYSTEM");
        assert_eq!(events[n - 1]["fromStatus"], "IN_PRODUCTION");
        assert_eq!(events[n - 1]["toStatus"], "COMPLETED");

        let url = seen["deliverableUrl"].as_str().expect("deliverableUrl");
        assert!(url.starts_with("/files/"), "{url}");
        let resp = get(app, url).await;
        assert_eq!(resp.status(), 200, "{url}");
        assert_eq!(
            resp.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("image/jpeg")
        );
        // It downloads under the order number (RFC 6266, with the UTF-8 form too).
        let number = seen["number"].as_str().expect("number");
        assert_eq!(
            resp.headers()
                .get("content-disposition")
                .and_then(|v| v.to_str().ok()),
            Some(
                format!("attachment; filename=\"{number}.jpg\"; filename*=UTF-8''{number}.jpg")
                    .as_str()
            )
        );
        let bytes = resp.bytes().await.expect("body");
        let img =
            image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg).expect("a JPEG");
        assert_eq!((img.width(), img.height()), (480, 640));
    }

    // Only the signed link works.
    let seen = order_view(app, &a.token, &oa["id"]).await;
    let url = seen["deliverableUrl"].as_str().expect("deliverableUrl");
    let (path, query) = url.split_once('?').expect("signed query");
    // Without exp/sig the request is malformed (400 today); it must never serve the file.
    let unsigned = get(app, path).await.status().as_u16();
    assert!(
        [400, 403, 404].contains(&unsigned),
        "unsigned link gave {unsigned}"
    );
    let sig = query
        .split('&')
        .find_map(|p| p.strip_prefix("sig="))
        .expect("sig");
    let flipped: String = sig
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i == 5 {
                if c == 'A' { 'B' } else { 'A' }
            } else {
                c
            }
        })
        .collect();
    let exp_only = url.replace(&format!("sig={sig}"), "sig=");
    assert_eq!(get(app, &exp_only).await.status(), 403);
    let tampered = url.replace(sig, &flipped);
    assert_ne!(tampered, url);
    assert_eq!(get(app, &tampered).await.status(), 403);
    // The signature does not carry over to a later expiry.
    let exp: i64 = query
        .split('&')
        .find_map(|p| p.strip_prefix("exp="))
        .and_then(|e| e.parse().ok())
        .expect("exp");
    let extended = url.replace(&format!("exp={exp}"), &format!("exp={}", exp + 3600));
    assert_eq!(get(app, &extended).await.status(), 403);
    // Nor to another object.
    let other = format!("/files/originals/xx/other.jpg?{query}");
    assert_eq!(get(app, &other).await.status(), 403);
    // And the genuine link expires.
    app.clock.advance(chrono::Duration::minutes(16));
    assert_eq!(get(app, url).await.status(), 410);
}

#[tokio::test]
async fn a_broken_original_fails_only_its_order_and_a_later_batch_completes_it() {
    let shop = shop().await;
    let app = &shop.app;
    let reviewer = app
        .staff(&shop.admin, "rev1", "REVIEWER", Some("10027"))
        .await;
    let producer = app
        .staff(&shop.admin, "prod1", "PRODUCER", Some("10027"))
        .await;
    let good = shop.student("wx-prod-good").await;
    let broken = shop
        .student_with_photo("wx-prod-broken", "obama_q35_ok.jpg")
        .await;
    let og = shop.paid_order(&good).await;
    let ob = shop.paid_order(&broken).await;
    shop.approve_all(&reviewer, 2).await;

    let row = photo_of(app, &ob["id"]).await;
    assert!(
        row.object_key.starts_with("originals/"),
        "{}",
        row.object_key
    );
    assert_ne!(
        row.object_key,
        photo_of(app, &og["id"]).await.object_key,
        "the two orders must not share an original"
    );
    // Nothing rendered from it yet, so production has to read the original.
    assert_eq!(row.preview_key, None);
    let path = object_path(app, &row.object_key);
    let original = std::fs::read(&path).expect("stored original");
    assert_eq!(original, fixture("photos/obama_q35_ok.jpg"));
    std::fs::write(&path, b"this is not a JPEG at all").expect("overwrite original");

    let first = start_ok(app, &producer, json!({ "schoolCode": "10027" })).await;
    assert_eq!(first["total"], 2);
    let done = wait_finished(app, &producer, &first["id"]).await;
    assert_eq!(
        (&done["total"], &done["done"], &done["failed"]),
        (&json!(2), &json!(1), &json!(1)),
        "{done}"
    );
    let completed = order_view(app, &good.token, &og["id"]).await;
    assert_eq!(completed["status"], "COMPLETED", "{completed}");
    let failed = order_view(app, &broken.token, &ob["id"]).await;
    assert_eq!(failed["status"], "PENDING_PRODUCTION", "{failed}");
    assert_eq!(failed["deliverableUrl"], Value::Null);
    assert_eq!(failed["completedAt"], Value::Null);
    let events = failed["events"].as_array().cloned().unwrap_or_default();
    let last = events.last().cloned().unwrap_or_default();
    assert_eq!(last["event"], "PRODUCTION_FAILED", "{failed}");
    assert_eq!(last["reasonCode"], "PRODUCTION_FAILED");
    assert_eq!(last["fromStatus"], "IN_PRODUCTION");
    assert_eq!(last["toStatus"], "PENDING_PRODUCTION");
    assert_eq!(last["actor"], "SYSTEM");
    assert_eq!(events[events.len() - 2]["event"], "START_PRODUCTION");

    // With the original back, a second batch picks up just that order and completes it.
    std::fs::write(&path, &original).expect("restore original");
    let second = start_ok(app, &producer, json!({ "schoolCode": "10027" })).await;
    assert_eq!(second["total"], 1, "{second}");
    assert_ne!(second["id"], first["id"]);
    let done = wait_finished(app, &producer, &second["id"]).await;
    assert_eq!(
        (&done["total"], &done["done"], &done["failed"]),
        (&json!(1), &json!(1), &json!(0)),
        "{done}"
    );
    let redone = order_view(app, &broken.token, &ob["id"]).await;
    assert_eq!(redone["status"], "COMPLETED", "{redone}");
    assert!(redone["completedAt"].is_string());
    assert_eq!(
        event_names(&redone)[4..],
        [
            "START_PRODUCTION",
            "PRODUCTION_FAILED",
            "START_PRODUCTION",
            "FINISH_PRODUCTION"
        ],
        "{redone}"
    );
    let url = redone["deliverableUrl"].as_str().expect("deliverableUrl");
    let bytes = get(app, url).await.bytes().await.expect("body");
    let img =
        image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg).expect("a JPEG");
    assert_eq!((img.width(), img.height()), (480, 640));
    // The first batch's tallies are unchanged.
    let first_again = batch(app, &producer, &first["id"]).await;
    assert_eq!(
        (&first_again["done"], &first_again["failed"]),
        (&json!(1), &json!(1))
    );
}

#[tokio::test]
async fn a_batch_interrupted_mid_order_resumes_without_doing_anything_twice() {
    let shop = deferred_shop().await;
    let app = &shop.app;
    let state = &app.state;
    let reviewer = app
        .staff(&shop.admin, "rev1", "REVIEWER", Some("10027"))
        .await;
    let producer = app
        .staff(&shop.admin, "prod1", "PRODUCER", Some("10027"))
        .await;
    let mut students = Vec::new();
    for code in ["wx-crash-1", "wx-crash-2", "wx-crash-3"] {
        let s = shop.student(code).await;
        let o = shop.paid_order(&s).await;
        students.push((s, o));
    }
    shop.approve_all(&reviewer, 3).await;

    let started = start_ok(app, &producer, json!({ "schoolCode": "10027" })).await;
    assert_eq!(started["total"], 3);
    let gid = started["id"].clone();
    let id = app.row_id(NodeType::ProductionBatch, &gid);
    // Its orders are taken: a second batch finds nothing to produce.
    let again = start(app, &producer, json!({ "schoolCode": "10027" })).await;
    assert_eq!(
        again["data"]["startProductionBatch"]["userErrors"][0]["code"], "NOTHING_TO_PRODUCE",
        "{again}"
    );
    // Deferred: nothing happens on its own.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let idle = batch(app, &producer, &gid).await;
    assert_eq!(
        (&idle["done"], &idle["finished"]),
        (&json!(0), &json!(false))
    );

    // One order, then the process "stops".
    let handled = production::run(state, id, Some(1)).await.expect("run");
    assert_eq!(handled, 1);
    let partial = batch(app, &producer, &gid).await;
    assert_eq!(
        (&partial["done"], &partial["failed"], &partial["finished"]),
        (&json!(1), &json!(0), &json!(false)),
        "{partial}"
    );

    // The crash comes inside the next order: started, not rendered.
    let next = production_item::Entity::find()
        .filter(production_item::Column::BatchId.eq(id))
        .filter(production_item::Column::State.eq("PENDING"))
        .order_by_asc(production_item::Column::OrderId)
        .all(&state.db)
        .await
        .expect("items");
    assert_eq!(next.len(), 2);
    let row = order::Entity::find_by_id(next[0].order_id)
        .one(&state.db)
        .await
        .expect("order query")
        .expect("order row");
    assert_eq!(row.status.as_str(), "PENDING_PRODUCTION");
    let moved = transition::apply(
        &state.db,
        &row,
        OrderEvent::StartProduction,
        By::SYSTEM,
        state.clock.now(),
        vec![],
        Detail::default(),
    )
    .await
    .expect("start production");
    assert_eq!(moved.status.as_str(), "IN_PRODUCTION");

    // Restarted: the rest of the batch is done.
    let handled = production::run(state, id, None).await.expect("resume");
    assert_eq!(handled, 2);
    let finished = batch(app, &producer, &gid).await;
    assert_eq!(
        (
            &finished["total"],
            &finished["done"],
            &finished["failed"],
            &finished["finished"]
        ),
        (&json!(3), &json!(3), &json!(0), &json!(true)),
        "{finished}"
    );
    assert!(finished["finishedAt"].is_string());
    // Nothing is left for a restart to pick up.
    assert_eq!(
        production::resume_unfinished(state, true)
            .await
            .expect("resume"),
        0
    );

    for (s, o) in &students {
        let seen = order_view(app, &s.token, &o["id"]).await;
        assert_eq!(seen["status"], "COMPLETED", "{seen}");
        assert!(seen["completedAt"].is_string(), "{seen}");
        assert!(seen["deliverableUrl"].is_string(), "{seen}");
        assert_eq!(count_of(&seen, "START_PRODUCTION"), 1, "{seen}");
        assert_eq!(count_of(&seen, "FINISH_PRODUCTION"), 1, "{seen}");
        assert_eq!(count_of(&seen, "PRODUCTION_FAILED"), 0, "{seen}");
        assert_eq!(
            event_names(&seen).last().map(String::as_str),
            Some("FINISH_PRODUCTION")
        );
    }
    let items = production_item::Entity::find()
        .filter(production_item::Column::BatchId.eq(id))
        .all(&state.db)
        .await
        .expect("items");
    assert_eq!(items.len(), 3);
    assert!(
        items.iter().all(|i| i.state.as_str() == "DONE"),
        "{items:?}"
    );
}

#[tokio::test]
async fn who_may_start_a_batch_and_on_what() {
    let shop = shop().await;
    let app = &shop.app;
    let created = app.create_school(&shop.admin, "10001", "北京大学").await;
    assert_eq!(created["userErrors"], json!([]), "{created}");
    let producer = app
        .staff(&shop.admin, "prod1", "PRODUCER", Some("10027"))
        .await;
    let elsewhere = app
        .staff(&shop.admin, "prod-pku", "PRODUCER", Some("10001"))
        .await;
    let s = shop.student("wx-prod-refuse").await;
    let waiting = shop.paid_order(&s).await;

    // Students cannot.
    let body = start(app, &s.token, json!({ "schoolCode": "10027" })).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert_eq!(body["data"], Value::Null, "{body}");
    // Nor a producer of another school.
    let body = start(app, &elsewhere, json!({ "schoolCode": "10027" })).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    // Nothing approved: the order awaiting review is not produced.
    let body = start(app, &producer, json!({ "schoolCode": "10027" })).await;
    assert!(body.get("errors").is_none(), "{body}");
    let payload = &body["data"]["startProductionBatch"];
    assert_eq!(payload["batch"], Value::Null, "{body}");
    assert_eq!(
        payload["userErrors"][0]["code"], "NOTHING_TO_PRODUCE",
        "{body}"
    );
    let body = start(app, &producer, json!({ "orderIds": [waiting["id"]] })).await;
    let payload = &body["data"]["startProductionBatch"];
    assert_eq!(payload["batch"], Value::Null, "{body}");
    assert_eq!(payload["userErrors"][0]["code"], "INVALID_ORDERS", "{body}");
    assert_eq!(
        payload["userErrors"][0]["field"],
        json!(["input", "orderIds"])
    );
    let still = shop.order(&s.token, &waiting["id"]).await;
    assert_eq!(still["status"], "PENDING_REVIEW");

    // Once approved, the other school's producer still cannot name it, even by id.
    let reviewer = app
        .staff(&shop.admin, "rev1", "REVIEWER", Some("10027"))
        .await;
    shop.approve_all(&reviewer, 1).await;
    let body = start(app, &elsewhere, json!({ "orderIds": [waiting["id"]] })).await;
    let payload = &body["data"]["startProductionBatch"];
    assert_eq!(payload["userErrors"][0]["code"], "INVALID_ORDERS", "{body}");
    // Their own school has nothing to produce.
    let body = start(app, &elsewhere, json!({})).await;
    let payload = &body["data"]["startProductionBatch"];
    assert_eq!(
        payload["userErrors"][0]["code"], "NOTHING_TO_PRODUCE",
        "{body}"
    );
    let still = shop.order(&s.token, &waiting["id"]).await;
    assert_eq!(still["status"], "PENDING_PRODUCTION");

    // Its own school's producer can, by id; the batch is theirs to follow, not the others'.
    let started = start_ok(app, &producer, json!({ "orderIds": [waiting["id"]] })).await;
    assert_eq!(started["total"], 1, "{started}");
    let done = wait_finished(app, &producer, &started["id"]).await;
    assert_eq!((&done["done"], &done["failed"]), (&json!(1), &json!(0)));
    for token in [&elsewhere, &s.token] {
        let body = app
            .gql(Some(token), BATCH, json!({ "id": started["id"] }))
            .await;
        assert_eq!(body["data"]["node"], Value::Null, "{body}");
        assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    }
}
