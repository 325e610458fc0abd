//! `--dist DIR`: the built app, with `index.html` for app routes (`/image/…`, or any page
//! navigation that accepts HTML) so shared links open. Without `--dist`, and for unknown
//! `/api/…` paths, a JSON 404. Every file goes out with the headers of `app_headers` (CSP,
//! no framing, no sniffing); the wasm modules with `Cache-Control: no-store`.

use std::path::PathBuf;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt as _;
use tower_http::services::{ServeDir, ServeFile};

use crate::app_headers;
use crate::config::Config;
use crate::error::Error;
use crate::state::AppState;

pub(crate) fn router(config: &Config) -> Router<AppState> {
    match &config.dist {
        Some(dir) => {
            let dir = dir.clone();
            Router::new().fallback(move |request: Request| serve(dir.clone(), request))
        }
        None => Router::new().fallback(|| async { Error::NotFound }),
    }
}

async fn serve(dir: PathBuf, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    if path == "/api" || path.starts_with("/api/") {
        return Error::NotFound.into_response();
    }
    let wants_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    let is_head = request.method() == axum::http::Method::HEAD;
    let mut response = match ServeDir::new(&dir).oneshot(request).await {
        Ok(r) => r.into_response(),
        Err(never) => match never {},
    };
    if response.status() != StatusCode::NOT_FOUND || !(path.starts_with("/image/") || wants_html) {
        // Not stored by the browser: from its HTTP cache a module comes back with the
        // compiled code cached beside it, which the renderer then loads on the page's
        // main thread (measured: a 60-85 ms task, and pinned revisits about 25 ms slower
        // than compiling afresh from the companion on this machine).
        if path.ends_with(".wasm") {
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        app_headers::add(response.headers_mut(), &dir.join("index.html"));
        return response;
    }
    let mut index = Request::new(Body::empty());
    if is_head {
        *index.method_mut() = axum::http::Method::HEAD;
    }
    let mut response = match ServeFile::new(dir.join("index.html")).oneshot(index).await {
        Ok(r) => r.into_response(),
        Err(never) => match never {},
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    app_headers::add(response.headers_mut(), &dir.join("index.html"));
    response
}
