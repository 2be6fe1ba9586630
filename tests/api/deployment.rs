//! What an operator deploying the service relies on: metrics only on their own listener and
//! with a bounded set of labels, readiness that notices unwritable storage, and the secret key
//! that a database was written with.
use serde_json::json;

use crate::common::TestApp;

#[tokio::test]
async fn metrics_are_not_served_on_the_public_port() {
    let app = TestApp::spawn().await;
    let public = app.http.get(app.url("/metrics")).send().await.expect("get");
    assert_eq!(public.status(), 404);
    let private = app
        .http
        .get(format!("{}/metrics", app.metrics_base))
        .send()
        .await
        .expect("get");
    assert_eq!(private.status(), 200);
}

#[tokio::test]
async fn clients_cannot_grow_the_metrics_label_set() {
    let app = TestApp::spawn().await;
    for i in 0..150 {
        // Named operations no client is built with, and unknown root fields.
        app.gql(None, &format!("query Probe{i} {{ __typename }}"), json!({}))
            .await;
        app.gql(None, &format!("{{ noSuchField{i} }}"), json!({}))
            .await;
    }
    // A known operation keeps its own name.
    app.gql(None, "{ serviceInfo { customerServicePhone } }", json!({}))
        .await;
    let text = app.metrics_text().await;
    assert!(!text.contains("Probe1"), "client names became labels");
    assert!(!text.contains("noSuchField"), "client fields became labels");
    assert!(text.contains(r#"operation="other""#), "{text}");
    assert!(text.contains(r#"operation="serviceInfo""#), "{text}");
    let series = text
        .lines()
        .filter(|l| l.starts_with("campus_photo_graphql_requests_total{"))
        .count();
    assert!(series <= 5, "{series} series for two operations");
}

#[tokio::test]
async fn ready_is_unavailable_while_storage_cannot_be_written() {
    let app = TestApp::spawn().await;
    let ready = app.http.get(app.url("/ready")).send().await.expect("get");
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["storage"], "ok", "{body}");
    // The storage directory turns into a file: nothing can be written below it.
    let dir = app.vars["CAMPUS_PHOTO_STORAGE"]
        .strip_prefix("file://")
        .expect("file storage")
        .to_string();
    std::fs::remove_dir_all(&dir).expect("remove");
    std::fs::write(&dir, b"not a directory").expect("file");
    let ready = app.http.get(app.url("/ready")).send().await.expect("get");
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["storage"], "unavailable", "{body}");
    assert_eq!(body["database"], "ok", "{body}");
}

#[tokio::test]
async fn a_second_instance_with_another_key_is_refused() {
    let app = TestApp::spawn().await;
    let other = campus_photo::config::SecretKey(rand::random());
    let err = campus_photo::services::deployment::check_secret_key(
        &app.state.db,
        &other,
        chrono::Utc::now(),
    )
    .await
    .expect_err("another key");
    assert!(err.to_string().contains("CAMPUS_PHOTO_SECRET_KEY"), "{err}");
    // The key the database was written with passes.
    campus_photo::services::deployment::check_secret_key(
        &app.state.db,
        &app.state.config.secret_key,
        chrono::Utc::now(),
    )
    .await
    .expect("the same key");
}
