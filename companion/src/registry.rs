//! Registries as users write them, mapped to API endpoints: `docker.io` →
//! `https://registry-1.docker.io` with `library/` for one-part names; hosts named with
//! `--insecure-registry HOST:PORT` over plain http (`https://HOST:PORT` keeps TLS);
//! everything else https. Mirrors (`--mirror
//! docker.io=http://127.0.0.1:5000`) are endpoints tried first.

use std::collections::HashMap;

use url::Url;

use crate::config::{Config, ConfigError};
use crate::error::Error;
use crate::host::{authority, host_and_port, validate_host};
use crate::upstream::Egress;

/// The Docker Hub registry name as users write it.
pub(crate) const DOCKER_HUB: &str = "docker.io";
/// Its API host.
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// One place a registry's API answers.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint {
    /// Registry name for credentials (`docker.io`, or the mirror's host).
    pub(crate) registry: String,
    /// `scheme://host[:port]/`.
    pub(crate) origin: Url,
}

impl Endpoint {
    /// The URL of `path` (starting with `/v2/`) at this endpoint.
    pub(crate) fn url(&self, path_and_query: &str) -> Result<Url, Error> {
        self.origin
            .join(path_and_query)
            .map_err(|e| Error::UpstreamProtocol {
                host: authority(&self.origin),
                detail: format!("cannot build URL for {path_and_query:?}: {e}"),
            })
    }
}

/// A registry resolved from the `{host}` segment.
#[derive(Clone, Debug)]
pub(crate) struct Registry {
    /// Normalized name (`docker.io`, `ghcr.io`, `127.0.0.1:5000`).
    pub(crate) name: String,
    pub(crate) endpoint: Endpoint,
}

impl Registry {
    /// The repository as the registry knows it: `nginx` → `library/nginx` on Docker Hub.
    pub(crate) fn repository(&self, name: &str) -> String {
        if self.name == DOCKER_HUB && !name.contains('/') {
            format!("library/{name}")
        } else {
            name.to_owned()
        }
    }
}

/// Registry mapping and mirrors.
pub(crate) struct Registries {
    insecure: Egress,
    mirrors: HashMap<String, Vec<Endpoint>>,
    /// `Config::endpoint_overrides`: registry name → API origin used instead of its own.
    overrides: HashMap<String, Url>,
}

impl Registries {
    pub(crate) fn new(config: &Config) -> Result<Self, ConfigError> {
        for entry in &config.insecure_registries {
            let host = entry
                .strip_prefix("https://")
                .unwrap_or_else(|| entry.trim_start_matches("http://"))
                .trim_end_matches('/');
            if validate_host(host).is_err() {
                return Err(ConfigError::InsecureRegistry(entry.clone()));
            }
        }
        for origin in &config.allow_origins {
            let ok = origin != "*"
                && Url::parse(origin).is_ok_and(|u| {
                    matches!(u.scheme(), "http" | "https")
                        && u.host_str().is_some()
                        && u.path() == "/"
                });
            if !ok {
                return Err(ConfigError::Origin(origin.clone()));
            }
        }
        if let Some(dist) = &config.dist
            && !dist.join("index.html").is_file()
        {
            return Err(ConfigError::Dist(dist.clone()));
        }
        let mut mirrors: HashMap<String, Vec<Endpoint>> = HashMap::new();
        for (registry, url) in &config.mirrors {
            let (registry, origin) = parse_origin(registry, url).map_err(ConfigError::Mirror)?;
            let host = authority(&origin);
            mirrors.entry(registry).or_default().push(Endpoint {
                registry: host,
                origin,
            });
        }
        let mut overrides = HashMap::new();
        for (registry, url) in &config.endpoint_overrides {
            let (registry, origin) =
                parse_origin(registry, url).map_err(ConfigError::EndpointOverride)?;
            overrides.insert(registry, origin);
        }
        Ok(Registries {
            insecure: Egress::new(&config.insecure_registries, Vec::new()),
            mirrors,
            overrides,
        })
    }

    /// Mirror and endpoint-override hosts and ports: the operator named them, so plain
    /// http and private addresses are allowed for them like for insecure registries.
    pub(crate) fn operator_hosts(&self) -> Vec<(String, u16)> {
        self.mirrors
            .values()
            .flatten()
            .map(|e| &e.origin)
            .chain(self.overrides.values())
            .filter_map(|origin| {
                let host = origin
                    .host_str()?
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_ascii_lowercase();
                Some((host, origin.port_or_known_default()?))
            })
            .collect()
    }

    /// Resolves the `{host}` segment.
    pub(crate) fn resolve(&self, host: &str) -> Result<Registry, Error> {
        let name = normalize_name(host)?;
        if let Some(origin) = self.overrides.get(&name) {
            return Ok(Registry {
                endpoint: Endpoint {
                    registry: name.clone(),
                    origin: origin.clone(),
                },
                name,
            });
        }
        let api = if name == DOCKER_HUB {
            DOCKER_HUB_API.to_owned()
        } else {
            name.clone()
        };
        let (hostname, port) = host_and_port(&api);
        // Plain http only when named with --insecure-registry without `https://` (port 80
        // when none is written).
        let plain_http = self.insecure.allows_http(hostname, port.unwrap_or(80));
        let scheme = if plain_http { "http" } else { "https" };
        let origin = Url::parse(&format!("{scheme}://{api}/")).map_err(|_| Error::InvalidHost {
            host: host.to_owned(),
            reason: "not a host name or address",
        })?;
        // `host:80` of a plain-http registry: its default port (`:443` is caught earlier).
        canonical(host, &api, &origin)?;
        Ok(Registry {
            endpoint: Endpoint {
                registry: name.clone(),
                origin,
            },
            name,
        })
    }

    /// Mirrors to try before `registry`.
    pub(crate) fn mirrors_for(&self, registry: &str) -> &[Endpoint] {
        self.mirrors.get(registry).map_or(&[], Vec::as_slice)
    }
}

/// `REGISTRY` and `http(s)://HOST[:PORT]` of a mirror or override: the normalized name
/// and the origin; the error is the `REGISTRY=URL` spec.
fn parse_origin(registry: &str, url: &str) -> Result<(String, Url), String> {
    let spec = format!("{registry}={url}");
    let registry = normalize_name(registry).map_err(|_| spec.clone())?;
    let parsed = Url::parse(url).map_err(|_| spec.clone())?;
    if !matches!(parsed.scheme(), "http" | "https")
        || parsed.host_str().is_none()
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return Err(spec);
    }
    let mut origin = parsed;
    origin.set_path("/");
    origin.set_query(None);
    origin.set_fragment(None);
    Ok((registry, origin))
}

/// Lowercases, validates and maps Docker Hub's aliases to `docker.io`. A name is looked
/// up (credentials, tokens, insecure entries) under one spelling only, so any other
/// spelling of the same address is refused: a port with leading zeros or the default
/// port, an IPv4 address in another notation (`127.1`, `0x7f.0.0.1`), an IPv6 address not
/// in its shortest form.
fn normalize_name(host: &str) -> Result<String, Error> {
    validate_host(host)?;
    let lower = host.to_ascii_lowercase();
    let parsed = Url::parse(&format!("https://{lower}/")).map_err(|_| Error::InvalidHost {
        host: host.to_owned(),
        reason: "not a host name or address",
    })?;
    canonical(host, &lower, &parsed)?;
    Ok(match lower.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            DOCKER_HUB.to_owned()
        }
        _ => lower,
    })
}

/// `written` (lowercase) is how `url` writes its own authority, else the error naming
/// `host` as given and the canonical spelling.
fn canonical(host: &str, written: &str, url: &Url) -> Result<(), Error> {
    let canonical = authority(url);
    if canonical == written {
        Ok(())
    } else {
        Err(Error::NonCanonicalHost {
            host: host.to_owned(),
            canonical,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registries(insecure: &[&str]) -> Registries {
        let config = Config {
            insecure_registries: insecure.iter().map(|s| (*s).to_owned()).collect(),
            ..Config::default()
        };
        Registries::new(&config).unwrap()
    }

    #[test]
    fn mapping() {
        let r = registries(&["127.0.0.1:5000", "myregistry", "https://127.0.0.1:5443"]);
        let hub = r.resolve("docker.io").unwrap();
        assert_eq!(
            hub.endpoint.origin.as_str(),
            "https://registry-1.docker.io/"
        );
        assert_eq!(hub.repository("nginx"), "library/nginx");
        assert_eq!(hub.repository("team/app"), "team/app");
        assert_eq!(r.resolve("index.docker.io").unwrap().name, "docker.io");
        let ghcr = r.resolve("GHCR.io").unwrap();
        assert_eq!(ghcr.endpoint.origin.as_str(), "https://ghcr.io/");
        assert_eq!(ghcr.repository("nginx"), "nginx");
        assert_eq!(
            r.resolve("127.0.0.1:5000")
                .unwrap()
                .endpoint
                .origin
                .as_str(),
            "http://127.0.0.1:5000/"
        );
        assert_eq!(
            r.resolve("127.0.0.1:5001")
                .unwrap()
                .endpoint
                .origin
                .as_str(),
            "https://127.0.0.1:5001/"
        );
        assert_eq!(
            r.resolve("myregistry:8080")
                .unwrap()
                .endpoint
                .origin
                .as_str(),
            "http://myregistry:8080/"
        );
        assert_eq!(
            r.resolve("127.0.0.1:5443")
                .unwrap()
                .endpoint
                .origin
                .as_str(),
            "https://127.0.0.1:5443/",
            "an https:// insecure entry keeps TLS"
        );
        assert!(matches!(
            Registries::new(&Config {
                insecure_registries: vec!["https://".into()],
                ..Config::default()
            }),
            Err(ConfigError::InsecureRegistry(_))
        ));
        assert_eq!(
            r.resolve("[::1]:5000").unwrap().endpoint.origin.as_str(),
            "https://[::1]:5000/"
        );
    }

    #[test]
    fn one_spelling_per_registry() {
        let r = registries(&["127.0.0.1:5078", "lan"]);
        for (bad, canonical) in [
            ("127.0.0.1:05078", "127.0.0.1:5078"),
            ("127.1:5078", "127.0.0.1:5078"),
            ("0x7f.0.0.1:5078", "127.0.0.1:5078"),
            ("2130706433:5078", "127.0.0.1:5078"),
            ("ghcr.io:443", "ghcr.io"),
            ("[0:0::1]:5000", "[::1]:5000"),
            ("lan:80", "lan"),
        ] {
            match r.resolve(bad) {
                Err(Error::NonCanonicalHost { host, canonical: c }) => {
                    assert_eq!((host.as_str(), c.as_str()), (bad, canonical))
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert_eq!(r.resolve("GHCR.io").unwrap().name, "ghcr.io");
        assert_eq!(r.resolve("lan:8080").unwrap().name, "lan:8080");
        assert_eq!(r.resolve("[::1]:5000").unwrap().name, "[::1]:5000");
        assert!(matches!(
            r.resolve("ghcr.io."),
            Err(Error::InvalidHost { .. })
        ));
    }

    #[test]
    fn endpoint_override_replaces_the_api_host() {
        let config = Config {
            endpoint_overrides: vec![("index.docker.io".into(), "http://127.0.0.1:9/x?y".into())],
            ..Config::default()
        };
        let r = Registries::new(&config).unwrap();
        let hub = r.resolve("docker.io").unwrap();
        assert_eq!(hub.name, "docker.io");
        assert_eq!(
            hub.endpoint.registry, "docker.io",
            "Docker Hub's credentials"
        );
        assert_eq!(hub.endpoint.origin.as_str(), "http://127.0.0.1:9/");
        assert_eq!(hub.repository("nginx"), "library/nginx");
        assert_eq!(r.operator_hosts(), vec![("127.0.0.1".to_owned(), 9)]);
        assert_eq!(
            r.resolve("ghcr.io").unwrap().endpoint.origin.as_str(),
            "https://ghcr.io/"
        );
        for bad in ["ftp://x", "http://u:p@x", "nope"] {
            let config = Config {
                endpoint_overrides: vec![("docker.io".into(), bad.into())],
                ..Config::default()
            };
            assert!(
                matches!(
                    Registries::new(&config),
                    Err(ConfigError::EndpointOverride(_))
                ),
                "{bad}"
            );
        }
    }
}
