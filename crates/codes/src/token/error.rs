//! Errors of token verification and key configuration.

use thiserror::Error;

/// Why a scanned text is not an acceptable collection code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CodeError {
    /// The text is not a CQ1 token at all (e.g. some other QR code).
    #[error("not a collection code")]
    NotOurFormat,
    /// It claims to be CQ1 but its structure is broken.
    #[error("malformed collection code: {0}")]
    Malformed(String),
    /// No configured key for the token's issuer and key id.
    #[error("collection code signed with an unknown key")]
    UnknownKey,
    /// The signature does not match the claims.
    #[error("collection code signature is invalid")]
    BadSignature,
    /// Genuine but past its `exp`.
    #[error("collection code expired at {expired_at}")]
    Expired {
        /// The token's `exp`, unix seconds.
        expired_at: i64,
    },
}

impl CodeError {
    /// The API error code (DESIGN.md / the GraphQL userError codes): only an
    /// expired code gets its own code, so the student is told to fetch a new
    /// one; everything else is simply invalid.
    pub fn code(&self) -> &'static str {
        match self {
            CodeError::Expired { .. } => "COLLECTION_CODE_EXPIRED",
            _ => "COLLECTION_CODE_INVALID",
        }
    }
}

/// A bad `COLLECTION_CODE_KEYS` configuration. Each variant names the entry
/// so an operator can find the typo.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyRingError {
    /// No key at all: nothing could ever verify.
    #[error("COLLECTION_CODE_KEYS holds no key")]
    Empty,
    /// The entry is not `iss:kid:base64key`.
    #[error("key entry {index} ({entry:?}): expected iss:kid:base64(public key)")]
    Shape {
        /// 1-based position in the list.
        index: usize,
        /// The entry as written.
        entry: String,
    },
    /// The key part is not standard base64 of 32 bytes.
    #[error("key entry {index} ({entry:?}): public key must be standard base64 of 32 bytes")]
    KeyEncoding {
        /// 1-based position in the list.
        index: usize,
        /// The entry as written.
        entry: String,
    },
    /// 32 bytes that are not a valid Ed25519 point.
    #[error("key entry {index} ({entry:?}): not a valid Ed25519 public key")]
    KeyInvalid {
        /// 1-based position in the list.
        index: usize,
        /// The entry as written.
        entry: String,
    },
    /// The same issuer and key id twice: ambiguous, so refused.
    #[error("key entry {index}: duplicate issuer/key id {iss}:{kid}")]
    Duplicate {
        /// 1-based position in the list.
        index: usize,
        /// Issuer.
        iss: String,
        /// Key id.
        kid: String,
    },
}
