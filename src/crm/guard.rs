//! The network half of the SSRF guard: which IP addresses a merchant-supplied CRM host may
//! resolve to. It runs twice: once before the first request (to give the merchant a clear
//! message) and inside reqwest's resolver for every connection (so a host that answers DNS
//! differently the second time, "DNS rebinding", still cannot reach an internal address).
//! IP-literal URLs never reach a resolver, so every guarded client also calls `check_literal`
//! on each URL it requests, redirects included.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Names the class of a forbidden address, or `None` for a public unicast one.
pub fn forbidden_class(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match () {
        _ if ip.is_unspecified() || a == 0 => "unspecified",
        _ if ip.is_loopback() => "loopback",
        // Cloud metadata services live on link-local addresses (169.254.169.254 and friends).
        _ if ip == Ipv4Addr::new(169, 254, 169, 254) => "cloud metadata",
        _ if ip.is_link_local() => "link-local",
        _ if ip.is_private() => "private",
        // 100.64.0.0/10, carrier-grade NAT; also holds Alibaba's metadata 100.100.100.200.
        _ if a == 100 && (64..128).contains(&b) => "shared (carrier-grade NAT)",
        _ if a == 192 && b == 0 && c == 0 => "IETF protocol assignments",
        _ if a == 198 && (b == 18 || b == 19) => "benchmarking",
        _ if ip.is_documentation() => "documentation",
        _ if ip.is_multicast() => "multicast",
        _ if a >= 240 => "reserved",
        _ => return None,
    })
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    // IPv4-translated (::ffff:0:a.b.c.d, SIIT) reaches IPv4 space like a mapped address.
    if s[0..6] == [0, 0, 0, 0, 0xffff, 0] {
        return forbidden_v4(embedded(s[6], s[7]));
    }
    // 6to4 (2002:a.b.c.d::/48) is routed to the IPv4 address it embeds.
    if s[0] == 0x2002 {
        return forbidden_v4(embedded(s[1], s[2]));
    }
    // NAT64 (64:ff9b::/96) reaches IPv4 space: judge the embedded address.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return forbidden_v4(embedded(s[6], s[7]));
    }
    Some(match () {
        // 64:ff9b:1::/48, NAT64 for local use: whatever it embeds is on the operator's side.
        _ if s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1 => "NAT64 (local use)",
        _ if ip.is_unspecified() => "unspecified",
        _ if ip.is_loopback() => "loopback",
        // fd00:ec2::254 (AWS metadata over IPv6) is inside fc00::/7.
        _ if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) => "cloud metadata",
        _ if (s[0] & 0xfe00) == 0xfc00 => "private (unique local)",
        _ if (s[0] & 0xffc0) == 0xfe80 => "link-local",
        _ if (s[0] & 0xffc0) == 0xfec0 => "site-local",
        _ if ip.is_multicast() => "multicast",
        _ if s[0] == 0x2001 && s[1] == 0x0db8 => "documentation",
        // IPv4-compatible (::a.b.c.d, deprecated) addresses.
        _ if s[0..6] == [0, 0, 0, 0, 0, 0] => "IPv4-compatible",
        _ => return None,
    })
}

/// Why a host may not be called.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    #[error("{host} resolves to {ip}, a {class} address")]
    Forbidden {
        host: String,
        ip: IpAddr,
        class: &'static str,
    },
    #[error("{host} does not resolve to any address")]
    Unresolvable { host: String },
}

/// Resolves `host` and refuses it when any of its addresses is forbidden (an attacker who
/// controls DNS could otherwise mix a public and an internal address).
/// A host is read as a URL parser reads it, so `127.1`, `0x7f.1` and `2130706433` are the
/// loopback address they stand for, whatever the system resolver would make of them.
pub async fn check_host(host: &str, port: u16) -> Result<Vec<SocketAddr>, GuardError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let literal = match url::Host::parse(host) {
        Ok(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Ok(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        _ => bare.parse::<IpAddr>().ok(),
    };
    let addrs: Vec<SocketAddr> = match literal {
        Some(ip) => vec![SocketAddr::new(ip, port)],
        None => tokio::net::lookup_host((bare, port))
            .await
            .map_err(|_| GuardError::Unresolvable { host: host.into() })?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(GuardError::Unresolvable { host: host.into() });
    }
    for addr in &addrs {
        if let Some(class) = forbidden_class(addr.ip()) {
            return Err(GuardError::Forbidden {
                host: host.into(),
                ip: addr.ip(),
                class,
            });
        }
    }
    Ok(addrs)
}

/// `check_host` for a URL's host and port.
pub async fn check_url(url: &url::Url) -> Result<Vec<SocketAddr>, GuardError> {
    let host = url.host_str().unwrap_or_default();
    check_host(host, url.port_or_known_default().unwrap_or(443)).await
}

/// The half of the guard a resolver cannot do: refuses a URL whose host is a forbidden IP
/// literal (reqwest connects to those without asking the resolver). Names pass here; the
/// guarded resolver judges them on every connection.
pub fn check_literal(url: &url::Url) -> Result<(), GuardError> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        _ => return Ok(()),
    };
    match forbidden_class(ip) {
        Some(class) => Err(GuardError::Forbidden {
            host: url.host_str().unwrap_or_default().to_owned(),
            ip,
            class,
        }),
        None => Ok(()),
    }
}

/// `check_literal` for a URL still in text; a URL that does not parse passes (the request
/// itself fails on it, and no address was reached).
pub fn check_literal_str(url: &str) -> Result<(), GuardError> {
    url::Url::parse(url).map_or(Ok(()), |url| check_literal(&url))
}

/// reqwest resolver that applies `check_host` to every connection it opens.
#[derive(Debug, Clone, Default)]
pub struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = check_host(&host, 0)
                .await
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { Box::new(e) })?;
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

pub fn resolver() -> Arc<GuardedResolver> {
    Arc::new(GuardedResolver)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_internal_address_class_is_forbidden() {
        for (ip, class) in [
            ("127.0.0.1", "loopback"),
            ("127.8.9.10", "loopback"),
            ("0.0.0.0", "unspecified"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "cloud metadata"),
            ("169.254.1.1", "link-local"),
            ("100.64.0.1", "shared (carrier-grade NAT)"),
            ("100.100.100.200", "shared (carrier-grade NAT)"),
            ("224.0.0.1", "multicast"),
            ("255.255.255.255", "reserved"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fc00::1", "private (unique local)"),
            ("fd00:ec2::254", "cloud metadata"),
            ("fe80::1", "link-local"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.0.0.1", "private"),
            ("64:ff9b::a9fe:a9fe", "cloud metadata"),
            ("::ffff:0:7f00:1", "loopback"),
            ("2002:7f00:1::1", "loopback"),
            ("2002:a9fe:a9fe::", "cloud metadata"),
            ("64:ff9b:1::a00:1", "NAT64 (local use)"),
            ("ff02::1", "multicast"),
        ] {
            assert_eq!(forbidden_class(ip.parse().unwrap()), Some(class), "{ip}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2a00:1450:4001::1",
            "2002:808:808::1",
            "64:ff9b::808:808",
            "1.1.1.1",
        ] {
            assert_eq!(forbidden_class(ip.parse().unwrap()), None, "{ip}");
        }
    }

    #[tokio::test]
    async fn literal_and_named_hosts_are_checked_after_resolution() {
        let err = check_host("127.0.0.1", 80).await.unwrap_err();
        assert!(matches!(
            err,
            GuardError::Forbidden {
                class: "loopback",
                ..
            }
        ));
        let err = check_host("[::1]", 80).await.unwrap_err();
        assert!(matches!(
            err,
            GuardError::Forbidden {
                class: "loopback",
                ..
            }
        ));
        // Shorthand, hex and decimal spellings of 127.0.0.1, as browsers and URL parsers read
        // them, and the unspecified address (which Linux connects to the local host).
        for host in [
            "127.1",
            "0x7f.1",
            "2130706433",
            "0177.0.0.1",
            "[::ffff:127.0.0.1]",
        ] {
            let err = check_host(host, 80).await.unwrap_err();
            assert!(
                matches!(
                    err,
                    GuardError::Forbidden {
                        class: "loopback",
                        ..
                    }
                ),
                "{host}: {err:?}"
            );
        }
        let err = check_host("0.0.0.0", 80).await.unwrap_err();
        assert!(matches!(
            err,
            GuardError::Forbidden {
                class: "unspecified",
                ..
            }
        ));
        // `localhost` resolves (from /etc/hosts) to loopback addresses only.
        let err = check_host("localhost", 80).await.unwrap_err();
        assert!(
            matches!(
                err,
                GuardError::Forbidden {
                    class: "loopback",
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn literal_urls_are_judged_without_a_resolver() {
        for (raw, class) in [
            ("http://127.1:8080/file", "loopback"),
            ("http://0x7f.1/", "loopback"),
            ("http://2130706433/", "loopback"),
            ("https://[::ffff:127.0.0.1]/", "loopback"),
            ("http://0.0.0.0:9/", "unspecified"),
            ("http://169.254.169.254/latest/meta-data", "cloud metadata"),
            ("http://[fd00:ec2::254]/", "cloud metadata"),
        ] {
            let err = check_literal_str(raw).unwrap_err();
            assert!(
                matches!(err, GuardError::Forbidden { class: c, .. } if c == class),
                "{raw}: {err:?}"
            );
        }
        for raw in [
            "https://8.8.8.8/",
            "https://files.example.com/x",
            "not a url",
        ] {
            assert_eq!(check_literal_str(raw), Ok(()), "{raw}");
        }
    }
}
