//! What the local-source routes answer when they cannot serve: the relay's JSON shape
//! (`{"code","message"}`), with the local detail (paths, socket errors) logged only.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use strata_shared::archive::ArchiveError;
use strata_shared::source::SourceError;

/// Errors of the OCI-layout and daemon routes.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// No layout is served under this name.
    #[error("no OCI layout named {0:?} is served here")]
    UnknownLayout(String),
    /// The layout's own files are unreadable or malformed.
    #[error("OCI layout {layout:?} cannot be read: {detail}")]
    BrokenLayout {
        /// Layout name.
        layout: String,
        /// What is wrong (paths stay in the log).
        detail: String,
    },
    /// The tag or digest names no manifest of the layout.
    #[error("{0}")]
    ManifestUnknown(String),
    /// The layout holds no blob with this digest.
    #[error("blob {0} is not in this layout")]
    BlobUnknown(String),
    /// A path or name the request gave is not acceptable.
    #[error("{0}")]
    BadRequest(String),
    /// A blob that would resolve outside the layout (a symlink out, say).
    #[error("blob {0} resolves outside its layout; refused")]
    Escape(String),
    /// The daemon route is off (`--docker-host none`, or no socket was found).
    #[error("no Docker or Podman daemon is configured: start one, or pass --docker-host")]
    NoDaemon,
    /// The daemon's socket cannot be reached.
    #[error("the Docker daemon at {socket} cannot be reached")]
    DaemonUnreachable {
        /// The socket.
        socket: String,
        /// Internal detail, logged only.
        detail: String,
    },
    /// The daemon answered with an error status.
    #[error("the Docker daemon answered {status}: {message}")]
    DaemonRefused {
        /// Its status.
        status: u16,
        /// Its message, capped.
        message: String,
    },
}

impl From<ArchiveError> for LocalError {
    fn from(e: ArchiveError) -> Self {
        match e {
            ArchiveError::TagNotFound { .. } => LocalError::ManifestUnknown(e.to_string()),
            other => LocalError::BadRequest(other.to_string()),
        }
    }
}

impl From<SourceError> for LocalError {
    fn from(e: SourceError) -> Self {
        LocalError::BadRequest(e.to_string())
    }
}

impl LocalError {
    fn status(&self) -> StatusCode {
        match self {
            LocalError::UnknownLayout(_)
            | LocalError::ManifestUnknown(_)
            | LocalError::BlobUnknown(_) => StatusCode::NOT_FOUND,
            LocalError::BadRequest(_) => StatusCode::BAD_REQUEST,
            LocalError::Escape(_) => StatusCode::FORBIDDEN,
            LocalError::NoDaemon => StatusCode::SERVICE_UNAVAILABLE,
            LocalError::BrokenLayout { .. } | LocalError::DaemonUnreachable { .. } => {
                StatusCode::BAD_GATEWAY
            }
            LocalError::DaemonRefused { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY)
            }
        }
    }

    fn code(&self) -> &'static str {
        match self {
            LocalError::UnknownLayout(_) => "LAYOUT_UNKNOWN",
            LocalError::BrokenLayout { .. } => "LAYOUT_BROKEN",
            LocalError::ManifestUnknown(_) => "MANIFEST_UNKNOWN",
            LocalError::BlobUnknown(_) => "BLOB_UNKNOWN",
            LocalError::BadRequest(_) => "INVALID_REFERENCE",
            LocalError::Escape(_) => "FORBIDDEN_PATH",
            LocalError::NoDaemon => "NO_DAEMON",
            LocalError::DaemonUnreachable { .. } => "DAEMON_UNREACHABLE",
            LocalError::DaemonRefused { .. } => "DAEMON_ERROR",
        }
    }

    /// What the client sees: never a file path or a socket error.
    fn public_message(&self) -> String {
        match self {
            LocalError::BrokenLayout { layout, .. } => {
                format!("OCI layout {layout:?} cannot be read (see the companion's log)")
            }
            LocalError::UnknownLayout(_)
            | LocalError::ManifestUnknown(_)
            | LocalError::BlobUnknown(_)
            | LocalError::BadRequest(_)
            | LocalError::Escape(_)
            | LocalError::NoDaemon
            | LocalError::DaemonUnreachable { .. }
            | LocalError::DaemonRefused { .. } => {
                let mut message = self.to_string();
                // Inputs are echoed: cap them.
                if message.len() > 512 {
                    let cut = (0..=512)
                        .rev()
                        .find(|i| message.is_char_boundary(*i))
                        .unwrap_or(0);
                    message.truncate(cut);
                    message.push('…');
                }
                message
            }
        }
    }
}

impl IntoResponse for LocalError {
    fn into_response(self) -> Response {
        tracing::warn!(code = self.code(), "{self:?}");
        let body = serde_json::json!({ "code": self.code(), "message": self.public_message() });
        let mut response = (self.status(), Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        response
    }
}
