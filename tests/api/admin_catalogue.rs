//! Admins create schools, projects and staff; roles are enforced; global ids and pages work.
use crate::common;

use common::{TestApp, error_code, project_input};
use serde_json::{Value, json};

#[tokio::test]
async fn admin_creates_school_project_and_staff() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let school = app.create_school(&admin, "10027", "北京师范大学").await;
    assert_eq!(school["userErrors"], json!([]));
    assert_eq!(school["school"]["code"], "10027");

    let mut input = project_input("10027", "ab12", "000015");
    input["mode"] = json!("CENTRAL");
    input["background"] = json!("WHITE");
    input["printLayouts"] = json!([{ "code": "1IN", "name": "一寸 8 张", "priceFen": 1000 }]);
    input["printsToSchool"] = json!(true);
    let project = app.create_project(&admin, input).await;
    assert_eq!(project["userErrors"], json!([]), "{project}");
    let p = &project["project"];
    assert_eq!(p["featureCode"], "AB12", "stored upper-case");
    assert_eq!(p["modeLabel"], "集采");
    assert_eq!(
        p["price"],
        json!({ "amountFen": 3000, "formatted": "¥30.00" })
    );
    assert_eq!(p["school"]["code"], "10027");
    assert_eq!(p["maxAutoChecks"], 10);
    assert_eq!(p["allowAlbumUpload"], true);
    assert_eq!(p["background"], "WHITE");
    assert_eq!(p["printsToSchool"], true);
    assert_eq!(p["printLayouts"][0]["price"]["formatted"], "¥10.00");

    let reviewer = app
        .staff(&admin, "reviewer1", "REVIEWER", Some("10027"))
        .await;
    let me = app
        .data(
            Some(&reviewer),
            "{ viewer { account { role username school { code } } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["viewer"]["account"]["role"], "REVIEWER");
    assert_eq!(me["viewer"]["account"]["school"]["code"], "10027");
}

#[tokio::test]
async fn invalid_catalogue_input_gets_field_errors() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let bad_school = app.create_school(&admin, "1002", "").await;
    let codes: Vec<&str> = bad_school["userErrors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["code"].as_str())
        .collect();
    assert_eq!(codes, ["INVALID_SCHOOL_CODE", "INVALID_NAME"]);
    assert_eq!(bad_school["school"], Value::Null);

    app.create_school(&admin, "10027", "北京师范大学").await;
    let dup = app.create_school(&admin, "10027", "又一个").await;
    assert_eq!(dup["userErrors"][0]["code"], "SCHOOL_EXISTS");
    assert_eq!(dup["userErrors"][0]["field"], json!(["input", "code"]));

    let bad = app
        .create_project(&admin, project_input("99999", "a!", "12"))
        .await;
    let codes: Vec<&str> = bad["userErrors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["code"].as_str())
        .collect();
    assert_eq!(
        codes,
        [
            "SCHOOL_NOT_FOUND",
            "INVALID_FEATURE_CODE",
            "INVALID_ORDER_NUMBER_PREFIX"
        ]
    );

    let ok = app
        .create_project(&admin, project_input("10027", "FC01", "000001"))
        .await;
    assert_eq!(ok["userErrors"], json!([]));
    let taken = app
        .create_project(&admin, project_input("10027", "fc01", "000002"))
        .await;
    assert_eq!(
        taken["userErrors"][0]["code"], "FEATURE_CODE_TAKEN",
        "case-insensitive uniqueness"
    );
    // A prefix may be shared by projects, and may be 4 digits as in the guides.
    let shared = app
        .create_project(&admin, project_input("10027", "FC02", "000001"))
        .await;
    assert_eq!(shared["userErrors"], json!([]), "{shared}");
    let four = app
        .create_project(&admin, project_input("10027", "FC03", "0000"))
        .await;
    assert_eq!(four["userErrors"], json!([]), "{four}");
    assert_eq!(four["project"]["orderNumberPrefix"], "0000", "{four}");

    let weak = app
        .data(
            Some(&admin),
            "mutation { createStaffAccount(input: {username: \"x\", password: \"short\", role: SCHOOL_ADMIN}) { account { id } userErrors { code } } }",
            json!({}),
        )
        .await;
    let codes: Vec<&str> = weak["createStaffAccount"]["userErrors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["code"].as_str())
        .collect();
    assert_eq!(
        codes,
        ["INVALID_USERNAME", "WEAK_PASSWORD", "SCHOOL_REQUIRED"]
    );
}

#[tokio::test]
async fn admin_mutations_refuse_other_roles() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.create_school(&admin, "10027", "北京师范大学").await;
    let student = app.sign_in_student("wx-s", "13800138000").await;
    let reviewer = app.staff(&admin, "rev", "REVIEWER", None).await;
    let q = "mutation { createSchool(input: {code: \"10028\", name: \"x\"}) { school { id } } }";
    for token in [&student, &reviewer] {
        let body = app.gql(Some(token), q, json!({})).await;
        assert_eq!(error_code(&body), "FORBIDDEN");
        assert_eq!(body["errors"][0]["message"], "没有权限执行此操作");
    }
    let body = app.gql(None, q, json!({})).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    // Nothing was created by the refused calls.
    let schools = app
        .data(Some(&admin), "{ schools { totalCount } }", json!({}))
        .await;
    assert_eq!(schools["schools"]["totalCount"], 1);
}

#[tokio::test]
async fn feature_code_is_hidden_from_students() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.create_school(&admin, "10027", "北京师范大学").await;
    let project = app
        .create_project(&admin, project_input("10027", "FC01", "000001"))
        .await;
    let id = project["project"]["id"].clone();
    let student = app.sign_in_student("wx-s", "13800138000").await;
    let q = "query($id: ID!) { node(id: $id) { id ... on Project { name featureCode } } }";
    let seen = app.data(Some(&student), q, json!({ "id": id })).await;
    assert_eq!(seen["node"]["featureCode"], Value::Null);
    assert_eq!(seen["node"]["id"], id);
    let staff_view = app.data(Some(&admin), q, json!({ "id": id })).await;
    assert_eq!(staff_view["node"]["featureCode"], "FC01");
}

#[tokio::test]
async fn unknown_and_foreign_global_ids_are_not_found() {
    let app = TestApp::spawn().await;
    let a = app.sign_in_student("wx-a", "13800138000").await;
    let b = app.sign_in_student("wx-b", "13900139000").await;
    let b_id = app
        .data(Some(&b), "{ viewer { account { id } } }", json!({}))
        .await["viewer"]["account"]["id"]
        .clone();
    let q = "query($id: ID!) { node(id: $id) { id } }";
    for id in [
        json!("garbage"),
        json!("AQAAAAAAAAAAAAAAAAAAAAA"),
        b_id.clone(),
    ] {
        let body = app.gql(Some(&a), q, json!({ "id": id })).await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{id}");
        assert_eq!(body["errors"][0]["message"], "找不到该对象");
    }
    let own = app.data(Some(&b), q, json!({ "id": b_id })).await;
    assert_eq!(own["node"]["id"], b_id);
    let many = app
        .data(
            Some(&b),
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": [b_id, "garbage"] }),
        )
        .await;
    assert_eq!(many["nodes"][1], Value::Null);
    assert_eq!(many["nodes"][0]["id"], b_id);
    let anon = app.gql(None, q, json!({ "id": b_id })).await;
    assert_eq!(error_code(&anon), "UNAUTHENTICATED");
}

#[tokio::test]
async fn connections_page_with_cursors_and_refuse_sizes_past_the_bounds() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for i in 0..5 {
        app.create_school(&admin, &format!("1000{i}"), &format!("学校{i}"))
            .await;
    }
    let q = "query($first: Int, $after: String, $last: Int, $before: String) { schools(first: $first, after: $after, last: $last, before: $before) { totalCount edges { cursor node { code } } nodes { code } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";
    let page1 = app.data(Some(&admin), q, json!({ "first": 2 })).await["schools"].clone();
    assert_eq!(page1["totalCount"], 5);
    let codes = |p: &Value| {
        p["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n["code"].as_str().unwrap_or("").to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(codes(&page1), ["10004", "10003"], "newest first");
    assert_eq!(page1["pageInfo"]["hasNextPage"], true);
    assert_eq!(page1["pageInfo"]["hasPreviousPage"], false);
    let page2 = app
        .data(
            Some(&admin),
            q,
            json!({ "first": 2, "after": page1["pageInfo"]["endCursor"] }),
        )
        .await["schools"]
        .clone();
    assert_eq!(codes(&page2), ["10002", "10001"]);
    // A first page counts in its own statement (a window over the filter), a page behind a
    // cursor in a separate one: both count every school, not only those past the cursor.
    assert_eq!(page2["totalCount"], 5);
    let page3 = app
        .data(
            Some(&admin),
            q,
            json!({ "first": 2, "after": page2["pageInfo"]["endCursor"] }),
        )
        .await["schools"]
        .clone();
    assert_eq!(codes(&page3), ["10000"]);
    assert_eq!(page3["totalCount"], 5);
    assert_eq!(page3["pageInfo"]["hasNextPage"], false);
    let back = app
        .data(
            Some(&admin),
            q,
            json!({ "last": 2, "before": page3["pageInfo"]["startCursor"] }),
        )
        .await["schools"]
        .clone();
    assert_eq!(codes(&back), ["10002", "10001"]);
    assert_eq!(back["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(back["totalCount"], 5);
    let oldest = app.data(Some(&admin), q, json!({ "last": 2 })).await["schools"].clone();
    assert_eq!(codes(&oldest), ["10001", "10000"]);
    assert_eq!(oldest["totalCount"], 5);

    // A size outside 1..=100 is refused, naming the bounds, never cut silently.
    for (first, last) in [
        (json!(100000), json!(null)),
        (json!(0), json!(null)),
        (json!(null), json!(101)),
    ] {
        let refused = app
            .gql(Some(&admin), q, json!({ "first": first, "last": last }))
            .await;
        assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
        let message = refused["errors"][0]["message"].as_str().unwrap_or("");
        assert!(message.contains("1 到 100"), "{refused}");
    }
    let most = app.data(Some(&admin), q, json!({ "first": 100 })).await["schools"].clone();
    assert_eq!(codes(&most).len(), 5);
    let bad_cursor = app
        .gql(Some(&admin), q, json!({ "first": 2, "after": "nope" }))
        .await;
    assert_eq!(error_code(&bad_cursor), "BAD_USER_INPUT");
}

#[tokio::test]
async fn school_admin_sees_only_their_school() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.create_school(&admin, "10027", "北京师范大学").await;
    app.create_school(&admin, "10425", "中国石油大学（华东）")
        .await;
    app.create_project(&admin, project_input("10027", "FC01", "000001"))
        .await;
    app.create_project(&admin, project_input("10425", "FC02", "000002"))
        .await;
    let school_admin = app
        .staff(&admin, "sa10027", "SCHOOL_ADMIN", Some("10027"))
        .await;
    let mine = app
        .data(
            Some(&school_admin),
            "{ schools { nodes { code } } projects { nodes { featureCode school { code } } } }",
            json!({}),
        )
        .await;
    assert_eq!(mine["schools"]["nodes"], json!([{ "code": "10027" }]));
    assert_eq!(
        mine["projects"]["nodes"],
        json!([{ "featureCode": "FC01", "school": { "code": "10027" } }])
    );
    let other = app
        .gql(
            Some(&school_admin),
            "{ projects(schoolCode: \"10425\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&other), "FORBIDDEN");
    let student = app.sign_in_student("wx-s", "13800138000").await;
    let body = app
        .gql(Some(&student), "{ projects { totalCount } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
}
