//! The development signing key.
//!
//! This key is public on purpose: it is in the source so that a fresh checkout
//! can mint demo codes (CLI) and verify them with the default
//! `COLLECTION_CODE_KEYS`. It protects nothing; production must configure the
//! registry's keys instead, and should not list this one.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::SigningKey;

/// Issuer of development codes.
pub const DEV_ISSUER: &str = "campus-photo-dev";
/// Key id of the development key.
pub const DEV_KID: &str = "dev1";
/// Seed of the development key. Openly published: development only.
pub const DEV_SEED: [u8; 32] = *b"campus-photo development key v1!";

/// The development signing key (from [`DEV_SEED`]).
pub fn dev_signing_key() -> SigningKey {
    SigningKey::from_bytes(&DEV_SEED)
}

/// `iss:kid:base64(public key)` of the development key: the default value of
/// `COLLECTION_CODE_KEYS`.
pub fn dev_keyring_entry() -> String {
    let public = dev_signing_key().verifying_key();
    format!(
        "{DEV_ISSUER}:{DEV_KID}:{}",
        STANDARD.encode(public.as_bytes())
    )
}
