//! Load: concurrent large blobs streamed through the companion binary (a separate process,
//! so its peak RSS can be read) from a loopback upstream, against fetching them directly.
//!
//! Default scale keeps CI short (8 blobs × 16 MiB). The scale, 50 concurrent
//! 100 MB blobs:
//! `STRATA_LOAD_BLOBS=50 STRATA_LOAD_MB=100 cargo test -p strata-companion --release --test load -- --nocapture`
//! (against a fake upstream); `scripts/bench-relay.sh` measures against the real
//! Distribution registry with a release build.

mod support;

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use bytes::Bytes;
use futures_util::StreamExt as _;
use support::*;

const CHUNK: usize = 256 * 1024;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A registry serving `size` bytes for any blob, from one shared chunk (no big buffers).
fn blob_registry(size: u64) -> Router {
    let chunk = Bytes::from(vec![0x5au8; CHUNK]);
    Router::new().route("/v2/", get(|| async { "{}" })).route(
        "/v2/load/blob/blobs/{digest}",
        get(move || {
            let chunk = chunk.clone();
            async move {
                let full = size / CHUNK as u64;
                let rest = (size % CHUNK as u64) as usize;
                let stream = futures_util::stream::iter((0..full).map(move |_| chunk.clone()))
                    .chain(futures_util::stream::iter(
                        (rest > 0).then(|| Bytes::from(vec![0x5au8; rest])),
                    ))
                    .map(Ok::<_, std::io::Error>);
                let mut response = axum::response::Response::new(Body::from_stream(stream));
                response
                    .headers_mut()
                    .insert("content-length", size.to_string().parse().unwrap());
                response
            }
        }),
    )
}

/// Fetches `urls` concurrently, counting bytes; returns total bytes and elapsed time.
async fn fetch_all(client: &reqwest::Client, urls: Vec<String>) -> (u64, Duration) {
    let started = Instant::now();
    let tasks: Vec<_> = urls
        .into_iter()
        .map(|url| {
            let client = client.clone();
            tokio::spawn(async move {
                let response = client.get(url).send().await.unwrap();
                assert_eq!(response.status(), 200);
                let mut stream = response.bytes_stream();
                let mut n = 0u64;
                while let Some(chunk) = stream.next().await {
                    n += chunk.unwrap().len() as u64;
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    (total, started.elapsed())
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_blobs_stream_with_bounded_memory() {
    let blobs = env_usize("STRATA_LOAD_BLOBS", 8);
    let size = env_usize("STRATA_LOAD_MB", 16) as u64 * 1_000_000;
    let (registry, _) = start(blob_registry(size)).await;

    let registry_host = registry.to_string();
    let (mut child, relay) =
        spawn_companion(&["--anonymous", "--insecure-registry", &registry_host], &[]).await;
    let pid = child.id().unwrap();

    let client = client();
    let digest = |i: usize| format!("sha256:{:064x}", i);
    let direct: Vec<_> = (0..blobs)
        .map(|i| format!("http://{registry}/v2/load/blob/blobs/{}", digest(i)))
        .collect();
    let relayed: Vec<_> = (0..blobs)
        .map(|i| {
            format!(
                "http://{relay}/api/registry/{registry}/v2/load/blob/blobs/{}",
                digest(i)
            )
        })
        .collect();

    // One blob alone: relay overhead.
    let (_, one_direct) = fetch_all(&client, direct[..1].to_vec()).await;
    let (_, one_relayed) = fetch_all(&client, relayed[..1].to_vec()).await;
    let (bytes_direct, all_direct) = fetch_all(&client, direct).await;
    let (bytes_relayed, all_relayed) = fetch_all(&client, relayed).await;
    assert_eq!(bytes_direct, blobs as u64 * size);
    assert_eq!(bytes_relayed, blobs as u64 * size);
    let rss = peak_rss_kib(pid);
    let mb_s = |b: u64, d: Duration| b as f64 / 1e6 / d.as_secs_f64();
    println!(
        "load: {blobs} concurrent blobs of {} MB: direct {:.0} MB/s, relayed {:.0} MB/s (ratio {:.2}); \
         one blob: direct {:?}, relayed {:?} (ratio {:.2}); companion peak RSS {} MiB",
        size / 1_000_000,
        mb_s(bytes_direct, all_direct),
        mb_s(bytes_relayed, all_relayed),
        all_relayed.as_secs_f64() / all_direct.as_secs_f64(),
        one_direct,
        one_relayed,
        one_relayed.as_secs_f64() / one_direct.as_secs_f64(),
        rss / 1024,
    );
    assert!(rss > 0, "peak RSS readable");
    assert!(
        rss < 150 * 1024,
        "companion peak RSS {} MiB over 150 MiB",
        rss / 1024
    );
    child.kill().await.unwrap();
}
