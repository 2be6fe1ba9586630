//! The authorisation matrix: every root field of Query, Mutation and Subscription (read from the
//! SDL at run time, so a new field without a row fails) is run as anonymous, student A, student B,
//! a reviewer and a producer of A's school, the school admin of another school and the admin, and
//! each answer is checked against the table below. Fields that take ids are given student A's
//! objects (order, print order, ticket, enrollment, photo, batch…): that is the IDOR check. Denied
//! calls must change nothing (a probe read by the admin before and after) and must not carry any
//! of A's ids or order numbers. Every mismatch is reported at once, as one table.
use std::{collections::BTreeSet, fmt, time::Duration};

use campus_photo::graphql::sdl;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

use crate::common::{
    ADMIN_PASS, ADMIN_USER, AGREEMENT, TestApp, fixture, fixture_code_keys, mint_code,
    project_input,
};

const STAFF_PASS: &str = "staff-password-123";
const A_PHONE: &str = "13800138000";
const B_PHONE: &str = "13900139000";
/// The print address A gives, as the lists must never show it.
const ADDRESS_PARTS: &[&str] = &["张小三", "13912345678", "新街口外大街19号"];

/// The callers, in the table's column order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anon,
    A,
    B,
    Reviewer,
    Producer,
    OtherAdmin,
    Admin,
}

const COLUMNS: [Who; 7] = [
    Who::Anon,
    Who::A,
    Who::B,
    Who::Reviewer,
    Who::Producer,
    Who::OtherAdmin,
    Who::Admin,
];

/// The order the callers run a row in: the ones that must be refused first (so a refused call
/// that changed something shows in the probe), then the allowed ones, the admin last.
const EXECUTION: [Who; 7] = [
    Who::Anon,
    Who::B,
    Who::OtherAdmin,
    Who::Reviewer,
    Who::Producer,
    Who::A,
    Who::Admin,
];

impl Who {
    fn column(self) -> usize {
        COLUMNS.iter().position(|w| *w == self).expect("column")
    }

    fn label(self) -> &'static str {
        match self {
            Who::Anon => "anonymous",
            Who::A => "student A",
            Who::B => "student B",
            Who::Reviewer => "reviewer",
            Who::Producer => "producer",
            Who::OtherAdmin => "other school admin",
            Who::Admin => "admin",
        }
    }
}

/// What a caller should get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Top-level UNAUTHENTICATED (or, on the socket, close 4403).
    Unauth,
    /// Top-level FORBIDDEN.
    Forbid,
    /// Top-level NOT_FOUND, a `userErrors` NOT_FOUND, or a null node.
    NotFound,
    /// Any of the three above.
    Denied,
    /// Data, no userErrors.
    Allowed,
    /// Allowed, and the answer carries A's objects.
    Sees,
    /// Allowed, and the answer carries none of A's objects.
    Blind,
    /// Allowed past authorisation, refused in the payload with this code.
    UserErr(&'static str),
}

use Expect::*;

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unauth => write!(f, "UNAUTHENTICATED"),
            Forbid => write!(f, "FORBIDDEN"),
            NotFound => write!(f, "NOT_FOUND"),
            Denied => write!(f, "denied"),
            Allowed => write!(f, "ok"),
            Sees => write!(f, "ok, sees A's data"),
            Blind => write!(f, "ok, none of A's data"),
            UserErr(code) => write!(f, "userError {code}"),
        }
    }
}

/// What a caller got.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Got {
    Unauth,
    Forbid,
    NotFound,
    Ok { leak: bool },
    UserErr(String),
    Other(String),
}

impl fmt::Display for Got {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Got::Unauth => write!(f, "UNAUTHENTICATED"),
            Got::Forbid => write!(f, "FORBIDDEN"),
            Got::NotFound => write!(f, "NOT_FOUND"),
            Got::Ok { leak: true } => write!(f, "ok, sees A's data"),
            Got::Ok { leak: false } => write!(f, "ok, none of A's data"),
            Got::UserErr(code) => write!(f, "userError {code}"),
            Got::Other(s) => write!(f, "{s}"),
        }
    }
}

fn matches(expect: Expect, got: &Got) -> bool {
    match (expect, got) {
        (Unauth, Got::Unauth) | (Forbid, Got::Forbid) | (NotFound, Got::NotFound) => true,
        (NotFound, Got::UserErr(c)) => c == "NOT_FOUND",
        (Denied, Got::Unauth | Got::Forbid | Got::NotFound) => true,
        (Denied, Got::UserErr(c)) => c == "NOT_FOUND" || c == "FORBIDDEN",
        (Allowed, Got::Ok { .. }) => true,
        (Sees, Got::Ok { leak }) => *leak,
        (Blind, Got::Ok { leak }) => !*leak,
        (UserErr(code), Got::UserErr(c)) => c == code,
        _ => false,
    }
}

/// Whether an answer given under this expectation may show A's objects.
fn may_show_a(who: Who, expect: Expect) -> bool {
    who == Who::A || matches!(expect, Allowed | Sees)
}

/// How a row is run.
enum Kind {
    /// A POST of the operation.
    Plain,
    /// A GraphQL multipart request with one fixture photo at `variables.i.file`.
    Upload(&'static str),
    /// Each signed-in caller signs in again and runs it with that session (signing out).
    FreshSession,
    /// Over graphql-transport-ws.
    Subscription,
}

struct Row {
    /// `Query.node`, `Mutation.cancelOrder`, …
    field: &'static str,
    /// What the row checks, beside the field.
    what: String,
    query: String,
    variables: Value,
    kind: Kind,
    expect: [Expect; 7],
    /// Read by the admin before the row and after every call that should have been refused:
    /// a refused call must leave it as it was.
    probe: Option<(String, Value)>,
    /// What `Sees`/`Blind` look for in this row instead of A's ids (a phone, an address…).
    markers: Option<Vec<String>>,
}

fn row(field: &'static str, what: &str, query: &str, variables: Value, expect: [Expect; 7]) -> Row {
    Row {
        field,
        what: what.to_string(),
        query: query.to_string(),
        variables,
        kind: Kind::Plain,
        expect,
        probe: None,
        markers: None,
    }
}

impl Row {
    fn probe(mut self, query: &str, variables: Value) -> Self {
        self.probe = Some((query.to_string(), variables));
        self
    }

    fn markers(mut self, markers: &[&str]) -> Self {
        self.markers = Some(markers.iter().map(|m| m.to_string()).collect());
        self
    }

    fn kind(mut self, kind: Kind) -> Self {
        self.kind = kind;
        self
    }

    fn root_field(&self) -> &str {
        self.field.split('.').nth(1).unwrap_or_default()
    }
}

/// A caller's way back in (for fresh sessions).
#[derive(Clone)]
enum Login {
    None,
    Student(String, &'static str),
    Staff(String, String),
}

struct Caller {
    who: Who,
    token: Option<String>,
    login: Login,
}

/// Student A's objects and the rest of the world the matrix runs in.
struct World {
    app: TestApp,
    callers: Vec<Caller>,
    /// A's global ids and order numbers: none may reach a caller who may not see them.
    markers: Vec<String>,
    a_code: String,
    a_enrollment: Value,
    a_photo: Value,
    a_account: Value,
    a_order: Value,
    a_number: Value,
    a_event: Value,
    a_print: Value,
    a_print_pending: Value,
    a_ticket: Value,
    /// A's second enrollment: an unpaid order and two more passed photos of it.
    a_order2: Value,
    a_photo2b: Value,
    a_photo2c: Value,
    /// A's third enrollment: an unpaid order to cancel.
    a_order3: Value,
    b_order: Value,
    school: Value,
    project: Value,
    batch: Value,
    export: Value,
    /// A reviewer of 10027 the operators' rows act on (disable, reset, …).
    target_staff: Value,
}

impl World {
    fn token(&self, who: Who) -> Option<&str> {
        self.callers[who.column()].token.as_deref()
    }

    async fn sign_in(app: &TestApp, login: &Login) -> Option<String> {
        match login {
            Login::None => None,
            Login::Student(code, phone) => Some(app.sign_in_student(code, phone).await),
            Login::Staff(user, pass) => Some(app.sign_in_staff(user, pass).await),
        }
    }

    /// Signs everyone in again (after signOutEverywhere).
    async fn refresh_tokens(&mut self) {
        for i in 0..self.callers.len() {
            let token = Self::sign_in(&self.app, &self.callers[i].login).await;
            self.callers[i].token = token;
        }
    }

    async fn admin_data(&self, query: &str, variables: Value) -> Value {
        self.app
            .data(self.token(Who::Admin), query, variables)
            .await
    }
}

const ADD_ENROLLMENT: &str = "mutation($i: AddEnrollmentInput!) { addEnrollment(input: $i) { enrollment { id } userErrors { code } } }";
const UPLOAD: &str = "mutation($i: UploadPhotoInput!) { uploadPhoto(input: $i) { photo { id check { verdict } } userErrors { code } } }";
const SUBMIT: &str = "mutation($i: SubmitOrderInput!) { submitOrder(input: $i) { order { id number } userErrors { code } } }";
const PAY: &str = "mutation($i: OrderIdInput!) { createPayment(input: $i) { payParams { paySign } userErrors { code } } }";
const SANDBOX_PAY: &str = "mutation($i: OrderIdInput!) { sandboxCompletePayment(input: $i) { order { id status } printOrder { id status } userErrors { code } } }";
const CREATE_PRINT: &str = "mutation($i: CreatePrintOrderInput!) { createPrintOrder(input: $i) { printOrder { id number status } userErrors { code field } } }";
const OPEN_TICKET: &str = "mutation($i: OpenSupportTicketInput!) { openSupportTicket(input: $i) { ticket { id } userErrors { code field } } }";
const ANSWER_TICKET: &str = "mutation($i: AnswerSupportTicketInput!) { answerSupportTicket(input: $i) { ticket { id messages { text } } userErrors { code field } } }";

fn address() -> Value {
    json!({
        "name": "张小三", "phone": "13912345678", "province": "北京市", "city": "北京市",
        "district": "海淀区", "detail": "新街口外大街19号",
    })
}

/// Adds an enrollment with a fresh collection code; returns (code, enrollment id).
async fn enroll(app: &TestApp, token: &str) -> (String, Value) {
    let code = mint_code(|_| {});
    let r = app
        .data(
            Some(token),
            ADD_ENROLLMENT,
            json!({ "i": { "collectionCode": code, "idNumberLast4": "123X", "featureCode": "BNU27" } }),
        )
        .await;
    let id = r["addEnrollment"]["enrollment"]["id"].clone();
    assert!(id.is_string(), "{r}");
    (code, id)
}

async fn upload(app: &TestApp, token: &str, enrollment: &Value) -> Value {
    upload_file(app, token, enrollment, "obama_ok.jpg").await
}

/// Uploads the passing fixture `name` (a rejected photo cannot come back: other content).
async fn upload_file(app: &TestApp, token: &str, enrollment: &Value, name: &str) -> Value {
    let r = app
        .upload_data(
            Some(token),
            UPLOAD,
            json!({ "i": { "enrollmentId": enrollment, "file": null, "source": "CAMERA" } }),
            "variables.i.file",
            fixture(&format!("photos/{name}")),
            name,
        )
        .await;
    assert_eq!(
        r["uploadPhoto"]["photo"]["check"]["verdict"], "PASSED",
        "{r}"
    );
    r["uploadPhoto"]["photo"]["id"].clone()
}

async fn submit(app: &TestApp, token: &str, photo: &Value) -> Value {
    let r = app
        .data(
            Some(token),
            SUBMIT,
            json!({ "i": { "photoId": photo, "notificationConsent": true } }),
        )
        .await;
    assert_eq!(r["submitOrder"]["userErrors"], json!([]), "{r}");
    r["submitOrder"]["order"].clone()
}

/// createPayment and the sandbox's signed notification, for an order or a print order.
async fn pay(app: &TestApp, token: &str, id: &Value) {
    let r = app
        .data(Some(token), PAY, json!({ "i": { "orderId": id } }))
        .await;
    assert_eq!(r["createPayment"]["userErrors"], json!([]), "{r}");
    let r = app
        .data(Some(token), SANDBOX_PAY, json!({ "i": { "orderId": id } }))
        .await;
    assert_eq!(r["sandboxCompletePayment"]["userErrors"], json!([]), "{r}");
}

async fn wait_for(app: &TestApp, token: &str, id: &Value, fragment: &str, status: &str) {
    let query = format!("query($id: ID!) {{ node(id: $id) {{ ... on {fragment} {{ status }} }} }}");
    for _ in 0..200 {
        let node = app.data(Some(token), &query, json!({ "id": id })).await["node"].clone();
        if node["status"] == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{fragment} {id} never reached {status}");
}

async fn world() -> World {
    let app = TestApp::spawn_with(
        |v| {
            v.insert("COLLECTION_CODE_KEYS".into(), fixture_code_keys());
        },
        Default::default(),
    )
    .await;
    let admin = app.admin_token().await;
    let school = app.create_school(&admin, "10027", "北京师范大学").await["school"]["id"].clone();
    let mut input = project_input("10027", "BNU27", "000015");
    input["printLayouts"] = json!([{ "code": "1IN-8", "name": "一寸 8张", "priceFen": 1000 }]);
    let created = app.create_project(&admin, input).await;
    assert_eq!(created["userErrors"], json!([]), "{created}");
    let project = created["project"]["id"].clone();
    app.create_school(&admin, "10001", "北京大学").await;
    let other = app
        .create_project(&admin, project_input("10001", "PKU27", "000016"))
        .await;
    assert_eq!(other["userErrors"], json!([]), "{other}");

    let reviewer = app
        .staff(&admin, "m-reviewer", "REVIEWER", Some("10027"))
        .await;
    let producer = app
        .staff(&admin, "m-producer", "PRODUCER", Some("10027"))
        .await;
    let other_admin = app
        .staff(&admin, "m-other-admin", "SCHOOL_ADMIN", Some("10001"))
        .await;
    // The account signInStaff is tried with.
    app.staff(&admin, "m-sign-in", "REVIEWER", Some("10027"))
        .await;
    let target = app
        .data(
            Some(&admin),
            "mutation { createStaffAccount(input: { username: \"m-target\", password: \"staff-password-123\", role: REVIEWER, schoolCode: \"10027\" }) { account { id } } }",
            json!({}),
        )
        .await;
    let target_staff = target["createStaffAccount"]["account"]["id"].clone();
    assert!(target_staff.is_string(), "{target}");

    // Student A: an order taken all the way to COMPLETED and reported to the registry, a paid
    // print order, an unpaid one, and a ticket about the order.
    let a = app.sign_in_student("m-student-a", A_PHONE).await;
    let (a_code, a_enrollment) = enroll(&app, &a).await;
    let a_photo = upload(&app, &a, &a_enrollment).await;
    let order = submit(&app, &a, &a_photo).await;
    let a_order = order["id"].clone();
    pay(&app, &a, &a_order).await;
    wait_for(&app, &a, &a_order, "Order", "PENDING_REVIEW").await;
    let claimed = app
        .data(
            Some(&reviewer),
            "mutation { claimReviewTasks(input: { schoolCode: \"10027\", count: 5 }) { orders { id } userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        claimed["claimReviewTasks"]["orders"][0]["id"], a_order,
        "{claimed}"
    );
    let reviewed = app
        .data(
            Some(&reviewer),
            "mutation($i: ReviewOrderInput!) { reviewOrder(input: $i) { userErrors { code } } }",
            json!({ "i": { "orderId": a_order, "decision": "APPROVE" } }),
        )
        .await;
    assert_eq!(
        reviewed["reviewOrder"]["userErrors"],
        json!([]),
        "{reviewed}"
    );
    let started = app
        .data(
            Some(&producer),
            "mutation { startProductionBatch(input: { schoolCode: \"10027\" }) { batch { id } userErrors { code } } }",
            json!({}),
        )
        .await;
    let batch = started["startProductionBatch"]["batch"]["id"].clone();
    assert!(batch.is_string(), "{started}");
    wait_for(&app, &a, &a_order, "Order", "COMPLETED").await;
    for _ in 0..200 {
        let b = app
            .data(
                Some(&producer),
                "query($id: ID!) { node(id: $id) { ... on ProductionBatch { finished } } }",
                json!({ "id": batch }),
            )
            .await;
        if b["node"]["finished"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let exported = app
        .data(
            Some(&producer),
            "mutation { exportToRegistry(input: { schoolCode: \"10027\" }) { export { id } userErrors { code } } }",
            json!({}),
        )
        .await;
    let export = exported["exportToRegistry"]["export"]["id"].clone();
    assert!(export.is_string(), "{exported}");

    let print = app
        .data(
            Some(&a),
            CREATE_PRINT,
            json!({ "i": { "orderId": a_order, "layoutCode": "1IN-8", "quantity": 1, "address": address() } }),
        )
        .await["createPrintOrder"]
        .clone();
    assert_eq!(print["userErrors"], json!([]), "{print}");
    let a_print = print["printOrder"]["id"].clone();
    pay(&app, &a, &a_print).await;
    wait_for(&app, &a, &a_print, "PrintOrder", "PAID").await;
    let print2 = app
        .data(
            Some(&a),
            CREATE_PRINT,
            json!({ "i": { "orderId": a_order, "layoutCode": "1IN-8", "quantity": 2, "address": address() } }),
        )
        .await["createPrintOrder"]
        .clone();
    assert_eq!(print2["userErrors"], json!([]), "{print2}");
    let a_print_pending = print2["printOrder"]["id"].clone();
    let ticket = app
        .data(
            Some(&a),
            OPEN_TICKET,
            json!({ "i": { "orderId": a_order, "subject": "付款后状态没有变化", "text": "请帮忙看看" } }),
        )
        .await["openSupportTicket"]
        .clone();
    assert_eq!(ticket["userErrors"], json!([]), "{ticket}");
    let a_ticket = ticket["ticket"]["id"].clone();

    // A's second and third enrollments, each with an unpaid order.
    let (_, e2) = enroll(&app, &a).await;
    let p2 = upload(&app, &a, &e2).await;
    let a_photo2b = upload_file(&app, &a, &e2, "obama_shift_ok.jpg").await;
    let a_photo2c = upload(&app, &a, &e2).await;
    let order2 = submit(&app, &a, &p2).await;
    let (_, e3) = enroll(&app, &a).await;
    let p3 = upload(&app, &a, &e3).await;
    let order3 = submit(&app, &a, &p3).await;

    // Student B: an unpaid order of their own.
    let b = app.sign_in_student("m-student-b", B_PHONE).await;
    let (_, b_enrollment) = enroll(&app, &b).await;
    let b_photo = upload(&app, &b, &b_enrollment).await;
    let b_order = submit(&app, &b, &b_photo).await["id"].clone();

    let a_view = app
        .data(Some(&a), "{ viewer { account { id } } }", json!({}))
        .await;
    let a_account = a_view["viewer"]["account"]["id"].clone();
    let a_events = app
        .data(
            Some(&a),
            "query($id: ID!) { node(id: $id) { ... on Order { number events { id } } } }",
            json!({ "id": a_order }),
        )
        .await;
    let a_event = a_events["node"]["events"][0]["id"].clone();
    assert!(a_event.is_string(), "{a_events}");

    let mut markers = vec![
        a_account.clone(),
        a_enrollment.clone(),
        a_photo.clone(),
        a_order.clone(),
        a_event.clone(),
        a_print.clone(),
        a_print_pending.clone(),
        a_ticket.clone(),
        e2,
        p2,
        a_photo2b.clone(),
        a_photo2c.clone(),
        order2["id"].clone(),
        e3,
        p3,
        order3["id"].clone(),
        order["number"].clone(),
        order2["number"].clone(),
        order3["number"].clone(),
    ]
    .into_iter()
    .map(|v| v.as_str().expect("id").to_string())
    .collect::<Vec<_>>();
    markers.push(
        print["printOrder"]["number"]
            .as_str()
            .expect("number")
            .to_string(),
    );

    let callers = vec![
        Caller {
            who: Who::Anon,
            token: None,
            login: Login::None,
        },
        Caller {
            who: Who::A,
            token: Some(a),
            login: Login::Student("m-student-a".into(), A_PHONE),
        },
        Caller {
            who: Who::B,
            token: Some(b),
            login: Login::Student("m-student-b".into(), B_PHONE),
        },
        Caller {
            who: Who::Reviewer,
            token: Some(reviewer),
            login: Login::Staff("m-reviewer".into(), STAFF_PASS.into()),
        },
        Caller {
            who: Who::Producer,
            token: Some(producer),
            login: Login::Staff("m-producer".into(), STAFF_PASS.into()),
        },
        Caller {
            who: Who::OtherAdmin,
            token: Some(other_admin),
            login: Login::Staff("m-other-admin".into(), STAFF_PASS.into()),
        },
        Caller {
            who: Who::Admin,
            token: Some(admin),
            login: Login::Staff(ADMIN_USER.into(), ADMIN_PASS.into()),
        },
    ];
    for (i, c) in callers.iter().enumerate() {
        assert_eq!(c.who.column(), i);
    }
    World {
        app,
        callers,
        markers,
        a_code,
        a_enrollment,
        a_photo,
        a_account,
        a_number: order["number"].clone(),
        a_order,
        a_event,
        a_print,
        a_print_pending,
        a_ticket,
        a_order2: order2["id"].clone(),
        a_photo2b,
        a_photo2c,
        a_order3: order3["id"].clone(),
        b_order,
        school,
        project,
        batch,
        export,
        target_staff,
    }
}

const ORDER_PROBE: &str = "query($id: ID!) { node(id: $id) { ... on Order { status refundPending photo { id } events { id } } } }";
const PRINT_PROBE: &str =
    "query($id: ID!) { node(id: $id) { ... on PrintOrder { status trackingNumber } } }";
const TICKET_PROBE: &str =
    "query($id: ID!) { node(id: $id) { ... on SupportTicket { open messages { text } } } }";
const STAFF_PROBE: &str =
    "query($id: ID!) { node(id: $id) { ... on Account { role disabled mustChangePassword } } }";
const ENROLLMENT_PROBE: &str = "query($id: ID!) { node(id: $id) { ... on Enrollment { autoChecksRemaining captureGuideAcknowledgedAt } } }";

/// The table: one row (at least) per root field, columns in `COLUMNS` order:
/// anonymous, student A, student B, reviewer, producer, other school's admin, admin.
fn table(w: &World) -> Vec<Row> {
    // Shorthands for the common columns.
    const STAFF_ONLY: [Expect; 7] = [Unauth, Forbid, Forbid, Allowed, Allowed, Allowed, Allowed];
    let node = |what: &str, id: &Value, expect: [Expect; 7]| {
        row(
            "Query.node",
            what,
            "query($id: ID!) { node(id: $id) { id __typename } }",
            json!({ "id": id }),
            expect,
        )
    };
    let a_readers = [Unauth, Sees, NotFound, Sees, Sees, NotFound, Sees];
    let order_id = |id: &Value| json!({ "i": { "orderId": id } });
    let order_mutation = |name: &str, input: &str| {
        format!(
            "mutation($i: {input}!) {{ {name}(input: $i) {{ order {{ id status }} printOrder {{ id status }} userErrors {{ code field }} }} }}"
        )
    };
    let student_only_on_a = |ok: Expect| [Unauth, ok, NotFound, Forbid, Forbid, Forbid, Forbid];

    vec![
        // ---------------------------------------------------------------- queries
        node("node(Account of A)", &w.a_account, [Unauth, Sees, NotFound, NotFound, NotFound, NotFound, Sees]),
        node("node(Enrollment of A)", &w.a_enrollment, a_readers),
        node("node(Photo of A)", &w.a_photo, a_readers),
        node("node(Order of A)", &w.a_order, a_readers),
        node("node(OrderEvent of A)", &w.a_event, a_readers),
        node("node(PrintOrder of A)", &w.a_print, [Unauth, Sees, NotFound, NotFound, Sees, NotFound, Sees]),
        node("node(SupportTicket of A)", &w.a_ticket, a_readers),
        node("node(School 10027)", &w.school, [Unauth, Allowed, Allowed, Allowed, Allowed, Allowed, Allowed]),
        node("node(Project of 10027)", &w.project, [Unauth, Allowed, Allowed, Allowed, Allowed, NotFound, Allowed]),
        node("node(ProductionBatch of 10027)", &w.batch, [Unauth, NotFound, NotFound, Allowed, Allowed, NotFound, Allowed]),
        node("node(RegistryExport of 10027)", &w.export, [Unauth, NotFound, NotFound, Allowed, Allowed, NotFound, Allowed]),
        row(
            "Query.node",
            "Project of 10027: feature code and prefix are for staff",
            "query($id: ID!) { node(id: $id) { id ... on Project { featureCode orderNumberPrefix } } }",
            json!({ "id": w.project }),
            [Unauth, Blind, Blind, Sees, Sees, NotFound, Sees],
        )
        .markers(&["BNU27", "000015"]),
        row(
            "Query.node",
            "Account of A: the phone is whole for A only",
            "query($id: ID!) { node(id: $id) { id ... on Account { phone } } }",
            json!({ "id": w.a_account }),
            [Unauth, Sees, NotFound, NotFound, NotFound, NotFound, Blind],
        )
        .markers(&[A_PHONE]),
        row(
            "Query.node",
            "PrintOrder of A: the whole address, for the label",
            "query($id: ID!) { node(id: $id) { id ... on PrintOrder { address { name phone detail } } } }",
            json!({ "id": w.a_print }),
            [Unauth, Sees, NotFound, NotFound, Sees, NotFound, Sees],
        )
        .markers(ADDRESS_PARTS),
        row(
            "Query.printOrders",
            "addresses masked in the list",
            "{ printOrders(schoolCode: \"10027\", statuses: [PENDING_PAYMENT, PAID, SHIPPED, COMPLETED, CLOSED, REFUNDED]) { totalCount nodes { id address { name phone detail } } } }",
            json!({}),
            [Unauth, Forbid, Forbid, Forbid, Blind, Forbid, Blind],
        )
        .markers(ADDRESS_PARTS),
        row(
            "Query.viewer",
            "A's print orders: addresses masked in the list",
            "{ viewer { printOrders { id address { name phone detail } } } }",
            json!({}),
            [Blind, Blind, Blind, Blind, Blind, Blind, Blind],
        )
        .markers(ADDRESS_PARTS),
        node("node(Order of B) (B's own)", &w.b_order, [Unauth, NotFound, Allowed, Allowed, Allowed, NotFound, Allowed]),
        row(
            "Query.nodes",
            "A's objects by id",
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": [w.a_account, w.a_enrollment, w.a_photo, w.a_order, w.a_event, w.a_print, w.a_ticket] }),
            [Unauth, Sees, Blind, Sees, Sees, Blind, Sees],
        ),
        row(
            "Query.viewer",
            "own data only",
            "{ viewer { account { id } enrollments { id } orders(first: 50) { nodes { id number } } printOrders { id number } supportTickets { id } } }",
            json!({}),
            [Blind, Sees, Blind, Blind, Blind, Blind, Blind],
        ),
        row("Query.serviceInfo", "public", "{ serviceInfo { agreementVersion customerServicePhone } }", json!({}), [Allowed; 7]),
        row("Query.rejectionReasons", "public", "{ rejectionReasons { code message } }", json!({}), [Allowed; 7]),
        row("Query.schools", "staff", "{ schools(first: 50) { totalCount nodes { id code } } }", json!({}), STAFF_ONLY),
        row(
            "Query.projects",
            "schoolCode 10027",
            "{ projects(schoolCode: \"10027\", first: 50) { nodes { id featureCode } } }",
            json!({}),
            [Unauth, Forbid, Forbid, Allowed, Allowed, Forbid, Allowed],
        ),
        row(
            "Query.orders",
            "by A's order number",
            "query($n: String) { orders(filter: { number: $n }, first: 50) { totalCount nodes { id number } } }",
            json!({ "n": w.a_number }),
            [Unauth, Forbid, Forbid, Sees, Sees, Blind, Sees],
        ),
        row(
            "Query.orders",
            "schoolCode 10027",
            "{ orders(filter: { schoolCode: \"10027\" }, first: 50) { totalCount nodes { id number } } }",
            json!({}),
            [Unauth, Forbid, Forbid, Sees, Sees, Forbid, Sees],
        ),
        row(
            "Query.reviewQueue",
            "schoolCode 10027",
            "{ reviewQueue(schoolCode: \"10027\", first: 50) { totalCount nodes { id } } }",
            json!({}),
            [Unauth, Forbid, Forbid, Allowed, Forbid, Forbid, Allowed],
        ),
        row(
            "Query.reviewQueue",
            "own scope",
            "{ reviewQueue(first: 50) { totalCount nodes { id } } }",
            json!({}),
            [Unauth, Forbid, Forbid, Allowed, Forbid, Blind, Allowed],
        ),
        row(
            "Query.queueStats",
            "schoolCode 10027",
            "{ queueStats(schoolCode: \"10027\") { pendingReview completed } }",
            json!({}),
            [Unauth, Forbid, Forbid, Allowed, Allowed, Forbid, Allowed],
        ),
        row(
            "Query.printOrders",
            "schoolCode 10027, every status",
            "{ printOrders(schoolCode: \"10027\", statuses: [PENDING_PAYMENT, PAID, SHIPPED, COMPLETED, CLOSED, REFUNDED]) { totalCount nodes { id number } } }",
            json!({}),
            [Unauth, Forbid, Forbid, Forbid, Sees, Forbid, Sees],
        ),
        row(
            "Query.printOrders",
            "own scope, every status",
            "{ printOrders(statuses: [PENDING_PAYMENT, PAID, SHIPPED, COMPLETED, CLOSED, REFUNDED]) { totalCount nodes { id number } } }",
            json!({}),
            [Unauth, Forbid, Forbid, Forbid, Sees, Blind, Sees],
        ),
        row(
            "Query.supportTickets",
            "includeClosed",
            "{ supportTickets(includeClosed: true) { totalCount nodes { id } } }",
            json!({}),
            [Unauth, Forbid, Forbid, Sees, Sees, Blind, Sees],
        ),
        row(
            "Query.wechatMessages",
            "about A's order",
            "query($o: ID) { wechatMessages(orderId: $o, first: 20) { totalCount nodes { orderId state } } }",
            json!({ "o": w.a_order }),
            [Unauth, Forbid, Forbid, Forbid, Forbid, Forbid, Allowed],
        ),
        row(
            "Query.searchStudents",
            "by A's phone",
            "query($q: String!) { searchStudents(query: $q, first: 50) { totalCount nodes { id orders { id number } } } }",
            json!({ "q": A_PHONE }),
            [Unauth, Forbid, Forbid, Sees, Sees, Blind, Sees],
        ),
        row(
            "Query.auditRecords",
            "every record",
            "{ auditRecords(first: 50) { totalCount nodes { action targetId } } }",
            json!({}),
            [Unauth, Forbid, Forbid, Forbid, Forbid, Forbid, Allowed],
        ),
        row(
            "Query.schoolProgress",
            "10027, enrolled students",
            "{ schoolProgress(schoolCode: \"10027\") { counts { stage count } students(stage: ENROLLED, first: 50) { nodes { id } } } }",
            json!({}),
            [Unauth, Forbid, Forbid, Forbid, Forbid, NotFound, Sees],
        ),
        row(
            "Query.staffAccounts",
            "in scope",
            "{ staffAccounts(first: 50) { totalCount nodes { id username role } } }",
            json!({}),
            [Unauth, Forbid, Forbid, Forbid, Forbid, Allowed, Allowed],
        ),
        row(
            "Query.staffAccounts",
            "of 10027",
            "{ staffAccounts(schoolCode: \"10027\", first: 50) { totalCount nodes { id username } } }",
            json!({}),
            [Unauth, Forbid, Forbid, Forbid, Forbid, Forbid, Allowed],
        ),
        row(
            "Query.reviewQuality",
            "10027",
            "{ reviewQuality(schoolCode: \"10027\") { waiting reviewers { approved rejected } } }",
            json!({}),
            [Unauth, Forbid, Forbid, Forbid, Forbid, NotFound, Allowed],
        ),
        // ---------------------------------------------------------------- mutations
        row(
            "Mutation.signInWithWeChat",
            "public",
            "mutation($i: SignInWithWeChatInput!) { signInWithWeChat(input: $i) { token userErrors { code } } }",
            json!({ "i": { "code": "m-sign-in-wx", "phoneCode": "13700137000", "agreementVersion": AGREEMENT } }),
            [Allowed; 7],
        ),
        row(
            "Mutation.signInStaff",
            "public",
            "mutation($i: SignInStaffInput!) { signInStaff(input: $i) { token userErrors { code } } }",
            json!({ "i": { "username": "m-sign-in", "password": STAFF_PASS } }),
            [Allowed; 7],
        ),
        row(
            "Mutation.decodeCollectionCode",
            "A's code as text",
            "mutation($i: DecodeCollectionCodeInput!) { decodeCollectionCode(input: $i) { text info { maskedName } userErrors { code } } }",
            json!({ "i": { "text": w.a_code } }),
            [Unauth, Allowed, Allowed, Allowed, Allowed, Allowed, Allowed],
        ),
        row(
            "Mutation.addEnrollment",
            "A's collection code",
            ADD_ENROLLMENT,
            json!({ "i": { "collectionCode": w.a_code, "idNumberLast4": "123X", "featureCode": "BNU27" } }),
            [Unauth, UserErr("ALREADY_ENROLLED"), UserErr("ALREADY_ENROLLED"), Forbid, Forbid, Forbid, Forbid],
        ),
        row(
            "Mutation.addFreshmanEnrollment",
            "on an INDIVIDUAL project",
            "mutation($i: AddFreshmanEnrollmentInput!) { addFreshmanEnrollment(input: $i) { enrollment { id } userErrors { code } } }",
            json!({ "i": { "featureCode": "BNU27", "name": "李四", "idNumber": "11010519491231002X", "admissionNumber": "2027000001" } }),
            [Unauth, UserErr("WRONG_PROJECT_MODE"), UserErr("WRONG_PROJECT_MODE"), Forbid, Forbid, Forbid, Forbid],
        ),
        row(
            "Mutation.acknowledgeCaptureGuide",
            "A's enrollment",
            "mutation($i: AcknowledgeCaptureGuideInput!) { acknowledgeCaptureGuide(input: $i) { enrollment { id } userErrors { code } } }",
            json!({ "i": { "enrollmentId": w.a_enrollment } }),
            student_only_on_a(Sees),
        )
        .probe(ENROLLMENT_PROBE, json!({ "id": w.a_enrollment })),
        row(
            "Mutation.uploadPhoto",
            "to A's enrollment",
            UPLOAD,
            json!({ "i": { "enrollmentId": w.a_enrollment, "file": null, "source": "CAMERA" } }),
            student_only_on_a(Allowed),
        )
        .kind(Kind::Upload("photos/obama_ok.jpg"))
        .probe(ENROLLMENT_PROBE, json!({ "id": w.a_enrollment })),
        row(
            "Mutation.submitOrder",
            "A's photo (its order completed)",
            SUBMIT,
            json!({ "i": { "photoId": w.a_photo, "notificationConsent": true } }),
            student_only_on_a(UserErr("COLLECTION_COMPLETE")),
        ),
        row(
            "Mutation.submitPhotoForReview",
            "A's completed order (not a pay-first order in PAID)",
            &order_mutation("submitPhotoForReview", "SubmitPhotoForReviewInput"),
            json!({ "i": { "orderId": w.a_order, "photoId": w.a_photo } }),
            [Unauth, UserErr("INVALID_STATE"), NotFound, Forbid, Forbid, Forbid, Forbid],
        ),
        row(
            "Mutation.acceptPrivacyNotice",
            "the current version",
            "mutation { acceptPrivacyNotice(input: { version: \"2024.1\" }) { account { privacyVersion } userErrors { code } } }",
            json!({}),
            [Unauth, Allowed, Allowed, Forbid, Forbid, Forbid, Forbid],
        ),
        row(
            "Mutation.updatePendingOrder",
            "A's unpaid order",
            &order_mutation("updatePendingOrder", "UpdatePendingOrderInput"),
            json!({ "i": { "orderId": w.a_order2, "photoId": w.a_photo2b } }),
            student_only_on_a(Sees),
        )
        .probe(ORDER_PROBE, json!({ "id": w.a_order2 })),
        row(
            "Mutation.updatePendingOrder",
            "B's unpaid order with A's photo",
            &order_mutation("updatePendingOrder", "UpdatePendingOrderInput"),
            json!({ "i": { "orderId": w.b_order, "photoId": w.a_photo2b } }),
            [Unauth, NotFound, NotFound, Forbid, Forbid, Forbid, Forbid],
        )
        .probe(ORDER_PROBE, json!({ "id": w.b_order })),
        row(
            "Mutation.createPayment",
            "A's unpaid order",
            "mutation($i: OrderIdInput!) { createPayment(input: $i) { order { id } printOrder { id } payParams { paySign } userErrors { code } } }",
            order_id(&w.a_order2),
            student_only_on_a(Sees),
        )
        .probe(ORDER_PROBE, json!({ "id": w.a_order2 })),
        row(
            "Mutation.sandboxCompletePayment",
            "A's unpaid order",
            &order_mutation("sandboxCompletePayment", "OrderIdInput"),
            order_id(&w.a_order2),
            student_only_on_a(Sees),
        )
        .probe(ORDER_PROBE, json!({ "id": w.a_order2 })),
        row(
            "Mutation.claimReviewTasks",
            "schoolCode 10027 (A's order waits)",
            "mutation { claimReviewTasks(input: { schoolCode: \"10027\", count: 20 }) { orders { id } userErrors { code } } }",
            json!({}),
            [Unauth, Forbid, Forbid, Sees, Forbid, Forbid, Blind],
        ),
        row(
            "Mutation.reviewOrder",
            "reject A's order under review",
            &order_mutation("reviewOrder", "ReviewOrderInput"),
            json!({ "i": { "orderId": w.a_order2, "decision": "REJECT", "reasonCode": "POSE_PITCH", "message": "请平视镜头" } }),
            [Unauth, Forbid, Forbid, Sees, Forbid, NotFound, UserErr("INVALID_STATE")],
        )
        .probe(ORDER_PROBE, json!({ "id": w.a_order2 })),
        row(
            "Mutation.resubmitPhoto",
            "A's rejected order",
            &order_mutation("resubmitPhoto", "ResubmitPhotoInput"),
            json!({ "i": { "orderId": w.a_order2, "photoId": w.a_photo2c } }),
            student_only_on_a(Sees),
        )
        .probe(ORDER_PROBE, json!({ "id": w.a_order2 })),
        row(
            "Mutation.withdrawSubmission",
            "A's order under review",
            &order_mutation("withdrawSubmission", "OrderIdInput"),
            order_id(&w.a_order2),
            student_only_on_a(Sees),
        )
        .probe(ORDER_PROBE, json!({ "id": w.a_order2 })),
        row(
            "Mutation.requestRefund",
            "A's rejected order",
            &order_mutation("requestRefund", "RequestRefundInput"),
            json!({ "i": { "orderId": w.a_order2, "reason": "不想要了" } }),
            // By the admin's turn A's refund has been confirmed: the order is REFUNDED.
            [Unauth, Sees, NotFound, Denied, Denied, Denied, UserErr("INVALID_STATE")],
        )
        .probe(ORDER_PROBE, json!({ "id": w.a_order2 })),
        row(
            "Mutation.revealContactPhone",
            "A's completed order",
            "mutation($i: OrderIdInput!) { revealContactPhone(input: $i) { phone userErrors { code field } } }",
            order_id(&w.a_order),
            [Unauth, Forbid, Forbid, Allowed, Allowed, NotFound, Allowed],
        ),
        row(
            "Mutation.cancelOrder",
            "A's unpaid order",
            &order_mutation("cancelOrder", "OrderIdInput"),
            order_id(&w.a_order3),
            [Unauth, Sees, NotFound, Denied, Denied, Denied, UserErr("INVALID_STATE")],
        )
        .probe(ORDER_PROBE, json!({ "id": w.a_order3 })),
        row(
            "Mutation.cancelOrder",
            "A's unpaid print order",
            &order_mutation("cancelOrder", "OrderIdInput"),
            order_id(&w.a_print_pending),
            [Unauth, Sees, NotFound, Denied, Denied, Denied, UserErr("INVALID_STATE")],
        )
        .probe(PRINT_PROBE, json!({ "id": w.a_print_pending })),
        row(
            "Mutation.createPrintOrder",
            "prints of A's completed order",
            CREATE_PRINT,
            json!({ "i": { "orderId": w.a_order, "layoutCode": "1IN-8", "quantity": 1, "address": address() } }),
            student_only_on_a(Sees),
        ),
        row(
            "Mutation.markPrintOrderShipped",
            "A's paid print order",
            "mutation($i: MarkPrintOrderShippedInput!) { markPrintOrderShipped(input: $i) { printOrder { id status } userErrors { code field } } }",
            json!({ "i": { "printOrderId": w.a_print, "carrier": "SF", "trackingNumber": "SF1234567890123" } }),
            [Unauth, Forbid, Forbid, Forbid, Sees, NotFound, UserErr("INVALID_STATE")],
        )
        .probe(PRINT_PROBE, json!({ "id": w.a_print })),
        row(
            "Mutation.confirmPrintOrderReceived",
            "A's shipped print order",
            "mutation($i: PrintOrderIdInput!) { confirmPrintOrderReceived(input: $i) { printOrder { id status } userErrors { code field } } }",
            json!({ "i": { "printOrderId": w.a_print } }),
            student_only_on_a(Sees),
        )
        .probe(PRINT_PROBE, json!({ "id": w.a_print })),
        row(
            "Mutation.openSupportTicket",
            "about A's order",
            OPEN_TICKET,
            json!({ "i": { "orderId": w.a_order, "subject": "加洗什么时候发货", "text": "请问" } }),
            [Unauth, Allowed, NotFound, Forbid, Forbid, Forbid, Forbid],
        ),
        row(
            "Mutation.answerSupportTicket",
            "A's ticket",
            ANSWER_TICKET,
            json!({ "i": { "ticketId": w.a_ticket, "text": "已收到" } }),
            [Unauth, Sees, NotFound, Sees, Sees, NotFound, Sees],
        )
        .probe(TICKET_PROBE, json!({ "id": w.a_ticket })),
        row(
            "Mutation.startProductionBatch",
            "A's completed order by id",
            "mutation($i: StartProductionBatchInput!) { startProductionBatch(input: $i) { batch { id total } userErrors { code } } }",
            json!({ "i": { "orderIds": [w.a_order] } }),
            [Unauth, Forbid, Forbid, Forbid, UserErr("INVALID_ORDERS"), UserErr("INVALID_ORDERS"), UserErr("INVALID_ORDERS")],
        ),
        row(
            "Mutation.startProductionBatch",
            "schoolCode 10027",
            "mutation($i: StartProductionBatchInput!) { startProductionBatch(input: $i) { batch { id total } userErrors { code } } }",
            json!({ "i": { "schoolCode": "10027" } }),
            [Unauth, Forbid, Forbid, Forbid, UserErr("NOTHING_TO_PRODUCE"), Forbid, UserErr("NOTHING_TO_PRODUCE")],
        ),
        row(
            "Mutation.exportToRegistry",
            "schoolCode 10027",
            "mutation($i: ExportToRegistryInput!) { exportToRegistry(input: $i) { export { id url } userErrors { code } } }",
            json!({ "i": { "schoolCode": "10027" } }),
            [Unauth, Forbid, Forbid, Forbid, UserErr("NOTHING_TO_EXPORT"), Forbid, UserErr("NOTHING_TO_EXPORT")],
        ),
        row(
            "Mutation.importRegistryResult",
            "the registry accepts A's exported photo",
            "mutation($i: ImportRegistryResultInput!) { importRegistryResult(input: $i) { export { id } accepted unchanged userErrors { code } } }",
            json!({ "i": { "exportId": w.export, "csv": "201911010101,通过," } }),
            [Unauth, Forbid, Forbid, Forbid, Allowed, Forbid, Allowed],
        ),
        row(
            "Mutation.createSchool",
            "a new school",
            "mutation($i: CreateSchoolInput!) { createSchool(input: $i) { school { id } userErrors { code } } }",
            json!({ "i": { "code": "10003", "name": "清华大学" } }),
            [Unauth, Forbid, Forbid, Forbid, Forbid, Forbid, Allowed],
        )
        .probe("{ schools(first: 50) { totalCount } }", json!({})),
        row(
            "Mutation.createProject",
            "a project of 10027",
            "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id } userErrors { code } } }",
            json!({ "i": project_input("10027", "BNU28", "000017") }),
            [Unauth, Forbid, Forbid, Forbid, Forbid, Forbid, Allowed],
        )
        .probe("{ projects(first: 50) { totalCount } }", json!({})),
        row(
            "Mutation.createStaffAccount",
            "an admin account",
            "mutation($i: CreateStaffAccountInput!) { createStaffAccount(input: $i) { account { id } userErrors { code } } }",
            json!({ "i": { "username": "m-new-admin", "password": STAFF_PASS, "role": "ADMIN" } }),
            [Unauth, Forbid, Forbid, Forbid, Forbid, Forbid, Allowed],
        ),
        row(
            "Mutation.updateProject",
            "10027's project, same name",
            "mutation($i: UpdateProjectInput!) { updateProject(input: $i) { project { id name } userErrors { code } } }",
            json!({ "i": { "projectId": w.project, "name": "2027届毕业生图像采集" } }),
            [Unauth, Forbid, Forbid, Forbid, Forbid, NotFound, Allowed],
        ),
        row(
            "Mutation.extendProject",
            "10027's project",
            "mutation($i: ExtendProjectInput!) { extendProject(input: $i) { project { id closesAt } userErrors { code } } }",
            json!({ "i": { "projectId": w.project, "closesAt": "2099-01-01T00:00:00Z" } }),
            [Unauth, Forbid, Forbid, Forbid, Forbid, NotFound, Allowed],
        ),
        row(
            "Mutation.closeProject",
            "10027's project (reopened by the next row)",
            "mutation($i: ProjectIdInput!) { closeProject(input: $i) { project { id closedAt } userErrors { code } } }",
            json!({ "i": { "projectId": w.project } }),
            [Unauth, Forbid, Forbid, Forbid, Forbid, NotFound, Allowed],
        )
        .probe("query($id: ID!) { node(id: $id) { ... on Project { closedAt } } }", json!({ "id": w.project })),
        row(
            "Mutation.reopenProject",
            "10027's closed project",
            "mutation($i: ProjectIdInput!) { reopenProject(input: $i) { project { id closedAt } userErrors { code } } }",
            json!({ "i": { "projectId": w.project } }),
            [Unauth, Forbid, Forbid, Forbid, Forbid, NotFound, Allowed],
        )
        .probe("query($id: ID!) { node(id: $id) { ... on Project { closedAt } } }", json!({ "id": w.project })),
        row(
            "Mutation.disableStaffAccount",
            "a reviewer of 10027",
            "mutation($i: StaffAccountIdInput!) { disableStaffAccount(input: $i) { account { id disabled } userErrors { code } } }",
            json!({ "i": { "accountId": w.target_staff } }),
            [Unauth, Forbid, Forbid, Forbid, Forbid, NotFound, Allowed],
        )
        .probe(STAFF_PROBE, json!({ "id": w.target_staff })),
        row(
            "Mutation.enableStaffAccount",
            "the disabled reviewer",
            "mutation($i: StaffAccountIdInput!) { enableStaffAccount(input: $i) { account { id disabled } userErrors { code } } }",
            json!({ "i": { "accountId": w.target_staff } }),
            [Unauth, Forbid, Forbid, Forbid, Forbid, NotFound, Allowed],
        )
        .probe(STAFF_PROBE, json!({ "id": w.target_staff })),
        row(
            "Mutation.resetStaffPassword",
            "a reviewer of 10027",
            "mutation($i: ResetStaffPasswordInput!) { resetStaffPassword(input: $i) { account { id mustChangePassword } userErrors { code } } }",
            json!({ "i": { "accountId": w.target_staff, "temporaryPassword": "temporary-pass-1" } }),
            [Unauth, Forbid, Forbid, Forbid, Forbid, NotFound, Allowed],
        )
        .probe(STAFF_PROBE, json!({ "id": w.target_staff })),
        row(
            "Mutation.updateStaffAccount",
            "a reviewer of 10027 made producer",
            "mutation($i: UpdateStaffAccountInput!) { updateStaffAccount(input: $i) { account { id role } userErrors { code } } }",
            json!({ "i": { "accountId": w.target_staff, "role": "PRODUCER" } }),
            [Unauth, Forbid, Forbid, Forbid, Forbid, NotFound, Allowed],
        )
        .probe(STAFF_PROBE, json!({ "id": w.target_staff })),
        row(
            "Mutation.changePassword",
            "with a wrong current password",
            "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { account { id } userErrors { code } } }",
            json!({ "i": { "currentPassword": "not-the-password", "newPassword": "another-password-1" } }),
            [Unauth, Forbid, Forbid, UserErr("INVALID_CREDENTIALS"), UserErr("INVALID_CREDENTIALS"), UserErr("INVALID_CREDENTIALS"), UserErr("INVALID_CREDENTIALS")],
        ),
        row(
            "Mutation.grantAutoChecks",
            "A's enrollment",
            "mutation($i: GrantAutoChecksInput!) { grantAutoChecks(input: $i) { enrollment { id autoChecksRemaining } userErrors { code } } }",
            json!({ "i": { "enrollmentId": w.a_enrollment, "count": 1 } }),
            [Unauth, Forbid, Forbid, Forbid, Forbid, NotFound, Sees],
        )
        .probe(ENROLLMENT_PROBE, json!({ "id": w.a_enrollment })),
        row(
            "Mutation.sendPhotoToReview",
            "A's completed order",
            "mutation($i: SendPhotoToReviewInput!) { sendPhotoToReview(input: $i) { order { id status } userErrors { code } } }",
            json!({ "i": { "orderId": w.a_order, "photoId": w.a_photo } }),
            [Unauth, Forbid, Forbid, Forbid, Forbid, NotFound, UserErr("INVALID_STATE")],
        )
        .probe(ORDER_PROBE, json!({ "id": w.a_order })),
        row(
            "Mutation.allowManualReview",
            "A's photo (it passed)",
            "mutation($i: AllowManualReviewInput!) { allowManualReview(input: $i) { photo { id } userErrors { code } } }",
            json!({ "i": { "photoId": w.a_photo } }),
            [Unauth, Forbid, Forbid, Forbid, Forbid, NotFound, UserErr("PHOTO_PASSED")],
        ),
        row(
            "Mutation.releaseReviewClaim",
            "A's completed order",
            "mutation($i: ReviewClaimInput!) { releaseReviewClaim(input: $i) { order { id status } userErrors { code } } }",
            json!({ "i": { "orderId": w.a_order } }),
            [Unauth, Forbid, Forbid, Forbid, Forbid, NotFound, UserErr("INVALID_STATE")],
        )
        .probe(ORDER_PROBE, json!({ "id": w.a_order })),
        row(
            "Mutation.reassignReviewClaim",
            "A's completed order",
            "mutation($i: ReassignReviewClaimInput!) { reassignReviewClaim(input: $i) { order { id status } userErrors { code } } }",
            json!({ "i": { "orderId": w.a_order, "reviewerId": w.target_staff } }),
            [Unauth, Forbid, Forbid, Forbid, Forbid, NotFound, UserErr("INVALID_STATE")],
        )
        .probe(ORDER_PROBE, json!({ "id": w.a_order })),
        row(
            "Mutation.unbindEnrollment",
            "A's enrollment (its order completed)",
            "mutation($i: UnbindEnrollmentInput!) { unbindEnrollment(input: $i) { enrollment { id } userErrors { code } } }",
            json!({ "i": { "enrollmentId": w.a_enrollment, "reason": "申诉" } }),
            [Unauth, Forbid, Forbid, Forbid, Forbid, NotFound, UserErr("ORDER_IN_PROGRESS")],
        )
        .probe(ENROLLMENT_PROBE, json!({ "id": w.a_enrollment })),
        row(
            "Mutation.cancelAndRefundOrder",
            "A's completed order",
            "mutation($i: CancelAndRefundOrderInput!) { cancelAndRefundOrder(input: $i) { order { id status } userErrors { code } } }",
            json!({ "i": { "orderId": w.a_order, "reason": "学校统一退费" } }),
            [Unauth, Forbid, Forbid, Forbid, Forbid, NotFound, UserErr("INVALID_STATE")],
        )
        .probe(ORDER_PROBE, json!({ "id": w.a_order })),
        row(
            "Mutation.exportSchoolProgress",
            "10027, enrolled students",
            "mutation($i: ExportSchoolProgressInput!) { exportSchoolProgress(input: $i) { url rows userErrors { code } } }",
            json!({ "i": { "schoolCode": "10027", "stage": "ENROLLED" } }),
            [Unauth, Forbid, Forbid, Forbid, Forbid, NotFound, Allowed],
        ),
        row(
            "Mutation.remindUnfinishedStudents",
            "10027",
            "mutation($i: SchoolProgressInput!) { remindUnfinishedStudents(input: $i) { sent alreadyReminded withoutConsent userErrors { code } } }",
            json!({ "i": { "schoolCode": "10027" } }),
            [Unauth, Forbid, Forbid, Forbid, Forbid, NotFound, Allowed],
        ),
        row(
            "Mutation.deleteAccount",
            "while orders are open",
            "mutation { deleteAccount { deleted userErrors { code } } }",
            json!({}),
            [Unauth, UserErr("ORDER_IN_PROGRESS"), UserErr("ORDER_IN_PROGRESS"), UserErr("STAFF_ACCOUNT"), UserErr("STAFF_ACCOUNT"), UserErr("STAFF_ACCOUNT"), UserErr("STAFF_ACCOUNT")],
        ),
        row("Mutation.signOut", "a fresh session", "mutation { signOut }", json!({}), [Unauth, Allowed, Allowed, Allowed, Allowed, Allowed, Allowed])
            .kind(Kind::FreshSession),
        row(
            "Mutation.signOutEverywhere",
            "a fresh session",
            "mutation { signOutEverywhere }",
            json!({}),
            [Unauth, Allowed, Allowed, Allowed, Allowed, Allowed, Allowed],
        )
        .kind(Kind::FreshSession),
        // ---------------------------------------------------------------- subscriptions
        row(
            "Subscription.orderUpdates",
            "orderId of A's order",
            "subscription($o: ID) { orderUpdates(orderId: $o) { id event order { id } } }",
            json!({ "o": w.a_order }),
            [Unauth, Sees, NotFound, Sees, Sees, NotFound, Sees],
        )
        .kind(Kind::Subscription),
        row(
            "Subscription.orderUpdates",
            "everything in scope",
            "subscription { orderUpdates { id event order { id } } }",
            json!({}),
            [Unauth, Sees, Blind, Sees, Sees, Blind, Sees],
        )
        .kind(Kind::Subscription),
        row(
            "Subscription.orderUpdates",
            "replay after A's first event",
            "subscription($a: ID) { orderUpdates(after: $a) { id event order { id } } }",
            json!({ "a": w.a_event }),
            [Unauth, Sees, Blind, Sees, Sees, Blind, Sees],
        )
        .kind(Kind::Subscription),
        row(
            "Subscription.queueStats",
            "schoolCode 10027",
            "subscription { queueStats(schoolCode: \"10027\") { pendingReview completed } }",
            json!({}),
            [Unauth, Forbid, Forbid, Allowed, Allowed, Forbid, Allowed],
        )
        .kind(Kind::Subscription),
        row(
            "Subscription.productionProgress",
            "10027's batch",
            "subscription($b: ID!) { productionProgress(batchId: $b) { batch { id total done } } }",
            json!({ "b": w.batch }),
            [Unauth, NotFound, NotFound, Allowed, Allowed, NotFound, Allowed],
        )
        .kind(Kind::Subscription),
        row(
            "Subscription.supportTicketUpdates",
            "A's ticket answered",
            "subscription { supportTicketUpdates { id open } }",
            json!({}),
            [Unauth, Sees, Blind, Sees, Sees, Blind, Sees],
        )
        .kind(Kind::Subscription),
    ]
}

/// The root fields of Query, Mutation and Subscription in the SDL the code builds.
fn root_fields() -> BTreeSet<String> {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    let doc = async_graphql::parser::parse_schema(sdl()).expect("SDL parses");
    let mut out = BTreeSet::new();
    for def in doc.definitions {
        if let TypeSystemDefinition::Type(t) = def {
            let name = t.node.name.node.to_string();
            if !matches!(name.as_str(), "Query" | "Mutation" | "Subscription") {
                continue;
            }
            if let TypeKind::Object(object) = &t.node.kind {
                for field in &object.fields {
                    out.insert(format!("{name}.{}", field.node.name.node));
                }
            }
        }
    }
    out
}

fn contains_marker(text: &str, markers: &[String]) -> bool {
    markers.iter().any(|m| text.contains(m.as_str()))
}

/// Reads an HTTP answer.
fn observe(body: &Value, field: &str, markers: &[String]) -> Got {
    if let Some(error) = body["errors"].as_array().and_then(|e| e.first()) {
        return match error["extensions"]["code"].as_str().unwrap_or("<none>") {
            "UNAUTHENTICATED" => Got::Unauth,
            "FORBIDDEN" => Got::Forbid,
            "NOT_FOUND" => Got::NotFound,
            other => Got::Other(format!("{other}: {}", error["message"])),
        };
    }
    let value = &body["data"][field];
    if value.is_null() && field == "node" {
        return Got::NotFound;
    }
    if let Some(code) = value["userErrors"]
        .as_array()
        .and_then(|e| e.first())
        .and_then(|e| e["code"].as_str())
    {
        return Got::UserErr(code.to_string());
    }
    Got::Ok {
        leak: contains_marker(&value.to_string(), markers),
    }
}

struct Mismatch {
    row: String,
    who: Who,
    expected: String,
    got: String,
}

async fn run_plain(w: &World, row: &Row, token: Option<&str>) -> Value {
    match row.kind {
        Kind::Upload(path) => {
            let resp = w
                .app
                .upload(
                    token,
                    &row.query,
                    row.variables.clone(),
                    "variables.i.file",
                    fixture(path),
                    "photo.jpg",
                )
                .await;
            // An upload without a valid session is refused before its body is read: 401 with
            // the same `errors[].extensions.code` as any other UNAUTHENTICATED answer.
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.expect("json");
            match status {
                200 => {}
                401 => assert_eq!(
                    body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
                    "{}: {body}",
                    row.field
                ),
                other => panic!("{}: status {other}: {body}", row.field),
            }
            body
        }
        _ => w.app.gql(token, &row.query, row.variables.clone()).await,
    }
}

/// Runs the HTTP rows in table order, each row's callers in `EXECUTION` order.
async fn run_http_rows(w: &mut World, rows: &[Row], out: &mut Vec<Mismatch>) {
    for row in rows {
        if matches!(row.kind, Kind::Subscription) {
            continue;
        }
        let label = format!("{} ({})", row.field, row.what);
        let mut probed = match &row.probe {
            Some((q, v)) => Some(w.admin_data(q, v.clone()).await),
            None => None,
        };
        for who in EXECUTION {
            let expect = row.expect[who.column()];
            let fresh;
            let token = match (&row.kind, who) {
                (_, Who::Anon) => None,
                (Kind::FreshSession, _) => {
                    fresh = World::sign_in(&w.app, &w.callers[who.column()].login).await;
                    fresh.as_deref()
                }
                _ => w.token(who),
            };
            let body = run_plain(w, row, token).await;
            let markers = row.markers.as_ref().unwrap_or(&w.markers);
            let got = observe(&body, row.root_field(), markers);
            // A signed-out session is refused afterwards, like an expired one.
            if row.field == "Mutation.signOut"
                && let Some(t) = token
            {
                let after = w
                    .app
                    .gql(Some(t), "{ viewer { account { id } } }", json!({}))
                    .await;
                if observe(&after, "viewer", markers) != Got::Unauth {
                    out.push(Mismatch {
                        row: format!("{label}: the session afterwards"),
                        who,
                        expected: Unauth.to_string(),
                        got: short(&after),
                    });
                }
            }
            if !matches(expect, &got) {
                out.push(Mismatch {
                    row: label.clone(),
                    who,
                    expected: expect.to_string(),
                    got: format!("{got}  {}", short(&body)),
                });
            } else if !may_show_a(who, expect) && contains_marker(&body.to_string(), markers) {
                out.push(Mismatch {
                    row: label.clone(),
                    who,
                    expected: format!("{expect}, nothing of A's"),
                    got: format!("A's ids in the answer  {}", short(&body)),
                });
            }
            if let (Some((q, v)), Some(before)) = (&row.probe, &probed) {
                let mut now = w.admin_data(q, v.clone()).await;
                let refused = !matches!(expect, Allowed | Sees | Blind);
                if !refused {
                    // An allowed call may set off work that finishes later (a refund is
                    // confirmed by WeChat's notification): the next caller starts from the
                    // settled state, or that work would look like the next caller's doing.
                    for _ in 0..30 {
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        let again = w.admin_data(q, v.clone()).await;
                        if again == now {
                            break;
                        }
                        now = again;
                    }
                }
                if refused && &now != before {
                    out.push(Mismatch {
                        row: label.clone(),
                        who,
                        expected: format!("{expect}, nothing changed"),
                        got: format!("changed: {before} -> {now}"),
                    });
                }
                probed = Some(now);
            }
        }
        if matches!(row.kind, Kind::FreshSession) && row.field == "Mutation.signOutEverywhere" {
            w.refresh_tokens().await;
        }
    }
}

fn short(body: &Value) -> String {
    let text = body.to_string();
    if text.chars().count() > 160 {
        format!("{}…", text.chars().take(160).collect::<String>())
    } else {
        text
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A subscription as the server left it.
enum Sub {
    /// The socket was closed at `connection_init` with this code.
    Closed(u16),
    /// The subscription was refused (an `error` frame, or `next` with errors).
    Refused(Value),
    Open(Box<Ws>, Vec<Value>),
}

async fn next_message(ws: &mut Ws, wait: Duration) -> Option<Message> {
    match tokio::time::timeout(wait, ws.next()).await {
        Ok(Some(Ok(m))) => Some(m),
        _ => None,
    }
}

async fn open_subscription(w: &World, token: Option<&str>, row: &Row) -> Sub {
    let mut request = format!("{}/graphql/ws", w.app.base.replace("http://", "ws://"))
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    let payload = match token {
        Some(t) => json!({ "authorization": format!("Bearer {t}") }),
        None => json!({}),
    };
    ws.send(Message::text(
        json!({ "type": "connection_init", "payload": payload }).to_string(),
    ))
    .await
    .expect("init");
    match next_message(&mut ws, Duration::from_secs(5)).await {
        Some(Message::Close(frame)) => {
            return Sub::Closed(frame.map(|f| u16::from(f.code)).unwrap_or(0));
        }
        Some(Message::Text(t)) => {
            let v: Value = serde_json::from_str(t.as_str()).expect("json");
            assert_eq!(v["type"], "connection_ack", "{v}");
        }
        other => panic!("no acknowledgement: {other:?}"),
    }
    ws.send(Message::text(
        json!({ "id": "m", "type": "subscribe", "payload": { "query": row.query, "variables": row.variables } })
            .to_string(),
    ))
    .await
    .expect("subscribe");
    ws.send(Message::text(json!({ "type": "ping" }).to_string()))
        .await
        .expect("ping");
    let mut early = Vec::new();
    loop {
        match next_message(&mut ws, Duration::from_secs(5)).await {
            Some(Message::Text(t)) => {
                let v: Value = serde_json::from_str(t.as_str()).expect("json");
                if v["type"] == "pong" {
                    break;
                }
                if v["type"] == "error" || !v["payload"]["errors"].is_null() {
                    return Sub::Refused(v);
                }
                early.push(v);
            }
            Some(Message::Close(frame)) => {
                return Sub::Closed(frame.map(|f| u16::from(f.code)).unwrap_or(0));
            }
            other => panic!("no pong: {other:?}"),
        }
    }
    Sub::Open(Box::new(ws), early)
}

fn refusal(v: &Value) -> Got {
    let errors = if v["type"] == "error" {
        v["payload"].clone()
    } else {
        v["payload"]["errors"].clone()
    };
    match errors[0]["extensions"]["code"].as_str().unwrap_or("<none>") {
        "UNAUTHENTICATED" => Got::Unauth,
        "FORBIDDEN" => Got::Forbid,
        "NOT_FOUND" => Got::NotFound,
        other => Got::Other(format!("{other}: {v}")),
    }
}

/// Opens every subscription row for every caller, has A's order and ticket change, and reads
/// what each socket received.
async fn run_subscription_rows(w: &World, rows: &[Row], out: &mut Vec<Mismatch>) {
    let mut subs = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if !matches!(row.kind, Kind::Subscription) {
            continue;
        }
        for who in EXECUTION {
            subs.push((i, who, open_subscription(w, w.token(who), row).await));
        }
    }
    // A forged token is refused like no token: the socket closes with 4403.
    for row in rows.iter().filter(|r| matches!(r.kind, Kind::Subscription)) {
        match open_subscription(w, Some("forged-token"), row).await {
            Sub::Closed(4403) => {}
            other => out.push(Mismatch {
                row: format!("{} ({})", row.field, row.what),
                who: Who::Anon,
                expected: "a forged token: close 4403".into(),
                got: match other {
                    Sub::Closed(code) => format!("closed {code}"),
                    Sub::Refused(v) => format!("refused {v}"),
                    Sub::Open(..) => "subscribed".into(),
                },
            }),
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A's order changes (a print order is an event on its trail) and A follows up the ticket.
    let a = w.token(Who::A);
    let print = w
        .app
        .data(
            a,
            CREATE_PRINT,
            json!({ "i": { "orderId": w.a_order, "layoutCode": "1IN-8", "quantity": 3, "address": address() } }),
        )
        .await;
    assert_eq!(
        print["createPrintOrder"]["userErrors"],
        json!([]),
        "{print}"
    );
    let answer = w
        .app
        .data(
            a,
            ANSWER_TICKET,
            json!({ "i": { "ticketId": w.a_ticket, "text": "还有一个问题" } }),
        )
        .await;
    assert_eq!(
        answer["answerSupportTicket"]["userErrors"],
        json!([]),
        "{answer}"
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;

    for (i, who, sub) in subs {
        let row = &rows[i];
        let expect = row.expect[who.column()];
        let got = match sub {
            Sub::Closed(4403) => Got::Unauth,
            Sub::Closed(code) => Got::Other(format!("closed {code}")),
            Sub::Refused(v) => refusal(&v),
            Sub::Open(mut ws, mut frames) => {
                while let Some(Message::Text(t)) =
                    next_message(&mut ws, Duration::from_millis(150)).await
                {
                    frames.push(serde_json::from_str(t.as_str()).expect("json"));
                }
                (*ws).close(None).await.ok();
                match frames
                    .iter()
                    .find(|f| f["type"] == "error" || !f["payload"]["errors"].is_null())
                {
                    Some(f) => refusal(f),
                    None => Got::Ok {
                        leak: frames
                            .iter()
                            .any(|f| contains_marker(&f.to_string(), &w.markers)),
                    },
                }
            }
        };
        if !matches(expect, &got) {
            out.push(Mismatch {
                row: format!("{} ({})", row.field, row.what),
                who,
                expected: expect.to_string(),
                got: got.to_string(),
            });
        }
    }
}

#[tokio::test]
async fn every_field_answers_every_caller_as_the_table_says() {
    let mut w = world().await;
    let rows = table(&w);
    let mut mismatches = Vec::new();

    // Every root field of the schema has a row, and every row names a root field.
    let fields = root_fields();
    let covered: BTreeSet<String> = rows.iter().map(|r| r.field.to_string()).collect();
    let mut problems: Vec<String> = fields
        .difference(&covered)
        .map(|f| format!("{f}: no row in the authorisation matrix"))
        .collect();
    problems.extend(
        covered
            .difference(&fields)
            .map(|f| format!("{f}: a row for a field the schema does not have")),
    );
    for r in &rows {
        assert!(
            r.query.contains(r.root_field()),
            "{}: the operation does not use the field",
            r.field
        );
    }

    run_http_rows(&mut w, &rows, &mut mismatches).await;
    run_subscription_rows(&w, &rows, &mut mismatches).await;

    // After every refused attempt on A's objects, A's things are where A left them.
    let a_order = w
        .app
        .data(
            w.token(Who::A),
            "query($id: ID!) { node(id: $id) { ... on Order { status } } }",
            json!({ "id": w.a_order }),
        )
        .await;
    if a_order["node"]["status"] != "COMPLETED" {
        problems.push(format!("A's completed order changed: {a_order}"));
    }

    let mut report = String::new();
    for m in &mismatches {
        report.push_str(&format!(
            "| {:<62} | {:<18} | {:<28} | {}\n",
            m.row,
            m.who.label(),
            m.expected,
            m.got
        ));
    }
    for p in &problems {
        report.push_str(&format!("| {p}\n"));
    }
    assert!(
        report.is_empty(),
        "authorisation matrix: {} mismatch(es)\n| {:<62} | {:<18} | {:<28} | got\n{report}",
        mismatches.len() + problems.len(),
        "field (what)",
        "caller",
        "expected"
    );
}
