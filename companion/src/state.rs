//! [`AppState`]: what every handler and middleware shares, built once from a [`Config`].

use std::sync::Arc;

use crate::auth::Authenticator;
use crate::auth::credentials::CredentialStore;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, ConfigError};
use crate::local::LocalSources;
use crate::rate_limit::RateLimiter;
use crate::registry::Registries;
use crate::upstream::{Egress, Upstream};

/// Everything a request handler needs: configuration, the upstream client, the token
/// cache and the limiters. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    registries: Registries,
    upstream: Upstream,
    auth: Authenticator,
    rate_limiter: Arc<RateLimiter>,
    local: LocalSources,
}

impl AppState {
    /// Validates `config` and builds the upstream client.
    pub fn new(config: Config) -> Result<AppState, ConfigError> {
        AppState::with_clock(config, Arc::new(SystemClock))
    }

    /// [`AppState::new`] with token lifetimes measured on `clock` (tests move it by hand).
    pub fn with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<AppState, ConfigError> {
        let registries = Registries::new(&config)?;
        let egress = Egress::new(&config.insecure_registries, registries.operator_hosts());
        let upstream = Upstream::new(egress, config.limits.clone(), &config.ca_certs)?;
        let credentials = CredentialStore::load(&config.credentials)?;
        let auth = Authenticator::new(credentials, clock);
        let rate_limiter = Arc::new(RateLimiter::new(&config.limits));
        let local = LocalSources::new(&config.oci_layouts, config.docker_host.socket());
        Ok(AppState {
            inner: Arc::new(Inner {
                config,
                registries,
                upstream,
                auth,
                rate_limiter,
                local,
            }),
        })
    }

    /// The configuration this state was built from.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub(crate) fn registries(&self) -> &Registries {
        &self.inner.registries
    }

    pub(crate) fn upstream(&self) -> &Upstream {
        &self.inner.upstream
    }

    pub(crate) fn auth(&self) -> &Authenticator {
        &self.inner.auth
    }

    /// The local sources: OCI layouts, the demo and the daemon.
    pub fn local(&self) -> &LocalSources {
        &self.inner.local
    }

    pub(crate) fn rate_limiter(&self) -> Arc<RateLimiter> {
        self.inner.rate_limiter.clone()
    }
}
