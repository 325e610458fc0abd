//! The two images of a compare: each side resolved and verified like the image page's,
//! then their layers handed to one worker pool together. A layer blob both images hold is
//! fetched, verified and indexed once, and its report lands on both sides' rows.

use std::collections::HashMap;

use leptos::prelude::*;
use strata_shared::Digest;
use strata_shared::manifest::Platform;

use crate::components::PageFailure;
use crate::image_load::{ImageModel, LayerLive, load_image};
use crate::merged_tree::{LayerSlot, MergedTreeState, initial_slots, settle};
use crate::source_resolve::{ResolveError, resolve};
use crate::tree_merger::TreeMerger;
use crate::worker::protocol::{LayerJob, Stage, WorkerError, WorkerReport};

/// The prefix of a compare side that is an archive opened in this tab
/// (`archive:sha256:…`, the digest `/archive/{digest}` uses).
pub(crate) const ARCHIVE_SIDE: &str = "archive:";

/// Which image of the compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum SideName {
    /// The first (`a=`): what a machine already holds.
    A,
    /// The second (`b=`): what it pulls.
    B,
}

impl SideName {
    /// `a` or `b`, as the page's `data-*` attributes spell it.
    pub(crate) fn word(self) -> &'static str {
        match self {
            SideName::A => "a",
            SideName::B => "b",
        }
    }

    /// `A` or `B`, as the page shows it.
    pub(crate) fn label(self) -> &'static str {
        match self {
            SideName::A => "A",
            SideName::B => "B",
        }
    }
}

/// One loaded side: its verified documents, and its merged tree as layers settle.
#[derive(Clone, Debug)]
pub(crate) struct LoadedSide {
    /// The reference as the URL gave it.
    pub reference: String,
    /// The documents and the layer rows.
    pub model: ImageModel,
    /// The merged tree (partial until every layer settled).
    pub files: RwSignal<Option<MergedTreeState>>,
}

impl LoadedSide {
    /// The reference that pins this side: `name@digest`, `docker-daemon:sha256:ID`, or
    /// `archive:sha256:…` for a file opened in this tab.
    pub(crate) fn pinned_reference(&self) -> String {
        let config = self
            .model
            .manifest
            .as_ref()
            .map(|m| m.manifest.config.digest.clone());
        self.model
            .endpoint
            .compare_reference(&self.model.pinned, config.as_ref())
    }

    /// The platform picked from an index, if the top document is one.
    pub(crate) fn platform(&self) -> Option<String> {
        self.model.index.as_ref().map(|i| i.selected.to_string())
    }

    /// Whether every layer of this side verified or failed, and its tree holds them all.
    pub(crate) fn settled(&self) -> bool {
        self.model.all_layers_settled()
            && self
                .files
                .with(|f| f.as_ref().is_some_and(MergedTreeState::is_complete))
    }

    fn diff_ids(&self) -> Option<Vec<Digest>> {
        self.model
            .layers
            .iter()
            .map(|l| l.diff_id.clone())
            .collect()
    }

    fn blob_digests(&self) -> Vec<Digest> {
        self.model
            .layers
            .iter()
            .map(|l| l.descriptor.digest.clone())
            .collect()
    }
}

/// What "the same layer" means to the tree diff: the same diff_id (the same tar, however
/// compressed: a registry's gzip blob and a daemon's uncompressed export of one image
/// are the same layer) when both sides know every diff_id, else the same blob digest.
pub(crate) fn layer_identities(a: &LoadedSide, b: &LoadedSide) -> (Vec<Digest>, Vec<Digest>) {
    match (a.diff_ids(), b.diff_ids()) {
        (Some(da), Some(db)) => (da, db),
        _ => (a.blob_digests(), b.blob_digests()),
    }
}

/// Resolves and verifies one side's documents (`archive:sha256:…` names a file opened
/// in this tab; anything else is read as the image page reads it).
pub(crate) async fn load_side(
    raw: &str,
    platform: Option<Platform>,
) -> Result<ImageModel, PageFailure> {
    let (archive, name) = match raw.strip_prefix(ARCHIVE_SIDE) {
        Some(digest) => (true, digest),
        None => (false, raw),
    };
    let (endpoint, manifest_ref) = resolve(name, archive).await.map_err(|e| match e {
        ResolveError::NeedFile(digest) => PageFailure::from(format!(
            "{raw} is a file opened in another tab: open the file that holds {digest} on its image page first"
        )),
        other => PageFailure::from(other.to_string()),
    })?;
    match load_image(endpoint.clone(), manifest_ref.clone(), platform).await {
        Ok(model) => Ok(model),
        Err(e) => Err(crate::components::explain_failure(e, &endpoint, &manifest_ref).await),
    }
}

/// Where one job's report goes: the rows (side, position) that hold its blob.
type Owners = Vec<Vec<(usize, usize)>>;

/// Hands the loaded sides' layers to the page's worker pool, each distinct blob once, and
/// merges each side's tree as its layers settle. A side that could not be read is simply
/// not among them: the other is verified all the same.
pub(crate) fn start_layers(sides: &[&LoadedSide]) {
    let mut jobs: Vec<LayerJob> = Vec::new();
    let mut owners: Owners = Vec::new();
    let mut by_blob: HashMap<(Digest, Option<Digest>, bool), usize> = HashMap::new();
    let mut missing = Vec::new();
    for (s, side) in sides.iter().enumerate() {
        let model = &side.model;
        let without_diff_ids = model.config.is_none();
        // Foreign and encrypted layers are never fetched (their rows say why).
        for row in model.layers.iter().filter(|l| l.fetched()) {
            let url = match &row.blob_url {
                Ok(url) => url,
                Err(not_there) => {
                    missing.push((s, row.index, not_there.to_string()));
                    continue;
                }
            };
            let key = (
                row.descriptor.digest.clone(),
                row.diff_id.clone(),
                without_diff_ids,
            );
            let id = *by_blob.entry(key).or_insert_with(|| {
                jobs.push(LayerJob {
                    id: jobs.len(),
                    url: url.clone(),
                    digest: row.descriptor.digest.clone(),
                    size: row.size_known.then_some(row.descriptor.size),
                    media_type: row.descriptor.media_type.clone(),
                    diff_id: row.diff_id.clone(),
                    without_diff_ids,
                });
                owners.push(Vec::new());
                jobs.len() - 1
            });
            owners[id].push((s, row.index));
        }
    }
    let lives: Vec<Vec<LayerLive>> = sides
        .iter()
        .map(|side| side.model.layers.iter().map(|l| l.live).collect())
        .collect();
    let mergers: Vec<TreeMerger> = sides
        .iter()
        .map(|side| {
            TreeMerger::new(
                initial_slots(&side.model.layers),
                side.model.layers.iter().map(|l| l.history_step).collect(),
                side.files,
            )
        })
        .collect();
    for (side, merger) in sides.iter().zip(&mergers) {
        if !side.model.layers.iter().any(|l| l.fetched()) {
            merger.remerge();
        }
    }
    // Applies a report to one row, and re-merges its side when the row settled.
    let deliver = move |s: usize, position: usize, report: &WorkerReport, to: Option<LayerSlot>| {
        if let Some(live) = lives[s].get(position) {
            live.apply(report);
        }
        if let Some(to) = to
            && mergers[s].with_slots(|slots| settle(slots, position, to))
        {
            mergers[s].remerge();
        }
    };
    for (s, position, why) in missing {
        let report = WorkerReport::Failed {
            id: position,
            error: WorkerError::NotInSource(why),
        };
        deliver(s, position, &report, Some(LayerSlot::Failed));
    }
    let on_report = move |report: WorkerReport| {
        let Some(id) = report.job_id() else { return };
        // One index for every row that holds the blob.
        let to = match report {
            WorkerReport::Done { ref index, .. } => Some(LayerSlot::Indexed(index.clone())),
            WorkerReport::Failed { .. } => Some(LayerSlot::Failed),
            _ => None,
        };
        for &(s, position) in owners.get(id).map(Vec::as_slice).unwrap_or_default() {
            deliver(s, position, &report, to.clone());
        }
    };
    if let Err(no_pool) = crate::page_pool::run(jobs, on_report) {
        for side in sides {
            for row in side.model.layers.iter().filter(|l| l.fetched()) {
                row.live.error.set(Some(no_pool.to_string()));
                row.live.stage.set(Stage::Failed);
            }
        }
    }
}
