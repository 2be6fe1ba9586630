//! uploadPhoto over HTTP: storage, the preliminary check, limits, bad files and ownership.
use crate::common;

use common::{TestApp, error_code, fixture, fixture_code_keys, mint_code, project_input};
use serde_json::{Value, json};

const UPLOAD: &str = "mutation($i: UploadPhotoInput!) { uploadPhoto(input: $i) { photo { id source width height byteSize contentType sha256 url previewUrl check { verdict issues { code severity message } measures { name value min max } } enrollment { autoChecksRemaining } } userErrors { code field message } } }";

struct World {
    app: TestApp,
    student: String,
    enrollment: Value,
}

async fn world_with(project_edit: impl FnOnce(&mut Value)) -> World {
    let app = TestApp::spawn_with(
        |v| {
            v.insert("COLLECTION_CODE_KEYS".into(), fixture_code_keys());
        },
        Default::default(),
    )
    .await;
    let admin = app.admin_token().await;
    app.create_school(&admin, "10027", "北京师范大学").await;
    let mut project = project_input("10027", "BNU27", "000015");
    project_edit(&mut project);
    assert_eq!(
        app.create_project(&admin, project).await["userErrors"],
        json!([])
    );
    let student = app.sign_in_student("wx-photo", "13800138000").await;
    let r = app
        .data(
            Some(&student),
            "mutation($i: AddEnrollmentInput!) { addEnrollment(input: $i) { enrollment { id } userErrors { code } } }",
            json!({ "i": { "collectionCode": mint_code(|_| {}), "idNumberLast4": "123X", "featureCode": "BNU27" } }),
        )
        .await;
    let enrollment = r["addEnrollment"]["enrollment"]["id"].clone();
    assert!(enrollment.is_string(), "{r}");
    World {
        app,
        student,
        enrollment,
    }
}

async fn upload(w: &World, token: &str, name: &str, source: &str) -> Value {
    upload_bytes(w, token, fixture(&format!("photos/{name}")), name, source).await
}

async fn upload_bytes(w: &World, token: &str, bytes: Vec<u8>, name: &str, source: &str) -> Value {
    w.app
        .upload_data(
            Some(token),
            UPLOAD,
            json!({ "i": { "enrollmentId": w.enrollment, "file": null, "source": source } }),
            "variables.i.file",
            bytes,
            name,
        )
        .await["uploadPhoto"]
        .clone()
}

async fn stored_objects(w: &World) -> usize {
    fn count(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        count(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
    }
    let url = &w.app.state.config.storage_url;
    count(std::path::Path::new(url.trim_start_matches("file://")))
}

#[tokio::test]
async fn a_good_photo_passes_is_stored_and_downloads() {
    let w = world_with(|_| {}).await;
    let bytes = fixture("photos/obama_ok.jpg");
    let r = upload_bytes(&w, &w.student, bytes.clone(), "obama_ok.jpg", "CAMERA").await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    let p = &r["photo"];
    assert_eq!(p["check"]["verdict"], "PASSED", "{p}");
    assert!(
        p["check"]["issues"]
            .as_array()
            .expect("issues")
            .iter()
            .all(|i| i["severity"] == "WARNING")
    );
    assert!(
        !p["check"]["measures"]
            .as_array()
            .expect("measures")
            .is_empty()
    );
    assert_eq!(
        (p["width"].as_i64(), p["height"].as_i64()),
        (Some(720), Some(960))
    );
    assert_eq!(p["contentType"], "image/jpeg");
    assert_eq!(p["byteSize"].as_u64(), Some(bytes.len() as u64));
    assert_eq!(p["enrollment"]["autoChecksRemaining"], 9);

    let original = w
        .app
        .http
        .get(w.app.url(p["url"].as_str().expect("url")))
        .send()
        .await
        .expect("get");
    assert_eq!(original.status(), 200);
    assert_eq!(original.headers()["content-type"], "image/jpeg");
    assert_eq!(
        original.bytes().await.expect("bytes").as_ref(),
        bytes.as_slice()
    );

    let preview = w
        .app
        .http
        .get(w.app.url(p["previewUrl"].as_str().expect("previewUrl")))
        .send()
        .await
        .expect("get");
    assert_eq!(preview.status(), 200);
    let jpeg = preview.bytes().await.expect("bytes");
    let img = image::load_from_memory(&jpeg).expect("preview decodes");
    assert_eq!((img.width(), img.height()), (480, 640));
    // Rendered once, then served from storage: the same bytes again.
    let again = w
        .app
        .http
        .get(w.app.url(p["previewUrl"].as_str().expect("previewUrl")))
        .send()
        .await
        .expect("get");
    assert_eq!(again.bytes().await.expect("bytes"), jpeg);
    let forged = p["previewUrl"]
        .as_str()
        .expect("previewUrl")
        .replace("sig=", "sig=A");
    assert_eq!(
        w.app
            .http
            .get(w.app.url(&forged))
            .send()
            .await
            .expect("get")
            .status(),
        403
    );
}

#[tokio::test]
async fn links_are_absolute_under_the_public_url() {
    let w = world_with(|_| {}).await;
    // The same deployment behind its public address.
    let mut vars = w.app.vars.clone();
    vars.insert(
        "CAMPUS_PHOTO_PUBLIC_URL".into(),
        "https://photo.example.edu.cn/api/".into(),
    );
    let public = campus_photo::config::Config::from_vars(&vars, false).expect("config");
    assert_eq!(
        public.public_url.as_deref(),
        Some("https://photo.example.edu.cn/api")
    );
    let sibling = TestApp::spawn_with(
        |v| {
            v.insert("COLLECTION_CODE_KEYS".into(), fixture_code_keys());
            v.insert(
                "CAMPUS_PHOTO_PUBLIC_URL".into(),
                "https://photo.example.edu.cn/api/".into(),
            );
        },
        Default::default(),
    )
    .await;
    let admin = sibling.admin_token().await;
    sibling.create_school(&admin, "10027", "北京师范大学").await;
    sibling
        .create_project(&admin, project_input("10027", "BNU27", "000015"))
        .await;
    let student = sibling.sign_in_student("wx-public", "13800138000").await;
    let r = sibling
        .data(
            Some(&student),
            "mutation($i: AddEnrollmentInput!) { addEnrollment(input: $i) { enrollment { id } } }",
            json!({ "i": { "collectionCode": mint_code(|_| {}), "idNumberLast4": "123X", "featureCode": "BNU27" } }),
        )
        .await;
    let enrollment = r["addEnrollment"]["enrollment"]["id"].clone();
    let r = sibling
        .upload_data(
            Some(&student),
            UPLOAD,
            json!({ "i": { "enrollmentId": enrollment, "file": null, "source": "CAMERA" } }),
            "variables.i.file",
            fixture("photos/obama_ok.jpg"),
            "obama_ok.jpg",
        )
        .await["uploadPhoto"]
        .clone();
    for link in ["url", "previewUrl"] {
        let url = r["photo"][link].as_str().unwrap_or_default();
        assert!(
            url.starts_with("https://photo.example.edu.cn/api/"),
            "{link}: {r}"
        );
        // The path under it is what this server answers.
        let path = url.trim_start_matches("https://photo.example.edu.cn/api");
        let resp = sibling
            .http
            .get(sibling.url(path))
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), 200, "{path}");
        assert!(
            resp.headers()["content-disposition"]
                .to_str()
                .unwrap_or_default()
                .starts_with("inline"),
            "{path}"
        );
    }
    // Without it, links stay paths on this host.
    let r = upload(&w, &w.student, "obama_ok.jpg", "CAMERA").await;
    assert!(
        r["photo"]["url"]
            .as_str()
            .unwrap_or_default()
            .starts_with("/files/"),
        "{r}"
    );
}

#[tokio::test]
async fn signed_links_expire_and_cannot_be_forged() {
    let w = world_with(|_| {}).await;
    let r = upload(&w, &w.student, "obama_ok.jpg", "CAMERA").await;
    let url = r["photo"]["url"].as_str().expect("url").to_string();
    let forged = url.replace("sig=", "sig=x");
    assert_eq!(
        w.app
            .http
            .get(w.app.url(&forged))
            .send()
            .await
            .expect("get")
            .status(),
        403
    );
    let other_key = url.replace("originals/", "originals/00");
    assert_eq!(
        w.app
            .http
            .get(w.app.url(&other_key))
            .send()
            .await
            .expect("get")
            .status(),
        403
    );
    w.app.clock.advance(chrono::Duration::minutes(16));
    assert_eq!(
        w.app
            .http
            .get(w.app.url(&url))
            .send()
            .await
            .expect("get")
            .status(),
        410
    );
}

#[tokio::test]
async fn failed_check_reports_catalogue_codes() {
    let w = world_with(|_| {}).await;
    let r = upload(&w, &w.student, "noface_chelsea.jpg", "CAMERA").await;
    assert_eq!(r["userErrors"], json!([]));
    let check = &r["photo"]["check"];
    assert_eq!(check["verdict"], "FAILED");
    let no_face = check["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .find(|i| i["code"] == "ID_NO_FACE")
        .expect("ID_NO_FACE");
    assert_eq!(no_face["severity"], "ERROR");
    assert_eq!(
        no_face["message"],
        campus_photo_domain::reasons::message("ID_NO_FACE")
    );
    assert_eq!(r["photo"]["previewUrl"], Value::Null);
}

#[tokio::test]
async fn exif_rotated_photos_are_turned_upright() {
    let w = world_with(|_| {}).await;
    let r = upload(&w, &w.student, "obama_exif_rotated.jpg", "CAMERA").await;
    assert_eq!(r["photo"]["check"]["verdict"], "PASSED", "{r}");
    assert!(
        r["photo"]["height"].as_i64() > r["photo"]["width"].as_i64(),
        "portrait once oriented"
    );
}

#[tokio::test]
async fn bad_files_are_refused_and_nothing_is_stored() {
    let w = world_with(|_| {}).await;
    // Each refusal is FMT_FILE on the file, and its message names the cause.
    for (name, cause) in [
        ("broken_empty.jpg", "为空"),
        ("broken_truncated.jpg", "不完整"),
        ("broken_not_an_image.jpg", "格式不支持"),
        ("bomb_60000x60000.png", "像素过多"),
    ] {
        let r = upload(&w, &w.student, name, "CAMERA").await;
        assert_eq!(r["photo"], Value::Null, "{name}");
        assert_eq!(r["userErrors"][0]["code"], "FMT_FILE", "{name}: {r}");
        assert_eq!(r["userErrors"][0]["field"], json!(["input", "file"]));
        let message = r["userErrors"][0]["message"].as_str().unwrap_or("");
        assert!(message.contains(cause), "{name}: {r}");
    }
    // Just over the size limit, and far over it (past the body limit, where the body is cut
    // off): the same FMT_FILE on the file, naming the limit, not an HTTP 413.
    for size in [10 * 1024 * 1024 + 1, 30 * 1024 * 1024] {
        let mut big = fixture("photos/obama_ok.jpg");
        big.resize(size, 0);
        let r = upload_bytes(&w, &w.student, big, "big.jpg", "CAMERA").await;
        assert_eq!(r["userErrors"][0]["code"], "FMT_FILE", "{size}: {r}");
        assert_eq!(r["userErrors"][0]["field"], json!(["input", "file"]), "{r}");
        let message = r["userErrors"][0]["message"].as_str().unwrap_or("");
        assert!(
            message.contains("过大") && message.contains("10 MB"),
            "{size}: {r}"
        );
    }
    assert_eq!(stored_objects(&w).await, 0, "nothing stored");
    // Refused files do not use up checks.
    let left = w
        .app
        .data(
            Some(&w.student),
            "{ viewer { enrollments { autoChecksRemaining photos { totalCount } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        left["viewer"]["enrollments"][0],
        json!({ "autoChecksRemaining": 10, "photos": { "totalCount": 0 } })
    );
}

#[tokio::test]
async fn album_uploads_follow_the_project() {
    let w = world_with(|p| p["allowAlbumUpload"] = json!(false)).await;
    let r = upload(&w, &w.student, "obama_ok.jpg", "ALBUM").await;
    assert_eq!(r["userErrors"][0]["code"], "ALBUM_NOT_ALLOWED");
    assert_eq!(r["userErrors"][0]["field"], json!(["input", "source"]));
    let ok = upload(&w, &w.student, "obama_ok.jpg", "CAMERA").await;
    assert_eq!(ok["userErrors"], json!([]));
    assert_eq!(ok["photo"]["source"], "CAMERA");
}

#[tokio::test]
async fn checks_run_out_after_max_auto_checks() {
    let w = world_with(|p| p["maxAutoChecks"] = json!(2)).await;
    for left in [1, 0] {
        let r = upload(&w, &w.student, "noface_coffee.jpg", "CAMERA").await;
        assert_eq!(r["photo"]["enrollment"]["autoChecksRemaining"], left);
    }
    let r = upload(&w, &w.student, "obama_ok.jpg", "CAMERA").await;
    assert_eq!(r["userErrors"][0]["code"], "AUTO_CHECKS_EXHAUSTED");
    // The history keeps every take, newest first.
    let photos = w
        .app
        .data(Some(&w.student), "{ viewer { enrollments { photos(first: 10) { totalCount nodes { check { verdict } } } } } }", json!({}))
        .await;
    assert_eq!(
        photos["viewer"]["enrollments"][0]["photos"]["totalCount"],
        2
    );
}

#[tokio::test]
async fn other_peoples_enrollments_and_photos_are_not_found() {
    let w = world_with(|_| {}).await;
    let photo = upload(&w, &w.student, "obama_ok.jpg", "CAMERA").await["photo"]["id"].clone();
    let intruder = w.app.sign_in_student("wx-other", "13900139000").await;
    let resp = w
        .app
        .upload(
            Some(&intruder),
            UPLOAD,
            json!({ "i": { "enrollmentId": w.enrollment, "file": null, "source": "CAMERA" } }),
            "variables.i.file",
            fixture("photos/obama_ok.jpg"),
            "x.jpg",
        )
        .await;
    let body: Value = resp.json().await.expect("json");
    assert_eq!(error_code(&body), "NOT_FOUND");
    let seen = w
        .app
        .gql(
            Some(&intruder),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": photo }),
        )
        .await;
    assert_eq!(error_code(&seen), "NOT_FOUND");
    let own = w
        .app
        .data(
            Some(&w.student),
            "query($id: ID!) { node(id: $id) { ... on Photo { check { verdict } } } }",
            json!({ "id": photo }),
        )
        .await;
    assert_eq!(own["node"]["check"]["verdict"], "PASSED");
}
