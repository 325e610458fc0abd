//! The Docker Engine API (which Podman serves too) over its Unix socket, read-only: the
//! image list and an image's export (`docker save`'s tar), streamed, never buffered whole.
//! No other endpoint is ever called: nothing here can create, pull, delete or exec.

use std::path::PathBuf;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use strata_shared::source::DaemonImage;

use super::LocalError;

/// Largest image list read from the daemon.
const MAX_LIST_BYTES: usize = 16 << 20;
/// Largest error body read from the daemon.
const MAX_ERROR_BYTES: usize = 4096;
/// How long connecting and the first answer may take.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// A daemon reached through a Unix socket.
#[derive(Clone, Debug)]
pub struct Daemon {
    socket: PathBuf,
}

/// One image of the daemon's list, as the page shows it.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct DaemonImageSummary {
    /// The image ID (the config's digest).
    #[serde(rename = "Id")]
    pub id: String,
    /// `repo:tag` names.
    #[serde(rename = "RepoTags", default)]
    pub repo_tags: Option<Vec<String>>,
    /// `repo@digest` names from registries it was pulled from or pushed to.
    #[serde(rename = "RepoDigests", default)]
    pub repo_digests: Option<Vec<String>>,
    /// Creation time, seconds since the epoch.
    #[serde(rename = "Created", default)]
    pub created: i64,
    /// Size in bytes as the daemon counts it.
    #[serde(rename = "Size", default)]
    pub size: i64,
}

impl Daemon {
    /// A daemon at this socket (not contacted until asked).
    pub fn new(socket: PathBuf) -> Daemon {
        Daemon { socket }
    }

    /// `GET /images/json`: the images, newest first.
    pub async fn list(&self) -> Result<Vec<DaemonImageSummary>, LocalError> {
        let response = self.get("/images/json").await?;
        let body = Limited::new(response.into_body(), MAX_LIST_BYTES)
            .collect()
            .await
            .map_err(|e| self.unreachable(e.to_string()))?
            .to_bytes();
        let mut images: Vec<DaemonImageSummary> = serde_json::from_slice(&body)
            .map_err(|e| self.unreachable(format!("image list is not JSON: {e}")))?;
        images.sort_by_key(|image| std::cmp::Reverse(image.created));
        Ok(images)
    }

    /// `GET /images/{name}/get`: the image as a `docker save` tar, streamed.
    pub async fn export(&self, image: &DaemonImage) -> Result<Body, LocalError> {
        // The name passed the reference grammar (or is a digest): only [a-z0-9._/:@-].
        let name = image.engine_name();
        let response = self.get(&format!("/images/{name}/get")).await?;
        Ok(Body::new(response.into_body()))
    }

    async fn get(&self, path: &str) -> Result<hyper::Response<hyper::body::Incoming>, LocalError> {
        let answer = async {
            let stream = tokio::net::UnixStream::connect(&self.socket)
                .await
                .map_err(|e| self.unreachable(e.to_string()))?;
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .map_err(|e| self.unreachable(e.to_string()))?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!("daemon connection ended: {e}");
                }
            });
            let request = Request::get(path)
                .header(hyper::header::HOST, "docker")
                .body(Empty::<Bytes>::new())
                .map_err(|e| LocalError::BadRequest(e.to_string()))?;
            sender
                .send_request(request)
                .await
                .map_err(|e| self.unreachable(e.to_string()))
        };
        let response = tokio::time::timeout(ANSWER_TIMEOUT, answer)
            .await
            .map_err(|_| self.unreachable("no answer in time".into()))??;
        if response.status() != StatusCode::OK {
            let status = response.status().as_u16();
            let body = Limited::new(response.into_body(), MAX_ERROR_BYTES)
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let message = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
            return Err(LocalError::DaemonRefused { status, message });
        }
        Ok(response)
    }

    fn unreachable(&self, detail: String) -> LocalError {
        LocalError::DaemonUnreachable {
            socket: self.socket.display().to_string(),
            detail,
        }
    }
}
