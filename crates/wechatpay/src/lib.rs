//! WeChat Pay API v3 (微信支付 APIv3, JSAPI for mini-programs): request signatures, response and
//! notification verification, the AEAD_AES_256_GCM resource encryption, and the JSON message types.
//!
//! Nothing here does I/O: no HTTP, no files, no clock. Keys arrive as PEM text, time as Unix
//! seconds, so the same code serves the real client, the sandbox that fakes WeChat, and the tests.

pub mod aead;
pub mod api;
pub mod keys;
pub mod notification;
pub mod signature;

pub use aead::AeadError;
pub use keys::{ApiV3Key, KeyError, MerchantKey, PlatformKeys};
pub use notification::{
    BuildError, DEFAULT_MAX_SKEW_SECS, NotificationHeaders, NotificationSigner,
    VerifiedNotification, VerifyError, build_notification, verify_and_decrypt,
};
pub use signature::{AuthorizationError, AuthorizationFields, SignatureError};

/// Random alphanumerics for nonces; `OsRng` because they feed signatures and AEAD nonces.
pub(crate) fn random_alphanumeric(len: usize) -> String {
    use rand::Rng;
    use rand::distributions::Alphanumeric;
    rand::rngs::OsRng
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Keys shared by the tests of every module: RSA-2048 generation takes a while, so once each.
#[cfg(test)]
pub(crate) mod test_support {
    use std::sync::OnceLock;

    use rsa::RsaPrivateKey;

    use crate::keys::{MerchantKey, generate_rsa_2048};

    /// Unwraps in tests, showing the error's message.
    pub(crate) fn ok<T, E: std::fmt::Display>(result: Result<T, E>) -> T {
        result.unwrap_or_else(|e| panic!("{e}"))
    }

    fn generate() -> RsaPrivateKey {
        ok(generate_rsa_2048(&mut rand::rngs::OsRng))
    }

    pub(crate) fn key_a() -> &'static RsaPrivateKey {
        static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
        KEY.get_or_init(generate)
    }

    pub(crate) fn key_b() -> &'static RsaPrivateKey {
        static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
        KEY.get_or_init(generate)
    }

    pub(crate) fn merchant_a() -> &'static MerchantKey {
        static KEY: OnceLock<MerchantKey> = OnceLock::new();
        KEY.get_or_init(|| {
            ok(MerchantKey::new(
                "5157F09EFDC096DE15EBE81A47057A72",
                key_a().clone(),
            ))
        })
    }
}
