//! Upstream bodies read whole, each under its cap (by `Content-Length` before reading,
//! and by counting while reading), so no registry can make the relay buffer without bound.

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt as _;

use crate::config::Limits;
use crate::error::{Error, classify};

/// Reads a whole upstream body, refusing it past `limit` bytes with `too_large()`.
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
        let chunk = chunk.map_err(|e| classify(&e, &host))?;
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

/// A manifest body (capped at `manifest_max_bytes`), or the upstream error body.
pub(crate) async fn manifest_body(
    upstream: reqwest::Response,
    limits: &Limits,
) -> Result<Bytes, Error> {
    let limit = limits.manifest_max_bytes;
    capped_body(upstream, limits, limit, || Error::ManifestTooLarge {
        limit,
    })
    .await
}

/// A list body, `what` (capped at `list_max_bytes`), or the upstream error body.
pub(crate) async fn list_body(
    upstream: reqwest::Response,
    limits: &Limits,
    what: &'static str,
) -> Result<Bytes, Error> {
    let limit = limits.list_max_bytes;
    capped_body(upstream, limits, limit, || Error::BodyTooLarge {
        what,
        limit,
    })
    .await
}

/// A success body capped at `limit` (`too_large` past it), or the upstream error body.
async fn capped_body(
    upstream: reqwest::Response,
    limits: &Limits,
    limit: u64,
    too_large: impl Fn() -> Error,
) -> Result<Bytes, Error> {
    if upstream.status().is_success() {
        read_capped(upstream, limit, too_large).await
    } else {
        error_body(upstream, limits.error_body_max_bytes).await
    }
}

/// An upstream error body (MANIFEST_UNKNOWN, TOOMANYREQUESTS, …), capped.
pub(crate) async fn error_body(upstream: reqwest::Response, limit: u64) -> Result<Bytes, Error> {
    read_capped(upstream, limit, || Error::BodyTooLarge {
        what: "upstream error body",
        limit,
    })
    .await
}
