//! Test harness: each test gets its own server on a random port and its own database (a SQLite
//! file in a temp dir, or a fresh PostgreSQL schema when TEST_DATABASE_URL is set).
#![allow(dead_code)]

use std::{collections::HashMap, sync::Arc};

use base64::{Engine, engine::general_purpose::STANDARD};
use campus_photo::{
    AppState, Overrides, clock::ManualClock, config::Config, integrations::wechat_pay::SandboxKeys,
};
use serde_json::{Value, json};
use tokio::net::TcpListener;

pub const ADMIN_USER: &str = "root-admin";
pub const ADMIN_PASS: &str = "correct horse battery";
pub const AGREEMENT: &str = "2024.1";

pub mod cable;
pub mod flow;
pub mod ws;

pub struct TestApp {
    pub base: String,
    /// The metrics listener (its own port, as `CAMPUS_PHOTO_METRICS_BIND` gives in production).
    pub metrics_base: String,
    pub state: AppState,
    pub clock: ManualClock,
    pub http: reqwest::Client,
    pub vars: HashMap<String, String>,
    schema: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

/// Whether this run uses PostgreSQL.
pub fn postgres_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
}

pub async fn fresh_postgres_schema(url: &str) -> String {
    use sea_orm::ConnectionTrait;
    let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
    let db = sea_orm::Database::connect(url)
        .await
        .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}"));
    db.execute_unprepared(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("create schema");
    drop_stale_schemas(&db).await;
    db.close().await.ok();
    schema
}

/// Test schemas are named after a UUIDv7; drop those older than an hour so a developer's database
/// does not fill up (a running test's schema is never that old).
async fn drop_stale_schemas(db: &sea_orm::DatabaseConnection) {
    use sea_orm::{ConnectionTrait, Statement};
    let Ok(rows) = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%'",
        ))
        .await
    else {
        return;
    };
    let cutoff = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "nspname") else {
            continue;
        };
        let Some(ts) = name
            .strip_prefix("t_")
            .and_then(|u| uuid::Uuid::parse_str(u).ok())
            .and_then(|u| u.get_timestamp())
        else {
            continue;
        };
        let (secs, _) = ts.to_unix();
        if std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs) < cutoff {
            let _ = db
                .execute_unprepared(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .await;
        }
    }
}

/// WeChat Pay keys this test binary generated for itself (RSA generation is slow, so once).
pub fn test_pay_keys() -> Arc<SandboxKeys> {
    static KEYS: std::sync::OnceLock<Arc<SandboxKeys>> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| Arc::new(SandboxKeys::generate()))
        .clone()
}

impl TestApp {
    /// The row id behind a global id of the given type (panics on anything else).
    pub fn row_id(&self, kind: campus_photo::ids::NodeType, id: &Value) -> uuid::Uuid {
        self.state
            .ids
            .decode_as(kind, id.as_str().unwrap_or_default())
            .unwrap_or_else(|| panic!("not a {kind:?} id: {id}"))
    }

    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}, Overrides::default()).await
    }

    /// `customise` may change the environment the configuration is read from.
    pub async fn spawn_with(
        customise: impl FnOnce(&mut HashMap<String, String>),
        overrides: Overrides,
    ) -> Self {
        campus_photo::integrations::http_client::install_crypto_provider();
        let dir = tempfile::tempdir().expect("tempdir");
        let mut vars = HashMap::new();
        vars.insert("CAMPUS_PHOTO_BIND".into(), "127.0.0.1:0".into());
        vars.insert(
            "CAMPUS_PHOTO_SECRET_KEY".into(),
            STANDARD.encode(rand::random::<[u8; 32]>()),
        );
        vars.insert(
            "CAMPUS_PHOTO_BOOTSTRAP_ADMIN".into(),
            format!("{ADMIN_USER}:{ADMIN_PASS}"),
        );
        vars.insert(
            "CAMPUS_PHOTO_STORAGE".into(),
            format!("file://{}/objects", dir.path().display()),
        );
        let (url, schema) = match postgres_url() {
            Some(url) => {
                let schema = fresh_postgres_schema(&url).await;
                (url, Some(schema))
            }
            None => (
                format!("sqlite://{}/test.db?mode=rwc", dir.path().display()),
                None,
            ),
        };
        vars.insert("DATABASE_URL".into(), url.clone());
        // With TEST_REDIS_URL, the parts that use Redis (notification nonces, the event bus)
        // run against it.
        if let Ok(redis) = std::env::var("TEST_REDIS_URL")
            && !redis.is_empty()
        {
            vars.insert("REDIS_URL".into(), redis);
        }
        // Tests sign in and upload far faster than people: limits only where a test sets them,
        // counted apart from other tests sharing the same Redis.
        for action in campus_photo::services::limits::Action::ALL {
            vars.insert(action.variable().into(), "100000/60".into());
        }
        vars.insert(
            "RATE_LIMIT_NAMESPACE".into(),
            format!("test-{}", uuid::Uuid::new_v4()),
        );
        // Bound before the configuration is read, so the payment sandbox knows where to post
        // its notifications.
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        vars.insert(
            "WECHATPAY_NOTIFY_URL".into(),
            format!("http://{addr}/payments/wechat/notify"),
        );
        customise(&mut vars);
        let clock = ManualClock::new(chrono::Utc::now());
        Self::start(vars, schema, listener, clock, overrides, Some(dir)).await
    }

    /// A second instance of the same deployment: same database, storage, secret and Redis, and
    /// the same clock, on its own port.
    pub async fn spawn_sibling(&self) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut vars = self.vars.clone();
        vars.insert(
            "WECHATPAY_NOTIFY_URL".into(),
            format!("http://{addr}/payments/wechat/notify"),
        );
        Self::start(
            vars,
            self.schema.clone(),
            listener,
            self.clock.clone(),
            Overrides::default(),
            None,
        )
        .await
    }

    async fn start(
        vars: HashMap<String, String>,
        schema: Option<String>,
        listener: TcpListener,
        clock: ManualClock,
        overrides: Overrides,
        dir: Option<tempfile::TempDir>,
    ) -> Self {
        let addr = listener.local_addr().expect("addr");
        let config = Config::from_vars(&vars, false).expect("test config");

        let overrides = Overrides {
            clock: overrides.clock.or_else(|| Some(Arc::new(clock.clone()))),
            sandbox_pay_keys: overrides.sandbox_pay_keys.or_else(|| Some(test_pay_keys())),
            ..overrides
        };
        let db = campus_photo::db::connect(&config.database_url, schema.as_deref())
            .await
            .expect("connect");
        campus_photo::db::migrate(&db).await.expect("migrate");
        campus_photo::services::deployment::check_secret_key(
            &db,
            &config.secret_key,
            chrono::Utc::now(),
        )
        .await
        .expect("the secret key matches the database");
        let state = AppState::new(config, db, overrides).expect("state");
        campus_photo::services::accounts::ensure_bootstrap_admin(&state)
            .await
            .expect("bootstrap admin");

        state.relay.spawn(state.clone());
        campus_photo::services::notifications::spawn(state.clone());
        let metrics_listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind metrics");
        let metrics_base = format!("http://{}", metrics_listener.local_addr().expect("addr"));
        let metrics_router = campus_photo::http::metrics_router(state.clone());
        tokio::spawn(async move { axum::serve(metrics_listener, metrics_router).await.ok() });
        let router = campus_photo::app(state.clone());
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
            .ok();
        });
        Self {
            base: format!("http://{addr}"),
            metrics_base,
            state,
            clock,
            http: reqwest::Client::new(),
            vars,
            schema,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs one GraphQL operation and returns the whole JSON response.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut req = self
            .http
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("request");
        assert_eq!(resp.status(), 200, "graphql status");
        resp.json().await.expect("json body")
    }

    /// Like `gql` but asserts there are no top-level errors and returns `data`.
    pub async fn data(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = self.gql(token, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    pub async fn sign_in_student(&self, code: &str, phone: &str) -> String {
        let data = self
            .data(
                None,
                "mutation($i: SignInWithWeChatInput!) { signInWithWeChat(input: $i) { token userErrors { code } } }",
                json!({ "i": { "code": code, "phoneCode": phone, "agreementVersion": AGREEMENT } }),
            )
            .await;
        data["signInWithWeChat"]["token"]
            .as_str()
            .expect("student token")
            .to_string()
    }

    pub async fn sign_in_staff(&self, username: &str, password: &str) -> String {
        let data = self
            .data(
                None,
                "mutation($i: SignInStaffInput!) { signInStaff(input: $i) { token userErrors { code } } }",
                json!({ "i": { "username": username, "password": password } }),
            )
            .await;
        data["signInStaff"]["token"]
            .as_str()
            .expect("staff token")
            .to_string()
    }

    /// The metrics listener's scrape, as text.
    pub async fn metrics_text(&self) -> String {
        let resp = self
            .http
            .get(format!("{}/metrics", self.metrics_base))
            .send()
            .await
            .expect("metrics");
        assert_eq!(resp.status(), 200);
        resp.text().await.expect("text")
    }

    pub async fn admin_token(&self) -> String {
        self.sign_in_staff(ADMIN_USER, ADMIN_PASS).await
    }

    pub async fn create_school(&self, admin: &str, code: &str, name: &str) -> Value {
        self.data(
            Some(admin),
            "mutation($i: CreateSchoolInput!) { createSchool(input: $i) { school { id code name } userErrors { code field message } } }",
            json!({ "i": { "code": code, "name": name } }),
        )
        .await["createSchool"]
            .clone()
    }

    pub async fn create_project(&self, admin: &str, input: Value) -> Value {
        self.data(
            Some(admin),
            "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id name featureCode orderNumberPrefix mode modeLabel price { amountFen formatted } school { code } maxAutoChecks allowAlbumUpload background printLayouts { code name price { formatted } } printsToSchool } userErrors { code field message } } }",
            json!({ "i": input }),
        )
        .await["createProject"]
            .clone()
    }

    /// Creates a staff account as admin and signs it in.
    pub async fn staff(
        &self,
        admin: &str,
        username: &str,
        role: &str,
        school: Option<&str>,
    ) -> String {
        let password = "staff-password-123";
        let data = self
            .data(
                Some(admin),
                "mutation($i: CreateStaffAccountInput!) { createStaffAccount(input: $i) { account { id } userErrors { code message } } }",
                json!({ "i": { "username": username, "password": password, "role": role, "schoolCode": school } }),
            )
            .await;
        assert_eq!(
            data["createStaffAccount"]["userErrors"],
            json!([]),
            "{data}"
        );
        self.sign_in_staff(username, password).await
    }
}

/// Reads a file under tests/fixtures.
pub fn fixture(path: &str) -> Vec<u8> {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

impl TestApp {
    /// A GraphQL multipart request (the upload spec) with one file bound to `file_path`
    /// (e.g. "variables.input.image"). For `uploadPhoto` the student first reads the capture guide
    /// (我已阅读), as the mini-program has them do; `upload_unread` skips that.
    pub async fn upload(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
        file_path: &str,
        bytes: Vec<u8>,
        filename: &str,
    ) -> reqwest::Response {
        let enrollment = ["i", "input"]
            .iter()
            .find_map(|k| variables[*k]["enrollmentId"].as_str().map(str::to_string));
        if let (Some(token), Some(enrollment), true) =
            (token, enrollment, query.contains("uploadPhoto"))
        {
            self.gql(
                Some(token),
                "mutation($i: AcknowledgeCaptureGuideInput!) { acknowledgeCaptureGuide(input: $i) { userErrors { code } } }",
                json!({ "i": { "enrollmentId": enrollment } }),
            )
            .await;
        }
        self.upload_unread(token, query, variables, file_path, bytes, filename)
            .await
    }

    /// [`Self::upload`] without reading the capture guide first.
    pub async fn upload_unread(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
        file_path: &str,
        bytes: Vec<u8>,
        filename: &str,
    ) -> reqwest::Response {
        let operations = json!({ "query": query, "variables": variables });
        let map = json!({ "0": [file_path] });
        let form = reqwest::multipart::Form::new()
            .text("operations", operations.to_string())
            .text("map", map.to_string())
            .part(
                "0",
                reqwest::multipart::Part::bytes(bytes).file_name(filename.to_string()),
            );
        let mut req = self.http.post(self.url("/graphql")).multipart(form);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("upload request")
    }

    /// Uploads and returns `data`, asserting no top-level errors.
    pub async fn upload_data(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
        file_path: &str,
        bytes: Vec<u8>,
        filename: &str,
    ) -> Value {
        let resp = self
            .upload(token, query, variables, file_path, bytes, filename)
            .await;
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.expect("json");
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }
}

/// The fixture issuer's key configuration alone (tests/fixtures/qr/keys.json).
pub fn fixture_issuer_keys() -> String {
    let keys: Value = serde_json::from_slice(&fixture("qr/keys.json")).expect("keys.json");
    keys["config"].as_str().expect("config").to_string()
}

/// The fixture issuer's key configuration (tests/fixtures/qr/keys.json) plus the development key.
pub fn fixture_code_keys() -> String {
    format!(
        "{},{}",
        fixture_issuer_keys(),
        campus_photo_codes::token::dev_keyring_entry()
    )
}

/// Mints a collection code signed by the fixture issuer, with `edit` applied to the claims.
pub fn mint_code(edit: impl FnOnce(&mut campus_photo_codes::token::Claims)) -> String {
    let keys: Value = serde_json::from_slice(&fixture("qr/keys.json")).expect("keys.json");
    let seed: [u8; 32] = STANDARD
        .decode(keys["private_seed_b64"].as_str().expect("seed"))
        .expect("b64")
        .try_into()
        .expect("32 bytes");
    let now = chrono::Utc::now().timestamp();
    let mut claims = campus_photo_codes::token::Claims {
        v: 1,
        iss: "chsi-fixture".into(),
        kid: "f1".into(),
        sid: format!("S{}", &uuid::Uuid::new_v4().simple().to_string()[..16]),
        nm: "张*三".into(),
        idm: "110101********123X".into(),
        sch: "10027".into(),
        schn: "北京师范大学".into(),
        col: Some("文学院".into()),
        maj: Some("汉语言文学".into()),
        lvl: Some("本科".into()),
        xh: Some("201911010101".into()),
        gy: Some(2027),
        iat: now - 60,
        exp: now + 86_400 * 365,
    };
    edit(&mut claims);
    campus_photo_codes::token::mint(&claims, &ed25519_dalek::SigningKey::from_bytes(&seed))
}

/// The `extensions.code` of the first top-level error.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
}

pub fn project_input(school: &str, feature: &str, prefix: &str) -> Value {
    json!({
        "schoolCode": school,
        "name": "2027届毕业生图像采集",
        "featureCode": feature,
        "mode": "INDIVIDUAL",
        "priceFen": 3000,
        "orderNumberPrefix": prefix,
    })
}
