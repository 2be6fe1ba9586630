//! Staff accounts over their whole life over HTTP: disabling (its sessions and WebSockets end at
//! once, it cannot sign in), enabling, resetting a password (a new one must be chosen at the next
//! sign-in), role and school changes; scope and the audit trail.
use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::common::{
    error_code, flow,
    ws::{UPDATES, subscribe_to},
};

const PASS: &str = "staff-password-123";
const ACCOUNT: &str = "account { id role disabled mustChangePassword school { code } } userErrors { code field message }";
const AUDIT: &str = "query($t: ID) { auditRecords(targetId: $t, first: 20) { totalCount nodes { action actor { username } before after } } }";
const SIGN_IN: &str = "mutation($i: SignInStaffInput!) { signInStaff(input: $i) { token account { mustChangePassword } userErrors { code field message } } }";

async fn mutate(
    shop: &flow::Shop,
    token: &str,
    name: &str,
    input_type: &str,
    input: Value,
) -> Value {
    let q = format!("mutation($i: {input_type}!) {{ {name}(input: $i) {{ {ACCOUNT} }} }}");
    let body = shop.app.gql(Some(token), &q, json!({ "i": input })).await;
    assert!(body.get("errors").is_none(), "{name}: {body}");
    body["data"][name].clone()
}

async fn account_id(
    shop: &flow::Shop,
    username: &str,
    role: &str,
    school: Option<&str>,
) -> (String, Value) {
    let r = shop
        .app
        .data(
            Some(&shop.admin),
            "mutation($i: CreateStaffAccountInput!) { createStaffAccount(input: $i) { account { id } userErrors { code } } }",
            json!({ "i": { "username": username, "password": PASS, "role": role, "schoolCode": school } }),
        )
        .await;
    let id = r["createStaffAccount"]["account"]["id"].clone();
    assert!(id.is_string(), "{r}");
    (shop.app.sign_in_staff(username, PASS).await, id)
}

async fn sign_in(shop: &flow::Shop, username: &str, password: &str) -> Value {
    shop.app
        .data(
            None,
            SIGN_IN,
            json!({ "i": { "username": username, "password": password } }),
        )
        .await["signInStaff"]
        .clone()
}

#[tokio::test]
async fn a_disabled_account_is_signed_out_everywhere_at_once_and_cannot_sign_in() {
    let shop = flow::shop().await;
    let (token, id) = account_id(&shop, "s-reviewer", "REVIEWER", Some("10027")).await;
    let mut sub = subscribe_to(&shop, &token, UPDATES, json!({})).await;
    let r = mutate(
        &shop,
        &shop.admin,
        "disableStaffAccount",
        "StaffAccountIdInput",
        json!({ "accountId": id }),
    )
    .await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert_eq!(r["account"]["disabled"], true);

    // Its socket closes with 4403 within a second.
    let closed = tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            match sub.ws.next().await {
                Some(Ok(Message::Close(Some(frame)))) => return u16::from(frame.code),
                Some(Ok(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    })
    .await
    .expect("the socket closed within a second");
    assert_eq!(closed, 4403);
    // Its token is refused, and it cannot sign in (said only with the right password).
    let body = shop
        .app
        .gql(Some(&token), "{ queueStats { pendingReview } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    let r = sign_in(&shop, "s-reviewer", PASS).await;
    assert_eq!(r["userErrors"][0]["code"], "ACCOUNT_DISABLED", "{r}");
    assert!(r["token"].is_null());
    let r = sign_in(&shop, "s-reviewer", "wrong-password-1").await;
    assert_eq!(r["userErrors"][0]["code"], "INVALID_CREDENTIALS", "{r}");
    // Disabling twice, or oneself, is refused.
    let again = mutate(
        &shop,
        &shop.admin,
        "disableStaffAccount",
        "StaffAccountIdInput",
        json!({ "accountId": id }),
    )
    .await;
    assert_eq!(
        again["userErrors"][0]["code"], "ACCOUNT_DISABLED",
        "{again}"
    );
    let me = shop
        .app
        .data(
            Some(&shop.admin),
            "{ viewer { account { id } } }",
            json!({}),
        )
        .await;
    let own = mutate(
        &shop,
        &shop.admin,
        "disableStaffAccount",
        "StaffAccountIdInput",
        json!({ "accountId": me["viewer"]["account"]["id"] }),
    )
    .await;
    assert_eq!(own["userErrors"][0]["code"], "OWN_ACCOUNT", "{own}");

    // Enabled again, it signs in.
    let r = mutate(
        &shop,
        &shop.admin,
        "enableStaffAccount",
        "StaffAccountIdInput",
        json!({ "accountId": id }),
    )
    .await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert_eq!(r["account"]["disabled"], false);
    assert!(sign_in(&shop, "s-reviewer", PASS).await["token"].is_string());
    let again = mutate(
        &shop,
        &shop.admin,
        "enableStaffAccount",
        "StaffAccountIdInput",
        json!({ "accountId": id }),
    )
    .await;
    assert_eq!(
        again["userErrors"][0]["code"], "ACCOUNT_NOT_DISABLED",
        "{again}"
    );

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
        vec!["STAFF_ENABLED", "STAFF_DISABLED", "STAFF_CREATED"],
        "{audit}"
    );
    let before: Value =
        serde_json::from_str(audit["nodes"][1]["before"].as_str().expect("before")).expect("json");
    assert_eq!(before["disabled"], false);
    assert!(
        !audit.to_string().contains("argon2"),
        "no password hash in the trail"
    );
}

#[tokio::test]
async fn after_a_reset_the_account_must_choose_a_new_password_first() {
    let shop = flow::shop().await;
    let (old_token, id) = account_id(&shop, "s-producer", "PRODUCER", Some("10027")).await;
    let weak = mutate(
        &shop,
        &shop.admin,
        "resetStaffPassword",
        "ResetStaffPasswordInput",
        json!({ "accountId": id, "temporaryPassword": "short" }),
    )
    .await;
    assert_eq!(weak["userErrors"][0]["code"], "WEAK_PASSWORD", "{weak}");
    assert_eq!(
        weak["userErrors"][0]["field"],
        json!(["input", "temporaryPassword"])
    );
    let r = mutate(
        &shop,
        &shop.admin,
        "resetStaffPassword",
        "ResetStaffPasswordInput",
        json!({ "accountId": id, "temporaryPassword": "temporary-pass-1" }),
    )
    .await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert_eq!(r["account"]["mustChangePassword"], true);
    // The old session ended; the old password no longer works.
    let body = shop
        .app
        .gql(
            Some(&old_token),
            "{ queueStats { pendingReview } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    assert_eq!(
        sign_in(&shop, "s-producer", PASS).await["userErrors"][0]["code"],
        "INVALID_CREDENTIALS"
    );
    let signed = sign_in(&shop, "s-producer", "temporary-pass-1").await;
    assert_eq!(signed["account"]["mustChangePassword"], true, "{signed}");
    let token = signed["token"].as_str().expect("token").to_string();
    // Nothing else until the password is changed.
    let body = shop
        .app
        .gql(Some(&token), "{ queueStats { pendingReview } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("修改密码"),
        "{body}"
    );
    let change = "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { account { mustChangePassword } userErrors { code field } } }";
    for (current, new, code) in [
        (
            "wrong-password-1",
            "brand-new-pass-1",
            "INVALID_CREDENTIALS",
        ),
        ("temporary-pass-1", "short", "WEAK_PASSWORD"),
        ("temporary-pass-1", "temporary-pass-1", "SAME_PASSWORD"),
    ] {
        let r = shop
            .app
            .data(
                Some(&token),
                change,
                json!({ "i": { "currentPassword": current, "newPassword": new } }),
            )
            .await;
        assert_eq!(r["changePassword"]["userErrors"][0]["code"], code, "{r}");
    }
    let r = shop.app.data(Some(&token), change, json!({ "i": { "currentPassword": "temporary-pass-1", "newPassword": "brand-new-pass-1" } })).await;
    assert_eq!(r["changePassword"]["userErrors"], json!([]), "{r}");
    assert_eq!(r["changePassword"]["account"]["mustChangePassword"], false);
    let body = shop
        .app
        .gql(Some(&token), "{ queueStats { pendingReview } }", json!({}))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert!(sign_in(&shop, "s-producer", "brand-new-pass-1").await["token"].is_string());
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
            "STAFF_PASSWORD_CHANGED",
            "STAFF_PASSWORD_RESET",
            "STAFF_CREATED"
        ],
        "{audit}"
    );
}

#[tokio::test]
async fn roles_and_schools_change_within_what_the_operator_may_do() {
    let shop = flow::shop().await;
    shop.app
        .create_school(&shop.admin, "10001", "北京大学")
        .await;
    let (token, id) = account_id(&shop, "s-staff", "REVIEWER", Some("10027")).await;
    let (school_admin, _) =
        account_id(&shop, "s-school-admin", "SCHOOL_ADMIN", Some("10027")).await;
    let (other_admin, _) = account_id(&shop, "s-other-admin", "SCHOOL_ADMIN", Some("10001")).await;
    let (_, admin2) = account_id(&shop, "s-admin2", "ADMIN", None).await;

    // A school admin moves their school's reviewer to production; its sessions end.
    let r = mutate(
        &shop,
        &school_admin,
        "updateStaffAccount",
        "UpdateStaffAccountInput",
        json!({ "accountId": id, "role": "PRODUCER" }),
    )
    .await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert_eq!(r["account"]["role"], "PRODUCER");
    let body = shop
        .app
        .gql(Some(&token), "{ queueStats { pendingReview } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    // …but may not move schools or make admins, nor touch an admin.
    let q = format!(
        "mutation($i: UpdateStaffAccountInput!) {{ updateStaffAccount(input: $i) {{ {ACCOUNT} }} }}"
    );
    let body = shop
        .app
        .gql(
            Some(&school_admin),
            &q,
            json!({ "i": { "accountId": id, "schoolCode": "10001" } }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = shop
        .app
        .gql(
            Some(&school_admin),
            &q,
            json!({ "i": { "accountId": id, "role": "ADMIN" } }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = shop
        .app
        .gql(
            Some(&school_admin),
            &q,
            json!({ "i": { "accountId": admin2, "role": "REVIEWER" } }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    // Another school's admin does not find the account at all.
    for (name, input_type, input) in [
        (
            "updateStaffAccount",
            "UpdateStaffAccountInput",
            json!({ "accountId": id, "role": "REVIEWER" }),
        ),
        (
            "disableStaffAccount",
            "StaffAccountIdInput",
            json!({ "accountId": id }),
        ),
        (
            "enableStaffAccount",
            "StaffAccountIdInput",
            json!({ "accountId": id }),
        ),
        (
            "resetStaffPassword",
            "ResetStaffPasswordInput",
            json!({ "accountId": id, "temporaryPassword": "temporary-pass-1" }),
        ),
    ] {
        let q = format!("mutation($i: {input_type}!) {{ {name}(input: $i) {{ {ACCOUNT} }} }}");
        let body = shop
            .app
            .gql(Some(&other_admin), &q, json!({ "i": input }))
            .await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{name}: {body}");
        let body = shop.app.gql(Some(&token), &q, json!({ "i": input })).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{name}: {body}");
    }
    // The admin moves it to the other school; a school admin needs a school; an admin has none.
    let r = mutate(
        &shop,
        &shop.admin,
        "updateStaffAccount",
        "UpdateStaffAccountInput",
        json!({ "accountId": id, "schoolCode": "10001" }),
    )
    .await;
    assert_eq!(r["account"]["school"]["code"], "10001", "{r}");
    let r = mutate(
        &shop,
        &shop.admin,
        "updateStaffAccount",
        "UpdateStaffAccountInput",
        json!({ "accountId": id, "role": "SCHOOL_ADMIN", "schoolCode": null }),
    )
    .await;
    assert_eq!(r["userErrors"][0]["code"], "SCHOOL_REQUIRED", "{r}");
    let r = mutate(
        &shop,
        &shop.admin,
        "updateStaffAccount",
        "UpdateStaffAccountInput",
        json!({ "accountId": id, "role": "ADMIN" }),
    )
    .await;
    assert_eq!(r["userErrors"][0]["code"], "SCHOOL_NOT_ALLOWED", "{r}");
    let r = mutate(
        &shop,
        &shop.admin,
        "updateStaffAccount",
        "UpdateStaffAccountInput",
        json!({ "accountId": id, "schoolCode": "99999" }),
    )
    .await;
    assert_eq!(r["userErrors"][0]["code"], "SCHOOL_NOT_FOUND", "{r}");
    let r = mutate(
        &shop,
        &shop.admin,
        "updateStaffAccount",
        "UpdateStaffAccountInput",
        json!({ "accountId": id, "role": "STUDENT" }),
    )
    .await;
    assert_eq!(r["userErrors"][0]["code"], "INVALID_ROLE", "{r}");
    // The new scope holds at the next sign-in.
    let token = shop.app.sign_in_staff("s-staff", PASS).await;
    let body = shop
        .app
        .gql(
            Some(&token),
            "{ projects(schoolCode: \"10027\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    // A student is no staff account to administer.
    let student = shop.student("s-student").await;
    let me = shop
        .app
        .data(
            Some(&student.token),
            "{ viewer { account { id } } }",
            json!({}),
        )
        .await;
    let q = "mutation($i: StaffAccountIdInput!) { disableStaffAccount(input: $i) { userErrors { code } } }";
    let body = shop
        .app
        .gql(
            Some(&shop.admin),
            q,
            json!({ "i": { "accountId": me["viewer"]["account"]["id"] } }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
}

const STAFF: &str = "query($s: String) { staffAccounts(schoolCode: $s, first: 50) { totalCount nodes { username role disabled school { code } } } }";

fn usernames(body: &Value) -> Vec<String> {
    body["data"]["staffAccounts"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["username"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// 人员 — operators list the staff accounts of their scope (disabled ones too, no students);
/// a school admin of another school sees only theirs, and FORBIDDEN for ours.
#[tokio::test]
async fn operators_list_the_staff_of_their_scope() {
    let shop = flow::shop().await;
    let app = &shop.app;
    shop.student("staff-list-student").await;
    let (_, reviewer) = account_id(&shop, "list-rev", "REVIEWER", Some("10027")).await;
    account_id(&shop, "list-maker", "PRODUCER", Some("10027")).await;
    let school_admin = app
        .staff(&shop.admin, "list-admin", "SCHOOL_ADMIN", Some("10027"))
        .await;
    let r = mutate(
        &shop,
        &shop.admin,
        "disableStaffAccount",
        "StaffAccountIdInput",
        json!({ "accountId": reviewer }),
    )
    .await;
    assert_eq!(r["userErrors"], json!([]), "{r}");

    // The admin: every staff account, itself included, newest first; no students.
    let all = app.gql(Some(&shop.admin), STAFF, json!({})).await;
    assert_eq!(
        usernames(&all),
        vec![
            "list-admin",
            "list-maker",
            "list-rev",
            crate::common::ADMIN_USER
        ],
        "{all}"
    );
    let rev = &all["data"]["staffAccounts"]["nodes"][2];
    assert_eq!(rev["disabled"], true, "{rev}");
    assert_eq!(rev["school"]["code"], "10027", "{rev}");
    // The school admin: their school's staff only (not the admin).
    let own = app.gql(Some(&school_admin), STAFF, json!({})).await;
    assert_eq!(
        usernames(&own),
        vec!["list-admin", "list-maker", "list-rev"],
        "{own}"
    );
    // Another school's admin: nothing of ours, and FORBIDDEN when asking for it (as `projects`).
    app.create_school(&shop.admin, "10001", "北京大学").await;
    let other = app
        .staff(&shop.admin, "list-pku", "SCHOOL_ADMIN", Some("10001"))
        .await;
    let theirs = app.gql(Some(&other), STAFF, json!({})).await;
    assert_eq!(usernames(&theirs), vec!["list-pku"], "{theirs}");
    let ours = app.gql(Some(&other), STAFF, json!({ "s": "10027" })).await;
    assert_eq!(error_code(&ours), "FORBIDDEN", "{ours}");
    // Producers and reviewers do not list staff.
    let maker = app.sign_in_staff("list-maker", PASS).await;
    let refused = app.gql(Some(&maker), STAFF, json!({})).await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
}
