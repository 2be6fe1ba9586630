//! addEnrollment, addFreshmanEnrollment, acknowledgeCaptureGuide and viewer.enrollments over HTTP.
use crate::common;

use common::{TestApp, error_code, fixture_code_keys, mint_code, project_input};
use serde_json::{Value, json};

const ADD: &str = "mutation($i: AddEnrollmentInput!) { addEnrollment(input: $i) { enrollment { id source name idNumber registryStudentId college major studentNumber educationLevel graduationYear autoChecksRemaining captureGuideAcknowledgedAt school { code } project { name featureCode } } userErrors { code field message } } }";
const ADD_FRESHMAN: &str = "mutation($i: AddFreshmanEnrollmentInput!) { addFreshmanEnrollment(input: $i) { enrollment { id source name idNumber admissionNumber project { modeLabel } } userErrors { code field message } } }";

struct World {
    app: TestApp,
    admin: String,
}

async fn world() -> World {
    let app = TestApp::spawn_with(
        |v| {
            v.insert("COLLECTION_CODE_KEYS".into(), fixture_code_keys());
        },
        Default::default(),
    )
    .await;
    let admin = app.admin_token().await;
    app.create_school(&admin, "10027", "北京师范大学").await;
    app.create_school(&admin, "10425", "中国石油大学（华东）")
        .await;
    let p = app
        .create_project(&admin, project_input("10027", "BNU27", "000015"))
        .await;
    assert_eq!(p["userErrors"], json!([]));
    app.create_project(&admin, project_input("10425", "UPC27", "000016"))
        .await;
    let mut fresh = project_input("10027", "NEW27", "000017");
    fresh["mode"] = json!("FRESHMAN");
    app.create_project(&admin, fresh).await;
    let mut closed = project_input("10027", "OLD26", "000018");
    closed["closesAt"] = json!("2020-01-01T00:00:00Z");
    closed["opensAt"] = json!("2019-01-01T00:00:00Z");
    app.create_project(&admin, closed).await;
    World { app, admin }
}

async fn add(app: &TestApp, token: &str, code: &str, last4: &str, feature: &str) -> Value {
    app.data(
        Some(token),
        ADD,
        json!({ "i": { "collectionCode": code, "idNumberLast4": last4, "featureCode": feature } }),
    )
    .await["addEnrollment"]
        .clone()
}

#[tokio::test]
async fn student_adds_collection_info_from_a_code() {
    let w = world().await;
    let token = w.app.sign_in_student("wx-1", "13800138000").await;
    let code = mint_code(|c| c.sid = "S0001".into());
    let r = add(&w.app, &token, &code, "123x", "bnu27").await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    let e = &r["enrollment"];
    assert_eq!(e["source"], "COLLECTION_CODE");
    assert_eq!(e["name"], "张*三");
    assert_eq!(e["idNumber"], "110101********123X");
    assert_eq!(e["registryStudentId"], "S0001");
    assert_eq!(e["college"], "文学院");
    assert_eq!(e["educationLevel"], "本科");
    assert_eq!(e["graduationYear"], 2027);
    assert_eq!(e["autoChecksRemaining"], 10);
    assert_eq!(e["captureGuideAcknowledgedAt"], Value::Null);
    assert_eq!(e["school"]["code"], "10027");
    assert_eq!(
        e["project"]["featureCode"],
        Value::Null,
        "students do not see feature codes"
    );

    let listed = w
        .app
        .data(Some(&token), "{ viewer { enrollments { id } } }", json!({}))
        .await;
    assert_eq!(listed["viewer"]["enrollments"], json!([{ "id": e["id"] }]));

    // The student may override college and major.
    let other = mint_code(|c| c.sid = "S0002".into());
    let r = w
        .app
        .data(Some(&token), ADD, json!({ "i": { "collectionCode": other, "idNumberLast4": "123X", "featureCode": "BNU27", "college": "物理学系", "major": "物理学" } }))
        .await;
    assert_eq!(r["addEnrollment"]["enrollment"]["college"], "物理学系");
}

#[tokio::test]
async fn each_refusal_has_its_code() {
    let w = world().await;
    let token = w.app.sign_in_student("wx-1", "13800138000").await;
    let code = mint_code(|_| {});
    let cases = [
        (
            code.clone(),
            "123X",
            "NOPE1",
            "INVALID_FEATURE_CODE",
            "featureCode",
        ),
        (
            code.clone(),
            "123X",
            "a!",
            "INVALID_FEATURE_CODE",
            "featureCode",
        ),
        (
            code.clone(),
            "123X",
            "OLD26",
            "PROJECT_CLOSED",
            "featureCode",
        ),
        (
            code.clone(),
            "123X",
            "UPC27",
            "SCHOOL_MISMATCH",
            "featureCode",
        ),
        (
            code.clone(),
            "123X",
            "NEW27",
            "WRONG_PROJECT_MODE",
            "featureCode",
        ),
        (
            code.clone(),
            "12",
            "BNU27",
            "INVALID_ID_LAST4",
            "idNumberLast4",
        ),
        (
            // Expired by the server's clock (which stands still in tests), not the wall clock.
            mint_code(|c| c.exp = campus_photo::clock::Clock::now(&w.app.clock).timestamp() - 1),
            "123X",
            "BNU27",
            "COLLECTION_CODE_EXPIRED",
            "collectionCode",
        ),
        (
            "CQ1.bad.sig".to_string(),
            "123X",
            "BNU27",
            "COLLECTION_CODE_INVALID",
            "collectionCode",
        ),
    ];
    for (code, last4, feature, expected, field) in cases {
        let r = add(&w.app, &token, &code, last4, feature).await;
        assert_eq!(r["enrollment"], Value::Null, "{expected}");
        assert_eq!(r["userErrors"][0]["code"], expected, "{r}");
        assert_eq!(
            r["userErrors"][0]["field"],
            json!(["input", field]),
            "{expected}"
        );
    }
    let listed = w
        .app
        .data(Some(&token), "{ viewer { enrollments { id } } }", json!({}))
        .await;
    assert_eq!(
        listed["viewer"]["enrollments"],
        json!([]),
        "nothing was saved"
    );
}

#[tokio::test]
async fn wrong_id_tails_are_limited_per_account() {
    let w = world().await;
    let token = w.app.sign_in_student("wx-1", "13800138000").await;
    let code = mint_code(|_| {});
    for _ in 0..5 {
        let r = add(&w.app, &token, &code, "9999", "BNU27").await;
        assert_eq!(r["userErrors"][0]["code"], "ID_LAST4_MISMATCH");
    }
    // Even the right tail is refused until the window passes.
    let r = add(&w.app, &token, &code, "123X", "BNU27").await;
    assert_eq!(r["userErrors"][0]["code"], "TOO_MANY_ATTEMPTS");
    // Another account is not affected.
    let other = w.app.sign_in_student("wx-2", "13900139000").await;
    let fine = add(&w.app, &other, &mint_code(|_| {}), "123X", "BNU27").await;
    assert_eq!(fine["userErrors"], json!([]));
    w.app.clock.advance(chrono::Duration::minutes(61));
    let r = add(&w.app, &token, &code, "123X", "BNU27").await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
}

#[tokio::test]
async fn one_enrollment_per_registry_student_and_project() {
    let w = world().await;
    let a = w.app.sign_in_student("wx-a", "13800138000").await;
    let b = w.app.sign_in_student("wx-b", "13900139000").await;
    let code = mint_code(|c| c.sid = "S-dup".into());
    assert_eq!(
        add(&w.app, &a, &code, "123X", "BNU27").await["userErrors"],
        json!([])
    );
    for token in [&a, &b] {
        let r = add(&w.app, token, &code, "123X", "BNU27").await;
        assert_eq!(r["userErrors"][0]["code"], "ALREADY_ENROLLED");
        let message = r["userErrors"][0]["message"].as_str().unwrap_or("");
        assert!(
            !message.contains("138") && !message.contains("139"),
            "does not reveal the holder: {message}"
        );
    }
}

#[tokio::test]
async fn freshmen_enroll_with_their_details_stored_encrypted() {
    use sea_orm::EntityTrait;
    let w = world().await;
    let token = w.app.sign_in_student("wx-new", "13800138000").await;
    let input = json!({ "featureCode": "new27", "name": "李小雷", "idNumber": "11010519491231002x", "admissionNumber": "2027110101" });
    let r = w
        .app
        .data(Some(&token), ADD_FRESHMAN, json!({ "i": input }))
        .await["addFreshmanEnrollment"]
        .clone();
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert_eq!(r["enrollment"]["source"], "FRESHMAN");
    assert_eq!(
        r["enrollment"]["name"], "李小雷",
        "the owner sees what they typed"
    );
    assert_eq!(r["enrollment"]["idNumber"], "11010519491231002X");
    assert_eq!(r["enrollment"]["project"]["modeLabel"], "新生");
    let id = r["enrollment"]["id"].clone();

    // Staff in scope see it masked.
    let reviewer = w
        .app
        .staff(&w.admin, "rev", "REVIEWER", Some("10027"))
        .await;
    let seen = w
        .app
        .data(
            Some(&reviewer),
            "query($id: ID!) { node(id: $id) { ... on Enrollment { name idNumber } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        seen["node"],
        json!({ "name": "李*雷", "idNumber": "110105********002X" })
    );

    // Plain text is nowhere in the row.
    let rows = campus_photo::entities::enrollment::Entity::find()
        .all(&w.app.state.db)
        .await
        .expect("rows");
    let dump = format!("{rows:?}");
    assert!(
        !dump.contains("11010519491231002X") && !dump.contains("李小雷"),
        "{dump}"
    );

    // The same person again, by anyone: refused on the ID number.
    let again = w
        .app
        .data(Some(&token), ADD_FRESHMAN, json!({ "i": input }))
        .await["addFreshmanEnrollment"]
        .clone();
    assert_eq!(again["userErrors"][0]["code"], "ALREADY_ENROLLED");
    assert_eq!(
        again["userErrors"][0]["field"],
        json!(["input", "idNumber"])
    );
}

#[tokio::test]
async fn freshman_input_is_validated() {
    let w = world().await;
    let token = w.app.sign_in_student("wx-new", "13800138000").await;
    let r = w
        .app
        .data(Some(&token), ADD_FRESHMAN, json!({ "i": { "featureCode": "NEW27", "name": "李", "idNumber": "110105194912310021", "admissionNumber": "" } }))
        .await["addFreshmanEnrollment"]
        .clone();
    let codes: Vec<&str> = r["userErrors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["code"].as_str())
        .collect();
    assert_eq!(
        codes,
        [
            "INVALID_NAME",
            "INVALID_ID_NUMBER",
            "INVALID_ADMISSION_NUMBER"
        ]
    );
    assert!(
        r["userErrors"][1]["message"]
            .as_str()
            .unwrap_or("")
            .contains("校验位")
    );
    let wrong_path = w
        .app
        .data(Some(&token), ADD_FRESHMAN, json!({ "i": { "featureCode": "BNU27", "name": "李雷", "idNumber": "11010519491231002X", "admissionNumber": "1" } }))
        .await;
    assert_eq!(
        wrong_path["addFreshmanEnrollment"]["userErrors"][0]["code"],
        "WRONG_PROJECT_MODE"
    );
}

#[tokio::test]
async fn capture_guide_acknowledgement_is_the_owners() {
    let w = world().await;
    let a = w.app.sign_in_student("wx-a", "13800138000").await;
    let b = w.app.sign_in_student("wx-b", "13900139000").await;
    let id = add(&w.app, &a, &mint_code(|_| {}), "123X", "BNU27").await["enrollment"]["id"].clone();
    let q = "mutation($id: ID!) { acknowledgeCaptureGuide(input: { enrollmentId: $id }) { enrollment { captureGuideAcknowledgedAt } userErrors { code } } }";
    let other = w.app.gql(Some(&b), q, json!({ "id": id })).await;
    assert_eq!(error_code(&other), "NOT_FOUND");
    let first = w.app.data(Some(&a), q, json!({ "id": id })).await;
    let at = first["acknowledgeCaptureGuide"]["enrollment"]["captureGuideAcknowledgedAt"].clone();
    assert!(at.is_string());
    w.app.clock.advance(chrono::Duration::minutes(5));
    let again = w.app.data(Some(&a), q, json!({ "id": id })).await;
    assert_eq!(
        again["acknowledgeCaptureGuide"]["enrollment"]["captureGuideAcknowledgedAt"], at,
        "the first reading counts"
    );
}

#[tokio::test]
async fn enrollments_are_private_to_owner_and_school_scope() {
    let w = world().await;
    let a = w.app.sign_in_student("wx-a", "13800138000").await;
    let b = w.app.sign_in_student("wx-b", "13900139000").await;
    let id = add(&w.app, &a, &mint_code(|_| {}), "123X", "BNU27").await["enrollment"]["id"].clone();
    let q = "query($id: ID!) { node(id: $id) { id } }";
    assert_eq!(
        error_code(&w.app.gql(Some(&b), q, json!({ "id": id })).await),
        "NOT_FOUND"
    );
    let other_school = w
        .app
        .staff(&w.admin, "sa-upc", "SCHOOL_ADMIN", Some("10425"))
        .await;
    assert_eq!(
        error_code(&w.app.gql(Some(&other_school), q, json!({ "id": id })).await),
        "NOT_FOUND"
    );
    let own_school = w
        .app
        .staff(&w.admin, "sa-bnu", "SCHOOL_ADMIN", Some("10027"))
        .await;
    assert_eq!(
        w.app.data(Some(&own_school), q, json!({ "id": id })).await["node"]["id"],
        id
    );
    // Staff do not enroll.
    let body = w.app.gql(Some(&own_school), ADD, json!({ "i": { "collectionCode": mint_code(|_| {}), "idNumberLast4": "123X", "featureCode": "BNU27" } })).await;
    assert_eq!(error_code(&body), "FORBIDDEN");
}

#[tokio::test]
async fn codes_minted_by_the_cli_work_with_the_default_keys() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.create_school(&admin, "10027", "北京师范大学").await;
    app.create_project(&admin, project_input("10027", "DEMO1", "000015"))
        .await;
    let args = campus_photo::cli::IssueArgs::for_student("张小三", "11010519491231002X", "10027");
    let code = campus_photo::cli::mint_collection_code(&args, chrono::Utc::now()).expect("mint");
    let token = app.sign_in_student("wx-demo", "13800138000").await;
    let r = add(&app, &token, &code, "002X", "DEMO1").await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert_eq!(r["enrollment"]["name"], "张*三");
}
