//! Staff password guessing is bounded per account from any number of addresses, while the owner
//! at an address they signed in from before is not locked out; and forwarded addresses are
//! believed only from a trusted proxy.
use serde_json::{Value, json};

use crate::common::{self, ADMIN_PASS, ADMIN_USER, TestApp};

const SIGN_IN: &str =
    "mutation($i: SignInStaffInput!) { signInStaff(input: $i) { token userErrors { code } } }";

/// Behind the test's "proxy" (the loopback peer is trusted), each request names its client.
async fn spawn_behind_proxy(sign_in_limit: &str) -> TestApp {
    let limit = sign_in_limit.to_string();
    TestApp::spawn_with(
        move |v| {
            v.insert("CAMPUS_PHOTO_TRUSTED_PROXIES".into(), "127.0.0.1/32".into());
            v.insert("RATE_LIMIT_SIGN_IN".into(), limit);
        },
        Default::default(),
    )
    .await
}

async fn sign_in_from(app: &TestApp, client: &str, username: &str, password: &str) -> Value {
    app.http
        .post(app.url("/graphql"))
        .header("X-Forwarded-For", client)
        .json(&json!({ "query": SIGN_IN, "variables": { "i": { "username": username, "password": password } } }))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json")
}

fn outcome(body: &Value) -> String {
    if body["data"]["signInStaff"]["token"].is_string() {
        "OK".into()
    } else if let Some(code) = body["data"]["signInStaff"]["userErrors"][0]["code"].as_str() {
        code.into()
    } else {
        common::error_code(body).to_string()
    }
}

#[tokio::test]
async fn forty_guesses_from_forty_addresses_are_throttled_but_the_owner_gets_in() {
    let app = spawn_behind_proxy("100000/60").await;
    // The owner signed in from the office before.
    assert_eq!(
        outcome(&sign_in_from(&app, "198.51.100.10", ADMIN_USER, ADMIN_PASS).await),
        "OK"
    );
    let mut outcomes = Vec::new();
    for i in 0..40 {
        let body = sign_in_from(&app, &format!("203.0.113.{i}"), ADMIN_USER, "guess-123456").await;
        outcomes.push(outcome(&body));
    }
    let wrong = outcomes
        .iter()
        .filter(|o| *o == "INVALID_CREDENTIALS")
        .count();
    let throttled = outcomes.iter().filter(|o| *o == "THROTTLED").count();
    assert_eq!(wrong, 5, "{outcomes:?}");
    assert_eq!(throttled, 35, "{outcomes:?}");
    // A guesser who happens on the password from yet another address is throttled too: it is
    // not even checked.
    assert_eq!(
        outcome(&sign_in_from(&app, "192.0.2.77", ADMIN_USER, ADMIN_PASS).await),
        "THROTTLED"
    );
    let body = sign_in_from(&app, "192.0.2.78", ADMIN_USER, "guess-123456").await;
    assert!(
        body["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .is_some_and(|s| s >= 1),
        "{body}"
    );
    // The owner, from the office, is not held up by a stranger's guesses.
    assert_eq!(
        outcome(&sign_in_from(&app, "198.51.100.10", ADMIN_USER, ADMIN_PASS).await),
        "OK"
    );
    // The wait ends: after it, a stranger's address may try again.
    app.clock.advance(chrono::Duration::minutes(16));
    assert_eq!(
        outcome(&sign_in_from(&app, "192.0.2.79", ADMIN_USER, "guess-123456").await),
        "INVALID_CREDENTIALS"
    );
}

#[tokio::test]
async fn a_throttled_address_does_not_lock_out_staff_who_sign_in_from_it() {
    // Two sign-ins a minute per address, as if a campus NAT were busy.
    let app = spawn_behind_proxy("2/60").await;
    let nat = "198.51.100.99";
    assert_eq!(
        outcome(&sign_in_from(&app, nat, ADMIN_USER, ADMIN_PASS).await),
        "OK"
    );
    // Someone else behind the NAT exhausts its limit on unknown accounts.
    for _ in 0..3 {
        sign_in_from(&app, nat, "nobody", "guess-123456").await;
    }
    assert_eq!(
        outcome(&sign_in_from(&app, nat, "nobody", "guess-123456").await),
        "THROTTLED"
    );
    // The admin, whose address this is, still signs in.
    assert_eq!(
        outcome(&sign_in_from(&app, nat, ADMIN_USER, ADMIN_PASS).await),
        "OK"
    );
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_a_trusted_proxy() {
    // No trusted proxy: X-Forwarded-For is the client's own claim and changes nothing, so one
    // client cannot slip past the per-address limit by inventing addresses.
    let app = TestApp::spawn_with(
        |v| {
            v.insert("RATE_LIMIT_SIGN_IN".into(), "3/60".into());
        },
        Default::default(),
    )
    .await;
    let mut outcomes = Vec::new();
    for i in 0..5 {
        outcomes.push(outcome(
            &sign_in_from(&app, &format!("203.0.113.{i}"), "nobody", "guess-123456").await,
        ));
    }
    assert_eq!(outcomes[..3], ["INVALID_CREDENTIALS"; 3], "{outcomes:?}");
    assert_eq!(outcomes[3..], ["THROTTLED"; 2], "{outcomes:?}");

    // Behind a trusted proxy, each forwarded client has its own limit.
    let app = spawn_behind_proxy("3/60").await;
    for i in 0..5 {
        assert_eq!(
            outcome(&sign_in_from(&app, &format!("203.0.113.{i}"), "nobody", "guess-123456").await),
            "INVALID_CREDENTIALS"
        );
    }
}
