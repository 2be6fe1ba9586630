//! Upload throughput of one instance: concurrent `uploadPhoto` requests with a 3-megapixel phone
//! JPEG against the real HTTP server on embedded SQLite. Prints uploads per second and latency
//! percentiles. Run: `cargo bench --bench upload_throughput` (not a timed test).
use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use campus_photo::{AppState, Overrides, config::Config};
use serde_json::{Value, json};

const UPLOADS: usize = 240;
const CONCURRENCY: usize = 8;
const STUDENTS: usize = 3;

async fn gql(
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut req = http
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let body: Value = req.send().await.expect("send").json().await.expect("json");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

fn three_megapixel_jpeg() -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/photos/obama_12mp_ok.jpg");
    let img = image::open(path).expect("fixture").resize(
        1500,
        2000,
        image::imageops::FilterType::Triangle,
    );
    let mut out = std::io::Cursor::new(Vec::new());
    img.to_rgb8()
        .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut out, 90,
        ))
        .expect("encode");
    out.into_inner()
}

#[tokio::main]
async fn main() {
    campus_photo::integrations::http_client::install_crypto_provider();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut vars = HashMap::new();
    vars.insert(
        "CAMPUS_PHOTO_SECRET_KEY".to_string(),
        STANDARD.encode([9u8; 32]),
    );
    vars.insert(
        "CAMPUS_PHOTO_BOOTSTRAP_ADMIN".into(),
        "bench-admin:bench-password".into(),
    );
    vars.insert(
        "DATABASE_URL".into(),
        format!("sqlite://{}/bench.db?mode=rwc", dir.path().display()),
    );
    vars.insert(
        "CAMPUS_PHOTO_STORAGE".into(),
        format!("file://{}/objects", dir.path().display()),
    );
    // The bench measures the upload path, not the per-account limit (20 a minute by default).
    vars.insert("RATE_LIMIT_UPLOAD".into(), "100000/60".into());
    let config = Config::from_vars(&vars, false).expect("config");
    let db = campus_photo::db::connect(&config.database_url, None)
        .await
        .expect("db");
    campus_photo::db::migrate(&db).await.expect("migrate");
    let state = AppState::new(config, db, Overrides::default()).expect("state");
    campus_photo::services::accounts::ensure_bootstrap_admin(&state)
        .await
        .expect("admin");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, campus_photo::app(state)).await.ok() });

    let http = reqwest::Client::new();
    let admin = gql(&http, &base, None, "mutation { signInStaff(input: {username: \"bench-admin\", password: \"bench-password\"}) { token } }", json!({})).await["signInStaff"]["token"]
        .as_str()
        .expect("token")
        .to_string();
    gql(&http, &base, Some(&admin), "mutation { createSchool(input: {code: \"10027\", name: \"北京师范大学\"}) { school { id } } }", json!({})).await;
    gql(&http, &base, Some(&admin), "mutation { createProject(input: {schoolCode: \"10027\", name: \"bench\", featureCode: \"BENCH\", mode: INDIVIDUAL, priceFen: 3000, orderNumberPrefix: \"000099\", maxAutoChecks: 100}) { project { id } } }", json!({})).await;

    let mut students = Vec::new();
    for i in 0..STUDENTS {
        let token = gql(&http, &base, None, "mutation($i: SignInWithWeChatInput!) { signInWithWeChat(input: $i) { token } }", json!({ "i": { "code": format!("bench-{i}"), "phoneCode": "13800138000", "agreementVersion": "2024.1" } })).await["signInWithWeChat"]["token"]
            .as_str()
            .expect("token")
            .to_string();
        let args =
            campus_photo::cli::IssueArgs::for_student("张小三", "11010519491231002X", "10027");
        let code =
            campus_photo::cli::mint_collection_code(&args, chrono::Utc::now()).expect("code");
        let enrollment = gql(&http, &base, Some(&token), "mutation($i: AddEnrollmentInput!) { addEnrollment(input: $i) { enrollment { id } } }", json!({ "i": { "collectionCode": code, "idNumberLast4": "002X", "featureCode": "BENCH" } })).await["addEnrollment"]["enrollment"]["id"]
            .as_str()
            .expect("enrollment")
            .to_string();
        // 我已阅读: the capture guide is acknowledged before the first take.
        gql(
            &http,
            &base,
            Some(&token),
            "mutation($i: AcknowledgeCaptureGuideInput!) { acknowledgeCaptureGuide(input: $i) { userErrors { code } } }",
            json!({ "i": { "enrollmentId": enrollment } }),
        )
        .await;
        students.push((token, enrollment));
    }

    let photo = Arc::new(three_megapixel_jpeg());
    println!(
        "upload_throughput: {UPLOADS} uploads of a {} KB 1500x2000 JPEG, {CONCURRENCY} concurrent clients, {} cores",
        photo.len() / 1024,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let query = "mutation($i: UploadPhotoInput!) { uploadPhoto(input: $i) { photo { check { verdict } } userErrors { code } } }";
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (http, base, photo, next, students) = (
            http.clone(),
            base.clone(),
            photo.clone(),
            next.clone(),
            students.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut passed = 0usize;
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if n >= UPLOADS {
                    break;
                }
                let (token, enrollment) = &students[n % students.len()];
                let operations = json!({ "query": query, "variables": { "i": { "enrollmentId": enrollment, "file": null, "source": "CAMERA" } } });
                let form = reqwest::multipart::Form::new()
                    .text("operations", operations.to_string())
                    .text("map", json!({ "0": ["variables.i.file"] }).to_string())
                    .part("0", reqwest::multipart::Part::bytes(photo.as_ref().clone()).file_name("p.jpg"));
                let t = Instant::now();
                let body: Value = http.post(format!("{base}/graphql")).bearer_auth(token).multipart(form).send().await.expect("send").json().await.expect("json");
                latencies.push(t.elapsed());
                if body["data"]["uploadPhoto"]["photo"]["check"]["verdict"] == "PASSED" {
                    passed += 1;
                } else {
                    eprintln!("unexpected: {body}");
                }
            }
            (latencies, passed)
        }));
    }
    let mut latencies = Vec::new();
    let mut passed = 0;
    for w in workers {
        let (l, p) = w.await.expect("worker");
        latencies.extend(l);
        passed += p;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "completed {} uploads ({passed} passed the check) in {:.1} s: {:.1} uploads/s; latency p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        ms(pct(0.50)),
        ms(pct(0.99)),
        ms(pct(1.0)),
    );
}
