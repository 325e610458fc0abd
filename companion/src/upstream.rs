//! Egress policy and the upstream HTTP client.
//!
//! Every URL the relay contacts — registry, token realm, each redirect hop — passes
//! [`Egress::check`]: http(s) only, no userinfo, no https→http downgrade, and plain http or
//! a loopback/private address only for hosts named with `--insecure-registry` (or a
//! configured mirror). An `--insecure-registry https://HOST:PORT` entry allows the private
//! address but keeps TLS (a LAN registry with an internal CA, trusted with `--ca-cert`). Host names are resolved once by [`GuardedResolver`], which keeps only
//! public addresses for other hosts, and the connection goes to exactly those addresses, so
//! a name cannot be rebound to 127.0.0.1 between the check and the connect.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

use crate::config::ConfigError;
use crate::error::Error;
use crate::limits::Limits;

/// Which hosts may be reached over http and on non-public addresses.
#[derive(Clone, Debug, Default)]
pub(crate) struct Egress {
    /// `host:port` entries (lowercase, IPv6 without brackets) → whether plain http is
    /// allowed too (`false` for `https://` entries: private address, TLS still required).
    exact: HashMap<(String, Option<u16>), bool>,
    /// Host names (no port) of those entries, for the resolver.
    names: HashSet<String>,
}

impl Egress {
    /// `insecure` are `--insecure-registry` values; `mirrors` are mirror `(host, port)`s.
    pub(crate) fn new(insecure: &[String], mirrors: Vec<(String, u16)>) -> Self {
        let mut egress = Egress::default();
        let entries = insecure
            .iter()
            .filter_map(|entry| split_host_port(entry))
            .chain(mirrors.into_iter().map(|(h, p)| (h, Some(p), true)));
        for (host, port, plain_http) in entries {
            egress.names.insert(host.clone());
            *egress.exact.entry((host, port)).or_insert(false) |= plain_http;
        }
        egress
    }

    /// The entry for `host:port` (one without port matches any port): `Some(plain_http)`.
    fn entry(&self, host: &str, port: u16) -> Option<bool> {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let exact = self.exact.get(&(host.clone(), Some(port)));
        let any_port = self.exact.get(&(host, None));
        match (exact, any_port) {
            (None, None) => None,
            (a, b) => Some(a.copied().unwrap_or(false) || b.copied().unwrap_or(false)),
        }
    }

    /// Whether `host:port` was named as insecure: it may sit on a loopback or private
    /// address.
    pub(crate) fn is_insecure(&self, host: &str, port: u16) -> bool {
        self.entry(host, port).is_some()
    }

    /// Whether `host:port` is reached over plain http (named insecure without `https://`).
    pub(crate) fn allows_http(&self, host: &str, port: u16) -> bool {
        self.entry(host, port) == Some(true)
    }

    /// Checks one URL about to be contacted; `from` is the URL that led here (a redirect
    /// source, or the registry for a token realm).
    pub(crate) fn check(&self, url: &Url, from: Option<&Url>) -> Result<(), Error> {
        let authority = authority(url);
        let refuse = |reason: &str| {
            Err(Error::ForbiddenHost {
                host: authority.clone(),
                reason: reason.to_owned(),
            })
        };
        if !url.username().is_empty() || url.password().is_some() {
            return refuse("URLs with credentials are not followed");
        }
        let Some(host) = url.host() else {
            return refuse("no host");
        };
        let port = url.port_or_known_default().unwrap_or(0);
        let host_str = match &host {
            url::Host::Domain(d) => d.to_ascii_lowercase(),
            url::Host::Ipv4(a) => a.to_string(),
            url::Host::Ipv6(a) => a.to_string(),
        };
        let insecure = self.is_insecure(&host_str, port);
        match url.scheme() {
            "https" => {}
            "http" => {
                if from.is_some_and(|f| f.scheme() == "https") {
                    return refuse("downgrade from https to http");
                }
                if !self.allows_http(&host_str, port) {
                    return refuse(
                        "plain http is only used for registries named with --insecure-registry",
                    );
                }
            }
            _ => return refuse("only http and https"),
        }
        if insecure {
            return Ok(());
        }
        match host {
            url::Host::Ipv4(a) if !is_public(IpAddr::V4(a)) => {
                refuse("not a public address (name the registry with --insecure-registry)")
            }
            url::Host::Ipv6(a) if !is_public(IpAddr::V6(a)) => {
                refuse("not a public address (name the registry with --insecure-registry)")
            }
            // A name listed for another port: the resolver would let it reach a private
            // address, so the port must match too.
            url::Host::Domain(_) if self.names.contains(&host_str) => {
                refuse("this port of an insecure registry host is not allowed")
            }
            _ => Ok(()),
        }
    }
}

/// `host[:port]` of a `--insecure-registry` value, lowercase, IPv6 without brackets, and
/// whether plain http is allowed (every form but `https://HOST[:PORT]`).
fn split_host_port(entry: &str) -> Option<(String, Option<u16>, bool)> {
    let entry = entry.trim();
    let (entry, plain_http) = match entry.strip_prefix("https://") {
        Some(rest) => (rest, false),
        None => (entry.trim_start_matches("http://"), true),
    };
    let entry = entry.trim_end_matches('/');
    let hostname = crate::guard::hostname_of(entry)?;
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

/// The address of a host name is not allowed; raised inside the resolver so that the
/// connection is never attempted.
#[derive(Debug, thiserror::Error)]
#[error("{name} resolves to non-public addresses only (name it with --insecure-registry to allow)")]
pub(crate) struct NonPublicAddress {
    name: String,
}

/// Resolves once and keeps only public addresses, except for insecure-registry names.
struct GuardedResolver {
    allowed_names: HashSet<String>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let allow_private = self.allowed_names.contains(&host);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if kept.is_empty() {
                return Err(Box::new(NonPublicAddress { name: host }) as Box<_>);
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// The client every upstream request goes through, with the policy it obeys.
pub(crate) struct Upstream {
    pub(crate) client: reqwest::Client,
    pub(crate) egress: Egress,
    pub(crate) limits: Limits,
}

impl Upstream {
    /// The client, trusting the built-in roots and every certificate in `ca_certs`.
    pub(crate) fn new(
        egress: Egress,
        limits: Limits,
        ca_certs: &[PathBuf],
    ) -> Result<Self, ConfigError> {
        let resolver = GuardedResolver {
            allowed_names: egress.names.clone(),
        };
        let mut builder = reqwest::Client::builder();
        for path in ca_certs {
            for cert in load_ca_certs(path)? {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(resolver))
            .connect_timeout(limits.connect_timeout)
            .read_timeout(limits.read_timeout)
            .pool_idle_timeout(std::time::Duration::from_secs(90))
            .user_agent(concat!("strata-companion/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError::Client(e.to_string()))?;
        Ok(Upstream {
            client,
            egress,
            limits,
        })
    }
}

/// The certificates of one `--ca-cert` PEM file; a file without any is an error (a
/// mistyped path must not silently trust nothing).
fn load_ca_certs(path: &Path) -> Result<Vec<reqwest::Certificate>, ConfigError> {
    let invalid = |reason: String| ConfigError::CaCert {
        path: path.to_owned(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| invalid(e.to_string()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| invalid(format!("not a PEM certificate bundle: {e}")))?;
    if certs.is_empty() {
        return Err(invalid("no PEM certificate in it".into()));
    }
    Ok(certs)
}

/// Maps a transport error to the relay's error, recognizing refusals by the resolver and
/// certificates that do not verify.
pub(crate) fn classify(error: &reqwest::Error, host: &str) -> Error {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<NonPublicAddress>() {
            return Error::ForbiddenHost {
                host: host.to_owned(),
                reason: refused.to_string(),
            };
        }
        if let Some(problem) = certificate_problem(e) {
            return Error::UpstreamCertificate {
                host: host.to_owned(),
                problem: format!("{problem:?}"),
            };
        }
        source = e.source();
    }
    let detail = error_chain(error);
    if error.is_timeout() {
        Error::UpstreamTimeout {
            host: host.to_owned(),
            detail,
        }
    } else if error.is_connect() {
        Error::UpstreamUnreachable {
            host: host.to_owned(),
            detail,
        }
    } else {
        Error::UpstreamProtocol {
            host: host.to_owned(),
            detail,
        }
    }
}

/// rustls' verdict on the peer certificate, when `error` is (or wraps) one. Looks inside
/// `io::Error`s explicitly, since their `source` skips the error they wrap (and the TLS
/// connector nests them).
fn certificate_problem<'a>(
    mut error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::CertificateError> {
    loop {
        if let Some(rustls::Error::InvalidCertificate(problem)) =
            error.downcast_ref::<rustls::Error>()
        {
            return Some(problem);
        }
        error = error.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
}

/// The error and all its sources, for the log.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        out.push_str(": ");
        out.push_str(&e.to_string());
        source = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn egress_checks() {
        let e = Egress::new(
            &[
                "127.0.0.1:5000".into(),
                "localhost:5001".into(),
                "[::1]:5002".into(),
            ],
            vec![],
        );
        let ok = |u: &str| e.check(&Url::parse(u).unwrap(), None).is_ok();
        assert!(ok("http://127.0.0.1:5000/v2/"));
        assert!(ok("https://127.0.0.1:5000/v2/"));
        assert!(ok("http://localhost:5001/token"));
        assert!(ok("http://[::1]:5002/v2/"));
        assert!(!ok("http://127.0.0.1:5001/v2/"));
        assert!(!ok("https://127.0.0.1/v2/"));
        assert!(!ok("https://169.254.169.254/latest"));
        assert!(!ok("http://registry.example.org/v2/"));
        assert!(ok("https://registry.example.org/v2/"));
        assert!(!ok("https://localhost:6000/"));
        assert!(!ok("https://user:pw@registry.example.org/"));
        assert!(!ok("ftp://registry.example.org/"));
        let from = Url::parse("https://127.0.0.1:5000/v2/").unwrap();
        assert!(
            e.check(&Url::parse("http://127.0.0.1:5000/x").unwrap(), Some(&from))
                .is_err()
        );
    }

    #[test]
    fn https_entries_allow_the_private_address_but_keep_tls() {
        let e = Egress::new(
            &[
                "https://127.0.0.1:5443".into(),
                "https://lan-registry".into(),
            ],
            vec![],
        );
        let ok = |u: &str| e.check(&Url::parse(u).unwrap(), None).is_ok();
        assert!(ok("https://127.0.0.1:5443/v2/"));
        assert!(!ok("http://127.0.0.1:5443/v2/"));
        assert!(ok("https://lan-registry:8443/v2/"));
        assert!(!ok("http://lan-registry/v2/"));
        assert!(e.is_insecure("127.0.0.1", 5443));
        assert!(!e.allows_http("127.0.0.1", 5443));
        // Named both ways: plain http wins, as with the plain entry alone.
        let both = Egress::new(&["https://h:1".into(), "h:1".into()], vec![]);
        assert!(both.allows_http("h", 1));
    }
}
