//! Not an open proxy: origins, Host header, methods, names and digests, private
//! addresses, per-client rate.

mod support;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use strata_companion::{AppState, Config, ConfigError, Limits};
use support::*;

/// Sends `request` to the app as the app would: without a `Host` header it gets the
/// default listen address's, as any HTTP/1.1 client would send, and it carries
/// `X-Strata-Client: 1`.
async fn oneshot(config: Config, mut request: Request<Body>) -> axum::response::Response {
    request
        .headers_mut()
        .insert("x-strata-client", "1".parse().unwrap());
    oneshot_bare(config, request).await
}

#[tokio::test]
async fn health() {
    let r = oneshot(
        Config::default(),
        Request::get("/api/health").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn foreign_origin_gets_no_cors_allow() {
    let config = Config {
        allow_origins: vec!["http://127.0.0.1:8080".into()],
        ..Config::default()
    };
    let r = oneshot(
        config.clone(),
        Request::get("/api/health")
            .header(header::ORIGIN, "http://evil.example")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        r.headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );
    assert_eq!(json_code(r).await, "FORBIDDEN_ORIGIN");

    let r = oneshot(
        config.clone(),
        Request::get("/api/health")
            .header(header::ORIGIN, "http://127.0.0.1:8080")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://127.0.0.1:8080"
    );
    assert!(
        r.headers()
            .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
            .is_none()
    );
    let exposed = r.headers()[header::ACCESS_CONTROL_EXPOSE_HEADERS]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for h in [
        "docker-content-digest",
        "content-type",
        "content-length",
        "link",
        "ratelimit-limit",
        "ratelimit-remaining",
        "www-authenticate",
    ] {
        assert!(exposed.contains(h), "{h} exposed: {exposed}");
    }

    // Preflight from the allowed origin; from another origin it is refused.
    let preflight = |origin: &'static str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/api/registry/docker.io/v2/library/nginx/manifests/latest")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "range")
            .body(Body::empty())
            .unwrap()
    };
    let r = oneshot(config.clone(), preflight("http://127.0.0.1:8080")).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        r.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://127.0.0.1:8080"
    );
    let r = oneshot(config.clone(), preflight("https://evil.example")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        r.headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );

    // The app's own origin (Origin matches Host) needs nothing.
    let r = oneshot(
        config,
        Request::get("/api/health")
            .header(header::HOST, "127.0.0.1:8787")
            .header(header::ORIGIN, "http://127.0.0.1:8787")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[test]
fn wildcard_origin_is_refused_at_startup() {
    assert!(matches!(
        AppState::new(Config {
            allow_origins: vec!["*".into()],
            ..Config::default()
        }),
        Err(ConfigError::Origin(origin)) if origin == "*"
    ));
}

#[tokio::test]
async fn foreign_host_header_is_refused() {
    for (host, ok) in [
        ("evil.example", false),
        ("evil.example:8787", false),
        ("127.0.0.1:8787", true),
        ("localhost:8787", true),
        ("[::1]:8787", true),
        ("app.example.org", true), // from --allow-origin
    ] {
        let config = Config {
            allow_origins: vec!["https://app.example.org".into()],
            ..Config::default()
        };
        let r = oneshot(
            config,
            Request::get("/api/health")
                .header(header::HOST, host)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        if ok {
            assert_eq!(r.status(), StatusCode::OK, "{host}");
        } else {
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{host}");
            assert_eq!(json_code(r).await, "FORBIDDEN_REQUEST_HOST");
        }
    }
}

#[tokio::test]
async fn only_get_and_head() {
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let r = oneshot(
            Config::default(),
            Request::builder()
                .method(method)
                .uri("/api/registry/docker.io/v2/library/nginx/manifests/latest")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(json_code(r).await, "METHOD_NOT_ALLOWED");
    }
}

#[tokio::test]
async fn invalid_input_is_rejected_before_any_request() {
    let (registry, log) = start(Router::new().fallback(|| async { "{}" })).await;
    let relay = Relay::start(insecure(&[registry.to_string()])).await;
    let short = "sha256:abc";
    let upper = format!("sha256:{}", "A".repeat(64));
    let cases = [
        (
            format!("/api/registry/{registry}/v2/Team/App/manifests/latest"),
            "INVALID_NAME",
        ),
        (
            format!("/api/registry/{registry}/v2/team//app/manifests/latest"),
            "INVALID_NAME",
        ),
        (
            format!("/api/registry/{registry}/v2/team/app%2F..%2Fx/manifests/latest"),
            "INVALID_NAME",
        ),
        (
            format!("/api/registry/{registry}/v2/team/app/manifests/.bad"),
            "INVALID_REFERENCE",
        ),
        (
            format!("/api/registry/{registry}/v2/team/app/manifests/{short}"),
            "INVALID_REFERENCE",
        ),
        (
            format!("/api/registry/{registry}/v2/team/app/blobs/{short}"),
            "INVALID_DIGEST",
        ),
        (
            format!("/api/registry/{registry}/v2/team/app/blobs/{upper}"),
            "INVALID_DIGEST",
        ),
        (
            format!("/api/registry/{registry}/v2/team/app/blobs/md5:abc"),
            "INVALID_DIGEST",
        ),
        (
            format!("/api/registry/{registry}/v2/team/app/referrers/latest"),
            "INVALID_DIGEST",
        ),
        (
            format!("/api/registry/{registry}/v2/team/app/tags/list?n=abc"),
            "INVALID_QUERY",
        ),
        (
            format!("/api/registry/{registry}/v2/team/app/tags/list?last=..x"),
            "INVALID_REFERENCE",
        ),
        (
            "/api/registry/evil_host/v2/team/app/manifests/latest".to_owned(),
            "INVALID_HOST",
        ),
        (
            "/api/registry/a:99999/v2/team/app/manifests/latest".to_owned(),
            "INVALID_HOST",
        ),
        (
            format!("/api/registry/{registry}/v2/a/_catalog"),
            "NOT_FOUND",
        ),
        (
            format!("/api/registry/{registry}/v2/_catalog?n=0"),
            "INVALID_QUERY",
        ),
        (
            "/api/registry/http:%2F%2Fevil.example/v2/a/manifests/latest".to_owned(),
            "INVALID_HOST",
        ),
    ];
    for (path, code) in cases {
        let r = relay.get(&path).await;
        assert!(r.status().is_client_error(), "{path}: {}", r.status());
        assert_eq!(error_code(r).await, code, "{path}");
    }
    let r = relay
        .client
        .get(relay.url(&format!(
            "/api/registry/{registry}/v2/team/app/blobs/{DIGEST_A}"
        )))
        .header(header::RANGE, "bytes=0-1\tx")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        log.count(),
        0,
        "nothing reached the registry: {:#?}",
        log.all()
    );
}

#[tokio::test]
async fn private_addresses_need_insecure_registry() {
    let (registry, log) = start(Router::new().fallback(|| async { "{}" })).await;
    let relay = Relay::start(Config::default()).await;
    for host in [
        registry.to_string(),
        format!("localhost:{}", registry.port()),
        format!("[::1]:{}", registry.port()),
    ] {
        let r = relay
            .get(&format!(
                "/api/registry/{host}/v2/team/app/manifests/latest"
            ))
            .await;
        assert_eq!(r.status(), 403, "{host}");
        assert_eq!(error_code(r).await, "FORBIDDEN_HOST", "{host}");
    }
    assert_eq!(log.count(), 0);
}

#[tokio::test]
async fn unreachable_registry() {
    let port = dead_port().await;
    let relay = Relay::start(insecure(&[format!("127.0.0.1:{port}")])).await;
    let r = relay
        .get(&format!(
            "/api/registry/127.0.0.1:{port}/v2/team/app/manifests/latest"
        ))
        .await;
    assert_eq!(r.status(), 502);
    assert_eq!(error_code(r).await, "UPSTREAM_UNREACHABLE");
}

#[tokio::test]
async fn per_client_rate_is_bounded() {
    let (registry, _) = start(
        Router::new()
            .route("/v2/", get(|| async { "{}" }))
            .fallback(|| async { "{}" }),
    )
    .await;
    let config = Config {
        limits: Limits {
            client_burst: 3,
            client_rate_per_second: 1,
            ..Limits::default()
        },
        ..insecure(&[registry.to_string()])
    };
    let relay = Relay::start(config).await;
    let path = format!("/api/registry/{registry}/v2/team/app/manifests/latest");
    for _ in 0..3 {
        assert_eq!(relay.get(&path).await.status(), 200);
    }
    let r = relay.get(&path).await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key(header::RETRY_AFTER));
    assert_eq!(error_code(r).await, "RATE_LIMITED");
    assert_eq!(
        relay.get("/api/health").await.status(),
        200,
        "health is not rate limited"
    );
}

/// Case (10) of issue 5: a DNS name resolving to 127.0.0.1 is refused by the resolver
/// (resolve once, connect to the checked address) — even when 127.0.0.1 on that very port
/// is an insecure registry: the allowance is for what the operator named, not for any
/// name that happens to resolve there.
#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused_without_insecure_registry() {
    let (registry, log) = start(
        Router::new()
            .route("/v2/", get(|| async { "{}" }))
            .fallback(|| async { "{}" }),
    )
    .await;
    let relay = Relay::start(insecure(&[registry.to_string()])).await;
    let ok = relay
        .get(&format!(
            "/api/registry/{registry}/v2/team/app/manifests/latest"
        ))
        .await;
    assert_eq!(ok.status(), 200, "the address itself was named");
    let seen = log.count();
    let r = relay
        .get(&format!(
            "/api/registry/localhost:{}/v2/team/app/manifests/latest",
            registry.port()
        ))
        .await;
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "FORBIDDEN_HOST");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("resolves to non-public addresses"),
        "refused by the resolver: {body}"
    );
    assert_eq!(log.count(), seen, "nothing reached the server");
}

/// Case (11) of issue 5, on the wire: the host a request is for is checked wherever it is
/// written. A request with no `Host` at all (HTTP/1.0) is refused, and so is an
/// absolute-form target naming a foreign host behind an innocent `Host` header (the
/// target's authority is the one that counts, RFC 9112 §3.2.2).
#[tokio::test]
async fn requests_without_a_served_host_are_refused_on_the_wire() {
    let relay = Relay::start(Config::default()).await;
    for (request, expected) in [
        (
            "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Strata-Client: 1\r\nConnection: close\r\n\r\n",
            "200",
        ),
        ("GET /api/health HTTP/1.0\r\n\r\n", "403"),
        (
            "GET http://evil.example/api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            "403",
        ),
        (
            "GET http://127.0.0.1/api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Strata-Client: 1\r\nConnection: close\r\n\r\n",
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

/// Every relay error is the JSON shape, with `nosniff`, and echoes at most a bounded part
/// of what the client sent: a path that is not UTF-8 (axum's own rejection is text/plain),
/// and a 20 KB repository name (the message once carried all of it back).
#[tokio::test]
async fn relay_errors_are_capped_json_with_nosniff() {
    let (registry, log) = start(Router::new().fallback(|| async { "{}" })).await;
    let relay = Relay::start(insecure(&[registry.to_string()])).await;
    let long = "a".repeat(20_000);
    for (path, code) in [
        (
            format!("/api/registry/{registry}/v2/team/a%FF/manifests/latest"),
            "INVALID_PATH",
        ),
        (
            "/api/oci/demo%FF/manifests/latest".to_owned(),
            "INVALID_PATH",
        ),
        (
            format!("/api/registry/{registry}/v2/{long}/manifests/latest"),
            "INVALID_NAME",
        ),
        (
            format!("/api/registry/{registry}/v2/team/app/manifests/{long}"),
            "INVALID_REFERENCE",
        ),
        (
            format!("/api/registry/{registry}/v2/team/app/blobs/sha256:{long}"),
            "INVALID_DIGEST",
        ),
        (
            format!("/api/registry/{long}/v2/a/manifests/latest"),
            "INVALID_HOST",
        ),
    ] {
        let r = relay.get(&path).await;
        let shown = &path[..path.len().min(80)];
        assert_eq!(r.status(), 400, "{shown}");
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "application/json",
            "{shown}"
        );
        assert_eq!(
            r.headers()[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff",
            "{shown}"
        );
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["code"], code, "{shown}: {v}");
        let message = v["message"].as_str().unwrap();
        assert!(message.chars().count() <= 400, "{shown}: {message}");
        if path.contains(&long) {
            assert!(message.contains('…'), "{shown}: {message}");
        }
    }
    assert_eq!(log.count(), 0);
}

/// A registry host is looked up (credentials, tokens, insecure entries) under one
/// spelling only: a port with leading zeros, a default port, or an IPv4 address in
/// another notation would reach the same registry under another name (and reuse its
/// token while its credentials are looked up by name). They are refused, named.
#[tokio::test]
async fn non_canonical_registry_hosts_are_refused() {
    // A four-digit port, so that one leading zero still fits in five characters.
    let listener = {
        let mut port = 5078;
        loop {
            match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
                Ok(l) => break l,
                Err(_) if port < 9999 => port += 1,
                Err(e) => panic!("no free four-digit port: {e}"),
            }
        }
    };
    let (registry, log) = serve_logged(listener, Router::new().fallback(|| async { "{}" }));
    let port = registry.port();
    let relay = Relay::start(insecure(&[registry.to_string()])).await;
    for host in [
        format!("127.0.0.1:0{port}"),
        format!("127.0.0.1:00{port}"),
        format!("127.1:{port}"),
        format!("0x7f.0.0.1:{port}"),
        "127.0.0.1:443".to_owned(),
        "[0:0::1]:5000".to_owned(),
    ] {
        let r = relay
            .get(&format!("/api/registry/{host}/v2/team/app/manifests/v1"))
            .await;
        assert_eq!(r.status(), 400, "{host}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["code"], "INVALID_HOST", "{host}: {v}");
        assert!(
            v["message"].as_str().unwrap().contains(&host),
            "names the input: {v}"
        );
    }
    assert_eq!(log.count(), 0, "nothing reached the registry");
    let ok = relay
        .get(&format!(
            "/api/registry/{registry}/v2/team/app/manifests/v1"
        ))
        .await;
    assert_eq!(ok.status(), 200, "the canonical spelling works");
}
