//! Container images built in code: layers (tar + gzip), configs, manifests and indexes,
//! in OCI or Docker schema2 media types.
//!
//! Builds are deterministic (fixed mtimes, owners and gzip header), so the same spec
//! always gives the same digests. A layer's `digest` is over the compressed blob; its
//! `diff_id` over the uncompressed tar — the two are never confused.
//! [`push`](crate::push) sends what is built here to a registry.

use std::collections::{BTreeMap, HashSet};
use std::io::Write as _;

use anyhow::Context as _;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest as _, Sha256};

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image config.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// OCI gzip layer.
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// Docker schema2 image manifest.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Docker gzip layer.
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// An in-toto statement (BuildKit attestation layers).
pub const IN_TOTO: &str = "application/vnd.in-toto+json";
/// Every manifest type, for `Accept` headers: the list the page and the relay send.
pub const ACCEPT_ALL_MANIFESTS: &str = strata_shared::media_type::MANIFEST_ACCEPT;

/// Index annotation naming the kind of a BuildKit reference entry.
pub const REFERENCE_TYPE: &str = "vnd.docker.reference.type";
/// Index annotation naming the manifest an attestation is about.
pub const REFERENCE_DIGEST: &str = "vnd.docker.reference.digest";
/// Layer annotation naming an in-toto predicate.
pub const PREDICATE_TYPE: &str = "in-toto.io/predicate-type";
/// The SLSA provenance v0.2 predicate.
pub const SLSA_PROVENANCE_V02: &str = "https://slsa.dev/provenance/v0.2";

/// Modification time of every tar entry (2024-01-01T00:00:00Z).
pub const MTIME: u64 = 1_704_067_200;

/// `sha256:` + hex of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Which family of media types to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// OCI image spec media types.
    Oci,
    /// Docker image manifest v2 schema 2 and manifest list.
    Docker,
}

impl Format {
    /// The image manifest media type.
    pub fn manifest_type(self) -> &'static str {
        match self {
            Format::Oci => OCI_MANIFEST,
            Format::Docker => DOCKER_MANIFEST,
        }
    }

    /// The index / manifest list media type.
    pub fn index_type(self) -> &'static str {
        match self {
            Format::Oci => OCI_INDEX,
            Format::Docker => DOCKER_MANIFEST_LIST,
        }
    }

    /// The config media type.
    pub fn config_type(self) -> &'static str {
        match self {
            Format::Oci => OCI_CONFIG,
            Format::Docker => DOCKER_CONFIG,
        }
    }

    /// The gzip layer media type.
    pub fn layer_type(self) -> &'static str {
        match self {
            Format::Oci => OCI_LAYER_GZIP,
            Format::Docker => DOCKER_LAYER_GZIP,
        }
    }
}

/// One entry of a layer. Paths are absolute in the image (`/etc/os-release`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A regular file.
    File {
        /// Absolute path.
        path: String,
        /// Its bytes.
        contents: Vec<u8>,
        /// Permission bits, e.g. `0o644`.
        mode: u32,
    },
    /// A directory.
    Dir {
        /// Absolute path.
        path: String,
        /// Permission bits.
        mode: u32,
    },
    /// A symbolic link.
    Symlink {
        /// Absolute path of the link.
        path: String,
        /// What it points to, as written.
        target: String,
    },
    /// A hard link to a file earlier in the same layer.
    Hardlink {
        /// Absolute path of the link.
        path: String,
        /// Absolute path of the file it links to.
        target: String,
    },
    /// Deletes `path` from lower layers: written as `DIR/.wh.NAME`.
    Whiteout {
        /// Absolute path deleted.
        path: String,
    },
    /// Hides everything lower layers put in `dir`: written as `DIR/.wh..wh..opq`.
    Opaque {
        /// Absolute path of the directory.
        dir: String,
    },
}

impl Entry {
    /// A regular file.
    pub fn file(path: &str, contents: impl Into<Vec<u8>>, mode: u32) -> Entry {
        Entry::File {
            path: path.to_owned(),
            contents: contents.into(),
            mode,
        }
    }

    /// A directory with mode 0755.
    pub fn dir(path: &str) -> Entry {
        Entry::Dir {
            path: path.to_owned(),
            mode: 0o755,
        }
    }

    /// A symlink at `path` pointing to `target`.
    pub fn symlink(path: &str, target: &str) -> Entry {
        Entry::Symlink {
            path: path.to_owned(),
            target: target.to_owned(),
        }
    }

    /// A hard link at `path` to `target`.
    pub fn hardlink(path: &str, target: &str) -> Entry {
        Entry::Hardlink {
            path: path.to_owned(),
            target: target.to_owned(),
        }
    }

    /// A whiteout deleting `path`.
    pub fn whiteout(path: &str) -> Entry {
        Entry::Whiteout {
            path: path.to_owned(),
        }
    }

    /// An opaque marker for `dir`.
    pub fn opaque(dir: &str) -> Entry {
        Entry::Opaque {
            dir: dir.to_owned(),
        }
    }

    /// The path this entry has inside the tar (relative, whiteouts spelled out).
    pub fn tar_path(&self) -> String {
        match self {
            Entry::File { path, .. }
            | Entry::Symlink { path, .. }
            | Entry::Hardlink { path, .. } => relative(path),
            Entry::Dir { path, .. } => format!("{}/", relative(path)),
            Entry::Whiteout { path } => {
                let rel = relative(path);
                match rel.rsplit_once('/') {
                    Some((dir, name)) => format!("{dir}/.wh.{name}"),
                    None => format!(".wh.{rel}"),
                }
            }
            Entry::Opaque { dir } => format!("{}/.wh..wh..opq", relative(dir)),
        }
    }
}

fn relative(path: &str) -> String {
    path.trim_matches('/').to_owned()
}

/// A layer: its entries and the history step that made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerSpec {
    /// The history step's `created_by`.
    pub created_by: String,
    /// Entries in tar order.
    pub entries: Vec<Entry>,
    /// Write missing parent directories (mode 0755) before each entry, as image builders do.
    pub implicit_parents: bool,
}

impl LayerSpec {
    /// A layer with implicit parent directories.
    pub fn new(created_by: &str, entries: Vec<Entry>) -> LayerSpec {
        LayerSpec {
            created_by: created_by.to_owned(),
            entries,
            implicit_parents: true,
        }
    }

    /// The uncompressed tar stream of this layer.
    pub fn tar(&self) -> anyhow::Result<Vec<u8>> {
        let mut builder = tar::Builder::new(Vec::new());
        let explicit_dirs: BTreeMap<String, &Entry> = self
            .entries
            .iter()
            .filter_map(|e| match e {
                Entry::Dir { path, .. } => Some((relative(path), e)),
                _ => None,
            })
            .collect();
        let mut written: HashSet<String> = HashSet::new();
        for entry in &self.entries {
            let tar_path = entry.tar_path();
            if self.implicit_parents {
                let trimmed = tar_path.trim_end_matches('/');
                let mut prefix = String::new();
                let parts: Vec<&str> = trimmed.split('/').collect();
                for part in &parts[..parts.len().saturating_sub(1)] {
                    if !prefix.is_empty() {
                        prefix.push('/');
                    }
                    prefix.push_str(part);
                    if written.insert(prefix.clone()) {
                        match explicit_dirs.get(&prefix) {
                            Some(dir) => append(&mut builder, dir)?,
                            None => append(&mut builder, &Entry::dir(&prefix))?,
                        }
                    }
                }
            }
            if let Entry::Dir { path, .. } = entry
                && !written.insert(relative(path))
            {
                continue;
            }
            append(&mut builder, entry)?;
        }
        Ok(builder.into_inner()?)
    }
}

fn append(builder: &mut tar::Builder<Vec<u8>>, entry: &Entry) -> anyhow::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_mtime(MTIME);
    header.set_uid(0);
    header.set_gid(0);
    header.set_username("root")?;
    header.set_groupname("root")?;
    header.set_size(0);
    let path = entry.tar_path();
    let context = || format!("writing tar entry {path}");
    match entry {
        Entry::File { contents, mode, .. } => {
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(*mode);
            header.set_size(contents.len() as u64);
            builder
                .append_data(&mut header, &path, contents.as_slice())
                .with_context(context)?;
        }
        Entry::Dir { mode, .. } => {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(*mode);
            builder
                .append_data(&mut header, &path, std::io::empty())
                .with_context(context)?;
        }
        Entry::Symlink { target, .. } => {
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_mode(0o777);
            builder
                .append_link(&mut header, &path, target)
                .with_context(context)?;
        }
        Entry::Hardlink { target, .. } => {
            header.set_entry_type(tar::EntryType::Link);
            header.set_mode(0o644);
            builder
                .append_link(&mut header, &path, relative(target))
                .with_context(context)?;
        }
        Entry::Whiteout { .. } | Entry::Opaque { .. } => {
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(0o644);
            builder
                .append_data(&mut header, &path, std::io::empty())
                .with_context(context)?;
        }
    }
    Ok(())
}

/// Gzips `bytes` deterministically (mtime 0, no file name).
pub fn gzip(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut encoder = flate2::GzBuilder::new().write(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

/// A built layer (or any blob a manifest lists in `layers`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layer {
    /// The blob as stored in the registry (gzip for image layers).
    pub blob: Vec<u8>,
    /// Digest of `blob`.
    pub digest: String,
    /// Digest of the uncompressed content (the config's `rootfs.diff_ids`).
    pub diff_id: String,
    /// The uncompressed content (the tar stream for image layers).
    pub uncompressed: Vec<u8>,
    /// The descriptor's media type.
    pub media_type: String,
    /// The descriptor's annotations.
    pub annotations: BTreeMap<String, String>,
}

impl Layer {
    /// Builds the tar of `spec` and gzips it.
    pub fn build(spec: &LayerSpec, format: Format) -> anyhow::Result<Layer> {
        let tar = spec.tar()?;
        let blob = gzip(&tar)?;
        Ok(Layer {
            digest: sha256_digest(&blob),
            diff_id: sha256_digest(&tar),
            blob,
            uncompressed: tar,
            media_type: format.layer_type().to_owned(),
            annotations: BTreeMap::new(),
        })
    }

    /// An uncompressed blob layer (digest == diff_id), e.g. an in-toto statement.
    pub fn raw(bytes: Vec<u8>, media_type: &str) -> Layer {
        let digest = sha256_digest(&bytes);
        Layer {
            blob: bytes.clone(),
            diff_id: digest.clone(),
            digest,
            uncompressed: bytes,
            media_type: media_type.to_owned(),
            annotations: BTreeMap::new(),
        }
    }

    /// Its descriptor.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor {
            media_type: self.media_type.clone(),
            digest: self.digest.clone(),
            size: self.blob.len() as u64,
            platform: None,
            annotations: self.annotations.clone(),
        }
    }
}

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

/// A content descriptor as written in manifests and indexes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The target's media type.
    pub media_type: String,
    /// The target's digest.
    pub digest: String,
    /// The target's size in bytes.
    pub size: u64,
    /// Index entries: the platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// Annotations.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// A platform in an index entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Platform {
    /// CPU architecture.
    pub architecture: String,
    /// Operating system.
    pub os: String,
    /// CPU variant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IndexJson<'a> {
    schema_version: u32,
    media_type: &'a str,
    manifests: &'a [Descriptor],
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

/// A built index: per-platform images, the attestation of the first, and the index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltIndex {
    /// The format of the index (and of the platform manifests).
    pub format: Format,
    /// The platform images, in index order.
    pub images: Vec<(Platform, BuiltImage)>,
    /// The attestation manifest about the first image.
    pub attestation: BuiltImage,
    /// The index entries as written.
    pub entries: Vec<Descriptor>,
    /// The index bytes.
    pub bytes: Vec<u8>,
    /// Their digest.
    pub digest: String,
    /// The index media type.
    pub media_type: String,
}

/// Builds an index of `specs` (one image per platform) plus a BuildKit attestation
/// manifest for the first one, listed last with platform `unknown/unknown`.
pub fn build_index(name: &str, specs: &[ImageSpec], format: Format) -> anyhow::Result<BuiltIndex> {
    anyhow::ensure!(!specs.is_empty(), "an index needs at least one image");
    let images = specs
        .iter()
        .map(|s| Ok((s.platform(), s.build(format)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (first_platform, first) = &images[0];
    let purl = format!(
        "pkg:docker/{name}?platform={}",
        first_platform.to_string().replace('/', "%2F")
    );
    let attestation = attestation_manifest(&purl, first)?;
    let mut entries: Vec<Descriptor> = images
        .iter()
        .map(|(p, img)| img.descriptor(Some(p.clone())))
        .collect();
    let mut attestation_entry = attestation.descriptor(Some(Platform {
        architecture: "unknown".into(),
        os: "unknown".into(),
        variant: None,
    }));
    attestation_entry
        .annotations
        .insert(REFERENCE_DIGEST.into(), first.manifest_digest.clone());
    attestation_entry
        .annotations
        .insert(REFERENCE_TYPE.into(), "attestation-manifest".into());
    entries.push(attestation_entry);
    let bytes = serde_json::to_vec_pretty(&IndexJson {
        schema_version: 2,
        media_type: format.index_type(),
        manifests: &entries,
    })?;
    Ok(BuiltIndex {
        format,
        images,
        attestation,
        entries,
        digest: sha256_digest(&bytes),
        bytes,
        media_type: format.index_type().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    fn entries_of(tar_bytes: &[u8]) -> Vec<(String, tar::EntryType, Vec<u8>)> {
        let mut archive = tar::Archive::new(tar_bytes);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let path = e.path().unwrap().to_string_lossy().into_owned();
                let kind = e.header().entry_type();
                let mut data = Vec::new();
                e.read_to_end(&mut data).unwrap();
                (path, kind, data)
            })
            .collect()
    }

    #[test]
    fn tar_has_parents_whiteouts_and_links() {
        let spec = LayerSpec::new(
            "RUN x",
            vec![
                Entry::file("/usr/share/doc/a.txt", "hi", 0o644),
                Entry::Dir {
                    path: "/usr/share/doc".into(),
                    mode: 0o700,
                },
                Entry::whiteout("/usr/share/doc/b.txt"),
                Entry::opaque("/var/cache"),
                Entry::symlink("/bin/sh", "busybox"),
                Entry::hardlink("/usr/share/doc/c.txt", "/usr/share/doc/a.txt"),
            ],
        );
        let got = entries_of(&spec.tar().unwrap());
        let paths: Vec<&str> = got.iter().map(|(p, _, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "usr/",
                "usr/share/",
                "usr/share/doc/",
                "usr/share/doc/a.txt",
                "usr/share/doc/.wh.b.txt",
                "var/",
                "var/cache/",
                "var/cache/.wh..wh..opq",
                "bin/",
                "bin/sh",
                "usr/share/doc/c.txt",
            ]
        );
        assert_eq!(got[3].2, b"hi");
        assert_eq!(got[9].1, tar::EntryType::Symlink);
        assert_eq!(got[10].1, tar::EntryType::Link);
        // The explicit mode of /usr/share/doc wins over the implicit parent.
        let tar_bytes = spec.tar().unwrap();
        let mut archive = tar::Archive::new(&tar_bytes[..]);
        let doc = archive.entries().unwrap().nth(2).unwrap().unwrap();
        assert_eq!(doc.header().mode().unwrap(), 0o700);
    }

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

    #[test]
    fn index_lists_platforms_and_attestation() {
        let spec = crate::fixtures::three_layer_image();
        let specs = [
            spec.for_platform("amd64", None),
            spec.for_platform("arm64", Some("v8")),
        ];
        let index = build_index("127.0.0.1:1/x:y", &specs, Format::Docker).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&index.bytes).unwrap();
        assert_eq!(json["mediaType"], DOCKER_MANIFEST_LIST);
        let manifests = json["manifests"].as_array().unwrap();
        assert_eq!(manifests.len(), 3);
        assert_eq!(manifests[1]["platform"]["variant"], "v8");
        assert_eq!(manifests[2]["platform"]["os"], "unknown");
        assert_eq!(
            manifests[2]["annotations"][REFERENCE_DIGEST],
            index.images[0].1.manifest_digest
        );
        assert_eq!(manifests[2]["mediaType"], OCI_MANIFEST);
        let statement: serde_json::Value =
            serde_json::from_slice(&index.attestation.layers[0].blob).unwrap();
        assert_eq!(
            format!(
                "sha256:{}",
                statement["subject"][0]["digest"]["sha256"]
                    .as_str()
                    .unwrap()
            ),
            index.images[0].1.manifest_digest
        );
    }
}
