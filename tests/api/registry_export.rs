//! 报至学信网 over HTTP: exportToRegistry packages each completed standard photo once, as
//! `<registry student id>.jpg` plus manifest.csv, behind a signed link; and who may export.
use crate::common;

use std::io::Read;

use campus_photo::{entities::enrollment, ids::NodeType};
use common::{
    TestApp, error_code,
    flow::{Student, shop},
};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

const ORDER: &str = "query($id: ID!) { node(id: $id) { ... on Order { id number status completedAt deliverableUrl } } }";
const EXPORT: &str = "mutation($i: ExportToRegistryInput!) { exportToRegistry(input: $i) { export { id count url createdAt } userErrors { code field message } } }";

const MANIFEST_HEADER: &str =
    "registry_student_id,student_number,masked_name,order_number,photo_sha256,completed_at";

/// The registry student id (the code's `sid`) of the student's enrollment.
async fn registry_id(app: &TestApp, s: &Student) -> String {
    let id = app.row_id(NodeType::Enrollment, &s.enrollment);
    enrollment::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .expect("enrollment query")
        .expect("enrollment row")
        .registry_student_id
        .expect("registry student id")
}

async fn export(app: &TestApp, token: &str, school: &str) -> Value {
    app.gql(
        Some(token),
        EXPORT,
        json!({ "i": { "schoolCode": school } }),
    )
    .await
}

/// Exports that must succeed; returns the payload's export.
pub(crate) async fn export_ok(app: &TestApp, token: &str, school: &str) -> Value {
    let body = export(app, token, school).await;
    assert!(body.get("errors").is_none(), "{body}");
    let payload = &body["data"]["exportToRegistry"];
    assert_eq!(payload["userErrors"], json!([]), "{body}");
    payload["export"].clone()
}

async fn download(app: &TestApp, url: &str) -> (Option<String>, Vec<u8>) {
    let resp = app.http.get(app.url(url)).send().await.expect("GET");
    assert_eq!(resp.status(), 200, "{url}");
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (content_type, resp.bytes().await.expect("body").to_vec())
}

/// The package: (file name → bytes) and the manifest's text.
fn unzip(bytes: Vec<u8>) -> (std::collections::BTreeMap<String, Vec<u8>>, String) {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP");
    let mut files = std::collections::BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).expect("entry");
        let mut content = Vec::new();
        entry.read_to_end(&mut content).expect("read entry");
        files.insert(entry.name().to_string(), content);
    }
    let manifest = files.remove("manifest.csv").expect("manifest.csv");
    (files, String::from_utf8(manifest).expect("UTF-8 manifest"))
}

/// The manifest's data rows (after the BOM and the header), split into fields.
fn manifest_rows(manifest: &str) -> Vec<Vec<String>> {
    let body = manifest
        .strip_prefix('\u{feff}')
        .unwrap_or_else(|| panic!("manifest without BOM: {manifest:?}"));
    let mut lines = body.split("\r\n");
    assert_eq!(lines.next(), Some(MANIFEST_HEADER), "{manifest:?}");
    let rows: Vec<Vec<String>> = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    assert!(body.ends_with("\r\n"), "{manifest:?}");
    rows
}

fn instant(value: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(value)
        .unwrap_or_else(|e| panic!("{value}: {e}"))
        .to_utc()
}

/// Checks one student's JPEG and manifest row against their order.
async fn check_student(
    app: &TestApp,
    s: &Student,
    order_id: &Value,
    files: &std::collections::BTreeMap<String, Vec<u8>>,
    rows: &[Vec<String>],
) {
    let sid = registry_id(app, s).await;
    let seen = app
        .data(Some(&s.token), ORDER, json!({ "id": order_id }))
        .await["node"]
        .clone();
    assert_eq!(seen["status"], "COMPLETED", "{seen}");
    let jpeg = files
        .get(&format!("{sid}.jpg"))
        .unwrap_or_else(|| panic!("{sid}.jpg missing from {:?}", files.keys()));
    let img = image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg).expect("a JPEG");
    assert_eq!((img.width(), img.height()), (480, 640));
    // The very photo the student downloads.
    let (_, delivered) = download(app, seen["deliverableUrl"].as_str().expect("url")).await;
    assert!(delivered == *jpeg, "{sid}.jpg differs from the deliverable");

    let row = rows
        .iter()
        .find(|r| r[0] == sid)
        .unwrap_or_else(|| panic!("no manifest row for {sid}: {rows:?}"));
    assert_eq!(row.len(), 6, "{row:?}");
    assert_eq!(row[1], "201911010101");
    assert_eq!(row[2], "张*三");
    assert_eq!(row[3], seen["number"].as_str().unwrap_or("?"));
    assert_eq!(row[4], campus_photo::storage::sha256_hex(jpeg));
    assert_eq!(
        instant(&row[5]),
        instant(seen["completedAt"].as_str().expect("completedAt"))
    );
}

#[tokio::test]
async fn completed_photos_are_exported_once_with_a_manifest() {
    let shop = shop().await;
    let app = &shop.app;
    let reviewer = app
        .staff(&shop.admin, "rev1", "REVIEWER", Some("10027"))
        .await;
    let producer = app
        .staff(&shop.admin, "prod1", "PRODUCER", Some("10027"))
        .await;
    let a = shop.student("wx-export-a").await;
    let b = shop
        .student_with_photo("wx-export-b", "obama_q35_ok.jpg")
        .await;
    let oa = shop.paid_order(&a).await;
    let ob = shop.paid_order(&b).await;
    shop.produce_all(&reviewer, &producer, 2).await;

    let first = export_ok(app, &shop.admin, "10027").await;
    assert_eq!(first["count"], 2, "{first}");
    let url = first["url"].as_str().expect("url");
    assert!(url.starts_with("/files/exports/10027/"), "{url}");
    // The package downloads under a readable (Chinese) name: `filename*` carries it whole.
    let resp = app.http.get(app.url(url)).send().await.expect("GET");
    let disposition = resp
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        disposition.starts_with("attachment; filename=\""),
        "{disposition}"
    );
    assert!(
        disposition.contains("filename*=UTF-8''%E5%AD%A6%E4%BF%A1%E7%BD%91%E5%AF%BC%E5%87%BA-"),
        "{disposition}"
    );
    let (content_type, bytes) = download(app, url).await;
    assert_eq!(content_type.as_deref(), Some("application/zip"));
    let (files, manifest) = unzip(bytes);
    let (sa, sb) = (registry_id(app, &a).await, registry_id(app, &b).await);
    assert_ne!(sa, sb);
    let mut expected = vec![format!("{sa}.jpg"), format!("{sb}.jpg")];
    expected.sort();
    assert_eq!(files.keys().cloned().collect::<Vec<_>>(), expected);
    let rows = manifest_rows(&manifest);
    assert_eq!(rows.len(), 2, "{manifest:?}");
    check_student(app, &a, &oa["id"], &files, &rows).await;
    check_student(app, &b, &ob["id"], &files, &rows).await;
    // Different photos, different files.
    assert_ne!(rows[0][4], rows[1][4]);
    // The export can be looked up again.
    let node = app
        .data(
            Some(&shop.admin),
            "query($id: ID!) { node(id: $id) { ... on RegistryExport { id count } } }",
            json!({ "id": first["id"] }),
        )
        .await;
    assert_eq!(node["node"], json!({ "id": first["id"], "count": 2 }));

    // Nothing new: nothing to export.
    let body = export(app, &shop.admin, "10027").await;
    assert!(body.get("errors").is_none(), "{body}");
    let payload = &body["data"]["exportToRegistry"];
    assert_eq!(payload["export"], Value::Null, "{body}");
    assert_eq!(
        payload["userErrors"][0]["code"], "NOTHING_TO_EXPORT",
        "{body}"
    );
    assert_eq!(
        payload["userErrors"][0]["field"],
        json!(["input", "schoolCode"])
    );

    // A third student completes: the next package holds only them.
    let c = shop
        .student_with_photo("wx-export-c", "obama_shift_ok.jpg")
        .await;
    let oc = shop.paid_order(&c).await;
    shop.produce_all(&reviewer, &producer, 1).await;
    let second = export_ok(app, &producer, "10027").await;
    assert_eq!(second["count"], 1, "{second}");
    assert_ne!(second["id"], first["id"]);
    let (_, bytes) = download(app, second["url"].as_str().expect("url")).await;
    let (files, manifest) = unzip(bytes);
    let sc = registry_id(app, &c).await;
    assert_eq!(
        files.keys().cloned().collect::<Vec<_>>(),
        [format!("{sc}.jpg")]
    );
    let rows = manifest_rows(&manifest);
    assert_eq!(rows.len(), 1, "{manifest:?}");
    check_student(app, &c, &oc["id"], &files, &rows).await;
}

#[tokio::test]
async fn exports_stay_within_the_exporters_school() {
    let shop = shop().await;
    let app = &shop.app;
    let created = app.create_school(&shop.admin, "10001", "北京大学").await;
    assert_eq!(created["userErrors"], json!([]), "{created}");
    let other_admin = app
        .staff(&shop.admin, "pku-admin", "SCHOOL_ADMIN", Some("10001"))
        .await;
    let reviewer = app
        .staff(&shop.admin, "rev1", "REVIEWER", Some("10027"))
        .await;
    let producer = app
        .staff(&shop.admin, "prod1", "PRODUCER", Some("10027"))
        .await;
    let s = shop.student("wx-export-scope").await;
    shop.paid_order(&s).await;
    // A completed photo is waiting, so a missing check would hand it out.
    shop.produce_all(&reviewer, &producer, 1).await;

    let body = export(app, &other_admin, "10027").await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert_eq!(body["data"], Value::Null, "{body}");
    let body = export(app, &s.token, "10027").await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = export(app, &reviewer, "10027").await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    let body = export(app, &shop.admin, "99999").await;
    assert!(body.get("errors").is_none(), "{body}");
    let payload = &body["data"]["exportToRegistry"];
    assert_eq!(payload["export"], Value::Null, "{body}");
    assert_eq!(
        payload["userErrors"][0]["code"], "SCHOOL_NOT_FOUND",
        "{body}"
    );
    // The other school's admin has nothing of their own to export.
    let body = export(app, &other_admin, "10001").await;
    assert_eq!(
        body["data"]["exportToRegistry"]["userErrors"][0]["code"], "NOTHING_TO_EXPORT",
        "{body}"
    );

    // The refusals exported nothing: the photo is still there for its school.
    let exported = export_ok(app, &shop.admin, "10027").await;
    assert_eq!(exported["count"], 1, "{exported}");
}
