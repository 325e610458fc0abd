//! Egress policy and the upstream HTTP client.
//!
//! Every URL the relay contacts — registry, token realm, each redirect hop — passes
//! [`Egress::check`]: http(s) only, no userinfo, no https→http downgrade, and plain http or
//! a loopback/private address only for hosts named with `--insecure-registry` (or a
//! configured mirror). An `--insecure-registry https://HOST:PORT` entry allows the private
//! address but keeps TLS (a LAN registry with an internal CA, trusted with `--ca-cert`).
//! Host names are resolved once by [`GuardedResolver`], which keeps only public addresses
//! for other hosts, and the connection goes to exactly those addresses, so a name cannot
//! be rebound to 127.0.0.1 between the check and the connect.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use crate::config::{ConfigError, Limits};
use crate::error::{Error, NonPublicAddress};
use crate::host::{authority, is_public, split_insecure_entry};

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
            .filter_map(|entry| split_insecure_entry(entry))
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

/// The client every upstream request goes through, with the policy it obeys and the
/// slots that bound how many requests are in flight at once.
pub(crate) struct Upstream {
    pub(crate) client: reqwest::Client,
    pub(crate) egress: Egress,
    pub(crate) limits: Limits,
    slots: Arc<Semaphore>,
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
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(concat!("strata-companion/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError::Client(e.to_string()))?;
        Ok(Upstream {
            client,
            egress,
            slots: Arc::new(Semaphore::new(limits.max_concurrent_upstream.max(1))),
            limits,
        })
    }

    /// One upstream slot, held until the permit drops (for blobs: until the stream ends);
    /// a 429 after `queue_timeout` without one.
    pub(crate) async fn slot(&self) -> Result<OwnedSemaphorePermit, Error> {
        let wait = self.slots.clone().acquire_owned();
        match tokio::time::timeout(self.limits.queue_timeout, wait).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(Error::RateLimited(
                "too many upstream requests in flight; retry shortly",
            )),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let ok = |u: &str| match e.check(&Url::parse(u).unwrap(), None) {
            Ok(()) => true,
            Err(Error::ForbiddenHost { .. }) => false,
            Err(other) => panic!("{u}: {other}"),
        };
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
        assert!(matches!(
            e.check(&Url::parse("http://127.0.0.1:5000/x").unwrap(), Some(&from)),
            Err(Error::ForbiddenHost { .. })
        ));
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
        let ok = |u: &str| match e.check(&Url::parse(u).unwrap(), None) {
            Ok(()) => true,
            Err(Error::ForbiddenHost { .. }) => false,
            Err(other) => panic!("{u}: {other}"),
        };
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
