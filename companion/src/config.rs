//! Configuration: the [`Config`] the library runs with, its [`Limits`], and the
//! command-line [`Flags`] of the companion contract that produce it.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Where registry credentials come from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CredentialsSource {
    /// The user's docker configuration: `$REGISTRY_AUTH_FILE`, else
    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json` (absent files are fine).
    #[default]
    Environment,
    /// This docker-style `config.json` / `auth.json` only.
    File(PathBuf),
    /// This file, with `docker-credential-*` helpers looked up in the directory instead of
    /// `$PATH` (tests, sandboxed setups).
    FileWithHelperDir(PathBuf, PathBuf),
    /// Anonymous only.
    None,
}

/// How the companion runs. `Config::default()` is what the binary does without flags.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on (default `127.0.0.1:8787`; port 0 picks a free port).
    pub listen: SocketAddr,
    /// Registries (`HOST:PORT`, or `HOST` for any port) reached over plain http and allowed
    /// on loopback or private addresses. Every other host is https-only and public. An
    /// entry written `https://HOST:PORT` is allowed on a private address but keeps https.
    pub insecure_registries: Vec<String>,
    /// PEM files whose certificates are trusted for upstream https besides the built-in
    /// roots: registries on a LAN often use an internal CA.
    pub ca_certs: Vec<PathBuf>,
    /// Origins allowed by CORS besides the app's own (e.g. `http://127.0.0.1:8080`).
    pub allow_origins: Vec<String>,
    /// Pull-through caches tried before a registry: (`docker.io`, `http://127.0.0.1:5000`).
    pub mirrors: Vec<(String, String)>,
    /// API origins used *instead of* a registry's own, with no fallback: (`docker.io`,
    /// `http://127.0.0.1:5000`) sends Docker Hub's requests (names still get `library/`,
    /// credentials are still Docker Hub's) to that origin. Not a flag: for tests that
    /// emulate a public registry on loopback, and for embedders. Like a mirror, the
    /// operator named it, so plain http and private addresses are allowed for it.
    pub endpoint_overrides: Vec<(String, String)>,
    /// Directory of the built app to serve, with `index.html` as the app-route fallback.
    pub dist: Option<PathBuf>,
    /// Extra names this server answers to in the `Host` header (IP literals, `localhost`
    /// and the hosts of `allow_origins` are always accepted).
    pub allowed_hosts: Vec<String>,
    /// Where registry credentials come from.
    pub credentials: CredentialsSource,
    /// Body caps, timeouts and rate bounds.
    pub limits: Limits,
    /// OCI image layouts served read-only as `oci:NAME`: (`NAME`, directory).
    pub oci_layouts: Vec<(String, PathBuf)>,
    /// The Docker/Podman Engine API socket for local images.
    pub docker_host: DockerHost,
}

/// Where the Docker/Podman daemon listens.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum DockerHost {
    /// `$DOCKER_HOST`, else `/var/run/docker.sock`, else Podman's socket
    /// (`$XDG_RUNTIME_DIR/podman/podman.sock`, `/run/podman/podman.sock`), if one exists.
    #[default]
    Auto,
    /// No daemon (`--docker-host none`).
    Off,
    /// This Unix socket.
    Unix(PathBuf),
}

impl DockerHost {
    /// Reads `none`, `unix:///path` or `/path`. TCP daemons are refused: without TLS
    /// client certificates they hand root on this machine to anyone who can connect.
    pub fn parse(value: &str) -> Result<DockerHost, ConfigError> {
        if value == "none" {
            return Ok(DockerHost::Off);
        }
        let path = value.strip_prefix("unix://").unwrap_or(value);
        if path.starts_with('/') && !path.contains('\0') {
            return Ok(DockerHost::Unix(PathBuf::from(path)));
        }
        Err(ConfigError::DockerHost(value.to_owned()))
    }

    /// The socket to use, if any: `Auto` looks at the environment and the usual places.
    pub fn socket(&self) -> Option<PathBuf> {
        match self {
            DockerHost::Off => None,
            DockerHost::Unix(path) => Some(path.clone()),
            DockerHost::Auto => {
                if let Ok(value) = std::env::var("DOCKER_HOST") {
                    return DockerHost::parse(&value).ok().and_then(|h| h.socket());
                }
                let mut candidates = vec![PathBuf::from("/var/run/docker.sock")];
                if let Ok(runtime) = std::env::var("XDG_RUNTIME_DIR") {
                    candidates.push(PathBuf::from(runtime).join("podman/podman.sock"));
                }
                candidates.push(PathBuf::from("/run/podman/podman.sock"));
                candidates.into_iter().find(|p| p.exists())
            }
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 8787)),
            insecure_registries: Vec::new(),
            ca_certs: Vec::new(),
            allow_origins: Vec::new(),
            mirrors: Vec::new(),
            endpoint_overrides: Vec::new(),
            dist: None,
            allowed_hosts: Vec::new(),
            credentials: CredentialsSource::default(),
            limits: Limits::default(),
            oci_layouts: Vec::new(),
            docker_host: DockerHost::default(),
        }
    }
}

/// Caps, timeouts and rate bounds of the relay. The upstream ones are not flags (the
/// defaults are the contract); those of the connections from clients are
/// (`--header-read-timeout`, `--idle-timeout`, `--client-stall-timeout`,
/// `--max-connections`).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest manifest relayed (registries cap manifests at 4 MiB).
    pub manifest_max_bytes: u64,
    /// Largest token-service answer read.
    pub token_max_bytes: u64,
    /// Largest upstream error body passed through.
    pub error_body_max_bytes: u64,
    /// Largest tag list or referrers index relayed.
    pub list_max_bytes: u64,
    /// Connecting to an upstream.
    pub connect_timeout: Duration,
    /// Longest pause between two reads of an upstream body.
    pub read_timeout: Duration,
    /// Whole exchange for small documents (manifests, tokens, lists).
    pub request_timeout: Duration,
    /// Redirect hops followed per request.
    pub max_redirects: usize,
    /// Upstream requests in flight at once (a streaming blob holds one until it ends).
    pub max_concurrent_upstream: usize,
    /// How long a request waits for an upstream slot before a 429.
    pub queue_timeout: Duration,
    /// Sustained requests per second per client address.
    pub client_rate_per_second: u32,
    /// Burst of requests per client address.
    pub client_burst: u32,
    /// How long a client may take to send a request's head (from the first byte, or from
    /// the end of the previous response on a kept-alive connection).
    pub header_read_timeout: Duration,
    /// How long a connection may stay open with no request in flight and no byte moving.
    pub idle_timeout: Duration,
    /// How long a response may wait for the client to take any byte of it; then the
    /// connection is closed, which frees its upstream slot and upstream connection.
    pub client_stall_timeout: Duration,
    /// Client connections served at once; further ones wait to be accepted.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            manifest_max_bytes: 4 * 1024 * 1024,
            token_max_bytes: 64 * 1024,
            error_body_max_bytes: 64 * 1024,
            list_max_bytes: 8 * 1024 * 1024,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(60),
            max_redirects: 5,
            max_concurrent_upstream: 128,
            queue_timeout: Duration::from_secs(30),
            client_rate_per_second: 50,
            client_burst: 500,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            client_stall_timeout: Duration::from_secs(60),
            max_connections: 512,
        }
    }
}

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `--mirror` not of the form `REGISTRY=URL` or with a bad URL.
    #[error("invalid --mirror {0:?}: expected REGISTRY=http(s)://HOST[:PORT]")]
    Mirror(String),
    /// An endpoint override with a bad registry name or URL.
    #[error("invalid endpoint override {0:?}: expected REGISTRY=http(s)://HOST[:PORT]")]
    EndpointOverride(String),
    /// `--insecure-registry` that is not `HOST[:PORT]`.
    #[error("invalid --insecure-registry {0:?}: expected HOST:PORT")]
    InsecureRegistry(String),
    /// `--allow-origin` that is not `scheme://host[:port]`.
    #[error(
        "invalid --allow-origin {0:?}: expected an origin such as http://127.0.0.1:8080 (never *)"
    )]
    Origin(String),
    /// `--dist` without an `index.html`.
    #[error("invalid --dist {0:?}: no index.html in it")]
    Dist(PathBuf),
    /// The docker configuration file cannot be read.
    #[error("cannot read registry credentials from {path:?}: {reason}")]
    Credentials {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A `--ca-cert` file that cannot be read or holds no PEM certificate.
    #[error("invalid --ca-cert {path:?}: {reason}")]
    CaCert {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// `--docker-host` that is not `none`, `unix:///path` or an absolute path.
    #[error(
        "invalid --docker-host {0:?}: expected unix:///path/to/docker.sock or none (TCP daemons are not supported)"
    )]
    DockerHost(String),
    /// `--oci-layout` not of the form `NAME=DIR` with a valid name.
    #[error(
        "invalid --oci-layout {0:?}: expected NAME=DIR, NAME of a-z 0-9 . _ - (\"demo\" is taken)"
    )]
    OciLayout(String),
    /// The HTTP client cannot be built.
    #[error("cannot build the upstream HTTP client: {0}")]
    Client(String),
}

/// Command-line flags: `strata-companion [--listen ADDR] [--insecure-registry HOST[:PORT]]...
/// [--ca-cert FILE]... [--allow-origin ORIGIN]... [--mirror REGISTRY=URL]... [--dist DIR]
/// [--allow-host HOST]... [--anonymous] [--header-read-timeout SECS] [--idle-timeout SECS]
/// [--client-stall-timeout SECS] [--max-connections N]`. The other [`Limits`] and
/// endpoint overrides are not flags.
#[derive(Debug, clap::Parser)]
#[command(
    name = "strata-companion",
    version,
    about = "Registry relay for the Strata app"
)]
pub struct Flags {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
    /// Registry reached over plain http, allowed on loopback/private addresses (repeatable).
    /// HOST alone means any port; written https://HOST[:PORT], it is allowed there but
    /// still reached over https.
    #[arg(long = "insecure-registry", value_name = "HOST:PORT")]
    pub insecure_registries: Vec<String>,
    /// PEM file of CA certificates trusted for upstream https, e.g. a LAN's internal CA
    /// (repeatable).
    #[arg(long = "ca-cert", value_name = "FILE")]
    pub ca_certs: Vec<PathBuf>,
    /// Origin allowed by CORS besides the app's own (repeatable).
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origins: Vec<String>,
    /// Pull-through cache tried before REGISTRY, e.g. docker.io=http://127.0.0.1:5000 (repeatable).
    #[arg(long = "mirror", value_name = "REGISTRY=URL")]
    pub mirrors: Vec<String>,
    /// Also serve the built app from DIR.
    #[arg(long, value_name = "DIR")]
    pub dist: Option<PathBuf>,
    /// Extra name accepted in the Host header, e.g. strata.example.org (repeatable).
    #[arg(long = "allow-host", value_name = "HOST")]
    pub allowed_hosts: Vec<String>,
    /// Ignore docker credentials (and credential helpers) and pull anonymously.
    #[arg(long)]
    pub anonymous: bool,
    /// Docker/Podman Engine API socket for local images (unix:///path or none). Default:
    /// $DOCKER_HOST, else /var/run/docker.sock, else Podman's socket. Read-only endpoints only.
    #[arg(long = "docker-host", value_name = "URL|none")]
    pub docker_host: Option<String>,
    /// Serve an OCI image layout read-only as oci:NAME (repeatable).
    #[arg(long = "oci-layout", value_name = "NAME=DIR")]
    pub oci_layouts: Vec<String>,
    /// Seconds a client may take to send a request's headers; then its connection is
    /// closed.
    #[arg(
        long = "header-read-timeout",
        value_name = "SECS",
        default_value_t = 10
    )]
    pub header_read_timeout: u64,
    /// Seconds a connection may stay open with no request and no byte moving.
    #[arg(long = "idle-timeout", value_name = "SECS", default_value_t = 60)]
    pub idle_timeout: u64,
    /// Seconds a response may wait for the client to read any of it; then the connection
    /// is closed (freeing its upstream request).
    #[arg(
        long = "client-stall-timeout",
        value_name = "SECS",
        default_value_t = 60
    )]
    pub client_stall_timeout: u64,
    /// Client connections served at once; more wait to be accepted.
    #[arg(long = "max-connections", value_name = "N", default_value_t = 512)]
    pub max_connections: usize,
}

impl Flags {
    /// The configuration these flags describe.
    pub fn into_config(self) -> Result<Config, ConfigError> {
        let mirrors = self
            .mirrors
            .iter()
            .map(|m| {
                m.split_once('=')
                    .filter(|(r, u)| !r.is_empty() && !u.is_empty())
                    .map(|(r, u)| (r.to_owned(), u.to_owned()))
                    .ok_or_else(|| ConfigError::Mirror(m.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let oci_layouts = self
            .oci_layouts
            .iter()
            .map(|l| {
                l.split_once('=')
                    .filter(|(name, dir)| {
                        strata_shared::source::is_layout_name(name)
                            && *name != "demo"
                            && !dir.is_empty()
                    })
                    .map(|(name, dir)| (name.to_owned(), PathBuf::from(dir)))
                    .ok_or_else(|| ConfigError::OciLayout(l.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let docker_host = match &self.docker_host {
            Some(value) => DockerHost::parse(value)?,
            None => DockerHost::Auto,
        };
        Ok(Config {
            listen: self.listen,
            insecure_registries: self.insecure_registries,
            ca_certs: self.ca_certs,
            allow_origins: self.allow_origins,
            mirrors,
            endpoint_overrides: Vec::new(),
            dist: self.dist,
            allowed_hosts: self.allowed_hosts,
            credentials: if self.anonymous {
                CredentialsSource::None
            } else {
                CredentialsSource::Environment
            },
            limits: Limits {
                header_read_timeout: Duration::from_secs(self.header_read_timeout.max(1)),
                idle_timeout: Duration::from_secs(self.idle_timeout.max(1)),
                client_stall_timeout: Duration::from_secs(self.client_stall_timeout.max(1)),
                max_connections: self.max_connections.max(1),
                ..Limits::default()
            },
            oci_layouts,
            docker_host,
        })
    }
}
