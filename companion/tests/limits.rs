//! Limits of issue 5 ("Not an open proxy"): the token answer cap (64 KiB), the connect
//! timeout, the idle (read) timeout on headers and on a streaming blob, and the bound on
//! concurrent upstream requests with the relay's own 429. (The manifest cap is in
//! `relay.rs`, the per-client rate in `guards.rs`.)
//!
//! The upstreams here are small axum servers or bare sockets: a real registry or realm
//! cannot be made to send an oversized token, stall mid-body, or never accept.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use bytes::Bytes;
use strata_companion::{Config, Limits};
use support::*;

const MANIFEST: &str =
    r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#;

/// A registry that wants any Bearer token from `realm`, and serves [`MANIFEST`] with it.
fn bearer_registry(realm: String) -> Router {
    Router::new().fallback(move |headers: axum::http::HeaderMap| {
        let realm = realm.clone();
        async move {
            if headers.contains_key(header::AUTHORIZATION) {
                return MANIFEST.into_response();
            }
            (
                StatusCode::UNAUTHORIZED,
                [(
                    header::WWW_AUTHENTICATE,
                    format!(r#"Bearer realm="{realm}",service="r""#),
                )],
            )
                .into_response()
        }
    })
}

/// A token answer of exactly `size` bytes (JSON padded with spaces).
fn token_answer(size: usize) -> Vec<u8> {
    let mut body = br#"{"token":"t","expires_in":300}"#.to_vec();
    body.resize(size, b' ');
    body
}

#[tokio::test]
async fn token_answer_over_64_kib_is_refused() {
    const LIMIT: usize = 64 * 1024;
    let realm = Router::new()
        .route(
            "/exact/token",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    token_answer(LIMIT),
                )
            }),
        )
        .route(
            "/big/token",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    token_answer(LIMIT + 1),
                )
            }),
        )
        .route(
            "/chunked/token",
            get(|| async {
                // No Content-Length: the cap holds while reading.
                let body = token_answer(2 * LIMIT);
                let chunks: Vec<Result<Bytes, std::io::Error>> = body
                    .chunks(4096)
                    .map(|c| Ok(Bytes::copy_from_slice(c)))
                    .collect();
                Body::from_stream(futures_util::stream::iter(chunks))
            }),
        );
    let (realm_addr, realm_log) = start(realm).await;
    let realm_host = format!("localhost:{}", realm_addr.port());
    for (kind, status, code) in [
        ("exact", 200, None),
        ("big", 502, Some("UPSTREAM_TOO_LARGE")),
        ("chunked", 502, Some("UPSTREAM_TOO_LARGE")),
    ] {
        let (registry, _) =
            start(bearer_registry(format!("http://{realm_host}/{kind}/token"))).await;
        let relay = Relay::start(insecure(&[registry.to_string(), realm_host.clone()])).await;
        let r = relay
            .get(&format!(
                "/api/registry/{registry}/v2/team/app/manifests/v1"
            ))
            .await;
        assert_eq!(r.status(), status, "{kind}");
        match code {
            Some(code) => assert_eq!(error_code(r).await, code, "{kind}"),
            None => assert_eq!(r.text().await.unwrap(), MANIFEST),
        }
    }
    assert_eq!(realm_log.count(), 3);
}

/// Limits with short timeouts, for tests that wait for them.
fn short_timeouts() -> Limits {
    Limits {
        connect_timeout: Duration::from_millis(500),
        read_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_secs(2),
        ..Limits::default()
    }
}

/// Connect timeout: a listener whose accept queue is full and which never accepts, so the
/// kernel drops further SYNs and a connect hangs (no address on loopback refuses by
/// silence otherwise).
#[tokio::test]
async fn connect_timeout_is_a_504() {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    // Fill the accept queue; the connects that hang are the proof the queue is full.
    let mut held = Vec::new();
    let mut hung = 0;
    while hung == 0 && held.len() < 64 {
        match tokio::time::timeout(
            Duration::from_millis(300),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            Ok(Ok(stream)) => held.push(stream),
            Ok(Err(e)) => panic!("connect: {e}"),
            Err(_) => hung += 1,
        }
    }
    assert!(hung > 0, "the accept queue never filled");

    let relay = Relay::start(Config {
        limits: short_timeouts(),
        ..insecure(&[addr.to_string()])
    })
    .await;
    let started = Instant::now();
    let r = relay
        .get(&format!("/api/registry/{addr}/v2/team/app/manifests/v1"))
        .await;
    assert_eq!(r.status(), 504);
    assert_eq!(error_code(r).await, "UPSTREAM_TIMEOUT");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    drop(listener);
}

/// Idle timeout: an upstream that stops sending — before its headers (a manifest: 504),
/// or in the middle of a blob (the stream to the client fails instead of hanging or
/// ending as if complete).
#[tokio::test]
async fn a_stalled_upstream_is_cut_off() {
    let stalled = Router::new()
        .route("/v2/", get(|| async { "{}" }))
        .route(
            "/v2/team/app/manifests/{reference}",
            get(|| async {
                std::future::pending::<()>().await;
                "never"
            }),
        )
        .route(
            "/v2/team/app/blobs/{digest}",
            get(|| async {
                let first = futures_util::stream::once(async {
                    Ok::<_, std::io::Error>(Bytes::from_static(b"first bytes"))
                });
                let never = futures_util::stream::pending();
                (
                    [(header::CONTENT_LENGTH, "1000")],
                    Body::from_stream(futures_util::StreamExt::chain(first, never)),
                )
            }),
        );
    let (registry, _) = start(stalled).await;
    let relay = Relay::start(Config {
        limits: short_timeouts(),
        ..insecure(&[registry.to_string()])
    })
    .await;

    let started = Instant::now();
    let r = relay
        .get(&format!(
            "/api/registry/{registry}/v2/team/app/manifests/v1"
        ))
        .await;
    assert_eq!(r.status(), 504);
    assert_eq!(error_code(r).await, "UPSTREAM_TIMEOUT");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    let started = Instant::now();
    let r = relay
        .get(&format!(
            "/api/registry/{registry}/v2/team/app/blobs/{DIGEST_A}"
        ))
        .await;
    assert_eq!(r.status(), 200, "headers came");
    let body = tokio::time::timeout(Duration::from_secs(10), r.bytes())
        .await
        .expect("the relay cut the stalled stream off");
    assert!(
        matches!(&body, Err(e) if e.is_decode() || e.is_body()),
        "a stalled blob is a body error, not a success: {body:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// Concurrent upstream requests are bounded: with one slot, a blob being streamed holds
/// it; another request waits `queue_timeout`, then gets the relay's own 429 (JSON
/// `RATE_LIMITED`, `Retry-After`) without reaching the registry. When the stream ends, the
/// slot is free again.
#[tokio::test]
async fn concurrent_upstream_requests_are_bounded() {
    let release = Arc::new(tokio::sync::Notify::new());
    let gate = release.clone();
    let registry = Router::new().route("/v2/", get(|| async { "{}" })).route(
        "/v2/team/app/blobs/{digest}",
        get(move || {
            let gate = gate.clone();
            async move {
                let first = futures_util::stream::once(async {
                    Ok::<_, std::io::Error>(Bytes::from_static(b"12345"))
                });
                let rest = futures_util::stream::once(async move {
                    gate.notified().await;
                    Ok::<_, std::io::Error>(Bytes::from_static(b"67890"))
                });
                (
                    [(header::CONTENT_LENGTH, "10")],
                    Body::from_stream(futures_util::StreamExt::chain(first, rest)),
                )
            }
        }),
    );
    let (registry, log) = start(registry).await;
    let relay = Relay::start(Config {
        limits: Limits {
            max_concurrent_upstream: 1,
            queue_timeout: Duration::from_millis(300),
            ..Limits::default()
        },
        ..insecure(&[registry.to_string()])
    })
    .await;
    let blob = format!("/api/registry/{registry}/v2/team/app/blobs/{DIGEST_A}");

    let streaming = relay.get(&blob).await;
    assert_eq!(streaming.status(), 200);
    let r = relay.get(&blob).await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key(header::RETRY_AFTER));
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["code"], "RATE_LIMITED", "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("in flight"),
        "says why: {v}"
    );
    assert_eq!(
        log.matching("/v2/team/").len(),
        1,
        "the refused request never went upstream"
    );

    release.notify_one();
    assert_eq!(streaming.bytes().await.unwrap().as_ref(), b"1234567890");
    let r = relay.get(&blob).await;
    assert_eq!(r.status(), 200, "the slot is free again");
    release.notify_one();
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"1234567890");
}

/// Limits with connection timeouts of a test's choosing and nothing else changed.
fn connection_limits(header_read_ms: u64, idle_ms: u64) -> Limits {
    Limits {
        header_read_timeout: Duration::from_millis(header_read_ms),
        idle_timeout: Duration::from_millis(idle_ms),
        ..Limits::default()
    }
}

/// Reads until the server closes `stream` (end or reset); the bytes read and when.
async fn until_closed(stream: &mut tokio::net::tcp::OwnedReadHalf, within: Duration) -> Vec<u8> {
    use tokio::io::AsyncReadExt as _;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .expect("the server closed the connection");
    seen
}

/// 200 connections trickling half-sent headers used to stay open for ever: a request head
/// not complete within `header_read_timeout` closes its connection, even while bytes keep
/// coming (and so the idle timeout never fires).
#[tokio::test]
async fn trickled_headers_are_cut_off() {
    use tokio::io::AsyncWriteExt as _;
    let relay = Relay::start(Config {
        limits: connection_limits(300, 30_000),
        ..Config::default()
    })
    .await;
    let stream = tokio::net::TcpStream::connect(relay.addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        let head = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Strata-Client: 1\r\nX-Pad: ";
        for byte in head.iter().chain(std::iter::repeat(&b'a')) {
            if write.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    until_closed(&mut read, Duration::from_secs(5)).await;
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    trickle.abort();
}

/// A kept-alive connection with no request and no byte moving is closed after
/// `idle_timeout` (the header-read timeout is longer here, so it is not what closes it).
#[tokio::test]
async fn an_idle_connection_is_closed() {
    use tokio::io::AsyncWriteExt as _;
    let relay = Relay::start(Config {
        limits: connection_limits(30_000, 300),
        ..Config::default()
    })
    .await;
    let stream = tokio::net::TcpStream::connect(relay.addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    write
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Strata-Client: 1\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let answer = until_closed(&mut read, Duration::from_secs(5)).await;
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"),
        "answered first: {}",
        String::from_utf8_lossy(&answer)
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

/// At most `max_connections` are served at once: with two held open, a third is not
/// answered; when one of the two closes, it is.
#[tokio::test]
async fn concurrent_connections_are_bounded() {
    let relay = Relay::start(Config {
        limits: Limits {
            max_connections: 2,
            ..connection_limits(30_000, 30_000)
        },
        ..Config::default()
    })
    .await;
    let first = tokio::net::TcpStream::connect(relay.addr).await.unwrap();
    let _second = tokio::net::TcpStream::connect(relay.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let waiting = client()
        .get(relay.url("/api/health"))
        .timeout(Duration::from_millis(700))
        .send()
        .await;
    assert!(
        waiting.is_err(),
        "a third connection is not served: {waiting:?}"
    );
    drop(first);
    let r = client()
        .get(relay.url("/api/health"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("served once a connection closed");
    assert_eq!(r.status(), 200);
}

/// Sets its flag when dropped: shows that the upstream body was let go.
struct DropFlag(Arc<std::sync::atomic::AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A client that stops reading a relayed blob used to hold its upstream slot for ever.
/// With one slot: a client reads the start of a 64 MiB blob and then nothing; after
/// `client_stall_timeout` its connection is closed, the upstream body is dropped (so the
/// upstream connection closes), and another request gets the slot.
#[tokio::test]
async fn a_client_that_stops_reading_frees_its_upstream_slot() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    const CHUNK: usize = 64 * 1024;
    const CHUNKS: usize = 1024;
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = dropped.clone();
    let registry = Router::new()
        .route("/v2/", get(|| async { "{}" }))
        .route(
            "/v2/team/app/manifests/{reference}",
            get(|| async { MANIFEST }),
        )
        .route(
            "/v2/team/app/blobs/{digest}",
            get(move || {
                let guard = DropFlag(flag.clone());
                async move {
                    let chunk = Bytes::from(vec![0u8; CHUNK]);
                    let body = futures_util::stream::unfold((0, guard), move |(i, guard)| {
                        let chunk = chunk.clone();
                        async move {
                            (i < CHUNKS).then(|| (Ok::<_, std::io::Error>(chunk), (i + 1, guard)))
                        }
                    });
                    (
                        [(header::CONTENT_LENGTH, (CHUNK * CHUNKS).to_string())],
                        Body::from_stream(body),
                    )
                }
            }),
        );
    let (registry, _) = start(registry).await;
    let relay = Relay::start(Config {
        limits: Limits {
            max_concurrent_upstream: 1,
            queue_timeout: Duration::from_millis(200),
            client_stall_timeout: Duration::from_millis(500),
            ..Limits::default()
        },
        ..insecure(&[registry.to_string()])
    })
    .await;

    let mut stalled = tokio::net::TcpStream::connect(relay.addr).await.unwrap();
    stalled
        .write_all(
            format!(
                "GET /api/registry/{registry}/v2/team/app/blobs/{DIGEST_A} HTTP/1.1\r\n\
                 Host: 127.0.0.1\r\nX-Strata-Client: 1\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut start_of_blob = vec![0u8; 16 * 1024];
    stalled.read_exact(&mut start_of_blob).await.unwrap();
    assert!(String::from_utf8_lossy(&start_of_blob).starts_with("HTTP/1.1 200"));
    // From here on, the client reads nothing (and keeps its socket open).

    let manifest = format!("/api/registry/{registry}/v2/team/app/manifests/v1");
    let started = Instant::now();
    let status = loop {
        let status = relay.get(&manifest).await.status();
        if status == 200 || started.elapsed() > Duration::from_secs(10) {
            break status;
        }
        assert_eq!(status, 429, "the slot is held meanwhile");
    };
    assert_eq!(status, 200, "the stalled blob let its slot go");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let started = Instant::now();
    while !dropped.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        dropped.load(Ordering::SeqCst),
        "the upstream body was dropped, closing the upstream connection"
    );
    drop(stalled);
}

/// The connection bounds are flags, with their defaults shown in `--help`.
#[test]
fn connection_bounds_are_in_help() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strata-companion"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for (flag, default) in [
        ("--header-read-timeout <SECS>", "[default: 10]"),
        ("--idle-timeout <SECS>", "[default: 60]"),
        ("--client-stall-timeout <SECS>", "[default: 60]"),
        ("--max-connections <N>", "[default: 512]"),
    ] {
        let at = help
            .find(flag)
            .unwrap_or_else(|| panic!("{flag} in --help:\n{help}"));
        let entry = &help[at..];
        let end = entry[flag.len()..]
            .find("\n  -")
            .map_or(entry.len(), |e| e + flag.len());
        assert!(entry[..end].contains(default), "{flag} {default}:\n{help}");
    }
}
