//! 审核质量 over HTTP: per reviewer, decisions per day and rejection reasons, and how long the
//! oldest order has waited; in scope.
use serde_json::json;

use crate::common::{error_code, flow};

const QUALITY: &str = "query($s: String, $d: Int) { reviewQuality(schoolCode: $s, days: $d) { since waiting oldestWaitingSince oldestWaitingSeconds reviewers { reviewer { username } approved rejected days { date approved rejected } rejectionReasons { code title count } } } }";
const CLAIM: &str =
    "mutation { claimReviewTasks(input: { schoolCode: \"10027\", count: 1 }) { orders { id } } }";
const REVIEW: &str =
    "mutation($i: ReviewOrderInput!) { reviewOrder(input: $i) { userErrors { code } } }";

#[tokio::test]
async fn operators_see_each_reviewers_decisions_and_the_oldest_wait() {
    let shop = flow::shop().await;
    let app = &shop.app;
    let r1 = app
        .staff(&shop.admin, "q-rev-1", "REVIEWER", Some("10027"))
        .await;
    let r2 = app
        .staff(&shop.admin, "q-rev-2", "REVIEWER", Some("10027"))
        .await;
    let mut orders = Vec::new();
    for i in 0..4 {
        let s = shop.student(&format!("q-student-{i}")).await;
        orders.push(shop.paid_order(&s).await);
    }
    let decide = async |token: &str, decision: &str, reason: Option<&str>| {
        let claimed = app.data(Some(token), CLAIM, json!({})).await;
        let id = claimed["claimReviewTasks"]["orders"][0]["id"].clone();
        let r = app
            .data(
                Some(token),
                REVIEW,
                json!({ "i": { "orderId": id, "decision": decision, "reasonCode": reason } }),
            )
            .await;
        assert_eq!(r["reviewOrder"]["userErrors"], json!([]), "{r}");
    };
    decide(&r1, "REJECT", Some("POSE_PITCH")).await;
    decide(&r1, "APPROVE", None).await;
    decide(&r2, "REJECT", Some("POSE_PITCH")).await;
    app.clock.advance(chrono::TimeDelta::minutes(90));

    let q = app
        .data(Some(&shop.admin), QUALITY, json!({ "s": "10027" }))
        .await["reviewQuality"]
        .clone();
    let reviewers = q["reviewers"].as_array().expect("reviewers");
    assert_eq!(reviewers.len(), 2, "{q}");
    let first = &reviewers[0];
    assert_eq!(
        first["reviewer"]["username"], "q-rev-1",
        "busiest first: {q}"
    );
    assert_eq!(
        (first["approved"].clone(), first["rejected"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(first["days"].as_array().map(Vec::len), Some(1), "{q}");
    assert_eq!(first["days"][0]["approved"], 1);
    assert_eq!(first["rejectionReasons"][0]["code"], "POSE_PITCH");
    assert_eq!(first["rejectionReasons"][0]["count"], 1);
    assert!(
        first["rejectionReasons"][0]["title"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert_eq!(reviewers[1]["rejected"], 1);
    assert_eq!(q["waiting"], 1, "{q}");
    let waited = q["oldestWaitingSeconds"].as_i64().expect("seconds");
    assert!((90 * 60..=95 * 60).contains(&waited), "{waited}");

    // Out of range, out of scope, not an operator.
    let body = app.gql(Some(&shop.admin), QUALITY, json!({ "d": 0 })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    app.create_school(&shop.admin, "10001", "北京大学").await;
    let other = app
        .staff(&shop.admin, "q-other-admin", "SCHOOL_ADMIN", Some("10001"))
        .await;
    let body = app
        .gql(Some(&other), QUALITY, json!({ "s": "10027" }))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let theirs = app.data(Some(&other), QUALITY, json!({})).await;
    assert_eq!(theirs["reviewQuality"]["reviewers"], json!([]), "{theirs}");
    assert_eq!(theirs["reviewQuality"]["waiting"], 0, "{theirs}");
    let body = app.gql(Some(&r1), QUALITY, json!({})).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
}
