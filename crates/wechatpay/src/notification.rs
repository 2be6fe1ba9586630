//! Payment and refund notifications (回调通知): check that WeChat signed them, recently, then
//! open the encrypted resource. Also builds such notifications, signed with a key the caller
//! holds, so the sandbox and the tests can play WeChat.

use std::fmt;

use rsa::RsaPrivateKey;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::aead::{self, AeadError};
use crate::keys::{ApiV3Key, PlatformKeys};
use crate::signature::{
    self, SignatureError, response_message, sign_sha256_rsa, verify_sha256_rsa,
};

pub use crate::api::Payer;

pub const HEADER_TIMESTAMP: &str = "Wechatpay-Timestamp";
pub const HEADER_NONCE: &str = "Wechatpay-Nonce";
pub const HEADER_SIGNATURE: &str = "Wechatpay-Signature";
pub const HEADER_SERIAL: &str = "Wechatpay-Serial";
pub const HEADER_SIGNATURE_TYPE: &str = "Wechatpay-Signature-Type";

/// The clock skew WeChat's own SDKs tolerate: five minutes.
pub const DEFAULT_MAX_SKEW_SECS: i64 = 300;

/// The notification envelope; only `resource` carries the payment data, encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: String,
    pub create_time: String,
    /// `TRANSACTION.SUCCESS`, `REFUND.SUCCESS`, `REFUND.ABNORMAL`, `REFUND.CLOSED`…
    pub event_type: String,
    pub resource_type: String,
    #[serde(default)]
    pub summary: String,
    pub resource: EncryptedResource,
}

/// An AEAD_AES_256_GCM-sealed resource under the APIv3 key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedResource {
    pub algorithm: String,
    pub ciphertext: String,
    /// May be absent or empty; absent means "".
    #[serde(default)]
    pub associated_data: Option<String>,
    /// `transaction` or `refund`.
    #[serde(default)]
    pub original_type: String,
    pub nonce: String,
}

fn cny() -> String {
    "CNY".to_owned()
}

/// Amounts of a payment in fen: what the order was for and what the user actually paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionAmount {
    pub total: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_total: Option<i64>,
    /// CNY is WeChat's default when absent.
    #[serde(default = "cny")]
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_currency: Option<String>,
}

/// A payment (decrypted `transaction` resource; also the body of the query-order answer, where
/// an unpaid order lacks the fields that only exist once paid).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    pub appid: String,
    pub mchid: String,
    pub out_trade_no: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_type: Option<String>,
    /// `SUCCESS`, `REFUND`, `NOTPAY`, `CLOSED`, `REVOKED`, `USERPAYING`, `PAYERROR`.
    pub trade_state: String,
    #[serde(default)]
    pub trade_state_desc: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_type: Option<String>,
    #[serde(default)]
    pub attach: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<Payer>,
    pub amount: TransactionAmount,
}

/// Amounts of a refund in fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundAmount {
    pub total: i64,
    pub refund: i64,
    pub payer_total: i64,
    pub payer_refund: i64,
}

/// A refund outcome (decrypted `refund` resource). `refund_status` is `SUCCESS`, `CLOSED` or
/// `ABNORMAL`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundResource {
    pub mchid: String,
    pub out_trade_no: String,
    pub transaction_id: String,
    pub out_refund_no: String,
    pub refund_id: String,
    pub refund_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_received_account: Option<String>,
    pub amount: RefundAmount,
}

/// Why a notification (or a signed response) was refused. `Display` is the human message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("signed with a WeChat Pay key serial we do not know")]
    UnknownSerial,
    #[error("signature does not verify")]
    BadSignature,
    #[error("timestamp is not a number of seconds")]
    BadTimestamp,
    #[error("timestamp is too far from the current time")]
    StaleTimestamp,
    #[error("notification body is malformed: {0}")]
    Malformed(String),
    #[error("resource is not encrypted with AEAD_AES_256_GCM")]
    UnsupportedAlgorithm,
    #[error("resource could not be decrypted")]
    DecryptFailed,
}

impl VerifyError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingHeader(_) => "MISSING_HEADER",
            Self::UnknownSerial => "UNKNOWN_SERIAL",
            Self::BadSignature => "BAD_SIGNATURE",
            Self::BadTimestamp => "BAD_TIMESTAMP",
            Self::StaleTimestamp => "STALE_TIMESTAMP",
            Self::Malformed(_) => "MALFORMED",
            Self::UnsupportedAlgorithm => "UNSUPPORTED_ALGORITHM",
            Self::DecryptFailed => "DECRYPT_FAILED",
        }
    }
}

/// The signature headers WeChat puts on notifications and API responses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationHeaders {
    pub timestamp: String,
    pub nonce: String,
    pub signature: String,
    pub serial: String,
}

impl NotificationHeaders {
    /// Picks the four `Wechatpay-*` headers out of all request headers, names compared
    /// case-insensitively (HTTP/2 lower-cases them); the first of a repeated header wins.
    pub fn from_pairs<I, K, V>(headers: I) -> Result<Self, VerifyError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        const NAMES: [&str; 4] = [
            HEADER_TIMESTAMP,
            HEADER_NONCE,
            HEADER_SIGNATURE,
            HEADER_SERIAL,
        ];
        let mut found: [Option<String>; 4] = Default::default();
        for (name, value) in headers {
            if let Some(i) = NAMES
                .iter()
                .position(|n| n.eq_ignore_ascii_case(name.as_ref().trim()))
                && found[i].is_none()
            {
                found[i] = Some(value.as_ref().trim().to_owned());
            }
        }
        let [timestamp, nonce, signature, serial] = found;
        Ok(Self {
            timestamp: timestamp.ok_or(VerifyError::MissingHeader(HEADER_TIMESTAMP))?,
            nonce: nonce.ok_or(VerifyError::MissingHeader(HEADER_NONCE))?,
            signature: signature.ok_or(VerifyError::MissingHeader(HEADER_SIGNATURE))?,
            serial: serial.ok_or(VerifyError::MissingHeader(HEADER_SERIAL))?,
        })
    }

    /// The headers to send, as WeChat sends them (with `Wechatpay-Signature-Type`).
    pub fn to_pairs(&self) -> [(&'static str, &str); 5] {
        [
            (HEADER_TIMESTAMP, &self.timestamp),
            (HEADER_NONCE, &self.nonce),
            (HEADER_SIGNATURE, &self.signature),
            (HEADER_SERIAL, &self.serial),
            (HEADER_SIGNATURE_TYPE, signature::SCHEME),
        ]
    }
}

/// Checks the signature and freshness of a WeChat-signed body (a notification or an API
/// response): the serial is known, the signature over `timestamp\nnonce\nbody\n` verifies with
/// that key, and `|now - timestamp| <= max_skew_secs`. Freshness is checked after the signature
/// so an attacker cannot learn anything from it.
pub fn verify_signed(
    headers: &NotificationHeaders,
    body: &[u8],
    platform: &PlatformKeys,
    now_unix: i64,
    max_skew_secs: i64,
) -> Result<(), VerifyError> {
    let key = platform
        .get(&headers.serial)
        .ok_or(VerifyError::UnknownSerial)?;
    let message = response_message(&headers.timestamp, &headers.nonce, body);
    verify_sha256_rsa(key, &message, &headers.signature).map_err(|_| VerifyError::BadSignature)?;
    let timestamp: i64 = headers
        .timestamp
        .parse()
        .map_err(|_| VerifyError::BadTimestamp)?;
    let max_skew = u64::try_from(max_skew_secs).unwrap_or(0);
    if now_unix.abs_diff(timestamp) > max_skew {
        return Err(VerifyError::StaleTimestamp);
    }
    Ok(())
}

/// A notification that WeChat signed, recently, and whose resource decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNotification {
    pub notification: Notification,
    /// The decrypted resource JSON ([`Transaction`] or [`RefundResource`]).
    pub plaintext: Vec<u8>,
}

impl VerifiedNotification {
    /// Parses the decrypted resource, e.g. as [`Transaction`] or [`RefundResource`].
    pub fn resource<T: DeserializeOwned>(&self) -> Result<T, VerifyError> {
        serde_json::from_slice(&self.plaintext).map_err(|e| VerifyError::Malformed(e.to_string()))
    }
}

/// Verifies a notification and opens its resource, in this order: serial known, signature,
/// timestamp within `max_skew_secs` of `now_unix`, body parses, algorithm is
/// AEAD_AES_256_GCM, resource decrypts. Nothing in the body is trusted before the signature.
pub fn verify_and_decrypt(
    headers: &NotificationHeaders,
    body: &[u8],
    platform: &PlatformKeys,
    api_key: &ApiV3Key,
    now_unix: i64,
    max_skew_secs: i64,
) -> Result<VerifiedNotification, VerifyError> {
    verify_signed(headers, body, platform, now_unix, max_skew_secs)?;
    let notification: Notification =
        serde_json::from_slice(body).map_err(|e| VerifyError::Malformed(e.to_string()))?;
    let resource = &notification.resource;
    if resource.algorithm != aead::ALGORITHM {
        return Err(VerifyError::UnsupportedAlgorithm);
    }
    let plaintext = aead::decrypt(
        api_key,
        resource.associated_data.as_deref().unwrap_or(""),
        &resource.nonce,
        &resource.ciphertext,
    )
    .map_err(|_| VerifyError::DecryptFailed)?;
    Ok(VerifiedNotification {
        notification,
        plaintext,
    })
}

/// WeChat's side of the signature, for the sandbox and tests: a key pair whose public half the
/// merchant registers in [`PlatformKeys`] under `serial`.
#[derive(Clone)]
pub struct NotificationSigner {
    pub serial: String,
    pub key: RsaPrivateKey,
}

/// `RsaPrivateKey`'s own `Debug` prints the private exponent; this one prints the serial only.
impl fmt::Debug for NotificationSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotificationSigner")
            .field("serial", &self.serial)
            .finish_non_exhaustive()
    }
}

impl NotificationSigner {
    /// The headers WeChat would put on `body` (a notification or an API response).
    pub fn sign(
        &self,
        body: &[u8],
        now_unix: i64,
        nonce: &str,
    ) -> Result<NotificationHeaders, SignatureError> {
        let timestamp = now_unix.to_string();
        let signature = sign_sha256_rsa(&self.key, &response_message(&timestamp, nonce, body))?;
        Ok(NotificationHeaders {
            timestamp,
            nonce: nonce.to_owned(),
            signature,
            serial: self.serial.clone(),
        })
    }
}

/// Why a notification could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("resource could not be encrypted: {0}")]
    Encrypt(AeadError),
    #[error("notification could not be signed: {0}")]
    Sign(SignatureError),
    #[error("notification could not be serialised")]
    Encode,
}

impl BuildError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Encrypt(_) => "ENCRYPT_FAILED",
            Self::Sign(_) => "SIGN_FAILED",
            Self::Encode => "ENCODE_FAILED",
        }
    }
}

/// Builds a notification as WeChat sends it: `plaintext_json` sealed under the APIv3 key with a
/// fresh random 12-character nonce and `original_type` ("transaction" for `TRANSACTION.*`,
/// "refund" for `REFUND.*`) as associated data, then the body signed with `nonce` at `now_unix`.
#[allow(clippy::too_many_arguments)]
pub fn build_notification(
    signer: &NotificationSigner,
    api_key: &ApiV3Key,
    id: &str,
    event_type: &str,
    resource_type: &str,
    summary: &str,
    plaintext_json: &[u8],
    create_time: &str,
    now_unix: i64,
    nonce: &str,
) -> Result<(NotificationHeaders, Vec<u8>), BuildError> {
    let original_type = event_type
        .split('.')
        .next()
        .unwrap_or(event_type)
        .to_ascii_lowercase();
    let resource_nonce = crate::random_alphanumeric(aead::NONCE_LEN);
    let ciphertext = aead::encrypt(api_key, &original_type, &resource_nonce, plaintext_json)
        .map_err(BuildError::Encrypt)?;
    let notification = Notification {
        id: id.to_owned(),
        create_time: create_time.to_owned(),
        event_type: event_type.to_owned(),
        resource_type: resource_type.to_owned(),
        summary: summary.to_owned(),
        resource: EncryptedResource {
            algorithm: aead::ALGORITHM.to_owned(),
            ciphertext,
            associated_data: Some(original_type.clone()),
            original_type,
            nonce: resource_nonce,
        },
    };
    let body = serde_json::to_vec(&notification).map_err(|_| BuildError::Encode)?;
    let headers = signer
        .sign(&body, now_unix, nonce)
        .map_err(BuildError::Sign)?;
    Ok((headers, body))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::test_support::{key_a, key_b, ok};

    const NOW: i64 = 1_717_000_000;
    const SERIAL: &str = "PUB_KEY_ID_0114232134912410000000000000";

    fn api_key() -> ApiV3Key {
        ok(ApiV3Key::parse("0123456789abcdefABCDEF0123456789"))
    }

    fn signer() -> NotificationSigner {
        NotificationSigner {
            serial: SERIAL.into(),
            key: key_a().clone(),
        }
    }

    fn platform() -> PlatformKeys {
        let mut keys = PlatformKeys::new();
        ok(keys.insert(SERIAL, key_a().to_public_key()));
        keys
    }

    /// A payment resource in the shape of WeChat's documentation (支付成功回调, 解密后).
    const TRANSACTION_JSON: &str = r#"{
        "appid": "wxd678efh567hg6787",
        "mchid": "1230000109",
        "out_trade_no": "1217752501201407033233368018",
        "transaction_id": "1217752501201407033233368018",
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "CMC",
        "attach": "",
        "success_time": "2018-06-08T10:34:56+08:00",
        "payer": {
            "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
        },
        "amount": {
            "total": 100,
            "payer_total": 100,
            "currency": "CNY",
            "payer_currency": "CNY"
        },
        "scene_info": {"device_id": "013467007045764"},
        "promotion_detail": []
    }"#;

    fn build_at(now: i64) -> (NotificationHeaders, Vec<u8>) {
        ok(build_notification(
            &signer(),
            &api_key(),
            "EV-2018022511223320873",
            "TRANSACTION.SUCCESS",
            "encrypt-resource",
            "支付成功",
            TRANSACTION_JSON.as_bytes(),
            "2015-05-20T13:29:35+08:00",
            now,
            "fdasfwewafdsafd2m3kl1f5432kj5hg4",
        ))
    }

    fn verify(
        headers: &NotificationHeaders,
        body: &[u8],
    ) -> Result<VerifiedNotification, VerifyError> {
        verify_and_decrypt(
            headers,
            body,
            &platform(),
            &api_key(),
            NOW,
            DEFAULT_MAX_SKEW_SECS,
        )
    }

    fn code(result: Result<VerifiedNotification, VerifyError>) -> &'static str {
        match result {
            Ok(_) => "OK",
            Err(e) => e.code(),
        }
    }

    /// Re-signs a body edited by `edit`, so only the later checks can catch the edit.
    fn resign(body: &[u8], edit: impl FnOnce(&mut Value)) -> (NotificationHeaders, Vec<u8>) {
        let mut value: Value = ok(serde_json::from_slice(body));
        edit(&mut value);
        let body = ok(serde_json::to_vec(&value));
        (ok(signer().sign(&body, NOW, "n2")), body)
    }

    #[test]
    fn accepts_a_built_notification() {
        let (headers, body) = build_at(NOW);
        let verified = ok(verify(&headers, &body));
        let n = &verified.notification;
        assert_eq!(n.id, "EV-2018022511223320873");
        assert_eq!(n.event_type, "TRANSACTION.SUCCESS");
        assert_eq!(n.resource_type, "encrypt-resource");
        assert_eq!(n.summary, "支付成功");
        assert_eq!(n.resource.original_type, "transaction");
        assert_eq!(n.resource.associated_data.as_deref(), Some("transaction"));
        assert_eq!(n.resource.nonce.len(), 12);
        assert_eq!(verified.plaintext, TRANSACTION_JSON.as_bytes());
        let transaction: Transaction = ok(verified.resource());
        assert_eq!(transaction.out_trade_no, "1217752501201407033233368018");
        assert_eq!(transaction.amount.total, 100);
    }

    #[test]
    fn refund_events_use_refund_type() {
        let refund = json!({
            "mchid": "1900000100",
            "transaction_id": "1008450740201411110005820873",
            "out_trade_no": "20150806125346",
            "refund_id": "50200207182018070300011301001",
            "out_refund_no": "7752501201407033233368018",
            "refund_status": "SUCCESS",
            "success_time": "2018-06-08T10:34:56+08:00",
            "user_received_account": "招商银行信用卡0403",
            "amount": {"total": 999, "refund": 999, "payer_total": 999, "payer_refund": 999}
        });
        let (headers, body) = ok(build_notification(
            &signer(),
            &api_key(),
            "EV-1",
            "REFUND.SUCCESS",
            "encrypt-resource",
            "退款成功",
            &ok(serde_json::to_vec(&refund)),
            "2018-06-08T10:34:56+08:00",
            NOW,
            "nonce",
        ));
        let verified = ok(verify(&headers, &body));
        assert_eq!(verified.notification.resource.original_type, "refund");
        let parsed: RefundResource = ok(verified.resource());
        assert_eq!(parsed.refund_status, "SUCCESS");
        assert_eq!(parsed.amount.payer_refund, 999);
        assert_eq!(
            parsed.user_received_account.as_deref(),
            Some("招商银行信用卡0403")
        );
    }

    #[test]
    fn refuses_unknown_serial() {
        let (mut headers, body) = build_at(NOW);
        headers.serial = "PUB_KEY_ID_0000000000000000000000000000".into();
        assert_eq!(code(verify(&headers, &body)), "UNKNOWN_SERIAL");
    }

    #[test]
    fn refuses_signature_from_another_key() {
        let forger = NotificationSigner {
            serial: SERIAL.into(),
            key: key_b().clone(),
        };
        let (headers, body) = ok(build_notification(
            &forger,
            &api_key(),
            "EV-1",
            "TRANSACTION.SUCCESS",
            "encrypt-resource",
            "支付成功",
            TRANSACTION_JSON.as_bytes(),
            "2015-05-20T13:29:35+08:00",
            NOW,
            "nonce",
        ));
        assert_eq!(code(verify(&headers, &body)), "BAD_SIGNATURE");
        // And the key it claims is not the one it used.
        let (mut headers, body) = build_at(NOW);
        headers.signature = "bm90IGEgc2lnbmF0dXJl".into();
        assert_eq!(code(verify(&headers, &body)), "BAD_SIGNATURE");
        headers.signature = "%%%".into();
        assert_eq!(code(verify(&headers, &body)), "BAD_SIGNATURE");
    }

    #[test]
    fn timestamp_window_is_inclusive_of_max_skew() {
        for (offset, expected) in [
            (0, "OK"),
            (299, "OK"),
            (-299, "OK"),
            (300, "OK"),
            (301, "STALE_TIMESTAMP"),
            (-301, "STALE_TIMESTAMP"),
            (86_400, "STALE_TIMESTAMP"),
        ] {
            let (headers, body) = build_at(NOW + offset);
            assert_eq!(code(verify(&headers, &body)), expected, "offset {offset}");
        }
    }

    #[test]
    fn refuses_timestamp_that_is_not_a_number_even_if_signed() {
        let body = build_at(NOW).1;
        let mut headers = ok(signer().sign(&body, NOW, "n"));
        headers.timestamp = "1717000000.5".into();
        headers.signature = ok(sign_sha256_rsa(
            key_a(),
            &response_message(&headers.timestamp, &headers.nonce, &body),
        ));
        assert_eq!(code(verify(&headers, &body)), "BAD_TIMESTAMP");
    }

    #[test]
    fn refuses_tampered_body_or_headers() {
        let (headers, body) = build_at(NOW);
        let mut tampered = body.clone();
        let at = tampered.len() / 2;
        tampered[at] ^= 0x01;
        assert_eq!(code(verify(&headers, &tampered)), "BAD_SIGNATURE");
        let mut with_newline = body.clone();
        with_newline.push(b'\n');
        assert_eq!(code(verify(&headers, &with_newline)), "BAD_SIGNATURE");
        let mut other_nonce = headers.clone();
        other_nonce.nonce.push('x');
        assert_eq!(code(verify(&other_nonce, &body)), "BAD_SIGNATURE");
        // A replay with a fresh timestamp but the old signature.
        let mut replay = headers;
        replay.timestamp = (NOW + 1).to_string();
        assert_eq!(code(verify(&replay, &body)), "BAD_SIGNATURE");
    }

    #[test]
    fn refuses_other_algorithms_even_if_signed() {
        let (_, body) = build_at(NOW);
        let (headers, body) = resign(&body, |v| {
            v["resource"]["algorithm"] = json!("AEAD_SM4_GCM");
        });
        assert_eq!(code(verify(&headers, &body)), "UNSUPPORTED_ALGORITHM");
    }

    #[test]
    fn refuses_tampered_ciphertext_even_if_signed() {
        let (_, body) = build_at(NOW);
        let (headers, body) = resign(&body, |v| {
            let text = v["resource"]["ciphertext"].as_str().unwrap_or_default();
            // Swap the first base64 character for another valid one.
            let first = if text.starts_with('A') { "B" } else { "A" };
            v["resource"]["ciphertext"] = json!(format!("{first}{}", &text[1..]));
        });
        assert_eq!(code(verify(&headers, &body)), "DECRYPT_FAILED");
        // Wrong associated data or nonce are caught the same way.
        let (_, body) = build_at(NOW);
        let (headers, body) = resign(&body, |v| {
            v["resource"]["associated_data"] = json!("refund");
        });
        assert_eq!(code(verify(&headers, &body)), "DECRYPT_FAILED");
        let (_, body) = build_at(NOW);
        let (headers, body) = resign(&body, |v| {
            v["resource"]["nonce"] = json!("short");
        });
        assert_eq!(code(verify(&headers, &body)), "DECRYPT_FAILED");
    }

    #[test]
    fn refuses_wrong_api_v3_key() {
        let (headers, body) = build_at(NOW);
        let other = ApiV3Key::from_bytes([7; 32]);
        let result = verify_and_decrypt(&headers, &body, &platform(), &other, NOW, 300);
        assert_eq!(code(result), "DECRYPT_FAILED");
    }

    #[test]
    fn refuses_signed_garbage_as_malformed() {
        let body = b"{\"id\":\"EV-1\"}".to_vec();
        let headers = ok(signer().sign(&body, NOW, "n"));
        let result = verify(&headers, &body);
        assert_eq!(code(result.clone()), "MALFORMED");
        assert!(
            result
                .err()
                .is_some_and(|e| e.to_string().starts_with("notification body is malformed")),
        );
    }

    #[test]
    fn missing_associated_data_means_empty() {
        let (_, body) = build_at(NOW);
        let (headers, body) = resign(&body, |v| {
            let sealed = ok(aead::encrypt(&api_key(), "", "abcdefghijkl", b"{}"));
            let resource = &mut v["resource"];
            resource["ciphertext"] = json!(sealed);
            resource["nonce"] = json!("abcdefghijkl");
            if let Some(map) = resource.as_object_mut() {
                map.remove("associated_data");
            }
        });
        let verified = ok(verify(&headers, &body));
        assert_eq!(verified.notification.resource.associated_data, None);
        assert_eq!(verified.plaintext, b"{}");
    }

    #[test]
    fn headers_from_pairs_case_insensitively() {
        let pairs = vec![
            ("content-type", "application/json"),
            ("wechatpay-timestamp", "1554208460"),
            ("WECHATPAY-NONCE", "c5ac7061fccab6bf3e254dcf98995b8c"),
            (
                "Wechatpay-Signature",
                "CtcbzwtQjN8rnOXItEBJ5aQFSnIXESeV28Pr2YEmf9wsDQ8Nx25ytW6FXBCAFdrr0mgqngX3AD9gNzjnNHzSGTPBSsaEkIfhPF4b8YRRTpny88tNLyprXA0GU5ID3DkZHpjFkX1hAp/D0fva2GKjGRLtvYbtUk/OLYqFuzbjt3yOBzJSKQqJsvbXILffgAmX4pKql+Ln+6UPvSCeKwznvtPaEx+9nMBmKu7Wpbqm/+2ksc0XwjD+xlvlECkCxfD/OJ4gN3IurE0fpjxIkvHDiinQmk51BI7zQD8k1znU7r/spPqB+vZjc5ep6DC5wZUpFu5vJ8MoNKjCu8wnzyCFdA==",
            ),
            (
                "Wechatpay-Serial",
                "PUB_KEY_ID_0114232134912410000000000000",
            ),
            ("wechatpay-timestamp", "1"),
        ];
        let headers = ok(NotificationHeaders::from_pairs(pairs));
        assert_eq!(headers.timestamp, "1554208460");
        assert_eq!(headers.nonce, "c5ac7061fccab6bf3e254dcf98995b8c");
        assert_eq!(headers.serial, "PUB_KEY_ID_0114232134912410000000000000");
        let round = ok(NotificationHeaders::from_pairs(headers.to_pairs()));
        assert_eq!(round, headers);
    }

    #[test]
    fn missing_headers_are_named() {
        let all = [
            (HEADER_TIMESTAMP, "1"),
            (HEADER_NONCE, "n"),
            (HEADER_SIGNATURE, "s"),
            (HEADER_SERIAL, "S"),
        ];
        for skip in 0..all.len() {
            let pairs = all
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, p)| *p);
            let err = NotificationHeaders::from_pairs(pairs).err();
            assert_eq!(err, Some(VerifyError::MissingHeader(all[skip].0)));
            assert_eq!(err.map(|e| e.code()), Some("MISSING_HEADER"));
        }
    }

    #[test]
    fn documented_transaction_parses() {
        let t: Transaction = ok(serde_json::from_str(TRANSACTION_JSON));
        assert_eq!(
            t,
            Transaction {
                appid: "wxd678efh567hg6787".into(),
                mchid: "1230000109".into(),
                out_trade_no: "1217752501201407033233368018".into(),
                transaction_id: Some("1217752501201407033233368018".into()),
                trade_type: Some("JSAPI".into()),
                trade_state: "SUCCESS".into(),
                trade_state_desc: "支付成功".into(),
                bank_type: Some("CMC".into()),
                attach: String::new(),
                success_time: Some("2018-06-08T10:34:56+08:00".into()),
                payer: Some(Payer {
                    openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into()
                }),
                amount: TransactionAmount {
                    total: 100,
                    payer_total: Some(100),
                    currency: "CNY".into(),
                    payer_currency: Some("CNY".into()),
                },
            }
        );
    }

    #[test]
    fn unpaid_query_answer_parses_without_payment_fields() {
        let t: Transaction = ok(serde_json::from_str(
            r#"{"appid":"wxd678efh567hg6787","mchid":"1230000109",
                "out_trade_no":"1217752501201407033233368018","trade_state":"NOTPAY",
                "trade_state_desc":"订单未支付","amount":{"total":100,"currency":"CNY"}}"#,
        ));
        assert_eq!(t.trade_state, "NOTPAY");
        assert_eq!(t.transaction_id, None);
        assert_eq!(t.payer, None);
        assert_eq!(t.amount.payer_total, None);
        // Serialising leaves the absent fields out, as WeChat does.
        let value = ok(serde_json::to_value(&t));
        assert_eq!(value.get("transaction_id"), None);
    }

    #[test]
    fn error_codes_are_stable() {
        let all = [
            VerifyError::MissingHeader(HEADER_NONCE),
            VerifyError::UnknownSerial,
            VerifyError::BadSignature,
            VerifyError::BadTimestamp,
            VerifyError::StaleTimestamp,
            VerifyError::Malformed("x".into()),
            VerifyError::UnsupportedAlgorithm,
            VerifyError::DecryptFailed,
        ];
        let codes: Vec<_> = all.iter().map(VerifyError::code).collect();
        assert_eq!(
            codes,
            [
                "MISSING_HEADER",
                "UNKNOWN_SERIAL",
                "BAD_SIGNATURE",
                "BAD_TIMESTAMP",
                "STALE_TIMESTAMP",
                "MALFORMED",
                "UNSUPPORTED_ALGORITHM",
                "DECRYPT_FAILED"
            ]
        );
        assert_eq!(
            VerifyError::MissingHeader(HEADER_NONCE).to_string(),
            "missing header Wechatpay-Nonce"
        );
    }
}
