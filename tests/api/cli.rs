//! The binary itself: subcommands, configuration errors, serving and graceful shutdown.
use std::{process::Command, time::Duration};

const BIN: &str = env!("CARGO_BIN_EXE_campus-photo");

fn command(dir: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn");
    c
}

#[test]
fn schema_subcommand_prints_the_committed_sdl() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = command(dir.path()).arg("schema").output().expect("run");
    assert!(out.status.success());
    let committed = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/schema.graphql"),
    )
    .expect("schema");
    assert_eq!(String::from_utf8_lossy(&out.stdout), committed);
}

#[test]
fn bad_configuration_names_the_variable_and_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = command(dir.path())
        .arg("migrate")
        .env("DATABASE_URL", "mysql://nope")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("DATABASE_URL"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn migrate_and_demo_create_the_embedded_database_and_a_dev_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = command(dir.path()).arg("migrate").output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("data/campus-photo.db").exists());
    assert!(dir.path().join("data/secret.key").exists());
    let key = std::fs::read_to_string(dir.path().join("data/secret.key")).expect("key");

    let demo = command(dir.path()).arg("demo").output().expect("run");
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let text = String::from_utf8_lossy(&demo.stdout);
    assert!(
        text.contains("DEMO1")
            && text.contains("demo-reviewer")
            && text.contains("signInWithWeChat"),
        "{text}"
    );
    // Running it again is fine and keeps the secret.
    assert!(
        command(dir.path())
            .arg("demo")
            .output()
            .expect("run")
            .status
            .success()
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("data/secret.key")).expect("key"),
        key
    );
}

#[test]
fn serve_answers_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    // No subcommand: serving is the default.
    let mut child = command(dir.path())
        .env("CAMPUS_PHOTO_BIND", format!("127.0.0.1:{port}"))
        .env("CAMPUS_PHOTO_METRICS_BIND", "127.0.0.1:0")
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let body = loop {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            stream
                .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .expect("write");
            let mut text = String::new();
            stream.read_to_string(&mut text).expect("read");
            break text;
        }
        assert!(std::time::Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(body.contains("\"status\":\"ok\""), "{body}");
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "graceful shutdown exits 0, got {status}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn collection_code_issue_mints_a_verifiable_code_and_png() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_png = dir.path().join("code.png");
    let out = command(dir.path())
        .args([
            "collection-code",
            "issue",
            "--name",
            "王小明",
            "--id-number",
            "11010519491231002X",
            "--school-code",
            "10027",
        ])
        .args(["--expires", "2099-06-30", "--sid", "S-cli-1", "--out"])
        .arg(&out_png)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let keys =
        campus_photo_codes::token::KeyRing::parse(&campus_photo_codes::token::dev_keyring_entry())
            .expect("dev key");
    let claims = keys
        .verify(&text, chrono::Utc::now().timestamp())
        .expect("verifies with the default key");
    assert_eq!(claims.nm, "王*明");
    assert_eq!(claims.idm, "110105********002X");
    assert_eq!(claims.sid, "S-cli-1");
    assert_eq!(claims.sch, "10027");
    // The PNG reads back to the same text.
    let image = image::open(&out_png).expect("png");
    let read = campus_photo_codes::read_qr(&image, Duration::from_secs(5)).expect("QR reads");
    assert_eq!(read, text);

    let bad = command(dir.path())
        .args([
            "collection-code",
            "issue",
            "--name",
            "王小明",
            "--id-number",
            "110105194912310021",
            "--school-code",
            "10027",
        ])
        .output()
        .expect("run");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--id-number"));
}

/// SIGTERM while a request is being worked on and a subscriber is connected: the request still
/// gets its answer, the socket is closed with 1001 (going away), and the process exits 0.
#[tokio::test]
async fn sigterm_drains_requests_and_closes_sockets_with_going_away() {
    use futures::{SinkExt, StreamExt};
    use serde_json::{Value, json};
    use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

    let dir = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = command(dir.path())
        .env("CAMPUS_PHOTO_BIND", format!("127.0.0.1:{port}"))
        .env("CAMPUS_PHOTO_METRICS_BIND", "127.0.0.1:0")
        .spawn()
        .expect("spawn");
    let http = reqwest::Client::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while http.get(format!("{base}/health")).send().await.is_err() {
        assert!(std::time::Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let signed: Value = http
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": "mutation { signInWithWeChat(input: {code: \"wx-sigterm\", phoneCode: \"13800138000\", agreementVersion: \"2024.1\"}) { token } }" }))
        .send()
        .await
        .expect("sign in")
        .json()
        .await
        .expect("json");
    let token = signed["data"]["signInWithWeChat"]["token"]
        .as_str()
        .expect("token")
        .to_string();

    let mut request = format!("ws://127.0.0.1:{port}/graphql/ws")
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.expect("ws");
    ws.send(Message::text(
        json!({ "type": "connection_init", "payload": { "token": token } }).to_string(),
    ))
    .await
    .expect("init");
    let ack = ws.next().await.expect("ack").expect("frame");
    assert!(ack.to_string().contains("connection_ack"), "{ack}");
    ws.send(Message::text(
        json!({ "id": "u", "type": "subscribe", "payload": { "query": "subscription { orderUpdates { event } }" } })
            .to_string(),
    ))
    .await
    .expect("subscribe");

    // A slow request: reading a hard 12 MP QR photo takes most of a second.
    let picture = crate::common::fixture("qr/hard_07.jpg");
    let operations = json!({
        "query": "mutation($i: DecodeCollectionCodeInput!) { decodeCollectionCode(input: $i) { info { maskedName } userErrors { code } } }",
        "variables": { "i": { "image": null } },
    });
    let form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": ["variables.i.image"] }).to_string())
        .part(
            "0",
            reqwest::multipart::Part::bytes(picture).file_name("code.jpg"),
        );
    let request = http
        .post(format!("{base}/graphql"))
        .bearer_auth(&token)
        .multipart(form);
    let slow = tokio::spawn(async move {
        let answer = request.send().await;
        (std::time::Instant::now(), answer)
    });
    // Long enough for the upload to reach the server, well short of the reading.
    tokio::time::sleep(Duration::from_millis(350)).await;
    let pid = child.id().to_string();
    let signalled = std::time::Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );

    // The socket is told the server is going away.
    let close = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                other => panic!("socket ended without a close frame: {other:?}"),
            }
        }
    })
    .await
    .expect("close frame in time")
    .expect("a close code");
    assert_eq!(u16::from(close.code), 1001, "{close:?}");

    // The request in flight when the signal came still gets its whole answer.
    let (arrived, answer) = slow.await.expect("task");
    let answer = answer.expect("answered, not cut off");
    assert_eq!(answer.status(), 200);
    assert!(
        arrived > signalled,
        "the request finished before the signal, so it proves nothing about draining"
    );
    let body: Value = answer.json().await.expect("json");
    assert!(
        body["data"]["decodeCollectionCode"]["info"].is_object()
            || body["data"]["decodeCollectionCode"]["userErrors"].is_array(),
        "{body}"
    );
    let deadline = signalled + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "graceful shutdown exits 0, got {status}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // And nothing new is accepted.
    assert!(http.get(format!("{base}/health")).send().await.is_err());
}

#[test]
fn a_start_under_another_secret_key_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = command(dir.path()).arg("migrate").output().expect("run");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    // Another instance (or an operator) brings a key of its own to the same database.
    let other = command(dir.path())
        .arg("migrate")
        .env(
            "CAMPUS_PHOTO_SECRET_KEY",
            "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
        )
        .output()
        .expect("run");
    assert!(!other.status.success());
    let stderr = String::from_utf8_lossy(&other.stderr);
    assert!(
        stderr.contains("CAMPUS_PHOTO_SECRET_KEY") && stderr.contains("not the key"),
        "{stderr}"
    );
    // The original key still starts.
    let again = command(dir.path()).arg("migrate").output().expect("run");
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

#[test]
fn postgres_without_an_explicit_secret_key_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = command(dir.path())
        .arg("migrate")
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("CAMPUS_PHOTO_SECRET_KEY") && stderr.contains("PostgreSQL"),
        "{stderr}"
    );
    // Nothing was written: no key file was invented.
    assert!(!dir.path().join("data/secret.key").exists());
}

#[test]
fn serve_help_lists_every_variable_with_its_default_and_hides_secrets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = command(dir.path())
        .args(["serve", "--help"])
        .env(
            "CAMPUS_PHOTO_SECRET_KEY",
            "c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3Qtc2hvdw==",
        )
        .env("REDIS_URL", "redis://shown.example:6379")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let help = String::from_utf8_lossy(&out.stdout);
    for variable in campus_photo::config::variables::VARIABLES {
        assert!(
            help.contains(&format!("[env: {}", variable.name)),
            "{} missing:\n{help}",
            variable.name
        );
        if let Some(default) = variable.default {
            assert!(
                (help.contains(&format!("[default: {default}]"))
                    || help.contains(&format!("[default: \"{default}\"]"))),
                "{} default missing:\n{help}",
                variable.name
            );
        }
    }
    assert!(help.contains("--campus-photo-bind <VALUE>"), "{help}");
    assert!(help.contains("redis://shown.example:6379"), "{help}");
    assert!(!help.contains("c2VjcmV0LXZhbHVl"), "{help}");
}

#[test]
fn a_taken_port_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = command(dir.path())
        .arg("serve")
        .env("CAMPUS_PHOTO_BIND", &addr)
        .env("CAMPUS_PHOTO_METRICS_BIND", "off")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&addr) && stderr.contains("CAMPUS_PHOTO_BIND"),
        "{stderr}"
    );
    assert!(stderr.contains("another process holds it"), "{stderr}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port()
}

fn password_of(demo_output: &str, user: &str) -> String {
    demo_output
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix(user)
                .map(|rest| rest.trim().to_string())
        })
        .filter(|p| !p.is_empty() && !p.contains(' '))
        .unwrap_or_else(|| panic!("no password for {user} in\n{demo_output}"))
}

/// `demo` prints where the service is really served; running it again resets the staff
/// passwords and ends the sessions opened with the old ones. Logs written to a pipe carry no
/// colour codes.
#[tokio::test]
async fn demo_prints_the_real_url_and_a_rerun_ends_old_staff_sessions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let run_demo = |extra: &[(&str, &str)]| {
        let mut c = command(dir.path());
        c.arg("demo")
            .env("CAMPUS_PHOTO_BIND", format!("0.0.0.0:{port}"))
            .env("CAMPUS_PHOTO_METRICS_BIND", "off");
        for (k, v) in extra {
            c.env(k, v);
        }
        let out = c.output().expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let first = run_demo(&[]);
    // Listening on every address: the URL a browser can open is loopback.
    assert!(
        first.contains(&format!("http://127.0.0.1:{port}/playground")),
        "{first}"
    );
    let password = password_of(&first, "demo-admin");

    let server = command(dir.path())
        .arg("serve")
        .env("CAMPUS_PHOTO_BIND", format!("127.0.0.1:{port}"))
        .env("CAMPUS_PHOTO_METRICS_BIND", "off")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("serve");
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/graphql");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while http
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .await
        .is_err()
    {
        assert!(std::time::Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sign_in = serde_json::json!({
        "query": "mutation($u: String!, $p: String!) { signInStaff(input: {username: $u, password: $p}) { token userErrors { code } } }",
        "variables": { "u": "demo-admin", "p": password },
    });
    let body: serde_json::Value = http
        .post(&url)
        .json(&sign_in)
        .send()
        .await
        .expect("sign in")
        .json()
        .await
        .expect("json");
    let token = body["data"]["signInStaff"]["token"]
        .as_str()
        .expect("token")
        .to_string();
    let viewer = serde_json::json!({ "query": "{ viewer { account { username } } }" });
    let before: serde_json::Value = http
        .post(&url)
        .bearer_auth(&token)
        .json(&viewer)
        .send()
        .await
        .expect("viewer")
        .json()
        .await
        .expect("json");
    assert_eq!(
        before["data"]["viewer"]["account"]["username"], "demo-admin",
        "{before}"
    );

    let second = run_demo(&[("CAMPUS_PHOTO_PUBLIC_URL", "https://photo.example.edu.cn")]);
    assert!(
        second.contains("demo-admin: new password; 1 open session(s) ended"),
        "{second}"
    );
    assert!(
        second.contains("https://photo.example.edu.cn/playground"),
        "{second}"
    );
    let after: serde_json::Value = http
        .post(&url)
        .bearer_auth(&token)
        .json(&viewer)
        .send()
        .await
        .expect("viewer")
        .json()
        .await
        .expect("json");
    assert_eq!(
        after["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{after}"
    );

    let pid = server.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let out = tokio::task::spawn_blocking(move || server.wait_with_output())
        .await
        .expect("join")
        .expect("wait");
    let logs = String::from_utf8_lossy(&out.stdout);
    assert!(logs.contains("serving"), "{logs}");
    assert!(
        !logs.contains('\u{1b}'),
        "colour codes in piped logs: {logs:?}"
    );
}
