//! 查找学生 (`searchStudents`) over HTTP: staff find a student, within their scope, by order
//! number, phone (or its last 4), ID number (or its last 4), exact name, student or admission
//! number; results are masked and paged; rows written before the blind indexes are backfilled.
use serde_json::{Value, json};

use crate::common::{error_code, flow, project_input};

const SEARCH: &str = "query($q: String!, $school: String, $first: Int, $after: String) { searchStudents(query: $q, schoolCode: $school, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id name idNumber studentNumber admissionNumber contactPhone school { code } orders { number status } } } }";
const ADD_FRESHMAN: &str = "mutation($i: AddFreshmanEnrollmentInput!) { addFreshmanEnrollment(input: $i) { enrollment { id } userErrors { code field message } } }";

struct World {
    shop: flow::Shop,
    reviewer: String,
    other_admin: String,
    /// A collection-code student (phone 13800138000, 学号 201911010101, ID …123X) with an order.
    coded: Value,
    order_number: String,
    /// A freshman (李小四, 11010519491231002X, phone 13912345678).
    freshman: Value,
}

async fn world() -> World {
    let shop = flow::shop().await;
    let app = &shop.app;
    let s = shop.student("search-coded").await;
    let order = shop.submit(&s).await;
    let mut fresh = project_input("10027", "NEW27", "000017");
    fresh["mode"] = json!("FRESHMAN");
    assert_eq!(
        app.create_project(&shop.admin, fresh).await["userErrors"],
        json!([])
    );
    let f = app.sign_in_student("search-fresh", "13912345678").await;
    let added = app
        .data(
            Some(&f),
            ADD_FRESHMAN,
            json!({ "i": { "featureCode": "NEW27", "name": "李小四", "idNumber": "11010519491231002x", "admissionNumber": "2027000001" } }),
        )
        .await["addFreshmanEnrollment"]
        .clone();
    assert_eq!(added["userErrors"], json!([]), "{added}");
    app.create_school(&shop.admin, "10001", "北京大学").await;
    let reviewer = app
        .staff(&shop.admin, "search-reviewer", "REVIEWER", Some("10027"))
        .await;
    let other_admin = app
        .staff(&shop.admin, "search-other", "SCHOOL_ADMIN", Some("10001"))
        .await;
    World {
        reviewer,
        other_admin,
        coded: s.enrollment,
        order_number: order["number"].as_str().expect("number").to_string(),
        freshman: added["enrollment"]["id"].clone(),
        shop,
    }
}

async fn search(w: &World, token: &str, q: &str) -> Value {
    w.shop
        .app
        .data(Some(token), SEARCH, json!({ "q": q }))
        .await["searchStudents"]
        .clone()
}

fn ids(found: &Value) -> Vec<Value> {
    found["nodes"]
        .as_array()
        .map(|n| n.iter().map(|e| e["id"].clone()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn staff_find_a_student_by_what_a_caller_can_tell_them() {
    let w = world().await;
    let coded = vec![w.coded.clone()];
    let freshman = vec![w.freshman.clone()];
    for (q, expected) in [
        (w.order_number.as_str(), &coded),
        ("13800138000", &coded),
        ("138 0013 8000", &coded),
        ("8000", &coded),
        ("123x", &coded),
        ("201911010101", &coded),
        ("13912345678", &freshman),
        ("5678", &freshman),
        ("002X", &freshman),
        ("11010519491231002x", &freshman),
        ("李小四", &freshman),
        (" 李 小四 ", &freshman),
        ("2027000001", &freshman),
    ] {
        let found = search(&w, &w.reviewer, q).await;
        assert_eq!(&ids(&found), expected, "{q}: {found}");
        assert_eq!(found["totalCount"], json!(expected.len()), "{q}");
    }
    for q in ["13700137000", "9999", "张三", "110105194912310021"] {
        let found = search(&w, &w.reviewer, q).await;
        assert_eq!(found["totalCount"], 0, "{q}: {found}");
    }

    // Masked as everywhere, with the enrollment's orders.
    let found = search(&w, &w.reviewer, "李小四").await;
    let hit = &found["nodes"][0];
    assert_eq!(hit["name"], "李*四", "{hit}");
    assert_eq!(hit["idNumber"], "110105********002X", "{hit}");
    assert_eq!(hit["contactPhone"], "139****5678", "{hit}");
    let found = search(&w, &w.reviewer, &w.order_number).await;
    let hit = &found["nodes"][0];
    assert_eq!(hit["contactPhone"], "138****8000", "{hit}");
    assert_eq!(hit["orders"][0]["number"], w.order_number.as_str(), "{hit}");
    assert_eq!(hit["orders"][0]["status"], "PENDING_PAYMENT", "{hit}");
    let text = found.to_string();
    assert!(!text.contains("13800138000"), "{text}");
}

#[tokio::test]
async fn search_stays_within_scope_and_refuses_what_it_cannot_read() {
    let w = world().await;
    let app = &w.shop.app;
    // Another school's admin finds nothing of 10027, and may not name it.
    let found = search(&w, &w.other_admin, "13800138000").await;
    assert_eq!(found["totalCount"], 0, "{found}");
    let body = app
        .gql(
            Some(&w.other_admin),
            SEARCH,
            json!({ "q": "13800138000", "school": "10027" }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    // The admin finds it everywhere, or in the school named.
    let admin = &w.shop.admin;
    assert_eq!(search(&w, admin, "8000").await["totalCount"], 1);
    let body = app
        .data(
            Some(admin),
            SEARCH,
            json!({ "q": "8000", "school": "10001" }),
        )
        .await;
    assert_eq!(body["searchStudents"]["totalCount"], 0, "{body}");
    // Students may not search; a text that can be nothing searched for is refused.
    let student = app.sign_in_student("search-nosy", "13700137000").await;
    let body = app
        .gql(Some(&student), SEARCH, json!({ "q": "8000" }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = app.gql(None, SEARCH, json!({ "q": "8000" })).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    for q in ["", "!!", "?*%"] {
        let body = app.gql(Some(&w.reviewer), SEARCH, json!({ "q": q })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{q}: {body}");
    }
    let body = app
        .gql(
            Some(&w.reviewer),
            SEARCH,
            json!({ "q": "8000", "first": 101 }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
}

#[tokio::test]
async fn results_are_paged_newest_first() {
    let w = world().await;
    // A second student with the same phone tail.
    let s2 = w.shop.student("search-coded-2").await;
    let app = &w.shop.app;
    let page1 = app
        .data(
            Some(&w.reviewer),
            SEARCH,
            json!({ "q": "8000", "first": 1 }),
        )
        .await["searchStudents"]
        .clone();
    assert_eq!(page1["totalCount"], 2, "{page1}");
    assert_eq!(ids(&page1), vec![s2.enrollment.clone()], "newest first");
    assert_eq!(page1["pageInfo"]["hasNextPage"], true);
    let page2 = app
        .data(
            Some(&w.reviewer),
            SEARCH,
            json!({ "q": "8000", "first": 1, "after": page1["pageInfo"]["endCursor"] }),
        )
        .await["searchStudents"]
        .clone();
    assert_eq!(ids(&page2), vec![w.coded.clone()], "{page2}");
    assert_eq!(page2["pageInfo"]["hasNextPage"], false);
    assert_eq!(page2["totalCount"], 2);
}

#[tokio::test]
async fn phones_and_names_written_before_the_indexes_are_found_after_the_backfill() {
    use campus_photo::entities::{account, enrollment};
    use sea_orm::{EntityTrait, sea_query::Expr};
    let w = world().await;
    let db = &w.shop.app.state.db;
    account::Entity::update_many()
        .col_expr(
            account::Column::PhoneIndex,
            Expr::value(Option::<String>::None),
        )
        .exec(db)
        .await
        .expect("forget phone indexes");
    enrollment::Entity::update_many()
        .col_expr(
            enrollment::Column::NameIndex,
            Expr::value(Option::<String>::None),
        )
        .exec(db)
        .await
        .expect("forget name indexes");
    assert_eq!(
        search(&w, &w.reviewer, "13800138000").await["totalCount"],
        0
    );
    assert_eq!(search(&w, &w.reviewer, "李小四").await["totalCount"], 0);
    let indexed = campus_photo::services::search::backfill_indexes(&w.shop.app.state)
        .await
        .expect("backfill");
    assert!(indexed >= 3, "two students' phones and one name: {indexed}");
    assert_eq!(
        search(&w, &w.reviewer, "13800138000").await["totalCount"],
        1
    );
    assert_eq!(search(&w, &w.reviewer, "李小四").await["totalCount"], 1);
    let again = campus_photo::services::search::backfill_indexes(&w.shop.app.state)
        .await
        .expect("backfill again");
    assert_eq!(again, 0, "idempotent");
}
