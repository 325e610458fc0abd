//! Redirects are followed by the relay: Authorization never follows to another host, a
//! 401 there does not bring out the registry token, and targets outside the egress
//! policy are refused before any connection.

mod support;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;
use support::*;

/// A registry wanting `Bearer tok`, whose blob answers a 307 to `location`.
fn registry_redirecting(realm: String, location: String) -> Router {
    Router::new().fallback(move |request: axum::extract::Request| {
        let realm = realm.clone();
        let location = location.clone();
        async move {
            let authorized = request
                .headers()
                .get(header::AUTHORIZATION)
                .is_some_and(|v| v == "Bearer tok");
            if !authorized {
                let challenge = format!(r#"Bearer realm="{realm}",service="reg""#);
                return (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, challenge)],
                )
                    .into_response();
            }
            if request.uri().path().contains("/blobs/") {
                return (
                    StatusCode::TEMPORARY_REDIRECT,
                    [
                        (header::LOCATION, location),
                        (header::CACHE_CONTROL, "max-age=31536000".to_owned()),
                    ],
                )
                    .into_response();
            }
            StatusCode::OK.into_response()
        }
    })
}

fn token_router() -> Router {
    Router::new().route(
        "/token",
        get(|| async { axum::Json(json!({"token": "tok", "expires_in": 300})) }),
    )
}

#[tokio::test]
async fn blob_redirect_to_cdn_carries_no_authorization() {
    let cdn = Router::new().route("/store/blob", get(|| async { "layer bytes" }));
    let (cdn_addr, cdn_log) = start(cdn).await;
    let (token_addr, token_log) = start(token_router()).await;
    let realm = format!("http://localhost:{}/token", token_addr.port());
    // The CDN is on another host name than the registry (like Docker Hub's).
    let location = format!("http://localhost:{}/store/blob?sig=abc", cdn_addr.port());
    let (registry, registry_log) = start(registry_redirecting(realm, location)).await;
    let relay = Relay::start(insecure(&[
        registry.to_string(),
        format!("localhost:{}", token_addr.port()),
        format!("localhost:{}", cdn_addr.port()),
    ]))
    .await;
    let path = format!("/api/registry/{registry}/v2/team/app/blobs/{DIGEST_A}");
    for _ in 0..2 {
        let r = relay.get(&path).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "layer bytes");
    }
    let seen = cdn_log.all();
    assert_eq!(seen.len(), 2, "redirect not cached: followed each time");
    assert!(
        seen.iter().all(|s| s.authorization().is_none()),
        "{seen:#?}"
    );
    assert_eq!(seen[0].query.as_deref(), Some("sig=abc"));
    assert!(
        registry_log
            .matching("/v2/team/")
            .iter()
            .all(|s| s.authorization().as_deref() == Some("Bearer tok"))
    );
    assert_eq!(token_log.count(), 1);
}

#[tokio::test]
async fn a_401_at_the_cdn_does_not_bring_out_the_token() {
    let cdn = Router::new().route(
        "/store/blob",
        get(|| async {
            (
                StatusCode::UNAUTHORIZED,
                [(
                    header::WWW_AUTHENTICATE,
                    r#"Bearer realm="http://localhost:1/steal",service="x""#,
                )],
            )
        }),
    );
    let (cdn_addr, cdn_log) = start(cdn).await;
    let (token_addr, token_log) = start(token_router()).await;
    let realm = format!("http://localhost:{}/token", token_addr.port());
    let location = format!("http://localhost:{}/store/blob", cdn_addr.port());
    let (registry, _) = start(registry_redirecting(realm, location)).await;
    let relay = Relay::start(insecure(&[
        registry.to_string(),
        format!("localhost:{}", token_addr.port()),
        format!("localhost:{}", cdn_addr.port()),
    ]))
    .await;
    let r = relay
        .get(&format!(
            "/api/registry/{registry}/v2/team/app/blobs/{DIGEST_A}"
        ))
        .await;
    assert_eq!(r.status(), 401);
    assert_eq!(cdn_log.count(), 1, "no retry at the CDN");
    assert!(cdn_log.all()[0].authorization().is_none());
    assert_eq!(token_log.count(), 1, "no refresh for a foreign 401");
}

/// An anonymous registry whose blobs redirect to `location`.
fn anonymous_redirecting(location: String) -> Router {
    Router::new()
        .route("/v2/", get(|| async { "{}" }))
        .fallback(move || {
            let location = location.clone();
            async move { (StatusCode::FOUND, [(header::LOCATION, location)]) }
        })
}

#[tokio::test]
async fn redirect_to_a_loopback_host_not_allowed_is_refused() {
    let (target, target_log) =
        start(Router::new().fallback(|| async { "secret internal service" })).await;
    for location in [
        format!("http://127.0.0.1:{}/admin", target.port()),
        format!("http://localhost:{}/admin", target.port()),
        format!("https://localhost:{}/admin", target.port()),
        format!("https://127.0.0.1:{}/admin", target.port()),
        format!("http://user:pw@127.0.0.1:{}/admin", target.port()),
    ] {
        let (registry, _) = start(anonymous_redirecting(location.clone())).await;
        let relay = Relay::start(insecure(&[registry.to_string()])).await;
        let r = relay
            .get(&format!(
                "/api/registry/{registry}/v2/team/app/blobs/{DIGEST_A}"
            ))
            .await;
        assert_eq!(r.status(), 403, "{location}");
        assert_eq!(error_code(r).await, "FORBIDDEN_HOST", "{location}");
    }
    assert_eq!(target_log.count(), 0, "never contacted");
}

#[tokio::test]
async fn redirect_loops_stop() {
    let (registry, log) = start(
        Router::new()
            .route("/v2/", get(|| async { "{}" }))
            .fallback(|uri: axum::http::Uri| async move {
                (
                    StatusCode::FOUND,
                    [(header::LOCATION, uri.path().to_owned())],
                )
            }),
    )
    .await;
    let relay = Relay::start(insecure(&[registry.to_string()])).await;
    let r = relay
        .get(&format!(
            "/api/registry/{registry}/v2/team/app/blobs/{DIGEST_A}"
        ))
        .await;
    assert_eq!(r.status(), 502);
    assert_eq!(error_code(r).await, "TOO_MANY_REDIRECTS");
    assert_eq!(log.matching("/v2/team/").len(), 6, "the request and 5 hops");
}

/// Case (2) of issue 5 for every address class: a redirect hop or a token realm naming a
/// link-local (cloud metadata), CGNAT, private, unspecified or loopback address — IPv4,
/// IPv6, or IPv4 written as IPv6 — is refused by the egress policy before any connection
/// (nothing listens at these addresses here: a 403 rather than a connect error shows the
/// policy refused them).
#[tokio::test]
async fn redirects_and_realms_to_non_public_addresses_are_refused() {
    let targets = [
        "http://169.254.169.254/latest/meta-data/",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/blob",
        "https://100.127.255.254/blob",
        "https://10.0.0.1/blob",
        "https://172.16.0.1/blob",
        "https://192.168.1.1/blob",
        "https://0.0.0.0/blob",
        "https://127.0.0.2/blob",
        "https://[::1]/blob",
        "https://[::]/blob",
        "https://[fe80::1]/blob",
        "https://[fd00::1]/blob",
        "https://[::ffff:169.254.169.254]/blob",
        "https://[::ffff:127.0.0.1]/blob",
        "https://[64:ff9b::a9fe:a9fe]/blob",
    ];
    for target in targets {
        // As a blob redirect from an allowed registry.
        let (registry, _) = start(anonymous_redirecting(target.to_owned())).await;
        let relay = Relay::start(insecure(&[registry.to_string()])).await;
        let r = relay
            .get(&format!(
                "/api/registry/{registry}/v2/team/app/blobs/{DIGEST_A}"
            ))
            .await;
        assert_eq!(r.status(), 403, "redirect to {target}");
        assert_eq!(
            error_code(r).await,
            "FORBIDDEN_HOST",
            "redirect to {target}"
        );

        // As the token realm of an allowed registry.
        let (registry, log) = start(registry_redirecting(
            target.to_owned(),
            "http://unused/".to_owned(),
        ))
        .await;
        let relay = Relay::start(insecure(&[registry.to_string()])).await;
        let r = relay
            .get(&format!(
                "/api/registry/{registry}/v2/team/app/manifests/v1"
            ))
            .await;
        assert_eq!(r.status(), 403, "realm {target}");
        assert_eq!(error_code(r).await, "FORBIDDEN_HOST", "realm {target}");
        assert!(
            log.all().iter().all(|s| s.authorization().is_none()),
            "no token was ever obtained"
        );
    }
}

/// The `/v2/` ping decides where the user's credentials go (the realm of its challenge),
/// so it is not followed to another origin: a registry whose ping redirects to a foreign
/// host cannot make the relay take that host's challenge and send the registry's
/// credentials to the foreign token service.
#[tokio::test]
async fn the_ping_does_not_follow_a_redirect_to_another_origin() {
    use base64::Engine as _;
    let (evil_realm, evil_realm_log) = start(token_router()).await;
    let evil_realm_host = format!("localhost:{}", evil_realm.port());
    let challenge = format!(r#"Bearer realm="http://{evil_realm_host}/token",service="evil""#);
    let (evil, evil_log) = start(Router::new().fallback(move || {
        let challenge = challenge.clone();
        async move {
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, challenge)],
            )
        }
    }))
    .await;
    let evil_host = format!("localhost:{}", evil.port());
    let location = format!("http://{evil_host}/v2/");
    let (registry, _) = start(
        Router::new()
            .route(
                "/v2/",
                get(move || {
                    let location = location.clone();
                    async move { (StatusCode::FOUND, [(header::LOCATION, location)]) }
                }),
            )
            .fallback(|| async { "{}" }),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("config.json");
    let auth = base64::engine::general_purpose::STANDARD.encode("user:secret");
    std::fs::write(
        &config_path,
        json!({"auths": {registry.to_string(): {"auth": auth}}}).to_string(),
    )
    .unwrap();
    let relay = Relay::start(strata_companion::Config {
        credentials: strata_companion::CredentialsSource::File(config_path),
        ..insecure(&[registry.to_string(), evil_host, evil_realm_host])
    })
    .await;
    let r = relay
        .get(&format!(
            "/api/registry/{registry}/v2/team/app/manifests/v1"
        ))
        .await;
    assert!(!r.status().is_success(), "{}", r.status());
    assert!(r.status().as_u16() >= 400);
    error_code(r).await;
    assert_eq!(
        evil_realm_log.count(),
        0,
        "the foreign token service never saw the credentials: {:#?}",
        evil_realm_log.all()
    );
    assert_eq!(evil_log.count(), 0, "the redirect was not followed");
}
