//! The CQ1 collection-code token (DESIGN.md §5):
//! `CQ1.<base64url(JSON claims)>.<base64url(Ed25519 signature)>`, the signature
//! covering the ASCII bytes `"CQ1." + first part`.
//!
//! Verification order is fixed (format, key, signature, expiry) so that an
//! expired code is only reported as expired once we know it is genuine.

mod claims;
mod dev_key;
mod error;
mod format;
mod keyring;

pub use claims::{Claims, id_tail_matches, masked_id_tail};
pub use dev_key::{DEV_ISSUER, DEV_KID, DEV_SEED, dev_keyring_entry, dev_signing_key};
pub use error::{CodeError, KeyRingError};
pub use format::{PREFIX, mint};
pub use keyring::KeyRing;
