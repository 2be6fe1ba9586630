//! Privacy: after a whole student flow, neither the database (read directly, every table) nor
//! the logs (captured at debug level) hold a plain-text phone number, ID number or name, and the
//! logs hold no bearer token.
use std::sync::{
    Arc, Mutex, OnceLock,
    atomic::{AtomicBool, Ordering},
};

use crate::common;

use common::{TestApp, flow::Shop, project_input};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

const PHONE: &str = "13812345678";
const ID_NUMBER: &str = "11010519491231002X";
const NAME: &str = "李小雷";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

static CAPTURING: AtomicBool = AtomicBool::new(false);

/// The process-wide log capture (JSON, debug level), on while CAPTURING is set. Process-wide
/// because a per-thread subscriber misses events whose callsites another thread cached first;
/// while it is on it also holds other tests' logs, which must be as clean.
fn capture() -> Captured {
    static CAPTURE: OnceLock<Captured> = OnceLock::new();
    CAPTURE
        .get_or_init(|| {
            use tracing_subscriber::{Layer, layer::SubscriberExt, util::SubscriberInitExt};
            let captured = Captured::default();
            let writer = captured.clone();
            let layer = tracing_subscriber::fmt::layer()
                .json()
                .with_writer(move || writer.clone())
                .with_filter(tracing_subscriber::filter::filter_fn(|meta| {
                    CAPTURING.load(Ordering::Relaxed) && *meta.level() <= tracing::Level::DEBUG
                }));
            tracing_subscriber::registry()
                .with(layer)
                .try_init()
                .expect("no other test installs a global subscriber");
            captured
        })
        .clone()
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every row of every table of the test database, as text.
async fn database_text(app: &TestApp) -> String {
    let db = &app.state.db;
    let mut all = String::new();
    if common::postgres_url().is_some() {
        let tables = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT table_name::text AS t FROM information_schema.tables WHERE table_schema = current_schema()",
            ))
            .await
            .expect("tables");
        for row in tables {
            let table: String = row.try_get("", "t").expect("name");
            let rows = db
                .query_all_raw(Statement::from_string(
                    db.get_database_backend(),
                    format!("SELECT row_to_json(x)::text AS j FROM \"{table}\" x"),
                ))
                .await
                .expect("rows");
            for r in rows {
                let text: String = r.try_get("", "j").expect("json");
                all.push_str(&text);
                all.push('\n');
            }
        }
    } else {
        // SQLite: the database files themselves, byte for byte.
        let url = app.vars.get("DATABASE_URL").cloned().unwrap_or_default();
        let path = url
            .trim_start_matches("sqlite://")
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string();
        for suffix in ["", "-wal", "-journal"] {
            if let Ok(bytes) = std::fs::read(format!("{path}{suffix}")) {
                all.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
        assert!(all.len() > 10_000, "read the SQLite files at {path}");
    }
    all
}

#[tokio::test]
async fn no_plain_personal_data_in_the_database_or_the_logs() {
    let captured = capture();
    CAPTURING.store(true, Ordering::SeqCst);

    let app = TestApp::spawn_with(
        |v| {
            v.insert("COLLECTION_CODE_KEYS".into(), common::fixture_code_keys());
        },
        Default::default(),
    )
    .await;
    let admin = app.admin_token().await;
    app.create_school(&admin, "10027", "北京师范大学").await;
    let mut fresh = project_input("10027", "NEW27", "000017");
    fresh["mode"] = json!("FRESHMAN");
    app.create_project(&admin, fresh).await;
    let shop = Shop { app, admin };

    let token = shop.app.sign_in_student("wx-privacy", PHONE).await;
    let r = shop
        .app
        .data(
            Some(&token),
            "mutation($i: AddFreshmanEnrollmentInput!) { addFreshmanEnrollment(input: $i) { enrollment { id name idNumber } userErrors { code } } }",
            json!({ "i": { "featureCode": "NEW27", "name": NAME, "idNumber": ID_NUMBER, "admissionNumber": "2027110101" } }),
        )
        .await["addFreshmanEnrollment"]
        .clone();
    // The owner reads them back: they are stored, just not in plain text.
    assert_eq!(r["enrollment"]["idNumber"], ID_NUMBER, "{r}");
    let enrollment = r["enrollment"]["id"].clone();
    let photo = shop.upload(&token, &enrollment, "obama_ok.jpg").await;
    assert_eq!(photo["check"]["verdict"], "PASSED");
    let student = common::flow::Student {
        token: token.clone(),
        enrollment,
        photo: photo["id"].clone(),
    };
    shop.paid_order(&student).await;
    let me = shop
        .app
        .data(Some(&token), "{ viewer { account { phone } } }", json!({}))
        .await;
    assert_eq!(me["viewer"]["account"]["phone"], PHONE);
    // A failing request logs too.
    shop.app
        .gql(
            Some("not-a-token"),
            "{ viewer { account { id } } }",
            json!({}),
        )
        .await;

    let stored = database_text(&shop.app).await;
    // What may be stored is there, so the scan reads the right rows.
    assert!(
        stored.contains("138****5678"),
        "masked phone not found by the scan"
    );
    for secret in [PHONE, ID_NUMBER, "11010519491231002x", NAME] {
        assert!(!stored.contains(secret), "{secret} is stored in plain text");
    }

    CAPTURING.store(false, Ordering::SeqCst);
    let logs = String::from_utf8_lossy(&captured.0.lock().expect("logs")).to_string();
    assert!(
        logs.contains("request_id"),
        "the capture works and requests carry their id: {}",
        &logs[..logs.len().min(2000)]
    );
    for secret in [PHONE, ID_NUMBER, NAME, token.as_str(), shop.admin.as_str()] {
        assert!(!logs.contains(secret), "{secret} appears in the logs");
    }
}
