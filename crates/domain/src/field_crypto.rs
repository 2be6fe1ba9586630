//! Protects personal fields at rest and signs URLs, all from the one master key
//! (`CAMPUS_PHOTO_SECRET_KEY`). Separate subkeys per purpose, derived with HMAC-SHA256, so a
//! blind index or URL signature never reveals anything about the encryption key.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const VERSION_PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const ENC_LABEL: &[u8] = b"campus-photo/enc/v1";
const INDEX_LABEL: &[u8] = b"campus-photo/index/v1";
const URL_LABEL: &[u8] = b"campus-photo/url/v1";

/// What can go wrong with keys and sealed values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("master key must be 32 bytes in standard base64")]
    MasterKey,
    #[error("encrypted value has an unknown version prefix")]
    UnknownVersion,
    #[error("encrypted value is not well-formed")]
    Malformed,
    #[error("encrypted value failed authentication (tampered or wrong key)")]
    Authentication,
    #[error("plaintext too long to encrypt")]
    TooLong,
}

/// Field encryption, blind index and URL signing keys derived from one master key.
#[derive(Clone)]
pub struct FieldCrypto {
    cipher: Aes256Gcm,
    index_key: [u8; 32],
    url_key: [u8; 32],
}

/// Keys never appear in logs.
impl std::fmt::Debug for FieldCrypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FieldCrypto { .. }")
    }
}

/// HMAC-SHA256 keyed by `key` over `message`.
fn hmac(key: &[u8], message: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(message);
    mac
}

fn subkey(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    hmac(master, label).finalize().into_bytes().into()
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// The form a value takes before indexing: trimmed and ASCII upper-cased, so
/// `11010519491231002x` and `11010519491231002X` find the same row.
pub fn normalise_for_index(value: &str) -> String {
    value.trim().to_ascii_uppercase()
}

impl FieldCrypto {
    /// Derives the three subkeys from the 32-byte master key.
    pub fn new(master_key: [u8; 32]) -> Self {
        let enc_key = subkey(&master_key, ENC_LABEL);
        Self {
            cipher: Aes256Gcm::new(&enc_key.into()),
            index_key: subkey(&master_key, INDEX_LABEL),
            url_key: subkey(&master_key, URL_LABEL),
        }
    }

    /// Reads the master key as configured (`CAMPUS_PHOTO_SECRET_KEY`: standard base64 of 32
    /// bytes, surrounding whitespace ignored).
    pub fn from_base64(encoded: &str) -> Result<Self, CryptoError> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|_| CryptoError::MasterKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::MasterKey)?;
        Ok(Self::new(key))
    }

    /// A fresh random master key (for the development key generated on first start).
    pub fn generate_master_key() -> [u8; 32] {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        key
    }

    /// Seals `plaintext` as `v1:` + base64(nonce ‖ ciphertext ‖ tag), with a random 96-bit
    /// nonce per call. Only fails for inputs beyond AES-GCM's limit (about 64 GiB).
    pub fn encrypt(&self, plaintext: &str) -> Result<String, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .map_err(|_| CryptoError::TooLong)?;
        let mut raw = Vec::with_capacity(NONCE_LEN + sealed.len());
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&sealed);
        Ok(format!("{VERSION_PREFIX}{}", STANDARD.encode(raw)))
    }

    /// Opens a value sealed by [`FieldCrypto::encrypt`] under the same master key.
    pub fn decrypt(&self, sealed: &str) -> Result<String, CryptoError> {
        let body = sealed
            .strip_prefix(VERSION_PREFIX)
            .ok_or(CryptoError::UnknownVersion)?;
        let raw = STANDARD.decode(body).map_err(|_| CryptoError::Malformed)?;
        if raw.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| CryptoError::Authentication)?;
        // Authenticated, so this was our own UTF-8; a failure would mean a foreign writer.
        String::from_utf8(plain).map_err(|_| CryptoError::Malformed)
    }

    /// Deterministic keyed digest (lowercase hex, 64 chars) of the normalised value, for
    /// equality look-ups on encrypted columns without decrypting them.
    pub fn blind_index(&self, value: &str) -> String {
        let digest = hmac(&self.index_key, normalise_for_index(value).as_bytes()).finalize();
        to_hex(&digest.into_bytes())
    }

    /// Signature of `message` for signed URLs: base64url without padding of HMAC-SHA256.
    pub fn sign(&self, message: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(hmac(&self.url_key, message).finalize().into_bytes())
    }

    /// Whether `signature` is [`FieldCrypto::sign`] of `message`; compared in constant time.
    pub fn verify(&self, message: &[u8], signature: &str) -> bool {
        let Ok(sig) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        hmac(&self.url_key, message).verify_slice(&sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crypto(seed: u8) -> FieldCrypto {
        FieldCrypto::new([seed; 32])
    }

    fn enc(c: &FieldCrypto, s: &str) -> String {
        c.encrypt(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn round_trip() {
        let c = crypto(1);
        for s in [
            "",
            "11010519491231002X",
            "张三 13800138000",
            &"长".repeat(10_000),
        ] {
            let sealed = enc(&c, s);
            assert!(sealed.starts_with("v1:"));
            assert!(!sealed.contains(s) || s.is_empty());
            assert_eq!(c.decrypt(&sealed).as_deref(), Ok(s));
        }
    }

    #[test]
    fn layout_is_nonce_ciphertext_tag() {
        let c = crypto(1);
        let sealed = enc(&c, "abc");
        let raw = STANDARD
            .decode(&sealed[3..])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(raw.len(), NONCE_LEN + 3 + TAG_LEN);
    }

    #[test]
    fn nonces_are_random() {
        let c = crypto(1);
        let a = enc(&c, "same");
        let b = enc(&c, "same");
        assert_ne!(a, b);
        assert_ne!(a[3..19], b[3..19]);
    }

    #[test]
    fn tampering_is_detected() {
        let c = crypto(1);
        let sealed = enc(&c, "11010519491231002X");
        let raw = STANDARD
            .decode(&sealed[3..])
            .unwrap_or_else(|e| panic!("{e}"));
        for i in 0..raw.len() {
            let mut bad = raw.clone();
            bad[i] ^= 0x01;
            let bad = format!("v1:{}", STANDARD.encode(&bad));
            assert_eq!(
                c.decrypt(&bad),
                Err(CryptoError::Authentication),
                "byte {i}"
            );
        }
        // Truncation.
        let short = format!("v1:{}", STANDARD.encode(&raw[..raw.len() - 1]));
        assert_eq!(c.decrypt(&short), Err(CryptoError::Authentication));
    }

    #[test]
    fn malformed_values() {
        let c = crypto(1);
        assert_eq!(c.decrypt(""), Err(CryptoError::UnknownVersion));
        assert_eq!(c.decrypt("v2:AAAA"), Err(CryptoError::UnknownVersion));
        assert_eq!(
            c.decrypt("11010519491231002X"),
            Err(CryptoError::UnknownVersion)
        );
        assert_eq!(c.decrypt("v1:not base64!"), Err(CryptoError::Malformed));
        assert_eq!(c.decrypt("v1:"), Err(CryptoError::Malformed));
        let too_short = format!("v1:{}", STANDARD.encode([0u8; NONCE_LEN + TAG_LEN - 1]));
        assert_eq!(c.decrypt(&too_short), Err(CryptoError::Malformed));
    }

    #[test]
    fn wrong_key_fails() {
        let sealed = enc(&crypto(1), "secret");
        assert_eq!(crypto(2).decrypt(&sealed), Err(CryptoError::Authentication));
    }

    #[test]
    fn blind_index_is_deterministic_normalised_and_keyed() {
        let c = crypto(1);
        let a = c.blind_index("11010519491231002X");
        assert_eq!(a.len(), 64);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_eq!(a, c.blind_index("11010519491231002X"));
        assert_eq!(a, c.blind_index(" 11010519491231002x "));
        assert_ne!(a, c.blind_index("110105194912310011"));
        assert_ne!(a, crypto(2).blind_index("11010519491231002X"));
        assert_eq!(a, crypto(1).blind_index("11010519491231002X"));
    }

    #[test]
    fn subkeys_differ_by_purpose() {
        let master = [7u8; 32];
        let keys = [
            subkey(&master, ENC_LABEL),
            subkey(&master, INDEX_LABEL),
            subkey(&master, URL_LABEL),
        ];
        assert_ne!(keys[0], keys[1]);
        assert_ne!(keys[1], keys[2]);
        assert_ne!(keys[0], keys[2]);
        assert!(keys.iter().all(|k| *k != master));
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac(b"Jefe", b"what do ya want for nothing?")
            .finalize()
            .into_bytes();
        assert_eq!(
            to_hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn url_signatures() {
        let c = crypto(1);
        let msg = b"objects/ab/cd.jpg|1700000000";
        let sig = c.sign(msg);
        assert_eq!(sig.len(), 43);
        assert!(!sig.contains(['=', '+', '/']));
        assert_eq!(sig, c.sign(msg));
        assert!(c.verify(msg, &sig));
        assert!(!c.verify(b"objects/ab/cd.jpg|1700000001", &sig));
        assert!(!crypto(2).verify(msg, &sig));
        assert!(!c.verify(msg, &sig[..42]));
        assert!(!c.verify(msg, ""));
        assert!(!c.verify(msg, "!!!"));
        let mut flipped = sig.into_bytes();
        flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
        assert!(!c.verify(msg, &String::from_utf8_lossy(&flipped)));
        // The URL key is not the index key.
        assert_ne!(
            to_hex(&URL_SAFE_NO_PAD.decode(c.sign(b"x")).unwrap_or_default()),
            c.blind_index("x")
        );
    }

    #[test]
    fn master_key_from_base64() {
        let key = FieldCrypto::generate_master_key();
        assert_ne!(key, FieldCrypto::generate_master_key());
        let encoded = STANDARD.encode(key);
        let c =
            FieldCrypto::from_base64(&format!(" {encoded}\n")).unwrap_or_else(|e| panic!("{e}"));
        let sealed = enc(&FieldCrypto::new(key), "x");
        assert_eq!(c.decrypt(&sealed).as_deref(), Ok("x"));
        assert_eq!(
            FieldCrypto::from_base64(&STANDARD.encode([0u8; 31])).err(),
            Some(CryptoError::MasterKey)
        );
        assert_eq!(
            FieldCrypto::from_base64("not base64").err(),
            Some(CryptoError::MasterKey)
        );
        assert_eq!(format!("{c:?}"), "FieldCrypto { .. }");
    }
}
