//! The Strata companion, started in-process on a free loopback port.

use std::net::{Ipv4Addr, SocketAddr};

use tokio::task::JoinHandle;

pub use strata_companion::Config;

/// The header the companion requires on every `/api/` request; the app sends it, and a
/// page of another site cannot without the companion's CORS approval.
pub const CLIENT_HEADER: (&str, &str) = ("X-Strata-Client", "1");

/// A client of the companion as the app is one: no proxy, [`CLIENT_HEADER`] on every
/// request (harmless on requests to a registry itself).
pub fn client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        CLIENT_HEADER.0,
        reqwest::header::HeaderValue::from_static(CLIENT_HEADER.1),
    );
    reqwest::Client::builder()
        .no_proxy()
        .default_headers(headers)
        .build()
        .expect("an HTTP client")
}

/// A running companion; its server task is aborted on drop.
#[derive(Debug)]
pub struct Companion {
    addr: SocketAddr,
    handle: JoinHandle<()>,
}

impl Companion {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The relay URL of a distribution API path on `host`:
    /// `http://127.0.0.1:PORT/api/registry/{host}/v2/{path}`.
    pub fn registry_url(&self, host: &str, path: &str) -> String {
        format!(
            "{}/api/registry/{host}/v2/{}",
            self.url(),
            path.trim_start_matches('/')
        )
    }
}

impl Drop for Companion {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// Starts the companion with `config`; a `listen` of port 8787 (the default) is replaced
/// by a free port on 127.0.0.1 so tests never collide.
pub async fn start_companion(mut config: Config) -> anyhow::Result<Companion> {
    if config.listen.port() == Config::default().listen.port() {
        config.listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    }
    let (addr, handle) = strata_companion::serve(config).await?;
    Ok(Companion { addr, handle })
}

/// A companion that may reach each of `insecure` (`HOST:PORT`) over plain http, with
/// anonymous credentials only (the user's docker config is not read).
pub async fn start_companion_for(insecure: &[String]) -> anyhow::Result<Companion> {
    start_companion(Config {
        insecure_registries: insecure.to_vec(),
        credentials: strata_companion::CredentialsSource::None,
        ..Config::default()
    })
    .await
}
