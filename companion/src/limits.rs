//! Bounds: body caps (manifests 4 MiB, token answers 64 KiB), timeouts, concurrent
//! upstream requests, and a per-client request rate with a 429 of our own.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::AppState;
use crate::error::Error;

/// Caps and timeouts of the relay.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest manifest relayed (registries cap manifests at 4 MiB).
    pub manifest_max_bytes: u64,
    /// Largest token-service answer read.
    pub token_max_bytes: u64,
    /// Largest upstream error body passed through.
    pub error_body_max_bytes: u64,
    /// Largest tag list or referrers index relayed.
    pub list_max_bytes: u64,
    /// Connecting to an upstream.
    pub connect_timeout: Duration,
    /// Longest pause between two reads of an upstream body.
    pub read_timeout: Duration,
    /// Whole exchange for small documents (manifests, tokens, lists).
    pub request_timeout: Duration,
    /// Redirect hops followed per request.
    pub max_redirects: usize,
    /// Upstream requests in flight at once (a streaming blob holds one until it ends).
    pub max_concurrent_upstream: usize,
    /// How long a request waits for an upstream slot before a 429.
    pub queue_timeout: Duration,
    /// Sustained requests per second per client address.
    pub client_rate_per_second: u32,
    /// Burst of requests per client address.
    pub client_burst: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            manifest_max_bytes: 4 * 1024 * 1024,
            token_max_bytes: 64 * 1024,
            error_body_max_bytes: 64 * 1024,
            list_max_bytes: 8 * 1024 * 1024,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(60),
            max_redirects: 5,
            max_concurrent_upstream: 128,
            queue_timeout: Duration::from_secs(30),
            client_rate_per_second: 50,
            client_burst: 500,
        }
    }
}

/// Shared counters behind the limits.
pub(crate) struct Limiter {
    slots: Arc<Semaphore>,
    queue_timeout: Duration,
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Limiter {
    pub(crate) fn new(limits: &Limits) -> Self {
        Limiter {
            slots: Arc::new(Semaphore::new(limits.max_concurrent_upstream.max(1))),
            queue_timeout: limits.queue_timeout,
            rate: f64::from(limits.client_rate_per_second.max(1)),
            burst: f64::from(limits.client_burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// One upstream slot, held until the permit drops (for blobs: until the stream ends).
    pub(crate) async fn upstream_slot(&self) -> Result<OwnedSemaphorePermit, Error> {
        match tokio::time::timeout(self.queue_timeout, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(Error::RateLimited(
                "too many upstream requests in flight; retry shortly",
            )),
        }
    }

    /// Token bucket per client address.
    fn allow(&self, client: IpAddr) -> bool {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 10_000 {
            let burst = self.burst;
            let rate = self.rate;
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * self.rate;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Middleware: per-client request rate on the relay routes.
pub(crate) async fn rate_limit(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    if !state.inner.limiter.allow(client) {
        return Error::RateLimited("too many requests from this client; retry shortly")
            .into_response();
    }
    next.run(request).await
}

/// Reads a whole upstream body, refusing it past `limit` bytes (by Content-Length before
/// reading, and by counting while reading).
pub(crate) async fn read_capped(
    response: reqwest::Response,
    limit: u64,
    too_large: impl Fn() -> Error,
) -> Result<Bytes, Error> {
    if content_length(response.headers()).is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let host = response.url().host_str().unwrap_or("").to_owned();
    let mut stream = response.bytes_stream();
    let mut out = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| crate::upstream::classify(&e, &host))?;
        if out.len() as u64 + chunk.len() as u64 > limit {
            return Err(too_large());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out.freeze())
}

/// The `Content-Length` header, if present and numeric.
pub(crate) fn content_length(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    headers
        .get(reqwest::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_burst_then_refuses() {
        let limiter = Limiter::new(&Limits {
            client_burst: 3,
            client_rate_per_second: 1,
            ..Limits::default()
        });
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert!(limiter.allow(ip) && limiter.allow(ip) && limiter.allow(ip));
        assert!(!limiter.allow(ip));
        assert!(limiter.allow(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))));
    }
}
