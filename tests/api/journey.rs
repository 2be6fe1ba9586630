//! The student's journey exactly as the service runs it (issue 20), over HTTP and WebSocket: order
//! numbers with shared 4–6-digit prefixes, pay-first projects (已支付 visible), rejection reasons
//! with their solution, the capture guide and the privacy notice served, the guides' customer
//! service, 已完成 told as complete, re-takes after a rejection, the virtual shipment of a
//! completed order through the real WeChat client, subscription messages for completion and for
//! an unpaid order about to close, and the round trip with the registry (学信网).
use crate::common;

use std::sync::{Arc, Mutex};

use axum::{Json, Router, extract::State, routing::post};
use campus_photo::{
    entities::outbound_message,
    integrations::{
        wechat_login::SandboxWeChatLogin,
        wechat_shipping::{RealWeChatShipping, WeChatShipping},
    },
    services::sweeper,
};
use common::{
    TestApp, error_code, fixture,
    flow::{Shop, Student, event_names, shop, shop_with, shop_with_overrides},
    mint_code, project_input,
    ws::{UPDATES, next_data, subscribe_to},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

const ENROLL: &str = "mutation($i: AddEnrollmentInput!) { addEnrollment(input: $i) { enrollment { id } userErrors { code field message } } }";
const UPLOAD: &str = "mutation($i: UploadPhotoInput!) { uploadPhoto(input: $i) { photo { id check { verdict } } userErrors { code field message } } }";

/// A project of school 10027 with `extra` fields over the usual input.
async fn project(shop: &Shop, feature: &str, prefix: &str, extra: Value) -> Value {
    let mut input = project_input("10027", feature, prefix);
    if let (Some(map), Some(more)) = (input.as_object_mut(), extra.as_object()) {
        map.extend(more.clone());
    }
    let created = shop.app.create_project(&shop.admin, input).await;
    assert_eq!(created["userErrors"], json!([]), "{created}");
    created["project"].clone()
}

/// A student enrolled in project `feature` with student number `xh` and a passed take.
async fn student_in(shop: &Shop, wx: &str, feature: &str, xh: &str) -> Student {
    let token = shop.app.sign_in_student(wx, "13800138000").await;
    let code = mint_code(|c| c.xh = Some(xh.to_string()));
    let r = shop
        .app
        .data(
            Some(&token),
            ENROLL,
            json!({ "i": { "collectionCode": code, "idNumberLast4": "123X", "featureCode": feature } }),
        )
        .await;
    let enrollment = r["addEnrollment"]["enrollment"]["id"].clone();
    assert!(enrollment.is_string(), "{r}");
    let photo = shop.upload(&token, &enrollment, "obama_ok.jpg").await;
    assert_eq!(photo["check"]["verdict"], "PASSED", "{photo}");
    Student {
        token,
        enrollment,
        photo: photo["id"].clone(),
    }
}

/// Uploads a fixture after reading the guide; returns the whole payload.
async fn upload_payload(app: &TestApp, token: &str, enrollment: &Value, name: &str) -> Value {
    app.upload_data(
        Some(token),
        UPLOAD,
        json!({ "i": { "enrollmentId": enrollment, "file": null, "source": "CAMERA" } }),
        "variables.i.file",
        fixture(&format!("photos/{name}")),
        name,
    )
    .await["uploadPhoto"]
        .clone()
}

/// Submits with consent, opens the payment and has the sandbox pay; returns the paid order.
async fn pay(shop: &Shop, s: &Student, consent: bool) -> Value {
    let order = shop
        .order_mutation(
            &s.token,
            "submitOrder",
            json!({ "photoId": s.photo, "notificationConsent": consent }),
        )
        .await;
    assert_eq!(order["userErrors"], json!([]), "{order}");
    let id = order["order"]["id"].clone();
    let created = shop.create_payment(&s.token, &id).await;
    assert_eq!(created["userErrors"], json!([]), "{created}");
    let paid = shop
        .order_mutation(&s.token, "sandboxCompletePayment", json!({ "orderId": id }))
        .await;
    assert_eq!(paid["userErrors"], json!([]), "{paid}");
    paid["order"].clone()
}

struct Staff {
    reviewer: String,
    producer: String,
}

async fn staff(shop: &Shop, tag: &str) -> Staff {
    Staff {
        reviewer: shop
            .app
            .staff(
                &shop.admin,
                &format!("{tag}-rev"),
                "REVIEWER",
                Some("10027"),
            )
            .await,
        producer: shop
            .app
            .staff(&shop.admin, &format!("{tag}-prod"), "PRODUCER", None)
            .await,
    }
}

const CLAIM: &str = "mutation { claimReviewTasks(input: { count: 20, schoolCode: \"10027\" }) { orders { id } userErrors { code } } }";
const REVIEW: &str = "mutation($i: ReviewOrderInput!) { reviewOrder(input: $i) { order { id status rejection { code title solution message } } userErrors { code field message } } }";

/// Claims and rejects the order with `reason`; returns the order.
async fn reject(shop: &Shop, reviewer: &str, order: &Value, reason: &str) -> Value {
    shop.app.data(Some(reviewer), CLAIM, json!({})).await;
    let r = shop
        .app
        .data(
            Some(reviewer),
            REVIEW,
            json!({ "i": { "orderId": order, "decision": "REJECT", "reasonCode": reason } }),
        )
        .await["reviewOrder"]
        .clone();
    assert_eq!(r["userErrors"], json!([]), "{r}");
    r["order"].clone()
}

#[tokio::test]
async fn order_numbers_take_prefixes_of_four_to_six_digits_shared_by_projects() {
    let shop = shop().await;
    project(&shop, "BNU28", "0000", json!({})).await;
    project(&shop, "BNU29", "0000", json!({})).await;
    project(&shop, "BNU30", "12345", json!({})).await;
    let a = student_in(&shop, "wx-num-a", "BNU28", "2027001").await;
    let b = student_in(&shop, "wx-num-b", "BNU29", "2027002").await;
    let c = student_in(&shop, "wx-num-c", "BNU30", "2027003").await;
    // The clock stands still: both orders of the shared prefix fall on the same millisecond, so
    // the second takes the next one.
    let first = shop.submit(&a).await["number"].clone();
    let second = shop.submit(&b).await["number"].clone();
    let third = shop.submit(&c).await["number"].clone();
    let shape = |n: &Value, prefix: &str| {
        let n = n.as_str().unwrap_or_default();
        let (p, stamp) = n.split_once('-').unwrap_or_default();
        p == prefix && stamp.len() == 17 && stamp.bytes().all(|b| b.is_ascii_digit())
    };
    assert!(shape(&first, "0000"), "{first}");
    assert!(shape(&second, "0000"), "{second}");
    assert!(shape(&third, "12345"), "{third}");
    assert_ne!(first, second);
    let stamp = |n: &Value| -> u64 {
        n.as_str()
            .and_then(|n| n.split_once('-'))
            .and_then(|(_, s)| s.parse().ok())
            .unwrap_or_default()
    };
    assert_eq!(stamp(&second), stamp(&first) + 1, "{first} {second}");
    // The number is looked up like any other.
    let found = shop
        .app
        .data(
            Some(&shop.admin),
            "query($f: OrderFilter) { orders(filter: $f) { totalCount nodes { number } } }",
            json!({ "f": { "number": first } }),
        )
        .await;
    assert_eq!(found["orders"]["totalCount"], 1, "{found}");
    assert_eq!(found["orders"]["nodes"][0]["number"], first, "{found}");
}

const ORDERS_BY_STATUS: &str = "query($s: [OrderStatus!]) { viewer { orders(statuses: $s, first: 10) { nodes { id status statusLabel } } } }";

#[tokio::test]
async fn pay_first_orders_wait_in_paid_until_the_photo_is_submitted() {
    let shop = shop().await;
    let created = project(&shop, "BNU31", "000031", json!({ "payFirst": true })).await;
    assert_eq!(created["featureCode"], "BNU31");
    let s = student_in(&shop, "wx-payfirst", "BNU31", "2027031").await;
    let paid = pay(&shop, &s, true).await;
    assert_eq!(paid["status"], "PAID", "{paid}");
    assert_eq!(paid["statusLabel"], "已支付");
    // 已支付 is a status the student can filter by.
    let listed = shop
        .app
        .data(Some(&s.token), ORDERS_BY_STATUS, json!({ "s": ["PAID"] }))
        .await;
    let nodes = listed["viewer"]["orders"]["nodes"].clone();
    assert_eq!(nodes.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(nodes[0]["statusLabel"], "已支付");

    // Refusals: a take that failed the check, a take of another enrollment, someone else's.
    let failed = upload_payload(&shop.app, &s.token, &s.enrollment, "obama_roll15.jpg").await;
    assert_eq!(failed["photo"]["check"]["verdict"], "FAILED", "{failed}");
    let submit = |photo: &Value| json!({ "orderId": paid["id"], "photoId": photo });
    let r = shop
        .order_mutation(
            &s.token,
            "submitPhotoForReview",
            submit(&failed["photo"]["id"]),
        )
        .await;
    assert_eq!(r["userErrors"][0]["code"], "PHOTO_NOT_PASSED", "{r}");
    let elsewhere = shop.student("wx-payfirst").await; // same student, project BNU27
    let r = shop
        .order_mutation(&s.token, "submitPhotoForReview", submit(&elsewhere.photo))
        .await;
    assert_eq!(r["userErrors"][0]["code"], "PHOTO_MISMATCH", "{r}");
    let other = shop.student("wx-payfirst-other").await;
    let foreign = shop
        .app
        .gql(
            Some(&other.token),
            "mutation($i: SubmitPhotoForReviewInput!) { submitPhotoForReview(input: $i) { userErrors { code } } }",
            json!({ "i": submit(&other.photo) }),
        )
        .await;
    assert_eq!(error_code(&foreign), "NOT_FOUND", "{foreign}");

    // The student's own take goes to review.
    let take = shop
        .upload(&s.token, &s.enrollment, "obama_shift_ok.jpg")
        .await;
    let r = shop
        .order_mutation(&s.token, "submitPhotoForReview", submit(&take["id"]))
        .await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert_eq!(r["order"]["status"], "PENDING_REVIEW");
    assert_eq!(r["order"]["photo"]["id"], take["id"]);
    assert_eq!(
        event_names(&r["order"]),
        ["SUBMIT", "PAYMENT_CONFIRMED", "SUBMIT_PHOTO"],
        "{r}"
    );
    // Only once, and never for a photo-first order (those reach review by themselves).
    let again = shop
        .order_mutation(&s.token, "submitPhotoForReview", submit(&take["id"]))
        .await;
    assert_eq!(again["userErrors"][0]["code"], "INVALID_STATE", "{again}");
    let photo_first = shop.paid_order(&other).await;
    let r = shop
        .order_mutation(
            &other.token,
            "submitPhotoForReview",
            json!({ "orderId": photo_first["id"], "photoId": other.photo }),
        )
        .await;
    assert_eq!(r["userErrors"][0]["code"], "INVALID_STATE", "{r}");
    assert_eq!(
        event_names(&photo_first),
        ["SUBMIT", "PAYMENT_CONFIRMED", "ENQUEUE_FOR_REVIEW"]
    );

    // A paid order being refunded is not sent to review (once refunded, it is not PAID at all).
    let refunding = student_in(&shop, "wx-payfirst-refund", "BNU31", "2027032").await;
    let paid = pay(&shop, &refunding, true).await;
    let asked = shop
        .order_mutation(
            &refunding.token,
            "requestRefund",
            json!({ "orderId": paid["id"], "reason": "不需要了" }),
        )
        .await;
    assert_eq!(asked["userErrors"], json!([]), "{asked}");
    let r = shop
        .order_mutation(
            &refunding.token,
            "submitPhotoForReview",
            json!({ "orderId": paid["id"], "photoId": refunding.photo }),
        )
        .await;
    let code = r["userErrors"][0]["code"].as_str().unwrap_or_default();
    assert!(code == "REFUND_PENDING" || code == "INVALID_STATE", "{r}");
    let refunded = shop
        .wait_for_status(&refunding.token, &paid["id"], "REFUNDED")
        .await;
    assert!(!event_names(&refunded).contains(&"SUBMIT_PHOTO".to_string()));
}

#[tokio::test]
async fn rejection_reasons_carry_their_solution_and_the_schools_common_reasons() {
    let shop = shop().await;
    let reasons = shop
        .app
        .data(
            None,
            "{ rejectionReasons { code title solution message } }",
            json!({}),
        )
        .await["rejectionReasons"]
        .clone();
    let list = reasons.as_array().cloned().unwrap_or_default();
    let find = |code: &str| list.iter().find(|r| r["code"] == code).cloned();
    let extra = find("OCC_EXTRA_CONTENT").expect("OCC_EXTRA_CONTENT");
    assert_eq!(extra["title"], "图像额外内容（手、水印等）");
    assert_eq!(
        extra["solution"],
        "请上传证件照，请勿使用艺术照，请重新采集提交人工审核"
    );
    for code in [
        "ART_OR_CASUAL",
        "HAIR_OVER_BROWS",
        "JEWELLERY",
        "MAKEUP_RETOUCHED",
        "GLASSES_GLARE",
        "RED_EYE",
        "REPHOTOGRAPHED",
    ] {
        let r = find(code).unwrap_or_else(|| panic!("{code} missing: {reasons}"));
        for part in ["title", "solution", "message"] {
            assert!(r[part].as_str().is_some_and(|t| !t.is_empty()), "{r}");
        }
    }
    for not_for_reviewers in ["WITHDRAWN", "REGISTRY_REJECTED"] {
        assert!(find(not_for_reviewers).is_none(), "{not_for_reviewers}");
    }

    // The student reads the reason and the solution apart.
    let s = shop.student("wx-reason").await;
    let order = shop.paid_order(&s).await;
    let staff = staff(&shop, "reason").await;
    let rejected = reject(&shop, &staff.reviewer, &order["id"], "HAIR_OVER_BROWS").await;
    let rejection = &rejected["rejection"];
    assert_eq!(rejection["code"], "HAIR_OVER_BROWS");
    assert_eq!(rejection["title"], "头发遮挡眉毛或耳朵");
    assert!(
        rejection["solution"]
            .as_str()
            .is_some_and(|t| t.contains("露出眉毛")),
        "{rejection}"
    );
}

const GUIDE: &str = "query($id: ID!) { node(id: $id) { ... on Enrollment { captureGuideRead captureGuideAcknowledgedAt captureGuide { version backdrop requirements { key topic text } } } } }";

#[tokio::test]
async fn the_capture_guide_is_served_and_must_be_read_before_a_take() {
    let shop = shop().await;
    project(&shop, "BNU32", "000032", json!({ "background": "WHITE" })).await;
    let token = shop.app.sign_in_student("wx-guide", "13800138000").await;
    let enrol = |feature: &str| json!({ "i": { "collectionCode": mint_code(|_| {}), "idNumberLast4": "123X", "featureCode": feature } });
    let r = shop.app.data(Some(&token), ENROLL, enrol("BNU27")).await;
    let enrollment = r["addEnrollment"]["enrollment"]["id"].clone();
    let before = shop
        .app
        .data(Some(&token), GUIDE, json!({ "id": enrollment }))
        .await["node"]
        .clone();
    assert_eq!(before["captureGuideRead"], false, "{before}");
    let guide = &before["captureGuide"];
    assert!(guide["version"].as_str().is_some_and(|v| !v.is_empty()));
    assert!(
        guide["backdrop"]
            .as_str()
            .is_some_and(|b| b.contains("浅蓝色"))
    );
    let keys: Vec<&str> = guide["requirements"]
        .as_array()
        .map(|l| l.iter().filter_map(|r| r["key"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "BACKGROUND",
            "CLOTHING",
            "GLASSES",
            "HAIR",
            "EXPRESSION",
            "POSE",
            "LIGHT",
            "RETOUCHING"
        ]
    );
    assert!(
        guide["requirements"][5]["text"]
            .as_str()
            .is_some_and(|t| t.contains("不可以俯视或者仰视，请保持平视镜头"))
    );

    // No take before 我已阅读.
    let refused: Value = shop
        .app
        .upload_unread(
            Some(&token),
            UPLOAD,
            json!({ "i": { "enrollmentId": enrollment, "file": null, "source": "CAMERA" } }),
            "variables.i.file",
            fixture("photos/obama_ok.jpg"),
            "obama_ok.jpg",
        )
        .await
        .json()
        .await
        .expect("json");
    let errors = &refused["data"]["uploadPhoto"]["userErrors"];
    assert_eq!(errors[0]["code"], "CAPTURE_GUIDE_NOT_READ", "{refused}");
    assert_eq!(errors[0]["field"], json!(["input", "enrollmentId"]));
    assert_eq!(refused["data"]["uploadPhoto"]["photo"], Value::Null);

    let read = shop
        .app
        .data(
            Some(&token),
            "mutation($i: AcknowledgeCaptureGuideInput!) { acknowledgeCaptureGuide(input: $i) { enrollment { captureGuideRead } userErrors { code } } }",
            json!({ "i": { "enrollmentId": enrollment } }),
        )
        .await;
    assert_eq!(
        read["acknowledgeCaptureGuide"]["enrollment"]["captureGuideRead"], true,
        "{read}"
    );
    let taken = upload_payload(&shop.app, &token, &enrollment, "obama_ok.jpg").await;
    assert_eq!(taken["userErrors"], json!([]), "{taken}");

    // The backdrop follows the project.
    let r = shop.app.data(Some(&token), ENROLL, enrol("BNU32")).await;
    let white = r["addEnrollment"]["enrollment"]["id"].clone();
    let guide = shop
        .app
        .data(Some(&token), GUIDE, json!({ "id": white }))
        .await;
    assert_eq!(guide["node"]["captureGuide"]["backdrop"], "白色", "{guide}");
}

const SERVICE_INFO: &str = "{ serviceInfo { agreementTitle agreementVersion agreementUrl agreementText customerServicePhone customerServiceEmail customerServiceHours privacyNotice { title version url text } } }";
const ACCEPT_PRIVACY: &str = "mutation($i: AcceptPrivacyNoticeInput!) { acceptPrivacyNotice(input: $i) { account { agreementVersion privacyVersion privacyAcceptedAt } userErrors { code field message } } }";

#[tokio::test]
async fn the_agreement_and_privacy_notice_are_served_and_accepted_apart() {
    let shop = shop().await;
    let info = shop.app.data(None, SERVICE_INFO, json!({})).await["serviceInfo"].clone();
    // The guides' customer service.
    assert_eq!(info["customerServicePhone"], "010-63072281");
    assert_eq!(info["customerServiceHours"], "周一至周五 8:00-17:00");
    assert_eq!(info["customerServiceEmail"], "xhszgtps@163.com");
    assert_eq!(info["agreementUrl"], Value::Null);
    assert!(info["agreementText"].as_str().is_some_and(|t| t.len() > 20));
    let privacy = &info["privacyNotice"];
    assert!(
        privacy["title"]
            .as_str()
            .is_some_and(|t| t.contains("个人信息保护"))
    );
    assert!(privacy["text"].as_str().is_some_and(|t| t.len() > 20));
    let version = privacy["version"].as_str().unwrap_or_default().to_string();

    let s = shop.student("wx-privacy").await;
    let wrong = shop
        .app
        .data(
            Some(&s.token),
            ACCEPT_PRIVACY,
            json!({ "i": { "version": "1999.1" } }),
        )
        .await["acceptPrivacyNotice"]
        .clone();
    assert_eq!(wrong["userErrors"][0]["code"], "PRIVACY_VERSION_MISMATCH");
    assert_eq!(wrong["account"], Value::Null);
    let accepted = shop
        .app
        .data(
            Some(&s.token),
            ACCEPT_PRIVACY,
            json!({ "i": { "version": version } }),
        )
        .await["acceptPrivacyNotice"]
        .clone();
    assert_eq!(accepted["userErrors"], json!([]), "{accepted}");
    assert_eq!(accepted["account"]["privacyVersion"], version.as_str());
    let at = accepted["account"]["privacyAcceptedAt"].clone();
    assert!(at.is_string());
    // Recorded apart from the agreement, and kept on a second acceptance.
    assert!(accepted["account"]["agreementVersion"].is_string());
    let again = shop
        .app
        .data(
            Some(&s.token),
            ACCEPT_PRIVACY,
            json!({ "i": { "version": version } }),
        )
        .await["acceptPrivacyNotice"]
        .clone();
    assert_eq!(again["account"]["privacyAcceptedAt"], at);
    // Staff accept nothing here.
    let body = shop
        .app
        .gql(
            Some(&shop.admin),
            ACCEPT_PRIVACY,
            json!({ "i": { "version": version } }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    // All configurable.
    let custom = shop_with(|v| {
        v.insert(
            "AGREEMENT_URL".into(),
            "https://example.edu/agreement".into(),
        );
        v.insert("PRIVACY_VERSION".into(), "2025.2".into());
        v.insert("CUSTOMER_SERVICE_EMAIL".into(), "help@example.edu".into());
    })
    .await;
    let info = custom.app.data(None, SERVICE_INFO, json!({})).await["serviceInfo"].clone();
    assert_eq!(info["agreementUrl"], "https://example.edu/agreement");
    assert_eq!(info["privacyNotice"]["version"], "2025.2");
    assert_eq!(info["customerServiceEmail"], "help@example.edu");
}

#[tokio::test]
async fn a_rejection_restores_the_checks_and_the_rejected_photo_is_refused() {
    let shop = shop().await;
    project(&shop, "BNU33", "000033", json!({ "maxAutoChecks": 2 })).await;
    let s = student_in(&shop, "wx-retake", "BNU33", "2027033").await;
    // The second and last check.
    let second = upload_payload(&shop.app, &s.token, &s.enrollment, "obama_shift_ok.jpg").await;
    assert_eq!(second["userErrors"], json!([]), "{second}");
    let exhausted = upload_payload(&shop.app, &s.token, &s.enrollment, "obama_ok.jpg").await;
    assert_eq!(exhausted["userErrors"][0]["code"], "AUTO_CHECKS_EXHAUSTED");
    let order = pay(&shop, &s, true).await;
    let staff = staff(&shop, "retake").await;
    reject(&shop, &staff.reviewer, &order["id"], "OCC_EXTRA_CONTENT").await;
    let remaining = shop
        .app
        .data(
            Some(&s.token),
            "query($id: ID!) { node(id: $id) { ... on Enrollment { autoChecksRemaining } } }",
            json!({ "id": s.enrollment }),
        )
        .await;
    assert_eq!(remaining["node"]["autoChecksRemaining"], 2, "{remaining}");

    // The very photo, by id or uploaded again (same content), is refused.
    let resubmit = |photo: &Value| json!({ "orderId": order["id"], "photoId": photo });
    let r = shop
        .order_mutation(&s.token, "resubmitPhoto", resubmit(&s.photo))
        .await;
    assert_eq!(r["userErrors"][0]["code"], "PHOTO_ALREADY_REJECTED", "{r}");
    let same = shop.upload(&s.token, &s.enrollment, "obama_ok.jpg").await;
    assert_ne!(same["id"], s.photo);
    let r = shop
        .order_mutation(&s.token, "resubmitPhoto", resubmit(&same["id"]))
        .await;
    assert_eq!(r["userErrors"][0]["code"], "PHOTO_ALREADY_REJECTED", "{r}");
    assert_eq!(
        shop.order(&s.token, &order["id"]).await["status"],
        "REJECTED"
    );
    // A new take goes back to review.
    let r = shop
        .order_mutation(&s.token, "resubmitPhoto", resubmit(&second["photo"]["id"]))
        .await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert_eq!(r["order"]["status"], "PENDING_REVIEW");
}

/// A fake WeChat for shipping uploads: records bodies, answers with the errcode set.
#[derive(Clone, Default)]
struct FakeWeChat {
    bodies: Arc<Mutex<Vec<Value>>>,
    errcode: Arc<Mutex<i64>>,
}

impl FakeWeChat {
    fn uploads(&self) -> Vec<Value> {
        self.bodies.lock().expect("lock").clone()
    }

    fn answer(&self, errcode: i64) {
        *self.errcode.lock().expect("lock") = errcode;
    }
}

async fn upload_shipping_info(State(f): State<FakeWeChat>, Json(body): Json<Value>) -> Json<Value> {
    f.bodies.lock().expect("lock").push(body);
    let code = *f.errcode.lock().expect("lock");
    Json(json!({ "errcode": code, "errmsg": if code == 0 { "ok" } else { "invalid order_key" } }))
}

async fn fake_wechat() -> (FakeWeChat, Arc<dyn WeChatShipping>) {
    let fake = FakeWeChat::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let router = Router::new()
        .route(
            "/wxa/sec/order/upload_shipping_info",
            post(upload_shipping_info),
        )
        .with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.ok() });
    campus_photo::integrations::http_client::install_crypto_provider();
    let client: Arc<dyn WeChatShipping> = Arc::new(RealWeChatShipping::new(
        campus_photo::integrations::http_client::build(),
        base,
        Arc::new(SandboxWeChatLogin),
    ));
    (fake, client)
}

const SHIPPING: &str = "query($id: ID!) { node(id: $id) { ... on Order { status shippingReported shippingUploadError } } }";

#[tokio::test]
async fn a_completed_order_ships_as_virtual_goods_and_the_sweeper_retries_until_wechat_accepts() {
    let (fake, client) = fake_wechat().await;
    let shop = shop_with_overrides(
        |_| {},
        campus_photo::Overrides {
            wechat_shipping: Some(client),
            ..Default::default()
        },
    )
    .await;
    let staff = staff(&shop, "ship").await;
    let s = shop.student("wx-ship").await;
    let order = shop.paid_order(&s).await;
    // Nothing is reported before the order completes.
    assert!(fake.uploads().is_empty());
    fake.answer(10060001); // WeChat refuses
    shop.produce_all(&staff.reviewer, &staff.producer, 1).await;

    let uploads = fake.uploads();
    assert_eq!(uploads.len(), 1, "uploaded when the order completed");
    let body = &uploads[0];
    assert_eq!(body["logistics_type"], 3, "{body}");
    assert_eq!(body["delivery_mode"], 1);
    assert_eq!(body["order_key"]["order_number_type"], 1);
    assert_eq!(body["order_key"]["out_trade_no"], order["number"]);
    assert_eq!(
        body["order_key"]["mchid"],
        shop.app.state.wechat_pay.mchid()
    );
    assert!(
        body["shipping_list"][0].get("tracking_no").is_none(),
        "{body}"
    );
    assert!(
        body["shipping_list"][0]["item_desc"]
            .as_str()
            .is_some_and(|d| d.contains("电子照片"))
    );
    assert!(
        body["payer"]["openid"]
            .as_str()
            .is_some_and(|o| !o.is_empty())
    );
    assert!(
        body["upload_time"]
            .as_str()
            .is_some_and(|t| t.ends_with("+08:00"))
    );
    // Staff see it failing; the student sees nothing of it.
    let seen = shop
        .app
        .data(
            Some(&staff.producer),
            SHIPPING,
            json!({ "id": order["id"] }),
        )
        .await["node"]
        .clone();
    assert_eq!(seen["status"], "COMPLETED");
    assert_eq!(seen["shippingReported"], false, "{seen}");
    assert!(
        seen["shippingUploadError"]
            .as_str()
            .is_some_and(|e| e.contains("10060001")),
        "{seen}"
    );
    let student = shop
        .app
        .data(Some(&s.token), SHIPPING, json!({ "id": order["id"] }))
        .await["node"]
        .clone();
    assert_eq!(student["shippingReported"], Value::Null);
    assert_eq!(student["shippingUploadError"], Value::Null);

    // The sweeper keeps sending while WeChat refuses...
    sweeper::run_once(&shop.app.state).await.expect("sweep");
    assert_eq!(fake.uploads().len(), 2);
    // ...and stops once it accepts.
    fake.answer(0);
    let report = sweeper::run_once(&shop.app.state).await.expect("sweep");
    assert_eq!(report.shipments_resent, 1);
    assert_eq!(fake.uploads().len(), 3);
    let seen = shop
        .app
        .data(
            Some(&staff.producer),
            SHIPPING,
            json!({ "id": order["id"] }),
        )
        .await["node"]
        .clone();
    assert_eq!(seen["shippingReported"], true, "{seen}");
    assert_eq!(seen["shippingUploadError"], Value::Null);
    sweeper::run_once(&shop.app.state).await.expect("sweep");
    assert_eq!(fake.uploads().len(), 3, "reported once");
}

/// The subscription messages recorded for `order` with `template`.
async fn messages(app: &TestApp, order: &Value, template: &str) -> Vec<outbound_message::Model> {
    let id = app.row_id(campus_photo::ids::NodeType::Order, order);
    outbound_message::Entity::find()
        .filter(outbound_message::Column::OrderId.eq(id))
        .filter(outbound_message::Column::TemplateId.eq(template))
        .all(&app.state.db)
        .await
        .expect("messages")
}

async fn wait_for_messages(app: &TestApp, order: &Value, template: &str, n: usize) {
    for _ in 0..100 {
        if messages(app, order, template).await.len() >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no {template} message for {order}");
}

#[tokio::test]
async fn completion_and_payment_reminder_messages_go_once_and_only_with_consent() {
    let shop = shop().await;
    let staff = staff(&shop, "msg").await;
    let consenting = shop.student("wx-msg-yes").await;
    let silent = shop.student("wx-msg-no").await;
    let done = pay(&shop, &consenting, true).await;
    let quiet = pay(&shop, &silent, false).await;
    shop.produce_all(&staff.reviewer, &staff.producer, 2).await;

    wait_for_messages(&shop.app, &done["id"], "sandbox-order-completed", 1).await;
    let sent = messages(&shop.app, &done["id"], "sandbox-order-completed").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].data["phrase2"]["value"], "制作完成");
    assert_eq!(sent[0].data["thing3"]["value"], "制作完成，可下载电子照片");
    // Catching up finds nothing more to send.
    campus_photo::services::notifications::catch_up(&shop.app.state)
        .await
        .expect("catch up");
    assert_eq!(
        messages(&shop.app, &done["id"], "sandbox-order-completed")
            .await
            .len(),
        1
    );
    assert!(
        messages(&shop.app, &quiet["id"], "sandbox-order-completed")
            .await
            .is_empty()
    );

    // Reminders: before an unpaid order closes (30 min), once, with consent only.
    let late = shop.student("wx-msg-late").await;
    let unpaid = shop
        .order_mutation(
            &late.token,
            "submitOrder",
            json!({ "photoId": late.photo, "notificationConsent": true }),
        )
        .await["order"]
        .clone();
    let shy = shop.student("wx-msg-shy").await;
    let unpaid_quiet = shop
        .order_mutation(
            &shy.token,
            "submitOrder",
            json!({ "photoId": shy.photo, "notificationConsent": false }),
        )
        .await["order"]
        .clone();
    const REMINDER: &str = "sandbox-payment-reminder";
    shop.app.clock.advance(chrono::Duration::minutes(10));
    sweeper::run_once(&shop.app.state).await.expect("sweep");
    assert!(
        messages(&shop.app, &unpaid["id"], REMINDER)
            .await
            .is_empty(),
        "too early"
    );
    shop.app.clock.advance(chrono::Duration::minutes(11));
    let report = sweeper::run_once(&shop.app.state).await.expect("sweep");
    assert_eq!(report.payment_reminders, 1);
    let reminded = messages(&shop.app, &unpaid["id"], REMINDER).await;
    assert_eq!(reminded.len(), 1);
    assert_eq!(reminded[0].data["amount2"]["value"], "¥30.00");
    assert!(
        messages(&shop.app, &unpaid_quiet["id"], REMINDER)
            .await
            .is_empty()
    );
    shop.app.clock.advance(chrono::Duration::minutes(2));
    let report = sweeper::run_once(&shop.app.state).await.expect("sweep");
    assert_eq!(report.payment_reminders, 0);
    assert_eq!(messages(&shop.app, &unpaid["id"], REMINDER).await.len(), 1);
}

#[tokio::test]
async fn a_completed_student_submitting_again_is_told_the_collection_is_complete() {
    let shop = shop().await;
    let staff = staff(&shop, "done").await;
    let s = shop.student("wx-complete").await;
    let order = shop.paid_order(&s).await;
    shop.produce_all(&staff.reviewer, &staff.producer, 1).await;
    let take = shop
        .upload(&s.token, &s.enrollment, "obama_shift_ok.jpg")
        .await;
    let again = shop
        .order_mutation(
            &s.token,
            "submitOrder",
            json!({ "photoId": take["id"], "notificationConsent": true }),
        )
        .await;
    assert_eq!(
        again["userErrors"][0]["code"], "COLLECTION_COMPLETE",
        "{again}"
    );
    let message = again["userErrors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("已完成"), "{message}");
    assert!(!message.contains("未完成"), "{message}");
    assert!(message.contains(order["number"].as_str().unwrap_or("?")));
    // An unfinished order is still told as such.
    let other = shop.student("wx-unfinished").await;
    let open = shop.submit(&other).await;
    let take = shop
        .upload(&other.token, &other.enrollment, "obama_shift_ok.jpg")
        .await;
    let again = shop
        .order_mutation(
            &other.token,
            "submitOrder",
            json!({ "photoId": take["id"], "notificationConsent": true }),
        )
        .await;
    assert_eq!(again["userErrors"][0]["code"], "ORDER_EXISTS", "{again}");
    assert!(
        again["userErrors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains(open["number"].as_str().unwrap_or("?")))
    );
}

const EXPORT: &str = "mutation($i: ExportToRegistryInput!) { exportToRegistry(input: $i) { export { id count purpose } userErrors { code field message } } }";
const IMPORT: &str = "mutation($i: ImportRegistryResultInput!) { importRegistryResult(input: $i) { export { id } accepted rejected unchanged userErrors { code field message } } }";

async fn export(app: &TestApp, token: &str) -> Value {
    let r = app
        .data(
            Some(token),
            EXPORT,
            json!({ "i": { "schoolCode": "10027" } }),
        )
        .await["exportToRegistry"]
        .clone();
    assert_eq!(r["userErrors"], json!([]), "{r}");
    r["export"].clone()
}

async fn import(app: &TestApp, token: &str, export: &Value, csv: &str) -> Value {
    app.data(
        Some(token),
        IMPORT,
        json!({ "i": { "exportId": export["id"], "csv": csv } }),
    )
    .await["importRegistryResult"]
        .clone()
}

#[tokio::test]
async fn the_registry_answer_comes_back_to_each_order_and_a_rejected_one_is_retaken() {
    let shop = shop().await;
    let staff = staff(&shop, "reg").await;
    let school_admin = shop
        .app
        .staff(&shop.admin, "reg-school", "SCHOOL_ADMIN", Some("10027"))
        .await;
    let a = student_in(&shop, "wx-reg-a", "BNU27", "2019001").await;
    let b = student_in(&shop, "wx-reg-b", "BNU27", "2019002").await;
    let oa = pay(&shop, &a, true).await;
    let ob = pay(&shop, &b, true).await;
    shop.produce_all(&staff.reviewer, &staff.producer, 2).await;

    // The school's own download marks nothing for the producer.
    let download = export(&shop.app, &school_admin).await;
    assert_eq!(download["purpose"], "SCHOOL_DOWNLOAD");
    assert_eq!(download["count"], 2);
    assert_eq!(export(&shop.app, &school_admin).await["count"], 2, "again");
    let sent = export(&shop.app, &staff.producer).await;
    assert_eq!(sent["purpose"], "REGISTRY");
    assert_eq!(sent["count"], 2, "the producer still carries both");
    let nothing = shop
        .app
        .data(
            Some(&staff.producer),
            EXPORT,
            json!({ "i": { "schoolCode": "10027" } }),
        )
        .await;
    assert_eq!(
        nothing["exportToRegistry"]["userErrors"][0]["code"],
        "NOTHING_TO_EXPORT"
    );

    // Refusals change nothing.
    let r = import(&shop.app, &staff.producer, &download, "2019001,通过,").await;
    assert_eq!(r["userErrors"][0]["code"], "NOT_A_REGISTRY_EXPORT", "{r}");
    let r = import(
        &shop.app,
        &staff.producer,
        &sent,
        "学号,结果,原因\n2019001,也许,\n",
    )
    .await;
    assert_eq!(r["userErrors"][0]["code"], "INVALID_REGISTRY_RESULT", "{r}");
    assert_eq!(r["userErrors"][0]["field"], json!(["input", "csv"]));
    let r = import(&shop.app, &staff.producer, &sent, "2019002,不通过,\n").await;
    assert_eq!(r["userErrors"][0]["code"], "INVALID_REGISTRY_RESULT", "{r}");
    let r = import(
        &shop.app,
        &staff.producer,
        &sent,
        "2019001,通过,\n2099999,通过,\n",
    )
    .await;
    assert_eq!(r["userErrors"][0]["code"], "UNKNOWN_STUDENT", "{r}");
    assert!(
        !event_names(&shop.order(&a.token, &oa["id"]).await)
            .contains(&"REGISTRY_REPORTED".to_string())
    );
    for (who, token) in [("school admin", &school_admin), ("student", &a.token)] {
        let body = shop
            .app
            .gql(
                Some(token),
                IMPORT,
                json!({ "i": { "exportId": sent["id"], "csv": "2019001,通过," } }),
            )
            .await;
        let code = error_code(&body);
        assert!(code == "FORBIDDEN" || code == "NOT_FOUND", "{who}: {body}");
    }

    // The answer: a accepted, b refused with the registry's words. Both hear it live.
    let mut live = subscribe_to(&shop, &b.token, UPDATES, json!({ "o": ob["id"] })).await;
    let mut live_a = subscribe_to(&shop, &a.token, UPDATES, json!({ "o": oa["id"] })).await;
    let csv = "\u{feff}学号,结果,原因\r\n2019001,通过,\r\n2019002,不通过,\"头发遮挡眉毛，请重新拍摄\"\r\n";
    let r = import(&shop.app, &staff.producer, &sent, csv).await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert_eq!(
        (&r["accepted"], &r["rejected"]),
        (&json!(1), &json!(1)),
        "{r}"
    );
    // The relay may still be delivering the order's earlier FINISH_PRODUCTION to a subscriber
    // that just arrived (a busy machine): the registry's answer is what comes after it.
    let mut pushed = next_data(&mut live, "orderUpdates").await;
    if pushed["event"] == "FINISH_PRODUCTION" {
        pushed = next_data(&mut live, "orderUpdates").await;
    }
    assert_eq!(pushed["event"], "REGISTRY_REJECT", "{pushed}");
    assert_eq!(pushed["fromStatus"], "COMPLETED");
    assert_eq!(pushed["toStatus"], "REJECTED");
    assert_eq!(pushed["reasonCode"], "REGISTRY_REJECTED");
    let mut pushed = next_data(&mut live_a, "orderUpdates").await;
    if pushed["event"] == "FINISH_PRODUCTION" {
        pushed = next_data(&mut live_a, "orderUpdates").await;
    }
    assert_eq!(pushed["event"], "REGISTRY_REPORTED", "{pushed}");
    assert_eq!(pushed["toStatus"], "COMPLETED");
    assert_eq!(pushed["order"]["status"], "COMPLETED");

    let accepted = shop.order(&a.token, &oa["id"]).await;
    assert_eq!(accepted["status"], "COMPLETED");
    let reported = accepted["events"]
        .as_array()
        .and_then(|l| l.iter().find(|e| e["event"] == "REGISTRY_REPORTED"))
        .cloned()
        .expect("已上报 on the trail");
    assert_eq!(reported["message"], "已上报学信网");
    let refused = shop.order(&b.token, &ob["id"]).await;
    assert_eq!(refused["status"], "REJECTED");
    let failed = refused["events"]
        .as_array()
        .and_then(|l| l.iter().find(|e| e["event"] == "REGISTRY_REJECT"))
        .cloned()
        .expect("上报失败 on the trail");
    assert_eq!(failed["message"], "上报失败：头发遮挡眉毛，请重新拍摄");
    let rejection = shop
        .app
        .data(
            Some(&b.token),
            "query($id: ID!) { node(id: $id) { ... on Order { rejection { code title message } } } }",
            json!({ "id": ob["id"] }),
        )
        .await["node"]["rejection"]
        .clone();
    assert_eq!(rejection["code"], "REGISTRY_REJECTED");
    assert_eq!(rejection["message"], "头发遮挡眉毛，请重新拍摄");
    assert_eq!(rejection["title"], "学信网未通过");

    // The same answer twice changes nothing.
    let r = import(&shop.app, &staff.producer, &sent, csv).await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert_eq!(
        (&r["accepted"], &r["rejected"], &r["unchanged"]),
        (&json!(0), &json!(0), &json!(2))
    );

    // b re-takes; once completed again, the order goes in the next export.
    let take = shop
        .upload(&b.token, &b.enrollment, "obama_shift_ok.jpg")
        .await;
    let r = shop
        .order_mutation(
            &b.token,
            "resubmitPhoto",
            json!({ "orderId": ob["id"], "photoId": take["id"] }),
        )
        .await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    shop.produce_all(&staff.reviewer, &staff.producer, 1).await;
    let again = export(&shop.app, &staff.producer).await;
    assert_eq!(again["count"], 1);
}
