//! What the repository page learns about a tag, one request at a time: the digest it
//! points at (a `HEAD`), then the facts of that digest — its kind, platforms, compressed
//! size and created time — from the manifest fetched by digest and its config, each
//! verified against its digest (by [`crate::api`]) before anything is shown.

use std::collections::HashMap;
use strata_shared::browse::time::rfc3339_seconds;

use strata_shared::manifest::{Document, ImageManifest, IndexEntries, PlatformEntry};
use strata_shared::{Digest, MediaType};

use crate::api::{self, ApiError};
use crate::endpoint::Endpoint;

/// What a row shows of a digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DigestFacts {
    /// `index`, `manifest` or `schema1`.
    pub kind: &'static str,
    /// The media type's label (`OCI index`, `Docker manifest v2`, …).
    pub media_type: String,
    /// An index's runnable platforms (attestations left out), in index order; a schema1
    /// manifest's architecture.
    pub platforms: Vec<String>,
    /// Compressed bytes: the layers of the manifest, or of every platform of an index;
    /// `None` for schema1 (which records no sizes) or when a platform could not be read.
    pub size: Option<u64>,
    /// When the image was built, from its config (for an index, of the platform the image
    /// page would open: linux/amd64, else the first).
    pub created: Option<String>,
    /// What could not be read without failing the row (a platform manifest, a config).
    pub notes: Vec<String>,
}

impl DigestFacts {
    /// Seconds since the epoch of [`DigestFacts::created`], for sorting.
    pub(crate) fn created_seconds(&self) -> Option<i64> {
        self.created.as_deref().and_then(rfc3339_seconds)
    }
}

/// The digest `tag` points at: from a `HEAD`, or — when the registry names no digest —
/// from the manifest fetched by tag (and digested here).
pub(crate) async fn resolve_tag(endpoint: &Endpoint, tag: &str) -> Result<Digest, ApiError> {
    if let Some(digest) = api::head_manifest(endpoint, tag).await? {
        return Ok(digest);
    }
    Ok(api::fetch_manifest(endpoint, tag, "manifest", None)
        .await?
        .digest)
}

/// The facts of `digest`: the manifest or index fetched by digest and verified, then
/// what its size and created time need.
pub(crate) async fn digest_facts(
    endpoint: &Endpoint,
    digest: &Digest,
) -> Result<DigestFacts, ApiError> {
    let top = api::fetch_manifest(endpoint, &digest.to_string(), "manifest", None).await?;
    let media_type = top.parsed.media_type.label().to_owned();
    match top.parsed.document {
        Document::Manifest(manifest) => {
            let mut notes = Vec::new();
            let created = created_of(endpoint, &manifest, &mut notes).await;
            Ok(DigestFacts {
                kind: "manifest",
                media_type,
                platforms: Vec::new(),
                size: Some(manifest.layers_size()),
                created,
                notes,
            })
        }
        Document::Schema1(manifest) => Ok(DigestFacts {
            kind: "schema1",
            media_type,
            platforms: vec![manifest.architecture.clone()],
            size: None,
            created: manifest
                .history
                .iter()
                .rev()
                .find_map(|h| h.created.clone()),
            notes: Vec::new(),
        }),
        Document::Index(index) => {
            let entries = index.entries();
            let platforms = entries
                .platforms
                .iter()
                .map(|p| p.platform().to_string())
                .collect();
            let selected = entries.select(None).map(|p| p.descriptor.digest.clone());
            let mut notes = Vec::new();
            let mut size = Some(0u64);
            let mut created = None;
            for entry in &entries.platforms {
                match platform_manifest(endpoint, entry).await {
                    Ok(m) => {
                        size = size.map(|s| s + m.layers_size());
                        if selected.as_ref() == Some(&entry.descriptor.digest) {
                            created = created_of(endpoint, &m, &mut notes).await;
                        }
                    }
                    Err(e) => {
                        size = None;
                        notes.push(format!("{}: {e}", entry.platform()));
                    }
                }
            }
            Ok(DigestFacts {
                kind: "index",
                media_type,
                platforms,
                size,
                created,
                notes,
            })
        }
    }
}

/// Why a platform of an index could not be read as an image.
#[derive(Clone, Debug, thiserror::Error)]
pub(crate) enum PlatformError {
    #[error("not an image manifest")]
    NotAnImage,
    #[error("{0}")]
    Fetch(ApiError),
}

impl From<ApiError> for PlatformError {
    fn from(e: ApiError) -> Self {
        PlatformError::Fetch(e)
    }
}

/// The verified image manifest of one platform of an index.
async fn platform_manifest(
    endpoint: &Endpoint,
    entry: &PlatformEntry,
) -> Result<ImageManifest, PlatformError> {
    let d = &entry.descriptor;
    let fetched = api::fetch_manifest(
        endpoint,
        &d.digest.to_string(),
        "platform manifest",
        Some((&d.digest, d.size)),
    )
    .await?;
    match fetched.parsed.document {
        Document::Manifest(m) => Ok(*m),
        _ => Err(PlatformError::NotAnImage),
    }
}

/// Each platform's compressed bytes, read from its verified manifest (or why it could
/// not be read), and the bytes of every platform together with each distinct layer blob
/// counted once — what a mirror of the whole index stores.
pub(crate) async fn platform_sizes(
    endpoint: &Endpoint,
    entries: &IndexEntries,
) -> (Vec<(String, Result<u64, PlatformError>)>, u64) {
    let mut sizes = Vec::new();
    let mut distinct: HashMap<Digest, u64> = HashMap::new();
    for entry in &entries.platforms {
        let size = platform_manifest(endpoint, entry).await.map(|m| {
            for layer in &m.layers {
                distinct.insert(layer.digest.clone(), layer.size);
            }
            m.layers_size()
        });
        sizes.push((entry.platform().to_string(), size));
    }
    (sizes, distinct.values().sum())
}

/// The created time of an image manifest's config; artifacts (a cosign signature, say)
/// whose config is not an image config have none, and say nothing.
async fn created_of(
    endpoint: &Endpoint,
    manifest: &ImageManifest,
    notes: &mut Vec<String>,
) -> Option<String> {
    let config = &manifest.config;
    if !matches!(
        config.media_type,
        MediaType::OciConfig | MediaType::DockerConfig
    ) {
        return None;
    }
    match api::fetch_config(endpoint, &config.digest, config.size).await {
        Ok((config, _)) => config.created,
        Err(e) => {
            notes.push(format!("config: {e}"));
            None
        }
    }
}

/// Whether `url` is one of the relay's own list pages: the only next page the browse
/// pages follow, whatever a `Link` says.
pub(crate) fn is_relay_list(url: &str) -> bool {
    url.starts_with("/api/registry/") && !url.contains("//") && !url.contains("/../")
}

/// The page size asked of a list: `n=` of the page URL when it is in `1..=max`, else
/// `default`.
pub(crate) fn page_size(value: Option<String>, default: u32, max: u32) -> u32 {
    value
        .and_then(|v| v.parse().ok())
        .filter(|n| (1..=max).contains(n))
        .unwrap_or(default)
}

thread_local! {
    /// Owners of the browse pages' fetches (see [`crate::page_fetches::begin`]), counted
    /// apart from the image page's loads (which count from 1), so that no two pages share
    /// an owner.
    static OWNERS: std::cell::Cell<u64> = const { std::cell::Cell::new(1 << 48) };
}

/// A new owner for a browse page's fetches.
pub(crate) fn page_owner() -> u64 {
    OWNERS.with(|n| {
        n.set(n.get() + 1);
        n.get()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn only_the_relays_own_list_pages_are_followed() {
        assert!(is_relay_list(
            "/api/registry/127.0.0.1:5000/v2/a/tags/list?n=2&last=b"
        ));
        for bad in [
            "https://evil.example/api/registry/x/v2/_catalog",
            "//evil.example/api/registry/x",
            "/api/registry/x/v2/../../../etc",
            "/api/local/images",
            "",
        ] {
            assert!(!is_relay_list(bad), "{bad}");
        }
    }

    #[wasm_bindgen_test]
    fn page_sizes_outside_the_range_are_the_default() {
        assert_eq!(page_size(Some("40".into()), 100, 1000), 40);
        assert_eq!(page_size(Some("1000".into()), 100, 1000), 1000);
        for bad in ["0", "1001", "-1", "x", ""] {
            assert_eq!(page_size(Some(bad.into()), 100, 1000), 100, "{bad}");
        }
        assert_eq!(page_size(None, 100, 1000), 100);
    }
}
