//! Notation (Notary Project v2) signatures: OCI 1.1 artifacts of type
//! `application/vnd.cncf.notary.signature` whose one layer is a JWS or COSE envelope,
//! with the signing chain's thumbprints in a manifest annotation. Recognized and listed;
//! verifying them needs the user's trust policy and is left to `notation verify`.

use crate::manifest::ImageManifest;

/// The artifact type of a Notation signature.
pub const NOTATION_SIGNATURE: &str = "application/vnd.cncf.notary.signature";
/// Annotation with the certificate chain's SHA-256 thumbprints (a JSON array).
pub const THUMBPRINT_ANNOTATION: &str = "io.cncf.notary.x509chain.thumbprint#S256";

/// A Notation signature manifest, as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotationSignature {
    /// The envelope's media type (`application/jose+json` or `application/cose`).
    pub envelope_media_type: String,
    /// Thumbprints of the signing chain, leaf first.
    pub thumbprints: Vec<String>,
}

impl NotationSignature {
    /// Reads a manifest; `None` when it is not a Notation signature.
    pub fn from_manifest(m: &ImageManifest) -> Option<NotationSignature> {
        let artifact = m
            .artifact_type
            .as_deref()
            .unwrap_or(m.config.media_type.as_str());
        if artifact != NOTATION_SIGNATURE {
            return None;
        }
        let thumbprints = m
            .annotations
            .get(THUMBPRINT_ANNOTATION)
            .and_then(|v| serde_json::from_str::<Vec<String>>(v).ok())
            .unwrap_or_default();
        Some(NotationSignature {
            envelope_media_type: m
                .layers
                .first()
                .map(|l| l.media_type.as_str().to_owned())
                .unwrap_or_default(),
            thumbprints,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_notation_manifests() {
        let m: ImageManifest = serde_json::from_str(
            r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.cncf.notary.signature",
            "config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},
            "layers":[{"mediaType":"application/jose+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}],
            "annotations":{"io.cncf.notary.x509chain.thumbprint#S256":"[\"abc\",\"def\"]"}}"#,
        )
        .unwrap();
        let n = NotationSignature::from_manifest(&m).unwrap();
        assert_eq!(n.envelope_media_type, "application/jose+json");
        assert_eq!(n.thumbprints, ["abc", "def"]);
    }
}
