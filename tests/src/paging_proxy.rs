//! Distribution 3's tag paging in front of the real Distribution 2.8, which ignores `n`
//! and `last` on `tags/list` (and lists tags unsorted). Every request goes to the real
//! registry as it is, except `tags/list`: its full answer is sorted and paged as
//! Distribution 3 pages it — the tags after `last`, at most `n`, and a `Link` to the next
//! page. Manifests and blobs are the registry's own bytes, so the browser still verifies
//! real content; only the paging is emulated.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::task::JoinHandle;

use crate::registry::Registry;

/// Request headers passed to the registry.
const PASSED_UP: &[header::HeaderName] = &[header::ACCEPT, header::RANGE, header::AUTHORIZATION];

struct Shared {
    upstream: String,
    client: reqwest::Client,
    /// Path and query of every `tags/list` request.
    tag_pages: Mutex<Vec<String>>,
    /// `METHOD path` of every request.
    requests: Mutex<Vec<String>>,
}

/// A running paging proxy on `127.0.0.1`; stops on drop.
pub struct PagingProxy {
    host: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for PagingProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PagingProxy")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl PagingProxy {
    /// Serves `registry` (plain http) behind paged tag lists.
    pub async fn start(registry: &Registry) -> anyhow::Result<PagingProxy> {
        let shared = Arc::new(Shared {
            upstream: registry.url().trim_end_matches('/').to_owned(),
            client: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            tag_pages: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(relay).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let host = listener.local_addr()?.to_string();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(PagingProxy { host, shared, task })
    }

    /// `127.0.0.1:P`, the registry as a user writes it.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `METHOD path` of every request, in order.
    pub fn requests(&self) -> Vec<String> {
        self.shared.requests.lock().expect("lock").clone()
    }

    /// Path and query of every `tags/list` request answered, in order.
    pub fn tag_pages(&self) -> Vec<String> {
        self.shared.tag_pages.lock().expect("lock").clone()
    }
}

impl Drop for PagingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    shared
        .requests
        .lock()
        .expect("lock")
        .push(format!("{} {path}", request.method()));
    let mut upstream = shared.client.request(
        request.method().clone(),
        format!("{}{path}", shared.upstream),
    );
    for name in PASSED_UP {
        if let Some(v) = request.headers().get(name) {
            upstream = upstream.header(name, v);
        }
    }
    let is_tags = path.starts_with("/v2/") && path.ends_with("/tags/list");
    if is_tags {
        let seen = match &query {
            Some(q) => format!("{path}?{q}"),
            None => path.clone(),
        };
        shared.tag_pages.lock().expect("lock").push(seen);
    } else if let Some(q) = &query {
        upstream = upstream.query(
            &url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect::<Vec<_>>(),
        );
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
    if is_tags && status.is_success() {
        return tags_page(&path, query.as_deref(), &body);
    }
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    for (name, value) in &headers {
        if name != header::TRANSFER_ENCODING && name != header::CONNECTION {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}

/// One page of the registry's whole tag list, as Distribution 3 answers it.
fn tags_page(path: &str, query: Option<&str>, body: &[u8]) -> Response {
    #[derive(serde::Deserialize)]
    struct All {
        name: String,
        #[serde(default)]
        tags: Option<Vec<String>>,
    }
    let Ok(all) = serde_json::from_slice::<All>(body) else {
        return (StatusCode::BAD_GATEWAY, "tag list not JSON").into_response();
    };
    let mut tags = all.tags.unwrap_or_default();
    tags.sort();
    let (mut n, mut last) = (usize::MAX, None);
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "n" => n = v.parse().unwrap_or(usize::MAX),
            "last" => last = Some(v.into_owned()),
            _ => {}
        }
    }
    let page: Vec<&String> = tags
        .iter()
        .filter(|t| last.as_ref().is_none_or(|l| *t > l))
        .take(n)
        .collect();
    let more = page
        .last()
        .is_some_and(|l| tags.last().is_some_and(|end| end != *l));
    let mut response =
        axum::Json(serde_json::json!({ "name": all.name, "tags": page })).into_response();
    if let (true, Some(l)) = (more, page.last()) {
        let link = format!(r#"<{path}?last={l}&n={n}>; rel="next""#);
        if let Ok(v) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, v);
        }
    }
    response
}
