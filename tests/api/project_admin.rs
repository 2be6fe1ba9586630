//! Projects over their whole life (updateProject, closeProject, reopenProject, extendProject)
//! over HTTP: the refusals an operator can fix, scope (a school admin of another school gets
//! NOT_FOUND), the student's PROJECT_CLOSED, and the audit records admins read.
use serde_json::{Value, json};

use crate::common::{error_code, flow, mint_code};

const FIELDS: &str = "project { id name featureCode price { amountFen } opensAt closesAt closedAt allowAlbumUpload maxAutoChecks background } userErrors { code field message }";
const AUDIT: &str = "query($t: ID) { auditRecords(targetId: $t, first: 20) { totalCount nodes { action targetType targetId actor { username } before after createdAt } } }";

async fn mutate(
    shop: &flow::Shop,
    token: &str,
    name: &str,
    input_type: &str,
    input: Value,
) -> Value {
    let q = format!("mutation($i: {input_type}!) {{ {name}(input: $i) {{ {FIELDS} }} }}");
    shop.app.data(Some(token), &q, json!({ "i": input })).await[name].clone()
}

async fn project_id(shop: &flow::Shop) -> Value {
    shop.app
        .data(
            Some(&shop.admin),
            "{ projects(first: 1) { nodes { id } } }",
            json!({}),
        )
        .await["projects"]["nodes"][0]["id"]
        .clone()
}

fn codes(payload: &Value) -> Vec<String> {
    payload["userErrors"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|e| e["code"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn operators_update_a_project_and_refusals_change_nothing() {
    let shop = flow::shop().await;
    let id = project_id(&shop).await;
    let school_admin = shop
        .app
        .staff(&shop.admin, "p-school-admin", "SCHOOL_ADMIN", Some("10027"))
        .await;
    let r = mutate(
        &shop,
        &school_admin,
        "updateProject",
        "UpdateProjectInput",
        json!({ "projectId": id, "name": "2027届毕业生图像采集（补拍）", "priceFen": 2500, "featureCode": "bnu27b",
                "opensAt": "2026-01-01T00:00:00Z", "closesAt": "2030-01-01T00:00:00Z", "allowAlbumUpload": false,
                "maxAutoChecks": 5, "background": "WHITE" }),
    )
    .await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    let p = &r["project"];
    assert_eq!(p["name"], "2027届毕业生图像采集（补拍）");
    assert_eq!(p["featureCode"], "BNU27B");
    assert_eq!(p["price"]["amountFen"], 2500);
    assert_eq!(p["allowAlbumUpload"], false);
    assert_eq!(p["maxAutoChecks"], 5);
    assert_eq!(p["background"], "WHITE");

    // Refusals, each on its field; nothing changes.
    let other = shop
        .app
        .create_project(
            &shop.admin,
            crate::common::project_input("10027", "TAKEN1", "000016"),
        )
        .await;
    assert_eq!(other["userErrors"], json!([]), "{other}");
    for (input, code, field) in [
        (json!({ "priceFen": -1 }), "INVALID_PRICE", "priceFen"),
        (
            json!({ "closesAt": "2025-12-31T00:00:00Z" }),
            "INVALID_WINDOW",
            "closesAt",
        ),
        (
            json!({ "opensAt": "2031-01-01T00:00:00Z" }),
            "INVALID_WINDOW",
            "opensAt",
        ),
        (
            json!({ "featureCode": "taken1" }),
            "FEATURE_CODE_TAKEN",
            "featureCode",
        ),
        (
            json!({ "featureCode": "x" }),
            "INVALID_FEATURE_CODE",
            "featureCode",
        ),
        (
            json!({ "maxAutoChecks": 0 }),
            "INVALID_MAX_AUTO_CHECKS",
            "maxAutoChecks",
        ),
        (json!({ "name": " " }), "INVALID_NAME", "name"),
    ] {
        let mut input = input;
        input["projectId"] = id.clone();
        let r = mutate(
            &shop,
            &shop.admin,
            "updateProject",
            "UpdateProjectInput",
            input,
        )
        .await;
        assert_eq!(codes(&r), vec![code.to_string()], "{r}");
        assert_eq!(r["userErrors"][0]["field"], json!(["input", field]), "{r}");
        assert!(r["project"].is_null());
    }
    let now = shop
        .app
        .data(Some(&shop.admin), "query($id: ID!) { node(id: $id) { ... on Project { featureCode price { amountFen } closesAt } } }", json!({ "id": id }))
        .await;
    assert_eq!(now["node"]["featureCode"], "BNU27B", "{now}");
    assert_eq!(now["node"]["price"]["amountFen"], 2500, "{now}");

    // The audit trail: who, what, before and after.
    let audit = shop
        .app
        .data(Some(&shop.admin), AUDIT, json!({ "t": id }))
        .await["auditRecords"]
        .clone();
    assert_eq!(audit["totalCount"], 2, "{audit}");
    assert_eq!(audit["nodes"][1]["action"], "PROJECT_CREATED", "{audit}");
    let rec = &audit["nodes"][0];
    assert_eq!(rec["action"], "PROJECT_UPDATED");
    assert_eq!(rec["targetType"], "PROJECT");
    assert_eq!(rec["targetId"], id);
    assert_eq!(rec["actor"]["username"], "p-school-admin");
    let before: Value =
        serde_json::from_str(rec["before"].as_str().expect("before")).expect("json");
    let after: Value = serde_json::from_str(rec["after"].as_str().expect("after")).expect("json");
    assert_eq!(
        (before["priceFen"].clone(), after["priceFen"].clone()),
        (json!(3000), json!(2500))
    );
    assert_eq!(
        (before["featureCode"].clone(), after["featureCode"].clone()),
        (json!("BNU27"), json!("BNU27B"))
    );
    // Only admins read it.
    let body = shop
        .app
        .gql(Some(&school_admin), AUDIT, json!({ "t": id }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
}

#[tokio::test]
async fn a_closed_project_refuses_students_until_reopened_and_extending_moves_its_end() {
    let shop = flow::shop().await;
    let id = project_id(&shop).await;
    let student = shop.student("p-closing").await;
    let r = mutate(
        &shop,
        &shop.admin,
        "closeProject",
        "ProjectIdInput",
        json!({ "projectId": id }),
    )
    .await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert!(r["project"]["closedAt"].is_string(), "{r}");
    let again = mutate(
        &shop,
        &shop.admin,
        "closeProject",
        "ProjectIdInput",
        json!({ "projectId": id }),
    )
    .await;
    assert_eq!(codes(&again), vec!["PROJECT_ALREADY_CLOSED"], "{again}");

    // Students get PROJECT_CLOSED: a new enrollment and a new order alike.
    let other = shop.app.sign_in_student("p-late", "13900139000").await;
    let added = shop
        .app
        .data(
            Some(&other),
            "mutation($i: AddEnrollmentInput!) { addEnrollment(input: $i) { enrollment { id } userErrors { code } } }",
            json!({ "i": { "collectionCode": mint_code(|_| {}), "idNumberLast4": "123X", "featureCode": "BNU27" } }),
        )
        .await["addEnrollment"]
        .clone();
    assert_eq!(codes(&added), vec!["PROJECT_CLOSED"], "{added}");
    let submitted = shop
        .order_mutation(
            &student.token,
            "submitOrder",
            json!({ "photoId": student.photo, "notificationConsent": true }),
        )
        .await;
    assert_eq!(codes(&submitted), vec!["PROJECT_CLOSED"], "{submitted}");

    let r = mutate(
        &shop,
        &shop.admin,
        "reopenProject",
        "ProjectIdInput",
        json!({ "projectId": id }),
    )
    .await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert!(r["project"]["closedAt"].is_null(), "{r}");
    let again = mutate(
        &shop,
        &shop.admin,
        "reopenProject",
        "ProjectIdInput",
        json!({ "projectId": id }),
    )
    .await;
    assert_eq!(codes(&again), vec!["PROJECT_NOT_CLOSED"], "{again}");
    shop.submit(&student).await;

    // 延期: later than the current end and than now.
    let r = mutate(
        &shop,
        &shop.admin,
        "updateProject",
        "UpdateProjectInput",
        json!({ "projectId": id, "closesAt": "2030-01-01T00:00:00Z" }),
    )
    .await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    let earlier = mutate(
        &shop,
        &shop.admin,
        "extendProject",
        "ExtendProjectInput",
        json!({ "projectId": id, "closesAt": "2029-01-01T00:00:00Z" }),
    )
    .await;
    assert_eq!(codes(&earlier), vec!["INVALID_WINDOW"], "{earlier}");
    let r = mutate(
        &shop,
        &shop.admin,
        "extendProject",
        "ExtendProjectInput",
        json!({ "projectId": id, "closesAt": "2031-06-30T00:00:00Z" }),
    )
    .await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert_eq!(r["project"]["closesAt"], "2031-06-30T00:00:00+00:00", "{r}");

    let audit = shop
        .app
        .data(Some(&shop.admin), AUDIT, json!({ "t": id }))
        .await["auditRecords"]
        .clone();
    let actions: Vec<&str> = audit["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["action"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        actions,
        vec![
            "PROJECT_EXTENDED",
            "PROJECT_UPDATED",
            "PROJECT_REOPENED",
            "PROJECT_CLOSED",
            "PROJECT_CREATED"
        ],
        "{audit}"
    );
}

#[tokio::test]
async fn other_schools_and_other_roles_cannot_touch_a_project() {
    let shop = flow::shop().await;
    let id = project_id(&shop).await;
    shop.app
        .create_school(&shop.admin, "10001", "北京大学")
        .await;
    let other_admin = shop
        .app
        .staff(&shop.admin, "p-other-admin", "SCHOOL_ADMIN", Some("10001"))
        .await;
    let reviewer = shop
        .app
        .staff(&shop.admin, "p-reviewer", "REVIEWER", Some("10027"))
        .await;
    let student = shop.app.sign_in_student("p-student", "13800138000").await;
    for (name, input_type, input) in [
        (
            "updateProject",
            "UpdateProjectInput",
            json!({ "projectId": id, "priceFen": 1 }),
        ),
        ("closeProject", "ProjectIdInput", json!({ "projectId": id })),
        (
            "reopenProject",
            "ProjectIdInput",
            json!({ "projectId": id }),
        ),
        (
            "extendProject",
            "ExtendProjectInput",
            json!({ "projectId": id, "closesAt": "2031-01-01T00:00:00Z" }),
        ),
    ] {
        let q = format!("mutation($i: {input_type}!) {{ {name}(input: $i) {{ {FIELDS} }} }}");
        let body = shop
            .app
            .gql(Some(&other_admin), &q, json!({ "i": input }))
            .await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{name}: {body}");
        let body = shop
            .app
            .gql(Some(&reviewer), &q, json!({ "i": input }))
            .await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{name}: {body}");
        let body = shop
            .app
            .gql(Some(&student), &q, json!({ "i": input }))
            .await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{name}: {body}");
        let body = shop.app.gql(None, &q, json!({ "i": input })).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{name}: {body}");
    }
    let now = shop
        .app
        .data(Some(&shop.admin), "query($id: ID!) { node(id: $id) { ... on Project { price { amountFen } closedAt closesAt } } }", json!({ "id": id }))
        .await;
    assert_eq!(
        now["node"],
        json!({ "price": { "amountFen": 3000 }, "closedAt": null, "closesAt": null }),
        "{now}"
    );
    let audit = shop
        .app
        .data(Some(&shop.admin), AUDIT, json!({ "t": id }))
        .await;
    assert_eq!(
        audit["auditRecords"]["totalCount"], 1,
        "only its creation: {audit}"
    );
}
