//! An in-memory registry that serves one built image and misbehaves on cue, for what a
//! real registry cannot be made to do: claim a wrong digest, serve tampered bytes, hold
//! one blob back until the test lets it go, or rate-limit one blob as Docker Hub does.
//! Only the read routes the app uses.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::image::BuiltImage;

/// How one blob is answered.
#[derive(Clone, Debug)]
pub enum BlobScript {
    /// These bytes (the true ones, or tampered ones).
    Bytes(Vec<u8>),
    /// The true bytes, once the `Notify` fires (the response waits until then).
    HeldUntil(Arc<Notify>),
    /// `429 Too Many Requests` with Docker Hub's headers (`Retry-After` seconds and
    /// `ratelimit-*` with a `w=` window) while the count is above zero (each answer takes
    /// one off), then the true bytes.
    RateLimited {
        /// How many more requests get a 429.
        left: Arc<std::sync::atomic::AtomicUsize>,
        /// The `Retry-After` value.
        retry_after: u64,
    },
}

/// What the registry serves: the image under every tag, with scripted exceptions.
#[derive(Clone, Debug)]
pub struct Script {
    /// The image.
    pub image: Arc<BuiltImage>,
    /// Tags whose manifest comes with this `Docker-Content-Digest` instead of the true one.
    pub lying_tags: HashMap<String, String>,
    /// Blobs answered otherwise than with their true bytes, by digest.
    pub blobs: HashMap<String, BlobScript>,
}

impl Script {
    /// The image served honestly.
    pub fn honest(image: BuiltImage) -> Self {
        Self {
            image: Arc::new(image),
            lying_tags: HashMap::new(),
            blobs: HashMap::new(),
        }
    }

    fn true_blob(&self, digest: &str) -> Option<Vec<u8>> {
        if digest == self.image.config_digest {
            return Some(self.image.config_bytes.clone());
        }
        self.image
            .layers
            .iter()
            .find(|l| l.digest == digest)
            .map(|l| l.blob.clone())
    }
}

/// A running scripted registry on `127.0.0.1`; stops on drop.
#[derive(Debug)]
pub struct ScriptedRegistry {
    host: String,
    task: JoinHandle<()>,
}

impl ScriptedRegistry {
    /// Serves `script` for any repository `{namespace}/{name}`.
    pub async fn start(script: Script) -> anyhow::Result<Self> {
        let app = Router::new()
            .route("/v2/", get(|| async { "{}" }))
            .route("/v2/{ns}/{name}/manifests/{reference}", get(manifest))
            .route("/v2/{ns}/{name}/blobs/{digest}", get(blob))
            .with_state(Arc::new(script));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let host = listener.local_addr()?.to_string();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { host, task })
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> &str {
        &self.host
    }
}

impl Drop for ScriptedRegistry {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn manifest(
    State(script): State<Arc<Script>>,
    Path((_, _, reference)): Path<(String, String, String)>,
) -> Response {
    let image = &script.image;
    let claimed = script
        .lying_tags
        .get(&reference)
        .unwrap_or(&image.manifest_digest);
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("content-type", image.manifest_media_type.as_str()),
        ("docker-content-digest", claimed.as_str()),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    (StatusCode::OK, headers, image.manifest_bytes.clone()).into_response()
}

async fn blob(
    State(script): State<Arc<Script>>,
    Path((_, _, digest)): Path<(String, String, String)>,
) -> Response {
    let bytes = match script.blobs.get(&digest) {
        Some(BlobScript::Bytes(bytes)) => Some(bytes.clone()),
        Some(BlobScript::HeldUntil(gate)) => {
            gate.notified().await;
            script.true_blob(&digest)
        }
        Some(BlobScript::RateLimited { left, retry_after }) => {
            use std::sync::atomic::Ordering;
            let limited = left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if limited {
                let headers = [
                    ("retry-after", retry_after.to_string()),
                    ("ratelimit-limit", "100;w=21600".to_owned()),
                    ("ratelimit-remaining", "0;w=21600".to_owned()),
                    ("content-type", "application/json".to_owned()),
                ];
                let mut map = HeaderMap::new();
                for (name, value) in headers {
                    if let Ok(value) = HeaderValue::from_str(&value) {
                        map.insert(name, value);
                    }
                }
                let body = r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}"#;
                return (StatusCode::TOO_MANY_REQUESTS, map, body).into_response();
            }
            script.true_blob(&digest)
        }
        None => script.true_blob(&digest),
    };
    match bytes {
        Some(bytes) => (StatusCode::OK, bytes).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
