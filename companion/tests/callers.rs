//! Who may call the relay: the app (its `X-Strata-Client` header, its own or an allowed
//! origin), never a page of another site through `<img>`, `<script>` or a no-cors fetch;
//! and the one authority a request is for, read once.

mod support;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use strata_companion::Config;
use support::*;

/// The host a request is for is read once, and the same value serves the Host check and
/// the same-origin check: an absolute-form target for a served host with a foreign
/// `Host` and a matching foreign `Origin` is not "same origin". Two `Host` headers are a
/// 400 (RFC 9112 §3.2), not "the first one wins".
#[tokio::test]
async fn one_request_authority_and_no_duplicate_host() {
    let relay = Relay::start(Config::default()).await;
    for (request, expected) in [
        (
            "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nX-Strata-Client: 1\r\nConnection: close\r\n\r\n",
            "400",
        ),
        (
            "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: 127.0.0.1\r\nX-Strata-Client: 1\r\nConnection: close\r\n\r\n",
            "400",
        ),
        (
            "GET http://127.0.0.1/api/health HTTP/1.1\r\nHost: evil.example\r\nOrigin: http://evil.example\r\nX-Strata-Client: 1\r\nConnection: close\r\n\r\n",
            "403",
        ),
        (
            "GET http://127.0.0.1/api/health HTTP/1.1\r\nHost: evil.example\r\nOrigin: http://127.0.0.1\r\nX-Strata-Client: 1\r\nConnection: close\r\n\r\n",
            "200",
        ),
    ] {
        let status = raw_status(&relay, request).await;
        assert!(
            status.contains(&format!(" {expected} ")),
            "{request:?}: {status}"
        );
    }
}

/// `<img>`, `<script>` and no-cors `fetch` from any site send no `Origin`, so CORS alone
/// does not stop them. Every `/api/` request must carry `X-Strata-Client: 1` (a header
/// no page can add without a preflight, which foreign origins fail), and a request the
/// browser marks cross-site or same-site must come from an allowed origin. The app's
/// static files are served without either.
#[tokio::test]
async fn cross_site_requests_without_the_client_header_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<html>strata</html>").unwrap();
    let config = Config {
        allow_origins: vec!["http://127.0.0.1:8080".into()],
        dist: Some(dir.path().to_owned()),
        ..Config::default()
    };
    let get = |headers: &[(&'static str, &'static str)]| {
        let mut request = Request::get("/api/health");
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        request.body(Body::empty()).unwrap()
    };
    for (headers, expected) in [
        // An <img> or <script> on a foreign page.
        (
            &[("sec-fetch-site", "cross-site")][..],
            "FORBIDDEN_CROSS_SITE",
        ),
        (
            &[("sec-fetch-site", "same-site")][..],
            "FORBIDDEN_CROSS_SITE",
        ),
        (
            &[("sec-fetch-site", "cross-site"), ("x-strata-client", "1")][..],
            "FORBIDDEN_CROSS_SITE",
        ),
        // curl, or a browser too old for Sec-Fetch-*: still no header.
        (&[][..], "CLIENT_HEADER_REQUIRED"),
        (&[("x-strata-client", "0")][..], "CLIENT_HEADER_REQUIRED"),
        (
            &[("sec-fetch-site", "none"), ("x-strata-client", "yes")][..],
            "CLIENT_HEADER_REQUIRED",
        ),
        (
            &[
                ("sec-fetch-site", "same-site"),
                ("origin", "http://evil.127.0.0.1.nip.example"),
                ("x-strata-client", "1"),
            ][..],
            "FORBIDDEN_ORIGIN",
        ),
        // The app itself, and an allowed origin on the same site.
        (
            &[("sec-fetch-site", "same-origin"), ("x-strata-client", "1")][..],
            "",
        ),
        (&[("x-strata-client", "1")][..], ""),
        (
            &[
                ("sec-fetch-site", "same-site"),
                ("origin", "http://127.0.0.1:8080"),
                ("x-strata-client", "1"),
            ][..],
            "",
        ),
    ] {
        let r = oneshot_bare(config.clone(), get(headers)).await;
        if expected.is_empty() {
            assert_eq!(r.status(), StatusCode::OK, "{headers:?}");
        } else {
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{headers:?}");
            assert_eq!(json_code(r).await, expected, "{headers:?}");
        }
    }

    // The preflight of an allowed origin lets the page send the header.
    let r = oneshot_bare(
        config.clone(),
        Request::builder()
            .method("OPTIONS")
            .uri("/api/registry/docker.io/v2/library/nginx/manifests/latest")
            .header(header::ORIGIN, "http://127.0.0.1:8080")
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "x-strata-client")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let allowed = r.headers()[header::ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("x-strata-client"), "{allowed}");

    // Static files of --dist need no header, even when a link from another site opens them.
    for path in ["/", "/image/docker.io/library/nginx:1.27"] {
        let r = oneshot_bare(
            config.clone(),
            Request::get(path)
                .header("sec-fetch-site", "cross-site")
                .header(header::ACCEPT, "text/html")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }

    // On a real relay route, nothing reaches the registry.
    let (registry, log) = start(Router::new().fallback(|| async { "{}" })).await;
    let relay = Relay::start(insecure(&[registry.to_string()])).await;
    let r = bare_client()
        .get(relay.url(&format!(
            "/api/registry/{registry}/v2/team/app/manifests/latest"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(log.count(), 0);
}
