//! Load: many simulated students run the whole flow (sign in, decode their code, enroll, upload
//! a photo, submit, pay in the sandbox, list their orders) against one instance on PostgreSQL +
//! Redis. Prints completed flows per second, p50/p99 per operation and errors; then the SQL
//! statements of `viewer.orders(first: 20)` with its nested enrollment, photo and events, and
//! the same order list served by GraphQL and by a plain axum JSON handler doing the same database
//! work, with their ratio.
//!
//! Run: `cargo bench --bench load` (PostgreSQL and Redis on their default local ports;
//! `BENCH_DATABASE_URL`, `BENCH_REDIS_URL`, `BENCH_STUDENTS` (200), `BENCH_CONCURRENCY` (32),
//! `BENCH_LIST_REQUESTS` (2000) change that). Not a timed test.
use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{Json, extract::State, http::HeaderMap, routing::get};
use base64::{Engine, engine::general_purpose::STANDARD};
use campus_photo::{
    AppState, Overrides,
    config::Config,
    entities::order,
    services::sessions::{self, Auth},
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// The same allocator as the `campus-photo` binary, so both handlers are measured as shipped.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ORDERS_PAGE: &str = "query { viewer { orders(first: 20) { nodes { number status amount { amountFen } enrollment { id name } photo { id } events { sequence event at } } } } }";

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Default)]
struct Tally {
    latencies: HashMap<&'static str, Vec<Duration>>,
    errors: HashMap<&'static str, usize>,
    flows: usize,
}

struct Client {
    http: reqwest::Client,
    base: String,
    tally: Arc<Mutex<Tally>>,
}

impl Client {
    /// One GraphQL request, timed under `op`; the data, or None (counted as an error).
    async fn gql(
        &self,
        op: &'static str,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Option<Value> {
        let mut req = self
            .http
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let started = Instant::now();
        let body: Option<Value> = match req.send().await {
            Ok(resp) => resp.json().await.ok(),
            Err(_) => None,
        };
        self.record(op, started.elapsed(), body.as_ref()).await
    }

    async fn upload(&self, token: &str, enrollment: &str, jpeg: &[u8]) -> Option<Value> {
        let operations = json!({
            "query": "mutation($i: UploadPhotoInput!) { uploadPhoto(input: $i) { photo { id check { verdict } } userErrors { code } } }",
            "variables": { "i": { "enrollmentId": enrollment, "file": null, "source": "CAMERA" } },
        });
        let form = reqwest::multipart::Form::new()
            .text("operations", operations.to_string())
            .text("map", json!({ "0": ["variables.i.file"] }).to_string())
            .part(
                "0",
                reqwest::multipart::Part::bytes(jpeg.to_vec()).file_name("photo.jpg"),
            );
        let started = Instant::now();
        let body: Option<Value> = match self
            .http
            .post(format!("{}/graphql", self.base))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
        {
            Ok(resp) => resp.json().await.ok(),
            Err(_) => None,
        };
        self.record("uploadPhoto", started.elapsed(), body.as_ref())
            .await
    }

    async fn record(
        &self,
        op: &'static str,
        took: Duration,
        body: Option<&Value>,
    ) -> Option<Value> {
        let mut tally = self.tally.lock().await;
        tally.latencies.entry(op).or_default().push(took);
        let data = body
            .filter(|b| b.get("errors").is_none())
            .map(|b| b["data"].clone())
            .filter(|d| {
                // A payload with userErrors is a failed step too.
                d.as_object().is_none_or(|m| {
                    m.values()
                        .all(|v| v["userErrors"].as_array().is_none_or(Vec::is_empty))
                })
            });
        if data.is_none() {
            *tally.errors.entry(op).or_default() += 1;
        }
        data
    }
}

/// One student's whole flow; true when every step succeeded.
async fn student_flow(client: &Client, n: usize, jpeg: &[u8]) -> Option<()> {
    let token = client
        .gql(
            "signInWithWeChat",
            None,
            "mutation($i: SignInWithWeChatInput!) { signInWithWeChat(input: $i) { token userErrors { code } } }",
            json!({ "i": { "code": format!("load-{n}"), "phoneCode": "13800138000", "agreementVersion": "2024.1" } }),
        )
        .await?["signInWithWeChat"]["token"]
        .as_str()?
        .to_string();
    let args = campus_photo::cli::IssueArgs::for_student("张小三", "11010519491231002X", "10027");
    let code = campus_photo::cli::mint_collection_code(&args, chrono::Utc::now()).ok()?;
    client
        .gql(
            "decodeCollectionCode",
            Some(&token),
            "mutation($i: DecodeCollectionCodeInput!) { decodeCollectionCode(input: $i) { info { maskedName } userErrors { code } } }",
            json!({ "i": { "text": code } }),
        )
        .await?;
    let enrollment = client
        .gql(
            "addEnrollment",
            Some(&token),
            "mutation($i: AddEnrollmentInput!) { addEnrollment(input: $i) { enrollment { id } userErrors { code } } }",
            json!({ "i": { "collectionCode": code, "idNumberLast4": "002X", "featureCode": "LOAD" } }),
        )
        .await?["addEnrollment"]["enrollment"]["id"]
        .as_str()?
        .to_string();
    // 我已阅读: the capture guide is acknowledged before the first take.
    client
        .gql(
            "acknowledgeCaptureGuide",
            Some(&token),
            "mutation($i: AcknowledgeCaptureGuideInput!) { acknowledgeCaptureGuide(input: $i) { userErrors { code } } }",
            json!({ "i": { "enrollmentId": enrollment } }),
        )
        .await?;
    let photo = client.upload(&token, &enrollment, jpeg).await?["uploadPhoto"]["photo"]["id"]
        .as_str()?
        .to_string();
    let order = client
        .gql(
            "submitOrder",
            Some(&token),
            "mutation($i: SubmitOrderInput!) { submitOrder(input: $i) { order { id } userErrors { code } } }",
            json!({ "i": { "photoId": photo, "notificationConsent": true } }),
        )
        .await?["submitOrder"]["order"]["id"]
        .as_str()?
        .to_string();
    client
        .gql(
            "createPayment",
            Some(&token),
            "mutation($i: OrderIdInput!) { createPayment(input: $i) { payParams { paySign } userErrors { code } } }",
            json!({ "i": { "orderId": order } }),
        )
        .await?;
    client
        .gql(
            "sandboxCompletePayment",
            Some(&token),
            "mutation($i: OrderIdInput!) { sandboxCompletePayment(input: $i) { order { status } userErrors { code } } }",
            json!({ "i": { "orderId": order } }),
        )
        .await?;
    client
        .gql("viewer.orders", Some(&token), ORDERS_PAGE, json!({}))
        .await?;
    Some(())
}

/// The plain handler: the same page as `ORDERS_PAGE`, by hand, with the same database work as
/// the GraphQL resolver (the services it calls): authenticate, then the page with its
/// enrollments, photos and events.
async fn plain_orders(State(state): State<AppState>, headers: HeaderMap) -> Json<Value> {
    use campus_photo::services::{
        orders::page::{self, PhotoColumns, Selected},
        paging::PageArgs,
    };
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Ok(Auth::SignedIn(viewer)) = sessions::authenticate(&state, token).await else {
        return Json(json!({ "error": "UNAUTHENTICATED" }));
    };
    let select = order::Entity::find().filter(order::Column::AccountId.eq(viewer.account_id));
    let selected = Selected {
        enrollment: true,
        photo: Some(PhotoColumns::Lean),
        events: true,
        ..Selected::default()
    };
    let args = PageArgs {
        first: Some(20),
        ..PageArgs::default()
    };
    let Ok(found) = page::page(&state.db, select, true, &args, &state.ids, selected).await else {
        return Json(json!({ "error": "INTERNAL" }));
    };
    let nodes: Vec<Value> = found
        .items
        .iter()
        .map(|r| {
            let o = &r.order;
            json!({
                "number": o.number,
                "status": o.status,
                "amount": { "amountFen": o.amount_fen },
                "enrollment": { "id": state.ids.encode(campus_photo::ids::NodeType::Enrollment, o.enrollment_id),
                    "name": r.enrollment.as_ref().map(|e| e.enrollment.name_masked.clone()) },
                "photo": { "id": r.photo.as_ref().map(|(p, _)| state.ids.encode(campus_photo::ids::NodeType::Photo, p.id)) },
                "events": r.events.iter().flatten().map(|e| json!({
                    "sequence": e.sequence, "event": e.event, "at": e.created_at,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Json(json!({ "data": { "viewer": { "orders": { "nodes": nodes } } } }))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p) as usize).min(sorted.len() - 1);
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `requests` GETs/POSTs of the order list, `concurrency` at a time; returns (requests/s, p50, p99).
async fn hammer(
    http: &reqwest::Client,
    requests: usize,
    concurrency: usize,
    make: Arc<dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync>,
) -> (f64, Duration, Duration) {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (http, next, make) = (http.clone(), next.clone(), make.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < requests {
                let t = Instant::now();
                let ok = match make(&http).send().await {
                    Ok(r) => r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                assert!(ok, "order list request failed");
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.expect("worker"));
    }
    let elapsed = started.elapsed();
    all.sort();
    (
        all.len() as f64 / elapsed.as_secs_f64(),
        percentile(&all, 0.5),
        percentile(&all, 0.99),
    )
}

#[tokio::main]
async fn main() {
    campus_photo::integrations::http_client::install_crypto_provider();
    let students = env_or("BENCH_STUDENTS", 200);
    let concurrency = env_or("BENCH_CONCURRENCY", 32);
    let list_requests = env_or("BENCH_LIST_REQUESTS", 2000);
    let database_url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let redis_url =
        std::env::var("BENCH_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let dir = tempfile::tempdir().expect("tempdir");

    // A fresh schema, so runs do not see each other's rows.
    let schema = format!("bench_{}", uuid::Uuid::now_v7().simple());
    let admin_db = sea_orm::Database::connect(&database_url)
        .await
        .expect("PostgreSQL at BENCH_DATABASE_URL");
    admin_db
        .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("schema");

    // Bound first: the payment sandbox posts its notifications to this instance.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let mut vars = HashMap::new();
    vars.insert(
        "WECHATPAY_NOTIFY_URL".to_string(),
        format!("{base}/payments/wechat/notify"),
    );
    vars.insert(
        "CAMPUS_PHOTO_SECRET_KEY".to_string(),
        STANDARD.encode([7u8; 32]),
    );
    vars.insert(
        "CAMPUS_PHOTO_BOOTSTRAP_ADMIN".into(),
        "load-admin:load-password".into(),
    );
    vars.insert("DATABASE_URL".into(), database_url.clone());
    vars.insert("REDIS_URL".into(), redis_url.clone());
    vars.insert(
        "CAMPUS_PHOTO_STORAGE".into(),
        format!("file://{}/objects", dir.path().display()),
    );
    vars.insert("RATE_LIMIT_NAMESPACE".into(), schema.clone());
    for action in campus_photo::services::limits::Action::ALL {
        vars.insert(action.variable().into(), "1000000/60".into());
    }
    let config = Config::from_vars(&vars, false).expect("config");
    let db = campus_photo::db::connect(&config.database_url, Some(&schema))
        .await
        .expect("db");
    campus_photo::db::migrate(&db).await.expect("migrate");
    let state = AppState::new(config, db, Overrides::default()).expect("state");
    campus_photo::services::accounts::ensure_bootstrap_admin(&state)
        .await
        .expect("admin");
    let _relay = state.relay.spawn(state.clone());
    let router = campus_photo::app(state.clone()).merge(
        axum::Router::new()
            .route("/plain/orders", get(plain_orders))
            .with_state(state.clone()),
    );
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .ok()
    });

    let http = reqwest::Client::new();
    let setup = Client {
        http: http.clone(),
        base: base.clone(),
        tally: Arc::new(Mutex::new(Tally::default())),
    };
    let admin = setup
        .gql("setup", None, "mutation { signInStaff(input: {username: \"load-admin\", password: \"load-password\"}) { token } }", json!({}))
        .await
        .expect("admin sign-in")["signInStaff"]["token"]
        .as_str()
        .expect("token")
        .to_string();
    setup.gql("setup", Some(&admin), "mutation { createSchool(input: {code: \"10027\", name: \"北京师范大学\"}) { school { id } } }", json!({})).await.expect("school");
    setup.gql("setup", Some(&admin), "mutation { createProject(input: {schoolCode: \"10027\", name: \"load\", featureCode: \"LOAD\", mode: INDIVIDUAL, priceFen: 3000, orderNumberPrefix: \"000098\", maxAutoChecks: 100}) { project { id } } }", json!({})).await.expect("project");

    let jpeg = Arc::new(
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/photos/obama_ok.jpg"),
        )
        .expect("fixture"),
    );
    println!(
        "load: {students} students, {concurrency} at a time, one instance on PostgreSQL + Redis, {} cores shared with the client; photo {} KB 720x960",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        jpeg.len() / 1024
    );
    let tally = Arc::new(Mutex::new(Tally::default()));
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let client = Client {
            http: http.clone(),
            base: base.clone(),
            tally: tally.clone(),
        };
        let (next, jpeg) = (next.clone(), jpeg.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if n >= students {
                    break;
                }
                if student_flow(&client, n, &jpeg).await.is_some() {
                    client.tally.lock().await.flows += 1;
                }
            }
        }));
    }
    for w in workers {
        w.await.expect("worker");
    }
    let elapsed = started.elapsed();
    let mut tally = tally.lock().await;
    println!(
        "completed {} of {students} flows in {:.1} s: {:.1} flows/s",
        tally.flows,
        elapsed.as_secs_f64(),
        tally.flows as f64 / elapsed.as_secs_f64()
    );
    println!(
        "{:<24} {:>7} {:>9} {:>9} {:>7}",
        "operation", "count", "p50 ms", "p99 ms", "errors"
    );
    let order = [
        "signInWithWeChat",
        "decodeCollectionCode",
        "addEnrollment",
        "acknowledgeCaptureGuide",
        "uploadPhoto",
        "submitOrder",
        "createPayment",
        "sandboxCompletePayment",
        "viewer.orders",
    ];
    for op in order {
        let errors = tally.errors.get(op).copied().unwrap_or(0);
        if let Some(list) = tally.latencies.get_mut(op) {
            list.sort();
            println!(
                "{op:<24} {:>7} {:>9.1} {:>9.1} {:>7}",
                list.len(),
                ms(percentile(list, 0.5)),
                ms(percentile(list, 0.99)),
                errors
            );
        }
    }
    drop(tally);

    // One student with 20 orders: the statements of a full page, and GraphQL against plain axum.
    let lister = Client {
        http: http.clone(),
        base: base.clone(),
        tally: Arc::new(Mutex::new(Tally::default())),
    };
    let token = lister
        .gql("setup", None, "mutation { signInWithWeChat(input: {code: \"load-lister\", phoneCode: \"13800138001\", agreementVersion: \"2024.1\"}) { token } }", json!({}))
        .await
        .expect("lister")["signInWithWeChat"]["token"]
        .as_str()
        .expect("token")
        .to_string();
    let args = campus_photo::cli::IssueArgs::for_student("李四", "11010519491231002X", "10027");
    let code = campus_photo::cli::mint_collection_code(&args, chrono::Utc::now()).expect("code");
    let enrollment = lister.gql("setup", Some(&token), "mutation($i: AddEnrollmentInput!) { addEnrollment(input: $i) { enrollment { id } } }", json!({ "i": { "collectionCode": code, "idNumberLast4": "002X", "featureCode": "LOAD" } })).await.expect("enroll")["addEnrollment"]["enrollment"]["id"].as_str().expect("id").to_string();
    lister
        .gql(
            "setup",
            Some(&token),
            "mutation($i: AcknowledgeCaptureGuideInput!) { acknowledgeCaptureGuide(input: $i) { userErrors { code } } }",
            json!({ "i": { "enrollmentId": enrollment } }),
        )
        .await
        .expect("capture guide");
    let photo = lister
        .upload(&token, &enrollment, &jpeg)
        .await
        .expect("upload")["uploadPhoto"]["photo"]["id"]
        .as_str()
        .expect("photo")
        .to_string();
    for i in 0..20 {
        let order = lister
            .gql(
                "setup",
                Some(&token),
                "mutation($i: SubmitOrderInput!) { submitOrder(input: $i) { order { id } } }",
                json!({ "i": { "photoId": photo, "notificationConsent": true } }),
            )
            .await
            .expect("submit")["submitOrder"]["order"]["id"]
            .as_str()
            .expect("order")
            .to_string();
        if i < 19 {
            lister
                .gql(
                    "setup",
                    Some(&token),
                    "mutation($i: OrderIdInput!) { cancelOrder(input: $i) { order { status } } }",
                    json!({ "i": { "orderId": order } }),
                )
                .await
                .expect("cancel");
        }
    }
    let mut statements = u64::MAX;
    for _ in 0..5 {
        let before = state.metrics.statements();
        lister
            .gql("viewer.orders", Some(&token), ORDERS_PAGE, json!({}))
            .await
            .expect("page");
        statements = statements.min(state.metrics.statements() - before);
    }
    println!(
        "viewer.orders(first: 20) with enrollment, photo and events: {statements} SQL statements per request (20 orders)"
    );

    let gql_token = token.clone();
    let graphql: Arc<dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync> = {
        let base = base.clone();
        Arc::new(move |http: &reqwest::Client| {
            http.post(format!("{base}/graphql"))
                .bearer_auth(&gql_token)
                .json(&json!({ "query": ORDERS_PAGE }))
        })
    };
    let plain: Arc<dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync> = {
        let base = base.clone();
        let token = token.clone();
        Arc::new(move |http: &reqwest::Client| {
            http.get(format!("{base}/plain/orders")).bearer_auth(&token)
        })
    };
    // Warm both, then measure each twice, alternating.
    hammer(&http, 100, 8, graphql.clone()).await;
    hammer(&http, 100, 8, plain.clone()).await;
    let mut rows = Vec::new();
    for _ in 0..2 {
        rows.push((
            "graphql",
            hammer(&http, list_requests, 8, graphql.clone()).await,
        ));
        rows.push((
            "plain axum",
            hammer(&http, list_requests, 8, plain.clone()).await,
        ));
    }
    println!("order list of 20, {list_requests} requests, 8 concurrent:");
    let mut best: HashMap<&str, f64> = HashMap::new();
    for (name, (rps, p50, p99)) in &rows {
        println!(
            "  {name:<11} {rps:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms",
            ms(*p50),
            ms(*p99)
        );
        let entry = best.entry(name).or_insert(0.0);
        *entry = entry.max(*rps);
    }
    if let (Some(g), Some(p)) = (best.get("graphql"), best.get("plain axum")) {
        println!("throughput ratio plain/graphql: {:.2}x", p / g);
    }
    admin_db
        .execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .ok();
}
