//! What an attached manifest is: from its `artifactType` (OCI 1.1; else the config's media
//! type), its layers' media types and in-toto annotations.

use super::cosign::{DSSE_ENVELOPE, SIMPLE_SIGNING};
use super::notation::NOTATION_SIGNATURE;
use super::statement::PredicateFamily;
use crate::manifest::ImageManifest;

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
    fn sbom_media_types() {
        assert!(is_sbom_media_type("text/spdx+json"));
        assert!(is_sbom_media_type(
            "application/vnd.cyclonedx+json; version=1.5"
        ));
        assert!(!is_sbom_media_type("application/vnd.in-toto+json"));
    }
}
