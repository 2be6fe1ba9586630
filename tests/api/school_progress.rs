//! 学校进度 over HTTP: counts by stage and the list behind each, the CSV download (UTF-8 with BOM
//! for Excel), and the reminder to students who have not finished (only with consent, once per
//! student per day); scope (another school's admin gets NOT_FOUND).
use serde_json::{Value, json};

use crate::common::{error_code, flow, mint_code};

const PROGRESS: &str = "query($s: String!, $stage: ProgressStage!) { schoolProgress(schoolCode: $s) { school { code } counts { stage label count } students(stage: $stage, first: 10) { totalCount nodes { id name } } } }";
const EXPORT: &str = "mutation($i: ExportSchoolProgressInput!) { exportSchoolProgress(input: $i) { url rows userErrors { code } } }";
const REMIND: &str = "mutation($i: SchoolProgressInput!) { remindUnfinishedStudents(input: $i) { sent alreadyReminded withoutConsent userErrors { code } } }";

fn count(progress: &Value, stage: &str) -> i64 {
    progress["counts"]
        .as_array()
        .and_then(|l| l.iter().find(|c| c["stage"] == stage))
        .and_then(|c| c["count"].as_i64())
        .unwrap_or(-1)
}

struct World {
    shop: flow::Shop,
    paid: Vec<Value>,
}

/// Six students of 10027: one only enrolled, one with a passed photo, one with an order placed
/// without consent, one paid (waiting for review), one rejected, one approved.
async fn world() -> World {
    let shop = flow::shop().await;
    let app = &shop.app;
    let reviewer = app
        .staff(&shop.admin, "g-reviewer", "REVIEWER", Some("10027"))
        .await;
    let only = app.sign_in_student("g-only", "13700137000").await;
    let r = app
        .data(
            Some(&only),
            "mutation($i: AddEnrollmentInput!) { addEnrollment(input: $i) { enrollment { id } userErrors { code } } }",
            json!({ "i": { "collectionCode": mint_code(|_| {}), "idNumberLast4": "123X", "featureCode": "BNU27" } }),
        )
        .await;
    assert!(r["addEnrollment"]["enrollment"]["id"].is_string(), "{r}");
    shop.student("g-photo").await;
    let unconsented = shop.student("g-no-consent").await;
    let o = shop
        .order_mutation(
            &unconsented.token,
            "submitOrder",
            json!({ "photoId": unconsented.photo, "notificationConsent": false }),
        )
        .await;
    assert_eq!(o["userErrors"], json!([]), "{o}");
    let mut paid = Vec::new();
    for code in ["g-paid", "g-rejected", "g-approved"] {
        let s = shop.student(code).await;
        shop.paid_order(&s).await;
        paid.push(s.enrollment.clone());
    }
    let claimed = app
        .data(Some(&reviewer), "mutation { claimReviewTasks(input: { schoolCode: \"10027\", count: 5 }) { orders { id } } }", json!({}))
        .await;
    let orders = claimed["claimReviewTasks"]["orders"].clone();
    let review =
        "mutation($i: ReviewOrderInput!) { reviewOrder(input: $i) { userErrors { code } } }";
    // Claimed oldest first: the paid one stays, the second is rejected, the third approved.
    app.data(Some(&reviewer), review, json!({ "i": { "orderId": orders[1]["id"], "decision": "REJECT", "reasonCode": "POSE_PITCH" } })).await;
    app.data(
        Some(&reviewer),
        review,
        json!({ "i": { "orderId": orders[2]["id"], "decision": "APPROVE" } }),
    )
    .await;
    let release =
        "mutation($i: ReviewClaimInput!) { releaseReviewClaim(input: $i) { userErrors { code } } }";
    app.data(
        Some(&shop.admin),
        release,
        json!({ "i": { "orderId": orders[0]["id"] } }),
    )
    .await;
    World { shop, paid }
}

#[tokio::test]
async fn a_schools_students_are_counted_and_listed_by_stage() {
    let w = world().await;
    let app = &w.shop.app;
    let p = app
        .data(
            Some(&w.shop.admin),
            PROGRESS,
            json!({ "s": "10027", "stage": "PAID" }),
        )
        .await["schoolProgress"]
        .clone();
    let expected = [
        ("ENROLLED", 6),
        ("PHOTO_PASSED", 5),
        ("SUBMITTED", 4),
        ("PAID", 3),
        ("REJECTED_NOT_RETAKEN", 1),
        ("IN_PRODUCTION", 1),
        ("COMPLETED", 0),
        ("REPORTED", 0),
        ("NOT_FINISHED", 6),
    ];
    for (stage, n) in expected {
        assert_eq!(count(&p, stage), n, "{stage}: {p}");
    }
    assert_eq!(p["counts"][0]["label"], "已登记");
    assert_eq!(p["students"]["totalCount"], 3, "{p}");
    let mut listed: Vec<Value> = p["students"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["id"].clone())
        .collect();
    listed.reverse();
    assert_eq!(listed, w.paid, "newest first");
    assert_eq!(p["students"]["nodes"][0]["name"], "张*三", "masked");

    // A school admin of 10027 sees the same; another school's admin does not find the school;
    // reviewers and students are not operators.
    let own = app
        .staff(
            &w.shop.admin,
            "g-school-admin",
            "SCHOOL_ADMIN",
            Some("10027"),
        )
        .await;
    let mine = app
        .data(
            Some(&own),
            PROGRESS,
            json!({ "s": "10027", "stage": "REJECTED_NOT_RETAKEN" }),
        )
        .await;
    assert_eq!(
        mine["schoolProgress"]["students"]["totalCount"], 1,
        "{mine}"
    );
    app.create_school(&w.shop.admin, "10001", "北京大学").await;
    let other = app
        .staff(
            &w.shop.admin,
            "g-other-admin",
            "SCHOOL_ADMIN",
            Some("10001"),
        )
        .await;
    let body = app
        .gql(
            Some(&other),
            PROGRESS,
            json!({ "s": "10027", "stage": "PAID" }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let body = app
        .gql(
            Some(&other),
            EXPORT,
            json!({ "i": { "schoolCode": "10027", "stage": "PAID" } }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let reviewer = app.sign_in_staff("g-reviewer", "staff-password-123").await;
    let body = app
        .gql(
            Some(&reviewer),
            PROGRESS,
            json!({ "s": "10027", "stage": "PAID" }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
}

#[tokio::test]
async fn the_list_behind_a_count_downloads_as_a_csv_excel_opens() {
    let w = world().await;
    let app = &w.shop.app;
    let r = app
        .data(
            Some(&w.shop.admin),
            EXPORT,
            json!({ "i": { "schoolCode": "10027", "stage": "PAID" } }),
        )
        .await["exportSchoolProgress"]
        .clone();
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert_eq!(r["rows"], 3, "{r}");
    let url = r["url"].as_str().expect("url");
    let resp = app.http.get(app.url(url)).send().await.expect("GET");
    assert_eq!(resp.status(), 200);
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(header("content-type"), "text/csv; charset=utf-8");
    let disposition = header("content-disposition");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains("filename*=UTF-8''"), "{disposition}");
    let bytes = resp.bytes().await.expect("body");
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 byte-order mark");
    let text = std::str::from_utf8(&bytes[3..]).expect("utf-8");
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].starts_with("阶段,姓名,身份证号,学号"), "{text}");
    assert!(
        lines[1].starts_with("已支付,张*三,110101********123X,201911010101"),
        "{text}"
    );
    assert!(lines[1].contains("138****8000"), "{text}");
    assert!(!text.contains("13800138000"), "phones masked: {text}");
    // The link is signed: tampering with it is refused.
    let resp = app
        .http
        .get(app.url(&url.replace("sig=", "sig=x")))
        .send()
        .await
        .expect("GET");
    assert_ne!(resp.status(), 200);
}

#[tokio::test]
async fn unfinished_students_who_consented_are_reminded_once_a_day() {
    let w = world().await;
    let app = &w.shop.app;
    let input = json!({ "i": { "schoolCode": "10027" } });
    let r = app.data(Some(&w.shop.admin), REMIND, input.clone()).await["remindUnfinishedStudents"]
        .clone();
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert_eq!(
        (
            r["sent"].clone(),
            r["alreadyReminded"].clone(),
            r["withoutConsent"].clone()
        ),
        (json!(3), json!(0), json!(3)),
        "{r}"
    );
    let again =
        app.data(Some(&w.shop.admin), REMIND, input.clone()).await["remindUnfinishedStudents"]
            .clone();
    assert_eq!(
        (again["sent"].clone(), again["alreadyReminded"].clone()),
        (json!(0), json!(3)),
        "{again}"
    );
    let messages = app
        .data(
            Some(&w.shop.admin),
            "{ wechatMessages(first: 50) { nodes { templateId state data orderId } } }",
            json!({}),
        )
        .await;
    let reminders: Vec<&Value> = messages["wechatMessages"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter(|m| m["templateId"] == "sandbox-finish-reminder")
        .collect();
    assert_eq!(reminders.len(), 3, "{messages}");
    assert!(reminders.iter().all(|m| m["state"] == "SENT"), "{messages}");
    assert!(
        reminders[0]["data"]
            .as_str()
            .unwrap_or_default()
            .contains("请尽快完成图像采集")
    );
    // The order's trail records it.
    let order = w.shop.order(&w.shop.admin, &reminders[0]["orderId"]).await;
    assert!(
        flow::event_names(&order).contains(&"REMINDER_SENT".to_string()),
        "{order}"
    );

    // The next day they may be reminded again.
    w.shop.app.clock.advance(chrono::TimeDelta::days(1));
    let next =
        app.data(Some(&w.shop.admin), REMIND, input).await["remindUnfinishedStudents"].clone();
    assert_eq!(next["sent"], 3, "{next}");
    let reviewer = app.sign_in_staff("g-reviewer", "staff-password-123").await;
    let body = app
        .gql(
            Some(&reviewer),
            REMIND,
            json!({ "i": { "schoolCode": "10027" } }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
}
