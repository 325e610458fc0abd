//! The relay routes of the companion contract, mirroring the distribution API under a
//! registry host:
//!
//! - `GET|HEAD /api/registry/{host}/v2/{name}/manifests/{reference}`
//! - `GET|HEAD /api/registry/{host}/v2/{name}/blobs/{digest}` (streamed; `Range` passes)
//! - `GET /api/registry/{host}/v2/{name}/tags/list` (`n`, `last`; `Link` rewritten)
//! - `GET /api/registry/{host}/v2/{name}/referrers/{digest}` (tag-schema fallback on 404)
//! - `GET /api/health`
//!
//! `{name}` contains slashes, so the route takes the rest of the path and splits it from
//! the right on `/manifests/`, `/blobs/`, `/tags/list` or `/referrers/`. Names, references
//! and digests are validated before anything goes upstream. Upstream statuses pass through
//! (error bodies capped); the relay's own failures are [`Error`]s.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use futures_util::StreamExt as _;
use strata_shared::Digest;
use strata_shared::media_type::MANIFEST_ACCEPT;
use url::Url;

use crate::AppState;
use crate::auth::Target;
use crate::error::Error;
use crate::guard::{self, ManifestRef};
use crate::limits::{Limits, content_length, read_capped};
use crate::redirect::{self, Outgoing};
use crate::registry::{Endpoint, Registry};

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// Upstream response headers the page gets.
const PASSED_HEADERS: &[&str] = &[
    "content-type",
    "docker-content-digest",
    "etag",
    "last-modified",
    "content-range",
    "accept-ranges",
    "content-encoding",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "ratelimit-policy",
    "docker-ratelimit-source",
    "retry-after",
    "oci-filters-applied",
    "docker-distribution-api-version",
];

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
}

/// Splits `{name}/{api}/{last}` from the right; the last part never contains `/`.
fn split_api(rest: &str) -> Option<Api<'_>> {
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
    Path((host, rest)): Path<(String, String)>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let registry = state.inner.registries.resolve(&host)?;
    let api = split_api(&rest).ok_or(Error::NotFound)?;
    let mut response = match api {
        Api::Manifest { name, reference } => {
            guard::validate_name(name)?;
            let reference = guard::parse_reference(reference)?;
            manifest(&state, &registry, name, &reference, &method).await?
        }
        Api::Blob { name, digest } => {
            guard::validate_name(name)?;
            let digest = guard::parse_digest(digest)?;
            blob(&state, &registry, name, &digest, &method, &headers).await?
        }
        Api::Tags { name } => {
            guard::validate_name(name)?;
            let query = tags_query(query.as_deref())?;
            tags(&state, &registry, name, &query).await?
        }
        Api::Referrers { name, digest } => {
            guard::validate_name(name)?;
            let digest = guard::parse_digest(digest)?;
            let artifact_type = artifact_type_query(query.as_deref())?;
            referrers(&state, &registry, name, &digest, artifact_type.as_deref()).await?
        }
    };
    let h = response.headers_mut();
    // Whatever a registry claims its bytes are, they never run as a page of this origin.
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(response)
}

/// One request to send upstream (to mirrors first when allowed).
struct Fetch<'a> {
    registry: &'a Registry,
    /// Repository as the registry knows it (`library/nginx`).
    repository: &'a str,
    method: Method,
    /// Path after the origin with its query: `/v2/library/nginx/manifests/latest`.
    path: String,
    headers: HeaderMap,
    timeout: Option<Duration>,
    use_mirrors: bool,
}

/// Mirrors first (any non-2xx or failure falls back), then the registry.
async fn fetch(state: &AppState, f: &Fetch<'_>) -> Result<reqwest::Response, Error> {
    if f.use_mirrors {
        for mirror in state.inner.registries.mirrors_for(&f.registry.name) {
            match fetch_from(state, mirror, f).await {
                Ok(r) if r.status().is_success() => {
                    tracing::debug!(mirror = %mirror.origin, path = %f.path, "served by mirror");
                    return Ok(r);
                }
                Ok(r) => {
                    tracing::info!(mirror = %mirror.origin, status = %r.status(), "mirror miss; asking the registry")
                }
                Err(e) => {
                    tracing::warn!(mirror = %mirror.origin, "mirror failed ({e}); asking the registry")
                }
            }
        }
    }
    fetch_from(state, &f.registry.endpoint, f).await
}

/// Steps 1–5 of the handshake in [`crate::auth`] around one request and its redirects.
async fn fetch_from(
    state: &AppState,
    endpoint: &Endpoint,
    f: &Fetch<'_>,
) -> Result<reqwest::Response, Error> {
    let upstream = &state.inner.upstream;
    let auth = &state.inner.auth;
    let target = Target {
        registry: &endpoint.registry,
        origin: &endpoint.origin,
        scope: format!("repository:{}:pull", f.repository),
    };
    let url = endpoint.url(&f.path)?;
    let authorization = auth.authorize(upstream, &target).await?;
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
            },
        )
    };
    let answer = send(authorization.as_ref()).await?;
    // Only a 401 from the registry itself refreshes; a 401 from a CDN host is passed on
    // and the registry token is never offered to it.
    if answer.response.status() == StatusCode::UNAUTHORIZED
        && answer.from_origin
        && let Some(fresh) = auth
            .refresh(
                upstream,
                &target,
                answer.response.headers(),
                authorization.as_ref(),
            )
            .await?
    {
        tracing::debug!(registry = %endpoint.origin, "401: retrying once with a fresh authorization");
        return Ok(send(Some(&fresh)).await?.response);
    }
    Ok(answer.response)
}

async fn manifest(
    state: &AppState,
    registry: &Registry,
    name: &str,
    reference: &ManifestRef,
    method: &Method,
) -> Result<Response, Error> {
    let repository = registry.repository(name);
    let headers = upstream_headers(Some(MANIFEST_ACCEPT));
    let _slot = state.inner.limiter.upstream_slot().await?;
    let upstream = fetch(
        state,
        &Fetch {
            registry,
            repository: &repository,
            method: get_or_head(method),
            path: format!("/v2/{repository}/manifests/{}", reference.as_path()),
            headers,
            timeout: Some(state.inner.upstream.limits.request_timeout),
            use_mirrors: true,
        },
    )
    .await?;
    let status = upstream.status();
    let out = relayed_headers(
        &upstream,
        cache_control(status, matches!(reference, ManifestRef::Digest(_))),
    );
    if method == Method::HEAD {
        return Ok(head_response(status, out, upstream.headers()));
    }
    let body = manifest_body(upstream, &state.inner.upstream.limits).await?;
    Ok((status, out, body).into_response())
}

async fn blob(
    state: &AppState,
    registry: &Registry,
    name: &str,
    digest: &Digest,
    method: &Method,
    client_headers: &HeaderMap,
) -> Result<Response, Error> {
    let repository = registry.repository(name);
    let mut headers = upstream_headers(None);
    if let Some(range) = client_headers.get(header::RANGE) {
        headers.insert(header::RANGE, valid_range(range)?);
    }
    let slot = state.inner.limiter.upstream_slot().await?;
    let upstream = fetch(
        state,
        &Fetch {
            registry,
            repository: &repository,
            method: get_or_head(method),
            path: format!("/v2/{repository}/blobs/{digest}"),
            headers,
            timeout: None,
            use_mirrors: true,
        },
    )
    .await?;
    let status = upstream.status();
    let mut out = relayed_headers(&upstream, cache_control(status, true));
    if method == Method::HEAD {
        return Ok(head_response(status, out, upstream.headers()));
    }
    if !status.is_success() {
        let body = error_body(upstream, state.inner.upstream.limits.error_body_max_bytes).await?;
        return Ok((status, out, body).into_response());
    }
    copy_content_length(upstream.headers(), &mut out);
    let body = Body::from_stream(checked_stream(upstream, slot));
    Ok((status, out, body).into_response())
}

/// The upstream body as a stream that fails — rather than ends cleanly — when the
/// upstream breaks off or sends other than `Content-Length` bytes, so a truncated blob
/// never looks like a complete one. Holds the upstream slot until it ends.
fn checked_stream(
    upstream: reqwest::Response,
    slot: tokio::sync::OwnedSemaphorePermit,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    struct St<S> {
        inner: S,
        expected: Option<u64>,
        seen: u64,
        done: bool,
        host: String,
        _slot: tokio::sync::OwnedSemaphorePermit,
    }
    let expected = content_length(upstream.headers());
    let host = crate::upstream::authority(upstream.url());
    let state = St {
        inner: upstream.bytes_stream(),
        expected,
        seen: 0,
        done: false,
        host,
        _slot: slot,
    };
    futures_util::stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        let fail = |st: &mut St<_>, what: String| {
            st.done = true;
            tracing::warn!(upstream = %st.host, "blob stream aborted: {what}");
            Some((Err(std::io::Error::other(what)), ()))
        };
        let item = match st.inner.next().await {
            Some(Ok(chunk)) => {
                st.seen += chunk.len() as u64;
                match st.expected {
                    Some(n) if st.seen > n => fail(
                        &mut st,
                        format!("upstream sent more than Content-Length {n}"),
                    ),
                    _ => Some((Ok(chunk), ())),
                }
            }
            Some(Err(e)) => fail(
                &mut st,
                format!("upstream body failed: {}", crate::upstream::error_chain(&e)),
            ),
            None => match st.expected {
                Some(n) if st.seen != n => {
                    let seen = st.seen;
                    fail(
                        &mut st,
                        format!("upstream body ended after {seen} of {n} bytes"),
                    )
                }
                _ => None,
            },
        };
        item.map(|(result, ())| (result, st))
    })
}

#[derive(Debug, Default)]
struct TagsQuery {
    n: Option<u32>,
    last: Option<String>,
}

fn tags_query(query: Option<&str>) -> Result<TagsQuery, Error> {
    let mut out = TagsQuery::default();
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "n" => {
                let n: u32 = v.parse().map_err(|_| Error::InvalidQuery {
                    name: "n",
                    reason: format!("{v:?} is not a number"),
                })?;
                if n == 0 || n > 10_000 {
                    return Err(Error::InvalidQuery {
                        name: "n",
                        reason: "must be between 1 and 10000".into(),
                    });
                }
                out.n = Some(n);
            }
            "last" => {
                guard::validate_tag(&v)?;
                out.last = Some(v.into_owned());
            }
            _ => {}
        }
    }
    Ok(out)
}

fn tags_query_string(n: Option<&str>, last: Option<&str>) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    if let Some(n) = n {
        s.append_pair("n", n);
    }
    if let Some(last) = last {
        s.append_pair("last", last);
    }
    s.finish()
}

async fn tags(
    state: &AppState,
    registry: &Registry,
    name: &str,
    query: &TagsQuery,
) -> Result<Response, Error> {
    let repository = registry.repository(name);
    let n = query.n.map(|n| n.to_string());
    let qs = tags_query_string(n.as_deref(), query.last.as_deref());
    let path = if qs.is_empty() {
        format!("/v2/{repository}/tags/list")
    } else {
        format!("/v2/{repository}/tags/list?{qs}")
    };
    let headers = upstream_headers(Some("application/json"));
    let _slot = state.inner.limiter.upstream_slot().await?;
    let upstream = fetch(
        state,
        &Fetch {
            registry,
            repository: &repository,
            method: Method::GET,
            path,
            headers,
            timeout: Some(state.inner.upstream.limits.request_timeout),
            use_mirrors: false,
        },
    )
    .await?;
    let status = upstream.status();
    let mut out = relayed_headers(&upstream, HeaderValue::from_static("no-store"));
    let base = upstream.url().clone();
    for link in upstream.headers().get_all(header::LINK) {
        if let Some(rewritten) = link
            .to_str()
            .ok()
            .and_then(|l| rewrite_link(l, &base, &registry.name))
            && let Ok(v) = HeaderValue::from_str(&rewritten)
        {
            out.append(header::LINK, v);
        }
    }
    let body = list_body(upstream, &state.inner.upstream.limits, "tag list").await?;
    Ok((status, out, body).into_response())
}

/// Rewrites `</v2/NAME/tags/list?n=..&last=..>; rel="next"` (relative, or absolute on the
/// same origin) to the relay's path. Anything else is dropped.
fn rewrite_link(link: &str, base: &Url, host: &str) -> Option<String> {
    let link = link.trim();
    let rest = link.strip_prefix('<')?;
    let (target, params) = rest.split_once('>')?;
    let url = base.join(target).ok()?;
    if !crate::upstream::same_origin(&url, base) {
        return None;
    }
    let name = url
        .path()
        .strip_prefix("/v2/")?
        .strip_suffix("/tags/list")?;
    guard::validate_name(name).ok()?;
    let (mut n, mut last) = (None, None);
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "n" if v.bytes().all(|b| b.is_ascii_digit()) && !v.is_empty() && v.len() <= 6 => {
                n = Some(v.into_owned())
            }
            "last" if guard::validate_tag(&v).is_ok() => last = Some(v.into_owned()),
            _ => {}
        }
    }
    let qs = tags_query_string(n.as_deref(), last.as_deref());
    let mut path = format!("/api/registry/{host}/v2/{name}/tags/list");
    if !qs.is_empty() {
        path.push('?');
        path.push_str(&qs);
    }
    Some(format!("<{path}>{params}"))
}

fn artifact_type_query(query: Option<&str>) -> Result<Option<String>, Error> {
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

async fn referrers(
    state: &AppState,
    registry: &Registry,
    name: &str,
    digest: &Digest,
    artifact_type: Option<&str>,
) -> Result<Response, Error> {
    let repository = registry.repository(name);
    let headers = upstream_headers(Some(OCI_INDEX));
    let mut path = format!("/v2/{repository}/referrers/{digest}");
    if let Some(t) = artifact_type {
        path.push('?');
        path.push_str(
            &url::form_urlencoded::Serializer::new(String::new())
                .append_pair("artifactType", t)
                .finish(),
        );
    }
    let limits = state.inner.upstream.limits.clone();
    let _slot = state.inner.limiter.upstream_slot().await?;
    let mut fetch_spec = Fetch {
        registry,
        repository: &repository,
        method: Method::GET,
        path,
        headers,
        timeout: Some(limits.request_timeout),
        use_mirrors: false,
    };
    let upstream = fetch(state, &fetch_spec).await?;
    let fallback_header = HeaderName::from_static("strata-referrers-fallback");
    if upstream.status() != StatusCode::NOT_FOUND {
        let status = upstream.status();
        let out = relayed_headers(&upstream, HeaderValue::from_static("no-store"));
        let body = list_body(upstream, &limits, "referrers index").await?;
        return Ok((status, out, body).into_response());
    }
    // No referrers API: the OCI 1.1 tag schema, `<alg>-<hex>`, holds the index.
    fetch_spec.path = format!(
        "/v2/{repository}/manifests/{}-{}",
        digest.algorithm().name(),
        digest.hex()
    );
    let upstream = fetch(state, &fetch_spec).await?;
    let status = upstream.status();
    let mut out = HeaderMap::new();
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    out.insert(fallback_header, HeaderValue::from_static("tag"));
    if status == StatusCode::NOT_FOUND {
        out.insert(header::CONTENT_TYPE, HeaderValue::from_static(OCI_INDEX));
        let empty = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
        return Ok((StatusCode::OK, out, empty).into_response());
    }
    out.extend(pass_headers(upstream.headers()));
    let body = manifest_body(upstream, &limits).await?;
    Ok((status, out, body).into_response())
}

/// Request headers for upstream: `Accept` when given, and always
/// `Accept-Encoding: identity` (lengths and digests are of the bytes as stored).
fn upstream_headers(accept: Option<&'static str>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(accept) = accept {
        headers.insert(header::ACCEPT, HeaderValue::from_static(accept));
    }
    headers.insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static("identity"),
    );
    headers
}

/// `HEAD` stays `HEAD`; anything else goes upstream as `GET`.
fn get_or_head(method: &Method) -> Method {
    if method == Method::HEAD {
        Method::HEAD
    } else {
        Method::GET
    }
}

/// Names the HTTP version of the upstream answer (`HTTP/2.0`, `HTTP/1.1`): a diagnostic
/// (and a testable fact) for whether TLS upstreams negotiated HTTP/2. The page does not use
/// it; the version carries no secret.
const UPSTREAM_HTTP: HeaderName = HeaderName::from_static("strata-upstream-http");

/// [`pass_headers`] of the upstream response, with the relay's `Cache-Control` and the
/// upstream's HTTP version in [`UPSTREAM_HTTP`].
fn relayed_headers(upstream: &reqwest::Response, cache_control: HeaderValue) -> HeaderMap {
    let mut out = pass_headers(upstream.headers());
    out.insert(header::CACHE_CONTROL, cache_control);
    out.insert(UPSTREAM_HTTP, http_version(upstream.version()));
    out
}

fn http_version(version: reqwest::Version) -> HeaderValue {
    HeaderValue::from_static(match version {
        reqwest::Version::HTTP_09 => "HTTP/0.9",
        reqwest::Version::HTTP_10 => "HTTP/1.0",
        reqwest::Version::HTTP_11 => "HTTP/1.1",
        reqwest::Version::HTTP_2 => "HTTP/2.0",
        reqwest::Version::HTTP_3 => "HTTP/3.0",
        _ => "unknown",
    })
}

/// The answer to a `HEAD`: the headers, the upstream `Content-Length`, no body.
fn head_response(status: StatusCode, mut out: HeaderMap, upstream: &HeaderMap) -> Response {
    copy_content_length(upstream, &mut out);
    (status, out, Body::empty()).into_response()
}

/// A manifest body (capped at `manifest_max_bytes`), or the upstream error body.
async fn manifest_body(upstream: reqwest::Response, limits: &Limits) -> Result<Bytes, Error> {
    let limit = limits.manifest_max_bytes;
    capped_body(upstream, limits, limit, || Error::ManifestTooLarge {
        limit,
    })
    .await
}

/// A list body, `what` (capped at `list_max_bytes`), or the upstream error body.
async fn list_body(
    upstream: reqwest::Response,
    limits: &Limits,
    what: &'static str,
) -> Result<Bytes, Error> {
    let limit = limits.list_max_bytes;
    capped_body(upstream, limits, limit, || Error::BodyTooLarge {
        what,
        limit,
    })
    .await
}

/// A success body capped at `limit` (`too_large` past it), or the upstream error body.
async fn capped_body(
    upstream: reqwest::Response,
    limits: &Limits,
    limit: u64,
    too_large: impl Fn() -> Error,
) -> Result<Bytes, Error> {
    if upstream.status().is_success() {
        read_capped(upstream, limit, too_large).await
    } else {
        error_body(upstream, limits.error_body_max_bytes).await
    }
}

/// The upstream headers the page may see. `WWW-Authenticate` passes only when every
/// challenge in it is Bearer (a Basic challenge would make the browser prompt for a
/// password on the companion's origin).
fn pass_headers(upstream: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in PASSED_HEADERS {
        for value in upstream.get_all(*name) {
            out.append(HeaderName::from_static(name), value.clone());
        }
    }
    for value in upstream.get_all(header::WWW_AUTHENTICATE) {
        let all_bearer = value
            .to_str()
            .map(|v| {
                let challenges = crate::auth::challenge::parse(v);
                !challenges.is_empty() && challenges.iter().all(|c| c.is("bearer"))
            })
            .unwrap_or(false);
        if all_bearer {
            out.append(header::WWW_AUTHENTICATE, value.clone());
        }
    }
    out
}

fn copy_content_length(upstream: &HeaderMap, out: &mut HeaderMap) {
    if let Some(v) = upstream.get(header::CONTENT_LENGTH) {
        out.insert(header::CONTENT_LENGTH, v.clone());
    }
}

/// Content-addressed successes may be kept by the browser (it verifies them anyway);
/// everything else is fetched anew.
fn cache_control(status: StatusCode, by_digest: bool) -> HeaderValue {
    if by_digest && status == StatusCode::OK {
        HeaderValue::from_static("private, max-age=86400")
    } else {
        HeaderValue::from_static("no-store")
    }
}

/// An upstream error body (MANIFEST_UNKNOWN, TOOMANYREQUESTS, …), capped.
async fn error_body(upstream: reqwest::Response, limit: u64) -> Result<Bytes, Error> {
    read_capped(upstream, limit, || Error::BodyTooLarge {
        what: "upstream error body",
        limit,
    })
    .await
}

/// `Range: bytes=…` only, short and ASCII.
fn valid_range(range: &HeaderValue) -> Result<HeaderValue, Error> {
    let ok = range.to_str().is_ok_and(|r| {
        r.len() <= 200
            && r.strip_prefix("bytes=").is_some_and(|spec| {
                !spec.is_empty()
                    && spec
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b == b'-' || b == b',' || b == b' ')
            })
    });
    if ok {
        Ok(range.clone())
    } else {
        Err(Error::InvalidQuery {
            name: "Range",
            reason: "only bytes=START-END ranges are relayed".into(),
        })
    }
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
        assert_eq!(split_api("a/_catalog"), None);
        assert_eq!(split_api("manifests/latest"), None);
        assert_eq!(
            split_api("a/manifests/"),
            Some(Api::Manifest {
                name: "a",
                reference: ""
            })
        );
    }

    #[test]
    fn link_rewrite() {
        let base = Url::parse("https://r.example/v2/library/nginx/tags/list?n=2").unwrap();
        assert_eq!(
            rewrite_link(
                r#"</v2/library/nginx/tags/list?last=1.27&n=2>; rel="next""#,
                &base,
                "docker.io"
            )
            .as_deref(),
            Some(
                r#"</api/registry/docker.io/v2/library/nginx/tags/list?n=2&last=1.27>; rel="next""#
            )
        );
        assert!(
            rewrite_link(
                r#"<https://evil.example/v2/a/tags/list>; rel="next""#,
                &base,
                "docker.io"
            )
            .is_none()
        );
        assert!(rewrite_link(r#"</v2/_catalog?n=1>; rel="next""#, &base, "docker.io").is_none());
        assert_eq!(
            rewrite_link(
                r#"<https://r.example/v2/a/tags/list?last=x&evil=1>; rel="next""#,
                &base,
                "r.example"
            )
            .as_deref(),
            Some(r#"</api/registry/r.example/v2/a/tags/list?last=x>; rel="next""#)
        );
    }

    #[test]
    fn ranges() {
        assert!(valid_range(&HeaderValue::from_static("bytes=0-99")).is_ok());
        assert!(valid_range(&HeaderValue::from_static("bytes=100-")).is_ok());
        assert!(valid_range(&HeaderValue::from_static("items=0-1")).is_err());
        assert!(valid_range(&HeaderValue::from_static("bytes=0-1;x")).is_err());
    }
}
