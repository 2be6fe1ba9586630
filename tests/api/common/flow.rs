//! The student flow up to an order, and WeChat Pay notifications built the way WeChat builds
//! them, with the keys this test binary generated.
use campus_photo::integrations::wechat_pay::SANDBOX_MCHID;
use campus_photo_wechatpay::notification::{NotificationHeaders, build_notification};
use serde_json::{Value, json};

use super::{TestApp, fixture, fixture_code_keys, mint_code, project_input, test_pay_keys};

pub const ORDER_FIELDS: &str = "id number status statusLabel kindLabel amount { amountFen formatted } refundPending paidAt closedAt refundedAt payBefore contactPhone photo { id } events { sequence fromStatus toStatus event actor reasonCode message }";

/// A school with one project (price ¥30.00, prefix 000015) and its admin.
pub struct Shop {
    pub app: TestApp,
    pub admin: String,
}

/// A signed-in student with an enrollment and a photo that passed the check.
pub struct Student {
    pub token: String,
    pub enrollment: Value,
    pub photo: Value,
}

pub async fn shop() -> Shop {
    shop_with(|_| {}).await
}

pub async fn shop_with(
    customise: impl FnOnce(&mut std::collections::HashMap<String, String>),
) -> Shop {
    shop_with_overrides(customise, Default::default()).await
}

/// A shop whose production batches do not start by themselves: tests drive them.
pub async fn deferred_shop() -> Shop {
    shop_with_overrides(
        |_| {},
        campus_photo::Overrides {
            defer_jobs: true,
            ..Default::default()
        },
    )
    .await
}

pub async fn shop_with_overrides(
    customise: impl FnOnce(&mut std::collections::HashMap<String, String>),
    overrides: campus_photo::Overrides,
) -> Shop {
    let app = TestApp::spawn_with(
        |v| {
            v.insert("COLLECTION_CODE_KEYS".into(), fixture_code_keys());
            customise(v);
        },
        overrides,
    )
    .await;
    let admin = app.admin_token().await;
    app.create_school(&admin, "10027", "北京师范大学").await;
    let created = app
        .create_project(&admin, project_input("10027", "BNU27", "000015"))
        .await;
    assert_eq!(created["userErrors"], json!([]), "{created}");
    Shop { app, admin }
}

impl Shop {
    pub async fn student(&self, wx_code: &str) -> Student {
        self.student_with_photo(wx_code, "obama_ok.jpg").await
    }

    /// A student whose passed photo is the fixture `photo`. Originals are content-addressed, so
    /// students given the same fixture share one stored original.
    pub async fn student_with_photo(&self, wx_code: &str, photo: &str) -> Student {
        let token = self.app.sign_in_student(wx_code, "13800138000").await;
        let r = self
            .app
            .data(
                Some(&token),
                "mutation($i: AddEnrollmentInput!) { addEnrollment(input: $i) { enrollment { id } userErrors { code } } }",
                json!({ "i": { "collectionCode": mint_code(|_| {}), "idNumberLast4": "123X", "featureCode": "BNU27" } }),
            )
            .await;
        let enrollment = r["addEnrollment"]["enrollment"]["id"].clone();
        assert!(enrollment.is_string(), "{r}");
        let uploaded = self.upload(&token, &enrollment, photo).await;
        assert_eq!(uploaded["check"]["verdict"], "PASSED", "{uploaded}");
        Student {
            token,
            enrollment,
            photo: uploaded["id"].clone(),
        }
    }

    /// Uploads a fixture photo and returns the Photo.
    pub async fn upload(&self, token: &str, enrollment: &Value, name: &str) -> Value {
        let r = self
            .app
            .upload_data(
                Some(token),
                "mutation($i: UploadPhotoInput!) { uploadPhoto(input: $i) { photo { id check { verdict } } userErrors { code } } }",
                json!({ "i": { "enrollmentId": enrollment, "file": null, "source": "CAMERA" } }),
                "variables.i.file",
                fixture(&format!("photos/{name}")),
                name,
            )
            .await;
        r["uploadPhoto"]["photo"].clone()
    }

    /// Runs an order mutation that takes `input` and returns its payload.
    pub async fn order_mutation(&self, token: &str, name: &str, input: Value) -> Value {
        let input_type = match name {
            "submitOrder" => "SubmitOrderInput",
            "updatePendingOrder" => "UpdatePendingOrderInput",
            "requestRefund" => "RequestRefundInput",
            "resubmitPhoto" => "ResubmitPhotoInput",
            "submitPhotoForReview" => "SubmitPhotoForReviewInput",
            _ => "OrderIdInput",
        };
        let query = format!(
            "mutation($i: {input_type}!) {{ {name}(input: $i) {{ order {{ {ORDER_FIELDS} }} userErrors {{ code field message }} }} }}"
        );
        self.app
            .data(Some(token), &query, json!({ "i": input }))
            .await[name]
            .clone()
    }

    pub async fn submit(&self, s: &Student) -> Value {
        let r = self
            .order_mutation(
                &s.token,
                "submitOrder",
                json!({ "photoId": s.photo, "notificationConsent": true }),
            )
            .await;
        assert_eq!(r["userErrors"], json!([]), "{r}");
        r["order"].clone()
    }

    pub async fn create_payment(&self, token: &str, order_id: &Value) -> Value {
        self.app
            .data(
                Some(token),
                "mutation($i: OrderIdInput!) { createPayment(input: $i) { order { id status } payParams { appId timeStamp nonceStr package signType paySign } userErrors { code field message } } }",
                json!({ "i": { "orderId": order_id } }),
            )
            .await["createPayment"]
            .clone()
    }

    /// Submits, opens the payment and has the sandbox pay: the order ends PENDING_REVIEW.
    pub async fn paid_order(&self, s: &Student) -> Value {
        let order = self.submit(s).await;
        let pay = self.create_payment(&s.token, &order["id"]).await;
        assert_eq!(pay["userErrors"], json!([]), "{pay}");
        let paid = self
            .order_mutation(
                &s.token,
                "sandboxCompletePayment",
                json!({ "orderId": order["id"] }),
            )
            .await;
        assert_eq!(paid["userErrors"], json!([]), "{paid}");
        assert_eq!(paid["order"]["status"], "PENDING_REVIEW", "{paid}");
        paid["order"].clone()
    }

    /// The order as `token` sees it (null when it may not).
    pub async fn order(&self, token: &str, id: &Value) -> Value {
        let query =
            format!("query($id: ID!) {{ node(id: $id) {{ ... on Order {{ {ORDER_FIELDS} }} }} }}");
        let body = self.app.gql(Some(token), &query, json!({ "id": id })).await;
        body["data"]["node"].clone()
    }

    /// Waits (bounded) until the order reaches `status`, for outcomes WeChat delivers later.
    pub async fn wait_for_status(&self, token: &str, id: &Value, status: &str) -> Value {
        for _ in 0..100 {
            let order = self.order(token, id).await;
            if order["status"] == status {
                return order;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "order never reached {status}: {}",
            self.order(token, id).await
        );
    }
}

/// A `TRANSACTION.SUCCESS` resource as WeChat Pay sends it, for the sandbox merchant.
pub fn transaction(out_trade_no: &str, total: i64, transaction_id: &str) -> Value {
    json!({
        "appid": "wx-sandbox-appid",
        "mchid": SANDBOX_MCHID,
        "out_trade_no": out_trade_no,
        "transaction_id": transaction_id,
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "CMC",
        "attach": "",
        "success_time": "2026-11-23T10:34:56+08:00",
        "payer": { "openid": "sandbox-openid" },
        "amount": { "total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY" }
    })
}

/// A signed, encrypted notification: (headers, body). `now` is the server's clock.
pub fn notification(
    event_type: &str,
    resource: &Value,
    now: i64,
) -> (NotificationHeaders, Vec<u8>) {
    let keys = test_pay_keys();
    build_notification(
        &keys.platform,
        &keys.apiv3_key,
        &uuid::Uuid::new_v4().to_string(),
        event_type,
        "encrypt-resource",
        "支付成功",
        resource.to_string().as_bytes(),
        "2026-11-23T10:34:56+08:00",
        now,
        &campus_photo_wechatpay::signature::new_nonce(),
    )
    .expect("build notification")
}

impl TestApp {
    /// POSTs a notification to the real endpoint; returns the status and the JSON body (if any).
    pub async fn post_notification(
        &self,
        headers: &NotificationHeaders,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let resp = self
            .http
            .post(self.url("/payments/wechat/notify"))
            .header("Content-Type", "application/json")
            .header("Wechatpay-Timestamp", &headers.timestamp)
            .header("Wechatpay-Nonce", &headers.nonce)
            .header("Wechatpay-Signature", &headers.signature)
            .header("Wechatpay-Serial", &headers.serial)
            .body(body)
            .send()
            .await
            .expect("notify request");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// The `event` of each entry of an order's audit trail, in order.
pub fn event_names(order: &Value) -> Vec<String> {
    order["events"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|e| e["event"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

const CLAIM: &str = "mutation($i: ClaimReviewTasksInput!) { claimReviewTasks(input: $i) { orders { id status } userErrors { code field message } } }";
const REVIEW: &str = "mutation($i: ReviewOrderInput!) { reviewOrder(input: $i) { order { id status } userErrors { code field message } } }";
const START: &str = "mutation($i: StartProductionBatchInput!) { startProductionBatch(input: $i) { batch { id total } userErrors { code field message } } }";
const BATCH: &str =
    "query($id: ID!) { node(id: $id) { ... on ProductionBatch { total done failed finished } } }";

impl Shop {
    /// A reviewer of 10027 claims every waiting order and approves them all.
    pub async fn approve_all(&self, reviewer: &str, expected: usize) -> Vec<Value> {
        let claimed = self
            .app
            .data(
                Some(reviewer),
                CLAIM,
                json!({ "i": { "count": 20, "schoolCode": "10027" } }),
            )
            .await["claimReviewTasks"]
            .clone();
        assert_eq!(claimed["userErrors"], json!([]), "{claimed}");
        let orders = claimed["orders"].as_array().cloned().unwrap_or_default();
        assert_eq!(orders.len(), expected, "{claimed}");
        let mut approved = Vec::new();
        for o in orders {
            let r = self
                .app
                .data(
                    Some(reviewer),
                    REVIEW,
                    json!({ "i": { "orderId": o["id"], "decision": "APPROVE" } }),
                )
                .await["reviewOrder"]
                .clone();
            assert_eq!(r["userErrors"], json!([]), "{r}");
            assert_eq!(r["order"]["status"], "PENDING_PRODUCTION", "{r}");
            approved.push(r["order"].clone());
        }
        approved
    }

    /// Approves every waiting order of 10027, runs one batch over them and waits for it.
    pub async fn produce_all(&self, reviewer: &str, producer: &str, expected: usize) {
        self.approve_all(reviewer, expected).await;
        let started = self
            .app
            .data(
                Some(producer),
                START,
                json!({ "i": { "schoolCode": "10027" } }),
            )
            .await["startProductionBatch"]
            .clone();
        assert_eq!(started["userErrors"], json!([]), "{started}");
        let id = started["batch"]["id"].clone();
        for _ in 0..200 {
            let b = self
                .app
                .data(Some(producer), BATCH, json!({ "id": id }))
                .await["node"]
                .clone();
            if b["finished"] == true {
                let n = json!(expected);
                assert_eq!(
                    (&b["total"], &b["done"], &b["failed"]),
                    (&n, &n, &json!(0)),
                    "{b}"
                );
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("batch {id} never finished");
    }
}
