//! The companion relaying a registry on https with a private CA: the real Distribution
//! registry serves TLS with a certificate from a CA made at test time, and the companion
//! trusts that CA only through `--ca-cert`. Go's server offers HTTP/2 through ALPN, and the
//! companion says which version it got in `Strata-Upstream-Http`. Without the CA the
//! client gets an error that names the certificate; an https upstream that redirects to
//! plain http is refused.

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use clap::Parser as _;
use strata_companion::Flags;
use strata_tests::companion::{Companion, start_companion};
use strata_tests::http::{get, get_manifest};
use strata_tests::image::sha256_digest;
use strata_tests::push::{self, PushedImage};
use strata_tests::registry::Registry;
use strata_tests::tls::{self, TestCa};
use strata_tests::token_server::{TokenServer, TokenServerConfig};

/// The companion started from command-line flags, as a user would run it (anonymous, on a
/// free port).
async fn companion_from_flags(args: &[&str]) -> Companion {
    let argv = ["strata-companion", "--listen", "127.0.0.1:0", "--anonymous"]
        .iter()
        .chain(args);
    let config = Flags::try_parse_from(argv).unwrap().into_config().unwrap();
    start_companion(config).await.unwrap()
}

/// A CA, the Distribution registry on https with a certificate it signed, and an image
/// pushed there (the pusher trusts the CA).
async fn tls_registry_with_image(ca: &TestCa) -> (Registry, PushedImage) {
    let cert = ca.issue("registry", &["127.0.0.1", "localhost"]).unwrap();
    let registry = Registry::start_with_tls(&cert, ca).await.unwrap();
    assert!(registry.url().starts_with("https://"), "{}", registry.url());
    let pushed = push::push_three_layer_image(&registry, "team/app", "v1")
        .await
        .unwrap();
    (registry, pushed)
}

#[tokio::test]
async fn relay_reaches_a_private_ca_registry_over_http2() {
    let ca = TestCa::generate("Strata test LAN CA").unwrap();
    let (registry, pushed) = tls_registry_with_image(&ca).await;
    let host = registry.host();
    let companion = companion_from_flags(&[
        "--insecure-registry",
        &format!("https://{host}"),
        "--ca-cert",
        &ca.cert_path().to_string_lossy(),
    ])
    .await;

    let url = companion.registry_url(&host, "team/app/manifests/v1");
    let manifest = get_manifest(&url).await;
    assert_eq!(
        manifest.status,
        200,
        "{url}: {}\n{}",
        String::from_utf8_lossy(&manifest.body),
        registry.log()
    );
    assert_eq!(sha256_digest(&manifest.body), pushed.manifest_digest);
    assert_eq!(
        manifest.header("docker-content-digest"),
        pushed.manifest_digest
    );
    assert_eq!(
        manifest.header("strata-upstream-http"),
        "HTTP/2.0",
        "Go's TLS server offers h2 through ALPN and the companion should take it"
    );

    for layer in &pushed.layers {
        let url = companion.registry_url(&host, &format!("team/app/blobs/{}", layer.digest));
        let blob = get(&url).await;
        assert_eq!(blob.status, 200, "{url}");
        assert_eq!(blob.body.len() as u64, layer.size);
        assert_eq!(sha256_digest(&blob.body), layer.digest, "blob over https");
        assert_eq!(blob.header("strata-upstream-http"), "HTTP/2.0");
    }
}

#[tokio::test]
async fn relay_without_the_ca_names_the_certificate_problem() {
    let ca = TestCa::generate("Strata test LAN CA").unwrap();
    let (registry, pushed) = tls_registry_with_image(&ca).await;
    let host = registry.host();
    // The loopback registry is allowed, but its CA is not trusted.
    let companion =
        companion_from_flags(&["--insecure-registry", &format!("https://{host}")]).await;

    let url = companion.registry_url(&host, &format!("team/app/blobs/{}", pushed.config_digest));
    let message = get(&url).await.error_message(502, "UPSTREAM_CERTIFICATE");
    assert!(
        message.contains("certificate") && message.contains(&host),
        "the message names the certificate problem and the host: {message}"
    );
    assert!(message.contains("--ca-cert"), "and what to do: {message}");
}

#[tokio::test]
async fn relay_refuses_an_https_to_http_redirect_from_a_tls_upstream() {
    let ca = TestCa::generate("Strata test LAN CA").unwrap();
    // The plain-http registry holds the blob: were the redirect followed, it would serve.
    let plain = Registry::start().await.unwrap();
    let pushed = push::push_three_layer_image(&plain, "team/app", "v1")
        .await
        .unwrap();
    let blob_path = format!("/v2/team/app/blobs/{}", pushed.config_digest);
    let target = format!("{}{blob_path}", plain.url());
    let redirecting =
        Router::new()
            .route("/v2/", axum::routing::get(|| async { StatusCode::OK }))
            .fallback(move || {
                let target = target.clone();
                async move {
                    (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, target)]).into_response()
                }
            });
    let cert = ca.issue("redirector", &["127.0.0.1"]).unwrap();
    let (addr, server) = tls::serve_https(redirecting, &cert).await.unwrap();
    let tls_host = addr.to_string();
    let plain_host = plain.host();
    let companion = companion_from_flags(&[
        "--insecure-registry",
        &format!("https://{tls_host}"),
        "--insecure-registry",
        &plain_host,
        "--ca-cert",
        &ca.cert_path().to_string_lossy(),
    ])
    .await;

    // The https upstream answers (so TLS works), and redirects to plain http: refused.
    let url = companion.registry_url(
        &tls_host,
        &format!("team/app/blobs/{}", pushed.config_digest),
    );
    let message = get(&url).await.error_message(403, "FORBIDDEN_HOST");
    assert!(
        message.contains("downgrade") && message.contains(&plain_host),
        "{message}"
    );

    // The same blob straight from the plain registry (named insecure) does come through:
    // only the downgrade was refused.
    let direct = get(&companion.registry_url(
        &plain_host,
        &format!("team/app/blobs/{}", pushed.config_digest),
    ))
    .await;
    assert_eq!(direct.status, 200);
    assert_eq!(sha256_digest(&direct.body), pushed.config_digest);
    assert_eq!(
        direct.header("strata-upstream-http"),
        "HTTP/1.1",
        "plain http has no h2"
    );
    server.abort();
}

#[test]
fn ca_cert_flag_needs_a_pem_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("not-a-cert.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let missing = dir.path().join("missing.pem");
    for path in [not_pem, missing] {
        let config =
            Flags::try_parse_from(["strata-companion", "--ca-cert", path.to_str().unwrap()])
                .unwrap()
                .into_config()
                .unwrap();
        let error = strata_companion::AppState::new(config)
            .err()
            .unwrap_or_else(|| panic!("{} was accepted as a CA", path.display()));
        let message = error.to_string();
        assert!(
            message.contains("--ca-cert") && message.contains(path.to_str().unwrap()),
            "{message}"
        );
    }
}

/// Case (2) of issue 5 for the token realm: the real Distribution registry on https,
/// with token auth whose realm is the real token server on plain http. The companion
/// refuses that realm (no https→http downgrade) even though the realm's host is itself
/// allowed over http, and never asks it.
#[tokio::test]
async fn relay_refuses_an_http_realm_named_by_a_tls_registry() {
    let ca = TestCa::generate("Strata test LAN CA").unwrap();
    let token_server = TokenServer::start(TokenServerConfig::default())
        .await
        .unwrap();
    let realm = token_server.realm();
    assert!(realm.starts_with("http://"), "{realm}");
    let cert = ca.issue("registry", &["127.0.0.1"]).unwrap();
    let registry = Registry::start_with_tls_and_token_auth(
        &cert,
        &ca,
        &realm,
        token_server.service(),
        token_server.issuer(),
        &token_server.rootcert_path(),
    )
    .await
    .unwrap();
    let tls_host = registry.host();
    let realm_host = format!("localhost:{}", token_server.addr().port());
    let companion = companion_from_flags(&[
        "--insecure-registry",
        &format!("https://{tls_host}"),
        "--insecure-registry",
        &realm_host,
        "--ca-cert",
        &ca.cert_path().to_string_lossy(),
    ])
    .await;

    let message = get_manifest(&companion.registry_url(&tls_host, "team/app/manifests/v1"))
        .await
        .error_message(403, "FORBIDDEN_HOST");
    assert!(
        message.contains("downgrade") && message.contains(&realm_host),
        "the realm, learnt from the registry's challenge over TLS, was refused: {message}"
    );
    assert!(
        token_server.requests().is_empty(),
        "the realm was never asked: {:?}",
        token_server.requests()
    );
}
