//! decodeCollectionCode over HTTP: pictures (GraphQL multipart) and text; nothing is saved.
use crate::common;

use common::{TestApp, fixture, fixture_code_keys, mint_code};
use serde_json::{Value, json};

const DECODE: &str = "mutation($input: DecodeCollectionCodeInput!) { decodeCollectionCode(input: $input) { text info { registryStudentId maskedName maskedIdNumber schoolCode schoolName college major educationLevel studentNumber graduationYear expiresAt } userErrors { code field message } } }";

async fn app() -> TestApp {
    TestApp::spawn_with(
        |v| {
            v.insert("COLLECTION_CODE_KEYS".into(), fixture_code_keys());
        },
        Default::default(),
    )
    .await
}

async fn decode_file(app: &TestApp, token: &str, name: &str) -> Value {
    app.upload_data(
        Some(token),
        DECODE,
        json!({ "input": { "image": null } }),
        "variables.input.image",
        fixture(&format!("qr/{name}")),
        name,
    )
    .await["decodeCollectionCode"]
        .clone()
}

#[tokio::test]
async fn every_labelled_fixture_decodes_or_fails_as_labelled() {
    let app = app().await;
    let token = app.sign_in_student("wx-dec", "13800138000").await;
    let labels: Value = serde_json::from_slice(&fixture("qr/labels.json")).expect("labels");
    let claims: Value = serde_json::from_slice(&fixture("qr/claims.json")).expect("claims");
    let mut read = 0;
    let mut stretch_read = Vec::new();
    for (name, label) in labels.as_object().expect("object") {
        let result = decode_file(&app, &token, name).await;
        if let Some(error) = label["error"].as_str() {
            assert_eq!(result["userErrors"][0]["code"], error, "{name}: {result}");
            assert_eq!(result["info"], Value::Null, "{name}");
            continue;
        }
        let stretch = label["stretch"].as_bool().unwrap_or(false);
        if stretch && result["text"].is_null() {
            // Read by none of the reference readers; reported, not required.
            assert_eq!(
                result["userErrors"][0]["code"], "QR_NOT_FOUND",
                "{name}: {result}"
            );
            continue;
        }
        assert_eq!(
            result["userErrors"],
            json!([]),
            "{name} must decode: {result}"
        );
        assert_eq!(result["text"], label["text"], "{name}");
        assert_eq!(
            result["info"]["registryStudentId"], claims[name]["sid"],
            "{name}"
        );
        assert_eq!(result["info"]["maskedName"], claims[name]["nm"], "{name}");
        assert_eq!(result["info"]["schoolCode"], claims[name]["sch"], "{name}");
        read += 1;
        if stretch {
            stretch_read.push(name.clone());
        }
    }
    eprintln!("decoded {read} images over HTTP; stretch images read: {stretch_read:?}");
    assert!(read >= 15, "every non-stretch image must decode");
}

#[tokio::test]
async fn decoded_info_carries_every_claim() {
    let app = app().await;
    let token = app.sign_in_student("wx-dec", "13800138000").await;
    let r = decode_file(&app, &token, "clean.png").await;
    let info = &r["info"];
    assert_eq!(info["maskedIdNumber"], "110101********123X");
    assert_eq!(info["schoolName"], "北京师范大学");
    assert_eq!(info["college"], "文学院");
    assert_eq!(info["major"], "汉语言文学");
    assert_eq!(info["educationLevel"], "本科");
    assert_eq!(info["studentNumber"], "201911010101");
    assert_eq!(info["graduationYear"], 2027);
    let claims: Value = serde_json::from_slice(&fixture("qr/claims.json")).expect("claims");
    let exp = claims["clean.png"]["exp"].as_i64().expect("exp");
    let expected = chrono::DateTime::from_timestamp(exp, 0).expect("time");
    let got: chrono::DateTime<chrono::Utc> = info["expiresAt"]
        .as_str()
        .expect("expiresAt")
        .parse()
        .expect("rfc3339");
    assert_eq!(got, expected);
}

#[tokio::test]
async fn no_code_in_the_picture_tells_the_student_what_to_do() {
    let app = app().await;
    let token = app.sign_in_student("wx-dec", "13800138000").await;
    let r = decode_file(&app, &token, "no_qr.jpg").await;
    assert_eq!(r["userErrors"][0]["code"], "QR_NOT_FOUND");
    assert_eq!(r["userErrors"][0]["field"], json!(["input", "image"]));
    let message = r["userErrors"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("长按") && message.contains("不要截屏") && message.contains("清晰"),
        "{message}"
    );
}

#[tokio::test]
async fn broken_and_hostile_files_are_fmt_file() {
    let app = app().await;
    let token = app.sign_in_student("wx-dec", "13800138000").await;
    for name in [
        "broken_not_an_image.jpg",
        "broken_truncated.jpg",
        "broken_empty.jpg",
        "bomb_60000x60000.png",
    ] {
        let r = app
            .upload_data(
                Some(&token),
                DECODE,
                json!({ "input": { "image": null } }),
                "variables.input.image",
                fixture(&format!("photos/{name}")),
                name,
            )
            .await["decodeCollectionCode"]
            .clone();
        assert_eq!(r["userErrors"][0]["code"], "FMT_FILE", "{name}: {r}");
    }
    // Over the 10 MiB upload limit but inside the body limit: a userError, not a crash.
    let mut big = fixture("qr/clean.png");
    big.resize(10 * 1024 * 1024 + 1000, 0);
    let r = app
        .upload_data(
            Some(&token),
            DECODE,
            json!({ "input": { "image": null } }),
            "variables.input.image",
            big,
            "big.png",
        )
        .await;
    assert_eq!(
        r["decodeCollectionCode"]["userErrors"][0]["code"],
        "FMT_FILE"
    );
    // Far over: the body is cut off at the limit, and the answer is the same FMT_FILE.
    let huge = vec![0u8; 30 * 1024 * 1024];
    let r = app
        .upload_data(
            Some(&token),
            DECODE,
            json!({ "input": { "image": null } }),
            "variables.input.image",
            huge,
            "huge.png",
        )
        .await;
    let error = &r["decodeCollectionCode"]["userErrors"][0];
    assert_eq!(error["code"], "FMT_FILE", "{r}");
    assert_eq!(error["field"], json!(["input", "image"]), "{r}");
    assert!(
        error["message"].as_str().unwrap_or("").contains("过大"),
        "{r}"
    );
}

#[tokio::test]
async fn text_path_verifies_signature_expiry_and_keys() {
    let app = app().await;
    let token = app.sign_in_student("wx-dec", "13800138000").await;
    let decode_text = |text: String| {
        let app = &app;
        let token = token.clone();
        async move {
            app.data(Some(&token), DECODE, json!({ "input": { "text": text } }))
                .await["decodeCollectionCode"]
                .clone()
        }
    };
    let good = mint_code(|c| c.sid = "S-text-path".into());
    let r = decode_text(format!("  {good}\n")).await;
    assert_eq!(r["userErrors"], json!([]));
    assert_eq!(r["info"]["registryStudentId"], "S-text-path");
    assert_eq!(r["text"], good);

    let expired = mint_code(|c| c.exp = chrono::Utc::now().timestamp() - 10);
    assert_eq!(
        decode_text(expired).await["userErrors"][0]["code"],
        "COLLECTION_CODE_EXPIRED"
    );

    // Claims changed after signing.
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    let other = mint_code(|c| c.sid = "S-someone-else".into());
    parts[1] = other.split('.').nth(1).unwrap_or_default().to_string();
    let r = decode_text(parts.join(".")).await;
    assert_eq!(r["userErrors"][0]["code"], "COLLECTION_CODE_INVALID");
    assert_eq!(r["userErrors"][0]["field"], json!(["input", "text"]));

    for junk in ["https://example.com/not-ours", "CQ1.abc.def", "CQ1."] {
        assert_eq!(
            decode_text(junk.into()).await["userErrors"][0]["code"],
            "COLLECTION_CODE_INVALID",
            "{junk}"
        );
    }
    let neither = app.data(Some(&token), DECODE, json!({ "input": {} })).await;
    assert_eq!(
        neither["decodeCollectionCode"]["userErrors"][0]["code"],
        "INPUT_REQUIRED"
    );
}

#[tokio::test]
async fn a_code_from_an_unconfigured_issuer_is_refused() {
    // Only the development key configured: fixture-signed codes are unknown.
    let app = TestApp::spawn().await;
    let token = app.sign_in_student("wx-dec", "13800138000").await;
    let r = app
        .data(
            Some(&token),
            DECODE,
            json!({ "input": { "text": mint_code(|_| {}) } }),
        )
        .await;
    assert_eq!(
        r["decodeCollectionCode"]["userErrors"][0]["code"],
        "COLLECTION_CODE_INVALID"
    );
}

#[tokio::test]
async fn decoding_needs_sign_in_and_saves_nothing() {
    use sea_orm::{EntityTrait, PaginatorTrait};
    let app = app().await;
    let anon = app
        .gql(
            None,
            DECODE,
            json!({ "input": { "text": mint_code(|_| {}) } }),
        )
        .await;
    assert_eq!(common::error_code(&anon), "UNAUTHENTICATED");
    let token = app.sign_in_student("wx-dec", "13800138000").await;
    decode_file(&app, &token, "clean.png").await;
    let count = campus_photo::entities::enrollment::Entity::find()
        .count(&app.state.db)
        .await
        .expect("count");
    assert_eq!(count, 0);
}
