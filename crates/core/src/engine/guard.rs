//! The network guard: which requests a capability may make. Addresses are compared as parsed
//! `IpAddr`s, never as strings, and the check that matters runs on the addresses DNS actually
//! returned for the connection (see `FilteringResolver`), so neither odd spellings of 127.0.0.1
//! nor DNS rebinding get past it.

use std::collections::{BTreeSet, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::engine::EngineError;

/// Why an address may not be reached, or `None` when it is a public unicast address.
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                // Refused whatever it embeds: a public IPv4 host is reached as IPv4.
                return v4_reason(v4).or(Some("an IPv6 address that embeds an IPv4 address"));
            }
            let seg = v6.segments();
            if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_loopback() {
                Some("loopback")
            } else if seg[0] & 0xfe00 == 0xfc00 {
                Some("unique local (fc00::/7)")
            } else if seg[0] & 0xffc0 == 0xfe80 {
                Some("link-local (fe80::/10)")
            } else if seg[0] & 0xffc0 == 0xfec0 {
                Some("site-local (fec0::/10)")
            } else if seg[0] & 0xff00 == 0xff00 {
                Some("multicast")
            } else if seg[0] == 0x2001 && seg[1] == 0x0db8 {
                Some("documentation (2001:db8::/32)")
            } else {
                None
            }
        }
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    Some(match o {
        [0, ..] => "\"this network\" (0.0.0.0/8)",
        [10, ..] => "private (10.0.0.0/8)",
        [127, ..] => "loopback (127.0.0.0/8)",
        [169, 254, ..] => "link-local / cloud metadata (169.254.0.0/16)",
        [172, b, ..] if (16..32).contains(&b) => "private (172.16.0.0/12)",
        [192, 168, ..] => "private (192.168.0.0/16)",
        [100, b, ..] if (64..128).contains(&b) => "shared address space (100.64.0.0/10)",
        [192, 0, 0, _] => "IETF protocol assignments (192.0.0.0/24)",
        [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _] => "documentation",
        [198, 18..=19, ..] => "benchmarking (198.18.0.0/15)",
        [a, ..] if a >= 224 => "multicast or reserved (224.0.0.0/3)",
        _ => return None,
    })
}

/// The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d),
/// NAT64 (64:ff9b::/96) or 6to4 (2002::/16) IPv6 address.
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let tail =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if s[..5] == [0, 0, 0, 0, 0] && (s[5] == 0xffff || (s[5] == 0 && (s[6] != 0 || s[7] > 1))) {
        return Some(tail(s[6], s[7]));
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return Some(tail(s[6], s[7]));
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1 {
        // Local-use NAT64 prefix 64:ff9b:1::/48: refuse whatever follows.
        return Some(tail(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return Some(tail(s[1], s[2]));
    }
    None
}

/// `host:port` pairs the user allowed explicitly (reachable even when private, over http too).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowHosts(pub BTreeSet<String>);

impl AllowHosts {
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut set = BTreeSet::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (host, port) = item
                .rsplit_once(':')
                .ok_or_else(|| format!("`{item}` must be HOST:PORT"))?;
            port.parse::<u16>()
                .map_err(|_| format!("`{item}`: `{port}` is not a port"))?;
            if host.is_empty() {
                return Err(format!("`{item}` has no host"));
            }
            set.insert(format!(
                "{}:{port}",
                host.trim_matches(['[', ']']).to_ascii_lowercase()
            ));
        }
        Ok(AllowHosts(set))
    }
    pub fn allows(&self, host: &str, port: u16) -> bool {
        self.0.contains(&format!(
            "{}:{port}",
            host.trim_matches(['[', ']']).to_ascii_lowercase()
        ))
    }
}

pub use capsmith_format::manifest::permissions::scope_entry;

/// What one run of one capability may do on the network.
#[derive(Debug, Clone)]
pub struct NetPolicy {
    /// The manifest's scope (endpoints + `allowed_domains`) as [`scope_entry`] spells it: a
    /// bare host allows its scheme's default port only; another port must be listed with it.
    pub domains: BTreeSet<String>,
    pub may_get: bool,
    pub may_post: bool,
    pub max_calls: u32,
    pub allow_hosts: AllowHosts,
    pub timeout_ms: u64,
    pub max_response_bytes: u64,
    pub max_redirects: u32,
    pub max_headers: usize,
    pub max_header_bytes: usize,
    /// Not the network's, but read from settings with it in one query: the user opted out of
    /// the sandbox's confinement check (`sandbox.allow_unconfined`).
    pub allow_unconfined_sandbox: bool,
}

impl Default for NetPolicy {
    fn default() -> Self {
        NetPolicy {
            domains: BTreeSet::new(),
            may_get: false,
            may_post: false,
            max_calls: 10,
            allow_hosts: AllowHosts::default(),
            timeout_ms: 30_000,
            max_response_bytes: 10 * 1024 * 1024,
            max_redirects: 10,
            max_headers: 100,
            max_header_bytes: 64 * 1024,
            allow_unconfined_sandbox: false,
        }
    }
}

impl NetPolicy {
    /// Checks a URL and method before anything is sent (each redirect hop too).
    pub fn check(&self, url: &url::Url, method: &reqwest::Method) -> Result<(), EngineError> {
        let is_read = method == reqwest::Method::GET || method == reqwest::Method::HEAD;
        if is_read && !self.may_get {
            return Err(EngineError::MethodNotPermitted {
                method: method.to_string(),
                permission: "network.http.get".into(),
            });
        }
        if !is_read && !self.may_post {
            return Err(EngineError::MethodNotPermitted {
                method: method.to_string(),
                permission: "network.http.post".into(),
            });
        }
        let scheme = url.scheme();
        if scheme != "http" && scheme != "https" {
            return Err(EngineError::BadScheme {
                scheme: scheme.to_string(),
            });
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(EngineError::BadRequest {
                message: "credentials in the URL (`user@host`) are refused".into(),
            });
        }
        // The same spelling the manifest's domains use (`url`'s serialization, no brackets).
        let host = url
            .host_str()
            .unwrap_or_default()
            .trim_matches(['[', ']'])
            .to_ascii_lowercase();
        if host.is_empty() {
            return Err(EngineError::BadRequest {
                message: "URL has no host".into(),
            });
        }
        let port = url.port_or_known_default().unwrap_or(443);
        let explicitly_allowed = self.allow_hosts.allows(&host, port);
        // An address written in the URL never reaches the resolver: check it here, first.
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        if let (Some(ip), false) = (literal, explicitly_allowed) {
            if forbidden_reason(ip).is_some() {
                return Err(EngineError::PrivateAddress {
                    host,
                    addr: ip.to_string(),
                });
            }
        }
        // The user's allow-list opens private addresses and plain http for a host the
        // manifest lists; it never adds a host the manifest does not list. A port other than
        // the scheme's default (which `url` reports as none) must be listed with the host.
        let entry = scope_entry(&host, url.port());
        if !self.domains.contains(&entry) {
            return Err(EngineError::DomainNotAllowed {
                host: entry,
                allowed: self.domains.iter().cloned().collect::<Vec<_>>().join(", "),
            });
        }
        if scheme == "http" && !explicitly_allowed {
            return Err(EngineError::InsecureScheme { host });
        }
        Ok(())
    }

    pub fn permits_private(&self, host: &str, port: u16) -> bool {
        self.allow_hosts.allows(host, port)
    }
}

/// A DNS resolver that drops forbidden addresses from every answer (unless the host is
/// explicitly allowed), so the address the connection uses is the one that was checked.
#[derive(Debug, Clone)]
pub struct FilteringResolver {
    /// Hosts (lowercase) for which private answers are allowed.
    pub permit_private: Arc<HashSet<String>>,
}

impl Resolve for FilteringResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let permit = self.permit_private.contains(&host);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let total = addrs.len();
            let kept: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| permit || forbidden_reason(a.ip()).is_none())
                .collect();
            if kept.is_empty() {
                let msg = if total == 0 {
                    format!("`{host}` has no address")
                } else {
                    format!("PRIVATE_ADDRESS:{host}")
                };
                return Err(msg.into());
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forbidden_ranges() {
        for bad in [
            "127.0.0.1",
            "127.255.0.9",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            "::127.0.0.1",
            "ff02::1",
        ] {
            assert!(forbidden_reason(ip(bad)).is_some(), "{bad} must be refused");
        }
        // IPv4 inside IPv6 is refused whatever it embeds: reach public IPv4 hosts as IPv4.
        for embedded in ["::ffff:8.8.8.8", "2002:808:808::", "64:ff9b::808:808"] {
            assert!(forbidden_reason(ip(embedded)).is_some(), "{embedded}");
        }
        for good in ["93.184.216.34", "8.8.8.8", "172.32.0.1", "2606:4700::1111"] {
            assert!(forbidden_reason(ip(good)).is_none(), "{good} is public");
        }
    }

    #[test]
    fn odd_spellings_of_loopback_parse_to_loopback() {
        let policy = NetPolicy {
            domains: ["example.com".to_string()].into(),
            may_get: true,
            ..Default::default()
        };
        for url in [
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://[::ffff:7f00:1]/",
            "https://[::1]/",
        ] {
            let u = url::Url::parse(url).unwrap();
            let err = policy.check(&u, &reqwest::Method::GET).unwrap_err();
            // Either not an allowed domain, or refused as private: never let through.
            assert!(
                matches!(
                    err,
                    EngineError::DomainNotAllowed { .. } | EngineError::PrivateAddress { .. }
                ),
                "{url}: {err}"
            );
        }
        // Even a manifest that lists the address as a domain cannot reach it.
        let mut p2 = policy.clone();
        p2.domains.insert("127.0.0.1".into());
        let err = p2
            .check(
                &url::Url::parse("https://2130706433/").unwrap(),
                &reqwest::Method::GET,
            )
            .unwrap_err();
        assert!(matches!(err, EngineError::PrivateAddress { .. }), "{err}");
    }

    #[test]
    fn allow_hosts_parse() {
        let a = AllowHosts::parse("127.0.0.1:8080, [::1]:9000").unwrap();
        assert!(a.allows("127.0.0.1", 8080));
        assert!(a.allows("::1", 9000));
        assert!(!a.allows("127.0.0.1", 8081));
        assert!(AllowHosts::parse("nohost").is_err());
        assert!(AllowHosts::parse("h:99999").is_err());
    }
}
