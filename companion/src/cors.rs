//! CORS: the app's own origin needs nothing; origins named with `--allow-origin` get an
//! exact `Access-Control-Allow-Origin` (never `*`, never credentials); any other origin
//! is refused outright, so a foreign page cannot even spend the user's pull quota.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::Error;
use crate::guard::RequestAuthority;
use crate::host::authority;
use crate::state::AppState;

/// Headers the page may read.
pub(crate) const EXPOSED_HEADERS: &str = "Docker-Content-Digest, Content-Type, Content-Length, \
Content-Range, Accept-Ranges, ETag, Link, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, \
RateLimit-Policy, ratelimit-limit, ratelimit-remaining, Docker-RateLimit-Source, Retry-After, \
WWW-Authenticate, OCI-Filters-Applied, Strata-Referrers-Fallback, Strata-Upstream-Http";

/// Request headers a cross-origin page may send.
const ALLOWED_REQUEST_HEADERS: &str = "Accept, Range, If-None-Match";

pub(crate) async fn cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(origin) = request.headers().get(header::ORIGIN).cloned() else {
        return next.run(request).await;
    };
    let origin_str = origin.to_str().unwrap_or("");
    let allowed = is_listed(origin_str, &state.config().allow_origins);
    let served = request.extensions().get::<RequestAuthority>();
    if !allowed && !is_same_origin(origin_str, served) {
        return Error::ForbiddenOrigin(origin_str.to_owned()).into_response();
    }
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, HEAD"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOWED_REQUEST_HEADERS),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        r
    } else {
        next.run(request).await
    };
    if allowed {
        let h = response.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED_HEADERS),
        );
    }
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("Origin"));
    response
}

fn is_listed(origin: &str, allowed: &[String]) -> bool {
    !origin.is_empty()
        && origin != "null"
        && allowed
            .iter()
            .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(origin))
}

/// The page was served by this very server: `Origin` matches the authority the request is
/// for, the one value the Host check accepted (never another header read anew).
fn is_same_origin(origin: &str, served: Option<&RequestAuthority>) -> bool {
    let Some(RequestAuthority(host)) = served else {
        return false;
    };
    let Ok(url) = url::Url::parse(origin) else {
        return false;
    };
    if url.scheme() != "http" && url.scheme() != "https" {
        return false;
    }
    let origin_authority = authority(&url);
    !origin_authority.is_empty() && origin_authority.eq_ignore_ascii_case(host)
}
