//! The real CNCF Distribution registry (Debian's `docker-registry`, v2.8) on loopback.
//!
//! Each [`Registry`] gets its own temp directory (config, storage, log) and a free
//! `127.0.0.1` port; it is killed when dropped. [`Registry::start_with_tls`] serves https
//! with a certificate from a [`TestCa`] (Go's server then offers HTTP/2 through ALPN). Port 5000 (where Debian's service may
//! listen) is never used.

use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tempfile::TempDir;

use crate::tls::{ServerCert, TestCa};
use crate::tools;

/// Where Debian installs the registry.
pub const REGISTRY_BINARY: &str = "/usr/bin/docker-registry";

/// How long a registry may take to answer `GET /v2/`.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// Settings of distribution's `auth.token` section.
#[derive(Clone, Debug)]
pub struct TokenAuth {
    /// Where clients get tokens, e.g. `http://localhost:PORT/token`.
    pub realm: String,
    /// The `service` clients send and tokens must carry as audience.
    pub service: String,
    /// The `iss` tokens must carry.
    pub issuer: String,
    /// PEM bundle of certificates that token signers chain to.
    pub rootcert_path: PathBuf,
}

impl TokenAuth {
    fn new(realm: &str, service: &str, issuer: &str, rootcert_path: &Path) -> Self {
        Self {
            realm: realm.to_owned(),
            service: service.to_owned(),
            issuer: issuer.to_owned(),
            rootcert_path: rootcert_path.to_owned(),
        }
    }
}

/// The `http.tls` section: the server certificate and the PEM of the CA that signed it.
#[derive(Clone, Debug)]
pub struct Tls {
    /// Certificate and key files.
    pub cert: ServerCert,
    /// The CA clients must trust.
    pub ca_pem: String,
}

impl Tls {
    fn new(cert: &ServerCert, ca: &TestCa) -> Self {
        Self {
            cert: cert.clone(),
            ca_pem: ca.cert_pem(),
        }
    }
}

/// A running registry; killed on drop.
#[derive(Debug)]
pub struct Registry {
    process: Process,
    token_auth: Option<TokenAuth>,
}

impl Registry {
    /// Starts an open registry (no auth, deletes enabled).
    pub async fn start() -> anyhow::Result<Registry> {
        Self::start_inner(None, None).await
    }

    /// Starts an open registry serving https with `cert` (signed by `ca`).
    pub async fn start_with_tls(cert: &ServerCert, ca: &TestCa) -> anyhow::Result<Registry> {
        let tls = Tls::new(cert, ca);
        Self::start_inner(None, Some(tls)).await
    }

    /// Starts a registry that demands Bearer tokens from `realm` (Docker token protocol).
    pub async fn start_with_token_auth(
        realm: &str,
        service: &str,
        issuer: &str,
        rootcert_path: &Path,
    ) -> anyhow::Result<Registry> {
        let auth = TokenAuth::new(realm, service, issuer, rootcert_path);
        Self::start_inner(Some(auth), None).await
    }

    /// Starts a registry serving https with `cert` (signed by `ca`) that demands Bearer
    /// tokens from `realm`.
    pub async fn start_with_tls_and_token_auth(
        cert: &ServerCert,
        ca: &TestCa,
        realm: &str,
        service: &str,
        issuer: &str,
        rootcert_path: &Path,
    ) -> anyhow::Result<Registry> {
        let auth = TokenAuth::new(realm, service, issuer, rootcert_path);
        let tls = Tls::new(cert, ca);
        Self::start_inner(Some(auth), Some(tls)).await
    }

    async fn start_inner(
        token_auth: Option<TokenAuth>,
        tls: Option<Tls>,
    ) -> anyhow::Result<Registry> {
        // Any HTTP answer (200, or 401 with token auth) means it serves.
        let process = Process::start(
            "docker-registry",
            "strata-registry-",
            &[200, 401],
            tls.as_ref().map(|t| t.ca_pem.as_str()),
            |port, storage| config_yaml(port, storage, token_auth.as_ref(), tls.as_ref()),
        )
        .await?;
        Ok(Registry {
            process,
            token_auth,
        })
    }

    /// `127.0.0.1:PORT`, the registry as a user writes it.
    pub fn host(&self) -> String {
        self.process.host()
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.process.port
    }

    /// `http://127.0.0.1:PORT`, or `https://…` when started with TLS.
    pub fn url(&self) -> String {
        self.process.url()
    }

    /// The PEM of the CA its https certificate chains to, when started with TLS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.process.ca_pem.as_deref()
    }

    /// The token auth it was started with, if any.
    pub fn token_auth(&self) -> Option<&TokenAuth> {
        self.token_auth.as_ref()
    }

    /// Where its blobs and manifests are stored.
    pub fn storage_dir(&self) -> PathBuf {
        self.process.storage_dir()
    }

    /// What the registry logged so far (for failure messages).
    pub fn log(&self) -> String {
        self.process.log()
    }
}

/// A `docker-registry serve` process with its own temp directory (config, storage, log)
/// and a free loopback port; killed on drop. [`Registry`] and
/// [`PullThroughCache`](crate::pull_through::PullThroughCache) each run one.
#[derive(Debug)]
pub(crate) struct Process {
    child: Child,
    port: u16,
    dir: TempDir,
    /// Set when it serves https with a certificate from this CA.
    ca_pem: Option<String>,
}

impl Process {
    /// Starts `docker-registry` in a fresh temp directory named `prefix…` with the config
    /// `config(port, storage)` writes, and waits until `GET /v2/` answers one of
    /// `ready_statuses` (over https trusting `ca_pem` when given). `what` names it in errors.
    pub(crate) async fn start(
        what: &str,
        prefix: &str,
        ready_statuses: &[u16],
        ca_pem: Option<&str>,
        config: impl Fn(u16, &Path) -> String,
    ) -> anyhow::Result<Process> {
        let binary = tools::require(REGISTRY_BINARY)?;
        // The free port is found by binding and releasing it; another process may take it
        // before the registry binds, so try a few times.
        let mut last_err = None;
        for _ in 0..3 {
            match Self::launch(&binary, prefix, ca_pem, &config).await {
                Ok(mut process) => match process.wait_ready(what, ready_statuses).await {
                    Ok(()) => return Ok(process),
                    Err(err) => last_err = Some(err),
                },
                Err(err) => last_err = Some(err),
            }
        }
        Err(last_err.expect("at least one attempt"))
    }

    async fn launch(
        binary: &Path,
        prefix: &str,
        ca_pem: Option<&str>,
        config: &impl Fn(u16, &Path) -> String,
    ) -> anyhow::Result<Process> {
        let dir = tempfile::Builder::new().prefix(prefix).tempdir()?;
        let port = free_port()?;
        let storage = dir.path().join("storage");
        std::fs::create_dir(&storage)?;
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config(port, &storage))?;
        let log = std::fs::File::create(dir.path().join("registry.log"))?;
        let child = Command::new(binary)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("could not start {}", binary.display()))?;
        Ok(Process {
            child,
            port,
            dir,
            ca_pem: ca_pem.map(str::to_owned),
        })
    }

    async fn wait_ready(&mut self, what: &str, ready_statuses: &[u16]) -> anyhow::Result<()> {
        let mut client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2));
        if let Some(pem) = &self.ca_pem {
            client = client.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes())?);
        }
        let client = client.build()?;
        let url = format!("{}/v2/", self.url());
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("{what} exited ({status}) while starting:\n{}", self.log());
            }
            if let Ok(resp) = client.get(&url).send().await
                && ready_statuses.contains(&resp.status().as_u16())
            {
                return Ok(());
            }
            if started.elapsed() > STARTUP_TIMEOUT {
                bail!(
                    "{what} did not answer {url} in {STARTUP_TIMEOUT:?}:\n{}",
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `127.0.0.1:PORT`.
    pub(crate) fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:PORT`, or `https://…` when it serves TLS.
    pub(crate) fn url(&self) -> String {
        let scheme = if self.ca_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.host())
    }

    /// Where its blobs and manifests are stored.
    pub(crate) fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// What it logged so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("no free loopback port")?;
    Ok(listener.local_addr()?.port())
}

/// `s` as a YAML scalar: JSON strings are valid YAML, so every path and URL is quoted
/// that way.
pub(crate) fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).expect("string serializes")
}

/// The config every test registry shares: its storage under `storage`, deletes enabled,
/// listening on `127.0.0.1:port`; the access log only when `access_log`.
/// The registry's base config. Schema1 pushes are accepted (Distribution refuses them by
/// default) so that tests can make the legacy images old registries still serve, and so
/// are foreign layers with http(s) `urls` (refused unless an allow list is set), as
/// Docker Hub accepts Windows base layers.
pub(crate) fn base_config_yaml(port: u16, storage: &Path, access_log: bool) -> String {
    let access_log = if access_log {
        ""
    } else {
        "  accesslog:
    disabled: true
"
    };
    format!(
        "version: 0.1
log:
  level: info
{access_log}storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
compatibility:
  schema1:
    enabled: true
validation:
  manifests:
    urls:
      allow:
        - ^https?://
http:
  addr: {addr}
  secret: strata-test-secret
",
        storage = yaml_str(&storage.to_string_lossy()),
        addr = yaml_str(&format!("127.0.0.1:{port}")),
    )
}

fn config_yaml(
    port: u16,
    storage: &Path,
    token_auth: Option<&TokenAuth>,
    tls: Option<&Tls>,
) -> String {
    let q = yaml_str;
    let mut yaml = base_config_yaml(port, storage, false);
    if let Some(tls) = tls {
        // Continues the `http:` section the base config ends with.
        let _ = write!(
            yaml,
            "  tls:
    certificate: {cert}
    key: {key}
",
            cert = q(&tls.cert.cert_path.to_string_lossy()),
            key = q(&tls.cert.key_path.to_string_lossy()),
        );
    }
    if let Some(auth) = token_auth {
        let _ = write!(
            yaml,
            "auth:
  token:
    realm: {realm}
    service: {service}
    issuer: {issuer}
    rootcertbundle: {bundle}
",
            realm = q(&auth.realm),
            service = q(&auth.service),
            issuer = q(&auth.issuer),
            bundle = q(&auth.rootcert_path.to_string_lossy()),
        );
    }
    yaml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_quotes_paths_and_adds_token_auth() {
        let plain = config_yaml(4321, Path::new("/tmp/a b"), None, None);
        assert!(plain.contains("rootdirectory: \"/tmp/a b\""), "{plain}");
        assert!(plain.contains("addr: \"127.0.0.1:4321\""), "{plain}");
        assert!(!plain.contains("auth:"), "{plain}");
        let auth = TokenAuth {
            realm: "http://localhost:9/token".into(),
            service: "svc".into(),
            issuer: "iss".into(),
            rootcert_path: "/tmp/c.pem".into(),
        };
        let with_auth = config_yaml(1, Path::new("/s"), Some(&auth), None);
        assert!(
            with_auth.contains("realm: \"http://localhost:9/token\""),
            "{with_auth}"
        );
        assert!(
            with_auth.contains("rootcertbundle: \"/tmp/c.pem\""),
            "{with_auth}"
        );
    }
}
