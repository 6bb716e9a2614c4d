//! Where outgoing webhook calls may go (SPEC §9): a subscription URL is
//! chosen by an admin or an integration, so without a guard it could make
//! the server call its own loopback, the cloud's metadata service
//! (169.254.169.254) or any host of the private network behind it (SSRF).
//!
//! Unless `webhook_allow_private` is set, only public addresses are
//! called. The check happens twice: when a subscription is made or its URL
//! changed (the host is resolved, [`check_target`]), and on every call,
//! on the address actually connected to: the HTTP clients of
//! `redress-channels` (`http.rs`) resolve names with a resolver that drops
//! every address that is not public ([`is_public`]), and a URL holding an
//! IP address (which is never resolved) is checked before the request
//! ([`refused_literal`]). This module is the policy; the resolving is done
//! through [`crate::edges::Resolver`]. A name that resolved
//! to a public address when it was subscribed and to a private one later
//! (DNS rebinding) is therefore refused when it is called.

use redress_domain::Reason;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use crate::edges::Resolver;

/// Time to resolve a subscription's host when it is checked.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a call was not made, as the attempt log shows it.
pub const REFUSED: &str = "refused: the receiver's address is loopback, private, link-local or \
                           otherwise not public (webhook_allow_private is off)";

/// Whether `ip` is a public unicast address: not loopback, private
/// (RFC 1918, IPv6 unique local fc00::/7), link-local (169.254/16,
/// fe80::/10), unspecified, shared (CGNAT 100.64/10), multicast,
/// broadcast or reserved, nor an IPv4-mapped, IPv4-compatible or NAT64
/// form of one of these.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(a == 0 // "this network", 0.0.0.0 among it
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || (a == 100 && (b & 0xc0) == 64) // shared address space (CGNAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b & 0xfe) == 18) // benchmarking
        || ip.is_multicast()
        || a >= 240) // reserved, broadcast among it
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(embedded_v4(ip));
    }
    // IPv4-compatible (::a.b.c.d, deprecated); `::` and `::1` are below.
    if s[..6] == [0; 6] && !ip.is_unspecified() && !ip.is_loopback() {
        return is_public_v4(embedded_v4(ip));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || ip.is_multicast())
}

/// The IPv4 address in the last 32 bits of `ip`.
fn embedded_v4(ip: Ipv6Addr) -> Ipv4Addr {
    let o = ip.octets();
    Ipv4Addr::new(o[12], o[13], o[14], o[15])
}

/// The IP address a URL names literally (`http://10.0.0.1/`,
/// `http://[::1]/`), if it does.
fn literal_ip(url: &url::Url) -> Option<IpAddr> {
    let host = url.host_str()?;
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .parse()
        .ok()
}

/// Before a call: the refusal when the URL names an address that is not
/// public (such a URL is connected to without resolving).
pub fn refused_literal(url: &str) -> Option<&'static str> {
    let url = url::Url::parse(url).ok()?;
    literal_ip(&url)
        .filter(|ip| !is_public(*ip))
        .map(|_| REFUSED)
}

/// When a subscription's URL is set: resolves its host and refuses it when
/// the name does not resolve or any address it resolves to is not public.
/// The message names no address (it is shown to the caller).
pub async fn check_target(resolver: &dyn Resolver, url: &str) -> Result<(), Reason> {
    let url = url::Url::parse(url).map_err(|_| Reason::HttpUrl)?;
    if let Some(ip) = literal_ip(&url) {
        return if is_public(ip) {
            Ok(())
        } else {
            Err(Reason::NotPublic)
        };
    }
    let host = url.host_str().ok_or(Reason::HttpUrl)?;
    let port = url.port_or_known_default().unwrap_or(80);
    let lookup = resolver.lookup(host, port);
    let addrs: Vec<IpAddr> = match tokio::time::timeout(RESOLVE_TIMEOUT, lookup).await {
        Ok(Ok(addrs)) => addrs,
        _ => return Err(Reason::HostUnresolved),
    };
    if addrs.is_empty() {
        return Err(Reason::HostUnresolved);
    }
    if addrs.iter().all(|a| is_public(*a)) {
        Ok(())
    } else {
        Err(Reason::NotPublic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_public_unicast_addresses_are_public() {
        for refused in [
            "127.0.0.1",
            "127.8.9.10",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "100.64.0.1",
            "100.127.255.254",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(ip(refused)), "{refused}");
        }
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "169.253.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(ip(public)), "{public}");
        }
    }

    #[test]
    fn literal_addresses_are_refused_before_a_call() {
        assert!(refused_literal("http://127.0.0.1:8080/in").is_some());
        assert!(refused_literal("http://[::1]/in").is_some());
        assert!(refused_literal("http://[::ffff:7f00:1]/in").is_some());
        assert!(refused_literal("http://169.254.169.254/latest").is_some());
        assert!(refused_literal("https://8.8.8.8/in").is_none());
        assert!(refused_literal("https://hooks.example.com/in").is_none());
    }
}
