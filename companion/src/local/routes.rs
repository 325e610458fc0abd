//! Routes of the local sources: OCI layouts shaped like the distribution API
//! (`/api/oci/{layout}/manifests|blobs|tags/list|referrers`), so the page reads them with
//! the same code and the same verification as a registry, and the daemon's image list and
//! export (`/api/docker/images`, `/api/docker/export?image=docker-daemon:…`).

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use strata_shared::Digest;
use strata_shared::archive;
use strata_shared::manifest::MAX_MANIFEST_BYTES;
use strata_shared::source::{ImageSource, is_tag};

use super::{LocalError, LocalSources};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

const DIGEST_HEADER: &str = "docker-content-digest";
const IMMUTABLE: &str = "private, max-age=31536000, immutable";

/// The local-source routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/local", get(overview))
        .route("/api/oci/{layout}/manifests/{reference}", get(manifest))
        .route("/api/oci/{layout}/blobs/{digest}", get(blob))
        .route("/api/oci/{layout}/tags/list", get(tags))
        .route("/api/oci/{layout}/referrers/{digest}", get(referrers))
        .route("/api/docker/images", get(daemon_images))
        .route("/api/docker/export", get(daemon_export))
}

fn sources(state: &AppState) -> &LocalSources {
    state.local()
}

/// What is here: the layouts with their tags, and whether a daemon is configured.
async fn overview(State(state): State<AppState>) -> Result<Response, LocalError> {
    let local = sources(&state);
    let mut layouts = Vec::new();
    for (name, layout) in local.layouts() {
        let tags = match layout.index(name).await {
            Ok(index) => archive::tags(&index)
                .into_iter()
                .map(|(tag, d)| serde_json::json!({"tag": tag, "digest": d.digest, "mediaType": d.media_type}))
                .collect(),
            Err(e) => {
                tracing::warn!("layout {name}: {e:?}");
                Vec::new()
            }
        };
        layouts.push(serde_json::json!({"name": name, "tags": tags}));
    }
    let body = serde_json::json!({"layouts": layouts, "daemon": local.daemon().is_some()});
    Ok(no_store(axum::Json(body).into_response()))
}

async fn manifest(
    State(state): State<AppState>,
    ApiPath((name, reference)): ApiPath<(String, String)>,
) -> Result<Response, LocalError> {
    let layout = sources(&state).layout(&name)?;
    let index = layout.index(&name).await?;
    let (digest, media_type, by_tag) = if reference.contains(':') {
        let digest = Digest::parse(&reference)
            .map_err(|e| LocalError::BadRequest(format!("invalid digest {reference:?}: {e}")))?;
        let listed = index.manifests.iter().find(|d| d.digest == digest);
        (
            digest,
            listed.map(|d| d.media_type.as_str().to_owned()),
            false,
        )
    } else {
        if !is_tag(&reference) {
            return Err(LocalError::BadRequest(format!("invalid tag {reference:?}")));
        }
        let d = archive::resolve(&index, &reference)?;
        (
            d.digest.clone(),
            Some(d.media_type.as_str().to_owned()),
            true,
        )
    };
    let bytes = layout
        .small_blob(&digest, MAX_MANIFEST_BYTES as u64)
        .await
        .map_err(|e| match e {
            LocalError::BlobUnknown(_) => {
                LocalError::ManifestUnknown(format!("manifest {digest} is not in this layout"))
            }
            other => other,
        })?;
    // A manifest deeper than index.json names its own type; the page verifies either way.
    let media_type = media_type
        .or_else(|| {
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v["mediaType"].as_str().map(str::to_owned))
        })
        .unwrap_or_else(|| "application/vnd.oci.image.manifest.v1+json".to_owned());
    let mut response = Response::new(Body::from(bytes.clone()));
    let headers = response.headers_mut();
    put(headers, header::CONTENT_TYPE, &media_type);
    put(headers, header::CONTENT_LENGTH, &bytes.len().to_string());
    put(headers, DIGEST_HEADER, &digest.to_string());
    Ok(if by_tag {
        no_store(response)
    } else {
        immutable(response)
    })
}

async fn blob(
    State(state): State<AppState>,
    ApiPath((name, digest)): ApiPath<(String, String)>,
) -> Result<Response, LocalError> {
    let layout = sources(&state).layout(&name)?;
    let digest = Digest::parse(&digest)
        .map_err(|e| LocalError::BadRequest(format!("invalid digest {digest:?}: {e}")))?;
    let blob = layout.blob(&digest).await?;
    let mut response = Response::new(blob.body);
    let headers = response.headers_mut();
    put(headers, header::CONTENT_TYPE, "application/octet-stream");
    put(headers, header::CONTENT_LENGTH, &blob.len.to_string());
    put(headers, DIGEST_HEADER, &digest.to_string());
    Ok(immutable(response))
}

async fn tags(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, LocalError> {
    let layout = sources(&state).layout(&name)?;
    let index = layout.index(&name).await?;
    let tags: Vec<String> = archive::tags(&index).into_iter().map(|(t, _)| t).collect();
    Ok(no_store(
        axum::Json(serde_json::json!({"name": name, "tags": tags})).into_response(),
    ))
}

/// Layouts keep no referrers index; an empty one says "none" the way a registry would.
async fn referrers(
    State(state): State<AppState>,
    ApiPath((name, digest)): ApiPath<(String, String)>,
) -> Result<Response, LocalError> {
    sources(&state).layout(&name)?;
    Digest::parse(&digest)
        .map_err(|e| LocalError::BadRequest(format!("invalid digest {digest:?}: {e}")))?;
    let body = serde_json::json!({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []});
    let mut response = axum::Json(body).into_response();
    put(
        response.headers_mut(),
        header::CONTENT_TYPE,
        "application/vnd.oci.image.index.v1+json",
    );
    Ok(no_store(response))
}

async fn daemon_images(State(state): State<AppState>) -> Result<Response, LocalError> {
    let daemon = sources(&state).daemon().ok_or(LocalError::NoDaemon)?;
    let images = daemon.list().await?;
    Ok(no_store(axum::Json(images).into_response()))
}

#[derive(serde::Deserialize)]
struct ExportQuery {
    image: String,
}

async fn daemon_export(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, LocalError> {
    let daemon = sources(&state).daemon().ok_or(LocalError::NoDaemon)?;
    let ImageSource::Daemon(image) = ImageSource::parse(&query.image)? else {
        return Err(LocalError::BadRequest(format!(
            "{:?} is not a docker-daemon: reference",
            query.image
        )));
    };
    let body = daemon.export(&image).await?;
    let mut response = Response::new(body);
    put(
        response.headers_mut(),
        header::CONTENT_TYPE,
        "application/x-tar",
    );
    Ok(no_store(response))
}

fn put(headers: &mut HeaderMap, name: impl header::IntoHeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

fn no_store(mut response: Response) -> Response {
    put(response.headers_mut(), header::CACHE_CONTROL, "no-store");
    response
}

fn immutable(mut response: Response) -> Response {
    put(response.headers_mut(), header::CACHE_CONTROL, IMMUTABLE);
    response
}
