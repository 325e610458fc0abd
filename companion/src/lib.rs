//! Strata's companion: a registry relay for the browser app, and optionally its file server.
//!
//! The browser cannot talk to registries directly (CORS, token realms on other hosts,
//! redirects to CDNs), so the companion carries bytes for it — a courier, not a witness:
//! the page verifies every digest itself. The relay is shaped like a careful registry
//! client and refuses to be an open proxy. Modules, by concern:
//!
//! - `relay/`: the routes (`mod.rs`), the one slot → fetch → headers sequence they share
//!   (`fetch`), one file per route (`manifests`, `blobs`, `tags`, `catalog`,
//!   `referrers`), paged lists (`paging`: `n`, `last`, `Link` rewritten to the relay; links
//!   are read by `strata_shared::link`) and the headers passed each way (`headers`);
//! - `auth/`: the token handshake, Basic auth and credentials;
//! - `redirect`: cross-host redirects; `upstream`: the egress policy and the HTTP client;
//! - `registry`: registry names to API endpoints, mirrors; `host`: host names, ports,
//!   authorities and public addresses;
//! - `guard` (names, tags, digests, `Host`, methods), `cors` and `rate_limit`: what is
//!   refused before anything goes upstream; `body`: capped reads of upstream bodies;
//! - `config` ([`Config`], [`Limits`], [`Flags`]), `state` ([`AppState`]), `clock`,
//!   `error` ([`Error`], and the classification of transport errors), `extract` (path and
//!   query extractors that answer with those errors), `static_files` and the security
//!   headers of the app's pages (`app_headers`).
//!
//! Areas each have a `router()`, merged in [`app`]; `server` accepts the connections.

mod app_headers;
pub mod auth;
mod body;
mod clock;
mod config;
mod cors;
mod error;
mod extract;
mod guard;
mod host;
pub mod local;
mod rate_limit;
mod redirect;
mod registry;
mod relay;
mod server;
mod state;
mod static_files;
mod upstream;

use std::net::SocketAddr;

use axum::Router;

pub use clock::{Clock, SystemClock};
pub use config::{Config, ConfigError, CredentialsSource, DockerHost, Flags, Limits};
pub use error::Error;
pub use state::AppState;

/// The whole application: relay routes, health, the optional static app, and the guards
/// (Host allow-list, CORS, methods, per-client rate) around them.
pub fn app(state: AppState) -> Router {
    let api = relay::router()
        .merge(local::router())
        .route_layer(axum::middleware::from_fn_with_state(
            state.rate_limiter(),
            rate_limit::rate_limit,
        ))
        .merge(relay::health_router());
    let router = Router::new()
        .merge(api)
        .merge(static_files::router(state.config()));
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

/// Binds `config.listen` (port 0 picks a free port) and serves [`app`] in the background,
/// within the connection bounds of [`Limits`] (see `server`). Returns the bound address
/// and the server task.
pub async fn serve(config: Config) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    serve_state(AppState::new(config)?).await
}

/// [`serve`] of a state built by the caller (e.g. with [`AppState::with_clock`]).
pub async fn serve_state(
    state: AppState,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listen = state.config().listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr()?;
    let limits = state.config().limits.clone();
    let handle = tokio::spawn(server::run(listener, app(state), limits));
    Ok((addr, handle))
}
