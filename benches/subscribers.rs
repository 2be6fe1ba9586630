//! Live order updates at scale: N graphql-transport-ws subscribers of `orderUpdates` on one
//! instance, then order transitions; reports event-to-client latency (p50/p99/max), server memory
//! per idle subscriber and server CPU. Target on a 2-core machine: 10 000 subscribers, p99 under
//! 100 ms, under 20 KiB per idle subscriber.
//!
//! Run: `cargo bench --bench subscribers` (release build). Optional environment:
//! `SUBSCRIBERS=1000,10000` (one run per value, each against a fresh server),
//! `BENCH_STUDENTS=20` (the students the subscribers are spread over) and
//! `CONNECT_CONCURRENCY=200` (WebSocket handshakes in flight while connecting) and
//! `BENCH_SERVER_WRAPPER` (a profiler command the server runs under, e.g.
//! `valgrind --tool=massif --massif-out-file=/tmp/massif.out`).
//!
//! The server is the real `campus-photo serve` binary in a child process (embedded SQLite in a
//! temp dir, WeChat login and payment sandboxes, `RUST_LOG=warn`), so that what /proc/<pid> says
//! about memory and CPU is the server's alone: the 10 000 client sockets would otherwise add their
//! own buffers to the same RSS and their own work to the same CPU time. It also keeps each
//! process within the file descriptor limit (20 000 here; one process holding both ends of
//! 10 000 connections needs more). Client and server still share the machine's cores, so the
//! client's work shows in the latencies, not in cpu_s.
//!
//! Each run: M students sign in (sandbox), enroll with a collection code signed by the
//! development key (which the default configuration trusts), upload
//! tests/fixtures/photos/obama_ok.jpg, submit an order and open its payment. The server's RSS is
//! read (rss_before), then N sockets are opened, socket k authenticating as student k mod M and
//! subscribing to `orderUpdates` (a ping/pong after the subscribe shows the server has read it).
//! Once all have idled for a few seconds RSS is read again (rss_after);
//! KiB/subscriber = (rss_after - rss_before) / N.
//! Then, one student at a time, `sandboxCompletePayment` (the sandbox posts its signed
//! notification back to the server: PAYMENT_CONFIRMED then ENQUEUE_FOR_REVIEW, each pushed to the
//! N/M subscribers of that student), waiting until every one of them has both events before the
//! next student: deliveries = 2 N. Latency = arrival of the `next` frame at the client minus the
//! instant just before the mutation was sent (one monotonic clock, in this process), so it
//! includes the mutation and the payment notification. cpu_s is the server's user + system time
//! over that firing phase.
//!
//! Columns: rss_before/rss_after in MiB, KiB/subscriber as above, deliveries (pushed events
//! received; "got/expected" if some never arrived within 60 s), p50/p99/max latency over all
//! deliveries, cpu_s. The lines above each table give set-up and connect times, the server's
//! CPU while connecting, the mutation's own round trip and the bench process's CPU while firing.
use std::{
    fs::File,
    path::Path,
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{
    Message, client::IntoClientRequest, http::HeaderValue, protocol::WebSocketConfig,
};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const ADMIN_USER: &str = "bench-admin";
const ADMIN_PASS: &str = "bench-password";
const SUBSCRIPTION: &str = "subscription { orderUpdates { id event order { id } } }";
/// Events one `sandboxCompletePayment` pushes: PAYMENT_CONFIRMED, ENQUEUE_FOR_REVIEW.
const EVENTS_PER_FIRING: usize = 2;
/// How long one student's deliveries may take before the run counts the rest as missing.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the subscribers idle before the second RSS reading.
const IDLE: Duration = Duration::from_secs(3);

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// `campus-photo serve` in a child process, killed when dropped.
struct Server {
    child: Child,
    base: String,
    dir: tempfile::TempDir,
}

impl Server {
    async fn start(http: &reqwest::Client) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        // The sandbox posts payment notifications to WECHATPAY_NOTIFY_URL, so the port is chosen
        // here rather than by the server.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let addr = format!("127.0.0.1:{port}");
        let log = File::create(dir.path().join("server.log")).expect("log file");
        // BENCH_SERVER_WRAPPER (e.g. "valgrind --tool=massif") runs the server under a profiler.
        let wrapper = std::env::var("BENCH_SERVER_WRAPPER").unwrap_or_default();
        let mut words = wrapper.split_whitespace();
        let mut command = match words.next() {
            Some(program) => {
                let mut c = Command::new(program);
                c.args(words).arg(env!("CARGO_BIN_EXE_campus-photo"));
                c
            }
            None => Command::new(env!("CARGO_BIN_EXE_campus-photo")),
        };
        let child = command
            .arg("serve")
            .current_dir(dir.path())
            .env_clear()
            .env("CAMPUS_PHOTO_BIND", &addr)
            .env("CAMPUS_PHOTO_METRICS_BIND", "off")
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/bench.db?mode=rwc", dir.path().display()),
            )
            .env(
                "CAMPUS_PHOTO_STORAGE",
                format!("file://{}/objects", dir.path().display()),
            )
            .env("CAMPUS_PHOTO_SECRET_KEY", STANDARD.encode([7u8; 32]))
            .env(
                "CAMPUS_PHOTO_BOOTSTRAP_ADMIN",
                format!("{ADMIN_USER}:{ADMIN_PASS}"),
            )
            .env(
                "WECHATPAY_NOTIFY_URL",
                format!("http://{addr}/payments/wechat/notify"),
            )
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("start campus-photo serve");
        let mut server = Self {
            child,
            base: format!("http://{addr}"),
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("server exited ({status}):\n{}", server.log_tail());
            }
            if let Ok(r) = http.get(format!("{}/health", server.base)).send().await
                && r.status().is_success()
            {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "server not up in 60 s:\n{}",
                server.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        let lines: Vec<_> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM first, so a profiler wrapping the server (BENCH_SERVER_WRAPPER) can write its
        // report; SIGKILL if it has not exited within 20 s.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// VmRSS of a process, KiB.
fn rss_kib(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// User + system CPU time of a process, seconds.
fn cpu_secs(pid: &str, ticks_per_sec: f64) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')').expect("stat format") + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    ticks as f64 / ticks_per_sec
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

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
    assert!(body.get("errors").is_none(), "{query}: {body}");
    body["data"].clone()
}

/// A signed-in student with a submitted order whose payment is open.
struct Student {
    token: String,
    order: Value,
}

async fn student(http: &reqwest::Client, base: &str, i: usize, photo: &[u8]) -> Student {
    let token = gql(
        http,
        base,
        None,
        "mutation($i: SignInWithWeChatInput!) { signInWithWeChat(input: $i) { token } }",
        json!({ "i": { "code": format!("bench-sub-{i}"), "phoneCode": "13800138000", "agreementVersion": "2024.1" } }),
    )
    .await["signInWithWeChat"]["token"]
        .as_str()
        .expect("student token")
        .to_string();
    // Signed by the development key, which the default COLLECTION_CODE_KEYS trusts.
    let args = campus_photo::cli::IssueArgs::for_student("张小三", "11010519491231002X", "10027");
    let code = campus_photo::cli::mint_collection_code(&args, chrono::Utc::now()).expect("code");
    let r = gql(
        http,
        base,
        Some(&token),
        "mutation($i: AddEnrollmentInput!) { addEnrollment(input: $i) { enrollment { id } userErrors { code message } } }",
        json!({ "i": { "collectionCode": code, "idNumberLast4": "002X", "featureCode": "BENCH" } }),
    )
    .await;
    let enrollment = r["addEnrollment"]["enrollment"]["id"].clone();
    assert!(enrollment.is_string(), "{r}");
    // 我已阅读: the capture guide is acknowledged before the first take.
    gql(
        http,
        base,
        Some(&token),
        "mutation($i: AcknowledgeCaptureGuideInput!) { acknowledgeCaptureGuide(input: $i) { userErrors { code } } }",
        json!({ "i": { "enrollmentId": enrollment } }),
    )
    .await;

    let operations = json!({
        "query": "mutation($i: UploadPhotoInput!) { uploadPhoto(input: $i) { photo { id check { verdict } } userErrors { code } } }",
        "variables": { "i": { "enrollmentId": enrollment, "file": null, "source": "CAMERA" } },
    });
    let form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": ["variables.i.file"] }).to_string())
        .part(
            "0",
            reqwest::multipart::Part::bytes(photo.to_vec()).file_name("obama_ok.jpg"),
        );
    let body: Value = http
        .post(format!("{base}/graphql"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("json");
    let uploaded = &body["data"]["uploadPhoto"]["photo"];
    assert_eq!(uploaded["check"]["verdict"], "PASSED", "{body}");

    let r = gql(
        http,
        base,
        Some(&token),
        "mutation($i: SubmitOrderInput!) { submitOrder(input: $i) { order { id } userErrors { code message } } }",
        json!({ "i": { "photoId": uploaded["id"], "notificationConsent": true } }),
    )
    .await;
    assert_eq!(r["submitOrder"]["userErrors"], json!([]), "{r}");
    let order = r["submitOrder"]["order"]["id"].clone();
    let r = gql(
        http,
        base,
        Some(&token),
        "mutation($i: OrderIdInput!) { createPayment(input: $i) { userErrors { code message } } }",
        json!({ "i": { "orderId": order } }),
    )
    .await;
    assert_eq!(r["createPayment"]["userErrors"], json!([]), "{r}");
    Student { token, order }
}

async fn next_text(ws: &mut Ws) -> Result<Value, String> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(60), ws.next())
            .await
            .map_err(|_| "no frame in 60 s".to_string())?
            .ok_or("socket closed")?
            .map_err(|e| e.to_string())?;
        match msg {
            Message::Text(t) => return serde_json::from_str(t.as_str()).map_err(|e| e.to_string()),
            Message::Close(c) => return Err(format!("closed: {c:?}")),
            _ => continue,
        }
    }
}

/// Connects, authenticates and subscribes; returns once the server has read the subscribe.
async fn try_subscribe(url: &str, token: &str) -> Result<Ws, String> {
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    // Small client buffers: the defaults reserve 128 KiB per socket, 1.3 GB for 10 000.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), true)
        .await
        .map_err(|e| e.to_string())?;
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
    ws.send(Message::text(init.to_string()))
        .await
        .map_err(|e| e.to_string())?;
    let ack = next_text(&mut ws).await?;
    if ack["type"] != "connection_ack" {
        return Err(format!("expected connection_ack, got {ack}"));
    }
    let subscribe = json!({ "id": "u", "type": "subscribe", "payload": { "query": SUBSCRIPTION } });
    ws.send(Message::text(subscribe.to_string()))
        .await
        .map_err(|e| e.to_string())?;
    ws.send(Message::text(json!({ "type": "ping" }).to_string()))
        .await
        .map_err(|e| e.to_string())?;
    let pong = next_text(&mut ws).await?;
    if pong["type"] != "pong" {
        return Err(format!("expected pong, got {pong}"));
    }
    Ok(ws)
}

async fn subscribe(url: &str, token: &str) -> Ws {
    let mut attempt = 0;
    loop {
        match try_subscribe(url, token).await {
            Ok(ws) => return ws,
            Err(e) if attempt < 5 => {
                attempt += 1;
                eprintln!("subscribe failed ({e}); retrying");
                tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
            }
            Err(e) => panic!("subscribe failed 6 times: {e}"),
        }
    }
}

/// What the subscribers saw: per student, how many events arrived, and when.
struct Arrivals {
    per_student: Vec<AtomicUsize>,
    log: Mutex<Vec<(usize, Instant)>>,
    errors: AtomicUsize,
    closed: AtomicUsize,
}

/// Reads one socket until it closes, timestamping each pushed event on arrival.
async fn listen(mut ws: Ws, student: usize, arrivals: Arc<Arrivals>) {
    while let Some(msg) = ws.next().await {
        let at = Instant::now();
        match msg {
            Ok(Message::Text(t)) => {
                let frame: Value = serde_json::from_str(t.as_str()).unwrap_or_default();
                match frame["type"].as_str() {
                    Some("next")
                        if frame["payload"]["errors"].is_null()
                            && frame["payload"]["data"]["orderUpdates"]["event"].is_string() =>
                    {
                        arrivals.log.lock().expect("lock").push((student, at));
                        arrivals.per_student[student].fetch_add(1, Ordering::SeqCst);
                    }
                    Some("ping" | "pong") => {}
                    _ => {
                        if arrivals.errors.fetch_add(1, Ordering::SeqCst) < 5 {
                            eprintln!("unexpected frame: {frame}");
                        }
                    }
                }
            }
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
    arrivals.closed.fetch_add(1, Ordering::SeqCst);
}

struct Row {
    subscribers: usize,
    rss_before: u64,
    rss_after: u64,
    deliveries: usize,
    expected: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
    cpu_s: f64,
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn print_table(rows: &[Row]) {
    println!(
        "{:>11}  {:>11}  {:>11}  {:>14}  {:>10}  {:>9}  {:>9}  {:>9}  {:>6}",
        "subscribers",
        "rss_before",
        "rss_after",
        "KiB/subscriber",
        "deliveries",
        "p50",
        "p99",
        "max",
        "cpu_s"
    );
    for r in rows {
        let per = (r.rss_after as f64 - r.rss_before as f64) / r.subscribers as f64;
        let deliveries = if r.deliveries == r.expected {
            r.deliveries.to_string()
        } else {
            format!("{}/{}", r.deliveries, r.expected)
        };
        println!(
            "{:>11}  {:>11}  {:>11}  {:>14.1}  {:>10}  {:>9}  {:>9}  {:>9}  {:>6.2}",
            r.subscribers,
            mib(r.rss_before),
            mib(r.rss_after),
            per,
            deliveries,
            ms(r.p50),
            ms(r.p99),
            ms(r.max),
            r.cpu_s
        );
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

async fn run(n: usize, students_wanted: usize, concurrency: usize, ticks: f64) -> Row {
    let http = reqwest::Client::new();
    let server = Server::start(&http).await;
    let base = server.base.clone();
    let pid = server.pid().to_string();
    let self_pid = std::process::id().to_string();

    let admin = gql(
        &http,
        &base,
        None,
        "mutation($i: SignInStaffInput!) { signInStaff(input: $i) { token } }",
        json!({ "i": { "username": ADMIN_USER, "password": ADMIN_PASS } }),
    )
    .await["signInStaff"]["token"]
        .as_str()
        .expect("admin token")
        .to_string();
    gql(&http, &base, Some(&admin), "mutation { createSchool(input: {code: \"10027\", name: \"北京师范大学\"}) { school { id } } }", json!({})).await;
    gql(&http, &base, Some(&admin), "mutation { createProject(input: {schoolCode: \"10027\", name: \"bench\", featureCode: \"BENCH\", mode: INDIVIDUAL, priceFen: 3000, orderNumberPrefix: \"000099\"}) { project { id } } }", json!({})).await;
    let photo = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/photos/obama_ok.jpg"),
    )
    .expect("fixture photo");
    let setup = Instant::now();
    let mut students = Vec::new();
    for i in 0..students_wanted {
        students.push(student(&http, &base, i, &photo).await);
    }
    println!(
        "  server pid {pid}: {} students with an order awaiting payment in {:.1} s",
        students.len(),
        setup.elapsed().as_secs_f64()
    );

    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = rss_kib(&pid);
    let arrivals = Arc::new(Arrivals {
        per_student: (0..students.len()).map(|_| AtomicUsize::new(0)).collect(),
        log: Mutex::new(Vec::with_capacity(n * EVENTS_PER_FIRING)),
        errors: AtomicUsize::new(0),
        closed: AtomicUsize::new(0),
    });
    let ws_url = format!("{}/graphql/ws", base.replace("http://", "ws://"));
    let tokens: Vec<String> = students.iter().map(|s| s.token.clone()).collect();
    let connect_started = Instant::now();
    let server_cpu_connect = cpu_secs(&pid, ticks);
    let mut listeners = Vec::with_capacity(n);
    let mut opened = futures::stream::iter(0..n)
        .map(|k| {
            let (url, token) = (ws_url.clone(), tokens[k % tokens.len()].clone());
            async move { (k, subscribe(&url, &token).await) }
        })
        .buffer_unordered(concurrency);
    while let Some((k, ws)) = opened.next().await {
        listeners.push(tokio::spawn(listen(
            ws,
            k % students.len(),
            arrivals.clone(),
        )));
    }
    drop(opened);
    let connect_secs = connect_started.elapsed().as_secs_f64();
    let server_cpu_connect = cpu_secs(&pid, ticks) - server_cpu_connect;
    tokio::time::sleep(IDLE).await;
    let rss_after = rss_kib(&pid);
    println!(
        "  {n} subscribed in {connect_secs:.1} s ({:.0}/s, server CPU {server_cpu_connect:.2} s); server RSS {} -> {} after {} s idle",
        n as f64 / connect_secs,
        mib(rss_before),
        mib(rss_after),
        IDLE.as_secs()
    );

    // Fire: one student at a time, each until all of its subscribers have both events.
    let mut subs_of = vec![0usize; students.len()];
    for k in 0..n {
        subs_of[k % students.len()] += 1;
    }
    let mut sent_at = Vec::with_capacity(students.len());
    let mut mutation_times = Vec::with_capacity(students.len());
    let mut incomplete = 0;
    let server_cpu0 = cpu_secs(&pid, ticks);
    let client_cpu0 = cpu_secs(&self_pid, ticks);
    let fire_started = Instant::now();
    for (i, s) in students.iter().enumerate() {
        let expected = EVENTS_PER_FIRING * subs_of[i];
        let t0 = Instant::now();
        sent_at.push(t0);
        let r = gql(
            &http,
            &base,
            Some(&s.token),
            "mutation($i: OrderIdInput!) { sandboxCompletePayment(input: $i) { order { status } userErrors { code message } } }",
            json!({ "i": { "orderId": s.order } }),
        )
        .await;
        mutation_times.push(t0.elapsed());
        assert_eq!(
            r["sandboxCompletePayment"]["order"]["status"], "PENDING_REVIEW",
            "{r}"
        );
        while arrivals.per_student[i].load(Ordering::SeqCst) < expected {
            if t0.elapsed() > DELIVERY_TIMEOUT {
                incomplete += 1;
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let fire_secs = fire_started.elapsed().as_secs_f64();
    let cpu_s = cpu_secs(&pid, ticks) - server_cpu0;
    let client_cpu = cpu_secs(&self_pid, ticks) - client_cpu0;
    // Late stragglers (after a timeout) are still counted.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut latencies: Vec<Duration> = arrivals
        .log
        .lock()
        .expect("lock")
        .iter()
        .map(|(s, at)| at.saturating_duration_since(sent_at[*s]))
        .collect();
    latencies.sort();
    mutation_times.sort();
    println!(
        "  fired {} sandboxCompletePayment in {fire_secs:.1} s (mutation round trip p50 {}, max {}); client CPU {client_cpu:.2} s; {} unexpected frames, {} sockets closed early{}",
        students.len(),
        ms(percentile(&mutation_times, 0.5)),
        ms(percentile(&mutation_times, 1.0)),
        arrivals.errors.load(Ordering::SeqCst),
        arrivals.closed.load(Ordering::SeqCst),
        if incomplete > 0 {
            format!("; {incomplete} students timed out")
        } else {
            String::new()
        }
    );
    for l in &listeners {
        l.abort();
    }
    for l in listeners {
        let _ = l.await;
    }
    drop(server);
    Row {
        subscribers: n,
        rss_before,
        rss_after,
        deliveries: latencies.len(),
        expected: n * EVENTS_PER_FIRING,
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        max: percentile(&latencies, 1.0),
        cpu_s,
    }
}

#[tokio::main]
async fn main() {
    campus_photo::integrations::http_client::install_crypto_provider();
    let runs: Vec<usize> = std::env::var("SUBSCRIBERS")
        .ok()
        .map(|v| {
            v.split(',')
                .filter_map(|n| n.trim().replace('_', "").parse().ok())
                .collect()
        })
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| vec![1_000, 10_000]);
    let students = env_or("BENCH_STUDENTS", 20usize).max(1);
    let concurrency = env_or("CONNECT_CONCURRENCY", 200usize).max(1);
    let ticks = clock_ticks();
    println!(
        "subscribers: orderUpdates over graphql-transport-ws, server in a child process on SQLite, {} cores; runs {runs:?}, {students} students, {concurrency} handshakes in flight",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut rows = Vec::new();
    for n in runs {
        println!("N = {n}");
        let row = run(n, students, concurrency, ticks).await;
        print_table(std::slice::from_ref(&row));
        rows.push(row);
    }
    println!();
    print_table(&rows);
}
