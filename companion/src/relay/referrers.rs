//! `GET …/referrers/{digest}`: the referrers API, or on a 404 the OCI 1.1 tag-schema
//! fallback (`sha256-<hex>`), marked `Strata-Referrers-Fallback: tag`; an empty index when
//! neither exists.

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use strata_shared::Digest;

use super::fetch::{Fetch, exchange, fetch};
use super::headers::{pass_headers, upstream_headers};
use crate::auth::Scope;
use crate::body::manifest_body;
use crate::error::Error;
use crate::registry::Registry;
use crate::state::AppState;

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// Says the answer came from the tag schema, not the referrers API.
const FALLBACK: HeaderName = HeaderName::from_static("strata-referrers-fallback");

pub(super) fn artifact_type_query(query: Option<&str>) -> Result<Option<String>, Error> {
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if k == "artifactType" {
            let ok_part = |p: &str| {
                !p.is_empty()
                    && p.len() <= 127
                    && p.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
            };
            let ok = v
                .split_once('/')
                .is_some_and(|(a, b)| ok_part(a) && ok_part(b));
            if !ok {
                return Err(Error::InvalidQuery {
                    name: "artifactType",
                    reason: format!("{v:?} is not a media type"),
                });
            }
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

pub(super) async fn referrers(
    state: &AppState,
    registry: &Registry,
    name: &str,
    digest: &Digest,
    artifact_type: Option<&str>,
) -> Result<Response, Error> {
    let repository = registry.repository(name);
    let mut path = format!("/v2/{repository}/referrers/{digest}");
    if let Some(t) = artifact_type {
        path.push('?');
        path.push_str(
            &url::form_urlencoded::Serializer::new(String::new())
                .append_pair("artifactType", t)
                .finish(),
        );
    }
    let mut fetch_spec = Fetch {
        registry,
        scope: Scope::Pull(&repository),
        method: Method::GET,
        path,
        headers: upstream_headers(Some(OCI_INDEX)),
        timeout: Some(state.upstream().limits.request_timeout),
        use_mirrors: false,
    };
    let exchange = exchange(state, &fetch_spec, false).await?;
    if exchange.status != StatusCode::NOT_FOUND {
        return exchange.list(state, "referrers index").await;
    }
    // No referrers API: the OCI 1.1 tag schema, `<alg>-<hex>`, holds the index (asked for
    // on the same upstream slot).
    let _slot = exchange.slot;
    fetch_spec.path = format!(
        "/v2/{repository}/manifests/{}-{}",
        digest.algorithm().name(),
        digest.hex()
    );
    let upstream = fetch(state, &fetch_spec).await?.response;
    let status = upstream.status();
    let mut out = HeaderMap::new();
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    out.insert(FALLBACK, HeaderValue::from_static("tag"));
    if status == StatusCode::NOT_FOUND {
        out.insert(header::CONTENT_TYPE, HeaderValue::from_static(OCI_INDEX));
        let empty = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
        return Ok((StatusCode::OK, out, empty).into_response());
    }
    out.extend(pass_headers(upstream.headers()));
    let body = manifest_body(upstream, &state.upstream().limits).await?;
    Ok((status, out, body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_types() {
        assert_eq!(artifact_type_query(None).unwrap(), None);
        assert_eq!(
            artifact_type_query(Some("artifactType=application%2Fvnd.example%2Bjson"))
                .unwrap()
                .as_deref(),
            Some("application/vnd.example+json")
        );
        assert!(matches!(
            artifact_type_query(Some("artifactType=nope")),
            Err(Error::InvalidQuery {
                name: "artifactType",
                ..
            })
        ));
    }
}
