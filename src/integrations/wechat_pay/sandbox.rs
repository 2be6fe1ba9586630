//! The sandbox: WeChat Pay for development and tests. It keeps its transactions in memory, signs
//! like WeChat, and delivers notifications over HTTP to the service's own notification endpoint,
//! where they meet the same verification as real ones.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
};

use async_trait::async_trait;
use campus_photo_wechatpay::{
    keys::{self, ApiV3Key, MerchantKey, PlatformKeys},
    notification::{self, NotificationSigner, Payer, Transaction, TransactionAmount},
    signature,
};
use chrono::{DateTime, FixedOffset, Utc};

use super::{
    CloseOutcome, NotificationTrust, PayError, PayOrder, PayParams, RefundAccepted, RefundCall,
    WeChatPay, sign_pay_params,
};
use crate::clock::SharedClock;

pub const SANDBOX_MCHID: &str = "1900000001";
pub const SANDBOX_PLATFORM_SERIAL: &str = "SANDBOXPLATFORM0001";
pub const SANDBOX_MERCHANT_SERIAL: &str = "SANDBOXMERCHANT0001";

/// The sandbox's keys: a merchant key (signs pay parameters), a platform key (signs
/// notifications) and an APIv3 key (encrypts their resources).
pub struct SandboxKeys {
    pub merchant: MerchantKey,
    pub platform: NotificationSigner,
    pub apiv3_key: ApiV3Key,
}

impl SandboxKeys {
    /// Fresh random keys. RSA generation takes a moment, so a process shares one set
    /// ([`SandboxKeys::shared`]) unless a test brings its own.
    pub fn generate() -> Self {
        let mut rng = rand::thread_rng();
        // 2048-bit generation with a working RNG does not fail; a failure here is a broken build.
        let mut rsa = || {
            keys::generate_rsa_2048(&mut rng)
                .unwrap_or_else(|e| panic!("generating a sandbox RSA key: {e}"))
        };
        let (merchant, platform) = (rsa(), rsa());
        Self {
            merchant: MerchantKey {
                serial: SANDBOX_MERCHANT_SERIAL.into(),
                key: merchant,
            },
            platform: NotificationSigner {
                serial: SANDBOX_PLATFORM_SERIAL.into(),
                key: platform,
            },
            apiv3_key: ApiV3Key::from_bytes(random_apiv3_key()),
        }
    }

    pub fn shared() -> Arc<Self> {
        static KEYS: OnceLock<Arc<SandboxKeys>> = OnceLock::new();
        KEYS.get_or_init(|| Arc::new(Self::generate())).clone()
    }

    /// What the notification handler must trust to accept this sandbox's notifications.
    pub fn trust(&self) -> NotificationTrust {
        let mut platform_keys = PlatformKeys::default();
        // The sandbox's own serial and a 2048-bit key: both pass the checks (a unit test says so).
        if let Err(e) = platform_keys.insert(
            self.platform.serial.clone(),
            self.platform.key.to_public_key(),
        ) {
            tracing::error!(error = %e, "sandbox platform key refused");
        }
        NotificationTrust {
            platform_keys,
            apiv3_key: self.apiv3_key.clone(),
        }
    }
}

/// 32 random letters and digits, like the key a merchant sets on the WeChat Pay platform.
fn random_apiv3_key() -> [u8; 32] {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut key = [0u8; 32];
    for b in &mut key {
        *b = ALPHABET[rand::random::<usize>() % ALPHABET.len()];
    }
    key
}

/// How the sandbox answers refund requests (tests choose failures).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefundBehaviour {
    /// Accepts, then notifies REFUND.SUCCESS.
    #[default]
    Succeed,
    /// Refuses the request at once, as WeChat does when the merchant balance is short.
    RejectRequest,
    /// Accepts, then notifies REFUND.ABNORMAL.
    NotifyAbnormal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum TradeState {
    NotPay,
    Success,
    Closed,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct SandboxTrade {
    prepay_id: String,
    amount_fen: i64,
    openid: String,
    state: TradeState,
    transaction_id: Option<String>,
    success_time: Option<String>,
}

pub struct SandboxWeChatPay {
    keys: Arc<SandboxKeys>,
    appid: String,
    notify_url: String,
    http: reqwest::Client,
    clock: SharedClock,
    trades: Mutex<HashMap<String, SandboxTrade>>,
    /// Where trades are kept across restarts (WeChat keeps its own); `None` keeps them in memory.
    db: Option<sea_orm::DatabaseConnection>,
    refund_behaviour: Mutex<RefundBehaviour>,
}

fn shanghai_rfc3339(at: DateTime<Utc>) -> String {
    let offset = FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| unreachable!());
    at.with_timezone(&offset)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

impl SandboxWeChatPay {
    pub fn new(
        keys: Arc<SandboxKeys>,
        appid: String,
        notify_url: String,
        http: reqwest::Client,
        clock: SharedClock,
    ) -> Self {
        Self {
            keys,
            appid,
            notify_url,
            http,
            clock,
            trades: Mutex::new(HashMap::new()),
            db: None,
            refund_behaviour: Mutex::new(RefundBehaviour::default()),
        }
    }

    /// Keeps trades in the service's database, so that a restart loses none: payment and refund
    /// still work for trades opened before it.
    pub fn persisted_in(mut self, db: sea_orm::DatabaseConnection) -> Self {
        self.db = Some(db);
        self
    }

    /// Loads a trade this process has not seen from the database.
    async fn hydrate(&self, out_trade_no: &str) -> Result<(), PayError> {
        let Some(db) = &self.db else { return Ok(()) };
        if self.trades().contains_key(out_trade_no) {
            return Ok(());
        }
        use sea_orm::EntityTrait;
        let row = crate::entities::sandbox_trade::Entity::find_by_id(out_trade_no)
            .one(db)
            .await
            .map_err(|e| PayError::Unavailable(e.to_string()))?;
        if let Some(row) = row {
            let trade: SandboxTrade = serde_json::from_value(row.trade)
                .map_err(|e| PayError::BadResponse(e.to_string()))?;
            self.trades()
                .entry(out_trade_no.to_string())
                .or_insert(trade);
        }
        Ok(())
    }

    /// Writes a trade's current state through to the database.
    async fn persist(&self, out_trade_no: &str) -> Result<(), PayError> {
        let Some(db) = &self.db else { return Ok(()) };
        let Some(trade) = self.trades().get(out_trade_no).cloned() else {
            return Ok(());
        };
        use crate::entities::sandbox_trade;
        use sea_orm::{EntityTrait, Set, sea_query::OnConflict};
        let row = sandbox_trade::ActiveModel {
            out_trade_no: Set(out_trade_no.to_string()),
            trade: Set(
                serde_json::to_value(&trade).map_err(|e| PayError::BadResponse(e.to_string()))?
            ),
            updated_at: Set(self.clock.now()),
        };
        sandbox_trade::Entity::insert(row)
            .on_conflict(
                OnConflict::column(sandbox_trade::Column::OutTradeNo)
                    .update_columns([
                        sandbox_trade::Column::Trade,
                        sandbox_trade::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec(db)
            .await
            .map_err(|e| PayError::Unavailable(e.to_string()))?;
        Ok(())
    }

    /// Opens (or finds again) the trade behind a JSAPI order, as WeChat does.
    fn open_trade(&self, order: &PayOrder) -> Result<String, PayError> {
        let mut trades = self.trades();
        if let Some(existing) = trades.get(&order.out_trade_no) {
            // WeChat refuses a reused out_trade_no with different parameters.
            if existing.amount_fen != order.amount_fen {
                return Err(PayError::Rejected {
                    code: "INVALID_REQUEST".into(),
                    message: "out_trade_no reused with a different amount".into(),
                });
            }
            if existing.state != TradeState::NotPay {
                return Err(PayError::Rejected {
                    code: if existing.state == TradeState::Success {
                        "ORDERPAID"
                    } else {
                        "ORDER_CLOSED"
                    }
                    .into(),
                    message: "trade no longer payable".into(),
                });
            }
            return Ok(existing.prepay_id.clone());
        }
        let prepay_id = format!("wx{}", uuid::Uuid::now_v7().simple());
        trades.insert(
            order.out_trade_no.clone(),
            SandboxTrade {
                prepay_id: prepay_id.clone(),
                amount_fen: order.amount_fen,
                openid: order.payer_openid.clone(),
                state: TradeState::NotPay,
                transaction_id: None,
                success_time: None,
            },
        );
        Ok(prepay_id)
    }

    pub fn keys(&self) -> &Arc<SandboxKeys> {
        &self.keys
    }

    pub fn set_refund_behaviour(&self, behaviour: RefundBehaviour) {
        if let Ok(mut b) = self.refund_behaviour.lock() {
            *b = behaviour;
        }
    }

    fn trades(&self) -> std::sync::MutexGuard<'_, HashMap<String, SandboxTrade>> {
        // A poisoned lock only means a panic elsewhere; the map itself is still consistent.
        self.trades.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn transaction_of(&self, out_trade_no: &str, trade: &SandboxTrade) -> Transaction {
        Transaction {
            appid: self.appid.clone(),
            mchid: SANDBOX_MCHID.into(),
            out_trade_no: out_trade_no.to_string(),
            transaction_id: trade.transaction_id.clone(),
            trade_type: Some("JSAPI".into()),
            trade_state: match trade.state {
                TradeState::NotPay => "NOTPAY",
                TradeState::Success => "SUCCESS",
                TradeState::Closed => "CLOSED",
            }
            .into(),
            trade_state_desc: "sandbox".into(),
            bank_type: (trade.state == TradeState::Success).then(|| "OTHERS".into()),
            attach: String::new(),
            success_time: trade.success_time.clone(),
            payer: Some(Payer {
                openid: trade.openid.clone(),
            }),
            amount: TransactionAmount {
                total: trade.amount_fen,
                payer_total: Some(trade.amount_fen),
                currency: "CNY".into(),
                payer_currency: Some("CNY".into()),
            },
        }
    }

    /// The student "pays": the trade succeeds and WeChat's notification is posted to the
    /// service. Fails when the trade is unknown, closed, or the service refused the notification.
    pub async fn complete_payment(&self, out_trade_no: &str) -> Result<(), PayError> {
        let now = self.clock.now();
        self.hydrate(out_trade_no).await?;
        let transaction = {
            let mut trades = self.trades();
            let trade = trades
                .get_mut(out_trade_no)
                .ok_or_else(|| PayError::Rejected {
                    code: "ORDER_NOT_EXIST".into(),
                    message: "sandbox has no such trade; call createPayment first".into(),
                })?;
            match trade.state {
                TradeState::Closed => {
                    return Err(PayError::Rejected {
                        code: "ORDER_CLOSED".into(),
                        message: "the trade is closed".into(),
                    });
                }
                TradeState::NotPay => {
                    trade.state = TradeState::Success;
                    trade.transaction_id = Some(format!(
                        "4200{}{:010}",
                        now.format("%Y%m%d"),
                        rand::random::<u32>()
                    ));
                    trade.success_time = Some(shanghai_rfc3339(now));
                }
                TradeState::Success => {}
            }
            self.transaction_of(out_trade_no, trade)
        };
        self.persist(out_trade_no).await?;
        let plaintext =
            serde_json::to_vec(&transaction).map_err(|e| PayError::BadResponse(e.to_string()))?;
        self.notify("TRANSACTION.SUCCESS", "支付成功", &plaintext, now)
            .await
    }

    async fn notify(
        &self,
        event_type: &str,
        summary: &str,
        plaintext: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), PayError> {
        deliver_notification(
            &self.http,
            &self.notify_url,
            &self.keys,
            event_type,
            summary,
            plaintext,
            now,
        )
        .await
    }
}

/// Builds, signs, encrypts and posts one notification as WeChat would.
pub(crate) async fn deliver_notification(
    http: &reqwest::Client,
    notify_url: &str,
    keys: &SandboxKeys,
    event_type: &str,
    summary: &str,
    plaintext: &[u8],
    now: DateTime<Utc>,
) -> Result<(), PayError> {
    let (headers, body) = notification::build_notification(
        &keys.platform,
        &keys.apiv3_key,
        &uuid::Uuid::now_v7().to_string(),
        event_type,
        "encrypt-resource",
        summary,
        plaintext,
        &shanghai_rfc3339(now),
        now.timestamp(),
        &signature::new_nonce(),
    )
    .map_err(|e| PayError::BadResponse(format!("building the notification: {e}")))?;
    let response = http
        .post(notify_url)
        .header("Content-Type", "application/json")
        .header("Wechatpay-Timestamp", &headers.timestamp)
        .header("Wechatpay-Nonce", &headers.nonce)
        .header("Wechatpay-Signature", &headers.signature)
        .header("Wechatpay-Serial", &headers.serial)
        .body(body)
        .send()
        .await
        .map_err(|e| PayError::Unavailable(format!("posting the notification: {e}")))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        let text = response.text().await.unwrap_or_default();
        Err(PayError::Rejected {
            code: format!("NOTIFY_{}", status.as_u16()),
            message: text,
        })
    }
}

#[async_trait]
impl WeChatPay for SandboxWeChatPay {
    fn provider(&self) -> &'static str {
        "SANDBOX"
    }

    fn mchid(&self) -> &str {
        SANDBOX_MCHID
    }

    fn appid(&self) -> &str {
        &self.appid
    }

    async fn create_jsapi(&self, order: &PayOrder) -> Result<String, PayError> {
        self.hydrate(&order.out_trade_no).await?;
        let prepay_id = self.open_trade(order)?;
        self.persist(&order.out_trade_no).await?;
        Ok(prepay_id)
    }

    fn pay_params(&self, prepay_id: &str, now: DateTime<Utc>) -> Result<PayParams, PayError> {
        sign_pay_params(&self.keys.merchant, &self.appid, prepay_id, now)
    }

    async fn query(&self, out_trade_no: &str) -> Result<Option<Transaction>, PayError> {
        self.hydrate(out_trade_no).await?;
        let trades = self.trades();
        Ok(trades
            .get(out_trade_no)
            .map(|t| self.transaction_of(out_trade_no, t)))
    }

    async fn close(&self, out_trade_no: &str) -> Result<CloseOutcome, PayError> {
        self.hydrate(out_trade_no).await?;
        let outcome = {
            let mut trades = self.trades();
            match trades.get_mut(out_trade_no) {
                Some(trade) if trade.state == TradeState::Success => CloseOutcome::AlreadyPaid,
                Some(trade) => {
                    trade.state = TradeState::Closed;
                    CloseOutcome::Closed
                }
                // Nothing was opened at WeChat: nothing to close.
                None => CloseOutcome::Closed,
            }
        };
        self.persist(out_trade_no).await?;
        Ok(outcome)
    }

    async fn refund(&self, call: &RefundCall) -> Result<RefundAccepted, PayError> {
        let behaviour = *self
            .refund_behaviour
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        // A trade the sandbox knows may be refunded whatever its state here: money can reach a
        // closed trade (paid as it closed), and that is exactly what gets refunded.
        self.hydrate(&call.out_trade_no).await?;
        let transaction_id = {
            let trades = self.trades();
            trades.get(&call.out_trade_no).map(|t| {
                t.transaction_id
                    .clone()
                    .unwrap_or_else(|| format!("4200sandbox{}", call.out_trade_no))
            })
        };
        let Some(transaction_id) = transaction_id else {
            return Err(PayError::Rejected {
                code: "RESOURCE_NOT_EXISTS".into(),
                message: "no such trade to refund".into(),
            });
        };
        if behaviour == RefundBehaviour::RejectRequest {
            return Err(PayError::Rejected {
                code: "NOT_ENOUGH".into(),
                message: "基本账户余额不足".into(),
            });
        }
        let refund_id = format!("5030{}", uuid::Uuid::now_v7().simple());
        let status = if behaviour == RefundBehaviour::NotifyAbnormal {
            "ABNORMAL"
        } else {
            "SUCCESS"
        };
        let now = self.clock.now();
        let resource = serde_json::json!({
            "mchid": SANDBOX_MCHID,
            "out_trade_no": call.out_trade_no,
            "transaction_id": transaction_id,
            "out_refund_no": call.out_refund_no,
            "refund_id": refund_id,
            "refund_status": status,
            "success_time": (status == "SUCCESS").then(|| shanghai_rfc3339(now)),
            "user_received_account": "支付用户零钱",
            "amount": {
                "total": call.total_fen,
                "refund": call.refund_fen,
                "payer_total": call.total_fen,
                "payer_refund": call.refund_fen,
            },
        });
        // WeChat answers first and notifies later; so does the sandbox.
        let http = self.http.clone();
        let url = self.notify_url.clone();
        let keys = self.keys.clone();
        let event = format!("REFUND.{status}");
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            let body = resource.to_string();
            if let Err(e) =
                deliver_notification(&http, &url, &keys, &event, "退款结果", body.as_bytes(), now)
                    .await
            {
                tracing::warn!(error = %e, "sandbox refund notification was not accepted");
            }
        });
        Ok(RefundAccepted {
            refund_id,
            status: "PROCESSING".into(),
        })
    }

    fn as_sandbox(&self) -> Option<&SandboxWeChatPay> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sandbox_trusts_its_own_platform_key() {
        let keys = SandboxKeys::generate();
        let trust = keys.trust();
        assert!(trust.platform_keys.get(SANDBOX_PLATFORM_SERIAL).is_some());
        assert_eq!(trust.platform_keys.len(), 1);
    }
}
