//! SHA256-RSA2048 signatures as WeChat Pay API v3 uses them: the merchant signs each request
//! (`Authorization` header) and the mini-program's `paySign`; WeChat signs each response and
//! notification (`Wechatpay-Signature`). Each signed message is newline-terminated lines.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::{Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};

use crate::keys::MerchantKey;

/// The `Authorization` scheme (and `Wechatpay-Signature-Type`) of API v3.
pub const SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// Length of [`new_nonce`]; WeChat accepts up to 32.
pub const NONCE_LEN: usize = 32;

/// What can go wrong producing or checking a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("signature is not valid base64")]
    NotBase64,
    #[error("signature does not match the message and key")]
    Mismatch,
    #[error("the key cannot produce a SHA256-RSA signature")]
    SignFailed,
}

impl SignatureError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotBase64 => "SIGNATURE_NOT_BASE64",
            Self::Mismatch => "BAD_SIGNATURE",
            Self::SignFailed => "SIGN_FAILED",
        }
    }
}

/// Base64 of the RSASSA-PKCS1-v1_5 SHA-256 signature of `message`.
///
/// Fallible only because a key that was not checked by [`MerchantKey::new`] may be too small or
/// inconsistent. Blinded (random) so the private-key operation's timing does not follow the key.
pub fn sign_sha256_rsa(key: &RsaPrivateKey, message: &[u8]) -> Result<String, SignatureError> {
    let digest = Sha256::digest(message);
    let signature = key
        .sign_with_rng(
            &mut rand::rngs::OsRng,
            Pkcs1v15Sign::new::<Sha256>(),
            &digest,
        )
        .map_err(|_| SignatureError::SignFailed)?;
    Ok(STANDARD.encode(signature))
}

/// Checks a base64 RSASSA-PKCS1-v1_5 SHA-256 signature of `message`.
pub fn verify_sha256_rsa(
    key: &RsaPublicKey,
    message: &[u8],
    signature_b64: &str,
) -> Result<(), SignatureError> {
    let signature = STANDARD
        .decode(signature_b64)
        .map_err(|_| SignatureError::NotBase64)?;
    let digest = Sha256::digest(message);
    key.verify(Pkcs1v15Sign::new::<Sha256>(), &digest, &signature)
        .map_err(|_| SignatureError::Mismatch)
}

/// The message a merchant request signs: `METHOD\nURL\ntimestamp\nnonce\nbody\n`, where URL is
/// the absolute path with query string exactly as sent, and body is empty for GET.
pub fn request_message(
    method: &str,
    path_and_query: &str,
    timestamp: &str,
    nonce: &str,
    body: &str,
) -> String {
    format!("{method}\n{path_and_query}\n{timestamp}\n{nonce}\n{body}\n")
}

/// The message WeChat signs on responses and notifications: `timestamp\nnonce\nbody\n`.
/// Bytes, because it must be checked over the body exactly as received, before any parsing.
pub fn response_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
    message.extend_from_slice(timestamp.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(nonce.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(body);
    message.push(b'\n');
    message
}

/// The `Authorization` header value of a merchant request; `timestamp` is Unix seconds.
pub fn authorization_header(
    mchid: &str,
    key: &MerchantKey,
    method: &str,
    path_and_query: &str,
    timestamp: i64,
    nonce: &str,
    body: &str,
) -> Result<String, SignatureError> {
    let timestamp = timestamp.to_string();
    let message = request_message(method, path_and_query, &timestamp, nonce, body);
    let signature = sign_sha256_rsa(&key.key, message.as_bytes())?;
    Ok(format!(
        "{SCHEME} mchid=\"{mchid}\",nonce_str=\"{nonce}\",signature=\"{signature}\",\
         timestamp=\"{timestamp}\",serial_no=\"{}\"",
        key.serial
    ))
}

/// The five parameters of a merchant `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationFields {
    pub mchid: String,
    pub nonce_str: String,
    pub signature: String,
    pub timestamp: String,
    pub serial_no: String,
}

impl AuthorizationFields {
    /// What the header's signature covers, given the rest of the request.
    pub fn message(&self, method: &str, path_and_query: &str, body: &str) -> String {
        request_message(
            method,
            path_and_query,
            &self.timestamp,
            &self.nonce_str,
            body,
        )
    }
}

/// Why an `Authorization` header could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizationError {
    #[error("authorization scheme is not WECHATPAY2-SHA256-RSA2048")]
    WrongScheme,
    #[error("authorization header lacks {0}")]
    MissingField(&'static str),
    #[error("authorization header repeats {0}")]
    DuplicateField(&'static str),
    #[error("authorization header is not a list of name=\"value\" pairs")]
    Malformed,
}

impl AuthorizationError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::WrongScheme => "WRONG_SCHEME",
            Self::MissingField(_) => "MISSING_FIELD",
            Self::DuplicateField(_) => "DUPLICATE_FIELD",
            Self::Malformed => "MALFORMED_AUTHORIZATION",
        }
    }
}

const AUTH_FIELDS: [&str; 5] = ["mchid", "nonce_str", "signature", "timestamp", "serial_no"];

/// Reads a merchant `Authorization` header (for the sandbox that plays WeChat). Parameters may
/// come in any order, quoted or not; unknown ones are ignored; each known one must appear once,
/// non-empty. Verifying the signature is left to the caller, who has the key and the request.
pub fn parse_authorization_header(header: &str) -> Result<AuthorizationFields, AuthorizationError> {
    let header = header.trim();
    let (scheme, mut rest) = header
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case(SCHEME) {
        return Err(AuthorizationError::WrongScheme);
    }
    let mut values: [Option<&str>; 5] = [None; 5];
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_ascii_whitespace());
        if rest.is_empty() {
            break;
        }
        let (name, after) = rest.split_once('=').ok_or(AuthorizationError::Malformed)?;
        let after = after.trim_start();
        let (value, next) = match after.strip_prefix('"') {
            Some(quoted) => quoted
                .split_once('"')
                .ok_or(AuthorizationError::Malformed)?,
            None => after.split_at(after.find(',').unwrap_or(after.len())),
        };
        rest = next.trim_start();
        if !(rest.is_empty() || rest.starts_with(',')) {
            return Err(AuthorizationError::Malformed);
        }
        let name = name.trim();
        if let Some(i) = AUTH_FIELDS
            .iter()
            .position(|f| f.eq_ignore_ascii_case(name))
        {
            if values[i].is_some() {
                return Err(AuthorizationError::DuplicateField(AUTH_FIELDS[i]));
            }
            values[i] = Some(value.trim());
        }
    }
    let mut take = |i: usize| match values[i].take() {
        Some(v) if !v.is_empty() => Ok(v.to_owned()),
        _ => Err(AuthorizationError::MissingField(AUTH_FIELDS[i])),
    };
    Ok(AuthorizationFields {
        mchid: take(0)?,
        nonce_str: take(1)?,
        signature: take(2)?,
        timestamp: take(3)?,
        serial_no: take(4)?,
    })
}

/// The message of the mini-program's `paySign`: `appId\ntimeStamp\nnonceStr\npackage\n`.
pub fn pay_sign_message(app_id: &str, time_stamp: &str, nonce_str: &str, package: &str) -> String {
    format!("{app_id}\n{time_stamp}\n{nonce_str}\n{package}\n")
}

/// `paySign` for `wx.requestPayment` (signType `RSA`); `package` is `prepay_id=…`.
pub fn pay_sign(
    key: &MerchantKey,
    app_id: &str,
    time_stamp: &str,
    nonce_str: &str,
    package: &str,
) -> Result<String, SignatureError> {
    let message = pay_sign_message(app_id, time_stamp, nonce_str, package);
    sign_sha256_rsa(&key.key, message.as_bytes())
}

/// A request nonce: 32 random ASCII letters and digits.
pub fn new_nonce() -> String {
    crate::random_alphanumeric(NONCE_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{key_a, key_b, merchant_a, ok};

    const MCHID: &str = "1900009191";
    const PATH: &str = "/v3/pay/transactions/jsapi";
    const BODY: &str = r#"{"appid":"wxd678efh567hg6787","mchid":"1900009191"}"#;

    fn header() -> String {
        ok(authorization_header(
            MCHID,
            merchant_a(),
            "POST",
            PATH,
            1_554_208_460,
            "593BEC0C930BF1AFEB40B4A08C8FB242",
            BODY,
        ))
    }

    #[test]
    fn request_message_layout() {
        assert_eq!(
            request_message("GET", "/v3/certificates", "1554208460", "N", ""),
            "GET\n/v3/certificates\n1554208460\nN\n\n"
        );
        assert_eq!(response_message("1", "n", b"{}"), b"1\nn\n{}\n");
    }

    #[test]
    fn authorization_header_round_trip() {
        let header = header();
        assert!(header.starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1900009191\",nonce_str="));
        let fields = ok(parse_authorization_header(&header));
        assert_eq!(fields.mchid, MCHID);
        assert_eq!(fields.nonce_str, "593BEC0C930BF1AFEB40B4A08C8FB242");
        assert_eq!(fields.timestamp, "1554208460");
        assert_eq!(fields.serial_no, merchant_a().serial);
        let message = fields.message("POST", PATH, BODY);
        let public = key_a().to_public_key();
        assert_eq!(
            verify_sha256_rsa(&public, message.as_bytes(), &fields.signature),
            Ok(())
        );
        // Another key, another method or path: no.
        let other = key_b().to_public_key();
        assert_eq!(
            verify_sha256_rsa(&other, message.as_bytes(), &fields.signature),
            Err(SignatureError::Mismatch)
        );
        let get = fields.message("GET", PATH, BODY);
        assert_eq!(
            verify_sha256_rsa(&public, get.as_bytes(), &fields.signature),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn flipped_body_byte_fails_verification() {
        let fields = ok(parse_authorization_header(&header()));
        let mut body = BODY.as_bytes().to_vec();
        body[10] ^= 0x01;
        let body = ok(String::from_utf8(body));
        assert_ne!(body, BODY);
        let message = fields.message("POST", PATH, &body);
        assert_eq!(
            verify_sha256_rsa(
                &key_a().to_public_key(),
                message.as_bytes(),
                &fields.signature
            ),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn signature_must_be_base64() {
        let err = verify_sha256_rsa(&key_a().to_public_key(), b"m", "not base64!");
        assert_eq!(err, Err(SignatureError::NotBase64));
        assert_eq!(SignatureError::NotBase64.code(), "SIGNATURE_NOT_BASE64");
    }

    #[test]
    fn header_fields_in_any_order_with_spaces() {
        let header = r#"wechatpay2-sha256-rsa2048  serial_no="S1", timestamp="1", signature="c2ln",nonce_str=N, mchid="1", extra="x""#;
        let fields = ok(parse_authorization_header(header));
        assert_eq!(
            fields,
            AuthorizationFields {
                mchid: "1".into(),
                nonce_str: "N".into(),
                signature: "c2ln".into(),
                timestamp: "1".into(),
                serial_no: "S1".into(),
            }
        );
    }

    #[test]
    fn bad_headers_are_refused() {
        let full = header();
        let cases: [(String, AuthorizationError); 7] = [
            (
                full.replacen("WECHATPAY2-SHA256-RSA2048", "Bearer", 1),
                AuthorizationError::WrongScheme,
            ),
            (String::new(), AuthorizationError::WrongScheme),
            (
                "WECHATPAY2-SHA256-RSA2048".into(),
                AuthorizationError::MissingField("mchid"),
            ),
            (
                full.replacen("serial_no=", "serial=", 1),
                AuthorizationError::MissingField("serial_no"),
            ),
            (
                full.replacen("nonce_str=\"", "nonce_str=\"\",x=\"", 1),
                AuthorizationError::MissingField("nonce_str"),
            ),
            (
                format!("{full},mchid=\"2\""),
                AuthorizationError::DuplicateField("mchid"),
            ),
            (
                full.replacen(",nonce_str", " nonce_str", 1),
                AuthorizationError::Malformed,
            ),
        ];
        for (header, expected) in cases {
            assert_eq!(
                parse_authorization_header(&header),
                Err(expected),
                "{header}"
            );
        }
        assert_eq!(
            parse_authorization_header("WECHATPAY2-SHA256-RSA2048 mchid=\"1").err(),
            Some(AuthorizationError::Malformed)
        );
    }

    #[test]
    fn pay_sign_verifies_over_documented_message() {
        let (app_id, time_stamp, nonce, package) = (
            "wx8888888888888888",
            "1414561699",
            "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
            "prepay_id=wx201410272009395522657a690389285100",
        );
        let sign = ok(pay_sign(merchant_a(), app_id, time_stamp, nonce, package));
        let message = format!("{app_id}\n{time_stamp}\n{nonce}\n{package}\n");
        let public = key_a().to_public_key();
        assert_eq!(
            verify_sha256_rsa(&public, message.as_bytes(), &sign),
            Ok(())
        );
        let other_package = format!("{app_id}\n{time_stamp}\n{nonce}\nprepay_id=x\n");
        assert_eq!(
            verify_sha256_rsa(&public, other_package.as_bytes(), &sign),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn signing_is_deterministic_pkcs1_v15() {
        // PKCS#1 v1.5 has no randomness: blinding must not change the output.
        let a = ok(sign_sha256_rsa(key_a(), b"message"));
        let b = ok(sign_sha256_rsa(key_a(), b"message"));
        assert_eq!(a, b);
        assert_eq!(ok(STANDARD.decode(&a)).len(), 256);
    }

    #[test]
    fn nonces_are_32_alphanumerics_and_differ() {
        let a = new_nonce();
        let b = new_nonce();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
