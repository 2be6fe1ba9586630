//! 人工干预 over HTTP: more automatic checks, a refused take sent to human review, a reviewer's
//! claim released or reassigned, an enrollment unbound from the wrong account, an order cancelled
//! or refunded — each on the order's trail or in the audit records, each refused (changing
//! nothing) in the wrong state or out of scope.
use serde_json::{Value, json};

use crate::common::{error_code, flow, mint_code};

const ORDER: &str = "order { id status manualReview photo { id } events { event actor reasonCode } } userErrors { code field message }";
const ENROLLMENT: &str = "enrollment { id autoChecksRemaining } userErrors { code field message }";
const CLAIM: &str = "mutation { claimReviewTasks(input: { schoolCode: \"10027\", count: 5 }) { orders { id } userErrors { code } } }";
const REVIEW: &str = "mutation($i: ReviewOrderInput!) { reviewOrder(input: $i) { order { id status } userErrors { code } } }";

async fn run(
    shop: &flow::Shop,
    token: &str,
    name: &str,
    input_type: &str,
    fields: &str,
    input: Value,
) -> Value {
    let q = format!("mutation($i: {input_type}!) {{ {name}(input: $i) {{ {fields} }} }}");
    let body = shop.app.gql(Some(token), &q, json!({ "i": input })).await;
    assert!(body.get("errors").is_none(), "{name}: {body}");
    body["data"][name].clone()
}

async fn refused_top(
    shop: &flow::Shop,
    token: &str,
    name: &str,
    input_type: &str,
    input: Value,
) -> String {
    let q =
        format!("mutation($i: {input_type}!) {{ {name}(input: $i) {{ userErrors {{ code }} }} }}");
    let body = shop.app.gql(Some(token), &q, json!({ "i": input })).await;
    error_code(&body).to_string()
}

fn last_event(order: &Value) -> Value {
    order["events"]
        .as_array()
        .and_then(|e| e.last())
        .cloned()
        .unwrap_or_default()
}

async fn other_admin(shop: &flow::Shop) -> String {
    shop.app
        .create_school(&shop.admin, "10001", "北京大学")
        .await;
    shop.app
        .staff(&shop.admin, "o-other-admin", "SCHOOL_ADMIN", Some("10001"))
        .await
}

#[tokio::test]
async fn operators_grant_more_automatic_checks() {
    let shop = flow::shop().await;
    let projects = shop
        .app
        .data(
            Some(&shop.admin),
            "{ projects(first: 1) { nodes { id } } }",
            json!({}),
        )
        .await;
    let project = projects["projects"]["nodes"][0]["id"].clone();
    let r = shop.app.data(Some(&shop.admin), "mutation($i: UpdateProjectInput!) { updateProject(input: $i) { userErrors { code } } }", json!({ "i": { "projectId": project, "maxAutoChecks": 1 } })).await;
    assert_eq!(r["updateProject"]["userErrors"], json!([]), "{r}");
    let s = shop.student("o-checks").await;
    let refused = shop
        .app
        .upload_data(
            Some(&s.token),
            "mutation($i: UploadPhotoInput!) { uploadPhoto(input: $i) { photo { id } userErrors { code } } }",
            json!({ "i": { "enrollmentId": s.enrollment, "file": null, "source": "CAMERA" } }),
            "variables.i.file",
            crate::common::fixture("photos/obama_ok.jpg"),
            "obama_ok.jpg",
        )
        .await;
    assert_eq!(
        refused["uploadPhoto"]["userErrors"][0]["code"], "AUTO_CHECKS_EXHAUSTED",
        "{refused}"
    );

    // The student's order (placed before the checks ran out) shows the grant on its trail.
    let order = shop.submit(&s).await;
    let other = other_admin(&shop).await;
    let input = json!({ "enrollmentId": s.enrollment, "count": 2 });
    assert_eq!(
        refused_top(
            &shop,
            &other,
            "grantAutoChecks",
            "GrantAutoChecksInput",
            input.clone()
        )
        .await,
        "NOT_FOUND"
    );
    assert_eq!(
        refused_top(
            &shop,
            &s.token,
            "grantAutoChecks",
            "GrantAutoChecksInput",
            input.clone()
        )
        .await,
        "FORBIDDEN"
    );
    let bad = run(
        &shop,
        &shop.admin,
        "grantAutoChecks",
        "GrantAutoChecksInput",
        ENROLLMENT,
        json!({ "enrollmentId": s.enrollment, "count": 0 }),
    )
    .await;
    assert_eq!(bad["userErrors"][0]["code"], "INVALID_COUNT", "{bad}");
    let r = run(
        &shop,
        &shop.admin,
        "grantAutoChecks",
        "GrantAutoChecksInput",
        ENROLLMENT,
        input,
    )
    .await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert_eq!(r["enrollment"]["autoChecksRemaining"], 2, "{r}");
    let uploaded = shop.upload(&s.token, &s.enrollment, "obama_ok.jpg").await;
    assert_eq!(uploaded["check"]["verdict"], "PASSED", "{uploaded}");
    let audit = shop
        .app
        .data(
            Some(&shop.admin),
            "query($t: ID) { auditRecords(targetId: $t) { nodes { action targetType after } } }",
            json!({ "t": s.enrollment }),
        )
        .await;
    let rec = &audit["auditRecords"]["nodes"][0];
    let trail = shop.order(&shop.admin, &order["id"]).await;
    assert_eq!(
        flow::event_names(&trail).last().map(String::as_str),
        Some("AUTO_CHECKS_GRANTED"),
        "{trail}"
    );
    assert_eq!(rec["action"], "AUTO_CHECKS_GRANTED", "{audit}");
    assert_eq!(rec["targetType"], "ENROLLMENT");
}

#[tokio::test]
async fn a_refused_take_goes_to_human_review_only_from_a_rejected_order() {
    let shop = flow::shop().await;
    let reviewer = shop
        .app
        .staff(&shop.admin, "o-reviewer", "REVIEWER", Some("10027"))
        .await;
    let s = shop.student("o-manual").await;
    let order = shop.paid_order(&s).await;
    let failed = shop
        .upload(&s.token, &s.enrollment, "noface_chelsea.jpg")
        .await;
    assert_eq!(failed["check"]["verdict"], "FAILED", "{failed}");
    let input = json!({ "orderId": order["id"], "photoId": failed["id"] });

    // Awaiting review: the wrong state, nothing changes.
    let r = run(
        &shop,
        &shop.admin,
        "sendPhotoToReview",
        "SendPhotoToReviewInput",
        ORDER,
        input.clone(),
    )
    .await;
    assert_eq!(r["userErrors"][0]["code"], "INVALID_STATE", "{r}");
    let before = shop.order(&shop.admin, &order["id"]).await;
    assert_eq!(before["photo"]["id"], s.photo);

    shop.app.data(Some(&reviewer), CLAIM, json!({})).await;
    let rejected = shop.app.data(Some(&reviewer), REVIEW, json!({ "i": { "orderId": order["id"], "decision": "REJECT", "reasonCode": "POSE_PITCH" } })).await;
    assert_eq!(
        rejected["reviewOrder"]["order"]["status"], "REJECTED",
        "{rejected}"
    );

    let other = other_admin(&shop).await;
    assert_eq!(
        refused_top(
            &shop,
            &other,
            "sendPhotoToReview",
            "SendPhotoToReviewInput",
            input.clone()
        )
        .await,
        "NOT_FOUND"
    );
    assert_eq!(
        refused_top(
            &shop,
            &reviewer,
            "sendPhotoToReview",
            "SendPhotoToReviewInput",
            input.clone()
        )
        .await,
        "FORBIDDEN"
    );
    let passed = run(
        &shop,
        &shop.admin,
        "sendPhotoToReview",
        "SendPhotoToReviewInput",
        ORDER,
        json!({ "orderId": order["id"], "photoId": s.photo }),
    )
    .await;
    assert_eq!(passed["userErrors"][0]["code"], "PHOTO_PASSED", "{passed}");
    let r = run(
        &shop,
        &shop.admin,
        "sendPhotoToReview",
        "SendPhotoToReviewInput",
        ORDER,
        input,
    )
    .await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert_eq!(r["order"]["status"], "PENDING_REVIEW");
    assert_eq!(r["order"]["manualReview"], true);
    assert_eq!(r["order"]["photo"]["id"], failed["id"]);
    let last = last_event(&r["order"]);
    assert_eq!(
        (
            last["event"].clone(),
            last["actor"].clone(),
            last["reasonCode"].clone()
        ),
        (
            json!("RESUBMIT"),
            json!("ADMIN"),
            json!("OPERATOR_MANUAL_REVIEW")
        ),
        "{r}"
    );
}

#[tokio::test]
async fn a_reviewers_claim_is_released_or_reassigned() {
    let shop = flow::shop().await;
    let reviewer = shop
        .app
        .staff(&shop.admin, "o-rev-1", "REVIEWER", Some("10027"))
        .await;
    let second = shop
        .app
        .staff(&shop.admin, "o-rev-2", "REVIEWER", Some("10027"))
        .await;
    let school_admin = shop
        .app
        .staff(&shop.admin, "o-school-admin", "SCHOOL_ADMIN", Some("10027"))
        .await;
    let s = shop.student("o-claims").await;
    let unpaid = shop.submit(&s).await;
    let id = json!({ "orderId": unpaid["id"] });
    let r = run(
        &shop,
        &school_admin,
        "releaseReviewClaim",
        "ReviewClaimInput",
        ORDER,
        id.clone(),
    )
    .await;
    assert_eq!(r["userErrors"][0]["code"], "INVALID_STATE", "{r}");

    let s2 = shop.student("o-claims-2").await;
    let order = shop.paid_order(&s2).await;
    let id = json!({ "orderId": order["id"] });
    let r = run(
        &shop,
        &school_admin,
        "releaseReviewClaim",
        "ReviewClaimInput",
        ORDER,
        id.clone(),
    )
    .await;
    assert_eq!(r["userErrors"][0]["code"], "NOT_CLAIMED", "{r}");
    let claimed = shop.app.data(Some(&reviewer), CLAIM, json!({})).await;
    assert_eq!(
        claimed["claimReviewTasks"]["orders"][0]["id"], order["id"],
        "{claimed}"
    );
    // The second reviewer cannot claim it while it is held.
    let none = shop.app.data(Some(&second), CLAIM, json!({})).await;
    assert_eq!(none["claimReviewTasks"]["orders"], json!([]), "{none}");

    let other = other_admin(&shop).await;
    assert_eq!(
        refused_top(
            &shop,
            &other,
            "releaseReviewClaim",
            "ReviewClaimInput",
            id.clone()
        )
        .await,
        "NOT_FOUND"
    );
    let r = run(
        &shop,
        &school_admin,
        "releaseReviewClaim",
        "ReviewClaimInput",
        ORDER,
        id.clone(),
    )
    .await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert_eq!(last_event(&r["order"])["event"], "CLAIM_RELEASED", "{r}");
    let taken = shop.app.data(Some(&second), CLAIM, json!({})).await;
    assert_eq!(
        taken["claimReviewTasks"]["orders"][0]["id"], order["id"],
        "released to the queue: {taken}"
    );

    // Reassigned to the first reviewer, who may now decide it; the second no longer can.
    let reviewer_id = shop
        .app
        .data(Some(&reviewer), "{ viewer { account { id } } }", json!({}))
        .await["viewer"]["account"]["id"]
        .clone();
    let input = json!({ "orderId": order["id"], "reviewerId": reviewer_id });
    assert_eq!(
        refused_top(
            &shop,
            &other,
            "reassignReviewClaim",
            "ReassignReviewClaimInput",
            input.clone()
        )
        .await,
        "NOT_FOUND"
    );
    let r = run(
        &shop,
        &school_admin,
        "reassignReviewClaim",
        "ReassignReviewClaimInput",
        ORDER,
        input.clone(),
    )
    .await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert_eq!(last_event(&r["order"])["event"], "CLAIM_REASSIGNED", "{r}");
    let again = run(
        &shop,
        &school_admin,
        "reassignReviewClaim",
        "ReassignReviewClaimInput",
        ORDER,
        input,
    )
    .await;
    assert_eq!(again["userErrors"][0]["code"], "ALREADY_CLAIMED", "{again}");
    let denied = shop
        .app
        .data(
            Some(&second),
            REVIEW,
            json!({ "i": { "orderId": order["id"], "decision": "APPROVE" } }),
        )
        .await;
    assert_ne!(denied["reviewOrder"]["userErrors"], json!([]), "{denied}");
    let approved = shop
        .app
        .data(
            Some(&reviewer),
            REVIEW,
            json!({ "i": { "orderId": order["id"], "decision": "APPROVE" } }),
        )
        .await;
    assert_eq!(
        approved["reviewOrder"]["order"]["status"], "PENDING_PRODUCTION",
        "{approved}"
    );
}

#[tokio::test]
async fn an_enrollment_taken_by_the_wrong_account_is_unbound_for_its_owner() {
    let shop = flow::shop().await;
    let code = mint_code(|c| c.sid = "S-DISPUTED".into());
    let add = "mutation($i: AddEnrollmentInput!) { addEnrollment(input: $i) { enrollment { id } userErrors { code } } }";
    let wrong = shop.app.sign_in_student("o-wrong", "13700137000").await;
    let taken = shop.app.data(Some(&wrong), add, json!({ "i": { "collectionCode": code, "idNumberLast4": "123X", "featureCode": "BNU27" } })).await;
    let enrollment = taken["addEnrollment"]["enrollment"]["id"].clone();
    assert!(enrollment.is_string(), "{taken}");
    let photo = shop.upload(&wrong, &enrollment, "obama_ok.jpg").await;
    let order = shop
        .order_mutation(
            &wrong,
            "submitOrder",
            json!({ "photoId": photo["id"], "notificationConsent": true }),
        )
        .await;
    assert_eq!(order["userErrors"], json!([]), "{order}");

    let owner = shop.app.sign_in_student("o-owner", "13800138000").await;
    let refused = shop.app.data(Some(&owner), add, json!({ "i": { "collectionCode": code, "idNumberLast4": "123X", "featureCode": "BNU27" } })).await;
    assert_eq!(
        refused["addEnrollment"]["userErrors"][0]["code"], "ALREADY_ENROLLED",
        "{refused}"
    );

    let input = json!({ "enrollmentId": enrollment, "reason": "本人持学生证申诉，已核实" });
    let r = run(
        &shop,
        &shop.admin,
        "unbindEnrollment",
        "UnbindEnrollmentInput",
        ENROLLMENT,
        input.clone(),
    )
    .await;
    assert_eq!(r["userErrors"][0]["code"], "ORDER_IN_PROGRESS", "{r}");
    let other = other_admin(&shop).await;
    assert_eq!(
        refused_top(
            &shop,
            &other,
            "unbindEnrollment",
            "UnbindEnrollmentInput",
            input.clone()
        )
        .await,
        "NOT_FOUND"
    );
    assert_eq!(
        refused_top(
            &shop,
            &other,
            "cancelAndRefundOrder",
            "CancelAndRefundOrderInput",
            json!({ "orderId": order["order"]["id"], "reason": "x" })
        )
        .await,
        "NOT_FOUND"
    );
    let cancelled = run(
        &shop,
        &shop.admin,
        "cancelAndRefundOrder",
        "CancelAndRefundOrderInput",
        ORDER,
        json!({ "orderId": order["order"]["id"], "reason": "采集信息被他人占用" }),
    )
    .await;
    assert_eq!(cancelled["userErrors"], json!([]), "{cancelled}");
    assert_eq!(cancelled["order"]["status"], "CLOSED");
    assert_eq!(last_event(&cancelled["order"])["actor"], "ADMIN");

    let r = run(
        &shop,
        &shop.admin,
        "unbindEnrollment",
        "UnbindEnrollmentInput",
        ENROLLMENT,
        input.clone(),
    )
    .await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    let again = run(
        &shop,
        &shop.admin,
        "unbindEnrollment",
        "UnbindEnrollmentInput",
        ENROLLMENT,
        input,
    )
    .await;
    assert_eq!(
        again["userErrors"][0]["code"], "ENROLLMENT_UNBOUND",
        "{again}"
    );
    // The wrong account no longer holds it; the owner adds it.
    // The closed order's trail says why the enrollment went.
    let trail = shop.order(&shop.admin, &order["order"]["id"]).await;
    assert_eq!(
        flow::event_names(&trail).last().map(String::as_str),
        Some("ENROLLMENT_UNBOUND"),
        "{trail}"
    );
    let theirs = shop
        .app
        .data(Some(&wrong), "{ viewer { enrollments { id } } }", json!({}))
        .await;
    assert_eq!(theirs["viewer"]["enrollments"], json!([]), "{theirs}");
    let added = shop.app.data(Some(&owner), add, json!({ "i": { "collectionCode": code, "idNumberLast4": "123X", "featureCode": "BNU27" } })).await;
    assert!(
        added["addEnrollment"]["enrollment"]["id"].is_string(),
        "{added}"
    );
    let audit = shop
        .app
        .data(
            Some(&shop.admin),
            "query($t: ID) { auditRecords(targetId: $t) { nodes { action after } } }",
            json!({ "t": enrollment }),
        )
        .await;
    assert_eq!(
        audit["auditRecords"]["nodes"][0]["action"], "ENROLLMENT_UNBOUND",
        "{audit}"
    );
}

#[tokio::test]
async fn operators_refund_a_paid_order_but_not_one_in_production() {
    let shop = flow::shop().await;
    let reviewer = shop
        .app
        .staff(&shop.admin, "o-refund-rev", "REVIEWER", Some("10027"))
        .await;
    let school_admin = shop
        .app
        .staff(&shop.admin, "o-refund-admin", "SCHOOL_ADMIN", Some("10027"))
        .await;
    let s = shop.student("o-refund").await;
    let order = shop.paid_order(&s).await;
    let r = run(
        &shop,
        &school_admin,
        "cancelAndRefundOrder",
        "CancelAndRefundOrderInput",
        ORDER,
        json!({ "orderId": order["id"], "reason": "学校统一退费" }),
    )
    .await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    let refunded = shop
        .wait_for_status(&s.token, &order["id"], "REFUNDED")
        .await;
    assert!(
        flow::event_names(&refunded).contains(&"REFUND_REQUESTED".to_string()),
        "{refunded}"
    );

    let s2 = shop.student("o-refund-2").await;
    let order2 = shop.paid_order(&s2).await;
    shop.approve_all(&reviewer, 1).await;
    let r = run(
        &shop,
        &school_admin,
        "cancelAndRefundOrder",
        "CancelAndRefundOrderInput",
        ORDER,
        json!({ "orderId": order2["id"], "reason": "学校统一退费" }),
    )
    .await;
    assert_eq!(r["userErrors"][0]["code"], "INVALID_STATE", "{r}");
    let now = shop.order(&shop.admin, &order2["id"]).await;
    assert_eq!(now["status"], "PENDING_PRODUCTION");
    assert_eq!(now["refundPending"], false);
}

#[tokio::test]
async fn a_take_refused_for_a_hard_fault_may_be_submitted_once_an_operator_allows_it() {
    let shop = flow::shop().await;
    let reviewer = shop
        .app
        .staff(&shop.admin, "o-allow-rev", "REVIEWER", Some("10027"))
        .await;
    let s = shop.student("o-allow").await;
    let refused = shop
        .upload(&s.token, &s.enrollment, "noface_chelsea.jpg")
        .await;
    assert_eq!(refused["check"]["verdict"], "FAILED", "{refused}");
    let submit =
        json!({ "photoId": refused["id"], "notificationConsent": true, "manualReview": true });
    let r = shop
        .order_mutation(&s.token, "submitOrder", submit.clone())
        .await;
    assert_eq!(r["userErrors"][0]["code"], "PHOTO_NOT_PASSED", "{r}");

    let allow = "photo { id manualReviewGranted } userErrors { code field message }";
    let input = json!({ "photoId": refused["id"] });
    let other = other_admin(&shop).await;
    assert_eq!(
        refused_top(
            &shop,
            &other,
            "allowManualReview",
            "AllowManualReviewInput",
            input.clone()
        )
        .await,
        "NOT_FOUND"
    );
    assert_eq!(
        refused_top(
            &shop,
            &reviewer,
            "allowManualReview",
            "AllowManualReviewInput",
            input.clone()
        )
        .await,
        "FORBIDDEN"
    );
    let passed = run(
        &shop,
        &shop.admin,
        "allowManualReview",
        "AllowManualReviewInput",
        allow,
        json!({ "photoId": s.photo }),
    )
    .await;
    assert_eq!(passed["userErrors"][0]["code"], "PHOTO_PASSED", "{passed}");
    let r = run(
        &shop,
        &shop.admin,
        "allowManualReview",
        "AllowManualReviewInput",
        allow,
        input,
    )
    .await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert_eq!(r["photo"]["manualReviewGranted"], true, "{r}");

    // Still not without asking for a person; with it, the order goes to a reviewer flagged.
    let mut without = submit.clone();
    without["manualReview"] = json!(false);
    let r = shop.order_mutation(&s.token, "submitOrder", without).await;
    assert_eq!(r["userErrors"][0]["code"], "PHOTO_NOT_PASSED", "{r}");
    let r = shop.order_mutation(&s.token, "submitOrder", submit).await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    let order = shop.order(&shop.admin, &r["order"]["id"]).await;
    let manual = shop
        .app
        .data(
            Some(&shop.admin),
            "query($id: ID!) { node(id: $id) { ... on Order { manualReview } } }",
            json!({ "id": order["id"] }),
        )
        .await;
    assert_eq!(manual["node"]["manualReview"], true, "{manual}");
    let audit = shop
        .app
        .data(
            Some(&shop.admin),
            "query($t: ID) { auditRecords(targetId: $t) { nodes { action } } }",
            json!({ "t": s.enrollment }),
        )
        .await;
    assert_eq!(
        audit["auditRecords"]["nodes"][0]["action"], "MANUAL_REVIEW_ALLOWED",
        "{audit}"
    );
}
