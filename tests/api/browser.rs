//! End to end in a real browser: Debian's Chromium, headless, driven over WebDriver
//! (chromedriver) against the server on localhost. The playground loads with no failed network
//! request and nothing from outside, example operations return data, and on the dashboard a
//! reviewer rejects an order while a second browser, subscribed as the student in the
//! playground, sees the rejection arrive without reloading. It also uploads a photo through the
//! playground's Files panel and follows a production batch on the dashboard. Screenshots of each
//! page go to `e2e/` in the target directory (`target/e2e/`).
//!
//! Without chromium/chromedriver the test says so loudly and passes, except when `CI` or
//! `REQUIRE_BROWSER=1` is set (`.ci/run` installs them and sets it): then it fails.
use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Value, json};

use crate::common::flow;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const WAIT: Duration = Duration::from_secs(30);

fn browser_required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
        || std::env::var_os("REQUIRE_BROWSER").is_some_and(|v| v == "1")
}

/// Where screenshots go: `<target dir>/e2e/`.
fn output_dir() -> PathBuf {
    let dir = option_env!("CARGO_TARGET_TMPDIR")
        .map(PathBuf::from)
        .and_then(|tmp| tmp.parent().map(|p| p.join("e2e")))
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/e2e"));
    std::fs::create_dir_all(&dir).expect("e2e output dir");
    dir
}

/// chromedriver on a free local port, stopped on drop.
struct Driver {
    child: Child,
    url: String,
    http: reqwest::Client,
}

impl Drop for Driver {
    /// Ends chromedriver and every Chromium it started (they share its process group), even
    /// when the test failed before closing its sessions.
    fn drop(&mut self) {
        #[cfg(unix)]
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start() -> Result<Self, String> {
        for tool in [CHROMIUM, CHROMEDRIVER] {
            if !Path::new(tool).exists() {
                return Err(format!(
                    "{tool} is missing (apt-get install chromium chromium-driver)"
                ));
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let mut command = Command::new(CHROMEDRIVER);
        command
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group, so that dropping the driver ends the browsers too.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command
            .spawn()
            .map_err(|e| format!("chromedriver did not start: {e}"))?;
        let driver = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = driver
                .http
                .get(format!("{}/status", driver.url))
                .send()
                .await
                && let Ok(status) = r.json::<Value>().await
                && status["value"]["ready"] == true
            {
                return Ok(driver);
            }
            if Instant::now() > deadline {
                return Err("chromedriver never became ready".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A new browser with its own fresh profile (its own cookies and storage).
    async fn session(&self, profile: &Path) -> Result<Browser, String> {
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--no-first-run",
                    "--disable-dev-shm-usage",
                    "--window-size=1400,1000",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
            "goog:loggingPrefs": { "performance": "ALL", "browser": "ALL" },
        }}});
        let response: Value = self
            .http
            .post(format!("{}/session", self.url))
            .json(&capabilities)
            .send()
            .await
            .map_err(|e| format!("new session: {e}"))?
            .json()
            .await
            .map_err(|e| format!("new session: {e}"))?;
        let id = response["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| format!("chromium did not start: {response}"))?;
        let browser = Browser {
            http: self.http.clone(),
            base: format!("{}/session/{id}", self.url),
        };
        // What Chromium's start page did is not ours to judge.
        browser.goto("about:blank").await;
        browser.log("performance").await;
        browser.log("browser").await;
        Ok(browser)
    }
}

struct Browser {
    http: reqwest::Client,
    base: String,
}

impl Browser {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response: Value = request
            .send()
            .await
            .expect("webdriver request")
            .json()
            .await
            .expect("webdriver answer");
        if response["value"]["error"].is_string() {
            panic!("webdriver {path}: {}", response["value"]);
        }
        response["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    async fn js(&self, script: &str, args: Value) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
        .await
    }

    /// Polls `script` (a function body) until it returns something truthy, and returns it.
    async fn wait_for(&self, what: &str, script: &str, args: Value) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let value = self.js(script, args.clone()).await;
            let truthy = match &value {
                Value::Null | Value::Bool(false) => false,
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return value;
            }
            if Instant::now() > deadline {
                let shot = output_dir().join("timeout.png");
                self.screenshot(&shot).await;
                panic!(
                    "timed out waiting for {what} (screenshot: {})",
                    shot.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn screenshot(&self, path: &Path) {
        let png = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = STANDARD
            .decode(png.as_str().expect("base64 screenshot"))
            .expect("screenshot decodes");
        std::fs::write(path, bytes).expect("write screenshot");
        eprintln!("screenshot: {}", path.display());
    }

    /// The log entries of `kind` ("performance" or "browser") since the last call.
    async fn log(&self, kind: &str) -> Vec<Value> {
        let entries = self
            .call(
                reqwest::Method::POST,
                "/se/log",
                Some(json!({ "type": kind })),
            )
            .await;
        entries.as_array().cloned().unwrap_or_default()
    }

    /// Every request the page made since the last look went to `origin` and succeeded, and the
    /// console logged no error. Returns the URLs requested.
    async fn assert_network_clean(&self, origin: &str, page: &str) -> Vec<String> {
        let mut requested = Vec::new();
        let mut failures = Vec::new();
        let mut urls = std::collections::HashMap::new();
        for entry in self.log("performance").await {
            let Some(message) = entry["message"].as_str() else {
                continue;
            };
            let Ok(message) = serde_json::from_str::<Value>(message) else {
                continue;
            };
            let params = &message["message"]["params"];
            match message["message"]["method"].as_str().unwrap_or_default() {
                "Network.requestWillBeSent" => {
                    let url = params["request"]["url"].as_str().unwrap_or_default();
                    // Browser-internal schemes (data:, blob:, chrome:) are not the network.
                    let network = url.starts_with("http:") || url.starts_with("https:");
                    if network && !url.starts_with(origin) {
                        failures.push(format!("request outside the server: {url}"));
                    }
                    urls.insert(params["requestId"].to_string(), url.to_owned());
                    requested.push(url.to_owned());
                }
                "Network.responseReceived" => {
                    let status = params["response"]["status"].as_i64().unwrap_or_default();
                    if status >= 400 {
                        failures.push(format!(
                            "{status} for {}",
                            params["response"]["url"].as_str().unwrap_or_default()
                        ));
                    }
                }
                "Network.loadingFailed" => {
                    match urls.get(&params["requestId"].to_string()) {
                        Some(url) => failures.push(format!("loading {url} failed: {params}")),
                        // Chromium's own start page, sent before our page was loaded.
                        None => {
                            eprintln!("(ignored: a request from before this page failed: {params})")
                        }
                    }
                }
                "Network.webSocketFrameError" => {
                    failures.push(format!("websocket error: {params}"));
                }
                _ => {}
            }
        }
        for entry in self.log("browser").await {
            if entry["level"] == "SEVERE" {
                failures.push(format!("console error: {}", entry["message"]));
            }
        }
        assert!(failures.is_empty(), "{page}: {failures:#?}");
        requested
    }

    async fn quit(&self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}

/// A JavaScript expression: the text of the playground's response pane.
const RESPONSE: &str = "(() => { const cm = document.querySelector('.result-window .CodeMirror'); \
     return cm && cm.CodeMirror ? cm.CodeMirror.getValue() : ''; })()";

/// Loads an example from the Examples panel by file name and runs it.
async fn run_example(browser: &Browser, file: &str) {
    load_example(browser, file).await;
    browser
        .js(
            "document.querySelector('.graphiql-execute-button').click(); return true;",
            json!([]),
        )
        .await;
}

/// Loads an example from the Examples panel by file name.
async fn load_example(browser: &Browser, file: &str) {
    browser
        .wait_for(
            &format!("example {file} in the Examples panel"),
            "const b = document.querySelector(`[data-example=\"${arguments[0]}\"]`);
             if (!b) {
                 const show = document.querySelector('[aria-label=\"Show Examples\"]');
                 if (show) show.click();
                 return false;
             }
             b.click(); return true;",
            json!([file]),
        )
        .await;
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("playground/examples")
            .join(file),
    )
    .expect("example file");
    let first_line = text.lines().next().unwrap_or_default().to_owned();
    browser
        .wait_for(
            &format!("{file} in the query editor"),
            "const cm = document.querySelector('.graphiql-query-editor .CodeMirror');
             return cm && cm.CodeMirror.getValue().startsWith(arguments[0]);",
            json!([first_line]),
        )
        .await;
}

#[tokio::test]
async fn playground_and_dashboard_in_chromium() {
    let driver = match Driver::start().await {
        Ok(d) => d,
        Err(why) if !browser_required() => {
            eprintln!(
                "\n*** SKIPPED the browser test: {why}. Install them with \
                 `apt-get install chromium chromium-driver`; with CI or REQUIRE_BROWSER=1 set \
                 this fails instead. ***\n"
            );
            return;
        }
        Err(why) => panic!("the browser test needs Chromium: {why}"),
    };
    if !campus_photo::http::playground::BUNDLED {
        assert!(
            !browser_required(),
            "the playground was built without npm: CI needs the bundle"
        );
        eprintln!(
            "\n*** SKIPPED the browser test: this build has no bundled playground (npm) ***\n"
        );
        return;
    }
    let out = output_dir();
    let profiles = tempfile::tempdir().expect("profiles");

    // A school, a reviewer, and a student whose paid order waits for review. The student signs
    // in with the sandbox code of example 01, so the playground signs in as the same account.
    let shop = flow::shop().await;
    let app = &shop.app;
    app.staff(&shop.admin, "reviewer1", "REVIEWER", Some("10027"))
        .await;
    let student = shop.student("demo-student").await;
    let order = shop.paid_order(&student).await;
    let origin = app.url("");
    let origin = origin.trim_end_matches('/');

    // --- the student's browser: the playground ---------------------------------------------
    let student_browser = driver
        .session(&profiles.path().join("student"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    student_browser.goto(&app.url("/playground")).await;
    student_browser
        .wait_for(
            "GraphiQL with the examples",
            "return document.querySelectorAll('[data-example]').length >= 12
                 && document.querySelector('.graphiql-execute-button') !== null;",
            json!([]),
        )
        .await;
    // The Docs pane: GraphiQL's own standard introspection is answered, so the schema loads
    // and the root types are listed (it used to say "Error fetching schema").
    let docs = student_browser
        .wait_for(
            "the Docs pane with the root types",
            "const pane = document.querySelector('.graphiql-doc-explorer');
             if (!pane) {
                 const show = document.querySelector('[aria-label=\"Show Documentation Explorer\"]');
                 if (show) show.click();
                 return false;
             }
             const text = pane.textContent;
             return text.includes('Root Types') && text.includes('Query')
                 && text.includes('Mutation') && text.includes('Subscription') && text;",
            json!([]),
        )
        .await;
    assert!(
        !docs
            .as_str()
            .unwrap_or_default()
            .contains("Error fetching schema"),
        "{docs}"
    );
    student_browser
        .screenshot(&out.join("playground-docs.png"))
        .await;
    // Back to the editor's own panel, so the Examples panel opens as before.
    student_browser
        .js(
            "const show = document.querySelector('[aria-label=\"Hide Documentation Explorer\"]');
             if (show) show.click(); return true;",
            json!([]),
        )
        .await;
    // Example 01 signs in (a mutation); the token lands in the Headers tab.
    run_example(&student_browser, "01-student-sign-in.graphql").await;
    let response = student_browser
        .wait_for(
            "the sign-in response",
            &format!("const text = {RESPONSE}; return text.includes('\"token\"') && text;"),
            json!([]),
        )
        .await;
    assert!(
        response.as_str().unwrap_or_default().contains("STUDENT"),
        "{response}"
    );
    student_browser
        .wait_for(
            "the token in the Headers tab",
            "return [...document.querySelectorAll('.CodeMirror')]
                 .some(e => e.CodeMirror.getValue().includes('Bearer '));",
            json!([]),
        )
        .await;
    // Example 10 is a query that returns the student's order.
    run_example(&student_browser, "10-my-orders.graphql").await;
    let number = order["number"].as_str().expect("order number").to_owned();
    student_browser
        .wait_for(
            "the student's orders",
            &format!("return {RESPONSE}.includes(arguments[0]);"),
            json!([number]),
        )
        .await;
    // Example 05 uploads a photo: the Files panel attaches it, the request goes out multipart.
    load_example(&student_browser, "05-upload-photo.graphql").await;
    let input = student_browser
        .wait_for(
            "the Files panel with the upload variable",
            "return document.querySelector('.cp-file input[type=file]');",
            json!([]),
        )
        .await;
    let element = input
        .as_object()
        .and_then(|o| o.values().next())
        .and_then(Value::as_str)
        .expect("an element reference")
        .to_owned();
    let photo =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/photos/obama_ok.jpg");
    student_browser
        .call(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": photo.display().to_string() })),
        )
        .await;
    student_browser
        .wait_for(
            "the variables with the enrollment id",
            "const cm = [...document.querySelectorAll('.CodeMirror')]
                 .find(e => !e.closest('.graphiql-query-editor')
                     && e.CodeMirror.getValue().includes('<enrollment id from step 3>'));
             if (!cm) return false;
             cm.CodeMirror.setValue(cm.CodeMirror.getValue()
                 .replace('<enrollment id from step 3>', arguments[0]));
             document.querySelector('.graphiql-execute-button').click();
             return true;",
            json!([student.enrollment]),
        )
        .await;
    student_browser
        .wait_for(
            "the uploaded photo's check",
            &format!(
                "const text = {RESPONSE};
                 return text.includes('\"verdict\": \"PASSED\"') && text.includes('previewUrl') && text;"
            ),
            json!([]),
        )
        .await;
    student_browser
        .screenshot(&out.join("playground-upload.png"))
        .await;
    // Example 09 subscribes over /graphql/ws with the token from the Headers tab.
    run_example(&student_browser, "09-subscribe-order-updates.graphql").await;
    let requested = student_browser
        .assert_network_clean(origin, "the playground")
        .await;
    assert!(
        requested.iter().any(|u| u.contains("/playground/assets/")),
        "the bundle came from the binary: {requested:#?}"
    );
    student_browser
        .screenshot(&out.join("playground.png"))
        .await;

    // --- the reviewer's browser: the dashboard ---------------------------------------------
    let reviewer = driver
        .session(&profiles.path().join("reviewer"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    reviewer.goto(&app.url("/dashboard")).await;
    reviewer
        .wait_for(
            "the sign-in form",
            "return document.querySelector('#signin-form') !== null;",
            json!([]),
        )
        .await;
    reviewer
        .js(
            "document.querySelector('#username').value = 'reviewer1';
             document.querySelector('#password').value = 'staff-password-123';
             document.querySelector('#signin-button').click(); return true;",
            json!([]),
        )
        .await;
    reviewer
        .wait_for(
            "queueStats live with one order to review",
            "return document.querySelector('#live').textContent === 'live'
                 && document.querySelector('[data-stat=pendingReview]').textContent === '1';",
            json!([]),
        )
        .await;
    reviewer
        .js(
            "document.querySelector('#claim').click(); return true;",
            json!([]),
        )
        .await;
    reviewer
        .wait_for(
            "the claimed order with its photo and measures",
            "const t = document.querySelector('.task');
             return t && t.dataset.orderNumber === arguments[0]
                 && t.querySelector('.photo').complete && t.querySelector('.photo').naturalWidth > 0
                 && t.querySelectorAll('.measures tbody tr').length > 0
                 && t.querySelectorAll('.reason option').length > 0;",
            json!([number]),
        )
        .await;
    // The review fixes: no reason chosen in advance, the measures in Chinese, the original
    // beside the standard render, a countdown on the claim; 待审核 and 审核中 apart.
    let review = reviewer
        .js(
            "const t = document.querySelector('.task');
             const original = t.querySelector('.original-photo');
             return {
                 reason: t.querySelector('.reason').value,
                 measure: t.querySelector('.measures tbody td').textContent,
                 original: original.complete && original.naturalWidth > 0,
                 countdown: t.querySelector('.countdown').textContent,
             };",
            json!([]),
        )
        .await;
    assert_eq!(review["reason"], "", "{review}");
    assert!(
        review["measure"]
            .as_str()
            .is_some_and(|m| !m.contains('_') && !m.is_ascii()),
        "{review}"
    );
    assert!(
        review["original"] == true
            || reviewer
                .wait_for(
                    "the original photo",
                    "const i = document.querySelector('.task .original-photo');
                     return i.complete && i.naturalWidth > 0;",
                    json!([]),
                )
                .await
                == true,
        "{review}"
    );
    assert!(
        review["countdown"]
            .as_str()
            .is_some_and(|c| c.starts_with("剩余 4:") || c.starts_with("剩余 5:")),
        "{review}"
    );
    // Rejecting without a reason is refused on the page, before any request.
    let refused = reviewer
        .js(
            "const t = document.querySelector('.task');
             t.querySelector('.reject').click();
             return t.querySelector('.outcome').textContent;",
            json!([]),
        )
        .await;
    assert_eq!(refused, "请先选择驳回原因。");
    // The claim shows in the live counts without a reload.
    reviewer
        .wait_for(
            "queueStats to show the claim, apart from the unclaimed",
            "return document.querySelector('[data-stat=claimed]').textContent === '1'
                 && document.querySelector('[data-stat=pendingReview]').textContent === '0';",
            json!([]),
        )
        .await;
    let reason = reviewer
        .js(
            "const t = document.querySelector('.task');
             const select = t.querySelector('.reason');
             const wanted = [...select.options].find(o => o.value === 'POSE_PITCH') || select.options[0];
             select.value = wanted.value;
             t.querySelector('.note').value = '请平视镜头';
             t.querySelector('.reject').click();
             return wanted.value;",
            json!([]),
        )
        .await;
    let reason = reason.as_str().expect("a reason code").to_owned();
    reviewer
        .wait_for(
            "the rejection on the dashboard",
            "const t = document.querySelector('.task');
             return t && t.dataset.status === 'REJECTED';",
            json!([]),
        )
        .await;
    reviewer
        .wait_for(
            "queueStats to count the rejection",
            "return document.querySelector('[data-stat=rejected]').textContent === '1';",
            json!([]),
        )
        .await;
    // The decided card stays where it was (nothing moves under the pointer).
    assert_eq!(
        reviewer
            .js(
                "return document.querySelectorAll('.task.done').length;",
                json!([])
            )
            .await,
        json!(1)
    );
    reviewer.screenshot(&out.join("dashboard.png")).await;
    reviewer.assert_network_clean(origin, "the dashboard").await;

    // --- approve another order, then follow its production batch as an admin ---------------
    let second = shop.student_with_photo("wx-second", "obama_ok.jpg").await;
    let second_order = shop.paid_order(&second).await;
    let second_number = second_order["number"].as_str().expect("number").to_owned();
    reviewer
        .wait_for(
            "queueStats to show the new order without a reload",
            "return document.querySelector('[data-stat=pendingReview]').textContent === '1';",
            json!([]),
        )
        .await;
    reviewer
        .js(
            "document.querySelector('#claim').click(); return true;",
            json!([]),
        )
        .await;
    reviewer
        .wait_for(
            "the second order, approved",
            "const t = document.querySelector(`.task[data-order-number=\"${arguments[0]}\"]`);
             if (!t) return false;
             if (!t.dataset.clicked) { t.dataset.clicked = '1'; t.querySelector('.approve').click(); }
             return t.dataset.status === 'PENDING_PRODUCTION';",
            json!([second_number]),
        )
        .await;
    reviewer
        .js(
            "document.querySelector('#sign-out').click();
             document.querySelector('#username').value = arguments[0];
             document.querySelector('#password').value = arguments[1];
             document.querySelector('#signin-button').click(); return true;",
            json!([crate::common::ADMIN_USER, crate::common::ADMIN_PASS]),
        )
        .await;
    reviewer
        .wait_for(
            "the admin's dashboard, live",
            "return document.querySelector('#live').textContent === 'live'
                 && document.querySelector('#who-name').textContent.includes('ADMIN');",
            json!([]),
        )
        .await;
    reviewer
        .js(
            "const school = document.querySelector('#school');
             school.value = '10027';
             school.dispatchEvent(new Event('change'));
             document.querySelector('#start-batch').click(); return true;",
            json!([]),
        )
        .await;
    reviewer
        .wait_for(
            "the batch's progress to the end",
            "const counts = document.querySelector('#batch-counts').textContent;
             return counts.includes('1 done') && counts.includes('finished') && counts;",
            json!([]),
        )
        .await;
    reviewer
        .wait_for(
            "queueStats to count the completed order",
            "return document.querySelector('[data-stat=completed]').textContent === '1';",
            json!([]),
        )
        .await;
    reviewer
        .screenshot(&out.join("dashboard-production.png"))
        .await;
    reviewer
        .assert_network_clean(origin, "the dashboard's production")
        .await;

    // --- the student's browser sees it, without a reload -----------------------------------
    let seen = student_browser
        .wait_for(
            "the rejection in the student's subscription",
            &format!(
                "const text = {RESPONSE};
                 return text.includes('REJECTED') && text.includes(arguments[0]) && text;"
            ),
            json!([reason]),
        )
        .await;
    assert!(
        seen.as_str().unwrap_or_default().contains(&number),
        "{seen}"
    );
    let url: Value = student_browser
        .call(reqwest::Method::GET, "/url", None)
        .await;
    assert!(
        url.as_str().unwrap_or_default().contains("/playground"),
        "no navigation: {url}"
    );
    student_browser
        .screenshot(&out.join("playground-rejection.png"))
        .await;
    student_browser
        .assert_network_clean(origin, "the playground after the rejection")
        .await;

    student_browser.quit().await;
    reviewer.quit().await;
}

// --- the operators' console -------------------------------------------------------------------

/// Signs `username` in on an open dashboard and waits for its pages.
async fn dashboard_sign_in(browser: &Browser, username: &str, password: &str) {
    browser
        .wait_for(
            "the sign-in form",
            "const form = document.querySelector('#signin-form');
             return form !== null && !document.querySelector('#signin').hidden;",
            json!([]),
        )
        .await;
    browser
        .js(
            "document.querySelector('#username').value = arguments[0];
             document.querySelector('#password').value = arguments[1];
             document.querySelector('#signin-button').click(); return true;",
            json!([username, password]),
        )
        .await;
    browser
        .wait_for(
            &format!("{username}'s dashboard, live"),
            "return document.querySelector('#live').textContent === 'live'
                 && document.querySelector('#who-name').textContent.startsWith(arguments[0]);",
            json!([username]),
        )
        .await;
}

/// The pages the navigation offers (`data-page` of the visible buttons).
async fn pages(browser: &Browser) -> Vec<String> {
    let shown = browser
        .js(
            "return [...document.querySelectorAll('#nav button')]
                 .filter(b => !b.hidden && b.offsetParent !== null).map(b => b.dataset.page);",
            json!([]),
        )
        .await;
    serde_json::from_value(shown).expect("page names")
}

async fn open_page(browser: &Browser, page: &str) {
    browser
        .js(
            "document.querySelector(`#nav button[data-page=\"${arguments[0]}\"]`).click(); return true;",
            json!([page]),
        )
        .await;
    browser
        .wait_for(
            &format!("the {page} page"),
            "return !document.querySelector(`#page-${arguments[0]}`).hidden;",
            json!([page]),
        )
        .await;
}

/// A hotline agent finds a student by the last 4 digits of the phone; a producer ships a print
/// and the student's print order shows it; an admin closes the project (a student then gets
/// PROJECT_CLOSED), follows the school's progress and the reviewers' charts, and disables the
/// reviewer, whose open dashboard returns to the sign-in screen. Each role sees only its pages.
#[tokio::test]
async fn operators_console_in_chromium() {
    use crate::common::{ADMIN_PASS, ADMIN_USER, TestApp, fixture_code_keys, project_input};

    let driver = match Driver::start().await {
        Ok(d) => d,
        Err(why) if !browser_required() => {
            eprintln!("\n*** SKIPPED the console browser test: {why} ***\n");
            return;
        }
        Err(why) => panic!("the browser test needs Chromium: {why}"),
    };
    let out = output_dir();
    let profiles = tempfile::tempdir().expect("profiles");

    // A school whose project sells prints, a hotline agent (a reviewer), a producer, and a
    // student whose order went all the way to COMPLETED and who bought a print, paid.
    let app = TestApp::spawn_with(
        |v| {
            v.insert("COLLECTION_CODE_KEYS".into(), fixture_code_keys());
        },
        Default::default(),
    )
    .await;
    let admin = app.admin_token().await;
    app.create_school(&admin, "10027", "北京师范大学").await;
    let mut input = project_input("10027", "BNU27", "000015");
    input["printLayouts"] = json!([{ "code": "1IN-8", "name": "一寸 8张", "priceFen": 1000 }]);
    let created = app.create_project(&admin, input).await;
    assert_eq!(created["userErrors"], json!([]), "{created}");
    let shop = flow::Shop { app, admin };
    let app = &shop.app;
    let password = "staff-password-123";
    let hotline = app
        .staff(&shop.admin, "hotline", "REVIEWER", Some("10027"))
        .await;
    let producer = app
        .staff(&shop.admin, "maker", "PRODUCER", Some("10027"))
        .await;
    let student = shop.student("console-student").await;
    let order = shop.paid_order(&student).await;
    let order_number = order["number"].as_str().expect("number").to_owned();
    shop.produce_all(&hotline, &producer, 1).await;
    shop.wait_for_status(&student.token, &order["id"], "COMPLETED")
        .await;
    let print = app
        .data(
            Some(&student.token),
            "mutation($i: CreatePrintOrderInput!) { createPrintOrder(input: $i) { printOrder { id number } userErrors { code message } } }",
            json!({ "i": { "orderId": order["id"], "layoutCode": "1IN-8", "quantity": 1, "address": {
                "name": "张小三", "phone": "13912345678", "province": "北京市", "city": "北京市",
                "district": "海淀区", "detail": "新街口外大街19号" } } }),
        )
        .await["createPrintOrder"]
        .clone();
    assert_eq!(print["userErrors"], json!([]), "{print}");
    let print_number = print["printOrder"]["number"]
        .as_str()
        .expect("print number")
        .to_owned();
    for step in ["createPayment", "sandboxCompletePayment"] {
        let paid = app
            .data(
                Some(&student.token),
                &format!("mutation($i: OrderIdInput!) {{ {step}(input: $i) {{ userErrors {{ code message }} }} }}"),
                json!({ "i": { "orderId": print["printOrder"]["id"] } }),
            )
            .await;
        assert_eq!(paid[step]["userErrors"], json!([]), "{paid}");
    }
    // A second student paid and then changed their mind: the admin refunds the order.
    let changed_mind = shop.student("console-refund").await;
    let to_refund = shop.paid_order(&changed_mind).await;
    let refund_number = to_refund["number"].as_str().expect("number").to_owned();
    let ticket = app
        .data(
            Some(&student.token),
            "mutation($i: OpenSupportTicketInput!) { openSupportTicket(input: $i) { ticket { id } userErrors { code message } } }",
            json!({ "i": { "orderId": order["id"], "subject": "照片什么时候寄到", "text": "请问冲印的照片什么时候寄出？" } }),
        )
        .await["openSupportTicket"]
        .clone();
    assert_eq!(ticket["userErrors"], json!([]), "{ticket}");
    let origin = app.url("");
    let origin = origin.trim_end_matches('/');

    // --- the hotline agent finds the student by the last 4 digits of the phone ---------------
    let agent = driver
        .session(&profiles.path().join("hotline"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    agent.goto(&app.url("/dashboard")).await;
    dashboard_sign_in(&agent, "hotline", password).await;
    let shown = pages(&agent).await;
    assert!(
        shown.contains(&"search".to_owned()) && shown.contains(&"review".to_owned()),
        "{shown:?}"
    );
    for forbidden in [
        "projects", "staff", "progress", "refunds", "quality", "shipping",
    ] {
        assert!(
            !shown.contains(&forbidden.to_owned()),
            "a reviewer sees {forbidden}: {shown:?}"
        );
    }
    open_page(&agent, "search").await;
    agent
        .js(
            "document.querySelector('#search-query').value = '8000';
             document.querySelector('#search-button').click(); return true;",
            json!([]),
        )
        .await;
    let found = agent
        .wait_for(
            "the student found by the phone's last 4 digits",
            "const row = [...document.querySelectorAll('#search-table tr.student')]
                 .find(r => r.textContent.includes(arguments[0]));
             return row && row.textContent;",
            json!([order_number]),
        )
        .await;
    let found = found.as_str().unwrap_or_default();
    assert!(found.contains("138****8000"), "masked phone: {found}");
    // Operators' buttons are not a reviewer's.
    assert_eq!(
        agent
            .js(
                "return document.querySelectorAll('#search-table .grant').length;",
                json!([])
            )
            .await,
        json!(0)
    );
    agent.screenshot(&out.join("console-search.png")).await;
    agent.assert_network_clean(origin, "the search page").await;

    // ... and answers the student's ticket, closing it.
    open_page(&agent, "support").await;
    agent
        .wait_for(
            "the student's ticket, answered and closed",
            "const card = document.querySelector(`.ticket[data-ticket-id=\"${arguments[0]}\"]`);
             if (!card) return false;
             if (card.classList.contains('closed')) return true;
             if (!card.dataset.clicked) {
                 card.dataset.clicked = '1';
                 card.querySelector('.reply').value = '已发货，请留意快递。';
                 card.querySelector('.close').click();
             }
             return false;",
            json!([ticket["ticket"]["id"]]),
        )
        .await;
    agent.screenshot(&out.join("console-support.png")).await;
    let tickets = app
        .data(
            Some(&student.token),
            "{ viewer { supportTickets { open messages { authorRole text } } } }",
            json!({}),
        )
        .await;
    let mine = &tickets["viewer"]["supportTickets"][0];
    assert_eq!(mine["open"], false, "{tickets}");
    assert_eq!(
        mine["messages"][1]["text"], "已发货，请留意快递。",
        "{tickets}"
    );

    // --- the producer ships the print; the student's print order shows it ------------------
    let maker = driver
        .session(&profiles.path().join("producer"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    maker.goto(&app.url("/dashboard")).await;
    dashboard_sign_in(&maker, "maker", password).await;
    let shown = pages(&maker).await;
    assert!(
        shown.contains(&"shipping".to_owned()) && !shown.contains(&"review".to_owned()),
        "{shown:?}"
    );
    open_page(&maker, "shipping").await;
    maker
        .wait_for(
            "the paid print order, shipped",
            "const row = document.querySelector(`#ship-table tr[data-print-number=\"${arguments[0]}\"]`);
             if (!row) return false;
             if (!row.dataset.clicked) {
                 row.dataset.clicked = '1';
                 row.querySelector('.carrier').value = '顺丰速运';
                 row.querySelector('.tracking').value = 'SF1234567890';
                 row.querySelector('.ship').click();
             }
             return row.dataset.status === 'SHIPPED';",
            json!([print_number]),
        )
        .await;
    maker.screenshot(&out.join("console-shipping.png")).await;
    // The completed order goes to the registry export, with its download link.
    open_page(&maker, "registry").await;
    maker
        .js(
            "document.querySelector('#registry-export').click(); return true;",
            json!([]),
        )
        .await;
    let link = maker
        .wait_for(
            "the registry export's download link",
            "const a = document.querySelector('#registry-list a.download');
             return a && a.href;",
            json!([]),
        )
        .await;
    assert!(
        link.as_str().unwrap_or_default().starts_with(origin),
        "{link}"
    );
    maker
        .assert_network_clean(origin, "the shipping page")
        .await;
    let mine = app
        .data(
            Some(&student.token),
            "{ viewer { printOrders { number status statusLabel carrier trackingNumber shippedAt } } }",
            json!({}),
        )
        .await;
    let mine = &mine["viewer"]["printOrders"][0];
    assert_eq!(mine["number"], print_number.as_str(), "{mine}");
    assert_eq!(mine["status"], "SHIPPED", "{mine}");
    assert_eq!(mine["carrier"], "顺丰速运", "{mine}");
    assert_eq!(mine["trackingNumber"], "SF1234567890", "{mine}");
    maker.quit().await;

    // --- the admin closes the project; a student then gets PROJECT_CLOSED ------------------
    let admin_browser = driver
        .session(&profiles.path().join("admin"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    admin_browser.goto(&app.url("/dashboard")).await;
    dashboard_sign_in(&admin_browser, ADMIN_USER, ADMIN_PASS).await;
    let shown = pages(&admin_browser).await;
    for page in [
        "review",
        "production",
        "registry",
        "shipping",
        "support",
        "refunds",
        "search",
        "progress",
        "projects",
        "staff",
        "quality",
    ] {
        assert!(
            shown.contains(&page.to_owned()),
            "admin: {page} in {shown:?}"
        );
    }
    open_page(&admin_browser, "projects").await;
    admin_browser
        .wait_for(
            "the project closed after a confirming second click",
            "const row = document.querySelector('#projects-table tr[data-project-id]');
             if (!row) return false;
             if (row.dataset.closed === 'true') return true;
             const button = row.querySelector('.close-project');
             if (button && !button.dataset.clicks) {
                 button.dataset.clicks = '1';
                 button.click();
                 button.click();
             }
             return false;",
            json!([]),
        )
        .await;
    // The edit form extends the collection window.
    admin_browser
        .js(
            "const row = document.querySelector('#projects-table tr[data-project-id]');
             row.querySelector('.edit').click();
             document.querySelector('#pf-extend').value = '2031-06-30T12:00';
             document.querySelector('#pf-extend-button').click(); return true;",
            json!([]),
        )
        .await;
    admin_browser
        .wait_for(
            "the project extended",
            "return document.querySelector('#project-form-status').textContent.startsWith('已延期至 2031');",
            json!([]),
        )
        .await;
    admin_browser
        .screenshot(&out.join("console-projects.png"))
        .await;
    let late = app.sign_in_student("console-late", "13900139000").await;
    let added = app
        .data(
            Some(&late),
            "mutation($i: AddEnrollmentInput!) { addEnrollment(input: $i) { enrollment { id } userErrors { code } } }",
            json!({ "i": { "collectionCode": crate::common::mint_code(|_| {}), "idNumberLast4": "123X", "featureCode": "BNU27" } }),
        )
        .await;
    assert_eq!(
        added["addEnrollment"]["userErrors"][0]["code"], "PROJECT_CLOSED",
        "{added}"
    );

    // --- a refund, found by the order number --------------------------------------------
    open_page(&admin_browser, "refunds").await;
    admin_browser
        .js(
            "document.querySelector('#refund-number').value = arguments[0];
             document.querySelector('#refund-form button[type=submit]').click(); return true;",
            json!([refund_number]),
        )
        .await;
    admin_browser
        .wait_for(
            "the order refunded",
            "const button = document.querySelector('#refund-order .refund');
             if (!button) return false;
             if (!button.dataset.clicked) {
                 button.dataset.clicked = '1';
                 document.querySelector('#refund-order .refund-reason').value = '学生申请退款，已电话核实';
                 button.click();
             }
             return button.disabled;",
            json!([]),
        )
        .await;
    shop.wait_for_status(&changed_mind.token, &to_refund["id"], "REFUNDED")
        .await;
    admin_browser
        .wait_for(
            "the refund in the list (reloaded after the refund)",
            "return document.querySelector('#refund-table tbody').textContent.includes(arguments[0]);",
            json!([refund_number]),
        )
        .await;
    admin_browser
        .screenshot(&out.join("console-refunds.png"))
        .await;

    // --- school progress and the reviewers' charts ----------------------------------------
    admin_browser
        .js(
            "const school = document.querySelector('#school');
             school.value = '10027';
             school.dispatchEvent(new Event('change')); return true;",
            json!([]),
        )
        .await;
    open_page(&admin_browser, "progress").await;
    admin_browser
        .js(
            "document.querySelector('#progress-load').click(); return true;",
            json!([]),
        )
        .await;
    admin_browser
        .wait_for(
            "the school's counts with one completed student",
            "const row = document.querySelector('#progress-counts tr[data-stage=COMPLETED]');
             return row && row.querySelector('.count').textContent === '1';",
            json!([]),
        )
        .await;
    admin_browser
        .js(
            "document.querySelector('#progress-remind').click(); return true;",
            json!([]),
        )
        .await;
    admin_browser
        .wait_for(
            "the reminder's outcome",
            "return document.querySelector('#progress-status').textContent.includes('已提醒');",
            json!([]),
        )
        .await;
    admin_browser
        .screenshot(&out.join("console-progress.png"))
        .await;
    open_page(&admin_browser, "quality").await;
    admin_browser
        .wait_for(
            "the decisions-per-day and rejection-reason charts",
            "return window.Chart !== undefined
                 && window.Chart.getChart(document.querySelector('#chart-days')) !== undefined
                 && window.Chart.getChart(document.querySelector('#chart-reasons')) !== undefined
                 && document.querySelector('#quality-table tbody').textContent.includes('hotline');",
            json!([]),
        )
        .await;
    admin_browser
        .screenshot(&out.join("console-quality.png"))
        .await;
    admin_browser
        .assert_network_clean(origin, "the admin's pages")
        .await;

    // --- the admin disables the reviewer: the reviewer's open dashboard is signed out -------
    let hotline_id = app
        .data(Some(&hotline), "{ viewer { account { id } } }", json!({}))
        .await["viewer"]["account"]["id"]
        .as_str()
        .expect("account id")
        .to_owned();
    open_page(&admin_browser, "staff").await;
    // The school's staff are listed.
    admin_browser
        .wait_for(
            "the school's staff listed",
            "const names = [...document.querySelectorAll('#staff-table tbody tr')].map(r => r.dataset.username);
             return names.includes('hotline') && names.includes('maker');",
            json!([]),
        )
        .await;
    admin_browser
        .wait_for(
            "the reviewer disabled",
            "const row = document.querySelector(`#staff-table tr[data-account-id=\"${arguments[0]}\"]`);
             if (!row) return false;
             if (row.dataset.disabled === 'true') return true;
             const button = row.querySelector('.disable');
             if (button && !button.dataset.clicked) { button.dataset.clicked = '1'; button.click(); }
             return false;",
            json!([hotline_id]),
        )
        .await;
    admin_browser
        .js(
            "document.querySelector('#audit-load').click(); return true;",
            json!([]),
        )
        .await;
    admin_browser
        .wait_for(
            "the audit record of the disabling",
            "return document.querySelector('#audit-table tbody').textContent.includes('STAFF_DISABLED');",
            json!([]),
        )
        .await;
    admin_browser
        .screenshot(&out.join("console-staff.png"))
        .await;
    // The school's progress as CSV: a download link for the completed students (once the page
    // has reloaded its counts, so the row clicked is the one that stays).
    open_page(&admin_browser, "progress").await;
    admin_browser
        .wait_for(
            "the progress page reloaded",
            "return document.querySelector('#progress-status').textContent === '北京师范大学'
                 && document.querySelector('#progress-counts tr[data-stage=COMPLETED] .csv') !== null;",
            json!([]),
        )
        .await;
    admin_browser
        .js(
            "document.querySelector('#progress-counts tr[data-stage=COMPLETED] .csv').click(); return true;",
            json!([]),
        )
        .await;
    admin_browser
        .wait_for(
            "the CSV link of the completed students",
            "const a = document.querySelector('#progress-counts tr[data-stage=COMPLETED] a.download');
             return a && a.href;",
            json!([]),
        )
        .await;
    // The producer's password is reset: signing in with the temporary one asks for a new one.
    let maker_id = app
        .data(Some(&producer), "{ viewer { account { id } } }", json!({}))
        .await["viewer"]["account"]["id"]
        .as_str()
        .expect("account id")
        .to_owned();
    admin_browser
        .wait_for(
            "the producer's password reset",
            "const row = document.querySelector(`#staff-table tr[data-account-id=\"${arguments[0]}\"]`);
             if (!row) return false;
             if (row.querySelector('.state').textContent.includes('待改密码')) return true;
             const button = row.querySelector('.reset');
             if (button && !button.dataset.clicked) {
                 button.dataset.clicked = '1';
                 row.querySelector('.temp-password').value = 'temporary-pass-2026';
                 button.click();
             }
             return false;",
            json!([maker_id]),
        )
        .await;
    let maker = driver
        .session(&profiles.path().join("producer-again"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    maker.goto(&app.url("/dashboard")).await;
    maker
        .wait_for(
            "the sign-in form",
            "return document.querySelector('#signin-form') !== null;",
            json!([]),
        )
        .await;
    maker
        .js(
            "document.querySelector('#username').value = 'maker';
             document.querySelector('#password').value = 'temporary-pass-2026';
             document.querySelector('#signin-button').click(); return true;",
            json!([]),
        )
        .await;
    maker
        .wait_for(
            "the new-password form",
            "return !document.querySelector('#password-form').hidden;",
            json!([]),
        )
        .await;
    maker
        .js(
            "document.querySelector('#new-password').value = 'a-brand-new-password';
             document.querySelector('#password-button').click(); return true;",
            json!([]),
        )
        .await;
    maker
        .wait_for(
            "the producer's dashboard after the new password",
            "return document.querySelector('#live').textContent === 'live'
                 && !document.querySelector('#nav button[data-page=shipping]').hidden;",
            json!([]),
        )
        .await;
    maker.quit().await;
    agent
        .wait_for(
            "the disabled reviewer's dashboard back at the sign-in screen",
            "return !document.querySelector('#signin').hidden
                 && document.querySelector('#work').hidden
                 && document.querySelector('#signin-error').textContent;",
            json!([]),
        )
        .await;
    assert!(
        agent
            .js(
                "return sessionStorage.getItem('campus-photo.dashboard.token');",
                json!([])
            )
            .await
            .is_null(),
        "the token is forgotten"
    );
    agent.screenshot(&out.join("console-signed-out.png")).await;

    agent.quit().await;
    admin_browser.quit().await;
}
