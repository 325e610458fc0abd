//! The sequence every relay route shares, written once: an upstream slot, the request
//! (mirrors first when allowed, the auth handshake, redirects), and the headers the page
//! gets; then a `HEAD` answer, or the body each route reads its own way.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::OwnedSemaphorePermit;

use super::headers::{cache_control, copy_content_length, relayed_headers};
use crate::auth::{Access, Scope, Target};
use crate::body::{error_body, list_body, manifest_body};
use crate::error::Error;
use crate::redirect::{self, Outgoing};
use crate::registry::{Endpoint, Registry};
use crate::state::AppState;

/// One request to send upstream (to mirrors first when allowed).
pub(super) struct Fetch<'a> {
    pub(super) registry: &'a Registry,
    /// What the token must allow: pull of the repository as the registry knows it
    /// (`library/nginx`), or the catalog.
    pub(super) scope: Scope<'a>,
    pub(super) method: Method,
    /// Path after the origin with its query: `/v2/library/nginx/manifests/latest`.
    pub(super) path: String,
    pub(super) headers: HeaderMap,
    /// Whole-exchange timeout (small documents); `None` for streams.
    pub(super) timeout: Option<Duration>,
    pub(super) use_mirrors: bool,
}

/// An upstream answer on its way back to the page: its status, the headers the page
/// gets, and the upstream slot, held until the answer has been relayed.
pub(super) struct Exchange {
    pub(super) upstream: reqwest::Response,
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) slot: OwnedSemaphorePermit,
}

/// Slot, fetch, headers: `Cache-Control` lets the browser keep content-addressed
/// successes (`by_digest`), nothing else.
pub(super) async fn exchange(
    state: &AppState,
    f: &Fetch<'_>,
    by_digest: bool,
) -> Result<Exchange, Error> {
    let slot = state.upstream().slot().await?;
    let answer = fetch(state, f).await?;
    let upstream = answer.response;
    let status = upstream.status();
    let mut headers = relayed_headers(&upstream, cache_control(status, by_digest));
    headers.insert(STRATA_ACCESS, answer.access.header());
    headers.insert(
        STRATA_SERVED_BY,
        match &answer.mirror {
            Some(mirror) => HeaderValue::from_str(&format!("mirror {mirror}"))
                .unwrap_or_else(|_| HeaderValue::from_static("mirror")),
            None => HeaderValue::from_static("registry"),
        },
    );
    Ok(Exchange {
        upstream,
        status,
        headers,
        slot,
    })
}

impl Exchange {
    /// The answer to a `HEAD`: the headers, the upstream `Content-Length`, no body.
    pub(super) fn head(mut self) -> Response {
        copy_content_length(self.upstream.headers(), &mut self.headers);
        (self.status, self.headers, Body::empty()).into_response()
    }

    /// The answer with a manifest body (capped), or the upstream error body.
    pub(super) async fn manifest(self, state: &AppState) -> Result<Response, Error> {
        let body = manifest_body(self.upstream, &state.upstream().limits).await?;
        Ok((self.status, self.headers, body).into_response())
    }

    /// The answer with a list body, `what` (capped), or the upstream error body.
    pub(super) async fn list(
        self,
        state: &AppState,
        what: &'static str,
    ) -> Result<Response, Error> {
        let body = list_body(self.upstream, &state.upstream().limits, what).await?;
        Ok((self.status, self.headers, body).into_response())
    }

    /// The answer with the upstream error body (capped).
    pub(super) async fn error(self, state: &AppState) -> Result<Response, Error> {
        let limit = state.upstream().limits.error_body_max_bytes;
        let body = error_body(self.upstream, limit).await?;
        Ok((self.status, self.headers, body).into_response())
    }
}

/// How the relay got an answer, for the page's distribution facts (`Strata-Access`).
pub(super) const STRATA_ACCESS: HeaderName = HeaderName::from_static("strata-access");
/// Who answered: `registry`, or `mirror HOST` (`Strata-Served-By`).
pub(super) const STRATA_SERVED_BY: HeaderName = HeaderName::from_static("strata-served-by");

/// An upstream answer, how access was obtained, and the mirror that gave it (if one did).
pub(super) struct Answer {
    pub(super) response: reqwest::Response,
    pub(super) access: Access,
    /// The mirror's host, when a mirror answered.
    pub(super) mirror: Option<String>,
}

/// Mirrors first (any non-2xx or failure falls back), then the registry.
pub(super) async fn fetch(state: &AppState, f: &Fetch<'_>) -> Result<Answer, Error> {
    if f.use_mirrors {
        for mirror in state.registries().mirrors_for(&f.registry.name) {
            match fetch_from(state, mirror, f).await {
                Ok((r, access)) if r.status().is_success() => {
                    tracing::debug!(mirror = %mirror.origin, path = %f.path, "served by mirror");
                    return Ok(Answer {
                        response: r,
                        access,
                        mirror: Some(crate::host::authority(&mirror.origin)),
                    });
                }
                Ok((r, _)) => {
                    tracing::info!(mirror = %mirror.origin, status = %r.status(), "mirror miss; asking the registry")
                }
                Err(e) => {
                    tracing::warn!(mirror = %mirror.origin, "mirror failed ({e}); asking the registry")
                }
            }
        }
    }
    let (response, access) = fetch_from(state, &f.registry.endpoint, f).await?;
    Ok(Answer {
        response,
        access,
        mirror: None,
    })
}

/// Steps 1–5 of the handshake in [`crate::auth`] around one request and its redirects.
async fn fetch_from(
    state: &AppState,
    endpoint: &Endpoint,
    f: &Fetch<'_>,
) -> Result<(reqwest::Response, Access), Error> {
    let upstream = state.upstream();
    let auth = state.auth();
    let target = Target {
        registry: &endpoint.registry,
        origin: &endpoint.origin,
        scope: f.scope.to_string(),
    };
    let url = endpoint.url(&f.path)?;
    let (authorization, access) = auth.authorize(upstream, &target).await?;
    let send = |authorization| {
        redirect::send(
            upstream,
            Outgoing {
                method: f.method.clone(),
                url: url.clone(),
                headers: f.headers.clone(),
                authorization,
                origin: &endpoint.origin,
                timeout: f.timeout,
                same_origin_only: false,
            },
        )
    };
    let answer = send(authorization.as_ref()).await?;
    // Only a 401 from the registry itself refreshes; a 401 from a CDN host is passed on
    // and the registry token is never offered to it.
    if answer.response.status() == StatusCode::UNAUTHORIZED
        && answer.from_origin
        && let Some((fresh, fresh_access)) = auth
            .refresh(
                upstream,
                &target,
                answer.response.headers(),
                authorization.as_ref(),
            )
            .await?
    {
        tracing::debug!(registry = %endpoint.origin, "401: retrying once with a fresh authorization");
        return Ok((send(Some(&fresh)).await?.response, fresh_access));
    }
    Ok((answer.response, access))
}
