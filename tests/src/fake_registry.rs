//! A small fake registry for what the real Distribution 2.8 cannot show: blobs
//! redirected to storage on another host name, and paginated `tags/list` with `Link`.
//!
//! The fake (on `127.0.0.1:P`) demands a Bearer token (challenge with a realm on itself)
//! for everything under `/v2/`, answers blobs with `307` to a blob store on
//! `localhost:Q`, and pages tags with `n` and `last`. The blob store records whether
//! each request carried `Authorization`: the token must never reach it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tokio::task::JoinHandle;

/// The token the fake hands out and accepts.
pub const FAKE_TOKEN: &str = "strata-fake-token";

/// One request seen by the fake registry or its blob store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenRequest {
    /// Path and query.
    pub path: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
}

#[derive(Default)]
struct Shared {
    name: String,
    tags: Vec<String>,
    blobs: BTreeMap<String, Vec<u8>>,
    blob_store: String,
    registry_seen: Mutex<Vec<SeenRequest>>,
    store_seen: Mutex<Vec<SeenRequest>>,
}

/// A running fake registry and blob store; both stop on drop.
pub struct FakeRegistry {
    registry: SocketAddr,
    store: SocketAddr,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for FakeRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeRegistry")
            .field("registry", &self.registry)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl FakeRegistry {
    /// Serves repository `name` with `tags` (in this order) and `blobs` (by digest).
    pub async fn start(
        name: &str,
        tags: &[&str],
        blobs: impl IntoIterator<Item = Vec<u8>>,
    ) -> anyhow::Result<FakeRegistry> {
        let registry_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let store_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let registry = registry_listener.local_addr()?;
        let store = store_listener.local_addr()?;
        let shared = Arc::new(Shared {
            name: name.to_owned(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            blobs: blobs
                .into_iter()
                .map(|b| (crate::image::sha256_digest(&b), b))
                .collect(),
            blob_store: format!("http://localhost:{}", store.port()),
            ..Shared::default()
        });
        let registry_app = Router::new()
            .route("/token", get(token))
            .route("/v2/{*rest}", get(registry_route))
            .with_state(shared.clone());
        let store_app = Router::new()
            .route("/blobs/{digest}", get(store_route))
            .with_state(shared.clone());
        let tasks = vec![
            tokio::spawn(async move {
                let _ = axum::serve(registry_listener, registry_app).await;
            }),
            tokio::spawn(async move {
                let _ = axum::serve(store_listener, store_app).await;
            }),
        ];
        Ok(FakeRegistry {
            registry,
            store,
            shared,
            tasks,
        })
    }

    /// `127.0.0.1:P`, the registry as a user writes it.
    pub fn host(&self) -> String {
        self.registry.to_string()
    }

    /// `localhost:Q`, where blobs are redirected to.
    pub fn blob_store_host(&self) -> String {
        format!("localhost:{}", self.store.port())
    }

    /// Requests the registry answered.
    pub fn registry_requests(&self) -> Vec<SeenRequest> {
        self.shared.registry_seen.lock().expect("lock").clone()
    }

    /// Requests the blob store answered.
    pub fn blob_store_requests(&self) -> Vec<SeenRequest> {
        self.shared.store_seen.lock().expect("lock").clone()
    }
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn seen(path: String, query: Option<&str>, headers: &HeaderMap) -> SeenRequest {
    SeenRequest {
        path: match query {
            Some(q) => format!("{path}?{q}"),
            None => path,
        },
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }
}

async fn token() -> Response {
    axum::Json(json!({"token": FAKE_TOKEN, "expires_in": 300})).into_response()
}

async fn registry_route(
    State(shared): State<Arc<Shared>>,
    Path(rest): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    shared.registry_seen.lock().expect("lock").push(seen(
        format!("/v2/{rest}"),
        query.as_deref(),
        &headers,
    ));
    let authorized = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {FAKE_TOKEN}"));
    if !authorized {
        let challenge = format!(
            "Bearer realm=\"http://{host}/token\",service=\"fake\",scope=\"repository:{}:pull\"",
            shared.name
        );
        let mut resp = (
            StatusCode::UNAUTHORIZED,
            axum::Json(
                json!({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}),
            ),
        )
            .into_response();
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_str(&challenge).expect("ascii"),
        );
        return resp;
    }
    if rest.is_empty() {
        return axum::Json(json!({})).into_response();
    }
    let name = &shared.name;
    if let Some(digest) = rest.strip_prefix(&format!("{name}/blobs/")) {
        if !shared.blobs.contains_key(digest) {
            return blob_unknown();
        }
        let location = format!("{}/blobs/{digest}?signature=fake", shared.blob_store);
        return (
            StatusCode::TEMPORARY_REDIRECT,
            [(header::LOCATION, location)],
        )
            .into_response();
    }
    if rest == format!("{name}/tags/list") {
        return tags_page(&shared, query.as_deref());
    }
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"errors": [{"code": "NAME_UNKNOWN", "message": "repository name not known to registry"}]})),
    )
        .into_response()
}

/// Pages like Distribution 3: tags after `last`, at most `n`, `Link` to the next page.
fn tags_page(shared: &Shared, query: Option<&str>) -> Response {
    let mut n = usize::MAX;
    let mut last = None;
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "n" => n = v.parse().unwrap_or(usize::MAX),
            "last" => last = Some(v.into_owned()),
            _ => {}
        }
    }
    let start = match &last {
        Some(l) => shared
            .tags
            .iter()
            .position(|t| t == l)
            .map_or(shared.tags.len(), |i| i + 1),
        None => 0,
    };
    let page: Vec<&String> = shared.tags.iter().skip(start).take(n).collect();
    let mut resp = axum::Json(json!({"name": shared.name, "tags": page})).into_response();
    if let Some(last) = page.last()
        && start + page.len() < shared.tags.len()
    {
        let link = format!(
            "</v2/{}/tags/list?last={last}&n={n}>; rel=\"next\"",
            shared.name
        );
        resp.headers_mut()
            .insert(header::LINK, HeaderValue::from_str(&link).expect("ascii"));
    }
    resp
}

fn blob_unknown() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(
            json!({"errors": [{"code": "BLOB_UNKNOWN", "message": "blob unknown to registry"}]}),
        ),
    )
        .into_response()
}

async fn store_route(
    State(shared): State<Arc<Shared>>,
    Path(digest): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    shared.store_seen.lock().expect("lock").push(seen(
        format!("/blobs/{digest}"),
        query.as_deref(),
        &headers,
    ));
    if headers.contains_key(header::AUTHORIZATION) {
        // Real storage (S3, GCS) rejects a foreign Authorization header.
        return (
            StatusCode::BAD_REQUEST,
            "Authorization must not reach the blob store",
        )
            .into_response();
    }
    match shared.blobs.get(&digest) {
        Some(bytes) => (
            [(header::CONTENT_TYPE, "application/octet-stream")],
            bytes.clone(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such blob").into_response(),
    }
}
