//! AEAD_AES_256_GCM as WeChat Pay uses it for notification resources: the APIv3 key as the AES
//! key, a 12-character nonce string used as the raw 96-bit IV, the associated data string as
//! AAD, and base64(ciphertext ‖ 16-byte tag).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::keys::ApiV3Key;

/// The `algorithm` value of encrypted resources.
pub const ALGORITHM: &str = "AEAD_AES_256_GCM";

/// Nonce length in bytes (GCM's 96-bit IV).
pub const NONCE_LEN: usize = 12;

/// GCM tag length, appended to the ciphertext.
pub const TAG_LEN: usize = 16;

/// What can go wrong sealing or opening a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AeadError {
    #[error("AEAD nonce must be 12 bytes")]
    BadNonce,
    #[error("ciphertext is not valid base64")]
    BadBase64,
    #[error("ciphertext failed authentication (tampered, wrong key or wrong associated data)")]
    DecryptFailed,
    #[error("plaintext too long to encrypt")]
    TooLong,
}

impl AeadError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadNonce => "BAD_NONCE",
            Self::BadBase64 => "BAD_BASE64",
            Self::DecryptFailed => "DECRYPT_FAILED",
            Self::TooLong => "PLAINTEXT_TOO_LONG",
        }
    }
}

fn cipher_and_nonce<'n>(
    key: &ApiV3Key,
    nonce: &'n str,
) -> Result<(Aes256Gcm, &'n Nonce<aes_gcm::aead::consts::U12>), AeadError> {
    if nonce.len() != NONCE_LEN {
        return Err(AeadError::BadNonce);
    }
    let cipher = Aes256Gcm::new(key.as_bytes().into());
    Ok((cipher, Nonce::from_slice(nonce.as_bytes())))
}

/// Opens a resource: `ciphertext_b64` is standard base64 of ciphertext followed by the tag.
pub fn decrypt(
    key: &ApiV3Key,
    associated_data: &str,
    nonce: &str,
    ciphertext_b64: &str,
) -> Result<Vec<u8>, AeadError> {
    let (cipher, nonce) = cipher_and_nonce(key, nonce)?;
    let sealed = STANDARD
        .decode(ciphertext_b64)
        .map_err(|_| AeadError::BadBase64)?;
    if sealed.len() < TAG_LEN {
        return Err(AeadError::DecryptFailed);
    }
    cipher
        .decrypt(
            nonce,
            Payload {
                msg: &sealed,
                aad: associated_data.as_bytes(),
            },
        )
        .map_err(|_| AeadError::DecryptFailed)
}

/// Seals a resource the way WeChat does (for the sandbox and tests). The caller must never
/// reuse a nonce under the same key.
pub fn encrypt(
    key: &ApiV3Key,
    associated_data: &str,
    nonce: &str,
    plaintext: &[u8],
) -> Result<String, AeadError> {
    let (cipher, nonce) = cipher_and_nonce(key, nonce)?;
    let sealed = cipher
        .encrypt(
            nonce,
            Payload {
                msg: plaintext,
                aad: associated_data.as_bytes(),
            },
        )
        .map_err(|_| AeadError::TooLong)?;
    Ok(STANDARD.encode(sealed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::ok;

    const NONCE: &str = "fdasflkja484";
    const AAD: &str = "transaction";
    const PLAIN: &[u8] =
        br#"{"out_trade_no":"1217752501201407033233368018","amount":{"total":100}}"#;

    fn key(seed: u8) -> ApiV3Key {
        ApiV3Key::from_bytes([seed; 32])
    }

    #[test]
    fn round_trip() {
        for plain in [PLAIN, b"".as_slice(), "支付成功".as_bytes()] {
            let sealed = ok(encrypt(&key(1), AAD, NONCE, plain));
            assert_eq!(ok(STANDARD.decode(&sealed)).len(), plain.len() + TAG_LEN);
            assert_eq!(ok(decrypt(&key(1), AAD, NONCE, &sealed)), plain);
        }
    }

    #[test]
    fn empty_associated_data_round_trips() {
        let sealed = ok(encrypt(&key(1), "", NONCE, PLAIN));
        assert_eq!(ok(decrypt(&key(1), "", NONCE, &sealed)), PLAIN);
    }

    #[test]
    fn matches_aes_gcm_test_vector() {
        // NIST GCM test case 13 (256-bit zero key, zero IV, empty plaintext): the tag alone. The
        // 12-character nonce string is used as raw bytes, so a NUL string stands for zero IV.
        let zero_nonce = "\0".repeat(12);
        let sealed = ok(encrypt(&key(0), "", &zero_nonce, b""));
        let tag = ok(STANDARD.decode(&sealed));
        assert_eq!(
            tag,
            [
                0x53, 0x0f, 0x8a, 0xfb, 0xc7, 0x45, 0x36, 0xb9, 0xa9, 0x63, 0xb4, 0xf1, 0xc4, 0xcb,
                0x73, 0x8b
            ]
        );
    }

    #[test]
    fn tampered_ciphertext_fails() {
        let sealed = ok(encrypt(&key(1), AAD, NONCE, PLAIN));
        let mut raw = ok(STANDARD.decode(&sealed));
        raw[3] ^= 0x80;
        let tampered = STANDARD.encode(&raw);
        assert_eq!(
            decrypt(&key(1), AAD, NONCE, &tampered),
            Err(AeadError::DecryptFailed)
        );
        // The tag itself, too.
        let mut raw = ok(STANDARD.decode(&sealed));
        let last = raw.len() - 1;
        raw[last] ^= 0x01;
        assert_eq!(
            decrypt(&key(1), AAD, NONCE, &STANDARD.encode(&raw)),
            Err(AeadError::DecryptFailed)
        );
    }

    #[test]
    fn wrong_associated_data_fails() {
        let sealed = ok(encrypt(&key(1), AAD, NONCE, PLAIN));
        assert_eq!(
            decrypt(&key(1), "refund", NONCE, &sealed),
            Err(AeadError::DecryptFailed)
        );
        assert_eq!(
            decrypt(&key(1), "", NONCE, &sealed),
            Err(AeadError::DecryptFailed)
        );
    }

    #[test]
    fn wrong_key_or_nonce_fails() {
        let sealed = ok(encrypt(&key(1), AAD, NONCE, PLAIN));
        assert_eq!(
            decrypt(&key(2), AAD, NONCE, &sealed),
            Err(AeadError::DecryptFailed)
        );
        assert_eq!(
            decrypt(&key(1), AAD, "fdasflkja485", &sealed),
            Err(AeadError::DecryptFailed)
        );
    }

    #[test]
    fn nonce_must_be_12_bytes() {
        let sealed = ok(encrypt(&key(1), AAD, NONCE, PLAIN));
        for nonce in ["fdasflkja48", "fdasflkja4845", "", "随机数随机"] {
            assert_eq!(
                decrypt(&key(1), AAD, nonce, &sealed),
                Err(AeadError::BadNonce),
                "{nonce:?}"
            );
            assert_eq!(
                encrypt(&key(1), AAD, nonce, PLAIN),
                Err(AeadError::BadNonce)
            );
        }
    }

    #[test]
    fn bad_base64_and_short_input_fail() {
        assert_eq!(
            decrypt(&key(1), AAD, NONCE, "***"),
            Err(AeadError::BadBase64)
        );
        let short = STANDARD.encode([0u8; TAG_LEN - 1]);
        assert_eq!(
            decrypt(&key(1), AAD, NONCE, &short),
            Err(AeadError::DecryptFailed)
        );
        assert_eq!(AeadError::DecryptFailed.code(), "DECRYPT_FAILED");
    }
}
