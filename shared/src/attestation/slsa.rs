//! SLSA provenance, v0.2 (`invocation`, `materials`, `metadata`) and v1 (`buildDefinition`,
//! `runDetails`), read into one [`Provenance`]: who built, how (frontend, build args,
//! Dockerfile), from what (git source, base images by digest) and when.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::null_default;
use super::purl::Purl;
use crate::Digest;

/// Which SLSA provenance version a statement carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlsaVersion {
    /// `https://slsa.dev/provenance/v0.2`.
    V02,
    /// `https://slsa.dev/provenance/v1`.
    V1,
}

/// Provenance as a user reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provenance {
    /// The SLSA version.
    pub version: SlsaVersion,
    /// `builder.id` (BuildKit leaves it empty unless the builder sets it).
    pub builder_id: String,
    /// `buildType`.
    pub build_type: String,
    /// BuildKit frontend (`dockerfile.v0`, `gateway.v0`).
    pub frontend: Option<String>,
    /// `--build-arg`s (BuildKit's `build-arg:NAME` parameters), by name.
    pub build_args: BTreeMap<String, String>,
    /// Other frontend parameters (`target`, `filename`, …).
    pub parameters: BTreeMap<String, String>,
    /// The Dockerfile (or other build definition) path.
    pub dockerfile: Option<String>,
    /// Where the build definition came from (a git repository at a commit, usually).
    pub config_source: Option<Material>,
    /// Inputs: base images, git sources, downloaded files.
    pub materials: Vec<Material>,
    /// The build's invocation id.
    pub invocation_id: Option<String>,
    /// When the build started (RFC 3339).
    pub started_on: Option<String>,
    /// When the build finished (RFC 3339).
    pub finished_on: Option<String>,
}

impl Provenance {
    /// Materials that are container images (the base images and build stages' images).
    pub fn base_images(&self) -> impl Iterator<Item = &Material> + '_ {
        self.materials
            .iter()
            .filter(|m| matches!(m.kind, MaterialKind::Image(_)))
    }

    /// Materials that are git sources, the config source first.
    pub fn git_sources(&self) -> impl Iterator<Item = &Material> + '_ {
        self.config_source
            .iter()
            .chain(self.materials.iter())
            .filter(|m| matches!(m.kind, MaterialKind::Git { .. }))
    }
}

/// One input of the build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Material {
    /// The URI as written.
    pub uri: String,
    /// Digests by algorithm.
    pub digest: BTreeMap<String, String>,
    /// What it is.
    pub kind: MaterialKind,
}

/// What kind of input a material is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MaterialKind {
    /// A git repository at a commit.
    Git {
        /// The repository URL (without the `#ref`).
        repository: String,
        /// The commit, when known (sha1 digest, or a hex ref).
        commit: Option<String>,
        /// The `#ref` as written (a tag or branch), when it is not the commit.
        reference: Option<String>,
        /// A browsable URL of the commit, for `https` repositories on known forges.
        commit_url: Option<String>,
    },
    /// A container image (`pkg:docker/...`).
    Image(super::purl::DockerImage),
    /// Anything else (an HTTP download, a local context).
    Other,
}

impl Material {
    /// Classifies a URI with its digests.
    pub fn new(uri: String, digest: BTreeMap<String, String>) -> Material {
        let kind = classify(&uri, &digest);
        Material { uri, digest, kind }
    }
}

fn classify(uri: &str, digest: &BTreeMap<String, String>) -> MaterialKind {
    if let Some(purl) = Purl::parse(uri) {
        if let Some(mut image) = purl.docker_image() {
            if image.digest.is_none() {
                image.digest = digest
                    .get("sha256")
                    .and_then(|h| Digest::parse(&format!("sha256:{h}")).ok());
            }
            return MaterialKind::Image(image);
        }
        return MaterialKind::Other;
    }
    let (repo, fragment) = match uri.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (uri, None),
    };
    let looks_git = repo.ends_with(".git")
        || repo.starts_with("git@")
        || repo.starts_with("git://")
        || repo.starts_with("git+")
        || digest.contains_key("sha1") && repo.starts_with("https://")
        || digest.contains_key("gitCommit");
    if !looks_git {
        return MaterialKind::Other;
    }
    let is_hex = |s: &str| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit());
    let commit = digest
        .get("sha1")
        .or_else(|| digest.get("gitCommit"))
        .cloned()
        .or_else(|| fragment.filter(|f| is_hex(f)).map(str::to_owned));
    let reference = fragment
        .filter(|f| Some(*f) != commit.as_deref())
        .map(str::to_owned);
    let repository = repo.trim_start_matches("git+").to_owned();
    let commit_url = commit
        .as_deref()
        .and_then(|c| super::labels::commit_url(&repository, c));
    MaterialKind::Git {
        repository,
        commit,
        reference,
        commit_url,
    }
}

/// `key: value` pairs whose values may be any JSON: strings stay, the rest is rendered.
fn stringify(map: BTreeMap<String, serde_json::Value>) -> BTreeMap<String, String> {
    map.into_iter()
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            (k, v)
        })
        .collect()
}

/// Splits BuildKit's frontend args into build args and other parameters.
fn split_args(
    args: BTreeMap<String, serde_json::Value>,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut build_args = BTreeMap::new();
    let mut parameters = BTreeMap::new();
    for (k, v) in stringify(args) {
        match k.strip_prefix("build-arg:") {
            Some(name) => {
                build_args.insert(name.to_owned(), v);
            }
            None => {
                parameters.insert(k, v);
            }
        }
    }
    (build_args, parameters)
}

#[derive(Deserialize, Default)]
struct Builder {
    #[serde(default, deserialize_with = "null_default")]
    id: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ResourceRaw {
    #[serde(default, deserialize_with = "null_default")]
    uri: String,
    #[serde(default, deserialize_with = "null_default")]
    digest: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_default")]
    entry_point: String,
    #[serde(default, deserialize_with = "null_default")]
    path: String,
}

impl ResourceRaw {
    fn material(self) -> Option<Material> {
        (!self.uri.is_empty()).then(|| Material::new(self.uri, self.digest))
    }
}

#[derive(Deserialize, Default)]
struct FrontendRequest {
    #[serde(default, deserialize_with = "null_default")]
    frontend: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    args: BTreeMap<String, serde_json::Value>,
}

/// SLSA v0.2 predicate (the fields Strata shows).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct V02 {
    #[serde(default, deserialize_with = "null_default")]
    builder: Builder,
    #[serde(default, deserialize_with = "null_default")]
    build_type: String,
    #[serde(default, deserialize_with = "null_default")]
    invocation: InvocationV02,
    #[serde(default, deserialize_with = "null_default")]
    materials: Vec<ResourceRaw>,
    #[serde(default, deserialize_with = "null_default")]
    metadata: MetadataV02,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct InvocationV02 {
    #[serde(default, deserialize_with = "null_default")]
    config_source: ResourceRaw,
    #[serde(default, deserialize_with = "null_default")]
    parameters: FrontendRequest,
    #[serde(default)]
    #[allow(dead_code)]
    environment: IgnoredAny,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct MetadataV02 {
    #[serde(
        default,
        rename = "buildInvocationID",
        deserialize_with = "null_default"
    )]
    build_invocation_id: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    build_started_on: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    build_finished_on: Option<String>,
}

impl From<V02> for Provenance {
    fn from(p: V02) -> Provenance {
        let (build_args, parameters) = split_args(p.invocation.parameters.args);
        let source = p.invocation.config_source;
        let dockerfile =
            non_empty(source.entry_point.clone()).or_else(|| parameters.get("filename").cloned());
        Provenance {
            version: SlsaVersion::V02,
            builder_id: p.builder.id,
            build_type: p.build_type,
            frontend: p.invocation.parameters.frontend,
            build_args,
            parameters,
            dockerfile,
            config_source: source.material(),
            materials: p
                .materials
                .into_iter()
                .filter_map(ResourceRaw::material)
                .collect(),
            invocation_id: p.metadata.build_invocation_id,
            started_on: p.metadata.build_started_on,
            finished_on: p.metadata.build_finished_on,
        }
    }
}

/// SLSA v1 predicate (the fields Strata shows).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct V1 {
    #[serde(default, deserialize_with = "null_default")]
    build_definition: BuildDefinition,
    #[serde(default, deserialize_with = "null_default")]
    run_details: RunDetails,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct BuildDefinition {
    #[serde(default, deserialize_with = "null_default")]
    build_type: String,
    #[serde(default, deserialize_with = "null_default")]
    external_parameters: ExternalParameters,
    #[serde(default, deserialize_with = "null_default")]
    resolved_dependencies: Vec<ResourceRaw>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ExternalParameters {
    /// BuildKit: the build definition's source.
    #[serde(default, deserialize_with = "null_default")]
    config_source: ResourceRaw,
    /// BuildKit: the frontend request.
    #[serde(default, deserialize_with = "null_default")]
    request: FrontendRequest,
    /// GitHub Actions builders: the workflow (`repository`, `ref`, `path`).
    #[serde(default, deserialize_with = "null_default")]
    workflow: Workflow,
}

#[derive(Deserialize, Default)]
struct Workflow {
    #[serde(default, deserialize_with = "null_default")]
    repository: String,
    #[serde(default, rename = "ref", deserialize_with = "null_default")]
    reference: String,
    #[serde(default, deserialize_with = "null_default")]
    path: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RunDetails {
    #[serde(default, deserialize_with = "null_default")]
    builder: Builder,
    #[serde(default, deserialize_with = "null_default")]
    metadata: MetadataV1,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct MetadataV1 {
    #[serde(
        default,
        alias = "invocationId",
        rename = "invocationID",
        deserialize_with = "null_default"
    )]
    invocation_id: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    started_on: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    finished_on: Option<String>,
}

impl From<V1> for Provenance {
    fn from(p: V1) -> Provenance {
        let def = p.build_definition;
        let ext = def.external_parameters;
        let (build_args, parameters) = split_args(ext.request.args);
        let workflow = ext.workflow;
        let dockerfile = non_empty(ext.config_source.path.clone())
            .or_else(|| parameters.get("filename").cloned())
            .or_else(|| non_empty(workflow.path.clone()));
        let config_source = ext.config_source.material().or_else(|| {
            (!workflow.repository.is_empty()).then(|| {
                let uri = match workflow.reference.as_str() {
                    "" => workflow.repository.clone(),
                    r => format!("{}#{r}", workflow.repository),
                };
                let mut m = Material::new(uri, BTreeMap::new());
                if matches!(m.kind, MaterialKind::Other) {
                    m.kind = MaterialKind::Git {
                        repository: workflow.repository.clone(),
                        commit: None,
                        reference: non_empty(workflow.reference.clone()),
                        commit_url: None,
                    };
                }
                m
            })
        });
        Provenance {
            version: SlsaVersion::V1,
            builder_id: p.run_details.builder.id,
            build_type: def.build_type,
            frontend: ext.request.frontend,
            build_args,
            parameters,
            dockerfile,
            config_source,
            materials: def
                .resolved_dependencies
                .into_iter()
                .filter_map(ResourceRaw::material)
                .collect(),
            invocation_id: p.run_details.metadata.invocation_id,
            started_on: p.run_details.metadata.started_on,
            finished_on: p.run_details.metadata.finished_on,
        }
    }
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::super::statement::{Predicate, parse_statement};
    use super::*;

    fn provenance(json: &str) -> Provenance {
        match parse_statement(json.as_bytes()).unwrap().predicate {
            Predicate::Provenance(p) => *p,
            other => panic!("not provenance: {other:?}"),
        }
    }

    #[test]
    fn buildkit_v1_statement() {
        let p = provenance(
            r#"{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://slsa.dev/provenance/v1",
            "subject":[{"name":"x","digest":{"sha256":"00"}}],
            "predicate":{"buildDefinition":{"buildType":"https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md",
              "externalParameters":{"configSource":{"uri":"https://github.com/o/r.git#refs/tags/v1","digest":{"sha1":"4b220de5058abfd01ff619c9d2ff6b09a049bea0"},"path":"build/Dockerfile"},
                "request":{"frontend":"dockerfile.v0","args":{"build-arg:VERSION":"1.2","target":"prod","source":null}}},
              "resolvedDependencies":[{"uri":"pkg:docker/alpine@3.20?platform=linux%2Famd64","digest":{"sha256":"33735bd63cf84d7e388d9f6d297d348c523c044410f553bd878c6d7829612735"}}]},
            "runDetails":{"builder":{"id":"https://github.com/o/r/actions/runs/1"},"metadata":{"invocationID":"abc","startedOn":"2024-01-01T00:00:00Z","finishedOn":"2024-01-01T00:01:00Z"}}}}"#,
        );
        assert_eq!(p.version, SlsaVersion::V1);
        assert_eq!(p.builder_id, "https://github.com/o/r/actions/runs/1");
        assert_eq!(p.frontend.as_deref(), Some("dockerfile.v0"));
        assert_eq!(p.build_args["VERSION"], "1.2");
        assert_eq!(p.parameters["target"], "prod");
        assert_eq!(p.dockerfile.as_deref(), Some("build/Dockerfile"));
        let Some(Material {
            kind:
                MaterialKind::Git {
                    repository,
                    commit,
                    reference,
                    commit_url,
                },
            ..
        }) = &p.config_source
        else {
            panic!("git source: {:?}", p.config_source)
        };
        assert_eq!(repository, "https://github.com/o/r.git");
        assert_eq!(
            commit.as_deref(),
            Some("4b220de5058abfd01ff619c9d2ff6b09a049bea0")
        );
        assert_eq!(reference.as_deref(), Some("refs/tags/v1"));
        assert_eq!(
            commit_url.as_deref(),
            Some("https://github.com/o/r/commit/4b220de5058abfd01ff619c9d2ff6b09a049bea0")
        );
        let bases: Vec<_> = p.base_images().collect();
        let MaterialKind::Image(img) = &bases[0].kind else {
            unreachable!()
        };
        assert_eq!(img.name, "alpine");
        assert_eq!(
            img.digest.as_ref().map(ToString::to_string).as_deref(),
            Some("sha256:33735bd63cf84d7e388d9f6d297d348c523c044410f553bd878c6d7829612735")
        );
        assert_eq!(p.finished_on.as_deref(), Some("2024-01-01T00:01:00Z"));
    }

    #[test]
    fn nulls_and_missing_fields_are_empty() {
        let p = provenance(
            r#"{"predicateType":"https://slsa.dev/provenance/v0.2","predicate":{"builder":null,"materials":null,"invocation":{"parameters":null}}}"#,
        );
        assert_eq!(p.builder_id, "");
        assert!(p.materials.is_empty() && p.config_source.is_none());
    }
}
