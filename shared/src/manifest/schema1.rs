//! Docker's legacy image manifest, schema1 (`application/vnd.docker.distribution.manifest.v1+prettyjws`),
//! read rather than only recognised: Quay and old private registries still serve it.
//!
//! Its layers are `fsLayers` (newest first, one per `history` entry; throwaway steps point
//! at an empty tar), its history is in each entry's `v1Compatibility` JSON, and a signed
//! manifest carries JWS signatures whose payload, not the whole file, is what its digest
//! names. There are no diff_ids.

use std::borrow::Cow;

use base64::Engine as _;

use super::HistoryStep;
use crate::Digest;

/// Why bytes are not a readable schema1 manifest.
#[derive(Debug, thiserror::Error)]
pub enum Schema1Error {
    /// Not JSON of the schema1 shape.
    #[error("invalid schema1 manifest: {0}")]
    Json(#[from] serde_json::Error),
    /// `fsLayers` and `history` must pair up.
    #[error("schema1 manifest lists {layers} fsLayers but {history} history entries")]
    Mismatch {
        /// `fsLayers` entries.
        layers: usize,
        /// `history` entries.
        history: usize,
    },
    /// A `blobSum` that is not a digest.
    #[error("schema1 blobSum {0:?} is not a digest: {1}")]
    BlobSum(String, crate::DigestError),
    /// The JWS protected header cannot be read.
    #[error("schema1 signature header: {0}")]
    Protected(String),
}

/// One signature of a signed manifest: who signed and how (the signature itself is not
/// checked; Docker stopped trusting these keys long ago).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schema1Signature {
    /// The JWK's `kid` (libtrust key id), when the header carries one.
    pub key_id: Option<String>,
    /// `ES256`, `RS256`, …
    pub algorithm: String,
}

/// One layer: a distinct blob, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schema1Layer {
    /// The `blobSum`, which the blob is verified against.
    pub digest: Digest,
    /// The history step (oldest first) that made it.
    pub history_step: usize,
}

/// A parsed schema1 manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schema1Manifest {
    /// The repository it was pushed as.
    pub name: String,
    /// The tag it was pushed as.
    pub tag: String,
    /// `amd64`, `arm`, …
    pub architecture: String,
    /// Layers oldest first, throwaway steps left out and repeated blobs folded.
    pub layers: Vec<Schema1Layer>,
    /// The build steps, oldest first; throwaway steps and repeated blobs are empty layers.
    pub history: Vec<HistoryStep>,
    /// The JWS signatures.
    pub signatures: Vec<Schema1Signature>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    #[serde(default)]
    name: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    fs_layers: Vec<RawLayer>,
    #[serde(default)]
    history: Vec<RawHistory>,
    #[serde(default)]
    signatures: Vec<RawSignature>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLayer {
    blob_sum: String,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawHistory {
    v1_compatibility: String,
}

#[derive(serde::Deserialize)]
struct RawSignature {
    #[serde(default)]
    header: SignatureHeader,
    #[serde(default)]
    protected: Option<String>,
}

#[derive(Default, serde::Deserialize)]
struct SignatureHeader {
    #[serde(default)]
    alg: String,
    #[serde(default)]
    jwk: Option<Jwk>,
}

#[derive(serde::Deserialize)]
struct Jwk {
    #[serde(default)]
    kid: Option<String>,
}

#[derive(Default, serde::Deserialize)]
struct V1Compatibility {
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    throwaway: bool,
    #[serde(default)]
    container_config: Option<V1ContainerConfig>,
}

#[derive(Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct V1ContainerConfig {
    #[serde(default)]
    cmd: Option<Vec<String>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Protected {
    format_length: usize,
    format_tail: String,
}

impl Schema1Manifest {
    /// Parses schema1 bytes (signed or not).
    pub fn parse(raw: &[u8]) -> Result<Schema1Manifest, Schema1Error> {
        let doc: Raw = serde_json::from_slice(raw)?;
        if doc.fs_layers.len() != doc.history.len() {
            return Err(Schema1Error::Mismatch {
                layers: doc.fs_layers.len(),
                history: doc.history.len(),
            });
        }
        let mut layers: Vec<Schema1Layer> = Vec::new();
        let mut history = Vec::new();
        // Both lists are newest first.
        for (step, (layer, entry)) in doc.fs_layers.iter().zip(&doc.history).rev().enumerate() {
            let digest = Digest::parse(&layer.blob_sum)
                .map_err(|e| Schema1Error::BlobSum(layer.blob_sum.clone(), e))?;
            // A v1Compatibility that is not JSON still names a layer; its step is blank.
            let v1: V1Compatibility =
                serde_json::from_str(&entry.v1_compatibility).unwrap_or_default();
            let repeated = layers.iter().any(|l| l.digest == digest);
            let empty = v1.throwaway || repeated;
            if !empty {
                layers.push(Schema1Layer {
                    digest,
                    history_step: step,
                });
            }
            history.push(HistoryStep {
                created: v1.created,
                created_by: v1
                    .container_config
                    .and_then(|c| c.cmd)
                    .map(|cmd| cmd.join(" ")),
                author: v1.author,
                comment: v1.comment,
                empty_layer: empty,
            });
        }
        let signatures = doc
            .signatures
            .iter()
            .map(|s| Schema1Signature {
                key_id: s.header.jwk.as_ref().and_then(|j| j.kid.clone()),
                algorithm: s.header.alg.clone(),
            })
            .collect();
        Ok(Schema1Manifest {
            name: doc.name,
            tag: doc.tag,
            architecture: doc.architecture,
            layers,
            history,
            signatures,
        })
    }

    /// The bytes a schema1 manifest's digest is over: for a signed one, the JWS payload
    /// (the first `formatLength` bytes and the `formatTail` of the first signature's
    /// protected header); else the bytes as they are.
    pub fn digested_bytes(raw: &[u8]) -> Result<Cow<'_, [u8]>, Schema1Error> {
        #[derive(serde::Deserialize)]
        struct Signed {
            #[serde(default)]
            signatures: Vec<RawSignature>,
        }
        let signed: Signed = serde_json::from_slice(raw)?;
        let Some(protected) = signed
            .signatures
            .first()
            .and_then(|s| s.protected.as_deref())
        else {
            return Ok(Cow::Borrowed(raw));
        };
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let bad = |what: String| Schema1Error::Protected(what);
        let header = b64
            .decode(protected.trim_end_matches('='))
            .map_err(|e| bad(format!("not base64url: {e}")))?;
        let header: Protected =
            serde_json::from_slice(&header).map_err(|e| bad(format!("not JSON: {e}")))?;
        let tail = b64
            .decode(header.format_tail.trim_end_matches('='))
            .map_err(|e| bad(format!("formatTail is not base64url: {e}")))?;
        let head = raw.get(..header.format_length).ok_or_else(|| {
            bad(format!(
                "formatLength {} is past the end of the {} bytes",
                header.format_length,
                raw.len()
            ))
        })?;
        let mut payload = head.to_vec();
        payload.extend_from_slice(&tail);
        Ok(Cow::Owned(payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unsigned(layers: &[(&str, bool, &str)]) -> Vec<u8> {
        // Newest first, as schema1 lists them.
        let fs: Vec<_> = layers
            .iter()
            .rev()
            .map(|(d, _, _)| serde_json::json!({"blobSum": d}))
            .collect();
        let history: Vec<_> = layers
            .iter()
            .rev()
            .map(|(_, throwaway, cmd)| {
                let v1 = serde_json::json!({"created": "2016-01-01T00:00:00Z", "throwaway": throwaway,
                    "container_config": {"Cmd": ["/bin/sh", "-c", cmd]}});
                serde_json::json!({"v1Compatibility": v1.to_string()})
            })
            .collect();
        serde_json::to_vec(
            &serde_json::json!({"schemaVersion": 1, "name": "team/old", "tag": "v1",
            "architecture": "amd64", "fsLayers": fs, "history": history}),
        )
        .unwrap()
    }

    #[test]
    fn layers_oldest_first_throwaways_and_repeats_folded() {
        let a = format!("sha256:{}", "a".repeat(64));
        let b = format!("sha256:{}", "b".repeat(64));
        let empty = format!("sha256:{}", "e".repeat(64));
        let raw = unsigned(&[
            (&a, false, "ADD rootfs /"),
            (&empty, true, "#(nop) ENV A=1"),
            (&b, false, "RUN make"),
            (&a, false, "RUN again"),
        ]);
        let m = Schema1Manifest::parse(&raw).unwrap();
        assert_eq!(
            (m.name.as_str(), m.tag.as_str(), m.architecture.as_str()),
            ("team/old", "v1", "amd64")
        );
        let digests: Vec<_> = m.layers.iter().map(|l| l.digest.to_string()).collect();
        assert_eq!(digests, [a.clone(), b]);
        assert_eq!(m.layers[1].history_step, 2);
        let empties: Vec<_> = m.history.iter().map(|h| h.empty_layer).collect();
        assert_eq!(empties, [false, true, false, true]);
        assert_eq!(
            m.history[2].created_by.as_deref(),
            Some("/bin/sh -c RUN make")
        );
        assert!(m.signatures.is_empty());
        assert_eq!(
            Schema1Manifest::digested_bytes(&raw).unwrap().as_ref(),
            raw.as_slice()
        );
    }

    #[test]
    fn bad_shapes_are_named() {
        let raw = br#"{"schemaVersion":1,"fsLayers":[{"blobSum":"sha256:00"}],"history":[]}"#;
        assert!(matches!(
            Schema1Manifest::parse(raw),
            Err(Schema1Error::Mismatch {
                layers: 1,
                history: 0
            })
        ));
        let raw = br#"{"schemaVersion":1,"fsLayers":[{"blobSum":"md5:00"}],"history":[{"v1Compatibility":"{}"}]}"#;
        let e = Schema1Manifest::parse(raw).unwrap_err().to_string();
        assert!(e.contains("md5:00"), "{e}");
        let raw = br#"{"schemaVersion":1,"signatures":[{"header":{"alg":"ES256"},"protected":"eyJmb3JtYXRMZW5ndGgiOjk5OTksImZvcm1hdFRhaWwiOiJDbjAifQ"}]}"#;
        let e = Schema1Manifest::digested_bytes(raw)
            .unwrap_err()
            .to_string();
        assert!(e.contains("formatLength 9999"), "{e}");
    }
}
