use super::{ImageIndex, ImageManifest, Schema1Error, Schema1Manifest};
use crate::{Digest, MediaType};

/// Registries cap manifests at 4 MiB; so does Strata.
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;

/// What a manifest endpoint served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Document {
    /// An OCI index or Docker manifest list.
    Index(Box<ImageIndex>),
    /// An OCI or Docker schema2 image manifest.
    Manifest(Box<ImageManifest>),
    /// Docker schema1 (legacy): its layers, history and signatures.
    Schema1(Box<Schema1Manifest>),
}

/// A parsed document and the exact bytes it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedDocument {
    /// The bytes as served: digests are computed over these.
    pub raw: Vec<u8>,
    /// The media type, from the document itself, else the `Content-Type`, else its shape.
    pub media_type: MediaType,
    /// The parsed document.
    pub document: Document,
}

/// Why bytes are not a manifest Strata can read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Larger than registries allow.
    #[error("manifest is {0} bytes, over the 4 MiB limit")]
    TooLarge(usize),
    /// Not JSON of the expected shape.
    #[error("invalid {media_type} document: {source}")]
    Json {
        /// The media type it was parsed as.
        media_type: MediaType,
        /// The parser's complaint (with line and column).
        source: serde_json::Error,
    },
    /// A schema1 manifest that cannot be read.
    #[error("{0}")]
    Schema1(#[from] Schema1Error),
    /// A media type that is neither index nor manifest.
    #[error("unsupported manifest media type {0:?}")]
    Unsupported(String),
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    #[serde(default)]
    schema_version: Option<u32>,
    #[serde(default)]
    media_type: Option<MediaType>,
    #[serde(default)]
    manifests: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    config: Option<serde::de::IgnoredAny>,
}

impl ParsedDocument {
    /// Parses manifest bytes, keeping them. `content_type` is the response header, if any.
    pub fn parse(raw: Vec<u8>, content_type: Option<&str>) -> Result<Self, ManifestError> {
        if raw.len() > MAX_MANIFEST_BYTES {
            return Err(ManifestError::TooLarge(raw.len()));
        }
        let header_type = content_type.map(MediaType::parse);
        let probe: Probe = serde_json::from_slice(&raw).map_err(|source| ManifestError::Json {
            media_type: header_type.clone().unwrap_or(MediaType::OciManifest),
            source,
        })?;
        let media_type = match (probe.media_type, header_type) {
            (Some(mt), _) => mt,
            (None, _) if probe.schema_version == Some(1) => MediaType::DockerSchema1,
            (None, Some(mt)) if mt.is_index() || mt.is_manifest() => mt,
            (None, _) if probe.manifests.is_some() => MediaType::OciIndex,
            (None, _) if probe.config.is_some() => MediaType::OciManifest,
            (None, Some(mt)) => mt,
            (None, None) => return Err(ManifestError::Unsupported("(none)".into())),
        };
        let json_err = |source| ManifestError::Json {
            media_type: media_type.clone(),
            source,
        };
        let document = match &media_type {
            MediaType::DockerSchema1 => Document::Schema1(Box::new(Schema1Manifest::parse(&raw)?)),
            mt if mt.is_index() => Document::Index(serde_json::from_slice(&raw).map_err(json_err)?),
            mt if mt.is_manifest() => {
                Document::Manifest(serde_json::from_slice(&raw).map_err(json_err)?)
            }
            other => return Err(ManifestError::Unsupported(other.as_str().to_owned())),
        };
        Ok(ParsedDocument {
            raw,
            media_type,
            document,
        })
    }

    /// The sha256 digest of the raw bytes.
    pub fn digest(&self) -> Digest {
        Digest::sha256_of(&self.raw)
    }

    /// The bytes the document's digest names: the raw bytes, except for a signed
    /// schema1 manifest, whose digest is over its JWS payload (signatures stripped).
    pub fn digested_bytes(&self) -> Result<std::borrow::Cow<'_, [u8]>, ManifestError> {
        match self.document {
            Document::Schema1(_) => Ok(Schema1Manifest::digested_bytes(&self.raw)?),
            _ => Ok(std::borrow::Cow::Borrowed(&self.raw)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_decides_when_no_media_type() {
        let idx = br#"{"schemaVersion":2,"manifests":[]}"#.to_vec();
        assert!(matches!(
            ParsedDocument::parse(idx, None).unwrap().document,
            Document::Index(_)
        ));
        let s1 = br#"{"schemaVersion":1,"name":"x","fsLayers":[]}"#.to_vec();
        let parsed = ParsedDocument::parse(s1, Some("application/json")).unwrap();
        assert!(matches!(parsed.document, Document::Schema1(_)));
    }

    #[test]
    fn errors_name_the_problem() {
        let err = ParsedDocument::parse(b"{".to_vec(), None).unwrap_err();
        assert!(err.to_string().starts_with("invalid"), "{err}");
        let big = vec![b' '; MAX_MANIFEST_BYTES + 1];
        assert!(matches!(
            ParsedDocument::parse(big, None),
            Err(ManifestError::TooLarge(_))
        ));
        let cfg = br#"{"mediaType":"application/vnd.oci.image.config.v1+json"}"#.to_vec();
        let err = ParsedDocument::parse(cfg, None).unwrap_err();
        assert!(err.to_string().contains("config.v1"), "{err}");
    }
}
