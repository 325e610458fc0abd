//! Headers both ways: what goes upstream with each request, and which upstream headers
//! (and which of the relay's own) the page gets back.

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};

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

/// Names the HTTP version of the upstream answer (`HTTP/2.0`, `HTTP/1.1`): a diagnostic
/// (and a testable fact) for whether TLS upstreams negotiated HTTP/2. The page does not use
/// it; the version carries no secret.
const UPSTREAM_HTTP: HeaderName = HeaderName::from_static("strata-upstream-http");

/// Request headers for upstream: `Accept` when given, and always
/// `Accept-Encoding: identity` (lengths and digests are of the bytes as stored).
pub(super) fn upstream_headers(accept: Option<&'static str>) -> HeaderMap {
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
pub(super) fn get_or_head(method: &Method) -> Method {
    if method == Method::HEAD {
        Method::HEAD
    } else {
        Method::GET
    }
}

/// [`pass_headers`] of the upstream response, with the relay's `Cache-Control` and the
/// upstream's HTTP version in [`UPSTREAM_HTTP`].
pub(super) fn relayed_headers(
    upstream: &reqwest::Response,
    cache_control: HeaderValue,
) -> HeaderMap {
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

/// The upstream headers the page may see. `WWW-Authenticate` passes only when every
/// challenge in it is Bearer (a Basic challenge would make the browser prompt for a
/// password on the companion's origin).
pub(super) fn pass_headers(upstream: &HeaderMap) -> HeaderMap {
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

pub(super) fn copy_content_length(upstream: &HeaderMap, out: &mut HeaderMap) {
    if let Some(v) = upstream.get(header::CONTENT_LENGTH) {
        out.insert(header::CONTENT_LENGTH, v.clone());
    }
}

/// Content-addressed successes may be kept by the browser (it verifies them anyway);
/// everything else is fetched anew.
pub(super) fn cache_control(status: StatusCode, by_digest: bool) -> HeaderValue {
    if by_digest && status == StatusCode::OK {
        HeaderValue::from_static("private, max-age=86400")
    } else {
        HeaderValue::from_static("no-store")
    }
}

/// Whatever a registry claims its bytes are, they never run as a page of this origin.
pub(super) fn harden(out: &mut HeaderMap) {
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    out.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
}
