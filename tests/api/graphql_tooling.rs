//! What GraphQL tooling needs of the endpoint (issue 21): graphql-js's standard introspection
//! query answered and turned into a schema by `buildClientSchema`, errors shaped as clients
//! expect them, automatic persisted queries and trusted documents, one list shape.
use std::process::{Command, Stdio};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

use crate::common::{self, TestApp, error_code};

fn playground_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("playground")
}

/// Runs a Node.js script in playground/ (where build.rs installed the `graphql` package) with
/// `input` on stdin; its stdout.
fn node(script: &str, input: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("node")
        .arg("-e")
        .arg(script)
        .current_dir(playground_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node (Node.js is needed to build the playground)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("node ran");
    assert!(
        out.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// graphql-js's own `getIntrospectionQuery()` with every option, never pasted here.
fn standard_introspection_query() -> String {
    node(
        "const { getIntrospectionQuery } = require('graphql');
         process.stdout.write(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true,
           directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true,
           oneOf: true }));",
        "",
    )
}

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

async fn post(app: &TestApp, token: Option<&str>, body: Value) -> Value {
    let mut request = app.http.post(app.url("/graphql")).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let resp = request.send().await.expect("answered");
    assert_eq!(resp.status(), 200);
    resp.json().await.expect("json")
}

#[tokio::test]
async fn graphql_js_standard_introspection_builds_a_client_schema() {
    let app = TestApp::spawn().await;
    let query = standard_introspection_query();
    assert!(query.contains("specifiedByURL") && query.contains("isRepeatable"));
    // Anonymous, as codegen and the playground's Docs pane ask.
    let body = post(
        &app,
        None,
        json!({ "query": query, "operationName": "IntrospectionQuery" }),
    )
    .await;
    assert!(body["errors"].is_null(), "{body}");
    assert!(
        body["extensions"]["cost"]["complexity"].as_u64().is_some(),
        "{body}"
    );
    let printed = node(
        "const { buildClientSchema, printSchema } = require('graphql');
         let input = '';
         process.stdin.on('data', d => input += d).on('end', () => {
           const answer = JSON.parse(input);
           const schema = buildClientSchema(answer.data);
           process.stdout.write(printSchema(schema));
         });",
        &body.to_string(),
    );
    for expected in [
        "type Query {",
        "type Mutation {",
        "type Subscription {",
        "printOrders(",
        "): PrintOrderConnection!",
        "event: OrderEventKind!",
        "actor: OrderEventActor!",
        "RFC 3339",
        "scalar Upload",
    ] {
        assert!(
            printed.contains(expected),
            "{expected} missing from\n{printed}"
        );
    }
    // Also over GET, as some clients fetch it.
    let resp = app
        .http
        .get(app.url("/graphql"))
        .query(&[("query", query.as_str())])
        .send()
        .await
        .expect("GET");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(
        body["data"]["__schema"]["queryType"]["name"], "Query",
        "{body}"
    );
}

#[tokio::test]
async fn introspection_is_bounded_by_its_own_limits() {
    let app = TestApp::spawn().await;
    // Four nested lists (types › fields › type.fields › type.fields): far larger than any
    // tool asks for, refused.
    let fan_out =
        "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
    let body = app.gql(None, fan_out, json!({})).await;
    assert_eq!(error_code(&body), "INTROSPECTION_TOO_DEEP", "{body}");
    assert!(body["data"].is_null(), "{body}");
    // Nested `ofType` far past the depth limit of 10 is fine: it does not fan out.
    let of_type = format!(
        "{{ __type(name: \"Query\") {{ fields {{ type {{ {} name {} }} }} }} }}",
        "ofType {".repeat(12),
        "}".repeat(12)
    );
    let body = app.gql(None, &of_type, json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    assert!(
        body["data"]["__type"]["fields"]
            .as_array()
            .is_some_and(|f| !f.is_empty()),
        "{body}"
    );
    assert!(
        body["extensions"]["cost"]["depth"].as_u64() > Some(10),
        "{body}"
    );
}

#[tokio::test]
async fn every_error_has_a_code_and_every_answer_its_cost() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({ "query": "{ viewer { account { id } " }),
            "GRAPHQL_PARSE_FAILED",
        ),
        (json!({ "query": "{ nope }" }), "GRAPHQL_VALIDATION_FAILED"),
        (
            json!({ "query": "query($n: Int) { schools(first: $n) { totalCount } }", "variables": { "n": "many" } }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "query": "{ schools(first: \"many\") { totalCount } }" }),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            json!({ "query": "query A { __typename } query B { __typename }", "operationName": "C" }),
            "OPERATION_RESOLUTION_FAILURE",
        ),
        (
            json!({ "query": "query A { __typename } query B { __typename }" }),
            "OPERATION_RESOLUTION_FAILURE",
        ),
    ];
    for (request, code) in cases {
        let body = post(&app, Some(&admin), request.clone()).await;
        assert_eq!(error_code(&body), code, "{request}: {body}");
        let cost = &body["extensions"]["cost"];
        assert_eq!(cost["maxDepth"], 10, "{request}: {body}");
        assert_eq!(cost["maxComplexity"], 2000, "{request}: {body}");
    }
}

/// A document without variables that passed the full validation is not validated again when it
/// comes back; everything a repeat is held to still holds: the limits, variables' values, the
/// operation named, the same answer and cost.
#[tokio::test]
async fn a_repeated_document_is_not_validated_again_and_answers_the_same() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let metrics = &app.state.metrics;
    let page =
        json!({ "query": "query($n: Int) { schools(first: $n) { totalCount nodes { code } } }" });
    let full_before = metrics.validations_counted(false);
    let first = post(&app, Some(&admin), page.clone()).await;
    assert!(first["errors"].is_null(), "{first}");
    let repeats_before = metrics.validations_counted(true);
    let again = post(&app, Some(&admin), page.clone()).await;
    assert_eq!(metrics.validations_counted(true) - repeats_before, 1);
    assert_eq!(metrics.validations_counted(false) - full_before, 1);
    assert_eq!(again["data"], first["data"], "{again}");
    assert_eq!(again["extensions"]["cost"], first["extensions"]["cost"]);
    assert!(
        again["extensions"]["cost"]["complexity"].as_u64() > Some(0),
        "{again}"
    );
    // The same text with a variable of the wrong type is validated fully, and refused.
    let mut typed_wrong = page.clone();
    typed_wrong["variables"] = json!({ "n": "many" });
    let body = post(&app, Some(&admin), typed_wrong).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    // Another operation name than the one validated is validated (and refused) again.
    let mut named = page.clone();
    named["operationName"] = json!("Other");
    let body = post(&app, Some(&admin), named).await;
    assert_eq!(error_code(&body), "OPERATION_RESOLUTION_FAILURE", "{body}");
    // A document refused is never a repeat: over the complexity limit each time.
    let pages: String = (0..12)
        .map(|i| format!("p{i}: schools(first: 100) {{ nodes {{ code name }} }} "))
        .collect();
    let heavy = json!({ "query": format!("{{ {pages} }}") });
    for _ in 0..2 {
        let body = post(&app, Some(&admin), heavy.clone()).await;
        assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");
    }
}

#[tokio::test]
async fn a_repeat_answers_failing_fields_as_the_first_time_did() {
    // A repeat runs on the schema without the pipeline's extension, with what the pipeline
    // learnt the first time: its errors must still be coded, its failing fields' nulls placed
    // (under their aliases) and its cost reported, exactly as the first answer was.
    let app = TestApp::spawn().await;
    let metrics = &app.state.metrics;
    let probe = json!({
        "query": "query Probe { t: __typename n: node(id: \"nope\") { id } l: nodes(ids: [\"nope\"]) { id } }"
    });
    let repeats_before = metrics.validations_counted(true);
    let first = post(&app, None, probe.clone()).await;
    let again = post(&app, None, probe.clone()).await;
    assert_eq!(metrics.validations_counted(true) - repeats_before, 1);
    assert_eq!(again, first);
    let errors = first["errors"].as_array().cloned().unwrap_or_default();
    assert!(errors.len() >= 2, "{first}");
    for error in &errors {
        assert!(error["extensions"]["code"].is_string(), "{first}");
    }
    // `nodes` is a non-null list: its failure nulls the nearest nullable parent, the data.
    assert!(first["data"].is_null(), "{first}");
    assert!(
        first["extensions"]["cost"]["complexity"].as_u64() > Some(0),
        "{first}"
    );
    // A document too large for its parsed form to be kept is parsed again, and answers the same.
    let many: String = (0..250).map(|i| format!("a{i}: __typename ")).collect();
    let large = json!({ "query": format!("{{ {many} }}") });
    let repeats_before = metrics.validations_counted(true);
    let first = post(&app, None, large.clone()).await;
    let again = post(&app, None, large).await;
    assert_eq!(metrics.validations_counted(true) - repeats_before, 1);
    assert_eq!(again, first);
    assert_eq!(first["data"]["a249"], "Query", "{first}");
    assert_eq!(first["extensions"]["cost"]["fields"], 250, "{first}");
    // A mutation repeated answers the same way too, and is counted as an operation each time.
    let sign_out = json!({ "query": "mutation { signOut }" });
    let first = post(&app, None, sign_out.clone()).await;
    let again = post(&app, None, sign_out).await;
    assert_eq!(again, first);
    assert_eq!(error_code(&first), "UNAUTHENTICATED", "{first}");
    let scraped = app.metrics_text().await;
    assert!(
        scraped.lines().any(
            |line| line.starts_with("campus_photo_graphql_requests_total")
                && line.contains("operation=\"signOut\"")
                && line.ends_with(" 2")
        ),
        "{scraped}"
    );
}

#[tokio::test]
async fn answers_refused_before_the_schema_carry_code_and_cost_too() {
    let app = TestApp::spawn().await;
    let deep = format!("{{__typename(a:{}1{})}}", "[".repeat(70), "]".repeat(70));
    let too_many = vec![json!({ "query": "{ __typename }" }); 11];
    for (request, status, code) in [
        (json!({ "query": deep }), 400, "NESTING_TOO_DEEP"),
        (json!(too_many), 400, "BATCH_TOO_LARGE"),
        (
            json!({ "query": "x".repeat(2 * 1024 * 1024) }),
            413,
            "PAYLOAD_TOO_LARGE",
        ),
    ] {
        let resp = app
            .http
            .post(app.url("/graphql"))
            .json(&request)
            .send()
            .await
            .expect("answered");
        assert_eq!(resp.status().as_u16(), status, "{code}");
        let body: Value = resp.json().await.expect("json");
        assert_eq!(error_code(&body), code, "{body}");
        assert_eq!(body["extensions"]["cost"]["maxDepth"], 10, "{body}");
        assert!(body["extensions"]["cost"]["depth"].is_null(), "{body}");
    }
    // A persisted query over GET that is not known: the same.
    let extensions = persisted(&sha256("{ unknown }")).to_string();
    let body: Value = app
        .http
        .get(app.url("/graphql"))
        .query(&[("extensions", extensions.as_str())])
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
    assert_eq!(body["extensions"]["cost"]["maxComplexity"], 2000, "{body}");
}

#[tokio::test]
async fn a_page_over_the_maximum_is_refused_naming_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for query in [
        "{ schools(first: 101) { totalCount } }",
        "{ orders(first: 500) { totalCount } }",
        "{ printOrders(first: 101) { totalCount } }",
        "{ supportTickets(first: 101) { totalCount } }",
        "{ wechatMessages(first: 101) { totalCount } }",
        "{ schools(last: 1000) { totalCount } }",
    ] {
        let body = app.gql(Some(&admin), query, json!({})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{query}: {body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or("");
        assert!(message.contains("100"), "{query}: {body}");
    }
}

#[tokio::test]
async fn staff_lists_are_connections_like_orders() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for field in ["printOrders", "supportTickets", "wechatMessages"] {
        let query = format!(
            "{{ {field}(first: 5) {{ totalCount pageInfo {{ hasNextPage hasPreviousPage endCursor }} edges {{ cursor }} nodes {{ __typename }} }} }}"
        );
        let data = app.data(Some(&admin), &query, json!({})).await;
        assert_eq!(data[field]["totalCount"], 0, "{data}");
        assert_eq!(data[field]["pageInfo"]["hasNextPage"], false, "{data}");
        assert_eq!(data[field]["nodes"], json!([]), "{data}");
    }
    // The audit trail's event and actor are enums; the DateTime scalar says what it is.
    let types = app
        .data(
            None,
            "{ e: __type(name: \"OrderEvent\") { fields { name type { ofType { name kind } } } }
               d: __type(name: \"DateTime\") { description } }",
            json!({}),
        )
        .await;
    let fields = types["e"]["fields"].as_array().cloned().unwrap_or_default();
    let kind_of = |name: &str| {
        fields
            .iter()
            .find(|f| f["name"] == name)
            .map(|f| f["type"]["ofType"].clone())
            .unwrap_or_default()
    };
    assert_eq!(
        kind_of("event"),
        json!({ "name": "OrderEventKind", "kind": "ENUM" })
    );
    assert_eq!(
        kind_of("actor"),
        json!({ "name": "OrderEventActor", "kind": "ENUM" })
    );
    let description = types["d"]["description"].as_str().unwrap_or("");
    assert!(
        description.contains("RFC 3339") && !description.contains("Utc"),
        "{types}"
    );
}

#[tokio::test]
async fn a_failing_nullable_root_field_is_null_beside_the_others() {
    let app = TestApp::spawn().await;
    let body = app
        .gql(
            Some("not-a-real-token"),
            "{ serviceInfo { agreementVersion } viewer { account { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    let data = body["data"].as_object().expect("data");
    assert!(
        data.contains_key("viewer") && data["viewer"].is_null(),
        "{body}"
    );
    assert!(
        data["serviceInfo"]["agreementVersion"].is_string(),
        "{body}"
    );
    assert_eq!(body["errors"][0]["path"], json!(["viewer"]), "{body}");
}

#[tokio::test]
async fn a_missing_or_malformed_authorization_header_is_named() {
    let app = TestApp::spawn().await;
    let query = json!({ "query": "{ viewer { account { id } } }" });
    for header in ["Token abc", "Bearer", "Bearer ", "bearer a b", "abc"] {
        let body: Value = app
            .http
            .post(app.url("/graphql"))
            .header("Authorization", header)
            .json(&query)
            .send()
            .await
            .expect("answered")
            .json()
            .await
            .expect("json");
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{header}: {body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or("");
        assert!(message.contains("Authorization"), "{header}: {body}");
    }
    // No header: the viewer is null (public), but a field that needs one says what is missing.
    let anonymous = app
        .gql(None, "{ viewer { account { id } } }", json!({}))
        .await;
    assert!(anonymous["errors"].is_null(), "{anonymous}");
    let staff_only = app.gql(None, "{ schools { totalCount } }", json!({})).await;
    assert_eq!(error_code(&staff_only), "UNAUTHENTICATED", "{staff_only}");
    let message = staff_only["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains("Authorization: Bearer"), "{staff_only}");
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn socket(app: &TestApp) -> Ws {
    socket_speaking(app, "graphql-transport-ws").await
}

async fn socket_speaking(app: &TestApp, protocol: &'static str) -> Ws {
    let mut request = format!("{}/graphql/ws", app.base.replace("http://", "ws://"))
        .into_client_request()
        .expect("request");
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(protocol));
    tokio_tungstenite::connect_async(request)
        .await
        .expect("connect")
        .0
}

async fn next_frame(ws: &mut Ws) -> Message {
    tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
        .await
        .expect("a frame within 5 s")
        .expect("open")
        .expect("frame")
}

/// The close reason the handshake answers `payload` with.
async fn refused_with(app: &TestApp, payload: Value) -> (u16, String) {
    let mut ws = socket(app).await;
    ws.send(Message::text(
        json!({ "type": "connection_init", "payload": payload }).to_string(),
    ))
    .await
    .expect("init");
    match next_frame(&mut ws).await {
        Message::Close(Some(frame)) => (u16::from(frame.code), frame.reason.to_string()),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn the_socket_says_why_a_token_was_refused() {
    let app = TestApp::spawn().await;
    let token = app.sign_in_student("wx-ws-why", "13800138000").await;
    let missing = refused_with(&app, json!({})).await;
    let invalid = refused_with(&app, json!({ "token": "forged" })).await;
    let malformed = refused_with(&app, json!({ "authorization": "Basic abc" })).await;
    app.clock.advance(chrono::Duration::days(8));
    let expired = refused_with(&app, json!({ "authorization": format!("Bearer {token}") })).await;
    for (got, words) in [
        (&missing, "no token"),
        (&invalid, "invalid token"),
        (&malformed, "malformed"),
        (&expired, "expired"),
    ] {
        assert_eq!(got.0, 4403, "{got:?}");
        assert!(got.1.contains(words), "{got:?} should say {words}");
    }
}

#[tokio::test]
async fn a_subscribe_that_fails_validation_gets_the_protocol_error_message() {
    let app = TestApp::spawn().await;
    let token = app.sign_in_student("wx-ws-err", "13800138000").await;
    let mut ws = socket(&app).await;
    ws.send(Message::text(
        json!({ "type": "connection_init", "payload": { "token": token } }).to_string(),
    ))
    .await
    .expect("init");
    let ack = next_frame(&mut ws).await;
    assert!(
        ack.to_text().unwrap_or("").contains("connection_ack"),
        "{ack:?}"
    );
    for (id, query) in [
        ("bad", "subscription { noSuchField }"),
        ("broken", "subscription { orderUpdates { "),
    ] {
        ws.send(Message::text(
            json!({ "id": id, "type": "subscribe", "payload": { "query": query } }).to_string(),
        ))
        .await
        .expect("subscribe");
        let frame: Value =
            serde_json::from_str(next_frame(&mut ws).await.to_text().expect("text")).expect("json");
        assert_eq!(frame["type"], "error", "{frame}");
        assert_eq!(frame["id"], id, "{frame}");
        let code = frame["payload"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("");
        assert!(code.starts_with("GRAPHQL_"), "{frame}");
    }
    // No `complete` follows an `error`: the next frame is the answer to a ping.
    ws.send(Message::text(json!({ "type": "ping" }).to_string()))
        .await
        .expect("ping");
    let frame = next_frame(&mut ws).await;
    assert!(frame.to_text().unwrap_or("").contains("pong"), "{frame:?}");
}

/// The legacy graphql-ws protocol (`start`) has its own `error` message too: one error object,
/// and no `complete` after it.
#[tokio::test]
async fn a_start_that_fails_validation_gets_the_legacy_error_message() {
    let app = TestApp::spawn().await;
    let token = app.sign_in_student("wx-ws-legacy", "13800138000").await;
    let mut ws = socket_speaking(&app, "graphql-ws").await;
    ws.send(Message::text(
        json!({ "type": "connection_init", "payload": { "token": token } }).to_string(),
    ))
    .await
    .expect("init");
    let ack = next_frame(&mut ws).await;
    assert!(
        ack.to_text().unwrap_or("").contains("connection_ack"),
        "{ack:?}"
    );
    ws.send(Message::text(
        json!({ "id": "bad", "type": "start", "payload": { "query": "subscription { noSuchField }" } })
            .to_string(),
    ))
    .await
    .expect("start");
    let frame: Value =
        serde_json::from_str(next_frame(&mut ws).await.to_text().expect("text")).expect("json");
    assert_eq!(frame["type"], "error", "{frame}");
    assert_eq!(frame["id"], "bad", "{frame}");
    assert_eq!(
        frame["payload"]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{frame}"
    );
    // A valid operation afterwards is answered as usual: the next frame is its own, not a
    // `complete` of the refused one.
    ws.send(Message::text(
        json!({ "id": "ok", "type": "start", "payload": { "query": "subscription { orderUpdates { sequence } }" } })
            .to_string(),
    ))
    .await
    .expect("start");
    ws.send(Message::text(
        json!({ "id": "ok", "type": "stop" }).to_string(),
    ))
    .await
    .expect("stop");
    let frame: Value =
        serde_json::from_str(next_frame(&mut ws).await.to_text().expect("text")).expect("json");
    assert_eq!(frame["id"], "ok", "{frame}");
    assert_eq!(frame["type"], "complete", "{frame}");
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

#[tokio::test]
async fn automatic_persisted_queries_round_trip_and_parse_once() {
    let app = TestApp::spawn().await;
    let query = "query Agreement { serviceInfo { agreementVersion } }";
    let hash = sha256(query);
    let parsed_before = app.state.metrics.documents_counted(true);
    // The hash alone: not known yet.
    let body = post(&app, None, json!({ "extensions": persisted(&hash) })).await;
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
    // The hash with the document: answered and stored.
    let body = post(
        &app,
        None,
        json!({ "query": query, "extensions": persisted(&hash) }),
    )
    .await;
    assert!(
        body["data"]["serviceInfo"]["agreementVersion"].is_string(),
        "{body}"
    );
    // The hash alone again: answered, over POST and GET.
    for _ in 0..3 {
        let body = post(&app, None, json!({ "extensions": persisted(&hash) })).await;
        assert!(
            body["data"]["serviceInfo"]["agreementVersion"].is_string(),
            "{body}"
        );
    }
    let extensions = persisted(&hash).to_string();
    let body: Value = app
        .http
        .get(app.url("/graphql"))
        .query(&[("extensions", extensions.as_str())])
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert!(
        body["data"]["serviceInfo"]["agreementVersion"].is_string(),
        "{body}"
    );
    // Parsed once; every later request used the parsed document kept by hash.
    assert_eq!(app.state.metrics.documents_counted(true) - parsed_before, 1);
    assert!(app.state.metrics.documents_counted(false) >= 4);
    // A hash that is not the document's is refused.
    let body = post(
        &app,
        None,
        json!({ "query": "{ __typename }", "extensions": persisted(&hash) }),
    )
    .await;
    assert_eq!(error_code(&body), "PERSISTED_QUERY_HASH_MISMATCH", "{body}");
    // A malformed persisted query is refused too.
    let body = post(&app, None, json!({ "extensions": persisted("abc") })).await;
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_SUPPORTED", "{body}");
    // A mutation stored by hash is still refused over GET.
    let mutation = "mutation { signOut }";
    let mutation_hash = sha256(mutation);
    post(
        &app,
        None,
        json!({ "query": mutation, "extensions": persisted(&mutation_hash) }),
    )
    .await;
    let resp = app
        .http
        .get(app.url("/graphql"))
        .query(&[("extensions", persisted(&mutation_hash).to_string())])
        .send()
        .await
        .expect("GET");
    assert_eq!(resp.status(), 405);
    // Another instance of the deployment: with Redis it knows the document; without, each
    // instance keeps its own and the client sends the document again.
    let sibling = app.spawn_sibling().await;
    let body = post(&sibling, None, json!({ "extensions": persisted(&hash) })).await;
    if app.vars.contains_key("REDIS_URL") {
        assert!(
            body["data"]["serviceInfo"]["agreementVersion"].is_string(),
            "{body}"
        );
    } else {
        assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
    }
}

#[tokio::test]
async fn trusted_documents_mode_answers_only_the_manifest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest_path = dir.path().join("manifest.json");
    // The command's manifest: the playground's examples.
    let out = Command::new(env!("CARGO_BIN_EXE_campus-photo"))
        .args(["trusted-documents", "--out"])
        .arg(&manifest_path)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest: serde_json::Map<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).expect("manifest"))
            .expect("json");
    assert_eq!(
        manifest.len(),
        campus_photo::http::playground::EXAMPLES.len()
    );
    let (_, sign_in) = campus_photo::http::playground::EXAMPLES
        .iter()
        .find(|(name, _)| name.starts_with("01-"))
        .expect("example 01");
    let sign_in_hash = sha256(sign_in);
    assert_eq!(manifest[&sign_in_hash], *sign_in);

    let path = manifest_path.display().to_string();
    let app = TestApp::spawn_with(
        |v| {
            v.insert("GRAPHQL_TRUSTED_DOCUMENTS".into(), path);
        },
        Default::default(),
    )
    .await;
    let variables = json!({ "input": { "code": "wx-trusted", "phoneCode": "13800138000", "agreementVersion": common::AGREEMENT } });
    let parsed_before = app.state.metrics.documents_counted(true);
    // A listed document, by its text and by its hash alone.
    let body = post(
        &app,
        None,
        json!({ "query": sign_in, "variables": variables }),
    )
    .await;
    assert!(body["errors"].is_null(), "{body}");
    let body = post(
        &app,
        None,
        json!({ "variables": variables, "extensions": persisted(&sign_in_hash) }),
    )
    .await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(app.state.metrics.documents_counted(true) - parsed_before, 1);
    // Anything else is refused with a code that says why.
    let body = post(
        &app,
        None,
        json!({ "query": "{ serviceInfo { agreementVersion } }" }),
    )
    .await;
    assert_eq!(error_code(&body), "QUERY_NOT_IN_SAFELIST", "{body}");
    assert!(body["data"].is_null(), "{body}");
    let other = sha256("{ __typename }");
    let body = post(&app, None, json!({ "extensions": persisted(&other) })).await;
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_IN_LIST", "{body}");
    let body = post(
        &app,
        None,
        json!({ "query": "{ __typename }", "extensions": persisted(&sign_in_hash) }),
    )
    .await;
    assert_eq!(error_code(&body), "PERSISTED_QUERY_HASH_MISMATCH", "{body}");
    // Over GET as well.
    let body: Value = app
        .http
        .get(app.url("/graphql"))
        .query(&[("query", "{ __typename }")])
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(error_code(&body), "QUERY_NOT_IN_SAFELIST", "{body}");
}
