//! Review over HTTP: the queue, claims (leases), approve/reject with catalogue reasons, the
//! student's withdraw and re-take loop, and school scope.
use crate::common;

use common::flow::{Shop, event_names, shop};
use common::ws::{UPDATES, next_data, subscribe_to};
use serde_json::{Value, json};

const CLAIM: &str = "mutation($i: ClaimReviewTasksInput!) { claimReviewTasks(input: $i) { orders { id number status } userErrors { code field message } } }";
const REVIEW: &str = "mutation($i: ReviewOrderInput!) { reviewOrder(input: $i) { order { id status statusLabel rejection { code message note } events { event fromStatus toStatus actor reasonCode message } } userErrors { code field message } } }";
const QUEUE: &str =
    "query($s: String) { reviewQueue(schoolCode: $s) { totalCount nodes { id number } } }";

async fn claim(shop: &Shop, token: &str, count: i32) -> Value {
    shop.app
        .data(Some(token), CLAIM, json!({ "i": { "count": count } }))
        .await["claimReviewTasks"]
        .clone()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|l| {
            l.iter()
                .map(|o| o["id"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn review(shop: &Shop, token: &str, input: Value) -> Value {
    shop.app
        .data(Some(token), REVIEW, json!({ "i": input }))
        .await["reviewOrder"]
        .clone()
}

#[tokio::test]
async fn reject_retake_resubmit_and_approve() {
    let shop = shop().await;
    let reviewer = shop
        .app
        .staff(&shop.admin, "rev1", "REVIEWER", Some("10027"))
        .await;
    let s = shop.student("wx-review-1").await;
    let order = shop.paid_order(&s).await;

    let queue = shop
        .app
        .data(Some(&reviewer), QUEUE, json!({ "s": "10027" }))
        .await;
    assert_eq!(queue["reviewQueue"]["totalCount"], 1);
    let claimed = claim(&shop, &reviewer, 5).await;
    assert_eq!(
        ids(&claimed["orders"]),
        [order["id"].as_str().unwrap_or("?")]
    );
    let stats = shop
        .app
        .data(
            Some(&reviewer),
            "{ queueStats(schoolCode: \"10027\") { pendingReview claimed pendingProduction } }",
            json!({}),
        )
        .await;
    assert_eq!(
        stats["queueStats"],
        json!({ "pendingReview": 1, "claimed": 1, "pendingProduction": 0 })
    );

    let rejected = review(
        &shop,
        &reviewer,
        json!({ "orderId": order["id"], "decision": "REJECT", "reasonCode": "POSE_PITCH", "message": "请把手机举到与眼睛平齐" }),
    )
    .await;
    assert_eq!(rejected["userErrors"], json!([]), "{rejected}");
    let o = &rejected["order"];
    assert_eq!(o["status"], "REJECTED");
    assert_eq!(o["statusLabel"], "被驳回");
    assert_eq!(
        o["rejection"],
        json!({ "code": "POSE_PITCH", "message": "不可以俯视或者仰视，请保持平视镜头", "note": "请把手机举到与眼睛平齐" })
    );
    let last = o["events"]
        .as_array()
        .and_then(|l| l.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["actor"], "REVIEWER");
    assert_eq!(last["reasonCode"], "POSE_PITCH");

    // The student sees it, takes a new photo and resubmits: no new payment.
    let seen = shop
        .app
        .data(
            Some(&s.token),
            "query($id: ID!) { node(id: $id) { ... on Order { status rejection { code message } } } }",
            json!({ "id": order["id"] }),
        )
        .await;
    assert_eq!(seen["node"]["rejection"]["code"], "POSE_PITCH");
    let failed = shop
        .upload(&s.token, &s.enrollment, "obama_roll15.jpg")
        .await;
    assert_eq!(failed["check"]["verdict"], "FAILED");
    let refused = shop
        .order_mutation(
            &s.token,
            "resubmitPhoto",
            json!({ "orderId": order["id"], "photoId": failed["id"] }),
        )
        .await;
    assert_eq!(refused["userErrors"][0]["code"], "PHOTO_NOT_PASSED");
    let retake = shop
        .upload(&s.token, &s.enrollment, "obama_shift_ok.jpg")
        .await;
    let resubmitted = shop
        .order_mutation(
            &s.token,
            "resubmitPhoto",
            json!({ "orderId": order["id"], "photoId": retake["id"] }),
        )
        .await;
    assert_eq!(resubmitted["userErrors"], json!([]), "{resubmitted}");
    assert_eq!(resubmitted["order"]["status"], "PENDING_REVIEW");
    assert_eq!(resubmitted["order"]["photo"]["id"], retake["id"]);
    assert_eq!(
        event_names(&resubmitted["order"]),
        [
            "SUBMIT",
            "PAYMENT_CONFIRMED",
            "ENQUEUE_FOR_REVIEW",
            "REJECT",
            "RESUBMIT"
        ]
    );
    // The rejected photo is still in the enrollment's history.
    let history = shop
        .app
        .data(
            Some(&s.token),
            "query($id: ID!) { node(id: $id) { ... on Enrollment { photos { nodes { id } } } } }",
            json!({ "id": s.enrollment }),
        )
        .await;
    let photos = ids(&history["node"]["photos"]["nodes"]);
    assert!(
        photos.contains(&s.photo.as_str().unwrap_or("?").to_string()),
        "{history}"
    );

    assert_eq!(ids(&claim(&shop, &reviewer, 1).await["orders"]).len(), 1);
    let approved = review(
        &shop,
        &reviewer,
        json!({ "orderId": order["id"], "decision": "APPROVE" }),
    )
    .await;
    assert_eq!(approved["order"]["status"], "PENDING_PRODUCTION");
    assert_eq!(approved["order"]["rejection"], Value::Null);
    // Reviewing it again is refused: it is no longer waiting for review.
    let twice = review(
        &shop,
        &reviewer,
        json!({ "orderId": order["id"], "decision": "APPROVE" }),
    )
    .await;
    assert_eq!(twice["userErrors"][0]["code"], "INVALID_STATE");
}

#[tokio::test]
async fn two_reviewers_never_get_the_same_order_and_expired_claims_return() {
    let shop = shop().await;
    let a = shop
        .app
        .staff(&shop.admin, "rev-a", "REVIEWER", Some("10027"))
        .await;
    let b = shop.app.staff(&shop.admin, "rev-b", "REVIEWER", None).await;
    let mut orders = Vec::new();
    for n in 0..3 {
        let s = shop.student(&format!("wx-review-claim-{n}")).await;
        orders.push(shop.paid_order(&s).await);
    }
    let (ca, cb) = tokio::join!(claim(&shop, &a, 2), claim(&shop, &b, 2));
    let (ia, ib) = (ids(&ca["orders"]), ids(&cb["orders"]));
    assert_eq!(ia.len() + ib.len(), 3, "{ca} {cb}");
    assert!(ia.iter().all(|id| !ib.contains(id)), "{ia:?} {ib:?}");

    // B may not review what A holds.
    let held = &ia[0];
    let refused = review(&shop, &b, json!({ "orderId": held, "decision": "APPROVE" })).await;
    assert_eq!(refused["userErrors"][0]["code"], "NOT_CLAIMED");
    assert!(
        claim(&shop, &b, 5).await["orders"]
            .as_array()
            .is_some_and(|l| l.len() == ib.len())
    );

    // Leases last 5 minutes: after that A's orders go back to the queue.
    shop.app.clock.advance(chrono::TimeDelta::minutes(6));
    let taken = ids(&claim(&shop, &b, 5).await["orders"]);
    assert_eq!(taken.len(), 3, "{taken:?}");
    let late = review(&shop, &a, json!({ "orderId": held, "decision": "APPROVE" })).await;
    assert_eq!(late["userErrors"][0]["code"], "NOT_CLAIMED");
    let ok = review(&shop, &b, json!({ "orderId": held, "decision": "APPROVE" })).await;
    assert_eq!(ok["order"]["status"], "PENDING_PRODUCTION", "{ok}");
}

#[tokio::test]
async fn rejections_need_a_reviewer_reason_from_the_catalogue() {
    let shop = shop().await;
    let reviewer = shop
        .app
        .staff(&shop.admin, "rev2", "REVIEWER", Some("10027"))
        .await;
    let s = shop.student("wx-review-2").await;
    let order = shop.paid_order(&s).await;
    let unclaimed = review(
        &shop,
        &reviewer,
        json!({ "orderId": order["id"], "decision": "APPROVE" }),
    )
    .await;
    assert_eq!(unclaimed["userErrors"][0]["code"], "NOT_CLAIMED");
    claim(&shop, &reviewer, 1).await;
    for reason in [Value::Null, json!("NOT_A_REASON"), json!("WITHDRAWN")] {
        let r = review(
            &shop,
            &reviewer,
            json!({ "orderId": order["id"], "decision": "REJECT", "reasonCode": reason }),
        )
        .await;
        assert_eq!(r["userErrors"][0]["code"], "INVALID_REASON", "{reason}");
        assert_eq!(r["userErrors"][0]["field"], json!(["input", "reasonCode"]));
    }
    let long = review(
        &shop,
        &reviewer,
        json!({ "orderId": order["id"], "decision": "REJECT", "reasonCode": "OCC_EXTRA_CONTENT", "message": "长".repeat(201) }),
    )
    .await;
    assert_eq!(long["userErrors"][0]["code"], "INVALID_NOTE");
    assert_eq!(
        shop.order(&s.token, &order["id"]).await["status"],
        "PENDING_REVIEW"
    );
    let ok = review(
        &shop,
        &reviewer,
        json!({ "orderId": order["id"], "decision": "REJECT", "reasonCode": "OCC_EXTRA_CONTENT" }),
    )
    .await;
    assert!(
        ok["order"]["rejection"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("图像额外内容（手、水印等）")),
        "{ok}"
    );
    assert_eq!(ok["order"]["rejection"]["note"], Value::Null);
}

#[tokio::test]
async fn a_student_may_withdraw_from_review_and_only_their_own_order() {
    let shop = shop().await;
    let s = shop.student("wx-review-3").await;
    let other = shop.student("wx-review-3b").await;
    let order = shop.paid_order(&s).await;
    let foreign = shop
        .app
        .gql(
            Some(&other.token),
            "mutation($i: OrderIdInput!) { withdrawSubmission(input: $i) { userErrors { code } } }",
            json!({ "i": { "orderId": order["id"] } }),
        )
        .await;
    assert_eq!(common::error_code(&foreign), "NOT_FOUND");
    let w = shop
        .order_mutation(
            &s.token,
            "withdrawSubmission",
            json!({ "orderId": order["id"] }),
        )
        .await;
    assert_eq!(w["userErrors"], json!([]), "{w}");
    assert_eq!(w["order"]["status"], "REJECTED");
    let last = w["order"]["events"]
        .as_array()
        .and_then(|l| l.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (last["event"].as_str(), last["reasonCode"].as_str()),
        (Some("WITHDRAW"), Some("WITHDRAWN"))
    );
    let again = shop
        .order_mutation(
            &s.token,
            "withdrawSubmission",
            json!({ "orderId": order["id"] }),
        )
        .await;
    assert_eq!(again["userErrors"][0]["code"], "INVALID_STATE");
    // Another student's photo cannot be put on it.
    let foreign_photo = shop
        .app
        .gql(
            Some(&s.token),
            "mutation($i: ResubmitPhotoInput!) { resubmitPhoto(input: $i) { userErrors { code } } }",
            json!({ "i": { "orderId": order["id"], "photoId": other.photo } }),
        )
        .await;
    assert_eq!(common::error_code(&foreign_photo), "NOT_FOUND");
    let back = shop
        .order_mutation(
            &s.token,
            "resubmitPhoto",
            json!({ "orderId": order["id"], "photoId": s.photo }),
        )
        .await;
    assert_eq!(back["order"]["status"], "PENDING_REVIEW", "{back}");
}

#[tokio::test]
async fn staff_of_another_school_see_nothing_and_students_may_not_review() {
    let shop = shop().await;
    let s = shop.student("wx-review-4").await;
    let order = shop.paid_order(&s).await;
    shop.app
        .create_school(&shop.admin, "10001", "北京大学")
        .await;
    let pku = shop
        .app
        .staff(&shop.admin, "pku-rev", "SCHOOL_ADMIN", Some("10001"))
        .await;
    let theirs = shop.app.data(Some(&pku), QUEUE, json!({ "s": null })).await;
    assert_eq!(theirs["reviewQueue"]["totalCount"], 0);
    let forbidden = shop
        .app
        .gql(Some(&pku), QUEUE, json!({ "s": "10027" }))
        .await;
    assert_eq!(common::error_code(&forbidden), "FORBIDDEN");
    assert_eq!(claim(&shop, &pku, 5).await["orders"], json!([]));
    let review_other = shop
        .app
        .gql(
            Some(&pku),
            REVIEW,
            json!({ "i": { "orderId": order["id"], "decision": "APPROVE" } }),
        )
        .await;
    assert_eq!(common::error_code(&review_other), "NOT_FOUND");
    let stats = shop
        .app
        .gql(
            Some(&pku),
            "{ queueStats(schoolCode: \"10027\") { pendingReview } }",
            json!({}),
        )
        .await;
    assert_eq!(common::error_code(&stats), "FORBIDDEN");
    for query in [QUEUE, CLAIM] {
        let r = shop
            .app
            .gql(
                Some(&s.token),
                query,
                json!({ "s": null, "i": { "count": 1 } }),
            )
            .await;
        assert_eq!(common::error_code(&r), "FORBIDDEN", "{r}");
    }
    // A producer cannot review either.
    let producer = shop
        .app
        .staff(&shop.admin, "maker", "PRODUCER", Some("10027"))
        .await;
    let r = shop
        .app
        .gql(Some(&producer), CLAIM, json!({ "i": { "count": 1 } }))
        .await;
    assert_eq!(common::error_code(&r), "FORBIDDEN");
}

const UPLOAD_CHECK: &str = "mutation($i: UploadPhotoInput!) { uploadPhoto(input: $i) { photo { id check { verdict failureKind manualReviewAllowed issues { code severity kind } } } userErrors { code } } }";
const SUBMIT: &str = "mutation($i: SubmitOrderInput!) { submitOrder(input: $i) { order { id status manualReview manualReviewNote photo { check { verdict issues { code } } } } userErrors { code field message } } }";

async fn upload_checked(shop: &Shop, token: &str, enrollment: &Value, name: &str) -> Value {
    shop.app
        .upload_data(
            Some(token),
            UPLOAD_CHECK,
            json!({ "i": { "enrollmentId": enrollment, "file": null, "source": "CAMERA" } }),
            "variables.i.file",
            common::fixture(&format!("photos/{name}")),
            name,
        )
        .await["uploadPhoto"]["photo"]
        .clone()
}

async fn submit(shop: &Shop, token: &str, input: Value) -> Value {
    shop.app
        .data(Some(token), SUBMIT, json!({ "i": input }))
        .await["submitOrder"]
        .clone()
}

/// 提交人工审核 end to end: a photo the check failed on a judgement (head roll) is submitted
/// with `manualReview`, the reviewer sees the flag and the check's issues on the queue, decides,
/// and the student's live subscription carries the decision. Objective faults cannot take
/// this way, and without `manualReview` nothing changes.
#[tokio::test]
async fn a_soft_failed_photo_goes_to_a_reviewer_on_request_and_a_hard_one_never() {
    let shop = shop().await;
    let reviewer = shop
        .app
        .staff(&shop.admin, "rev-manual", "REVIEWER", Some("10027"))
        .await;
    let s = shop.student("wx-manual-1").await;

    let hard = upload_checked(&shop, &s.token, &s.enrollment, "noface_coffee.jpg").await;
    assert_eq!(hard["check"]["verdict"], "FAILED", "{hard}");
    assert_eq!(hard["check"]["failureKind"], "HARD", "{hard}");
    assert_eq!(hard["check"]["manualReviewAllowed"], false);
    assert_eq!(hard["check"]["issues"][0]["code"], "ID_NO_FACE");
    assert_eq!(hard["check"]["issues"][0]["kind"], "HARD");
    let refused = submit(
        &shop,
        &s.token,
        json!({ "photoId": hard["id"], "notificationConsent": true, "manualReview": true }),
    )
    .await;
    assert_eq!(
        refused["userErrors"][0]["code"], "PHOTO_NOT_PASSED",
        "{refused}"
    );
    assert_eq!(refused["order"], Value::Null);

    let soft = upload_checked(&shop, &s.token, &s.enrollment, "obama_roll15.jpg").await;
    assert_eq!(soft["check"]["verdict"], "FAILED", "{soft}");
    assert_eq!(soft["check"]["failureKind"], "SOFT", "{soft}");
    assert_eq!(soft["check"]["manualReviewAllowed"], true);
    let errors: Vec<&Value> = soft["check"]["issues"]
        .as_array()
        .map(|l| l.iter().filter(|i| i["severity"] == "ERROR").collect())
        .unwrap_or_default();
    assert!(errors.iter().any(|i| i["code"] == "POSE_ROLL"), "{soft}");
    assert!(errors.iter().all(|i| i["kind"] == "SOFT"), "{soft}");
    // Without asking for a person, a failed photo is still refused.
    let plain = submit(
        &shop,
        &s.token,
        json!({ "photoId": soft["id"], "notificationConsent": true }),
    )
    .await;
    assert_eq!(
        plain["userErrors"][0]["code"], "PHOTO_NOT_PASSED",
        "{plain}"
    );

    let mut live = subscribe_to(&shop, &s.token, UPDATES, json!({})).await;
    let submitted = submit(
        &shop,
        &s.token,
        json!({ "photoId": soft["id"], "notificationConsent": true, "manualReview": true }),
    )
    .await;
    assert_eq!(submitted["userErrors"], json!([]), "{submitted}");
    let order = submitted["order"].clone();
    assert_eq!(order["status"], "PENDING_PAYMENT");
    assert_eq!(order["manualReview"], true);
    assert_eq!(order["manualReviewNote"], "自动初审未通过，申请人工审核");
    assert_eq!(order["photo"]["check"]["verdict"], "FAILED");
    let pay = shop.create_payment(&s.token, &order["id"]).await;
    assert_eq!(pay["userErrors"], json!([]), "{pay}");
    let paid = shop
        .order_mutation(
            &s.token,
            "sandboxCompletePayment",
            json!({ "orderId": order["id"] }),
        )
        .await;
    assert_eq!(paid["order"]["status"], "PENDING_REVIEW", "{paid}");

    // The reviewer's queue and claim carry the flag, the note and the check's issues.
    let queue = shop
        .app
        .data(
            Some(&reviewer),
            "query { reviewQueue(schoolCode: \"10027\") { nodes { id manualReview manualReviewNote photo { check { verdict issues { code severity kind } } } } } }",
            json!({}),
        )
        .await;
    let item = &queue["reviewQueue"]["nodes"][0];
    assert_eq!(item["id"], order["id"], "{queue}");
    assert_eq!(item["manualReview"], true);
    assert_eq!(item["manualReviewNote"], "自动初审未通过，申请人工审核");
    assert!(
        item["photo"]["check"]["issues"]
            .as_array()
            .is_some_and(|l| l.iter().any(|i| i["code"] == "POSE_ROLL")),
        "{queue}"
    );
    let claimed = shop
        .app
        .data(
            Some(&reviewer),
            "mutation { claimReviewTasks(input: { count: 1 }) { orders { id manualReview } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        claimed["claimReviewTasks"]["orders"],
        json!([{ "id": order["id"], "manualReview": true }])
    );
    // The reviewer agrees with the student: a 15° tilt the render straightens is acceptable.
    let approved = review(
        &shop,
        &reviewer,
        json!({ "orderId": order["id"], "decision": "APPROVE" }),
    )
    .await;
    assert_eq!(approved["userErrors"], json!([]), "{approved}");
    assert_eq!(approved["order"]["status"], "PENDING_PRODUCTION");

    let mut events = Vec::new();
    while events.last().map(String::as_str) != Some("APPROVE") && events.len() < 6 {
        let e = next_data(&mut live, "orderUpdates").await;
        events.push(e["event"].as_str().unwrap_or_default().to_string());
    }
    assert_eq!(
        events,
        [
            "SUBMIT",
            "PAYMENT_CONFIRMED",
            "ENQUEUE_FOR_REVIEW",
            "APPROVE"
        ]
    );
}
