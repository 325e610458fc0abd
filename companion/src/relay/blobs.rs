//! `GET|HEAD …/blobs/{digest}`: streamed, never buffered; `Range` passes; a stream that
//! breaks off or runs past its `Content-Length` fails rather than ends cleanly.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt as _;
use strata_shared::Digest;

use super::fetch::{Fetch, exchange};
use super::headers::{copy_content_length, get_or_head, upstream_headers};
use crate::auth::Scope;
use crate::body::content_length;
use crate::error::{Error, error_chain};
use crate::host::authority;
use crate::registry::Registry;
use crate::state::AppState;

pub(super) async fn blob(
    state: &AppState,
    registry: &Registry,
    name: &str,
    digest: &Digest,
    method: &Method,
    client_headers: &HeaderMap,
) -> Result<Response, Error> {
    let repository = registry.repository(name);
    let mut headers = upstream_headers(None);
    if let Some(range) = client_headers.get(header::RANGE) {
        headers.insert(header::RANGE, valid_range(range)?);
    }
    let fetch = Fetch {
        registry,
        scope: Scope::Pull(&repository),
        method: get_or_head(method),
        path: format!("/v2/{repository}/blobs/{digest}"),
        headers,
        timeout: None,
        use_mirrors: true,
    };
    let mut exchange = exchange(state, &fetch, true).await?;
    if method == Method::HEAD {
        return Ok(exchange.head());
    }
    if !exchange.status.is_success() {
        return exchange.error(state).await;
    }
    copy_content_length(exchange.upstream.headers(), &mut exchange.headers);
    let body = Body::from_stream(checked_stream(exchange.upstream, exchange.slot));
    Ok((exchange.status, exchange.headers, body).into_response())
}

/// The upstream body as a stream that fails — rather than ends cleanly — when the
/// upstream breaks off or sends other than `Content-Length` bytes, so a truncated blob
/// never looks like a complete one. Holds the upstream slot until it ends.
fn checked_stream(
    upstream: reqwest::Response,
    slot: tokio::sync::OwnedSemaphorePermit,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    struct St<S> {
        inner: S,
        expected: Option<u64>,
        seen: u64,
        done: bool,
        host: String,
        _slot: tokio::sync::OwnedSemaphorePermit,
    }
    let expected = content_length(upstream.headers());
    let host = authority(upstream.url());
    let state = St {
        inner: upstream.bytes_stream(),
        expected,
        seen: 0,
        done: false,
        host,
        _slot: slot,
    };
    futures_util::stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        let fail = |st: &mut St<_>, what: String| {
            st.done = true;
            tracing::warn!(upstream = %st.host, "blob stream aborted: {what}");
            Some((Err(std::io::Error::other(what)), ()))
        };
        let item = match st.inner.next().await {
            Some(Ok(chunk)) => {
                st.seen += chunk.len() as u64;
                match st.expected {
                    Some(n) if st.seen > n => fail(
                        &mut st,
                        format!("upstream sent more than Content-Length {n}"),
                    ),
                    _ => Some((Ok(chunk), ())),
                }
            }
            Some(Err(e)) => fail(
                &mut st,
                format!("upstream body failed: {}", error_chain(&e)),
            ),
            None => match st.expected {
                Some(n) if st.seen != n => {
                    let seen = st.seen;
                    fail(
                        &mut st,
                        format!("upstream body ended after {seen} of {n} bytes"),
                    )
                }
                _ => None,
            },
        };
        item.map(|(result, ())| (result, st))
    })
}

/// `Range: bytes=…` only, short and ASCII.
fn valid_range(range: &HeaderValue) -> Result<HeaderValue, Error> {
    let ok = range.to_str().is_ok_and(|r| {
        r.len() <= 200
            && r.strip_prefix("bytes=").is_some_and(|spec| {
                !spec.is_empty()
                    && spec
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b == b'-' || b == b',' || b == b' ')
            })
    });
    if ok {
        Ok(range.clone())
    } else {
        Err(Error::InvalidQuery {
            name: "Range",
            reason: "only bytes=START-END ranges are relayed".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert!(valid_range(&HeaderValue::from_static("bytes=0-99")).is_ok());
        assert!(valid_range(&HeaderValue::from_static("bytes=100-")).is_ok());
        for bad in ["items=0-1", "bytes=0-1;x"] {
            assert!(
                matches!(
                    valid_range(&HeaderValue::from_static(bad)),
                    Err(Error::InvalidQuery { name: "Range", .. })
                ),
                "{bad}"
            );
        }
    }
}
