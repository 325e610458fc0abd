//! Host names, ports and authorities: parsing what users and requests write
//! (`host[:port]`, `[v6]:port`), validating registry hosts by the reference grammar, and
//! telling public addresses from loopback and private ones.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::Url;

use crate::error::Error;

/// The host part of `host[:port]` or `[v6]:port`, without brackets.
pub(crate) fn hostname_of(authority: &str) -> Option<&str> {
    if let Some(rest) = authority.strip_prefix('[') {
        let end = rest.find(']')?;
        let after = &rest[end + 1..];
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(is_port)) {
            return None;
        }
        return Some(&rest[..end]);
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if is_port(p) && !h.contains(':') => Some(h),
        Some(_) => None,
        None => Some(authority),
    }
    .filter(|h| !h.is_empty())
}

fn is_port(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 5
        && p.bytes().all(|b| b.is_ascii_digit())
        && p.parse::<u32>().is_ok_and(|n| n <= 65535)
}

/// The host name and the port, if one is written, of a registry API host (`host[:port]`,
/// `[v6]:port`).
pub(crate) fn host_and_port(api: &str) -> (&str, Option<u16>) {
    let hostname = hostname_of(api).unwrap_or(api);
    let port = api.rsplit_once(':').and_then(|(h, p)| {
        if h.ends_with(']') || !h.contains(':') {
            p.parse().ok()
        } else {
            None
        }
    });
    (hostname, port)
}

/// `host[:port]` of a `--insecure-registry` value, lowercase, IPv6 without brackets, and
/// whether plain http is allowed (every form but `https://HOST[:PORT]`).
pub(crate) fn split_insecure_entry(entry: &str) -> Option<(String, Option<u16>, bool)> {
    let entry = entry.trim();
    let (entry, plain_http) = match entry.strip_prefix("https://") {
        Some(rest) => (rest, false),
        None => (entry.trim_start_matches("http://"), true),
    };
    let entry = entry.trim_end_matches('/');
    let hostname = hostname_of(entry)?;
    let rest = &entry[entry.find(hostname)? + hostname.len()..];
    let rest = rest.trim_start_matches(']');
    let port = match rest.strip_prefix(':') {
        Some(p) => Some(p.parse().ok()?),
        None => None,
    };
    Some((hostname.to_ascii_lowercase(), port, plain_http))
}

/// `host:port` of a URL for messages and comparisons.
pub(crate) fn authority(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        _ => String::new(),
    }
}

/// Same scheme, host and port.
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
}

/// `domain-name [':' port]` or `'[' IPv6 ']' [':' port]`, by the reference grammar.
pub(crate) fn validate_host(host: &str) -> Result<(), Error> {
    let bad = |reason| {
        Err(Error::InvalidHost {
            host: host.to_owned(),
            reason,
        })
    };
    if host.is_empty() || host.len() > 255 {
        return bad("empty or too long");
    }
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let Some(end) = rest.find(']') else {
            return bad("unclosed '['");
        };
        if rest[..end].parse::<Ipv6Addr>().is_err() {
            return bad("not an IPv6 address");
        }
        let after = &rest[end + 1..];
        if after.is_empty() {
            (None, None)
        } else if let Some(p) = after.strip_prefix(':') {
            (None, Some(p))
        } else {
            return bad("junk after ']'");
        }
    } else {
        match host.split_once(':') {
            Some((n, p)) => (Some(n), Some(p)),
            None => (Some(host), None),
        }
    };
    if let Some(p) = port
        && !(is_port(p) && p.parse::<u32>().is_ok_and(|n| n != 0))
    {
        return bad("bad port");
    }
    if let Some(name) = name {
        let ok = !name.is_empty()
            && name.split('.').all(|c| {
                let b = c.as_bytes();
                !b.is_empty()
                    && b.len() <= 63
                    && b[0].is_ascii_alphanumeric()
                    && b[b.len() - 1].is_ascii_alphanumeric()
                    && b.iter().all(|&x| x.is_ascii_alphanumeric() || x == b'-')
            });
        if !ok {
            return bad("not a host name or address");
        }
    }
    Ok(())
}

/// Whether an address is globally routable: not loopback, private, link-local, CGNAT,
/// unspecified, multicast, documentation or reserved, for IPv4 and IPv6 (including
/// IPv4-mapped, NAT64 and 6to4 forms of such addresses).
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => is_public_v4(a),
        IpAddr::V6(a) => is_public_v6(a),
    }
}

fn is_public_v4(a: Ipv4Addr) -> bool {
    let [o0, o1, o2, _] = a.octets();
    !(o0 == 0                                   // "this network", unspecified
        || o0 == 10                             // private
        || o0 == 127                            // loopback
        || (o0 == 100 && (64..128).contains(&o1)) // CGNAT 100.64/10
        || (o0 == 169 && o1 == 254)             // link-local (cloud metadata)
        || (o0 == 172 && (16..32).contains(&o1)) // private
        || (o0 == 192 && o1 == 0 && o2 == 0)    // IETF protocol assignments
        || (o0 == 192 && o1 == 0 && o2 == 2)    // documentation
        || (o0 == 192 && o1 == 88 && o2 == 99)  // 6to4 relay anycast
        || (o0 == 192 && o1 == 168)             // private
        || (o0 == 198 && (18..20).contains(&o1)) // benchmarking
        || (o0 == 198 && o1 == 51 && o2 == 100) // documentation
        || (o0 == 203 && o1 == 0 && o2 == 113)  // documentation
        || o0 >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(a: Ipv6Addr) -> bool {
    let s = a.segments();
    if let Some(v4) = a.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        // NAT64 well-known prefix 64:ff9b::/96
        let [a0, a1] = s[6].to_be_bytes();
        let [a2, a3] = s[7].to_be_bytes();
        return is_public_v4(Ipv4Addr::new(a0, a1, a2, a3));
    }
    if s[0] == 0x2002 {
        // 6to4 embeds an IPv4 address
        let [a0, a1] = s[1].to_be_bytes();
        let [a2, a3] = s[2].to_be_bytes();
        return is_public_v4(Ipv4Addr::new(a0, a1, a2, a3));
    }
    !(a.is_unspecified()
        || a.is_loopback()
        || s[0..6] == [0, 0, 0, 0, 0, 0]          // IPv4-compatible (deprecated) and ::/96
        || (s[0] & 0xfe00) == 0xfc00              // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80              // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0              // site-local fec0::/10
        || (s[0] & 0xff00) == 0xff00              // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8)     // documentation
        || (s[0] == 0x2001 && s[1] == 0)          // Teredo
        || s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only 100::/64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames() {
        assert_eq!(hostname_of("localhost:8787"), Some("localhost"));
        assert_eq!(hostname_of("[::1]:8787"), Some("::1"));
        assert_eq!(hostname_of("example.org"), Some("example.org"));
        assert_eq!(hostname_of("a:b"), None);
        assert_eq!(hostname_of(":80"), None);
        assert_eq!(host_and_port("[::1]:5000"), ("::1", Some(5000)));
        assert_eq!(host_and_port("ghcr.io"), ("ghcr.io", None));
        assert_eq!(
            split_insecure_entry("https://LAN:8443/"),
            Some(("lan".to_owned(), Some(8443), false))
        );
        assert_eq!(
            split_insecure_entry("[::1]"),
            Some(("::1".to_owned(), None, true))
        );
    }

    #[test]
    fn hosts() {
        for ok in [
            "docker.io",
            "127.0.0.1:5000",
            "localhost",
            "[::1]:5000",
            "[::1]",
            "a-b.c",
        ] {
            assert!(validate_host(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "a_b", "-a", "a..b", "a:", "a:0", "a:99999", "a:x", "[::1", "[zz]", "a/b", "a b",
            "user@h",
        ] {
            assert!(
                matches!(validate_host(bad), Err(Error::InvalidHost { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn public_addresses() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            "ff02::1",
            "2001:db8::1",
            "::127.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }
}
