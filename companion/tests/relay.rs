//! Relay behaviour against fake upstreams: manifests, blobs (streaming, Range, truncation),
//! caps, pass-through of statuses and rate-limit headers, tag pagination, referrers,
//! mirrors, and the static app.

mod support;

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use strata_companion::Config;
use support::*;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// An anonymous registry: `/v2/` answers 200, the rest is `routes`.
fn anonymous(routes: Router) -> Router {
    routes.route("/v2/", get(|| async { "{}" }))
}

#[tokio::test]
async fn manifest_get_and_head() {
    let body = r#"{"schemaVersion":2}"#;
    let (registry, log) = start(anonymous(Router::new().route(
        "/v2/team/app/manifests/{reference}",
        get(move || async move {
            (
                [
                    (
                        header::CONTENT_TYPE,
                        "application/vnd.oci.image.index.v1+json",
                    ),
                    (
                        header::HeaderName::from_static("docker-content-digest"),
                        DIGEST_A,
                    ),
                ],
                body,
            )
        }),
    )))
    .await;
    let relay = Relay::start(insecure(&[registry.to_string()])).await;
    let path = format!("/api/registry/{registry}/v2/team/app/manifests/v1");
    let r = relay.get(&path).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()[header::CONTENT_TYPE],
        "application/vnd.oci.image.index.v1+json"
    );
    assert_eq!(r.headers()["docker-content-digest"], DIGEST_A);
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.text().await.unwrap(), body);
    let r = relay.head(&path).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()[header::CONTENT_LENGTH],
        body.len().to_string().as_str()
    );
    assert_eq!(r.headers()["docker-content-digest"], DIGEST_A);
    let seen = log.matching("/v2/team/");
    assert_eq!(
        seen.iter().map(|s| s.method.as_str()).collect::<Vec<_>>(),
        ["GET", "HEAD"],
        "HEAD stays HEAD upstream"
    );
    let accept = seen[0].headers[header::ACCEPT].to_str().unwrap();
    for t in [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
    ] {
        assert!(accept.contains(t), "{t} in {accept}");
    }
}

#[tokio::test]
async fn upstream_errors_pass_through() {
    let unknown = r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#;
    let (registry, _) = start(anonymous(Router::new().route(
        "/v2/team/app/manifests/{reference}",
        get(move || async move {
            (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "application/json")],
                unknown,
            )
        }),
    )))
    .await;
    let relay = Relay::start(insecure(&[registry.to_string()])).await;
    let r = relay
        .get(&format!(
            "/api/registry/{registry}/v2/team/app/manifests/nope"
        ))
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.text().await.unwrap(), unknown);
}

#[tokio::test]
async fn manifest_over_4_mib_is_refused() {
    const LIMIT: usize = 4 * 1024 * 1024;
    let (registry, _) = start(anonymous(
        Router::new()
            .route(
                "/v2/team/app/manifests/big",
                get(|| async { vec![b' '; LIMIT + 1] }),
            )
            .route(
                "/v2/team/app/manifests/exact",
                get(|| async { vec![b' '; LIMIT] }),
            )
            .route(
                "/v2/team/app/manifests/chunked",
                get(|| async {
                    // No Content-Length: the cap holds while reading.
                    let chunks = (0..5).map(|_| {
                        Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b' '; 1024 * 1024]))
                    });
                    axum::body::Body::from_stream(futures_util::stream::iter(chunks))
                }),
            ),
    ))
    .await;
    let relay = Relay::start(insecure(&[registry.to_string()])).await;
    for reference in ["big", "chunked"] {
        let r = relay
            .get(&format!(
                "/api/registry/{registry}/v2/team/app/manifests/{reference}"
            ))
            .await;
        assert_eq!(r.status(), 502, "{reference}");
        assert_eq!(error_code(r).await, "MANIFEST_TOO_LARGE");
    }
    let r = relay
        .get(&format!(
            "/api/registry/{registry}/v2/team/app/manifests/exact"
        ))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().len(), LIMIT);
}

/// A raw HTTP/1.1 upstream: `/v2/` answers 200; anything else answers `200` with
/// `Content-Length: {declared}` and `Connection: close`, sends `body` (which may be shorter
/// or longer than declared), then hangs up.
async fn raw_blob_upstream(declared: usize, body: Vec<u8>) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut n = 0;
                while !buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf[n..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => n += k,
                    }
                }
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                if head.starts_with("GET /v2/ ") {
                    let _ = socket
                        .write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
                        )
                        .await;
                } else {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
                    );
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(&body).await;
                }
                let _ = socket.shutdown().await;
            });
        }
    });
    addr
}

/// An upstream that answers `Content-Length: 1000` and sends 500 bytes.
async fn truncating_upstream() -> std::net::SocketAddr {
    raw_blob_upstream(1000, vec![7u8; 500]).await
}

#[tokio::test]
async fn truncated_blob_is_an_error_not_a_success() {
    let upstream = truncating_upstream().await;
    let relay = Relay::start(insecure(&[upstream.to_string()])).await;
    let r = relay
        .get(&format!(
            "/api/registry/{upstream}/v2/team/app/blobs/{DIGEST_A}"
        ))
        .await;
    // The status left before the body broke off; the body must then fail.
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[header::CONTENT_LENGTH], "1000");
    let body = tokio::time::timeout(Duration::from_secs(10), r.bytes())
        .await
        .expect("no hang");
    assert!(
        matches!(&body, Err(e) if e.is_decode() || e.is_body()),
        "truncated body must not end cleanly: got {:?}",
        body.map(|b| b.len())
    );
}

/// The mirror of the truncation case: the upstream declares `Content-Length: 10`, writes
/// 20 bytes and closes. The relay's HTTP client (hyper) frames the upstream body by its
/// `Content-Length`, so `checked_stream` in `src/relay.rs` sees exactly 10 bytes and the
/// upstream body ends there; the 10 extra bytes are never read as body and never reach the
/// page. The relayed response therefore ends cleanly after exactly the declared 10 bytes
/// (the declared ones, not the extra ones) with `Content-Length: 10`; it is not an error.
/// (Had more than the declared length ever reached the stream, `checked_stream` would fail
/// it with "upstream sent more than Content-Length".)
#[tokio::test]
async fn overlong_blob_ends_at_its_content_length() {
    let mut sent = vec![b'a'; 10];
    sent.extend_from_slice(&[b'b'; 10]);
    let upstream = raw_blob_upstream(10, sent).await;
    let relay = Relay::start(insecure(&[upstream.to_string()])).await;
    let r = relay
        .get(&format!(
            "/api/registry/{upstream}/v2/team/app/blobs/{DIGEST_A}"
        ))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[header::CONTENT_LENGTH], "10");
    let body = tokio::time::timeout(Duration::from_secs(10), r.bytes())
        .await
        .expect("no hang");
    match body {
        Ok(bytes) => assert_eq!(
            bytes.as_ref(),
            &[b'a'; 10],
            "a clean body must be exactly the declared bytes"
        ),
        Err(e) => panic!("expected the body to end at Content-Length, got an error: {e}"),
    }
}

#[tokio::test]
async fn blob_streams_and_range_passes_through() {
    let data: Vec<u8> = (0..=255u8).cycle().take(3 * 1024 * 1024).collect();
    let served = data.clone();
    let (registry, log) = start(anonymous(Router::new().route(
        "/v2/team/app/blobs/{digest}",
        get(move |headers: HeaderMap| {
            let served = served.clone();
            async move {
                match headers.get(header::RANGE).and_then(|r| r.to_str().ok()) {
                    Some("bytes=10-19") => (
                        StatusCode::PARTIAL_CONTENT,
                        [(
                            header::CONTENT_RANGE,
                            format!("bytes 10-19/{}", served.len()),
                        )],
                        served[10..20].to_vec(),
                    )
                        .into_response(),
                    _ => ([(header::CONTENT_TYPE, "application/octet-stream")], served)
                        .into_response(),
                }
            }
        }),
    )))
    .await;
    let relay = Relay::start(insecure(&[registry.to_string()])).await;
    let path = format!("/api/registry/{registry}/v2/team/app/blobs/{DIGEST_A}");
    let r = relay.get(&path).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), data.as_slice());
    let r = relay
        .client
        .get(relay.url(&path))
        .header(header::RANGE, "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(
        r.headers()[header::CONTENT_RANGE],
        format!("bytes 10-19/{}", data.len()).as_str()
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), &data[10..20]);
    assert_eq!(
        log.matching("/v2/team/")[1].headers[header::RANGE],
        "bytes=10-19"
    );
    let r = relay.head(&path).await;
    assert_eq!(
        r.headers()[header::CONTENT_LENGTH],
        data.len().to_string().as_str()
    );
}

#[tokio::test]
async fn rate_limited_upstream_passes_with_its_headers_exposed() {
    let (registry, _) = start(anonymous(Router::new().route(
        "/v2/library/nginx/manifests/{reference}",
        get(|| async {
            (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    ("ratelimit-limit", "100;w=21600"),
                    ("ratelimit-remaining", "0;w=21600"),
                    ("docker-ratelimit-source", "203.0.113.7"),
                    ("content-type", "application/json"),
                ],
                r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}"#,
            )
        }),
    )))
    .await;
    let origin = "http://127.0.0.1:8080";
    let config = Config {
        allow_origins: vec![origin.into()],
        ..insecure(&[registry.to_string()])
    };
    let relay = Relay::start(config).await;
    let r = relay
        .client
        .get(relay.url(&format!(
            "/api/registry/{registry}/v2/library/nginx/manifests/latest"
        )))
        .header(header::ORIGIN, origin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["ratelimit-limit"], "100;w=21600");
    assert_eq!(r.headers()["ratelimit-remaining"], "0;w=21600");
    assert_eq!(r.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], origin);
    let exposed = r.headers()[header::ACCESS_CONTROL_EXPOSE_HEADERS]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        exposed.contains("ratelimit-limit") && exposed.contains("ratelimit-remaining"),
        "{exposed}"
    );
    assert!(r.text().await.unwrap().contains("TOOMANYREQUESTS"));
}

#[tokio::test]
async fn tag_list_link_is_rewritten_to_the_relay() {
    let (registry, _) = start(anonymous(Router::new().route(
        "/v2/team/app/tags/list",
        get(
            |q: axum::extract::Query<std::collections::HashMap<String, String>>| async move {
                match q.get("last").map(String::as_str) {
                    None => (
                        [(
                            header::LINK,
                            r#"</v2/team/app/tags/list?last=b&n=2>; rel="next""#,
                        )],
                        r#"{"name":"team/app","tags":["a","b"]}"#,
                    )
                        .into_response(),
                    Some("b") => r#"{"name":"team/app","tags":["c"]}"#.into_response(),
                    Some(_) => StatusCode::BAD_REQUEST.into_response(),
                }
            },
        ),
    )))
    .await;
    let relay = Relay::start(insecure(&[registry.to_string()])).await;
    let r = relay
        .get(&format!(
            "/api/registry/{registry}/v2/team/app/tags/list?n=2"
        ))
        .await;
    assert_eq!(r.status(), 200);
    let link = r.headers()[header::LINK].to_str().unwrap().to_owned();
    let expected =
        format!(r#"</api/registry/{registry}/v2/team/app/tags/list?n=2&last=b>; rel="next""#);
    assert_eq!(link, expected);
    assert!(r.text().await.unwrap().contains(r#"["a","b"]"#));
    let next = link.trim_start_matches('<').split('>').next().unwrap();
    let r = relay.get(next).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().get(header::LINK).is_none());
    assert!(r.text().await.unwrap().contains(r#"["c"]"#));
}

#[tokio::test]
async fn referrers_fall_back_to_the_tag_schema() {
    let hex = DIGEST_A.trim_start_matches("sha256:");
    let index = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"artifactType":"x/y"}]}"#;
    let (registry, _) = start(anonymous(Router::new().route(
        &format!("/v2/team/app/manifests/sha256-{hex}"),
        get(move || async move {
            (
                [(
                    header::CONTENT_TYPE,
                    "application/vnd.oci.image.index.v1+json",
                )],
                index,
            )
        }),
    )))
    .await;
    let (empty_registry, _) = start(anonymous(Router::new())).await;
    let relay = Relay::start(insecure(&[
        registry.to_string(),
        empty_registry.to_string(),
    ]))
    .await;
    let r = relay
        .get(&format!(
            "/api/registry/{registry}/v2/team/app/referrers/{DIGEST_A}"
        ))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["strata-referrers-fallback"], "tag");
    assert_eq!(r.text().await.unwrap(), index);
    let r = relay
        .get(&format!(
            "/api/registry/{empty_registry}/v2/team/app/referrers/{DIGEST_A}"
        ))
        .await;
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["manifests"], serde_json::json!([]));
}

#[tokio::test]
async fn mirror_first_then_the_registry() {
    let (mirror, mirror_log) = start(anonymous(Router::new().route(
        &format!("/v2/team/app/blobs/{DIGEST_A}"),
        get(|| async { "from mirror" }),
    )))
    .await;
    let (registry, registry_log) = start(anonymous(Router::new().route(
        "/v2/team/app/blobs/{digest}",
        get(|| async { "from registry" }),
    )))
    .await;
    let config = Config {
        mirrors: vec![(registry.to_string(), format!("http://{mirror}"))],
        ..insecure(&[registry.to_string()])
    };
    let relay = Relay::start(config).await;
    let r = relay
        .get(&format!(
            "/api/registry/{registry}/v2/team/app/blobs/{DIGEST_A}"
        ))
        .await;
    assert_eq!(r.text().await.unwrap(), "from mirror");
    assert_eq!(registry_log.matching("/v2/team/").len(), 0);
    let other = format!("sha256:{}", "b".repeat(64));
    let r = relay
        .get(&format!(
            "/api/registry/{registry}/v2/team/app/blobs/{other}"
        ))
        .await;
    assert_eq!(
        r.text().await.unwrap(),
        "from registry",
        "mirror miss falls back"
    );
    assert_eq!(mirror_log.matching("/v2/team/").len(), 2);
}

#[tokio::test]
async fn docker_io_names_get_library_and_go_to_the_mirror() {
    // Only the mirror answers here (there is no network): it must see Docker Hub's
    // repository path, `library/` included.
    let (mirror, mirror_log) = start(anonymous(Router::new().route(
        "/v2/library/nginx/manifests/{reference}",
        get(|| async {
            (
                [(
                    header::CONTENT_TYPE,
                    "application/vnd.oci.image.index.v1+json",
                )],
                "{}",
            )
        }),
    )))
    .await;
    let config = Config {
        mirrors: vec![("docker.io".into(), format!("http://{mirror}"))],
        ..insecure(&[])
    };
    let relay = Relay::start(config).await;
    for path in [
        "/api/registry/docker.io/v2/nginx/manifests/1.27",
        "/api/registry/docker.io/v2/library/nginx/manifests/1.27",
        "/api/registry/index.docker.io/v2/nginx/manifests/1.27",
    ] {
        let r = relay.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
    }
    let paths: Vec<_> = mirror_log
        .matching("/v2/library/")
        .into_iter()
        .map(|s| s.path)
        .collect();
    assert_eq!(paths, vec!["/v2/library/nginx/manifests/1.27"; 3]);
}

/// Mirrors with fallback, and credentials: a mirror that is down and a mirror that
/// challenges for Basic are both passed over for the registry, and neither ever sees the
/// registry's credential (a mirror is another host; it gets only its own, here none).
/// What was fetched with credentials reaches the browser as `private` (by digest) or
/// `no-store` (by tag): no shared cache may keep it for another client.
#[tokio::test]
async fn mirrors_fall_back_and_never_see_the_registrys_credentials() {
    use base64::Engine as _;
    const BASIC: &str = "Basic dXNlcjpwYXNz"; // user:pass
    let (registry, registry_log) = start(Router::new().fallback(|headers: HeaderMap| async move {
        if headers
            .get(header::AUTHORIZATION)
            .is_some_and(|v| v == BASIC)
        {
            (
                [(
                    header::CONTENT_TYPE,
                    "application/vnd.oci.image.manifest.v1+json",
                )],
                "{}",
            )
                .into_response()
        } else {
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, r#"Basic realm="r""#)],
            )
                .into_response()
        }
    }))
    .await;
    let (mirror, mirror_log) = start(Router::new().fallback(|| async {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, r#"Basic realm="mirror""#)],
        )
    }))
    .await;
    let down = dead_port().await;
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("config.json");
    let auth = base64::engine::general_purpose::STANDARD.encode("user:pass");
    std::fs::write(
        &config_path,
        serde_json::json!({"auths": {registry.to_string(): {"auth": auth}}}).to_string(),
    )
    .unwrap();
    let relay = Relay::start(Config {
        mirrors: vec![
            (registry.to_string(), format!("http://127.0.0.1:{down}")),
            (registry.to_string(), format!("http://{mirror}")),
        ],
        credentials: strata_companion::CredentialsSource::File(config_path),
        ..insecure(&[registry.to_string()])
    })
    .await;

    for (reference, cache) in [(DIGEST_A, "private, max-age=86400"), ("v1", "no-store")] {
        let r = relay
            .get(&format!(
                "/api/registry/{registry}/v2/team/app/manifests/{reference}"
            ))
            .await;
        assert_eq!(r.status(), 200, "{reference}: fell back to the registry");
        assert_eq!(r.headers()[header::CACHE_CONTROL], cache, "{reference}");
    }
    assert!(mirror_log.count() >= 2, "the mirror was tried");
    assert!(
        mirror_log.all().iter().all(|s| s.authorization().is_none()),
        "the mirror never saw the registry's credential: {:?}",
        mirror_log.all()
    );
    assert!(
        registry_log
            .matching("/v2/team/")
            .iter()
            .any(|s| s.authorization().as_deref() == Some(BASIC))
    );
}

/// The whole `Link` header is parsed: of all its links (several per line, several lines)
/// only the registry's own next page of this repository survives, rewritten to the relay;
/// a foreign link sharing the line, a `prev`, or another repository's page is dropped.
#[tokio::test]
async fn tag_list_link_keeps_only_the_registrys_own_next_page() {
    let (registry, _) = start(anonymous(Router::new().route(
        "/v2/team/app/tags/list",
        get(|| async {
            let mut headers = HeaderMap::new();
            headers.append(
                header::LINK,
                r#"</v2/team/app/tags/list?n=1>; rel="next", <https://evil.example/>; rel="next""#
                    .parse()
                    .unwrap(),
            );
            headers.append(
                header::LINK,
                r#"<https://evil.example/v2/team/app/tags/list>; rel="next""#
                    .parse()
                    .unwrap(),
            );
            headers.append(
                header::LINK,
                r#"</v2/team/other/tags/list?n=1>; rel="next", </v2/team/app/tags/list?last=a>; rel="prev""#
                    .parse()
                    .unwrap(),
            );
            (headers, r#"{"name":"team/app","tags":["a"]}"#)
        }),
    )))
    .await;
    let relay = Relay::start(insecure(&[registry.to_string()])).await;
    let r = relay
        .get(&format!("/api/registry/{registry}/v2/team/app/tags/list"))
        .await;
    assert_eq!(r.status(), 200);
    let links: Vec<_> = r
        .headers()
        .get_all(header::LINK)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        links,
        vec![format!(
            r#"</api/registry/{registry}/v2/team/app/tags/list?n=1>; rel="next""#
        )]
    );
}
