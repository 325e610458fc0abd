//! Built image manifests, and BuildKit-style attestation manifests.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use super::descriptor::{Descriptor, Platform};
use super::layer::Layer;
use super::media::*;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ManifestJson<'a> {
    schema_version: u32,
    media_type: &'a str,
    config: Descriptor,
    layers: Vec<Descriptor>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: &'a BTreeMap<String, String>,
}

/// A built image manifest with its config and layers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltImage {
    /// The format of the manifest.
    pub format: Format,
    /// The config blob.
    pub config_bytes: Vec<u8>,
    /// Its digest.
    pub config_digest: String,
    /// The config's media type.
    pub config_media_type: String,
    /// The layers, in order.
    pub layers: Vec<Layer>,
    /// The manifest bytes (pretty JSON, as many builders write).
    pub manifest_bytes: Vec<u8>,
    /// Their digest.
    pub manifest_digest: String,
    /// The manifest media type.
    pub manifest_media_type: String,
}

impl BuiltImage {
    /// Writes the manifest for a config and layers.
    pub fn assemble(
        format: Format,
        config_media_type: &str,
        config_bytes: Vec<u8>,
        layers: Vec<Layer>,
        annotations: &BTreeMap<String, String>,
    ) -> anyhow::Result<BuiltImage> {
        let config_digest = sha256_digest(&config_bytes);
        let manifest = ManifestJson {
            schema_version: 2,
            media_type: format.manifest_type(),
            config: Descriptor {
                media_type: config_media_type.to_owned(),
                digest: config_digest.clone(),
                size: config_bytes.len() as u64,
                platform: None,
                annotations: BTreeMap::new(),
            },
            layers: layers.iter().map(Layer::descriptor).collect(),
            annotations,
        };
        let manifest_bytes = serde_json::to_vec_pretty(&manifest)?;
        Ok(BuiltImage {
            format,
            config_media_type: config_media_type.to_owned(),
            config_bytes,
            config_digest,
            layers,
            manifest_digest: sha256_digest(&manifest_bytes),
            manifest_bytes,
            manifest_media_type: format.manifest_type().to_owned(),
        })
    }

    /// The descriptor of this manifest, for an index.
    pub fn descriptor(&self, platform: Option<Platform>) -> Descriptor {
        Descriptor {
            media_type: self.manifest_media_type.clone(),
            digest: self.manifest_digest.clone(),
            size: self.manifest_bytes.len() as u64,
            platform,
            annotations: BTreeMap::new(),
        }
    }
}

/// A BuildKit-style attestation manifest for `subject` (always OCI, as BuildKit writes
/// it): config `unknown/unknown`, one `application/vnd.in-toto+json` layer holding a SLSA
/// provenance v0.2 statement.
pub fn attestation_manifest(
    subject_name: &str,
    subject: &BuiltImage,
) -> anyhow::Result<BuiltImage> {
    let hex = subject.manifest_digest.trim_start_matches("sha256:");
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": SLSA_PROVENANCE_V02,
        "subject": [{"name": subject_name, "digest": {"sha256": hex}}],
        "predicate": {
            "builder": {"id": ""},
            "buildType": "https://mobyproject.org/buildkit@v1",
            "metadata": {"buildStartedOn": "2024-01-01T00:00:00Z", "completeness": {}},
        },
    });
    let mut layer = Layer::raw(serde_json::to_vec(&statement)?, IN_TOTO);
    layer
        .annotations
        .insert(PREDICATE_TYPE.into(), SLSA_PROVENANCE_V02.into());
    let config = json!({
        "architecture": "unknown",
        "os": "unknown",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]},
    });
    BuiltImage::assemble(
        Format::Oci,
        OCI_CONFIG,
        serde_json::to_vec(&config)?,
        vec![layer],
        &BTreeMap::new(),
    )
}
