//! Where the page reads an image's documents and blobs: the companion's relay for a
//! registry (`/api/registry/{host}/v2/{name}`), its local routes for an OCI layout
//! (`/api/oci/{layout}`), or an archive opened in this tab (`blob:` URLs of its slices).
//! Whatever the origin, every byte is verified against its digest by the reader.

use strata_shared::Digest;
use strata_shared::source::{DAEMON_TRANSPORT, ImageSource, OCI_TRANSPORT};

use crate::archive_store;

/// An image's origin and its name as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    origin: Origin,
    /// `docker.io/library/nginx`, `oci:demo`, `app.tar`.
    pub(crate) name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Origin {
    Relay {
        base: String,
        /// The repository page of a registry image (`/repo/{registry}/{repository}`).
        repository_page: Option<String>,
    },
    /// An archive of this tab, found by the digest of the image it holds.
    Archive { image: Digest, daemon: bool },
}

/// A route the endpoint cannot answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not in the opened archive")]
pub(crate) struct NotInArchive(pub(crate) String);

impl Endpoint {
    /// The endpoint of a registry or OCI-layout source; `None` for the daemon, whose
    /// images are read from its export (see [`Endpoint::archive`]).
    pub(crate) fn relay(source: &ImageSource) -> Option<Endpoint> {
        match source {
            ImageSource::Registry(reference) => Some(Endpoint {
                origin: Origin::Relay {
                    base: format!(
                        "/api/registry/{}/v2/{}",
                        reference.registry, reference.repository
                    ),
                    repository_page: Some(format!(
                        "/repo/{}/{}",
                        reference.registry, reference.repository
                    )),
                },
                name: reference.name(),
            }),
            ImageSource::OciLayout { layout, .. } => Some(Endpoint {
                origin: Origin::Relay {
                    base: format!("/api/oci/{layout}"),
                    repository_page: None,
                },
                name: format!("{OCI_TRANSPORT}{layout}"),
            }),
            ImageSource::Daemon(_) => None,
        }
    }

    /// The endpoint of an image of an opened archive (`daemon` when it is the daemon's
    /// export, which pins by image ID).
    pub(crate) fn archive(image: Digest, name: String, daemon: bool) -> Endpoint {
        Endpoint {
            origin: Origin::Archive { image, daemon },
            name,
        }
    }

    /// The URL of `route` (`manifests/{ref}`, `blobs/{digest}`, `referrers/{digest}`,
    /// `tags/list`), absolute so that workers can fetch it too.
    pub(crate) fn url(&self, route: &str) -> Result<String, NotInArchive> {
        match &self.origin {
            Origin::Relay { base, .. } => Ok(absolute(&format!("{base}/{route}"))),
            Origin::Archive { image, .. } => {
                let digest = route
                    .strip_prefix("manifests/")
                    .or_else(|| route.strip_prefix("blobs/"))
                    .and_then(|d| Digest::parse(d).ok())
                    .ok_or_else(|| NotInArchive(route.to_owned()))?;
                archive_store::find(image)
                    .and_then(|store| store.url(&digest))
                    .ok_or_else(|| NotInArchive(digest.to_string()))
            }
        }
    }

    /// The pinned app path of the image whose top document is `digest` (`config` is the
    /// image ID, which pins a daemon image).
    pub(crate) fn pinned_path(&self, digest: &Digest, config: Option<&Digest>) -> String {
        match &self.origin {
            Origin::Relay { .. } => format!("/image/{}", self.pinned_reference(digest, config)),
            Origin::Archive { daemon: true, .. } => {
                format!("/image/{}", self.pinned_reference(digest, config))
            }
            Origin::Archive { daemon: false, .. } => format!("/archive/{digest}"),
        }
    }

    /// Whether blobs can be read by byte range: the relay passes `Range` to registries.
    pub(crate) fn serves_ranges(&self) -> bool {
        self.repository_page().is_some()
    }

    /// The page listing every tag of this image's repository (registry images only).
    pub(crate) fn repository_page(&self) -> Option<&str> {
        match &self.origin {
            Origin::Relay {
                repository_page, ..
            } => repository_page.as_deref(),
            Origin::Archive { .. } => None,
        }
    }

    /// The opened archive this image is read from, and whether it is the daemon's export.
    pub(crate) fn opened_archive(
        &self,
    ) -> Option<(std::rc::Rc<archive_store::ArchiveStore>, bool)> {
        match &self.origin {
            Origin::Relay { .. } => None,
            Origin::Archive { image, daemon } => archive_store::find(image).map(|s| (s, *daemon)),
        }
    }

    /// The pinned reference a user copies: `name@digest`, or `docker-daemon:sha256:ID`.
    pub(crate) fn pinned_reference(&self, digest: &Digest, config: Option<&Digest>) -> String {
        match (&self.origin, config) {
            (Origin::Archive { daemon: true, .. }, Some(id)) => format!("{DAEMON_TRANSPORT}{id}"),
            _ => format!("{}@{digest}", self.name),
        }
    }
}

impl Endpoint {
    /// The reference a compare link names this image by: the pinned reference, or
    /// `archive:sha256:…` for a file opened in this tab (which has no reference).
    pub(crate) fn compare_reference(&self, digest: &Digest, config: Option<&Digest>) -> String {
        match &self.origin {
            Origin::Archive { daemon: false, .. } => {
                format!("{}{digest}", crate::compare_load::ARCHIVE_SIDE)
            }
            _ => self.pinned_reference(digest, config),
        }
    }
}

/// Absolute form of a relay path, for workers (whose base URL is a blob URL).
fn absolute(path: &str) -> String {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    format!("{origin}{path}")
}
