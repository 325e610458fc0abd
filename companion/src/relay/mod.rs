//! The relay routes of the companion contract, mirroring the distribution API under a
//! registry host:
//!
//! - `GET|HEAD /api/registry/{host}/v2/{name}/manifests/{reference}`
//! - `GET|HEAD /api/registry/{host}/v2/{name}/blobs/{digest}` (streamed; `Range` passes)
//! - `GET /api/registry/{host}/v2/{name}/tags/list` (`n`, `last`; `Link` rewritten)
//! - `GET /api/registry/{host}/v2/{name}/referrers/{digest}` (tag-schema fallback on 404)
//! - `GET /api/registry/{host}/v2/_catalog` (`n`, `last`; `Link` rewritten; token scope
//!   `registry:catalog:*`)
//! - `GET /api/health`
//!
//! `{name}` contains slashes, so the route takes the rest of the path and splits it from
//! the right on `/manifests/`, `/blobs/`, `/tags/list` or `/referrers/` (`_catalog` alone
//! is the catalog; no repository name is `_catalog`, which starts with `_`). Names, references
//! and digests are validated before anything goes upstream. Upstream statuses pass through
//! (error bodies capped); the relay's own failures are [`Error`]s.

mod blobs;
mod catalog;
mod fetch;
mod headers;
mod manifests;
mod paging;
mod referrers;
mod tags;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::Error;
use crate::extract::ApiPath;
use crate::guard;
use crate::state::AppState;

/// Relay routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/registry/{host}/v2/{*rest}", get(registry_route))
}

/// `GET /api/health`.
pub(crate) fn health_router() -> Router<AppState> {
    Router::new().route("/api/health", get(health))
}

async fn health() -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        axum::Json(serde_json::json!({ "status": "ok" })),
    )
}

/// What the path after `/v2/` asks for.
#[derive(Debug, PartialEq, Eq)]
enum Api<'a> {
    Manifest { name: &'a str, reference: &'a str },
    Blob { name: &'a str, digest: &'a str },
    Tags { name: &'a str },
    Referrers { name: &'a str, digest: &'a str },
    Catalog,
}

/// Splits `{name}/{api}/{last}` from the right; the last part never contains `/`.
fn split_api(rest: &str) -> Option<Api<'_>> {
    if rest == "_catalog" {
        return Some(Api::Catalog);
    }
    if let Some(name) = rest.strip_suffix("/tags/list") {
        return Some(Api::Tags { name });
    }
    let (head, last) = rest.rsplit_once('/')?;
    let (name, kind) = head.rsplit_once('/')?;
    match kind {
        "manifests" => Some(Api::Manifest {
            name,
            reference: last,
        }),
        "blobs" => Some(Api::Blob { name, digest: last }),
        "referrers" => Some(Api::Referrers { name, digest: last }),
        _ => None,
    }
}

async fn registry_route(
    State(state): State<AppState>,
    ApiPath((host, rest)): ApiPath<(String, String)>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let registry = state.registries().resolve(&host)?;
    let api = split_api(&rest).ok_or(Error::NotFound)?;
    let mut response = match api {
        Api::Manifest { name, reference } => {
            guard::validate_name(name)?;
            let reference = guard::parse_reference(reference)?;
            manifests::manifest(&state, &registry, name, &reference, &method).await?
        }
        Api::Blob { name, digest } => {
            guard::validate_name(name)?;
            let digest = guard::parse_digest(digest)?;
            blobs::blob(&state, &registry, name, &digest, &method, &headers).await?
        }
        Api::Tags { name } => {
            guard::validate_name(name)?;
            tags::tags(&state, &registry, name, query.as_deref()).await?
        }
        Api::Catalog => catalog::catalog(&state, &registry, query.as_deref()).await?,
        Api::Referrers { name, digest } => {
            guard::validate_name(name)?;
            let digest = guard::parse_digest(digest)?;
            let artifact_type = referrers::artifact_type_query(query.as_deref())?;
            referrers::referrers(&state, &registry, name, &digest, artifact_type.as_deref()).await?
        }
    };
    headers::harden(response.headers_mut());
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_from_the_right() {
        assert_eq!(
            split_api("library/nginx/manifests/latest"),
            Some(Api::Manifest {
                name: "library/nginx",
                reference: "latest"
            })
        );
        assert_eq!(
            split_api("a/blobs/x/manifests/v1"),
            Some(Api::Manifest {
                name: "a/blobs/x",
                reference: "v1"
            })
        );
        assert_eq!(
            split_api("a/b/blobs/sha256:00"),
            Some(Api::Blob {
                name: "a/b",
                digest: "sha256:00"
            })
        );
        assert_eq!(
            split_api("a/manifests/tags/list"),
            Some(Api::Tags {
                name: "a/manifests"
            })
        );
        assert_eq!(
            split_api("a/referrers/sha256:1"),
            Some(Api::Referrers {
                name: "a",
                digest: "sha256:1"
            })
        );
        assert_eq!(split_api("_catalog"), Some(Api::Catalog));
        assert_eq!(split_api("a/_catalog"), None);
        assert_eq!(split_api("_catalog/x"), None);
        assert_eq!(split_api("manifests/latest"), None);
        assert_eq!(
            split_api("a/manifests/"),
            Some(Api::Manifest {
                name: "a",
                reference: ""
            })
        );
    }
}
