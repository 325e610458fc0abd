//! The token handshake against a fake registry and a token realm on another loopback host
//! name; Basic auth and credentials from a docker config and a credential helper.

mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use strata_companion::{Config, CredentialsSource};
use support::*;

const MANIFEST: &str =
    r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#;

/// A token realm answering `answer(n)` to its n-th request (from 1).
fn token_server(
    answer: impl Fn(usize) -> serde_json::Value + Clone + Send + Sync + 'static,
) -> Router {
    let n = Arc::new(AtomicUsize::new(0));
    Router::new().route(
        "/token",
        get(move || {
            let answer = answer.clone();
            let n = n.clone();
            async move { axum::Json(answer(n.fetch_add(1, Ordering::SeqCst) + 1)) }
        }),
    )
}

/// A registry that wants `Bearer T` with `T` in `accepted`.
fn bearer_registry(realm: String, accepted: Arc<Mutex<HashSet<String>>>) -> Router {
    let handler = move |request: Request| {
        let realm = realm.clone();
        let accepted = accepted.clone();
        async move {
            let path = request.uri().path().to_owned();
            let token = request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::to_owned);
            let ok = token.is_some_and(|t| accepted.lock().unwrap().contains(&t));
            if !ok {
                let challenge = if path == "/v2/" {
                    format!(r#"Bearer realm="{realm}",service="test-registry""#)
                } else {
                    format!(
                        r#"Bearer realm="{realm}",service="test-registry",scope="repository:team/app:pull""#
                    )
                };
                return (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, challenge)],
                    r#"{"errors":[{"code":"UNAUTHORIZED"}]}"#,
                )
                    .into_response();
            }
            if path.contains("/manifests/") {
                return (
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
                    MANIFEST,
                )
                    .into_response();
            }
            (StatusCode::OK, "{}").into_response()
        }
    };
    Router::new().fallback(handler)
}

fn accept(tokens: &[&str]) -> Arc<Mutex<HashSet<String>>> {
    Arc::new(Mutex::new(tokens.iter().map(|s| (*s).to_owned()).collect()))
}

struct Setup {
    relay: Relay,
    /// Token lifetimes run on it.
    clock: Arc<HandClock>,
    registry: std::net::SocketAddr,
    registry_log: Log,
    token_log: Log,
}

async fn setup(
    answer: impl Fn(usize) -> serde_json::Value + Clone + Send + Sync + 'static,
    accepted: &[&str],
) -> Setup {
    let (token_addr, token_log) = start(token_server(answer)).await;
    // The realm is on another loopback host name than the registry.
    let realm = format!("http://localhost:{}/token", token_addr.port());
    let (registry, registry_log) = start(bearer_registry(realm, accept(accepted))).await;
    let clock = HandClock::new();
    let relay = Relay::start_with_clock(
        insecure(&[
            registry.to_string(),
            format!("localhost:{}", token_addr.port()),
        ]),
        clock.clone(),
    )
    .await;
    Setup {
        relay,
        clock,
        registry,
        registry_log,
        token_log,
    }
}

#[tokio::test]
async fn token_dance_with_access_token_is_cached() {
    let s = setup(
        |n| json!({"access_token": format!("tok-{n}"), "expires_in": 300}),
        &["tok-1"],
    )
    .await;
    let path = format!("/api/registry/{}/v2/team/app/manifests/v1", s.registry);
    for _ in 0..3 {
        let r = s.relay.get(&path).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["docker-content-digest"], DIGEST_A);
        assert_eq!(r.text().await.unwrap(), MANIFEST);
    }
    let tokens = s.token_log.all();
    assert_eq!(tokens.len(), 1, "token cached: {tokens:#?}");
    let q = tokens[0].query_pairs();
    assert!(
        q.contains(&("service".into(), "test-registry".into())),
        "{q:?}"
    );
    assert!(
        q.contains(&("scope".into(), "repository:team/app:pull".into())),
        "{q:?}"
    );
    assert_eq!(tokens[0].authorization(), None, "anonymous token request");
    assert_eq!(s.registry_log.matching("/v2/team/").len(), 3);
    assert_eq!(
        s.registry_log
            .all()
            .iter()
            .filter(|r| r.path == "/v2/")
            .count(),
        1,
        "pinged once"
    );
    assert!(
        s.registry_log
            .matching("/v2/team/")
            .iter()
            .all(|r| r.authorization().as_deref() == Some("Bearer tok-1"))
    );
}

#[tokio::test]
async fn parallel_requests_share_one_token() {
    let s = setup(
        |n| json!({"token": format!("tok-{n}"), "expires_in": 300}),
        &["tok-1"],
    )
    .await;
    let path = format!("/api/registry/{}/v2/team/app/manifests/v1", s.registry);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let client = s.relay.client.clone();
        let url = s.relay.url(&path);
        tasks.push(tokio::spawn(async move {
            client.get(url).send().await.unwrap().status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    assert_eq!(s.token_log.count(), 1, "one token for parallel requests");
}

#[tokio::test]
async fn token_field_without_expiry() {
    let s = setup(|n| json!({"token": format!("tok-{n}")}), &["tok-1"]).await;
    let r = s
        .relay
        .get(&format!(
            "/api/registry/{}/v2/team/app/manifests/v1",
            s.registry
        ))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(s.token_log.count(), 1);
}

#[tokio::test]
async fn token_expiry_fetches_a_new_one() {
    let s = setup(
        |n| json!({"token": format!("tok-{n}"), "expires_in": 1}),
        &["tok-1", "tok-2"],
    )
    .await;
    let path = format!("/api/registry/{}/v2/team/app/manifests/v1", s.registry);
    assert_eq!(s.relay.get(&path).await.status(), 200);
    // A 1 s token is used for 0.9 s (a tenth is kept as a margin).
    s.clock.advance(std::time::Duration::from_millis(850));
    assert_eq!(s.relay.get(&path).await.status(), 200);
    assert_eq!(s.token_log.count(), 1, "still valid");
    s.clock.advance(std::time::Duration::from_millis(100));
    assert_eq!(s.relay.get(&path).await.status(), 200);
    assert_eq!(s.token_log.count(), 2);
}

#[tokio::test]
async fn rejected_token_is_refreshed_once() {
    // tok-1 is refused by the registry (revoked); the relay refreshes once and gets tok-2.
    let s = setup(
        |n| json!({"token": format!("tok-{n}"), "expires_in": 300}),
        &["tok-2"],
    )
    .await;
    let path = format!("/api/registry/{}/v2/team/app/manifests/v1", s.registry);
    let r = s.relay.get(&path).await;
    assert_eq!(r.status(), 200);
    assert_eq!(s.token_log.count(), 2);
    let tries: Vec<_> = s
        .registry_log
        .matching("/v2/team/")
        .iter()
        .map(|r| r.authorization())
        .collect();
    assert_eq!(
        tries,
        vec![
            Some("Bearer tok-1".to_owned()),
            Some("Bearer tok-2".to_owned())
        ]
    );
    // tok-2 is now cached.
    assert_eq!(s.relay.get(&path).await.status(), 200);
    assert_eq!(s.token_log.count(), 2);
}

#[tokio::test]
async fn exactly_one_refresh_then_the_401_passes() {
    let s = setup(|n| json!({"token": format!("tok-{n}")}), &[]).await;
    let r = s
        .relay
        .get(&format!(
            "/api/registry/{}/v2/team/app/manifests/v1",
            s.registry
        ))
        .await;
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .starts_with("Bearer ")
    );
    assert!(r.text().await.unwrap().contains("UNAUTHORIZED"));
    assert_eq!(s.token_log.count(), 2, "initial token + one refresh");
    assert_eq!(s.registry_log.matching("/v2/team/").len(), 2);
}

#[tokio::test]
async fn realm_on_a_host_not_allowed_is_refused() {
    let (token_addr, token_log) = start(token_server(|_| json!({"token": "t"}))).await;
    let realm = format!("http://localhost:{}/token", token_addr.port());
    let (registry, _) = start(bearer_registry(realm, accept(&["t"]))).await;
    // The realm host is not named with --insecure-registry.
    let relay = Relay::start(insecure(&[registry.to_string()])).await;
    let r = relay
        .get(&format!(
            "/api/registry/{registry}/v2/team/app/manifests/v1"
        ))
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(r).await, "FORBIDDEN_HOST");
    assert_eq!(token_log.count(), 0);
}

#[tokio::test]
async fn refused_token_is_a_clear_401() {
    let refuse = Router::new().route("/token", get(|| async { (StatusCode::FORBIDDEN, "no") }));
    let (token_addr, _) = start(refuse).await;
    let realm = format!("http://localhost:{}/token", token_addr.port());
    let (registry, _) = start(bearer_registry(realm, accept(&[]))).await;
    let relay = Relay::start(insecure(&[
        registry.to_string(),
        format!("localhost:{}", token_addr.port()),
    ]))
    .await;
    let r = relay
        .get(&format!(
            "/api/registry/{registry}/v2/team/app/manifests/v1"
        ))
        .await;
    assert_eq!(r.status(), 401);
    assert_eq!(error_code(r).await, "UNAUTHORIZED");
}

/// A registry with Basic auth accepting exactly `expected`.
fn basic_registry(expected: &'static str) -> Router {
    Router::new().fallback(move |headers: HeaderMap| async move {
        let got = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if got == Some(expected) {
            (
                StatusCode::OK,
                [(
                    header::CONTENT_TYPE,
                    "application/vnd.oci.image.manifest.v1+json",
                )],
                MANIFEST,
            )
                .into_response()
        } else {
            let r: Response = (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, r#"Basic realm="test""#)],
                "{}",
            )
                .into_response();
            r
        }
    })
}

#[tokio::test]
async fn credentials_reach_only_their_registry() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    // Registry A: Basic, credentials in `auths`. Registry B: Basic, credentials from a helper.
    // Registry C: Basic, no credentials. Registry D: Bearer, its realm gets A's? No: D has its own.
    let (a, a_log) = start(basic_registry("Basic dXNlcjpwYXNz")).await; // user:pass
    let (b, b_log) = start(basic_registry("Basic aGVscGVyLXVzZXI6aGVscGVyLXNlY3JldA==")).await; // helper-user:helper-secret
    let (c, c_log) = start(basic_registry("Basic dXNlcjpwYXNz")).await;
    let (token_addr, token_log) = start(token_server(|_| json!({"token": "dtok"}))).await;
    let realm = format!("http://localhost:{}/token", token_addr.port());
    let (d, d_log) = start(bearer_registry(realm, accept(&["dtok"]))).await;

    let dir = tempfile::tempdir().unwrap();
    let helper = dir.path().join("docker-credential-strata-test");
    let asked = dir.path().join("asked");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 1\ncat > '{}'\necho '{{\"ServerURL\":\"x\",\"Username\":\"helper-user\",\"Secret\":\"helper-secret\"}}'\n",
            asked.display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let config_json = json!({
        "auths": {
            a.to_string(): {"auth": b64("user:pass")},
            format!("http://{d}"): {"auth": b64("duser:dpass")},
        },
        "credHelpers": { b.to_string(): "strata-test" },
    });
    let config_path = dir.path().join("config.json");
    std::fs::write(&config_path, serde_json::to_vec(&config_json).unwrap()).unwrap();

    let hosts: Vec<String> = [a, b, c, d]
        .iter()
        .map(|x| x.to_string())
        .chain([format!("localhost:{}", token_addr.port())])
        .collect();
    let config = Config {
        credentials: CredentialsSource::FileWithHelperDir(config_path, dir.path().to_owned()),
        ..insecure(&hosts)
    };
    let relay = Relay::start(config).await;
    let get = |host: std::net::SocketAddr| {
        let relay = &relay;
        async move {
            relay
                .get(&format!("/api/registry/{host}/v2/team/app/manifests/v1"))
                .await
        }
    };

    assert_eq!(get(a).await.status(), 200);
    assert_eq!(get(b).await.status(), 200);
    assert_eq!(
        std::fs::read_to_string(&asked).unwrap(),
        b.to_string(),
        "helper asked about its registry"
    );
    let r = get(c).await;
    assert_eq!(r.status(), 401, "no credentials for C");
    assert!(
        r.headers().get(header::WWW_AUTHENTICATE).is_none(),
        "Basic challenges never reach the page"
    );
    assert_eq!(get(d).await.status(), 200);

    let auths = |log: &Log| {
        log.all()
            .iter()
            .filter_map(|s| s.authorization())
            .collect::<Vec<_>>()
    };
    assert!(auths(&a_log).iter().all(|h| h == "Basic dXNlcjpwYXNz"));
    assert!(
        auths(&b_log)
            .iter()
            .all(|h| h == "Basic aGVscGVyLXVzZXI6aGVscGVyLXNlY3JldA==")
    );
    assert!(
        auths(&c_log).is_empty(),
        "C never sees anyone's credentials: {:?}",
        auths(&c_log)
    );
    // D's credentials go to the realm D named, and D itself only sees the token.
    assert_eq!(
        auths(&token_log),
        vec![format!("Basic {}", b64("duser:dpass"))]
    );
    assert!(auths(&d_log).iter().all(|h| h == "Bearer dtok"));
}

/// The binary as a user runs it reads the user's docker configuration: `$REGISTRY_AUTH_FILE`
/// first, else `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json` — one file, never
/// merged — and a `credsStore` helper found on `$PATH`. Four Basic registries, each with
/// its credential in one place; each run shows which file was read, and every registry
/// sees only its own credential or none.
#[cfg(unix)]
#[tokio::test]
async fn credentials_come_from_the_users_docker_config() {
    use base64::Engine as _;
    use std::ffi::OsStr;
    use std::os::unix::fs::PermissionsExt as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let home_basic = "Basic aG9tZTpob21lLXB3"; // home:home-pw
    let docker_config_basic = "Basic ZGM6ZGMtcHc="; // dc:dc-pw
    let auth_file_basic = "Basic YWY6YWYtcHc="; // af:af-pw
    let store_basic = "Basic c3RvcmU6c3RvcmUtcHc="; // store:store-pw
    let (home_reg, home_log) = start(basic_registry(home_basic)).await;
    let (dc_reg, dc_log) = start(basic_registry(docker_config_basic)).await;
    let (af_reg, af_log) = start(basic_registry(auth_file_basic)).await;
    let (store_reg, store_log) = start(basic_registry(store_basic)).await;

    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let docker_config = dir.path().join("docker-config");
    let bin = dir.path().join("bin");
    for d in [&home.join(".docker"), &docker_config, &bin] {
        std::fs::create_dir_all(d).unwrap();
    }
    let write_config = |path: &std::path::Path, host: std::net::SocketAddr, auth: &str| {
        let json = json!({
            "auths": { host.to_string(): {"auth": b64(auth)} },
            "credsStore": "strata-store",
        });
        std::fs::write(path, json.to_string()).unwrap();
    };
    write_config(&home.join(".docker/config.json"), home_reg, "home:home-pw");
    write_config(&docker_config.join("config.json"), dc_reg, "dc:dc-pw");
    let auth_file = dir.path().join("auth.json");
    write_config(&auth_file, af_reg, "af:af-pw");
    // The store knows only `store_reg`; like the real helpers it exits 1 for the rest.
    let asked = dir.path().join("asked");
    std::fs::write(
        bin.join("docker-credential-strata-store"),
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread -r url\necho \"$url\" >> '{}'\n\
             [ \"$url\" = '{store_reg}' ] || {{ echo 'credentials not found in native keychain'; exit 1; }}\n\
             echo '{{\"ServerURL\":\"{store_reg}\",\"Username\":\"store\",\"Secret\":\"store-pw\"}}'\n",
            asked.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        bin.join("docker-credential-strata-store"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let path = std::env::join_paths(std::iter::once(bin.clone()).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();

    let registries = [home_reg, dc_reg, af_reg, store_reg].map(|r| r.to_string());
    let mut args = Vec::new();
    for r in &registries {
        args.extend(["--insecure-registry", r.as_str()]);
    }
    let client = client();
    // Each run: the environment, and which of the four registries answer 200.
    type Env<'a> = Vec<(&'a str, Option<&'a OsStr>)>;
    let runs: [(&str, Env, [u16; 4]); 3] = [
        (
            "HOME only",
            vec![
                ("HOME", Some(home.as_os_str())),
                ("DOCKER_CONFIG", None),
                ("REGISTRY_AUTH_FILE", None),
            ],
            [200, 401, 401, 200],
        ),
        (
            "DOCKER_CONFIG",
            vec![
                ("HOME", Some(home.as_os_str())),
                ("DOCKER_CONFIG", Some(docker_config.as_os_str())),
                ("REGISTRY_AUTH_FILE", None),
            ],
            [401, 200, 401, 200],
        ),
        (
            "REGISTRY_AUTH_FILE",
            vec![
                ("HOME", Some(home.as_os_str())),
                ("DOCKER_CONFIG", Some(docker_config.as_os_str())),
                ("REGISTRY_AUTH_FILE", Some(auth_file.as_os_str())),
            ],
            [401, 401, 200, 200],
        ),
    ];
    for (run, mut env, expected) in runs {
        env.push(("PATH", Some(path.as_os_str())));
        let (mut child, addr) = spawn_companion(&args, &env).await;
        for (registry, want) in registries.iter().zip(expected) {
            let r = client
                .get(format!(
                    "http://{addr}/api/registry/{registry}/v2/team/app/manifests/v1"
                ))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), want, "{run}: {registry}");
        }
        child.kill().await.unwrap();
    }

    let auths =
        |log: &Log| -> Vec<String> { log.all().iter().filter_map(Seen::authorization).collect() };
    for (log, own) in [
        (&home_log, home_basic),
        (&dc_log, docker_config_basic),
        (&af_log, auth_file_basic),
        (&store_log, store_basic),
    ] {
        let seen = auths(log);
        assert!(!seen.is_empty(), "{own}: used once at least");
        assert!(seen.iter().all(|h| h == own), "only its own: {seen:?}");
    }
    // The store was asked about registries without an `auths` entry (by host), and
    // answered only for its own.
    let asked = std::fs::read_to_string(&asked).unwrap();
    assert!(asked.lines().any(|l| l == store_reg.to_string()), "{asked}");
    assert!(
        asked.lines().all(|l| registries.contains(&l.to_owned())),
        "{asked}"
    );
}

/// Tokens are asked for `pull` only, whatever the registry's challenge lists: a 401 whose
/// challenge names `push`, another repository's `push` or `registry:catalog:*` does not
/// make the relay ask the realm for more than reading, with the user's credentials.
#[tokio::test]
async fn tokens_are_asked_for_pull_only() {
    let (token_addr, token_log) = start(token_server(
        |n| json!({"token": format!("tok-{n}"), "expires_in": 300}),
    ))
    .await;
    let realm = format!("http://localhost:{}/token", token_addr.port());
    let registry = Router::new().fallback(move |request: Request| {
        let realm = realm.clone();
        async move {
            let authorized = request
                .headers()
                .get(header::AUTHORIZATION)
                .is_some_and(|v| v == "Bearer tok-2");
            if authorized {
                return MANIFEST.into_response();
            }
            let scope = if request.uri().path() == "/v2/" {
                String::new()
            } else {
                r#",scope="repository:team/app:pull,push repository:team/other:push,delete registry:catalog:*""#
                    .to_owned()
            };
            (
                StatusCode::UNAUTHORIZED,
                [(
                    header::WWW_AUTHENTICATE,
                    format!(r#"Bearer realm="{realm}",service="reg"{scope}"#),
                )],
            )
                .into_response()
        }
    });
    let (registry, _) = start(registry).await;
    let relay = Relay::start(insecure(&[
        registry.to_string(),
        format!("localhost:{}", token_addr.port()),
    ]))
    .await;
    let r = relay
        .get(&format!(
            "/api/registry/{registry}/v2/team/app/manifests/v1"
        ))
        .await;
    assert_eq!(r.status(), 200, "the refreshed token is used");
    assert_eq!(token_log.count(), 2);
    for seen in token_log.all() {
        let scopes: Vec<String> = seen
            .query_pairs()
            .into_iter()
            .filter(|(k, _)| k == "scope")
            .map(|(_, v)| v)
            .collect();
        assert!(!scopes.is_empty(), "{seen:?}");
        for scope in &scopes {
            assert!(
                scope.starts_with("repository:") && scope.ends_with(":pull"),
                "only pull is asked for: {scopes:?}"
            );
        }
    }
}
