//! GET /playground, its assets and example operations, and GET /dashboard, served by the
//! binary; every example in playground/examples/ validates against the real schema.
use std::path::PathBuf;

use async_graphql::parser::{parse_query, types::DocumentOperations};
use serde_json::{Value, json};

use crate::common::TestApp;

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("playground/examples")
}

/// The examples on disk, in file-name order: (file name, text).
fn examples_on_disk() -> Vec<(String, String)> {
    let mut examples: Vec<(String, String)> = std::fs::read_dir(examples_dir())
        .expect("playground/examples")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "graphql"))
        .map(|path| {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("utf-8 name")
                .to_owned();
            let text = std::fs::read_to_string(&path).expect("read example");
            (name, text)
        })
        .collect();
    examples.sort();
    examples
}

/// The commented JSON after `# Variables:` (the playground puts it in the variables editor).
fn example_variables(text: &str) -> Option<Value> {
    let mut json = String::new();
    let mut inside = false;
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        let body = line.trim_start_matches('#').trim_start();
        if body.starts_with("Variables:") {
            inside = true;
        } else if inside && body.is_empty() {
            break;
        } else if inside {
            json.push_str(body);
        }
    }
    (!json.is_empty()).then(|| serde_json::from_str(&json).expect("the Variables: comment is JSON"))
}

/// The schema's verdict on a document, without running it: the request names an operation the
/// document does not have, so async-graphql validates the whole document and then stops.
async fn validation_errors(app: &TestApp, text: &str) -> Vec<String> {
    let body: Value = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({ "query": text, "operationName": "NoSuchOperationValidateOnly" }))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
                .filter(|m| m != r#"Unknown operation named "NoSuchOperationValidateOnly""#)
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn every_example_is_valid_against_the_schema_and_listed_in_order() {
    let app = TestApp::spawn().await;
    let examples = examples_on_disk();
    assert!(
        examples.len() >= 12,
        "the student and staff flows: {examples:?}"
    );

    // Numbered 01, 02, … in flow order, one named operation each, variables that parse and
    // match the declared ones, and nothing the schema does not know.
    for (i, (name, text)) in examples.iter().enumerate() {
        assert!(
            name.starts_with(&format!("{:02}-", i + 1)),
            "{name}: examples are numbered 01, 02, … without gaps"
        );
        let document = parse_query(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let operation = match &document.operations {
            DocumentOperations::Single(_) => panic!("{name}: name the operation"),
            DocumentOperations::Multiple(ops) => {
                assert_eq!(ops.len(), 1, "{name}: one operation per example");
                ops.values().next().expect("one operation")
            }
        };
        let mut declared: Vec<String> = operation
            .node
            .variable_definitions
            .iter()
            .map(|v| v.node.name.node.to_string())
            .collect();
        declared.sort();
        let mut given: Vec<String> = example_variables(text)
            .map(|v| {
                v.as_object()
                    .expect("variables are an object")
                    .keys()
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        given.sort();
        assert_eq!(
            declared, given,
            "{name}: the Variables: comment gives each variable"
        );
        let errors = validation_errors(&app, text).await;
        assert!(errors.is_empty(), "{name} does not validate: {errors:?}");
    }

    // The check can fail: a field the schema lacks is refused.
    let (name, text) = &examples[0];
    let broken = text.replacen("    token\n", "    tokenThatDoesNotExist\n", 1);
    assert_ne!(&broken, text, "{name} asks for the token");
    let errors = validation_errors(&app, &broken).await;
    assert!(
        errors.iter().any(|e| e.contains("tokenThatDoesNotExist")),
        "{errors:?}"
    );

    // The binary serves the same list, and README links them in order.
    let served: Value = app
        .http
        .get(app.url("/playground/examples.json"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let served: Vec<(String, String)> = served
        .as_array()
        .expect("a list")
        .iter()
        .map(|e| {
            (
                e["file"].as_str().unwrap_or_default().to_owned(),
                e["text"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(served, examples, "the binary embeds playground/examples");
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .expect("README.md");
    let mut at = 0;
    for (name, _) in &examples {
        let link = format!("(playground/examples/{name})");
        let found = readme[at..]
            .find(&link)
            .unwrap_or_else(|| panic!("README links {link} after the examples before it"));
        at += found + link.len();
    }

    let raw = app
        .http
        .get(app.url(&format!("/playground/examples/{}", examples[0].0)))
        .send()
        .await
        .expect("request");
    assert_eq!(raw.status(), 200);
    assert_eq!(raw.text().await.expect("text"), examples[0].1);
    let missing = app
        .http
        .get(app.url("/playground/examples/99-nothing.graphql"))
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), 404);
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_playground_and_its_assets_come_from_the_binary() {
    let app = TestApp::spawn().await;
    let page = app
        .http
        .get(app.url("/playground"))
        .send()
        .await
        .expect("request");
    assert_eq!(page.status(), 200);
    assert!(header(&page, "content-type").starts_with("text/html"));
    let html = page.text().await.expect("html");

    if !campus_photo::http::playground::BUNDLED {
        // A build without npm: GraphiQL from its CDN, and the page says what to install.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI builds bundle the playground: npm must be installed"
        );
        assert!(html.contains("install Node.js"), "{html}");
        eprintln!("playground not bundled (no npm at build time): checked the CDN fallback only");
        return;
    }
    for cdn in ["unpkg", "jsdelivr", "cdnjs", "https://"] {
        assert!(
            !html.contains(cdn),
            "the page loads nothing from {cdn}: {html}"
        );
    }
    for (attribute, content_type) in [("src=\"", "text/javascript"), ("href=\"/", "text/css")] {
        let start = html.find(attribute).expect("asset link") + attribute.len();
        let end = start + html[start..].find('"').expect("asset link end");
        let path = format!("/{}", html[start..end].trim_start_matches('/'));
        assert!(path.starts_with("/playground/assets/playground-"), "{path}");
        let asset = app.http.get(app.url(&path)).send().await.expect("request");
        assert_eq!(asset.status(), 200, "{path}");
        assert!(header(&asset, "content-type").starts_with(content_type));
        assert!(header(&asset, "cache-control").contains("immutable"));
        assert_eq!(header(&asset, "content-encoding"), "", "plain unless asked");
        let plain = asset.bytes().await.expect("body").len();
        assert!(plain > 10_000);
        let gzipped = app
            .http
            .get(app.url(&path))
            .header("accept-encoding", "br, gzip;q=0.8")
            .send()
            .await
            .expect("request");
        assert_eq!(header(&gzipped, "content-encoding"), "gzip", "{path}");
        assert!(header(&gzipped, "vary").contains("accept-encoding"));
        let body = gzipped.bytes().await.expect("body");
        assert!(body.starts_with(&[0x1f, 0x8b]), "gzip magic");
        assert!(
            body.len() < plain,
            "{path}: {} of {plain} bytes",
            body.len()
        );
    }
    let stale = app
        .http
        .get(app.url("/playground/assets/playground-0000.js"))
        .send()
        .await
        .expect("request");
    assert_eq!(stale.status(), 404);
}

#[tokio::test]
async fn the_dashboard_is_a_plain_page_over_the_public_api() {
    let app = TestApp::spawn().await;
    for (path, content_type) in [
        ("/dashboard", "text/html"),
        ("/dashboard/dashboard.js", "text/javascript"),
        ("/dashboard/dashboard.css", "text/css"),
    ] {
        let response = app.http.get(app.url(path)).send().await.expect("request");
        assert_eq!(response.status(), 200, "{path}");
        assert!(
            header(&response, "content-type").starts_with(content_type),
            "{path}"
        );
        let body = response.text().await.expect("body");
        assert!(
            !body.contains("https://"),
            "{path} loads nothing from elsewhere"
        );
        if path == "/dashboard" {
            // The guides' and the API's word for REJECTED.
            assert!(
                body.contains("被驳回") && !body.contains("已驳回"),
                "{path}"
            );
        }
        if path == "/dashboard/dashboard.js" {
            // Only the public API: GraphQL over HTTP and graphql-transport-ws.
            assert!(body.contains("'/graphql'") && body.contains("graphql-transport-ws"));
        }
    }
    // The charts' library comes from the binary (bundled from npm), gzipped when accepted.
    let charts = app
        .http
        .get(app.url("/dashboard/charts.js"))
        .header("accept-encoding", "identity")
        .send()
        .await
        .expect("request");
    assert_eq!(charts.status(), 200);
    assert!(header(&charts, "content-type").starts_with("text/javascript"));
    let script = charts.text().await.expect("body");
    if campus_photo::http::playground::BUNDLED {
        assert!(script.contains("window.Chart"), "Chart.js is bundled");
    } else {
        assert!(script.is_empty());
    }
    let page = app
        .http
        .get(app.url("/dashboard"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    assert!(page.contains(r#"<script src="/dashboard/charts.js" defer></script>"#));
}

/// The example `file` with its `# Variables:` after replacing placeholders (whole JSON strings).
fn example(file: &str, replace: &[(&str, &str)]) -> (String, Value) {
    let text = std::fs::read_to_string(examples_dir().join(file)).expect("example");
    let mut variables = example_variables(&text).unwrap_or_else(|| json!({}));
    fn fill(value: &mut Value, replace: &[(&str, &str)]) {
        match value {
            Value::String(s) => {
                if let Some((_, to)) = replace.iter().find(|(from, _)| from == s) {
                    *s = (*to).to_owned();
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| fill(v, replace)),
            Value::Object(fields) => fields.values_mut().for_each(|v| fill(v, replace)),
            _ => {}
        }
    }
    fill(&mut variables, replace);
    (text, variables)
}

/// Runs an example as the playground would and returns `data` (no top-level errors).
async fn run(app: &TestApp, token: Option<&str>, file: &str, replace: &[(&str, &str)]) -> Value {
    let (text, variables) = example(file, replace);
    app.data(token, &text, variables).await
}

/// Every example, in order and with only its placeholders filled in, walks the student flow and
/// the staff flow against the server: the README's walk-through works as written.
#[tokio::test]
async fn the_examples_walk_the_student_and_staff_flows() {
    use crate::common::{fixture, mint_code, ws};

    let shop = crate::common::flow::shop().await;
    let app = &shop.app;
    // Demo names: the examples sign in as demo-reviewer and demo-producer, and the demo code's
    // ID number ends in 002X; this shop's feature code is BNU27.
    app.staff(&shop.admin, "demo-reviewer", "REVIEWER", Some("10027"))
        .await;
    app.staff(&shop.admin, "demo-producer", "PRODUCER", Some("10027"))
        .await;
    let password = "staff-password-123";
    let code = mint_code(|c| c.idm = "110105********002X".into());

    // Student: 01 sign in.
    let data = run(app, None, "01-student-sign-in.graphql", &[]).await;
    let student = data["signInWithWeChat"]["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let token = Some(student.as_str());
    // 02 decode the code from its picture (a multipart request, as the Files panel sends it).
    let (text, variables) = example("02-decode-collection-code.graphql", &[]);
    let png = campus_photo_codes::render_qr_png(&code, 6).expect("QR picture");
    let data = app
        .upload_data(
            token,
            &text,
            variables,
            "variables.input.image",
            png,
            "code.png",
        )
        .await;
    assert_eq!(
        data["decodeCollectionCode"]["userErrors"],
        json!([]),
        "{data}"
    );
    let decoded = data["decodeCollectionCode"]["text"]
        .as_str()
        .expect("text")
        .to_owned();
    // 03 add the enrollment.
    let data = run(
        app,
        token,
        "03-add-enrollment.graphql",
        &[("CQ1.<text from step 2>", &decoded), ("DEMO1", "BNU27")],
    )
    .await;
    assert_eq!(data["addEnrollment"]["userErrors"], json!([]), "{data}");
    let enrollment = data["addEnrollment"]["enrollment"]["id"]
        .as_str()
        .expect("enrollment id")
        .to_owned();
    let step3 = [("<enrollment id from step 3>", enrollment.as_str())];
    // 04 the capture guide.
    let data = run(app, token, "04-acknowledge-capture-guide.graphql", &step3).await;
    assert_eq!(
        data["acknowledgeCaptureGuide"]["userErrors"],
        json!([]),
        "{data}"
    );
    let read = &data["acknowledgeCaptureGuide"]["enrollment"];
    assert_eq!(read["captureGuideRead"], true, "{data}");
    assert_eq!(read["captureGuide"]["requirements"][0]["topic"], "背景");
    // 05 upload a photo.
    let (text, variables) = example("05-upload-photo.graphql", &step3);
    let data = app
        .upload_data(
            token,
            &text,
            variables,
            "variables.input.file",
            fixture("photos/obama_ok.jpg"),
            "obama_ok.jpg",
        )
        .await;
    assert_eq!(
        data["uploadPhoto"]["photo"]["check"]["verdict"], "PASSED",
        "{data}"
    );
    let photo = data["uploadPhoto"]["photo"]["id"]
        .as_str()
        .expect("photo id")
        .to_owned();
    // 06 submit, 07 create the payment, 08 the sandbox pays.
    let data = run(
        app,
        token,
        "06-submit-order.graphql",
        &[("<photo id from step 5>", &photo)],
    )
    .await;
    assert_eq!(data["submitOrder"]["userErrors"], json!([]), "{data}");
    let order = data["submitOrder"]["order"]["id"]
        .as_str()
        .expect("order id")
        .to_owned();
    let number = data["submitOrder"]["order"]["number"].clone();
    let step6 = [("<order id from step 6>", order.as_str())];
    let data = run(app, token, "07-create-payment.graphql", &step6).await;
    assert_eq!(data["createPayment"]["userErrors"], json!([]), "{data}");
    let data = run(app, token, "08-sandbox-pay.graphql", &step6).await;
    assert_eq!(
        data["sandboxCompletePayment"]["order"]["status"], "PENDING_REVIEW",
        "{data}"
    );
    // 09 subscribe to updates (over graphql-transport-ws).
    let (text, _) = example("09-subscribe-order-updates.graphql", &[]);
    let mut updates = ws::subscribe_to(&shop, &student, &text, json!({})).await;
    // 10 the student's orders.
    let data = run(app, token, "10-my-orders.graphql", &[]).await;
    assert_eq!(
        data["viewer"]["orders"]["nodes"][0]["number"], number,
        "{data}"
    );

    // Staff: 11 sign in as the reviewer.
    let data = run(
        app,
        None,
        "11-staff-sign-in.graphql",
        &[("<printed by demo>", password)],
    )
    .await;
    let reviewer = data["signInStaff"]["token"]
        .as_str()
        .expect("reviewer token")
        .to_owned();
    let reviewer = Some(reviewer.as_str());
    // 12 the queue and the reasons.
    let data = run(app, reviewer, "12-review-queue.graphql", &[]).await;
    assert_eq!(data["queueStats"]["pendingReview"], 1, "{data}");
    assert_eq!(
        data["reviewQueue"]["nodes"][0]["id"],
        order.as_str(),
        "{data}"
    );
    // 13 claim, 14 reject: the student's subscription hears it.
    let data = run(app, reviewer, "13-claim-review-tasks.graphql", &[]).await;
    assert_eq!(
        data["claimReviewTasks"]["orders"][0]["id"],
        order.as_str(),
        "{data}"
    );
    let step3 = [("<order id from step 3>", order.as_str())];
    let data = run(app, reviewer, "14-reject-order.graphql", &step3).await;
    assert_eq!(data["reviewOrder"]["order"]["status"], "REJECTED", "{data}");
    let rejection = &data["reviewOrder"]["order"]["rejection"];
    assert_eq!(rejection["title"], "不可以俯视或者仰视", "{data}");
    assert_eq!(rejection["solution"], "请保持平视镜头", "{data}");
    // (The payment's events may still be on their way: they come first.)
    let event = loop {
        let event = ws::next_data(&mut updates, "orderUpdates").await;
        if event["toStatus"] == "REJECTED" {
            break event;
        }
    };
    assert_eq!(event["order"]["rejection"]["code"], "POSE_PITCH", "{event}");

    // 15 approve another student's order.
    let other = shop.student("wx-walk-second").await;
    let second = shop.paid_order(&other).await;
    let second = second["id"].as_str().expect("id").to_owned();
    let data = run(app, reviewer, "13-claim-review-tasks.graphql", &[]).await;
    assert_eq!(
        data["claimReviewTasks"]["orders"][0]["id"],
        second.as_str(),
        "{data}"
    );
    let data = run(
        app,
        reviewer,
        "15-approve-order.graphql",
        &[("<order id from step 3>", second.as_str())],
    )
    .await;
    assert_eq!(
        data["reviewOrder"]["order"]["status"], "PENDING_PRODUCTION",
        "{data}"
    );

    // 16 the producer starts a batch, 17 follows it, 18 exports.
    let data = run(
        app,
        None,
        "11-staff-sign-in.graphql",
        &[
            ("demo-reviewer", "demo-producer"),
            ("<printed by demo>", password),
        ],
    )
    .await;
    let producer = data["signInStaff"]["token"]
        .as_str()
        .expect("producer token")
        .to_owned();
    let data = run(
        app,
        Some(&producer),
        "16-start-production-batch.graphql",
        &[],
    )
    .await;
    assert_eq!(
        data["startProductionBatch"]["userErrors"],
        json!([]),
        "{data}"
    );
    let batch = data["startProductionBatch"]["batch"]["id"]
        .as_str()
        .expect("batch id")
        .to_owned();
    let (text, variables) = example(
        "17-production-progress.graphql",
        &[("<batch id from step 6>", batch.as_str())],
    );
    let mut progress = ws::subscribe_to(&shop, &producer, &text, variables).await;
    loop {
        let p = ws::next_data(&mut progress, "productionProgress").await;
        if p["batch"]["finished"] == true {
            assert_eq!(p["batch"]["done"], 1, "{p}");
            break;
        }
    }
    let data = run(app, Some(&producer), "18-export-to-registry.graphql", &[]).await;
    assert_eq!(data["exportToRegistry"]["userErrors"], json!([]), "{data}");
    assert_eq!(data["exportToRegistry"]["export"]["count"], 1, "{data}");
    assert_eq!(data["exportToRegistry"]["export"]["purpose"], "REGISTRY");
    // 19 the registry accepts the other student's photo (the fixture codes' student number).
    let export = data["exportToRegistry"]["export"]["id"]
        .as_str()
        .expect("export id")
        .to_owned();
    let data = run(
        app,
        Some(&producer),
        "19-import-registry-result.graphql",
        &[("<export id from step 8>", export.as_str())],
    )
    .await;
    assert_eq!(
        data["importRegistryResult"]["userErrors"],
        json!([]),
        "{data}"
    );
    assert_eq!(data["importRegistryResult"]["accepted"], 1, "{data}");
}
