//! Requests that used to take the service down: values nested thousands deep (a stack overflow
//! that aborted the process), fragment bombs (seconds and a gigabyte each), NUL bytes in text
//! (an internal error on PostgreSQL). Each is refused at once, on every transport, and the
//! service keeps answering.
use std::time::{Duration, Instant};

use futures::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::common::{self, TestApp};

fn nested_lists(levels: usize) -> String {
    format!(
        "{{__typename(a:{}1{})}}",
        "[".repeat(levels),
        "]".repeat(levels)
    )
}

fn nested_objects(levels: usize) -> String {
    format!(
        "{{__typename(a:{}1{})}}",
        "{a:".repeat(levels),
        "}".repeat(levels)
    )
}

fn fragment_bomb(levels: usize) -> String {
    let mut text = String::from("query{...F0}");
    for i in 0..levels {
        text.push_str(&format!(
            " fragment F{i} on Query{{...F{} ...F{}}}",
            i + 1,
            i + 1
        ));
    }
    text.push_str(&format!(" fragment F{levels} on Query{{__typename}}"));
    text
}

async fn still_alive(app: &TestApp) {
    let resp = app
        .http
        .get(app.url("/health"))
        .send()
        .await
        .expect("the service is still up");
    assert_eq!(resp.status(), 200);
    let body = app.gql(None, "{ __typename }", json!({})).await;
    assert_eq!(body["data"]["__typename"], "Query");
}

async fn post_raw(app: &TestApp, body: Value) -> (u16, Value) {
    let resp = app
        .http
        .post(app.url("/graphql"))
        .json(&body)
        .send()
        .await
        .expect("answered");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json"))
}

#[tokio::test]
async fn deeply_nested_values_are_refused_over_post_and_get_and_the_process_lives() {
    let app = TestApp::spawn().await;
    for query in [nested_lists(3000), nested_objects(3000), nested_lists(65)] {
        let (status, body) = post_raw(&app, json!({ "query": query })).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(common::error_code(&body), "NESTING_TOO_DEEP", "{body}");
        let resp = app
            .http
            .get(app.url("/graphql"))
            .query(&[("query", query.as_str())])
            .send()
            .await
            .expect("GET answered");
        assert_eq!(resp.status(), 400);
        let body: Value = resp.json().await.expect("json");
        assert_eq!(common::error_code(&body), "NESTING_TOO_DEEP", "{body}");
    }
    // A batch hides one deep operation among good ones: the whole request is refused.
    let (status, _) = post_raw(
        &app,
        json!([{ "query": "{ __typename }" }, { "query": nested_lists(500) }]),
    )
    .await;
    assert_eq!(status, 400);
    // Nesting that real documents use still passes.
    let (status, body) = post_raw(&app, json!({ "query": nested_lists(20) })).await;
    assert_eq!(status, 200, "{body}");
    still_alive(&app).await;
}

#[tokio::test]
async fn deeply_nested_variables_are_refused() {
    let app = TestApp::spawn().await;
    let mut value = json!(1);
    for _ in 0..100 {
        value = json!([value]);
    }
    let (status, body) = post_raw(
        &app,
        json!({ "query": "query($v: [Int]) { __typename }", "variables": { "v": value } }),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(common::error_code(&body), "NESTING_TOO_DEEP");
    still_alive(&app).await;
}

#[tokio::test]
async fn a_deep_document_over_the_websocket_gets_an_error_not_a_crash() {
    let app = TestApp::spawn().await;
    let token = app.sign_in_student("wx-deep-ws", "13800138000").await;
    let mut ws = common::ws::connect(&app.base, &token).await;
    ws.send(Message::text(
        json!({ "id": "1", "type": "subscribe", "payload": { "query": nested_objects(3000) } })
            .to_string(),
    ))
    .await
    .expect("send");
    let mut codes = Vec::new();
    while let Some(frame) = common::ws::frame(&mut ws).await {
        if let Some(errors) = frame["payload"]
            .as_array()
            .or(frame["payload"]["errors"].as_array())
        {
            codes.extend(errors.iter().map(|e| {
                e["extensions"]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            }));
        }
        if frame["type"] == "complete" || frame["type"] == "error" {
            break;
        }
    }
    assert_eq!(codes, ["NESTING_TOO_DEEP"]);
    still_alive(&app).await;
}

#[tokio::test]
async fn a_fragment_bomb_is_refused_at_once() {
    let app = TestApp::spawn().await;
    let started = Instant::now();
    let (status, body) = post_raw(&app, json!({ "query": fragment_bomb(30) })).await;
    // Parsed, counted without expanding, refused before validation walks it.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(status, 200);
    assert_eq!(common::error_code(&body), "TOO_MANY_FIELDS", "{body}");
    assert!(body["data"].is_null(), "{body}");
    // Fragments used the ordinary way still work.
    let body = app
        .gql(
            None,
            "query { ...A ...A } fragment A on Query { __typename ...B } fragment B on Query { __typename }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
    still_alive(&app).await;
}

#[tokio::test]
async fn text_with_nul_is_bad_user_input_in_variables_and_literals() {
    let app = TestApp::spawn().await;
    let body = app
        .gql(
            None,
            "mutation($u: String!) { signInStaff(input: {username: $u, password: \"whatever1\"}) { token } }",
            json!({ "u": "adm\u{0}in" }),
        )
        .await;
    assert_eq!(common::error_code(&body), "BAD_USER_INPUT", "{body}");
    let body = app
        .gql(
            None,
            r#"mutation { signInStaff(input: {username: "adm\u0000in", password: "whatever1"}) { token } }"#,
            json!({}),
        )
        .await;
    assert_eq!(common::error_code(&body), "BAD_USER_INPUT", "{body}");
    // An ordinary escape still works.
    let body = app
        .gql(
            None,
            r#"mutation { signInStaff(input: {username: "adm\u00e9in", password: "whatever1"}) { userErrors { code } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["signInStaff"]["userErrors"][0]["code"], "INVALID_CREDENTIALS",
        "{body}"
    );
}

#[tokio::test]
async fn an_upload_map_with_thousands_of_paths_is_refused_before_any_file_is_opened() {
    let app = TestApp::spawn().await;
    let token = app.sign_in_student("wx-map-bomb", "13800138000").await;
    let paths: Vec<String> = (0..300_000).map(|i| format!("variables.x{i}")).collect();
    let form = reqwest::multipart::Form::new()
        .text(
            "operations",
            json!({ "query": "mutation($f: Upload!) { uploadPhoto(input: {enrollmentId: \"x\", file: $f}) { userErrors { code } } }", "variables": { "f": null } }).to_string(),
        )
        .text("map", json!({ "0": paths }).to_string())
        .part(
            "0",
            reqwest::multipart::Part::bytes(vec![0u8; 16]).file_name("a.jpg"),
        );
    let resp = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(common::error_code(&body), "BAD_REQUEST", "{body}");
    still_alive(&app).await;
}

#[tokio::test]
async fn an_anonymous_upload_is_refused_before_its_body_is_read() {
    let app = TestApp::spawn().await;
    // Declares a body far larger than it sends: a server that read it would wait, not answer.
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(
            format!(
                "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: multipart/form-data; boundary=X\r\nContent-Length: 9000000\r\n\r\n--X\r\n"
            )
            .as_bytes(),
        )
        .await
        .expect("write");
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .expect("answered without waiting for the body")
        .expect("read");
    let text = String::from_utf8_lossy(&answer[..n]);
    assert!(text.starts_with("HTTP/1.1 401"), "{text}");
    assert!(text.contains("UNAUTHENTICATED"), "{text}");
}
