//! Legacy `docker save` images have no manifest: the config (whose sha256 is the image ID)
//! and uncompressed layer tars named by path. Strata writes the OCI manifest that Docker
//! itself would push for them, so the rest of the app reads one shape. Each layer's digest
//! is then its config `diff_id`: the one check a legacy archive allows, and a real one.

use serde_json::json;

use super::{ArchiveError, LegacyImage, Member};
use crate::digest::Digest;
use crate::manifest::ImageConfig;

/// The media type of an uncompressed OCI layer.
pub const UNCOMPRESSED_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
/// The annotation that marks a manifest Strata wrote, not the image's author.
pub const SYNTHESIZED: &str = "dev.strata.synthesized-from";

/// A legacy image made readable: its written manifest, and where each blob is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacyLayout {
    /// The manifest Strata wrote (its digest is computed, not given).
    pub manifest: Vec<u8>,
    /// The config's digest, which is the image ID.
    pub config_digest: Digest,
    /// (digest, archive member) of the config and of each layer.
    pub blobs: Vec<(Digest, Member)>,
}

/// Writes the manifest of `image`, given its config bytes and the archive's members.
/// The config must hash to the ID its file name claims (`<hex>.json` or
/// `blobs/sha256/<hex>`), when the name claims one.
pub fn synthesize(
    image: &LegacyImage,
    config: &[u8],
    members: &[Member],
) -> Result<LegacyLayout, ArchiveError> {
    let config_digest = Digest::sha256_of(config);
    let named_hex = image
        .config
        .rsplit('/')
        .next()
        .map(|name| name.trim_end_matches(".json"))
        .filter(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    if let Some(hex) = named_hex
        && hex != config_digest.hex()
    {
        return Err(ArchiveError::ConfigMismatch {
            path: image.config.clone(),
            actual: config_digest.to_string(),
        });
    }
    let parsed = ImageConfig::parse(config).map_err(|e| ArchiveError::Json {
        member: "the image config",
        reason: e.to_string(),
    })?;
    if parsed.rootfs.diff_ids.len() != image.layers.len() {
        return Err(ArchiveError::LayerCount {
            listed: image.layers.len(),
            diff_ids: parsed.rootfs.diff_ids.len(),
        });
    }
    let member = |path: &str| {
        members
            .iter()
            .find(|m| m.path == path)
            .cloned()
            .ok_or_else(|| ArchiveError::MissingMember(path.to_owned()))
    };
    let mut blobs = vec![(config_digest.clone(), member(&image.config)?)];
    let mut layers = Vec::new();
    for (path, diff_id) in image.layers.iter().zip(&parsed.rootfs.diff_ids) {
        let m = member(path)?;
        layers.push(json!({"mediaType": UNCOMPRESSED_LAYER, "digest": diff_id, "size": m.size}));
        blobs.push((diff_id.clone(), m));
    }
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config.len()},
        "layers": layers,
        "annotations": {SYNTHESIZED: "docker save manifest.json"},
    }))
    .map_err(|e| ArchiveError::Json {
        member: "the written manifest",
        reason: e.to_string(),
    })?;
    Ok(LegacyLayout {
        manifest,
        config_digest,
        blobs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(diff_ids: &[&Digest]) -> Vec<u8> {
        serde_json::to_vec(&json!({"architecture": "amd64", "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": diff_ids}}))
        .unwrap()
    }

    fn member(path: &str, size: u64) -> Member {
        Member {
            path: path.into(),
            offset: 512,
            size,
        }
    }

    #[test]
    fn writes_a_manifest_whose_layer_digests_are_diff_ids() {
        let diff = Digest::sha256_of(b"layer");
        let cfg = config(&[&diff]);
        let id = Digest::sha256_of(&cfg);
        let image = LegacyImage {
            config: format!("{}.json", id.hex()),
            repo_tags: None,
            layers: vec!["l1/layer.tar".into()],
        };
        let members = [
            member(&image.config, cfg.len() as u64),
            member("l1/layer.tar", 5),
        ];
        let layout = synthesize(&image, &cfg, &members).unwrap();
        assert_eq!(layout.config_digest, id);
        assert_eq!(layout.blobs[1].0, diff);
        let manifest: serde_json::Value = serde_json::from_slice(&layout.manifest).unwrap();
        assert_eq!(manifest["layers"][0]["digest"], diff.to_string());
        assert_eq!(manifest["layers"][0]["size"], 5);
    }

    #[test]
    fn a_config_that_is_not_its_id_and_missing_layers_are_named() {
        let cfg = config(&[&Digest::sha256_of(b"x")]);
        let wrong = LegacyImage {
            config: format!("{}.json", "0".repeat(64)),
            repo_tags: None,
            layers: vec!["l1/layer.tar".into()],
        };
        let members = [member(&wrong.config, 1)];
        assert!(matches!(
            synthesize(&wrong, &cfg, &members),
            Err(ArchiveError::ConfigMismatch { .. })
        ));
        let unnamed = LegacyImage {
            config: "config.json".into(),
            ..wrong
        };
        let members = [member("config.json", 1)];
        assert_eq!(
            synthesize(&unnamed, &cfg, &members),
            Err(ArchiveError::MissingMember("l1/layer.tar".into()))
        );
        let two = LegacyImage {
            layers: vec!["a".into(), "b".into()],
            ..unnamed
        };
        assert!(matches!(
            synthesize(&two, &cfg, &members),
            Err(ArchiveError::LayerCount {
                listed: 2,
                diff_ids: 1
            })
        ));
    }
}
