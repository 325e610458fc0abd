//! Resolves a reference to a verified image: the top document (index or manifest), the
//! selected platform's manifest, and the config — each checked against its digest.

use leptos::prelude::*;
use strata_shared::manifest::{
    Descriptor, Document, ImageConfig, ImageManifest, IndexEntries, LayerFormat, Platform,
    Schema1Manifest, layer_history,
};
use strata_shared::{Digest, MediaType};

use crate::endpoint::Endpoint;
use crate::seen_before::{SharedBytes, TagSeen, shared_with_others, tag_visit};

use crate::api::{self, ApiError, Verification};
use crate::worker::protocol::{LayerSummary, Stage, WorkerReport};

/// The top document when it is an index.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct IndexView {
    /// Its digest.
    pub digest: Digest,
    /// Index or manifest list.
    pub media_type: MediaType,
    /// Platforms with their attestations.
    pub entries: IndexEntries,
    /// The platform shown.
    pub selected: Platform,
    /// Its check.
    pub verification: Verification,
    /// The raw JSON, for the raw view.
    pub raw: String,
}

/// The image manifest shown.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ManifestView {
    /// Its digest.
    pub digest: Digest,
    /// OCI or Docker.
    pub media_type: MediaType,
    /// The document.
    pub manifest: ImageManifest,
    /// Its check.
    pub verification: Verification,
    /// The raw JSON, for the raw view.
    pub raw: String,
}

/// Live state of one layer row.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LayerLive {
    /// Stage (`data-layer-state`).
    pub stage: RwSignal<Stage>,
    /// Compressed bytes received so far.
    pub compressed: RwSignal<u64>,
    /// Result when done.
    pub summary: RwSignal<Option<LayerSummary>>,
    /// Failure reason.
    pub error: RwSignal<Option<String>>,
    /// The TOC of an eStargz or zstd:chunked layer (`data-layer-toc`).
    pub toc: RwSignal<crate::layer_toc::TocState>,
}

/// One row of the layers table.
#[derive(Clone, Debug)]
pub(crate) struct LayerRow {
    /// Position, base layer 0.
    pub index: usize,
    /// The manifest's descriptor.
    pub descriptor: Descriptor,
    /// Foreign, encrypted, eStargz, zstd:chunked or plain: whether the layer is fetched.
    pub format: LayerFormat,
    /// Whether the descriptor's size is real (schema1 gives none).
    pub size_known: bool,
    /// The config's diff_id for it.
    pub diff_id: Option<Digest>,
    /// The history step that made it.
    pub history_step: Option<usize>,
    /// Absolute URL of the blob (workers fetch it; their base URL is a blob: URL), or why
    /// the source has none.
    pub blob_url: Result<String, crate::endpoint::NotInArchive>,
    /// Progress.
    pub live: LayerLive,
}

/// An object below the top document that could not be fetched or verified. It fails
/// alone: what verified above and beside it stays on the page.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ObjectFailure {
    /// "platform manifest", "config".
    pub object: &'static str,
    /// The digest that names it.
    pub digest: Digest,
    /// What was asked for (the route).
    pub asked: String,
    /// What came back, for the user.
    pub answer: String,
    /// A 429: the object is worth asking for again later.
    pub rate_limited: bool,
}

impl ObjectFailure {
    fn new(object: &'static str, digest: &Digest, asked: String, error: &ApiError) -> Self {
        ObjectFailure {
            object,
            digest: digest.clone(),
            asked,
            answer: error.to_string(),
            rate_limited: matches!(error, ApiError::RateLimited { .. }),
        }
    }
}

/// A legacy schema1 manifest as the page shows it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Schema1View {
    /// The parsed manifest.
    pub manifest: Schema1Manifest,
    /// Its check (against the JWS payload for a signed one).
    pub verification: Verification,
    /// The raw JSON.
    pub raw: String,
}

/// Fills the model from a schema1 manifest: its distinct blobs as layers, verified by
/// `blobSum` (sizes unknown, no diff_ids), and its history.
fn read_schema1(
    model: &mut ImageModel,
    endpoint: &Endpoint,
    manifest: Schema1Manifest,
    verification: Verification,
    raw: Vec<u8>,
) {
    model.layers = manifest
        .layers
        .iter()
        .enumerate()
        .map(|(index, layer)| LayerRow {
            index,
            descriptor: Descriptor {
                media_type: MediaType::DockerLayerGzip,
                digest: layer.digest.clone(),
                size: 0,
                urls: Vec::new(),
                annotations: Default::default(),
                platform: None,
                artifact_type: None,
            },
            format: LayerFormat::Plain,
            size_known: false,
            diff_id: None,
            history_step: Some(layer.history_step),
            blob_url: endpoint.url(&format!("blobs/{}", layer.digest)),
            live: LayerLive::new(true),
        })
        .collect();
    model.schema1 = Some(Schema1View {
        manifest,
        verification,
        raw: String::from_utf8_lossy(&raw).into_owned(),
    });
}

/// Everything the image page shows.
#[derive(Clone, Debug)]
pub(crate) struct ImageModel {
    /// Where the image is read from, and its name.
    pub endpoint: Endpoint,
    /// The top-level digest the pinned link uses.
    pub pinned: Digest,
    /// Present when the reference names an index.
    pub index: Option<IndexView>,
    /// Present unless the image is legacy schema1.
    pub manifest: Option<ManifestView>,
    /// The config and its check.
    pub config: Option<(ImageConfig, Verification)>,
    /// The config's JSON as served, for the raw view.
    pub config_raw: Option<String>,
    /// Layers with history mapping and live state.
    pub layers: Vec<LayerRow>,
    /// A legacy schema1 image's manifest (layers from `fsLayers`, history from
    /// `v1Compatibility`, signatures), with its check.
    pub schema1: Option<Schema1View>,
    /// Objects that failed alone (a platform manifest, the config).
    pub failures: Vec<ObjectFailure>,
    /// The tag or digest the image was opened by (the top document's reference).
    pub opened_as: String,
    /// What the relay said about serving the top document (access, mirror, rate limit).
    pub relay: crate::relay_facts::RelayFacts,
    /// The tag against this browser's last visit.
    pub tag_seen: crate::seen_before::TagSeen,
    /// This image's layers that images seen here before hold too (by diff_id).
    pub shared_before: crate::seen_before::SharedBytes,
}

impl LayerLive {
    /// A layer waiting for a worker, or one that is never fetched (settled at once).
    fn new(fetched: bool) -> Self {
        LayerLive {
            stage: RwSignal::new(if fetched {
                Stage::Pending
            } else {
                Stage::NotFetched
            }),
            compressed: RwSignal::new(0),
            summary: RwSignal::new(None),
            error: RwSignal::new(None),
            toc: RwSignal::new(crate::layer_toc::TocState::Absent),
        }
    }
}

impl LayerLive {
    /// Shows a worker's report on this row.
    pub(crate) fn apply(&self, report: &WorkerReport) {
        match report {
            WorkerReport::Progress {
                stage, compressed, ..
            } => {
                self.stage.set(*stage);
                self.compressed.set(*compressed);
            }
            WorkerReport::Done { summary, .. } => {
                self.compressed.set(summary.compressed);
                self.summary.set(Some(summary.clone()));
                self.stage.set(Stage::Verified);
            }
            WorkerReport::Failed { error, .. } => {
                self.error.set(Some(error.to_string()));
                self.stage.set(Stage::Failed);
            }
            WorkerReport::Ready | WorkerReport::Rejected { .. } => {}
        }
    }
}

impl LayerRow {
    /// Whether a worker fetches this layer (foreign and encrypted layers are listed only).
    pub(crate) fn fetched(&self) -> bool {
        self.format.is_fetched()
    }
}

impl ImageModel {
    /// How this image is remembered among the images seen here: `name@digest`.
    pub(crate) fn seen_as(&self) -> String {
        format!("{}@{}", self.endpoint.name, self.pinned)
    }

    /// The build steps: the config's, or a schema1 manifest's.
    pub(crate) fn history(&self) -> Vec<strata_shared::manifest::HistoryStep> {
        match (&self.config, &self.schema1) {
            (Some((config, _)), _) => config.history.clone(),
            (None, Some(s1)) => s1.manifest.history.clone(),
            (None, None) => Vec::new(),
        }
    }

    /// `/image/{name}@{digest}`: the pinned link, keeping the platform.
    pub(crate) fn pinned_path(&self) -> String {
        let config = self.manifest.as_ref().map(|m| &m.manifest.config.digest);
        let mut path = self.endpoint.pinned_path(&self.pinned, config);
        if let Some(index) = &self.index {
            path.push_str(&format!("?platform={}", index.selected));
        }
        path
    }

    /// Whether every layer that is fetched verified (foreign and encrypted layers are
    /// not fetched: [`ImageModel::verified_label`] says so).
    pub(crate) fn all_layers_verified(&self) -> bool {
        self.layers
            .iter()
            .all(|l| matches!(l.live.stage.get(), Stage::Verified | Stage::NotFetched))
    }

    /// Whether every layer finished: verified, failed, or never fetched.
    pub(crate) fn all_layers_settled(&self) -> bool {
        self.layers.iter().all(|l| {
            matches!(
                l.live.stage.get(),
                Stage::Verified | Stage::Failed | Stage::NotFetched
            )
        })
    }

    /// The header's badge once every fetched object verified: it names the layers that
    /// were not fetched, which nothing checked.
    pub(crate) fn verified_label(&self) -> String {
        let unfetched = self.layers.iter().filter(|l| !l.fetched()).count();
        match unfetched {
            0 => "✓ all verified".to_owned(),
            n => format!(
                "✓ all fetched objects verified · {} not fetched (foreign or encrypted)",
                crate::format::plural(n as u64, "layer", "layers")
            ),
        }
    }
}

/// Fetches and verifies the documents of `reference`, for `platform` when it is an index.
pub(crate) async fn load_image(
    endpoint: Endpoint,
    manifest_ref: String,
    platform: Option<Platform>,
) -> Result<ImageModel, ApiError> {
    let top = api::fetch_manifest(&endpoint, &manifest_ref, "index", None).await?;
    let pinned = top.digest.clone();
    let mut model = ImageModel {
        relay: top.relay.clone(),
        endpoint: endpoint.clone(),
        pinned,
        index: None,
        manifest: None,
        config: None,
        config_raw: None,
        layers: Vec::new(),
        schema1: None,
        failures: Vec::new(),
        opened_as: manifest_ref.clone(),
        tag_seen: TagSeen::NotATag,
        shared_before: SharedBytes::default(),
    };
    if endpoint.repository_page().is_some() && Digest::parse(&manifest_ref).is_err() {
        model.tag_seen = tag_visit(&endpoint.name, &manifest_ref, &model.pinned);
    }
    let (manifest_doc, manifest_verification, manifest_digest, media_type, raw) =
        match top.parsed.document {
            Document::Schema1(m) => {
                let mut v = top.verification;
                v.object = "manifest";
                read_schema1(&mut model, &endpoint, *m, v, top.parsed.raw);
                return Ok(model);
            }
            Document::Manifest(m) => {
                let mut v = top.verification;
                v.object = "manifest";
                let raw = String::from_utf8_lossy(&top.parsed.raw).into_owned();
                (*m, v, top.digest, top.parsed.media_type, raw)
            }
            Document::Index(index) => {
                let entries = index.entries();
                let chosen = entries.select(platform.as_ref()).cloned().ok_or_else(|| {
                    ApiError::Invalid("the index lists no platform manifests".into())
                })?;
                let selected = chosen.platform();
                model.index = Some(IndexView {
                    digest: top.digest.clone(),
                    media_type: top.parsed.media_type.clone(),
                    entries,
                    selected,
                    verification: top.verification,
                    raw: String::from_utf8_lossy(&top.parsed.raw).into_owned(),
                });
                let d = &chosen.descriptor;
                let child = match api::fetch_manifest(
                    &endpoint,
                    &d.digest.to_string(),
                    "manifest",
                    Some((&d.digest, d.size)),
                )
                .await
                {
                    Ok(child) => child,
                    // The index verified: its platforms stay on screen, to pick another.
                    Err(e) => {
                        model.failures.push(ObjectFailure::new(
                            "platform manifest",
                            &d.digest,
                            format!("manifests/{}", d.digest),
                            &e,
                        ));
                        return Ok(model);
                    }
                };
                let raw = String::from_utf8_lossy(&child.parsed.raw).into_owned();
                match child.parsed.document {
                    Document::Manifest(m) => (
                        *m,
                        child.verification,
                        child.digest,
                        child.parsed.media_type,
                        raw,
                    ),
                    Document::Schema1(m) => {
                        read_schema1(
                            &mut model,
                            &endpoint,
                            *m,
                            child.verification,
                            child.parsed.raw,
                        );
                        return Ok(model);
                    }
                    Document::Index(_) => {
                        return Err(ApiError::Invalid(
                            "nested indexes are not supported yet".into(),
                        ));
                    }
                }
            }
        };
    let config_descriptor = &manifest_doc.config;
    // A config that cannot be had fails alone: the layers still show, with their digests
    // verified and their diff_ids computed but unchecked.
    let config = match api::fetch_config_with_raw(
        &endpoint,
        &config_descriptor.digest,
        config_descriptor.size,
    )
    .await
    {
        Ok((config, verification, raw)) => {
            model.config_raw = Some(raw);
            Some((config, verification))
        }
        Err(e) => {
            model.failures.push(ObjectFailure::new(
                "config",
                &config_descriptor.digest,
                format!("blobs/{}", config_descriptor.digest),
                &e,
            ));
            None
        }
    };
    let history = config
        .as_ref()
        .map(|(c, _)| c.history.clone())
        .unwrap_or_default();
    let steps = layer_history(&history, manifest_doc.layers.len());
    model.layers = manifest_doc
        .layers
        .iter()
        .enumerate()
        .map(|(index, descriptor)| {
            let format = LayerFormat::of(descriptor);
            LayerRow {
                index,
                live: LayerLive::new(format.is_fetched()),
                format,
                descriptor: descriptor.clone(),
                diff_id: config
                    .as_ref()
                    .and_then(|(c, _)| c.rootfs.diff_ids.get(index).cloned()),
                history_step: steps.get(index).copied().flatten(),
                size_known: true,
                blob_url: endpoint.url(&format!("blobs/{}", descriptor.digest)),
            }
        })
        .collect();
    model.manifest = Some(ManifestView {
        digest: manifest_digest,
        media_type,
        manifest: manifest_doc,
        verification: manifest_verification,
        raw,
    });
    model.config = config;
    let known: Vec<(Digest, u64)> = model
        .layers
        .iter()
        .filter_map(|l| Some((l.diff_id.clone()?, l.descriptor.size)))
        .collect();
    model.shared_before = shared_with_others(&known, &model.seen_as());
    Ok(model)
}
