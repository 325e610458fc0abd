//! `GET /api/registry/{host}/v2/_catalog` against fake upstreams: pages relayed with their
//! `Link` rewritten to the relay, the token asked for `registry:catalog:*` and nothing
//! more, `n` and `last` checked before anything goes upstream, the app's header required,
//! and a registry's refusal (Docker Hub's 401, another's 404 `UNSUPPORTED`) passed through.
//! The same route against the real Distribution registry is in
//! `tests/tests/relay_catalog.rs`.

mod support;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use support::*;

const REPOSITORIES: [&str; 3] = ["a", "team/app", "team/b"];

fn unauthorized(realm: &str, scope: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(
            header::WWW_AUTHENTICATE,
            format!(r#"Bearer realm="{realm}",service="fake",scope="{scope}""#),
        )],
        r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
    )
        .into_response()
}

/// Pages like Distribution: repositories after `last`, at most `n`, `Link` to the next.
fn catalog_page(query: Option<&str>) -> Response {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let n: usize = get("n").and_then(|n| n.parse().ok()).unwrap_or(100);
    let start = get("last").map_or(0, |last| {
        REPOSITORIES.iter().filter(|r| **r <= last.as_str()).count()
    });
    let page: Vec<&str> = REPOSITORIES.iter().skip(start).take(n).copied().collect();
    let body = serde_json::json!({ "repositories": page }).to_string();
    match page.last() {
        Some(last) if start + page.len() < REPOSITORIES.len() => {
            let escaped = last.replace('/', "%2F");
            (
                [(
                    header::LINK,
                    format!(r#"</v2/_catalog?last={escaped}&n={n}>; rel="next""#),
                )],
                body,
            )
                .into_response()
        }
        _ => body.into_response(),
    }
}

/// A registry with token auth on itself (realm `/token`, which hands out `t-SCOPE`) whose
/// catalog answers only a token for `registry:catalog:*`.
async fn registry_with_catalog() -> (std::net::SocketAddr, Log) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let realm = Arc::new(format!("http://{}/token", listener.local_addr().unwrap()));
    let router = Router::new()
        .route(
            "/token",
            get(|request: Request| async move {
                let scope = url::form_urlencoded::parse(
                    request.uri().query().unwrap_or_default().as_bytes(),
                )
                .filter(|(k, _)| k == "scope")
                .map(|(_, v)| v.into_owned())
                .collect::<Vec<_>>()
                .join(" ");
                axum::Json(serde_json::json!({ "token": format!("t-{scope}") }))
            }),
        )
        .fallback(move |request: Request| {
            let realm = realm.clone();
            async move {
                let authorization = request
                    .headers()
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                match request.uri().path() {
                    "/v2/" if authorization.is_empty() => unauthorized(&realm, ""),
                    "/v2/" => "{}".into_response(),
                    "/v2/_catalog" if authorization == "Bearer t-registry:catalog:*" => {
                        catalog_page(request.uri().query())
                    }
                    "/v2/_catalog" => unauthorized(&realm, "registry:catalog:*"),
                    _ => StatusCode::NOT_FOUND.into_response(),
                }
            }
        });
    serve_logged(listener, router)
}

#[tokio::test]
async fn catalog_pages_are_relayed_with_the_link_rewritten() {
    let (registry, log) = registry_with_catalog().await;
    let relay = Relay::start(insecure(&[registry.to_string()])).await;
    let r = relay
        .get(&format!("/api/registry/{registry}/v2/_catalog?n=2"))
        .await;
    assert_eq!(r.status(), 200);
    let link = r.headers()[header::LINK].to_str().unwrap().to_owned();
    assert_eq!(
        link,
        format!(r#"</api/registry/{registry}/v2/_catalog?n=2&last=team%2Fapp>; rel="next""#)
    );
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["repositories"], serde_json::json!(["a", "team/app"]));

    let next = link.trim_start_matches('<').split('>').next().unwrap();
    let r = relay.get(next).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().get(header::LINK).is_none(), "the last page");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["repositories"], serde_json::json!(["team/b"]));

    // Upstream saw `n` and `last` as checked, and tokens were asked for the catalog alone.
    let pages: Vec<_> = log
        .matching("/v2/_catalog")
        .into_iter()
        .filter(|s| s.authorization().is_some())
        .map(|s| s.query_pairs())
        .collect();
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    assert_eq!(
        pages,
        [
            vec![pair("n", "2")],
            vec![pair("n", "2"), pair("last", "team/app")]
        ]
    );
    let scopes: Vec<_> = log
        .matching("/token")
        .iter()
        .flat_map(|s| s.query_pairs())
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v)
        .collect();
    assert!(!scopes.is_empty());
    assert!(
        scopes.iter().all(|s| s == "registry:catalog:*"),
        "{scopes:?}"
    );
}

#[tokio::test]
async fn a_bad_n_or_last_is_refused_before_anything_goes_upstream() {
    let (registry, log) = registry_with_catalog().await;
    let relay = Relay::start(insecure(&[registry.to_string()])).await;
    for (query, code) in [
        ("n=0", "INVALID_QUERY"),
        ("n=1001", "INVALID_QUERY"),
        ("n=ten", "INVALID_QUERY"),
        ("last=Team%2Fapp", "INVALID_NAME"),
        ("last=a%2F..%2Fb", "INVALID_NAME"),
        ("last=a:b", "INVALID_NAME"),
        ("n=2&last=", "INVALID_NAME"),
    ] {
        let r = relay
            .get(&format!("/api/registry/{registry}/v2/_catalog?{query}"))
            .await;
        assert_eq!(r.status(), 400, "{query}");
        assert_eq!(error_code(r).await, code, "{query}");
    }
    assert_eq!(log.count(), 0, "{:?}", log.all());
    let r = relay
        .get(&format!("/api/registry/{registry}/v2/_catalog?n=1000"))
        .await;
    assert_eq!(r.status(), 200, "the largest n passes");
}

#[tokio::test]
async fn the_catalog_requires_the_apps_header() {
    let (registry, log) = registry_with_catalog().await;
    let relay = Relay::start(insecure(&[registry.to_string()])).await;
    let r = bare_client()
        .get(relay.url(&format!("/api/registry/{registry}/v2/_catalog")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(r).await, "CLIENT_HEADER_REQUIRED");
    assert_eq!(log.count(), 0);
}

#[tokio::test]
async fn a_registry_that_refuses_its_catalog_is_passed_through() {
    // Docker Hub: 401 however the token was asked for. Another registry: 404 UNSUPPORTED.
    let (hub, _) = start(Router::new().fallback(|request: Request| async move {
        if request.uri().path() == "/v2/" {
            return "{}".into_response();
        }
        (
            StatusCode::UNAUTHORIZED,
            r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"registry","Class":"","Name":"catalog","Action":"*"}]}]}"#,
        )
            .into_response()
    }))
    .await;
    let (other, _) = start(Router::new().fallback(|request: Request| async move {
        if request.uri().path() == "/v2/" {
            return "{}".into_response();
        }
        (
            StatusCode::NOT_FOUND,
            r#"{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}"#,
        )
            .into_response()
    }))
    .await;
    let relay = Relay::start(insecure(&[hub.to_string(), other.to_string()])).await;
    let r = relay.get(&format!("/api/registry/{hub}/v2/_catalog")).await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("UNAUTHORIZED"));
    let r = relay
        .get(&format!("/api/registry/{other}/v2/_catalog?n=10"))
        .await;
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("UNSUPPORTED"));
}
