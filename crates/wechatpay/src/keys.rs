//! The three kinds of key in WeChat Pay API v3: the merchant's RSA private key (signs our
//! requests and the mini-program's `paySign`), WeChat's RSA public keys by serial (verify
//! responses and notifications), and the 32-byte APIv3 key (decrypts notification resources).

use std::collections::HashMap;
use std::fmt;

use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::rand_core::CryptoRngCore;
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};

/// The scheme is `…-RSA2048`; anything weaker is a misconfiguration, not a key to use.
pub const MIN_RSA_BITS: usize = 2048;

/// Length of the APIv3 key the merchant platform issues.
pub const API_V3_KEY_LEN: usize = 32;

/// What can go wrong loading, generating or exporting keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("PEM block is not {expected}")]
    UnsupportedPem { expected: &'static str },
    #[error("private key could not be decoded: {0}")]
    InvalidPrivateKey(String),
    #[error("public key could not be decoded: {0}")]
    InvalidPublicKey(String),
    #[error("RSA key has {bits} bits; at least 2048 are required")]
    TooSmall { bits: usize },
    #[error("key serial must be non-empty ASCII letters, digits or '_'")]
    InvalidSerial,
    #[error("APIv3 key must be exactly 32 printable ASCII characters")]
    InvalidApiV3Key,
    #[error("RSA key generation failed")]
    GenerationFailed,
    #[error("key could not be encoded as PEM")]
    EncodingFailed,
}

impl KeyError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnsupportedPem { .. } => "UNSUPPORTED_PEM",
            Self::InvalidPrivateKey(_) => "INVALID_PRIVATE_KEY",
            Self::InvalidPublicKey(_) => "INVALID_PUBLIC_KEY",
            Self::TooSmall { .. } => "KEY_TOO_SMALL",
            Self::InvalidSerial => "INVALID_SERIAL",
            Self::InvalidApiV3Key => "INVALID_API_V3_KEY",
            Self::GenerationFailed => "KEY_GENERATION_FAILED",
            Self::EncodingFailed => "KEY_ENCODING_FAILED",
        }
    }
}

/// The label of the first PEM block (`PRIVATE KEY`, `RSA PUBLIC KEY`…), to pick the decoder
/// and to give a precise error for e.g. a certificate pasted where a key belongs.
fn pem_label(pem: &str) -> Option<&str> {
    let rest = pem.trim_start().strip_prefix("-----BEGIN ")?;
    let end = rest.find("-----")?;
    Some(&rest[..end])
}

/// Serials go verbatim into the `Authorization` header and are map keys, so only the characters
/// WeChat uses (hex certificate serials, `PUB_KEY_ID_…`) are accepted.
fn check_serial(serial: &str) -> Result<(), KeyError> {
    if !serial.is_empty()
        && serial
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        Ok(())
    } else {
        Err(KeyError::InvalidSerial)
    }
}

fn check_size(key: &impl PublicKeyParts) -> Result<(), KeyError> {
    let bits = key.n().bits();
    if bits < MIN_RSA_BITS {
        return Err(KeyError::TooSmall { bits });
    }
    Ok(())
}

/// The merchant's API certificate key (`apiclient_key.pem`) with its certificate serial, which
/// every signed request names in `serial_no`.
#[derive(Clone)]
pub struct MerchantKey {
    pub serial: String,
    pub key: RsaPrivateKey,
}

/// `RsaPrivateKey`'s own `Debug` prints the private exponent; this one prints the serial only.
impl fmt::Debug for MerchantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MerchantKey")
            .field("serial", &self.serial)
            .finish_non_exhaustive()
    }
}

impl MerchantKey {
    /// Wraps a key already in memory (the sandbox's generated one), with the same checks as PEM.
    pub fn new(serial: impl Into<String>, key: RsaPrivateKey) -> Result<Self, KeyError> {
        let serial = serial.into();
        check_serial(&serial)?;
        check_size(&key)?;
        Ok(Self { serial, key })
    }

    /// Reads PKCS#8 (`PRIVATE KEY`, what WeChat's `apiclient_key.pem` is) or PKCS#1
    /// (`RSA PRIVATE KEY`, what older OpenSSL writes). Encrypted PEMs are refused.
    pub fn from_pem(serial: impl Into<String>, pem: &str) -> Result<Self, KeyError> {
        let pem = pem.trim();
        let key = match pem_label(pem) {
            Some("PRIVATE KEY") => RsaPrivateKey::from_pkcs8_pem(pem)
                .map_err(|e| KeyError::InvalidPrivateKey(e.to_string()))?,
            Some("RSA PRIVATE KEY") => RsaPrivateKey::from_pkcs1_pem(pem)
                .map_err(|e| KeyError::InvalidPrivateKey(e.to_string()))?,
            _ => {
                return Err(KeyError::UnsupportedPem {
                    expected: "an unencrypted PRIVATE KEY or RSA PRIVATE KEY",
                });
            }
        };
        Self::new(serial, key)
    }
}

/// WeChat Pay's public keys by serial (`Wechatpay-Serial`): the 微信支付公钥 (`PUB_KEY_ID_…`)
/// and/or platform certificates' keys, several at once while WeChat rotates them.
#[derive(Debug, Clone, Default)]
pub struct PlatformKeys {
    keys: HashMap<String, RsaPublicKey>,
}

impl PlatformKeys {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the key for `serial`.
    pub fn insert(&mut self, serial: impl Into<String>, key: RsaPublicKey) -> Result<(), KeyError> {
        let serial = serial.into();
        check_serial(&serial)?;
        check_size(&key)?;
        self.keys.insert(serial, key);
        Ok(())
    }

    /// Reads SPKI (`PUBLIC KEY`, what WeChat's `pub_key.pem` is) or PKCS#1 (`RSA PUBLIC KEY`).
    pub fn insert_pem(&mut self, serial: impl Into<String>, pem: &str) -> Result<(), KeyError> {
        let pem = pem.trim();
        let key = match pem_label(pem) {
            Some("PUBLIC KEY") => RsaPublicKey::from_public_key_pem(pem)
                .map_err(|e| KeyError::InvalidPublicKey(e.to_string()))?,
            Some("RSA PUBLIC KEY") => RsaPublicKey::from_pkcs1_pem(pem)
                .map_err(|e| KeyError::InvalidPublicKey(e.to_string()))?,
            _ => {
                return Err(KeyError::UnsupportedPem {
                    expected: "a PUBLIC KEY or RSA PUBLIC KEY",
                });
            }
        };
        self.insert(serial, key)
    }

    pub fn get(&self, serial: &str) -> Option<&RsaPublicKey> {
        self.keys.get(serial)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// The APIv3 key (APIv3密钥): the AES-256-GCM key of notification resources.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiV3Key([u8; API_V3_KEY_LEN]);

/// Never printed: it decrypts every notification.
impl fmt::Debug for ApiV3Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiV3Key(..)")
    }
}

impl ApiV3Key {
    /// Any 32 bytes (the sandbox and tests); real keys come through [`ApiV3Key::parse`].
    pub fn from_bytes(bytes: [u8; API_V3_KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// The key as configured: exactly 32 printable ASCII characters (the platform issues
    /// letters and digits), used as raw bytes. No trimming, so a stray space or newline from a
    /// secrets file is an error rather than a silently different key.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(KeyError::InvalidApiV3Key);
        }
        let bytes: [u8; API_V3_KEY_LEN] = text
            .as_bytes()
            .try_into()
            .map_err(|_| KeyError::InvalidApiV3Key)?;
        Ok(Self(bytes))
    }

    pub(crate) fn as_bytes(&self) -> &[u8; API_V3_KEY_LEN] {
        &self.0
    }
}

/// A fresh RSA-2048 key pair, for the sandbox's fake WeChat keys and for tests.
pub fn generate_rsa_2048<R: CryptoRngCore + ?Sized>(
    rng: &mut R,
) -> Result<RsaPrivateKey, KeyError> {
    RsaPrivateKey::new(rng, 2048).map_err(|_| KeyError::GenerationFailed)
}

/// PKCS#8 PEM (`PRIVATE KEY`), the format of `apiclient_key.pem`.
pub fn private_key_pem(key: &RsaPrivateKey) -> Result<String, KeyError> {
    key.to_pkcs8_pem(LineEnding::LF)
        .map(|pem| pem.as_str().to_owned())
        .map_err(|_| KeyError::EncodingFailed)
}

/// SPKI PEM (`PUBLIC KEY`), the format of WeChat's `pub_key.pem`.
pub fn public_key_pem(key: &RsaPublicKey) -> Result<String, KeyError> {
    key.to_public_key_pem(LineEnding::LF)
        .map_err(|_| KeyError::EncodingFailed)
}

#[cfg(test)]
mod tests {
    use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};

    use super::*;
    use crate::test_support::{key_a, ok};

    #[test]
    fn merchant_key_from_pkcs8_and_pkcs1() {
        let pkcs8 = ok(private_key_pem(key_a()));
        assert!(pkcs8.starts_with("-----BEGIN PRIVATE KEY-----"));
        let pkcs1 = ok(key_a().to_pkcs1_pem(LineEnding::CRLF))
            .as_str()
            .to_owned();
        assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        for pem in [
            pkcs8,
            pkcs1,
            format!("\n  {}\n", ok(private_key_pem(key_a()))),
        ] {
            let loaded = ok(MerchantKey::from_pem(
                "5157F09EFDC096DE15EBE81A47057A72",
                &pem,
            ));
            assert_eq!(&loaded.key, key_a());
            assert_eq!(loaded.serial, "5157F09EFDC096DE15EBE81A47057A72");
        }
    }

    #[test]
    fn platform_key_from_spki_and_pkcs1() {
        let public = key_a().to_public_key();
        let spki = ok(public_key_pem(&public));
        assert!(spki.starts_with("-----BEGIN PUBLIC KEY-----"));
        let pkcs1 = ok(public.to_pkcs1_pem(LineEnding::LF));
        assert!(pkcs1.starts_with("-----BEGIN RSA PUBLIC KEY-----"));
        let mut keys = PlatformKeys::new();
        ok(keys.insert_pem("PUB_KEY_ID_0114232134912410000000000000", &spki));
        ok(keys.insert_pem("7132D72A03E93CDDF8C03BBD1F37EEDF", &pkcs1));
        assert_eq!(keys.len(), 2);
        assert_eq!(
            keys.get("PUB_KEY_ID_0114232134912410000000000000"),
            Some(&public)
        );
        assert_eq!(keys.get("7132D72A03E93CDDF8C03BBD1F37EEDF"), Some(&public));
        assert_eq!(keys.get("unknown"), None);
    }

    #[test]
    fn wrong_pem_kinds_are_refused() {
        let spki = ok(public_key_pem(&key_a().to_public_key()));
        let private = ok(private_key_pem(key_a()));
        let err = MerchantKey::from_pem("S1", &spki).err();
        assert_eq!(err.as_ref().map(KeyError::code), Some("UNSUPPORTED_PEM"));
        let mut keys = PlatformKeys::new();
        let err = keys.insert_pem("S1", &private).err();
        assert_eq!(err.as_ref().map(KeyError::code), Some("UNSUPPORTED_PEM"));
        let garbled = private.replacen("MII", "MIJ", 1);
        let err = MerchantKey::from_pem("S1", &garbled).err();
        assert_eq!(
            err.as_ref().map(KeyError::code),
            Some("INVALID_PRIVATE_KEY")
        );
        assert!(keys.is_empty());
    }

    #[test]
    fn bad_serials_are_refused() {
        for serial in ["", "a\"b", "a,b", "序列号"] {
            let err = MerchantKey::new(serial, key_a().clone()).err();
            assert_eq!(err, Some(KeyError::InvalidSerial), "{serial:?}");
        }
    }

    #[test]
    fn small_keys_are_refused() {
        let small = ok(RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024));
        let err = MerchantKey::new("S1", small.clone()).err();
        assert_eq!(err, Some(KeyError::TooSmall { bits: 1024 }));
        let err = PlatformKeys::new()
            .insert("S1", small.to_public_key())
            .err();
        assert_eq!(err.as_ref().map(KeyError::code), Some("KEY_TOO_SMALL"));
    }

    #[test]
    fn api_v3_key_must_be_32_ascii_bytes() {
        let key = ok(ApiV3Key::parse("0123456789abcdefABCDEF0123456789"));
        assert_eq!(key.as_bytes(), b"0123456789abcdefABCDEF0123456789");
        for bad in [
            "0123456789abcdefABCDEF012345678",
            "0123456789abcdefABCDEF0123456789X",
            "0123456789abcdefABCDEF012345678\n",
            " 0123456789abcdefABCDEF012345678",
            "0123456789abcdefABCDEF01234567é",
            "",
        ] {
            assert_eq!(
                ApiV3Key::parse(bad),
                Err(KeyError::InvalidApiV3Key),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn secrets_are_not_debug_printed() {
        let api = ok(ApiV3Key::parse("0123456789abcdefABCDEF0123456789"));
        assert_eq!(format!("{api:?}"), "ApiV3Key(..)");
        let merchant = ok(MerchantKey::new("S1", key_a().clone()));
        let printed = format!("{merchant:?}");
        assert!(printed.contains("S1"));
        assert!(!printed.contains("BigUint"), "{printed}");
        assert!(printed.len() < 64, "{printed}");
    }
}
