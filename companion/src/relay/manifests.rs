//! `GET|HEAD …/manifests/{reference}`: every manifest type Strata reads, capped, from a
//! mirror first when there is one.

use axum::http::Method;
use axum::response::Response;
use strata_shared::media_type::MANIFEST_ACCEPT;

use super::fetch::{Fetch, exchange};
use super::headers::{get_or_head, upstream_headers};
use crate::auth::Scope;
use crate::error::Error;
use crate::guard::ManifestRef;
use crate::registry::Registry;
use crate::state::AppState;

pub(super) async fn manifest(
    state: &AppState,
    registry: &Registry,
    name: &str,
    reference: &ManifestRef,
    method: &Method,
) -> Result<Response, Error> {
    let repository = registry.repository(name);
    let fetch = Fetch {
        registry,
        scope: Scope::Pull(&repository),
        method: get_or_head(method),
        path: format!("/v2/{repository}/manifests/{}", reference.as_path()),
        headers: upstream_headers(Some(MANIFEST_ACCEPT)),
        timeout: Some(state.upstream().limits.request_timeout),
        use_mirrors: true,
    };
    let by_digest = matches!(reference, ManifestRef::Digest(_));
    let exchange = exchange(state, &fetch, by_digest).await?;
    if method == Method::HEAD {
        return Ok(exchange.head());
    }
    exchange.manifest(state).await
}
