//! Which address a request comes from, for rate limits and sign-in protection.
//!
//! Behind the HTTPS proxy of a deployment the TCP peer is the proxy, so every student would share
//! one limit. The forwarding headers are believed only when the peer is one of the configured
//! trusted proxies (`CAMPUS_PHOTO_TRUSTED_PROXIES`); from anyone else they are ignored, since a
//! client can write whatever it likes into them.
use std::net::IpAddr;

pub use crate::config::network::{Cidr, TrustedProxies};

/// Where a request came from, as far as can be told; `None` when the server was mounted without
/// connection info (every such caller then counts as one unknown address).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    pub fn subject(self) -> super::limits::Subject {
        match self.0 {
            Some(ip) => super::limits::Subject::Ip(ip),
            None => super::limits::Subject::UnknownIp,
        }
    }
}
