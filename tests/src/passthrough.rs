//! A pass-through in front of the real registry, for what it cannot be made to do:
//! - hold back the last bytes of chosen blobs: a whole-blob `GET` sends everything but
//!   the tail, then waits until the test releases it. `Range` requests pass untouched, so
//!   a reader that fetches a lazily pullable layer's TOC by range gets it while the layer
//!   itself cannot finish — which proves the files it lists came from the TOC;
//! - add headers to manifest answers, as Docker Hub adds its `RateLimit-*` headers.
//!
//! Everything else — manifests, blobs, auth challenges — is the registry's own.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::registry::Registry;

/// Request headers passed to the registry.
const PASSED_UP: &[header::HeaderName] = &[header::ACCEPT, header::RANGE, header::AUTHORIZATION];

struct Shared {
    upstream: String,
    client: reqwest::Client,
    /// `/blobs/{digest}` suffixes whose tails are held.
    held: Vec<String>,
    /// Bytes held back at the end of each.
    tail: usize,
    /// Headers added to every manifest answer.
    manifest_headers: Vec<(header::HeaderName, header::HeaderValue)>,
    released: watch::Receiver<bool>,
    /// `METHOD path [Range]` of every request.
    requests: Mutex<Vec<String>>,
}

/// What the pass-through changes.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Digests of the blobs whose tails are held.
    pub hold: Vec<String>,
    /// Bytes held back at the end of each.
    pub tail: usize,
    /// Headers added to every manifest answer (`RateLimit-Limit: 100;w=21600`).
    pub manifest_headers: Vec<(String, String)>,
}

/// A running pass-through on `127.0.0.1`; stops on drop.
pub struct Passthrough {
    host: String,
    shared: Arc<Shared>,
    release: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Passthrough {
    /// Serves `registry` with the changes in `options`.
    pub async fn start(registry: &Registry, options: Options) -> anyhow::Result<Self> {
        let manifest_headers = options
            .manifest_headers
            .iter()
            .map(|(k, v)| Ok((k.parse()?, v.parse()?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let (release, released) = watch::channel(false);
        let shared = Arc::new(Shared {
            upstream: registry.url().trim_end_matches('/').to_owned(),
            client: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            held: options.hold.iter().map(|d| format!("/blobs/{d}")).collect(),
            tail: options.tail,
            manifest_headers,
            released,
            requests: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(relay).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let host = listener.local_addr()?.to_string();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Passthrough {
            host,
            shared,
            release,
            task,
        })
    }

    /// `127.0.0.1:P`, the registry as a user writes it.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Lets every held tail go.
    pub fn release(&self) {
        let _ = self.release.send(true);
    }

    /// `METHOD path` (and ` Range: …` when one was sent) of every request, in order.
    pub fn requests(&self) -> Vec<String> {
        self.shared.requests.lock().expect("lock").clone()
    }

    /// `http://127.0.0.1:P`.
    pub fn url(&self) -> String {
        format!("http://{}", self.host)
    }
}

impl Drop for Passthrough {
    fn drop(&mut self) {
        self.release();
        self.task.abort();
    }
}

async fn relay(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let range = request.headers().get(header::RANGE).cloned();
    let seen = match &range {
        Some(r) => format!(
            "{} {path} Range: {}",
            request.method(),
            r.to_str().unwrap_or("?")
        ),
        None => format!("{} {path}", request.method()),
    };
    shared.requests.lock().expect("lock").push(seen);
    let mut upstream = shared.client.request(
        request.method().clone(),
        format!("{}{path}", shared.upstream),
    );
    for name in PASSED_UP {
        if let Some(v) = request.headers().get(name) {
            upstream = upstream.header(name, v);
        }
    }
    let answer = match upstream.send().await {
        Ok(a) => a,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = answer.status();
    let headers = answer.headers().clone();
    let body = match answer.bytes().await {
        Ok(b) => b,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let hold = request.method() == axum::http::Method::GET
        && range.is_none()
        && status == StatusCode::OK
        && shared.held.iter().any(|h| path.ends_with(h.as_str()))
        && body.len() > shared.tail;
    let body = if hold {
        let cut = body.len() - shared.tail;
        let (head, tail) = (body.slice(..cut), body.slice(cut..));
        let mut released = shared.released.clone();
        let rest = futures_util::stream::once(async move {
            let _ = released.wait_for(|go| *go).await;
            Ok::<Bytes, std::io::Error>(tail)
        });
        Body::from_stream(futures_util::stream::once(async move { Ok(head) }).chain(rest))
    } else {
        Body::from(body)
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    for (name, value) in &headers {
        if name != header::TRANSFER_ENCODING && name != header::CONNECTION {
            response.headers_mut().insert(name, value.clone());
        }
    }
    if path.contains("/manifests/") {
        for (name, value) in &shared.manifest_headers {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}
