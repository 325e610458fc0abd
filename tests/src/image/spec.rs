//! What defines an image: its layers, history steps and runtime config.

use std::collections::BTreeMap;

use serde_json::json;

use super::built::BuiltImage;
use super::descriptor::Platform;
use super::layer::{Layer, LayerSpec};
use super::media::*;

/// A step of the image history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A step that produced a layer.
    Layer(LayerSpec),
    /// A step with `empty_layer: true` (ENV, CMD, LABEL …).
    Empty {
        /// The history step's `created_by`.
        created_by: String,
    },
}

/// The runtime part of an image config (`config` in the JSON).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// `User`.
    pub user: Option<String>,
    /// `WorkingDir`.
    pub working_dir: Option<String>,
    /// `Entrypoint`.
    pub entrypoint: Option<Vec<String>>,
    /// `Cmd`.
    pub cmd: Option<Vec<String>>,
    /// `Env`, as `KEY=value`.
    pub env: Vec<String>,
    /// `ExposedPorts`, e.g. `8080/tcp`.
    pub exposed_ports: Vec<String>,
    /// `Volumes`.
    pub volumes: Vec<String>,
    /// `Labels`.
    pub labels: BTreeMap<String, String>,
}

/// Everything that defines an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageSpec {
    /// `architecture`, e.g. `amd64`.
    pub architecture: String,
    /// `os`, e.g. `linux`.
    pub os: String,
    /// `variant`, e.g. `v8`.
    pub variant: Option<String>,
    /// `created`, RFC 3339.
    pub created: String,
    /// The runtime config.
    pub config: RuntimeConfig,
    /// History steps in order; layer steps give the layers.
    pub steps: Vec<Step>,
    /// Manifest annotations (written in both formats; Docker clients ignore them).
    pub annotations: BTreeMap<String, String>,
}

impl ImageSpec {
    /// The layer specs, in order.
    pub fn layers(&self) -> impl Iterator<Item = &LayerSpec> {
        self.steps.iter().filter_map(|s| match s {
            Step::Layer(l) => Some(l),
            Step::Empty { .. } => None,
        })
    }

    /// The same image for another architecture.
    pub fn for_platform(&self, architecture: &str, variant: Option<&str>) -> ImageSpec {
        ImageSpec {
            architecture: architecture.to_owned(),
            variant: variant.map(str::to_owned),
            ..self.clone()
        }
    }

    /// The config JSON for these layers.
    pub fn config_json(&self, layers: &[Layer]) -> serde_json::Value {
        let c = &self.config;
        let mut runtime = serde_json::Map::new();
        if let Some(user) = &c.user {
            runtime.insert("User".into(), json!(user));
        }
        if !c.exposed_ports.is_empty() {
            let ports: serde_json::Map<_, _> = c
                .exposed_ports
                .iter()
                .map(|p| (p.clone(), json!({})))
                .collect();
            runtime.insert("ExposedPorts".into(), ports.into());
        }
        if !c.env.is_empty() {
            runtime.insert("Env".into(), json!(c.env));
        }
        if let Some(entrypoint) = &c.entrypoint {
            runtime.insert("Entrypoint".into(), json!(entrypoint));
        }
        if let Some(cmd) = &c.cmd {
            runtime.insert("Cmd".into(), json!(cmd));
        }
        if !c.volumes.is_empty() {
            let volumes: serde_json::Map<_, _> =
                c.volumes.iter().map(|v| (v.clone(), json!({}))).collect();
            runtime.insert("Volumes".into(), volumes.into());
        }
        if let Some(dir) = &c.working_dir {
            runtime.insert("WorkingDir".into(), json!(dir));
        }
        if !c.labels.is_empty() {
            runtime.insert("Labels".into(), json!(c.labels));
        }
        let history: Vec<serde_json::Value> = self
            .steps
            .iter()
            .map(|step| match step {
                Step::Layer(l) => json!({"created": self.created, "created_by": l.created_by}),
                Step::Empty { created_by } => json!({
                    "created": self.created,
                    "created_by": created_by,
                    "empty_layer": true,
                }),
            })
            .collect();
        let mut config = json!({
            "architecture": self.architecture,
            "os": self.os,
            "created": self.created,
            "config": runtime,
            "rootfs": {
                "type": "layers",
                "diff_ids": layers.iter().map(|l| l.diff_id.as_str()).collect::<Vec<_>>(),
            },
            "history": history,
        });
        if let Some(variant) = &self.variant {
            config["variant"] = json!(variant);
        }
        config
    }

    /// Builds layers, config and manifest.
    pub fn build(&self, format: Format) -> anyhow::Result<BuiltImage> {
        let layers = self
            .layers()
            .map(|l| Layer::build(l, format))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let config = serde_json::to_vec(&self.config_json(&layers))?;
        BuiltImage::assemble(
            format,
            format.config_type(),
            config,
            layers,
            &self.annotations,
        )
    }

    /// The platform of this image, for index entries.
    pub fn platform(&self) -> Platform {
        Platform {
            architecture: self.architecture.clone(),
            os: self.os.clone(),
            variant: self.variant.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    #[test]
    fn builds_are_deterministic_and_digests_distinct() {
        let spec = crate::fixtures::three_layer_image();
        let a = spec.build(Format::Oci).unwrap();
        let b = spec.build(Format::Oci).unwrap();
        assert_eq!(a.manifest_digest, b.manifest_digest);
        assert_eq!(a.layers.len(), 3);
        for layer in &a.layers {
            assert_ne!(layer.digest, layer.diff_id);
            assert_eq!(layer.digest, sha256_digest(&layer.blob));
            let mut tar = Vec::new();
            flate2::read::GzDecoder::new(&layer.blob[..])
                .read_to_end(&mut tar)
                .unwrap();
            assert_eq!(layer.diff_id, sha256_digest(&tar));
        }
        let docker = spec.build(Format::Docker).unwrap();
        assert_ne!(docker.manifest_digest, a.manifest_digest);
        let manifest: serde_json::Value = serde_json::from_slice(&docker.manifest_bytes).unwrap();
        assert_eq!(manifest["mediaType"], DOCKER_MANIFEST);
        assert_eq!(manifest["config"]["mediaType"], DOCKER_CONFIG);
        assert_eq!(manifest["layers"][0]["mediaType"], DOCKER_LAYER_GZIP);
    }

    #[test]
    fn config_has_history_with_empty_layers() {
        let spec = crate::fixtures::three_layer_image();
        let image = spec.build(Format::Oci).unwrap();
        let config: serde_json::Value = serde_json::from_slice(&image.config_bytes).unwrap();
        let history = config["history"].as_array().unwrap();
        let layer_steps = history
            .iter()
            .filter(|h| h.get("empty_layer").is_none())
            .count();
        assert_eq!(layer_steps, 3);
        assert!(history.len() > 3);
        let diff_ids: Vec<&str> = config["rootfs"]["diff_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            .collect();
        let expected: Vec<&str> = image.layers.iter().map(|l| l.diff_id.as_str()).collect();
        assert_eq!(diff_ids, expected);
    }
}
