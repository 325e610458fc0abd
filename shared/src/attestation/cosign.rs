//! cosign's registry layout: signatures, attestations and SBOMs of `sha256:HEX` stored under
//! tags `sha256-HEX.sig`, `.att`, `.sbom`; each signature a layer whose blob is a
//! simple-signing payload (`critical.identity.docker-reference`,
//! `critical.image.docker-manifest-digest`) and whose annotations carry the base64
//! signature and, for keyless signing, the Fulcio certificate.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::certificate::CertificateInfo;
use super::{AttestationError, from_json, null_default};
use crate::Digest;
use crate::manifest::Descriptor;

/// Media type of a simple-signing payload layer.
pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Media type of a DSSE envelope layer (cosign attestations).
pub const DSSE_ENVELOPE: &str = "application/vnd.dsse.envelope.v1+json";
/// Layer annotation: the base64 signature over the payload.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Layer annotation: the signing certificate (PEM), keyless signing.
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// Layer annotation: the certificate chain (PEM).
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// Layer annotation: the Rekor transparency-log bundle.
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";

/// What a cosign tag holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CosignTag {
    /// `.sig`: signatures.
    Signature,
    /// `.att`: attestations (DSSE envelopes).
    Attestation,
    /// `.sbom`: an attached SBOM.
    Sbom,
}

impl CosignTag {
    /// All three, in display order.
    pub const ALL: [CosignTag; 3] = [
        CosignTag::Signature,
        CosignTag::Attestation,
        CosignTag::Sbom,
    ];

    /// The tag's suffix.
    pub fn suffix(self) -> &'static str {
        match self {
            CosignTag::Signature => "sig",
            CosignTag::Attestation => "att",
            CosignTag::Sbom => "sbom",
        }
    }

    /// `sha256-HEX.sig` (or `.att`, `.sbom`) for `digest`.
    pub fn tag_for(self, digest: &Digest) -> String {
        format!("{}.{}", referrers_tag(digest), self.suffix())
    }
}

/// `sha256-HEX`: the OCI 1.1 referrers tag schema (and cosign's tag stem).
pub fn referrers_tag(digest: &Digest) -> String {
    format!("{}-{}", digest.algorithm().name(), digest.hex())
}

/// A simple-signing payload: what a cosign signature signs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimpleSigning {
    /// `critical.identity.docker-reference`: the repository signed.
    pub docker_reference: String,
    /// `critical.image.docker-manifest-digest`, as written.
    pub manifest_digest: String,
    /// `critical.type`.
    pub kind: String,
    /// `optional` annotations, rendered as strings.
    pub optional: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct PayloadRaw {
    critical: Critical,
    #[serde(default, deserialize_with = "null_default")]
    optional: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct Critical {
    #[serde(default, deserialize_with = "null_default")]
    identity: Identity,
    #[serde(default, deserialize_with = "null_default")]
    image: Image,
    #[serde(default, rename = "type", deserialize_with = "null_default")]
    kind: String,
}

#[derive(Deserialize, Default)]
struct Identity {
    #[serde(
        default,
        rename = "docker-reference",
        deserialize_with = "null_default"
    )]
    docker_reference: String,
}

#[derive(Deserialize, Default)]
struct Image {
    #[serde(
        default,
        rename = "docker-manifest-digest",
        deserialize_with = "null_default"
    )]
    docker_manifest_digest: String,
}

impl SimpleSigning {
    /// Parses a payload blob.
    pub fn parse(bytes: &[u8]) -> Result<SimpleSigning, AttestationError> {
        let raw: PayloadRaw = from_json(bytes, "simple-signing payload")?;
        Ok(SimpleSigning {
            docker_reference: raw.critical.identity.docker_reference,
            manifest_digest: raw.critical.image.docker_manifest_digest,
            kind: raw.critical.kind,
            optional: raw
                .optional
                .into_iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => (k, s),
                    other => (k, other.to_string()),
                })
                .collect(),
        })
    }

    /// The signed digest, when well formed.
    pub fn signed_digest(&self) -> Option<Digest> {
        Digest::parse(&self.manifest_digest).ok()
    }

    /// Whether the payload signs `digest`.
    pub fn signs(&self, digest: &Digest) -> bool {
        self.signed_digest().as_ref() == Some(digest)
    }

    /// Whether `docker_reference` names repository `name` (`host/path`; Docker Hub's
    /// `docker.io/library/x` also matches `x` and `library/x`).
    pub fn names_repository(&self, name: &str) -> bool {
        let r = self.docker_reference.as_str();
        let r = r.split('@').next().unwrap_or(r);
        let r = match r.rsplit_once(':') {
            Some((head, tail)) if !tail.contains('/') => head,
            _ => r,
        };
        let strip = |s: &str| -> String {
            let s = s.strip_prefix("docker.io/").unwrap_or(s);
            let s = s.strip_prefix("index.docker.io/").unwrap_or(s);
            s.strip_prefix("library/").unwrap_or(s).to_owned()
        };
        strip(r) == strip(name)
    }
}

/// One cosign signature layer: the payload it signs, and what the annotations carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CosignSignature {
    /// The payload blob's descriptor digest.
    pub payload_digest: Digest,
    /// The payload's size.
    pub payload_size: u64,
    /// The base64 signature (may be empty for keyless signatures kept only in Rekor).
    pub signature: String,
    /// The signing certificate, when keyless.
    pub certificate: Option<CertificateInfo>,
    /// Why the certificate annotation could not be read, when present but unreadable.
    pub certificate_error: Option<String>,
    /// Whether a Rekor bundle is attached.
    pub has_bundle: bool,
}

impl CosignSignature {
    /// Reads a layer of a `.sig` manifest; `None` when it is not a simple-signing layer.
    pub fn from_layer(layer: &Descriptor) -> Option<CosignSignature> {
        if layer.media_type.as_str() != SIMPLE_SIGNING {
            return None;
        }
        let (certificate, certificate_error) = match layer.annotation(CERTIFICATE_ANNOTATION) {
            Some(pem) if !pem.trim().is_empty() => match CertificateInfo::from_pem(pem) {
                Ok(c) => (Some(c), None),
                Err(e) => (None, Some(e.to_string())),
            },
            _ => (None, None),
        };
        Some(CosignSignature {
            payload_digest: layer.digest.clone(),
            payload_size: layer.size,
            signature: layer
                .annotation(SIGNATURE_ANNOTATION)
                .unwrap_or_default()
                .to_owned(),
            certificate,
            certificate_error,
            has_bundle: layer.annotation(BUNDLE_ANNOTATION).is_some(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_reference_matching() {
        let d = Digest::sha256_of(b"x");
        assert_eq!(
            CosignTag::Signature.tag_for(&d),
            format!("sha256-{}.sig", d.hex())
        );
        let p = SimpleSigning {
            docker_reference: "docker.io/library/alpine:3.20".into(),
            manifest_digest: d.to_string(),
            kind: String::new(),
            optional: BTreeMap::new(),
        };
        assert!(p.names_repository("alpine"));
        assert!(p.names_repository("docker.io/library/alpine"));
        assert!(!p.names_repository("alpine2"));
        assert!(p.signs(&d));
        let local = SimpleSigning {
            docker_reference: "127.0.0.1:5000/team/app".into(),
            ..p
        };
        assert!(local.names_repository("127.0.0.1:5000/team/app"));
    }

    #[test]
    fn payloads_without_critical_are_errors() {
        assert!(SimpleSigning::parse(b"{}").is_err());
        assert!(SimpleSigning::parse(b"{\"critical\":{}}").is_ok());
        assert!(SimpleSigning::parse(b"{\"critical\":{\"image\":3}}").is_err());
    }
}
