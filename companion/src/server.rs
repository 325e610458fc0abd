//! The accept loop, instead of `axum::serve`, for the bounds it cannot set:
//! - at most `max_connections` connections at once (the next one waits in the listen
//!   queue until one ends);
//! - hyper's HTTP/1 header-read timeout: a request whose head is not in within
//!   `header_read_timeout` closes its connection (trickled headers hold nothing for long);
//! - a watch on each connection's bytes: it is closed when idle (no request in flight and
//!   no byte either way) for `idle_timeout`, and when the client has accepted no byte of a
//!   response for `client_stall_timeout`. A client that stops reading a blob would
//!   otherwise hold its upstream slot, and the upstream connection, forever; closing the
//!   connection drops the response body, which frees both.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use bytes::Bytes;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

use crate::config::Limits;

/// Accepts and serves connections on `listener` until the task is dropped.
pub(crate) async fn run(listener: TcpListener, router: Router, limits: Limits) {
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    loop {
        let Ok(permit) = connections.clone().acquire_owned().await else {
            return;
        };
        let (stream, remote) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, say: wait rather than spin.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let router = router.clone();
        let limits = limits.clone();
        tokio::spawn(async move {
            serve_connection(stream, remote, router, &limits).await;
            drop(permit);
        });
    }
}

/// One connection, until it ends or its watch closes it.
async fn serve_connection(stream: TcpStream, remote: SocketAddr, router: Router, limits: &Limits) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
    });
    let watched = activity.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let in_flight = InFlight::start(watched.clone());
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(remote));
        let router = router.clone();
        async move {
            let response = match router.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            Ok::<_, Infallible>(response.map(|body| {
                Body::new(Tracked {
                    body,
                    _in_flight: in_flight,
                })
            }))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let tick = (limits.idle_timeout.min(limits.client_stall_timeout) / 4)
        .clamp(Duration::from_millis(10), Duration::from_secs(1));
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%remote, "connection ended: {e}");
                }
                return;
            }
            () = tokio::time::sleep(tick) => {
                if let Some(why) = activity.verdict(limits) {
                    tracing::info!(%remote, "closing the connection: {why}");
                    return;
                }
            }
        }
    }
}

/// What a connection's watch reads: when bytes last moved, since when a write has been
/// waiting for the client, and how many requests are being answered.
struct Activity {
    started: Instant,
    /// Milliseconds after `started` of the last byte read or written.
    last_io: AtomicU64,
    /// Milliseconds after `started`, plus one, of the first write the client did not
    /// take since the last one it took; 0 when no write is waiting.
    blocked_since: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Activity {
            started: Instant::now(),
            last_io: AtomicU64::new(0),
            blocked_since: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn moved(&self) {
        self.last_io.store(self.now(), Ordering::Relaxed);
    }

    fn wrote(&self) {
        self.moved();
        self.blocked_since.store(0, Ordering::Relaxed);
    }

    fn write_waits(&self) {
        let now = self.now().saturating_add(1);
        let _ = self
            .blocked_since
            .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// Why the connection should be closed now, if it should.
    fn verdict(&self, limits: &Limits) -> Option<&'static str> {
        let now = self.now();
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let blocked = self.blocked_since.load(Ordering::Relaxed);
        if blocked != 0 && now.saturating_sub(blocked - 1) >= ms(limits.client_stall_timeout) {
            return Some("the client has taken no byte of the response for too long");
        }
        let idle = now.saturating_sub(self.last_io.load(Ordering::Relaxed));
        if self.in_flight.load(Ordering::Relaxed) == 0 && idle >= ms(limits.idle_timeout) {
            return Some("idle for too long");
        }
        None
    }
}

/// One request being answered, from its head until its response body is done or dropped.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.0.moved();
    }
}

/// A response body that holds its request's [`InFlight`].
struct Tracked {
    body: Body,
    _in_flight: InFlight,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The connection's socket, reporting every byte that moves to its [`Activity`].
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl Watched {
    fn written(&self, result: &Poll<io::Result<usize>>) {
        match result {
            Poll::Ready(Ok(n)) if *n > 0 => self.activity.wrote(),
            Poll::Pending => self.activity.write_waits(),
            _ => {}
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.moved();
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.written(&result);
        result
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.written(&result);
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(idle_ms: u64, stall_ms: u64) -> Limits {
        Limits {
            idle_timeout: Duration::from_millis(idle_ms),
            client_stall_timeout: Duration::from_millis(stall_ms),
            ..Limits::default()
        }
    }

    #[test]
    fn verdicts() {
        let a = Activity::new();
        assert_eq!(a.verdict(&limits(60_000, 60_000)), None);
        assert!(a.verdict(&limits(0, 60_000)).unwrap().contains("idle"));
        let busy = Activity::new();
        busy.in_flight.fetch_add(1, Ordering::Relaxed);
        assert_eq!(
            busy.verdict(&limits(0, 60_000)),
            None,
            "a request is in flight"
        );
        busy.write_waits();
        assert!(busy.verdict(&limits(0, 0)).unwrap().contains("no byte"));
        busy.wrote();
        assert_eq!(busy.verdict(&limits(0, 0)), None, "the client took bytes");
    }
}
