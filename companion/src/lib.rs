//! Strata's companion: a registry relay for the browser app, and optionally its file server.
//!
//! The browser cannot talk to registries directly (CORS, token realms on other hosts,
//! redirects to CDNs), so the companion carries bytes for it — a courier, not a witness:
//! the page verifies every digest itself. The relay is shaped like a careful registry
//! client (see `auth` for the token handshake, `redirect` for cross-host redirects,
//! `upstream` for the egress policy) and refuses to be an open proxy (`guard`, `cors`,
//! `limits`).
//!
//! Areas each have a `router()`, merged in [`app`].

pub mod auth;
mod config;
mod cors;
mod error;
mod guard;
mod limits;
pub mod local;
mod redirect;
mod registry;
mod relay;
mod static_files;
mod upstream;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;

pub use config::{Config, ConfigError, CredentialsSource, DockerHost, Flags};
pub use error::Error;
pub use limits::Limits;

/// Everything a request handler needs: configuration, the upstream client, the token
/// cache and the limiters. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    registries: registry::Registries,
    upstream: upstream::Upstream,
    auth: auth::Authenticator,
    limiter: limits::Limiter,
    local: local::LocalSources,
}

impl AppState {
    /// Validates `config` and builds the upstream client.
    pub fn new(config: Config) -> Result<AppState, ConfigError> {
        let registries = registry::Registries::new(&config)?;
        let egress =
            upstream::Egress::new(&config.insecure_registries, registries.operator_hosts());
        let upstream = upstream::Upstream::new(egress, config.limits.clone(), &config.ca_certs)?;
        let credentials = auth::credentials::CredentialStore::load(&config.credentials)?;
        let auth = auth::Authenticator::new(credentials);
        let limiter = limits::Limiter::new(&config.limits);
        let local = local::LocalSources::new(&config.oci_layouts, config.docker_host.socket());
        Ok(AppState {
            inner: Arc::new(Inner {
                config,
                registries,
                upstream,
                auth,
                limiter,
                local,
            }),
        })
    }

    /// The configuration this state was built from.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The local sources: OCI layouts, the demo and the daemon.
    pub fn local(&self) -> &local::LocalSources {
        &self.inner.local
    }
}

/// The whole application: relay routes, health, the optional static app, and the guards
/// (Host allow-list, CORS, methods, per-client rate) around them.
pub fn app(state: AppState) -> Router {
    let api = relay::router()
        .merge(local::router())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::rate_limit,
        ))
        .merge(relay::health_router());
    let router = Router::new()
        .merge(api)
        .merge(static_files::router(&state.inner.config));
    router
        .layer(axum::middleware::from_fn(guard::only_get_and_head))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            cors::cors,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::host_allow_list,
        ))
        .with_state(state)
}

/// Binds `config.listen` (port 0 picks a free port) and serves [`app`] in the background.
/// Returns the bound address and the server task.
pub async fn serve(config: Config) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listen = config.listen;
    let state = AppState::new(config)?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr()?;
    let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
    let handle = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, service).await {
            tracing::error!("server stopped: {e}");
        }
    });
    Ok((addr, handle))
}
