//! The HTTP surface: health, playground, body limits, malformed requests, GET rules, query limits.
use crate::common;

use common::{TestApp, error_code};
use serde_json::{Value, json};

#[tokio::test]
async fn health_answers() {
    let app = TestApp::spawn().await;
    let resp = app
        .http
        .get(app.url("/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn playground_points_at_both_endpoints() {
    let app = TestApp::spawn().await;
    let resp = app
        .http
        .get(app.url("/playground"))
        .send()
        .await
        .expect("playground");
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.expect("html");
    assert!(html.contains("/graphql"), "endpoint in page");
    assert!(
        html.contains("/graphql/ws"),
        "subscription endpoint in page"
    );
}

#[tokio::test]
async fn public_query_works_anonymously() {
    let app = TestApp::spawn().await;
    let data = app
        .data(None, "{ serviceInfo { agreementTitle agreementVersion customerServicePhone customerServiceHours } viewer { account { id } } }", json!({}))
        .await;
    assert_eq!(
        data["serviceInfo"]["agreementTitle"],
        "《大学生图像信息采集网服务使用协议》"
    );
    assert_eq!(data["serviceInfo"]["customerServicePhone"], "010-63072281");
    assert_eq!(
        data["serviceInfo"]["customerServiceHours"],
        "周一至周五 8:00-17:00"
    );
    assert_eq!(data["viewer"], Value::Null);
}

#[tokio::test]
async fn service_info_is_configurable() {
    let app = TestApp::spawn_with(
        |v| {
            v.insert("CUSTOMER_SERVICE_PHONE".into(), "400-000-0000".into());
        },
        Default::default(),
    )
    .await;
    let data = app
        .data(None, "{ serviceInfo { customerServicePhone } }", json!({}))
        .await;
    assert_eq!(data["serviceInfo"]["customerServicePhone"], "400-000-0000");
}

#[tokio::test]
async fn rejection_reasons_come_from_the_catalogue() {
    let app = TestApp::spawn().await;
    let data = app
        .data(None, "{ rejectionReasons { code message } }", json!({}))
        .await;
    let reasons = data["rejectionReasons"].as_array().expect("list");
    let pitch = reasons
        .iter()
        .find(|r| r["code"] == "POSE_PITCH")
        .expect("POSE_PITCH offered");
    assert_eq!(pitch["message"], "不可以俯视或者仰视，请保持平视镜头");
    assert!(reasons.iter().any(|r| r["code"] == "OCC_EXTRA_CONTENT"));
    assert!(
        reasons.iter().all(|r| r["code"] != "WITHDRAWN"),
        "WITHDRAWN is the student's, not a reviewer's"
    );
}

#[tokio::test]
async fn malformed_json_is_a_400_with_a_code() {
    let app = TestApp::spawn().await;
    let resp = app
        .http
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body("{\"query\": ")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(error_code(&body), "BAD_REQUEST");
}

#[tokio::test]
async fn json_body_over_one_mebibyte_is_413() {
    let app = TestApp::spawn().await;
    let padding = "x".repeat(1024 * 1024 + 10);
    let resp = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ serviceInfo { agreementVersion } }", "variables": { "pad": padding } }))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 413);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(error_code(&body), "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn get_serves_queries_but_refuses_mutations() {
    let app = TestApp::spawn().await;
    let ok = app
        .http
        .get(app.url("/graphql"))
        .query(&[("query", "{ serviceInfo { agreementVersion } }")])
        .send()
        .await
        .expect("get");
    assert_eq!(ok.status(), 200);
    let body: Value = ok.json().await.expect("json");
    assert_eq!(
        body["data"]["serviceInfo"]["agreementVersion"],
        common::AGREEMENT
    );

    let refused = app
        .http
        .get(app.url("/graphql"))
        .query(&[("query", "mutation { signOut }")])
        .send()
        .await
        .expect("get");
    assert_eq!(refused.status(), 405);
    let body: Value = refused.json().await.expect("json");
    assert_eq!(error_code(&body), "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn batches_run_and_are_capped() {
    let app = TestApp::spawn().await;
    let op = json!({ "query": "{ serviceInfo { agreementVersion } }" });
    let resp = app
        .http
        .post(app.url("/graphql"))
        .json(&vec![op.clone(); 3])
        .send()
        .await
        .expect("batch");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body.as_array().map(Vec::len), Some(3));

    let resp = app
        .http
        .post(app.url("/graphql"))
        .json(&vec![op; 11])
        .send()
        .await
        .expect("batch");
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(error_code(&body), "BATCH_TOO_LARGE");
}

#[tokio::test]
async fn deep_queries_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    // An order's events name their order, whose events name it again: 11 levels go past the
    // limit of 10.
    let deep = "{ viewer { orders(first: 1) { nodes { events { order { events { order { events { order { events { id } } } } } } } } } } }";
    let body = app.gql(Some(&admin), deep, json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains("nested too deep"), "{body}");
    assert!(message.contains("depth 11, at most 10"), "{body}");
    assert_eq!(error_code(&body), "QUERY_TOO_DEEP", "{body}");
    assert!(body["data"].is_null());
    // The cost says so too.
    assert_eq!(body["extensions"]["cost"]["depth"], 11, "{body}");
    // Introspection mixed with anything else is held to the same limit.
    let mixed = format!(
        "{{ __schema {{ queryType {{ name }} }} {} }}",
        &deep[1..deep.len() - 1]
    );
    let body = app.gql(Some(&admin), &mixed, json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_DEEP", "{body}");
}

#[tokio::test]
async fn expensive_queries_are_refused_by_complexity() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    // 100 × 100 nested items through aliases go past the complexity budget.
    let fields: String = (0..30)
        .map(|i| format!("p{i}: projects(first: 100) {{ nodes {{ id name school {{ code name }} price {{ formatted }} }} }} "))
        .collect();
    let body = app
        .gql(Some(&admin), &format!("{{ {fields} }}"), json!({}))
        .await;
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains("too complex"), "{body}");
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");
}

#[tokio::test]
async fn every_answer_reports_its_cost_against_the_limits() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let small = app
        .gql(
            Some(&admin),
            "{ projects(first: 1) { nodes { id } } }",
            json!({}),
        )
        .await;
    let cost = &small["extensions"]["cost"];
    assert_eq!(cost["maxComplexity"], 2000, "{small}");
    assert_eq!(cost["maxDepth"], 10);
    // projects, nodes, id: fields counted with fragments expanded, against their own limit.
    assert_eq!(cost["fields"], 3, "{small}");
    assert_eq!(cost["maxFields"], 5000);
    let spread = app
        .gql(
            Some(&admin),
            "{ ...P ...P } fragment P on Query { projects(first: 1) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(spread["extensions"]["cost"]["fields"], 6, "{spread}");
    let (c1, d1) = (cost["complexity"].as_u64(), cost["depth"].as_u64());
    assert!(c1.is_some_and(|c| c > 0) && d1 == Some(3), "{small}");
    // A larger page of the same fields costs more: the cost follows `first`.
    let larger = app
        .gql(
            Some(&admin),
            "{ projects(first: 50) { nodes { id } } }",
            json!({}),
        )
        .await;
    let c2 = larger["extensions"]["cost"]["complexity"].as_u64();
    assert!(c2 > c1, "{c1:?} vs {c2:?}");
}

#[tokio::test]
async fn introspection_can_be_turned_off_for_production() {
    let closed = TestApp::spawn_with(
        |v| {
            v.insert("GRAPHQL_INTROSPECTION".into(), "false".into());
        },
        Default::default(),
    )
    .await;
    let query = "{ __schema { queryType { name } } }";
    // async-graphql answers introspection with null when it is off: nothing of the schema shows.
    let body = closed.gql(None, query, json!({})).await;
    assert!(body["data"]["__schema"].is_null(), "{body}");
    assert!(!body.to_string().contains("\"Query\""), "{body}");
    // Ordinary queries still work.
    let info = closed
        .gql(None, "{ serviceInfo { customerServicePhone } }", json!({}))
        .await;
    assert!(
        info["data"]["serviceInfo"]["customerServicePhone"].is_string(),
        "{info}"
    );
    // Nor do "Did you mean …?" hints, or the playground's examples, which spell the schema out.
    let typo = closed
        .gql(None, "{ serviceInf { customerServicePhone } }", json!({}))
        .await;
    assert!(!typo.to_string().contains("Did you mean"), "{typo}");
    assert!(!typo.to_string().contains("serviceInfo"), "{typo}");
    for path in [
        "/playground/examples.json",
        "/playground/examples/01-student-sign-in.graphql",
    ] {
        let resp = closed.http.get(closed.url(path)).send().await.expect("get");
        assert_eq!(resp.status(), 404, "{path}");
    }
    // And by default (development) it is on, hints and examples included.
    let open = TestApp::spawn().await;
    let body = open.gql(None, query, json!({})).await;
    assert_eq!(
        body["data"]["__schema"]["queryType"]["name"], "Query",
        "{body}"
    );
    let typo = open
        .gql(None, "{ serviceInf { customerServicePhone } }", json!({}))
        .await;
    assert!(typo.to_string().contains("serviceInfo"), "{typo}");
    let resp = open
        .http
        .get(open.url("/playground/examples.json"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 200);
}
