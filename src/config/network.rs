//! The network in front of the service: which peers are trusted proxies
//! (`CAMPUS_PHOTO_TRUSTED_PROXIES`), and how the client's address is read through them.
use std::net::IpAddr;

/// An address block: `10.0.0.0/8`, `::1/128`, or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let network: IpAddr = address.parse().ok()?;
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= width)?,
            None => width,
        };
        Some(Self { network, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 peer may arrive as an IPv4-mapped IPv6 address on a dual-stack socket.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The configured proxies. Empty (the default): the peer is the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// Comma-separated blocks; `None` names the first one that does not parse.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| Cidr::parse(p).ok_or_else(|| p.to_string()))
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    /// The client's address. From a trusted peer: the right-most address of `X-Forwarded-For`
    /// that is not itself a trusted proxy (each proxy appends the address it saw, so anything
    /// left of that could have been written by the client), else `X-Real-IP`, else the peer.
    pub fn client(
        &self,
        peer: IpAddr,
        forwarded_for: Option<&str>,
        real_ip: Option<&str>,
    ) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        if let Some(list) = forwarded_for {
            let mut hops = list.rsplit(',').map(str::trim);
            for hop in hops.by_ref() {
                match hop.parse::<IpAddr>() {
                    Ok(ip) if self.trusts(ip) => continue,
                    Ok(ip) => return ip,
                    // A malformed hop: nothing further left can be believed.
                    Err(_) => break,
                }
            }
        }
        real_ip.and_then(|r| r.trim().parse().ok()).unwrap_or(peer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_contain_their_addresses_only() {
        let block = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(block.contains(ip("10.1.200.3")));
        assert!(!block.contains(ip("10.2.0.1")));
        assert!(block.contains(ip("::ffff:10.1.0.9")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(Cidr::parse("::1").unwrap().contains(ip("::1")));
        assert!(!Cidr::parse("fd00::/8").unwrap().contains(ip("fe80::1")));
        for bad in ["10.0.0.0/33", "nonsense", "::/129", "1.2.3.4/x"] {
            assert_eq!(Cidr::parse(bad), None, "{bad}");
        }
        assert_eq!(
            TrustedProxies::parse("10.0.0.0/8, bogus"),
            Err("bogus".into())
        );
    }

    #[test]
    fn forwarding_headers_count_only_from_a_trusted_peer() {
        let proxies = TrustedProxies::parse("10.0.0.0/8,127.0.0.1").unwrap();
        // From the proxy: the client it saw.
        assert_eq!(
            proxies.client(ip("10.0.0.2"), Some("203.0.113.7"), None),
            ip("203.0.113.7")
        );
        // A client's own forged entry sits left of what the proxy appended.
        assert_eq!(
            proxies.client(ip("10.0.0.2"), Some("1.1.1.1, 203.0.113.7, 10.0.0.3"), None),
            ip("203.0.113.7")
        );
        assert_eq!(
            proxies.client(ip("127.0.0.1"), None, Some("198.51.100.2")),
            ip("198.51.100.2")
        );
        // From anyone else the headers are ignored.
        assert_eq!(
            proxies.client(ip("203.0.113.9"), Some("1.1.1.1"), Some("2.2.2.2")),
            ip("203.0.113.9")
        );
        assert_eq!(
            TrustedProxies::default().client(ip("10.0.0.2"), Some("1.1.1.1"), None),
            ip("10.0.0.2")
        );
    }
}
