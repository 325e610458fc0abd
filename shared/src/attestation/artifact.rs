//! What an attached manifest is: from its `artifactType` (OCI 1.1; else the config's media
//! type), its layers' media types and in-toto annotations.

use super::cosign::{DSSE_ENVELOPE, SIMPLE_SIGNING};
use super::notation::NOTATION_SIGNATURE;
use super::statement::PredicateFamily;
use crate::manifest::ImageManifest;

/// The artifact types of SOCI indexes (Seekable OCI, lazy loading on AWS): v1, and v2
/// (which is attached to an index of the image).
pub const SOCI_INDEX_TYPES: [&str; 2] = [
    "application/vnd.amazon.soci.index.v1+json",
    "application/vnd.amazon.soci.index.v2+json",
];
/// The zTOC layer annotation naming the image layer it indexes.
pub const SOCI_LAYER_DIGEST: &str = "com.amazon.soci.image-layer-digest";

/// Layer annotation naming an in-toto predicate type.
pub const PREDICATE_TYPE_ANNOTATION: &str = "in-toto.io/predicate-type";

/// The kinds of attached artifacts Strata tells apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArtifactKind {
    /// A BuildKit attestation manifest (in-toto layers), with the predicate families it holds.
    Attestation(Vec<PredicateFamily>),
    /// A cosign signature (simple-signing layers).
    CosignSignature,
    /// cosign attestations (DSSE envelopes).
    CosignAttestation,
    /// An SBOM attached as a blob (SPDX or CycloneDX).
    Sbom,
    /// A Notation signature.
    NotationSignature,
    /// A SOCI index: zTOCs (tables of contents for lazy loading) of some of the layers.
    SociIndex {
        /// Image layers it holds a zTOC for.
        ztocs: usize,
    },
    /// Anything else: its artifact type.
    Other(String),
}

impl ArtifactKind {
    /// A short label for lists.
    pub fn label(&self) -> String {
        match self {
            ArtifactKind::Attestation(families) if !families.is_empty() => families
                .iter()
                .map(|f| f.label())
                .collect::<Vec<_>>()
                .join(" + "),
            ArtifactKind::Attestation(_) => "in-toto attestation".into(),
            ArtifactKind::CosignSignature => "cosign signature".into(),
            ArtifactKind::CosignAttestation => "cosign attestation".into(),
            ArtifactKind::Sbom => "SBOM".into(),
            ArtifactKind::NotationSignature => "Notation signature".into(),
            ArtifactKind::SociIndex { ztocs } => format!(
                "SOCI index: zTOCs for {ztocs} {}",
                if *ztocs == 1 { "layer" } else { "layers" }
            ),
            ArtifactKind::Other(t) => t.clone(),
        }
    }

    /// A stable slug for test attributes (`attestation`, `cosign-signature`, …).
    pub fn slug(&self) -> &'static str {
        match self {
            ArtifactKind::Attestation(_) => "attestation",
            ArtifactKind::CosignSignature => "cosign-signature",
            ArtifactKind::CosignAttestation => "cosign-attestation",
            ArtifactKind::Sbom => "sbom",
            ArtifactKind::NotationSignature => "notation-signature",
            ArtifactKind::SociIndex { .. } => "soci-index",
            ArtifactKind::Other(_) => "other",
        }
    }
}

/// Whether a layer media type is an SBOM document.
pub fn is_sbom_media_type(media_type: &str) -> bool {
    let m = media_type.split(';').next().unwrap_or(media_type).trim();
    matches!(
        m,
        "text/spdx+json" | "application/spdx+json" | "application/vnd.cyclonedx+json"
    ) || m.contains("spdx") && m.ends_with("json")
        || m.contains("cyclonedx") && m.ends_with("json")
}

/// The artifact type of a manifest: `artifactType`, else the config's media type.
pub fn artifact_type(m: &ImageManifest) -> String {
    m.artifact_type
        .clone()
        .unwrap_or_else(|| m.config.media_type.as_str().to_owned())
}

/// Classifies an attached manifest.
pub fn classify(m: &ImageManifest) -> ArtifactKind {
    let ty = artifact_type(m);
    if ty == NOTATION_SIGNATURE {
        return ArtifactKind::NotationSignature;
    }
    if SOCI_INDEX_TYPES.contains(&ty.as_str()) {
        let ztocs = m
            .layers
            .iter()
            .filter(|l| l.annotation(SOCI_LAYER_DIGEST).is_some())
            .count();
        return ArtifactKind::SociIndex { ztocs };
    }
    let layer_types: Vec<&str> = m.layers.iter().map(|l| l.media_type.as_str()).collect();
    if !layer_types.is_empty() && layer_types.iter().all(|t| *t == SIMPLE_SIGNING) {
        return ArtifactKind::CosignSignature;
    }
    if !layer_types.is_empty() && layer_types.iter().all(|t| *t == DSSE_ENVELOPE) {
        return ArtifactKind::CosignAttestation;
    }
    if layer_types.contains(&"application/vnd.in-toto+json") {
        let mut families: Vec<PredicateFamily> = m
            .layers
            .iter()
            .filter_map(|l| l.annotation(PREDICATE_TYPE_ANNOTATION))
            .map(PredicateFamily::of)
            .collect();
        families.dedup();
        return ArtifactKind::Attestation(families);
    }
    if layer_types.iter().any(|t| is_sbom_media_type(t)) || is_sbom_media_type(&ty) {
        return ArtifactKind::Sbom;
    }
    ArtifactKind::Other(ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_soci_index_counts_its_ztocs() {
        let m: ImageManifest = serde_json::from_value(serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/vnd.amazon.soci.index.v2+json",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                "digest": crate::Digest::sha256_of(b"{}").to_string(), "size": 2},
            "layers": [
                {"mediaType": "application/octet-stream", "size": 10,
                 "digest": crate::Digest::sha256_of(b"z1").to_string(),
                 "annotations": {SOCI_LAYER_DIGEST: crate::Digest::sha256_of(b"l1").to_string()}},
                {"mediaType": "application/octet-stream", "size": 10,
                 "digest": crate::Digest::sha256_of(b"z2").to_string(),
                 "annotations": {SOCI_LAYER_DIGEST: crate::Digest::sha256_of(b"l2").to_string()}}
            ]
        }))
        .unwrap();
        let kind = classify(&m);
        assert_eq!(kind, ArtifactKind::SociIndex { ztocs: 2 });
        assert_eq!(kind.label(), "SOCI index: zTOCs for 2 layers");
        assert_eq!(kind.slug(), "soci-index");
    }

    #[test]
    fn sbom_media_types() {
        assert!(is_sbom_media_type("text/spdx+json"));
        assert!(is_sbom_media_type(
            "application/vnd.cyclonedx+json; version=1.5"
        ));
        assert!(!is_sbom_media_type("application/vnd.in-toto+json"));
    }
}
