//! CORS: the app's own origin needs nothing; origins named with `--allow-origin` get an
//! exact `Access-Control-Allow-Origin` (never `*`, never credentials); any other origin
//! is refused outright, so a foreign page cannot even spend the user's pull quota.
//!
//! CORS alone does not stop `<img>`, `<script>` or a no-cors `fetch` from another site:
//! they send no `Origin`. So every `/api/` request must carry [`CLIENT_HEADER`]`: 1`, a
//! header no page can add without a preflight (refused for foreign origins), and one the
//! browser marks `Sec-Fetch-Site: cross-site` or `same-site` must come from an allowed
//! origin. The app's static files (`--dist`) need neither: a link from anywhere opens them.

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

/// The header the app sends with every `/api/` request, with the value `1`.
pub(crate) const CLIENT_HEADER: &str = "x-strata-client";

/// Request headers a cross-origin page may send.
const ALLOWED_REQUEST_HEADERS: &str = "Accept, Range, If-None-Match, X-Strata-Client";

pub(crate) async fn cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(origin) = request.headers().get(header::ORIGIN).cloned() else {
        return match from_the_app(&request, false) {
            Ok(()) => next.run(request).await,
            Err(e) => e.into_response(),
        };
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
    let refused = if preflight {
        None
    } else {
        from_the_app(&request, allowed).err()
    };
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
    } else if let Some(refused) = refused {
        refused.into_response()
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

/// An `/api/` request the app made (or a page of an allowed origin, `allowed`): it carries
/// [`CLIENT_HEADER`]`: 1`, and is not a cross-site or same-site request from elsewhere.
fn from_the_app(request: &Request, allowed: bool) -> Result<(), Error> {
    let path = request.uri().path();
    if path != "/api" && !path.starts_with("/api/") {
        return Ok(());
    }
    let headers = request.headers();
    let site = headers
        .get("sec-fetch-site")
        .map(|s| s.to_str().unwrap_or("?"));
    if let Some(site @ ("cross-site" | "same-site")) = site
        && !allowed
    {
        return Err(Error::CrossSite(site.to_owned()));
    }
    let mut values = headers.get_all(CLIENT_HEADER).iter();
    match (values.next(), values.next()) {
        (Some(v), None) if v == "1" => Ok(()),
        _ => Err(Error::ClientHeaderMissing),
    }
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
