//! Sign-in, sessions and their errors.
use crate::common;

use common::{AGREEMENT, TestApp, error_code};
use serde_json::{Value, json};

const SIGN_IN: &str = "mutation($i: SignInWithWeChatInput!) { signInWithWeChat(input: $i) { token account { id role phone agreementVersion } userErrors { code field message } } }";

async fn sign_in(app: &TestApp, code: &str, phone: &str, version: &str) -> Value {
    app.data(
        None,
        SIGN_IN,
        json!({ "i": { "code": code, "phoneCode": phone, "agreementVersion": version } }),
    )
    .await["signInWithWeChat"]
        .clone()
}

#[tokio::test]
async fn same_code_same_account_and_own_phone_is_unmasked() {
    let app = TestApp::spawn().await;
    let first = sign_in(&app, "wx-code-1", "13800138000", AGREEMENT).await;
    assert_eq!(first["userErrors"], json!([]));
    assert_eq!(first["account"]["role"], "STUDENT");
    assert_eq!(first["account"]["agreementVersion"], AGREEMENT);
    let again = sign_in(&app, "wx-code-1", "13800138000", AGREEMENT).await;
    assert_eq!(first["account"]["id"], again["account"]["id"]);
    assert_ne!(
        first["token"], again["token"],
        "each sign-in opens its own session"
    );
    let other = sign_in(&app, "wx-code-2", "13900139000", AGREEMENT).await;
    assert_ne!(first["account"]["id"], other["account"]["id"]);

    let token = first["token"].as_str().expect("token");
    let me = app
        .data(
            Some(token),
            "{ viewer { account { id phone role } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["viewer"]["account"]["phone"], "13800138000");
    assert_eq!(me["viewer"]["account"]["id"], first["account"]["id"]);
}

#[tokio::test]
async fn others_see_the_phone_masked() {
    let app = TestApp::spawn().await;
    let student = sign_in(&app, "wx-masked", "13800138000", AGREEMENT).await;
    let admin = app.admin_token().await;
    let id = student["account"]["id"].clone();
    let seen = app
        .data(
            Some(&admin),
            "query($id: ID!) { node(id: $id) { ... on Account { phone } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(seen["node"]["phone"], "138****8000");
}

#[tokio::test]
async fn wrong_agreement_version_is_a_user_error() {
    let app = TestApp::spawn().await;
    let r = sign_in(&app, "wx-code", "13800138000", "1999.1").await;
    assert_eq!(r["token"], Value::Null);
    assert_eq!(r["userErrors"][0]["code"], "AGREEMENT_VERSION_MISMATCH");
    assert_eq!(
        r["userErrors"][0]["field"],
        json!(["input", "agreementVersion"])
    );
    assert!(
        r["userErrors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("协议")
    );
}

#[tokio::test]
async fn empty_code_is_a_user_error() {
    let app = TestApp::spawn().await;
    let r = sign_in(&app, "  ", "13800138000", AGREEMENT).await;
    assert_eq!(r["token"], Value::Null);
    assert_eq!(r["userErrors"][0]["code"], "WECHAT_CODE_INVALID");
    assert_eq!(r["userErrors"][0]["field"], json!(["input", "code"]));
}

#[tokio::test]
async fn malformed_phone_is_a_user_error() {
    let app = TestApp::spawn().await;
    for phone in ["12345", "23800138000", "1380013800a", "138001380001"] {
        let r = sign_in(&app, "wx-code", phone, AGREEMENT).await;
        assert_eq!(r["token"], Value::Null, "{phone}");
        assert_eq!(r["userErrors"][0]["code"], "INVALID_PHONE", "{phone}");
        assert_eq!(r["userErrors"][0]["field"], json!(["input", "phoneCode"]));
    }
}

#[tokio::test]
async fn staff_sign_in_checks_the_password() {
    let app = TestApp::spawn().await;
    let q = "mutation($i: SignInStaffInput!) { signInStaff(input: $i) { token account { role username } userErrors { code field message } } }";
    let ok = app
        .data(
            None,
            q,
            json!({ "i": { "username": common::ADMIN_USER, "password": common::ADMIN_PASS } }),
        )
        .await;
    assert!(
        ok["signInStaff"]["token"]
            .as_str()
            .is_some_and(|t| t.len() >= 40)
    );
    assert_eq!(ok["signInStaff"]["account"]["role"], "ADMIN");

    for (user, pass) in [
        (common::ADMIN_USER, "wrong password"),
        ("nobody", common::ADMIN_PASS),
    ] {
        let bad = app
            .data(
                None,
                q,
                json!({ "i": { "username": user, "password": pass } }),
            )
            .await;
        assert_eq!(bad["signInStaff"]["token"], Value::Null);
        assert_eq!(
            bad["signInStaff"]["userErrors"][0]["code"],
            "INVALID_CREDENTIALS"
        );
        assert_eq!(
            bad["signInStaff"]["userErrors"][0]["message"],
            "用户名或密码错误"
        );
    }
}

#[tokio::test]
async fn sign_out_revokes_the_token() {
    let app = TestApp::spawn().await;
    let token = app.sign_in_student("wx-out", "13800138000").await;
    let other = app.sign_in_student("wx-out", "13800138000").await;
    assert_eq!(
        app.data(Some(&token), "mutation { signOut }", json!({}))
            .await["signOut"],
        true
    );
    let after = app
        .gql(Some(&token), "{ viewer { account { id } } }", json!({}))
        .await;
    assert_eq!(error_code(&after), "UNAUTHENTICATED");
    // Only that session ends.
    let still = app
        .data(Some(&other), "{ viewer { account { id } } }", json!({}))
        .await;
    assert!(still["viewer"]["account"]["id"].is_string());
}

#[tokio::test]
async fn expired_token_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let token = app.sign_in_student("wx-exp", "13800138000").await;
    app.clock.advance(chrono::Duration::days(8));
    let body = app
        .gql(Some(&token), "{ viewer { account { id } } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    assert_eq!(body["errors"][0]["message"], "登录已过期，请重新登录");
}

#[tokio::test]
async fn unknown_token_is_unauthenticated_and_anonymous_viewer_is_null() {
    let app = TestApp::spawn().await;
    let body = app
        .gql(
            Some("not-a-real-token"),
            "{ viewer { account { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    let anon = app
        .data(None, "{ viewer { account { id } } }", json!({}))
        .await;
    assert_eq!(anon["viewer"], Value::Null);
    let sign_out = app.gql(None, "mutation { signOut }", json!({})).await;
    assert_eq!(error_code(&sign_out), "UNAUTHENTICATED");
}

#[tokio::test]
async fn tokens_are_stored_hashed() {
    use sea_orm::EntityTrait;
    let app = TestApp::spawn().await;
    let token = app.sign_in_student("wx-hash", "13800138000").await;
    let sessions = campus_photo::entities::session::Entity::find()
        .all(&app.state.db)
        .await
        .expect("sessions");
    assert!(!sessions.is_empty());
    assert!(
        sessions
            .iter()
            .all(|s| s.token_hash != token && s.token_hash.len() == 64)
    );
    let accounts = campus_photo::entities::account::Entity::find()
        .all(&app.state.db)
        .await
        .expect("accounts");
    let student = accounts
        .iter()
        .find(|a| a.role.as_str() == "STUDENT")
        .expect("student");
    assert!(
        !student
            .phone_encrypted
            .as_deref()
            .unwrap_or("")
            .contains("13800138000")
    );
}
