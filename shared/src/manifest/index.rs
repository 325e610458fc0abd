use std::collections::BTreeMap;

use super::{Descriptor, Platform};
use crate::{Digest, MediaType};

/// Annotation value BuildKit puts on `vnd.docker.reference.type` for attestation manifests.
pub const ATTESTATION_MANIFEST: &str = "attestation-manifest";
const REFERENCE_TYPE: &str = "vnd.docker.reference.type";
const REFERENCE_DIGEST: &str = "vnd.docker.reference.digest";

/// An image index (OCI) or manifest list (Docker).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u32,
    /// Media type, when the document names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<MediaType>,
    /// OCI 1.1: the type of an artifact index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The manifests listed.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    /// OCI 1.1: the manifest this one refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Arbitrary metadata.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// One runnable platform of an index and the attestations that describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformEntry {
    /// The platform manifest's descriptor.
    pub descriptor: Descriptor,
    /// Reference entries (attestation manifests, mostly) whose `vnd.docker.reference.digest`
    /// names this manifest; [`ImageIndex::is_attestation`] tells attestations apart.
    pub attestations: Vec<Descriptor>,
}

impl PlatformEntry {
    /// The platform, or `unknown/unknown` when the index gives none.
    pub fn platform(&self) -> Platform {
        self.descriptor
            .platform
            .clone()
            .unwrap_or_else(|| Platform {
                os: "unknown".into(),
                architecture: "unknown".into(),
                ..Platform::default()
            })
    }
}

/// An index's entries sorted into platforms and what is attached to them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexEntries {
    /// Runnable platforms, in index order.
    pub platforms: Vec<PlatformEntry>,
    /// Attestation manifests naming no listed platform.
    pub orphan_attestations: Vec<Descriptor>,
}

impl ImageIndex {
    /// Whether a descriptor is a BuildKit attestation manifest rather than a platform.
    pub fn is_attestation(d: &Descriptor) -> bool {
        d.annotation(REFERENCE_TYPE) == Some(ATTESTATION_MANIFEST)
    }

    /// Whether a descriptor is a BuildKit reference entry (an attestation manifest, or
    /// another `vnd.docker.reference.type` such as `builder`) rather than a platform.
    pub fn is_reference(d: &Descriptor) -> bool {
        d.annotation(REFERENCE_TYPE).is_some()
    }

    /// Platforms with their attestations attached; attestations (and other BuildKit
    /// reference entries) are never platforms.
    pub fn entries(&self) -> IndexEntries {
        let mut out = IndexEntries::default();
        for d in self.manifests.iter().filter(|d| !Self::is_reference(d)) {
            out.platforms.push(PlatformEntry {
                descriptor: d.clone(),
                attestations: Vec::new(),
            });
        }
        for att in self.manifests.iter().filter(|d| Self::is_reference(d)) {
            let target = att
                .annotation(REFERENCE_DIGEST)
                .and_then(|s| Digest::parse(s).ok());
            match out
                .platforms
                .iter_mut()
                .find(|p| Some(&p.descriptor.digest) == target.as_ref())
            {
                Some(p) => p.attestations.push(att.clone()),
                None => out.orphan_attestations.push(att.clone()),
            }
        }
        out
    }
}

impl IndexEntries {
    /// The platform the URL asks for, else linux/amd64, else the first.
    pub fn select(&self, wanted: Option<&Platform>) -> Option<&PlatformEntry> {
        let find = |p: &Platform| self.platforms.iter().find(|e| e.platform().matches(p));
        wanted
            .and_then(find)
            .or_else(|| find(&Platform::parse("linux/amd64").expect("valid literal")))
            .or_else(|| self.platforms.first())
    }
}
