//! From what the URL names to where the page reads it: a registry or OCI-layout reference
//! goes to the relay; a daemon image is exported by the companion and opened like an
//! archive file; `/archive/{digest}` finds the archive opened in this tab.

use std::rc::Rc;

use js_sys::Uint8Array;
use strata_shared::Digest;
use strata_shared::source::{DAEMON_TRANSPORT, ImageSource, LayoutSelector};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::archive_store;
use crate::endpoint::Endpoint;

/// Why a source cannot be read at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ResolveError {
    /// The text is not a reference or transport name.
    #[error("{0}")]
    Source(#[from] strata_shared::source::SourceError),
    /// `/archive/{digest}` with a bad digest.
    #[error("{0:?} is not a digest: {1}")]
    Digest(String, strata_shared::DigestError),
    /// The archive is not open in this tab: the user must open the file again.
    #[error("open the file that holds {0}")]
    NeedFile(Digest),
    /// The daemon's export failed.
    #[error("{0}")]
    Daemon(String),
    /// The archive the daemon sent cannot be read.
    #[error("the daemon's export cannot be read: {0}")]
    Archive(#[from] archive_store::OpenError),
}

/// The endpoint and the manifest reference (tag or digest) to start from.
pub(crate) async fn resolve(raw: &str, archive: bool) -> Result<(Endpoint, String), ResolveError> {
    if archive {
        let digest = Digest::parse(raw).map_err(|e| ResolveError::Digest(raw.to_owned(), e))?;
        let store =
            archive_store::find(&digest).ok_or_else(|| ResolveError::NeedFile(digest.clone()))?;
        let image = store
            .image(&digest)
            .cloned()
            .ok_or(ResolveError::NeedFile(digest))?;
        let name = format!("{} ({})", image.name, store.label);
        return Ok((
            Endpoint::archive(image.digest.clone(), name, false),
            image.digest.to_string(),
        ));
    }
    let source = ImageSource::parse(raw.trim())?;
    if let Some(endpoint) = Endpoint::relay(&source) {
        let manifest_ref = match &source {
            ImageSource::Registry(reference) => reference.manifest_reference(),
            ImageSource::OciLayout {
                selector: LayoutSelector::Tag(tag),
                ..
            } => tag.clone(),
            ImageSource::OciLayout {
                selector: LayoutSelector::Digest(d),
                ..
            } => d.to_string(),
            ImageSource::Daemon(_) => unreachable!("the daemon has no relay endpoint"),
        };
        return Ok((endpoint, manifest_ref));
    }
    let ImageSource::Daemon(image) = &source else {
        unreachable!("only the daemon has no relay endpoint")
    };
    let store = Rc::new(export(&source.to_string()).await?);
    archive_store::remember(store.clone());
    let pinned = image.pinned_id();
    let chosen = match (pinned, store.images.as_slice()) {
        (Some(id), _) => store.image(id).cloned().or_else(|| {
            // Docker 25+ exports OCI layouts, whose entries name manifests, not IDs.
            (store.images.len() == 1).then(|| store.images[0].clone())
        }),
        (None, [only]) => Some(only.clone()),
        (None, _) => None,
    }
    .ok_or_else(|| {
        ResolveError::Daemon(format!(
            "the daemon's export of {source} holds no single image"
        ))
    })?;
    let name = match image {
        strata_shared::source::DaemonImage::Named { reference } => {
            format!("{DAEMON_TRANSPORT}{}", reference.familiar())
        }
        strata_shared::source::DaemonImage::Id(id) => format!("{DAEMON_TRANSPORT}{}", id.short()),
    };
    Ok((
        Endpoint::archive(chosen.digest.clone(), name, true),
        chosen.digest.to_string(),
    ))
}

/// `GET /api/docker/export?image=…` into a Blob (which the browser keeps on disk when it
/// is large), then opened as an archive.
async fn export(source: &str) -> Result<archive_store::ArchiveStore, ResolveError> {
    let fail = |what: String| ResolveError::Daemon(what);
    let window = web_sys::window().ok_or_else(|| fail("no window".into()))?;
    let query = js_sys::encode_uri_component(source);
    let url = format!("/api/docker/export?image={query}");
    let request = crate::api::companion_request(&url, &web_sys::RequestInit::new())
        .map_err(|_| fail("the export request cannot be made".into()))?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| fail("the companion cannot be reached".into()))?
        .unchecked_into();
    if !response.ok() {
        let body = JsFuture::from(
            response
                .array_buffer()
                .map_err(|_| fail("no body".into()))?,
        )
        .await
        .map(|b| Uint8Array::new(&b).to_vec())
        .unwrap_or_default();
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("status {}", response.status()));
        return Err(fail(message));
    }
    let blob: web_sys::Blob = JsFuture::from(response.blob().map_err(|_| fail("no body".into()))?)
        .await
        .map_err(|_| fail("the export stopped before its end".into()))?
        .unchecked_into();
    Ok(archive_store::open_archive(source.to_owned(), &blob).await?)
}
