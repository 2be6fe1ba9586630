//! The configured verifying keys (`COLLECTION_CODE_KEYS`) and verification.

use std::collections::HashMap;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::VerifyingKey;

use super::claims::Claims;
use super::error::{CodeError, KeyRingError};
use super::format;

/// Verifying keys by (issuer, key id). Several keys per issuer let an issuer
/// rotate: old codes keep verifying until their key is removed.
#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    keys: HashMap<(String, String), VerifyingKey>,
}

impl KeyRing {
    /// An empty ring (rejects every code); add keys with [`KeyRing::insert`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Parse `COLLECTION_CODE_KEYS`: comma-separated `iss:kid:base64(32-byte
    /// Ed25519 public key)` with standard base64. Blank entries and spaces
    /// around entries are ignored (multi-line env files); everything else that
    /// is wrong is an error naming the entry, never silently skipped.
    pub fn parse(config: &str) -> Result<Self, KeyRingError> {
        let mut ring = Self::new();
        for (i, raw) in config.split(',').enumerate() {
            let entry = raw.trim();
            if entry.is_empty() {
                continue;
            }
            let index = i + 1;
            let (iss, kid, key) = split_entry(entry).ok_or_else(|| KeyRingError::Shape {
                index,
                entry: entry.to_owned(),
            })?;
            let bytes: [u8; 32] = STANDARD
                .decode(key)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| KeyRingError::KeyEncoding {
                    index,
                    entry: entry.to_owned(),
                })?;
            let key = VerifyingKey::from_bytes(&bytes).map_err(|_| KeyRingError::KeyInvalid {
                index,
                entry: entry.to_owned(),
            })?;
            if !ring.insert(iss, kid, key) {
                return Err(KeyRingError::Duplicate {
                    index,
                    iss: iss.to_owned(),
                    kid: kid.to_owned(),
                });
            }
        }
        if ring.is_empty() {
            return Err(KeyRingError::Empty);
        }
        Ok(ring)
    }

    /// Add a key; returns false (and keeps the old key) if (iss, kid) exists.
    pub fn insert(&mut self, iss: &str, kid: &str, key: VerifyingKey) -> bool {
        let slot = self.keys.entry((iss.to_owned(), kid.to_owned()));
        match slot {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(key);
                true
            }
        }
    }

    /// The key for an issuer and key id.
    pub fn get(&self, iss: &str, kid: &str) -> Option<&VerifyingKey> {
        self.keys.get(&(iss.to_owned(), kid.to_owned()))
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the ring has no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Verify a scanned text and return its claims. Surrounding whitespace is
    /// trimmed (scanners append newlines). Checks, in order: format, key
    /// lookup by the claims' `iss`+`kid`, signature, then expiry against
    /// `now_unix`, so only genuine codes are ever reported as expired.
    pub fn verify(&self, text: &str, now_unix: i64) -> Result<Claims, CodeError> {
        let parsed = format::parse(text.trim())?;
        let key = self
            .get(&parsed.claims.iss, &parsed.claims.kid)
            .ok_or(CodeError::UnknownKey)?;
        key.verify_strict(parsed.signed.as_bytes(), &parsed.signature)
            .map_err(|_| CodeError::BadSignature)?;
        if now_unix >= parsed.claims.exp {
            return Err(CodeError::Expired {
                expired_at: parsed.claims.exp,
            });
        }
        Ok(parsed.claims)
    }
}

impl FromStr for KeyRing {
    type Err = KeyRingError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Split `iss:kid:key` into non-empty parts (base64 has no `:`).
fn split_entry(entry: &str) -> Option<(&str, &str, &str)> {
    let mut parts = entry.split(':').map(str::trim);
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(iss), Some(kid), Some(key), None)
            if !iss.is_empty() && !kid.is_empty() && !key.is_empty() =>
        {
            Some((iss, kid, key))
        }
        _ => None,
    }
}
