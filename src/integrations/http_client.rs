//! The one HTTP client configuration for calls to outside services.
use std::time::Duration;

/// Installs ring as the process's rustls provider (once; later calls are no-ops). reqwest is built
/// without a provider so that aws-lc-rs is not compiled too.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub fn build() -> reqwest::Client {
    install_crypto_provider();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("campus-photo/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|e| panic!("HTTP client configuration is static and valid: {e}"))
}
