//! One emulation per public registry, each a small axum server on loopback behaving as
//! `shared/REGISTRIES.md` documents it, driven through the relay:
//!
//! - Docker Hub: `docker.io` → its API host (here via `Config::endpoint_overrides`, since
//!   `registry-1.docker.io` cannot be pointed at loopback), `library/`, a realm on another
//!   host with service `registry.docker.io`, the challenge's scope first on refresh, blob
//!   307 to a CDN that must get no Authorization, 429 with `ratelimit-*` passed once and
//!   never retried, HEAD kept HEAD (it does not count against the quota).
//! - Quay: realm `/v2/auth`, challenges without `scope`, 302 to signed storage with a
//!   one-year Cache-Control that is never cached.
//! - GHCR: realm `/token`, tokens without `expires_in` (60 s: see the unit test
//!   `auth::cache::tests::token_without_expiry_lives_60_s`), blobs on a content host.
//! - Harbor: realm `/service/token`, service `harbor-registry`, `PROJECT/REPO` names,
//!   anonymous pull of a public project, a private project's 401 after one refresh.
//! - A private registry whose token realm needs the user's credentials, sharing the realm
//!   with a public one: the credentials reach only their registry's token requests.
//!
//! Basic-auth registries and credential helpers are in `auth.rs`; tag pagination and the
//! referrers fallback in `relay.rs`.

mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use strata_companion::{Config, CredentialsSource};
use support::*;

const MANIFEST: &str =
    r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#;
const LAYER: &str = "layer bytes";

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::to_owned)
}

/// `NAME` of `/v2/NAME/manifests/REF` or `/v2/NAME/blobs/DIGEST`.
fn repository_of(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/v2/")?;
    let (head, _) = rest.rsplit_once('/')?;
    let (name, kind) = head.rsplit_once('/')?;
    matches!(kind, "manifests" | "blobs").then_some(name)
}

fn unauthorized(challenge: String) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [
            (header::WWW_AUTHENTICATE, challenge),
            (header::CONTENT_TYPE, "application/json".to_owned()),
        ],
        r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
    )
        .into_response()
}

fn manifest_response(extra: &[(&'static str, String)], head: bool) -> Response {
    let mut response = (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.oci.image.manifest.v1+json",
            ),
            (
                header::HeaderName::from_static("docker-content-digest"),
                DIGEST_A,
            ),
        ],
        if head { "" } else { MANIFEST },
    )
        .into_response();
    for (k, v) in extra {
        response
            .headers_mut()
            .insert(*k, v.parse().expect("header value"));
    }
    if head {
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, MANIFEST.len().into());
    }
    response
}

/// Signed storage or a CDN: serves [`LAYER`], and refuses a request that carries an
/// `Authorization` header besides its signature, as S3 does ("only one auth mechanism").
fn storage() -> Router {
    Router::new().fallback(|headers: HeaderMap| async move {
        if headers.contains_key(header::AUTHORIZATION) {
            return (StatusCode::BAD_REQUEST, "only one auth mechanism allowed").into_response();
        }
        ([(header::CONTENT_TYPE, "application/octet-stream")], LAYER).into_response()
    })
}

fn query_values(seen: &Seen, name: &str) -> Vec<String> {
    seen.query_pairs()
        .into_iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v)
        .collect()
}

// ---------------------------------------------------------------------------------------
// Docker Hub

struct Hub {
    realm: String,
    cdn: String,
    accepted: Mutex<HashSet<String>>,
    /// Anonymous manifest GETs left in the window.
    remaining: AtomicI64,
}

/// `registry-1.docker.io`: Bearer with the realm on another host, quota on manifest GETs
/// (HEAD free), blobs 307 to the CDN.
fn docker_hub(hub: Arc<Hub>) -> Router {
    Router::new().fallback(move |request: Request| {
        let hub = hub.clone();
        async move {
            let path = request.uri().path().to_owned();
            let token = bearer(request.headers());
            let ok = token
                .as_ref()
                .is_some_and(|t| hub.accepted.lock().unwrap().contains(t));
            if path == "/v2/" && !ok {
                return unauthorized(format!(
                    r#"Bearer realm="{}",service="registry.docker.io""#,
                    hub.realm
                ));
            }
            let Some(name) = repository_of(&path) else {
                return StatusCode::NOT_FOUND.into_response();
            };
            if !ok {
                let error = if token.is_some() {
                    r#","error="invalid_token""#
                } else {
                    ""
                };
                return unauthorized(format!(
                    r#"Bearer realm="{}",service="registry.docker.io",scope="repository:{name}:pull"{error}"#,
                    hub.realm
                ));
            }
            if path.contains("/blobs/") {
                let hex = DIGEST_A.trim_start_matches("sha256:");
                return (
                    StatusCode::TEMPORARY_REDIRECT,
                    [(
                        header::LOCATION,
                        format!(
                            "{}/registry-v2/docker/registry/v2/blobs/sha256/{}/{hex}/data?verify=1700000000-abc",
                            hub.cdn,
                            &hex[..2]
                        ),
                    )],
                )
                    .into_response();
            }
            let limit = ("ratelimit-limit", "100;w=21600".to_owned());
            if request.method() == Method::HEAD {
                let left = hub.remaining.load(Ordering::SeqCst).max(0);
                let remaining = ("ratelimit-remaining", format!("{left};w=21600"));
                return manifest_response(&[limit, remaining], true);
            }
            let left = hub.remaining.fetch_sub(1, Ordering::SeqCst) - 1;
            if left < 0 {
                hub.remaining.store(0, Ordering::SeqCst);
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [
                        ("ratelimit-limit", "100;w=21600"),
                        ("ratelimit-remaining", "0;w=21600"),
                        ("docker-ratelimit-source", "203.0.113.7"),
                        ("content-type", "application/json"),
                    ],
                    r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit"}]}"#,
                )
                    .into_response();
            }
            let remaining = ("ratelimit-remaining", format!("{left};w=21600"));
            manifest_response(&[limit, remaining], false)
        }
    })
}

/// `auth.docker.io/token`: both `token` and `access_token`, like the real answer.
fn hub_auth() -> Router {
    let n = Arc::new(AtomicUsize::new(0));
    Router::new().route(
        "/token",
        get(move || {
            let k = n.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                axum::Json(json!({
                    "token": format!("hub-{k}"),
                    "access_token": format!("hub-{k}"),
                    "expires_in": 300,
                    "issued_at": "2024-01-01T00:00:00Z",
                }))
            }
        }),
    )
}

#[tokio::test]
async fn docker_hub_flow() {
    let (auth, auth_log) = start(hub_auth()).await;
    let (cdn, cdn_log) = start(storage()).await;
    let hub = Arc::new(Hub {
        // Realm and CDN on another host name than the registry (127.0.0.1).
        realm: format!("http://localhost:{}/token", auth.port()),
        cdn: format!("http://localhost:{}", cdn.port()),
        accepted: Mutex::new(["hub-1".to_owned()].into()),
        remaining: AtomicI64::new(2),
    });
    let (registry, registry_log) = start(docker_hub(hub.clone())).await;
    let relay = Relay::start(Config {
        endpoint_overrides: vec![("docker.io".into(), format!("http://{registry}"))],
        ..insecure(&[
            format!("localhost:{}", auth.port()),
            format!("localhost:{}", cdn.port()),
        ])
    })
    .await;
    let manifest = "/api/registry/docker.io/v2/nginx/manifests/latest";

    // HEAD where no body is needed: it stays HEAD upstream and costs no quota.
    let r = relay.head(manifest).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["docker-content-digest"], DIGEST_A);
    assert_eq!(r.headers()["ratelimit-remaining"], "2;w=21600");
    let tokens = auth_log.all();
    assert_eq!(tokens.len(), 1);
    assert_eq!(query_values(&tokens[0], "service"), ["registry.docker.io"]);
    assert_eq!(
        query_values(&tokens[0], "scope"),
        ["repository:library/nginx:pull"],
        "one-part names get library/"
    );
    assert_eq!(tokens[0].authorization(), None, "anonymous");

    // Two GETs use the quota up; the third is Docker Hub's 429, passed once with its
    // rate-limit values, never retried.
    for left in ["1;w=21600", "0;w=21600"] {
        let r = relay.get(manifest).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["ratelimit-remaining"], left);
        assert_eq!(r.text().await.unwrap(), MANIFEST);
    }
    let r = relay.get(manifest).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["ratelimit-limit"], "100;w=21600");
    assert_eq!(r.headers()["ratelimit-remaining"], "0;w=21600");
    assert!(r.text().await.unwrap().contains("TOOMANYREQUESTS"));
    let methods: Vec<_> = registry_log
        .matching("/v2/library/nginx/manifests/")
        .into_iter()
        .map(|s| s.method)
        .collect();
    assert_eq!(
        methods,
        ["HEAD", "GET", "GET", "GET"],
        "no retry of the 429"
    );

    // Blob: 307 to the CDN, which gets no Authorization (it would answer 400).
    let r = relay
        .get(&format!(
            "/api/registry/docker.io/v2/library/nginx/blobs/{DIGEST_A}"
        ))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), LAYER);
    let at_cdn = cdn_log.all();
    assert_eq!(at_cdn.len(), 1);
    assert_eq!(at_cdn[0].authorization(), None);
    assert_eq!(at_cdn[0].query.as_deref(), Some("verify=1700000000-abc"));
    assert!(
        registry_log
            .matching("/v2/library/")
            .iter()
            .all(|s| s.authorization().as_deref() == Some("Bearer hub-1")),
        "the registry itself gets the token"
    );

    // The token is revoked: Docker Hub's 401 names the scope it wants; the relay asks
    // for that scope first, once, and retries.
    *hub.accepted.lock().unwrap() = ["hub-2".to_owned()].into();
    let r = relay.head(manifest).await;
    assert_eq!(r.status(), 200);
    let tokens = auth_log.all();
    assert_eq!(tokens.len(), 2);
    assert_eq!(
        query_values(&tokens[1], "scope")
            .first()
            .map(String::as_str),
        Some("repository:library/nginx:pull"),
        "the challenge's scope first"
    );
    assert_eq!(
        registry_log
            .all()
            .iter()
            .filter(|s| s.path == "/v2/")
            .count(),
        1,
        "pinged once"
    );
}

// ---------------------------------------------------------------------------------------
// Quay.io

/// quay.io: realm `/v2/auth` on itself, no `scope` in any challenge, blobs 302 to signed
/// storage with a fresh signature each time and a one-year Cache-Control.
fn quay(origin: String, storage: String) -> Router {
    let signatures = Arc::new(AtomicUsize::new(0));
    let tokens = Arc::new(AtomicUsize::new(0));
    Router::new()
        .route(
            "/v2/auth",
            get(move || {
                let k = tokens.fetch_add(1, Ordering::SeqCst) + 1;
                // Quay answers with `token` only.
                async move { axum::Json(json!({ "token": format!("quay-{k}") })) }
            }),
        )
        .fallback(move |request: Request| {
            let origin = origin.clone();
            let storage = storage.clone();
            let signatures = signatures.clone();
            async move {
                let path = request.uri().path().to_owned();
                if bearer(request.headers()).as_deref() != Some("quay-1") {
                    return unauthorized(format!(
                        r#"Bearer realm="{origin}/v2/auth",service="quay.io""#
                    ));
                }
                if path.contains("/blobs/") {
                    let n = signatures.fetch_add(1, Ordering::SeqCst);
                    return (
                        StatusCode::FOUND,
                        [
                            (
                                header::LOCATION,
                                format!(
                                    "{storage}/sha256/2c/{DIGEST_A}?Expires=1700000{n}&Signature=sig{n}"
                                ),
                            ),
                            (header::CACHE_CONTROL, "max-age=31536000".to_owned()),
                        ],
                    )
                        .into_response();
                }
                if path.contains("/manifests/") {
                    return manifest_response(&[], false);
                }
                StatusCode::NOT_FOUND.into_response()
            }
        })
}

#[tokio::test]
async fn quay_flow() {
    let (store, store_log) = start(storage()).await;
    // Bound first: the realm is on the registry's own origin.
    let (listener, origin) = bound().await;
    let (registry, log) = serve_logged(
        listener,
        quay(origin, format!("http://localhost:{}", store.port())),
    );
    let relay = Relay::start(insecure(&[
        registry.to_string(),
        format!("localhost:{}", store.port()),
    ]))
    .await;

    let r = relay
        .get(&format!(
            "/api/registry/{registry}/v2/coreos/etcd/manifests/v3.5"
        ))
        .await;
    assert_eq!(r.status(), 200);
    let token_requests = log.matching("/v2/auth");
    assert_eq!(token_requests.len(), 1);
    assert_eq!(query_values(&token_requests[0], "service"), ["quay.io"]);
    assert_eq!(
        query_values(&token_requests[0], "scope"),
        ["repository:coreos/etcd:pull"],
        "scope built from the request when the challenge has none"
    );

    let blob = format!("/api/registry/{registry}/v2/coreos/etcd/blobs/{DIGEST_A}");
    for _ in 0..2 {
        let r = relay.get(&blob).await;
        assert_eq!(r.status(), 200);
        let cache = r.headers()[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(!cache.contains("31536000"), "{cache}");
        assert_eq!(r.text().await.unwrap(), LAYER);
    }
    // The redirect was not cached: each pull asked the registry for a fresh signature.
    assert_eq!(log.matching("/v2/coreos/etcd/blobs/").len(), 2);
    let signed: Vec<_> = store_log
        .all()
        .into_iter()
        .map(|s| (s.authorization(), s.query.unwrap_or_default()))
        .collect();
    assert_eq!(
        signed,
        [
            (None, "Expires=17000000&Signature=sig0".to_owned()),
            (None, "Expires=17000001&Signature=sig1".to_owned()),
        ]
    );
    assert_eq!(log.matching("/v2/auth").len(), 1, "token cached");
}

/// A loopback listener bound before its router is built, and its `http://` origin.
async fn bound() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    (listener, origin)
}

// ---------------------------------------------------------------------------------------
// GHCR

/// ghcr.io: realm `/token` on itself, service `ghcr.io`, tokens without `expires_in`,
/// blobs 307 to a separate content host.
fn ghcr(origin: String, content: String) -> Router {
    let tokens = Arc::new(AtomicUsize::new(0));
    Router::new()
        .route(
            "/token",
            get(move || {
                let k = tokens.fetch_add(1, Ordering::SeqCst) + 1;
                async move { axum::Json(json!({ "token": format!("ghcr-{k}") })) }
            }),
        )
        .fallback(move |request: Request| {
            let origin = origin.clone();
            let content = content.clone();
            async move {
                let path = request.uri().path().to_owned();
                if bearer(request.headers()).as_deref() != Some("ghcr-1") {
                    let scope = repository_of(&path)
                        .map(|n| format!(r#",scope="repository:{n}:pull""#))
                        .unwrap_or_default();
                    return unauthorized(format!(
                        r#"Bearer realm="{origin}/token",service="ghcr.io"{scope}"#
                    ));
                }
                if path.contains("/blobs/") {
                    return (
                        StatusCode::TEMPORARY_REDIRECT,
                        [(
                            header::LOCATION,
                            format!("{content}/ghcr1/blobs/{DIGEST_A}?se=x&sig=y"),
                        )],
                    )
                        .into_response();
                }
                manifest_response(&[], false)
            }
        })
}

#[tokio::test]
async fn ghcr_flow() {
    let (content, content_log) = start(storage()).await;
    let (listener, origin) = bound().await;
    let (registry, log) = serve_logged(
        listener,
        ghcr(origin, format!("http://localhost:{}", content.port())),
    );
    let clock = HandClock::new();
    let relay = Relay::start_with_clock(
        insecure(&[
            registry.to_string(),
            format!("localhost:{}", content.port()),
        ]),
        clock.clone(),
    )
    .await;
    let manifest = format!("/api/registry/{registry}/v2/owner/image/manifests/main");
    assert_eq!(relay.get(&manifest).await.status(), 200);
    // A token without expiry is neither discarded at once nor refetched per request:
    // it lives 60 s less a margin (unit test in auth::cache).
    clock.advance(std::time::Duration::from_secs(50));
    assert_eq!(relay.get(&manifest).await.status(), 200);
    let r = relay
        .get(&format!(
            "/api/registry/{registry}/v2/owner/image/blobs/{DIGEST_A}"
        ))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), LAYER);
    let tokens = log.matching("/token");
    assert_eq!(tokens.len(), 1, "one token for all three requests");
    assert_eq!(query_values(&tokens[0], "service"), ["ghcr.io"]);
    assert_eq!(
        query_values(&tokens[0], "scope"),
        ["repository:owner/image:pull"]
    );
    assert_eq!(content_log.count(), 1);
    assert_eq!(content_log.all()[0].authorization(), None);
}

// ---------------------------------------------------------------------------------------
// Harbor

/// Harbor: realm `/service/token`, service `harbor-registry`, projects `atlas` (public)
/// and `cms` (private: an anonymous token grants nothing there).
fn harbor(origin: String) -> Router {
    Router::new()
        .route(
            "/service/token",
            get(
                |q: axum::extract::Query<Vec<(String, String)>>| async move {
                    let scope =
                        q.0.iter()
                            .find(|(k, _)| k == "scope")
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default();
                    // A private project gets a token with an empty access list.
                    let token = if scope.starts_with("repository:atlas/") {
                        "harbor-atlas"
                    } else {
                        "harbor-nothing"
                    };
                    axum::Json(json!({
                        "token": token,
                        "access_token": "",
                        "expires_in": 1800,
                        "issued_at": "2024-01-01T00:00:00Z",
                    }))
                },
            ),
        )
        .route(
            "/v2/_catalog",
            get(|| async {
                // Harbor answers the catalog with a Basic challenge.
                (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, r#"Basic realm="harbor""#)],
                )
            }),
        )
        .fallback(move |request: Request| {
            let origin = origin.clone();
            async move {
                let path = request.uri().path().to_owned();
                let name = repository_of(&path).map(str::to_owned);
                let granted = match bearer(request.headers()).as_deref() {
                    Some("harbor-atlas") => {
                        name.as_deref().is_some_and(|n| n.starts_with("atlas/"))
                    }
                    _ => false,
                };
                if !granted || path == "/v2/" {
                    let scope = name
                        .map(|n| format!(r#",scope="repository:{n}:pull""#))
                        .unwrap_or_default();
                    return unauthorized(format!(
                        r#"Bearer realm="{origin}/service/token",service="harbor-registry"{scope}"#
                    ));
                }
                manifest_response(&[], false)
            }
        })
}

#[tokio::test]
async fn harbor_flow() {
    let (listener, origin) = bound().await;
    let (registry, log) = serve_logged(listener, harbor(origin));
    let relay = Relay::start(insecure(&[registry.to_string()])).await;

    // Public project, two-level repository under it: anonymous pull.
    let r = relay
        .get(&format!(
            "/api/registry/{registry}/v2/atlas/athena/analysis/manifests/25.0.1"
        ))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), MANIFEST);
    let tokens = log.matching("/service/token");
    assert_eq!(tokens.len(), 1);
    assert_eq!(query_values(&tokens[0], "service"), ["harbor-registry"]);
    assert_eq!(
        query_values(&tokens[0], "scope"),
        ["repository:atlas/athena/analysis:pull"]
    );
    assert_eq!(tokens[0].authorization(), None, "anonymous");

    // Private project: the anonymous token grants nothing; one refresh, then the
    // registry's 401 reaches the page.
    let r = relay
        .get(&format!(
            "/api/registry/{registry}/v2/cms/secret/manifests/v1"
        ))
        .await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("UNAUTHORIZED"));
    assert_eq!(log.matching("/v2/cms/").len(), 2, "one retry");
    assert_eq!(log.matching("/service/token").len(), 3, "one refresh");

    // The catalog is asked with a token for `registry:catalog:*` alone; Harbor answers
    // with a Basic challenge, which reaches the page as it is.
    let r = relay
        .get(&format!("/api/registry/{registry}/v2/_catalog"))
        .await;
    assert_eq!(r.status(), 401);
    assert_eq!(log.matching("/v2/_catalog").len(), 1);
    let tokens = log.matching("/service/token");
    assert_eq!(tokens.len(), 4);
    assert_eq!(query_values(&tokens[3], "scope"), ["registry:catalog:*"]);
}

// ---------------------------------------------------------------------------------------
// Private registries behind a token realm that needs credentials

/// A realm serving two services: `private-a` only with `alice:wonderland`, `public-b`
/// to anyone.
fn shared_realm() -> Router {
    Router::new().route(
        "/auth",
        get(
            |q: axum::extract::Query<Vec<(String, String)>>, headers: HeaderMap| async move {
                let service =
                    q.0.iter()
                        .find(|(k, _)| k == "service")
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default();
                let basic = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok());
                match service.as_str() {
                    // alice:wonderland
                    "private-a" if basic == Some("Basic YWxpY2U6d29uZGVybGFuZA==") => {
                        axum::Json(json!({"token": "a-tok"})).into_response()
                    }
                    "private-a" => (
                        StatusCode::UNAUTHORIZED,
                        [(header::WWW_AUTHENTICATE, r#"Basic realm="auth""#)],
                    )
                        .into_response(),
                    "public-b" => axum::Json(json!({"token": "b-tok"})).into_response(),
                    _ => StatusCode::BAD_REQUEST.into_response(),
                }
            },
        ),
    )
}

fn token_registry(realm: String, service: &'static str, token: &'static str) -> Router {
    Router::new().fallback(move |headers: HeaderMap| {
        let realm = realm.clone();
        async move {
            if bearer(&headers).as_deref() == Some(token) {
                manifest_response(&[], false)
            } else {
                unauthorized(format!(r#"Bearer realm="{realm}",service="{service}""#))
            }
        }
    })
}

#[tokio::test]
async fn private_token_realm_gets_credentials_only_for_its_registry() {
    use base64::Engine as _;
    let (realm, realm_log) = start(shared_realm()).await;
    let realm_url = format!("http://localhost:{}/auth", realm.port());
    let (a, a_log) = start(token_registry(realm_url.clone(), "private-a", "a-tok")).await;
    let (b, b_log) = start(token_registry(realm_url, "public-b", "b-tok")).await;
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("config.json");
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:wonderland");
    std::fs::write(
        &config_path,
        json!({"auths": {a.to_string(): {"auth": auth}}}).to_string(),
    )
    .unwrap();
    let hosts = [
        a.to_string(),
        b.to_string(),
        format!("localhost:{}", realm.port()),
    ];
    let relay = Relay::start(Config {
        credentials: CredentialsSource::File(config_path),
        ..insecure(&hosts)
    })
    .await;
    for host in [a, b] {
        let r = relay
            .get(&format!("/api/registry/{host}/v2/team/app/manifests/v1"))
            .await;
        assert_eq!(r.status(), 200, "{host}");
    }
    for seen in realm_log.all() {
        match query_values(&seen, "service")[0].as_str() {
            "private-a" => assert_eq!(
                seen.authorization().as_deref(),
                Some(format!("Basic {auth}").as_str())
            ),
            "public-b" => assert_eq!(seen.authorization(), None, "not alice's: B's realm request"),
            other => panic!("service {other}"),
        }
    }
    assert_eq!(realm_log.count(), 2);
    let auths =
        |log: &Log| -> Vec<Option<String>> { log.all().iter().map(Seen::authorization).collect() };
    assert!(
        auths(&a_log)
            .iter()
            .all(|h| h.is_none() || h.as_deref() == Some("Bearer a-tok")),
        "A sees its token, never the password: {:?}",
        auths(&a_log)
    );
    assert!(
        auths(&b_log)
            .iter()
            .all(|h| h.is_none() || h.as_deref() == Some("Bearer b-tok")),
        "{:?}",
        auths(&b_log)
    );

    // Without credentials the realm refuses: a clear 401 of the relay's own.
    let anonymous = Relay::start(insecure(&hosts)).await;
    let r = anonymous
        .get(&format!("/api/registry/{a}/v2/team/app/manifests/v1"))
        .await;
    assert_eq!(r.status(), 401);
    assert_eq!(error_code(r).await, "UNAUTHORIZED");
}
