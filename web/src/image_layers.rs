//! The image page's layers at work: a job for each fetched layer, a TOC read for each
//! layer that has one, and the workers' reports wired to the rows and the merged tree.

use std::cell::RefCell;
use std::sync::Arc;

use leptos::prelude::*;
use strata_shared::layer::toc::TocPlan;

use crate::image_load::ImageModel;
use crate::layer_toc::{TocRead, TocState};
use crate::merged_tree::{LayerSlot, MergedTreeState, initial_slots, list_from_toc, settle};
use crate::tree_merger::TreeMerger;
use crate::worker::protocol::{LayerJob, Stage, WorkerError, WorkerReport};

/// Hands every layer to the worker pool and wires its reports to the rows. The merged
/// tree grows as each layer settles (see [`TreeMerger`]), so the Files tab shows the
/// first indexed layer at once. A layer with a TOC is listed from it once the layer starts to
/// stream from the registry (a layer this browser verified before never reads it).
pub(crate) fn start_layers(model: &ImageModel, files: RwSignal<Option<MergedTreeState>>) {
    let lives: Vec<_> = model.layers.iter().map(|l| l.live).collect();
    let merger = TreeMerger::new(
        initial_slots(&model.layers),
        model.layers.iter().map(|l| l.history_step).collect(),
        files,
    );
    // Foreign and encrypted layers are never fetched: with nothing to fetch, the tree is done.
    if !model.layers.iter().any(|l| l.fetched()) {
        merger.remerge();
        return;
    }
    let plans: Vec<Option<TocPlan>> = model
        .layers
        .iter()
        .map(|row| TocPlan::of(&row.descriptor).and_then(Result::ok))
        .collect();
    let tocs = RefCell::new(toc_reads(model));
    // Each verified layer is remembered by diff_id, for other images' transport facts.
    let seen_as = model.seen_as();
    let diff_ids: Vec<Option<(strata_shared::Digest, u64)>> = model
        .layers
        .iter()
        .map(|l| Some((l.diff_id.clone()?, l.descriptor.size)))
        .collect();
    let on_report = move |report: WorkerReport| {
        if let Some(live) = report.job_id().and_then(|id| lives.get(id)) {
            live.apply(&report);
        }
        let settled = match report {
            WorkerReport::Progress { id, .. } => {
                if let Some(read) = tocs.borrow_mut().get_mut(id).and_then(Option::take) {
                    let merger = merger.clone();
                    read.start(move |toc| {
                        let listed =
                            merger.with_slots(|slots| list_from_toc(slots, id, Arc::new(toc)));
                        if listed {
                            merger.remerge();
                        }
                        listed
                    });
                }
                false
            }
            WorkerReport::Done { id, index, .. } => {
                if let Some(Some((diff_id, size))) = diff_ids.get(id) {
                    crate::seen_before::remember_layer(diff_id, *size, &seen_as);
                }
                merger.with_slots(|slots| {
                    if let (Some(LayerSlot::Listed(toc)), Some(live), Some(Some(plan))) =
                        (slots.get(id), lives.get(id), plans.get(id))
                    {
                        live.toc.set(crate::layer_toc::verdict(plan, toc, &index));
                    }
                    settle(slots, id, LayerSlot::Indexed(index))
                })
            }
            WorkerReport::Failed { id, .. } => merger.with_slots(|slots| {
                if let (Some(LayerSlot::Listed(_)), Some(live)) = (slots.get(id), lives.get(id)) {
                    live.toc.set(TocState::Unusable(
                        "the layer failed, so what its TOC listed is not shown".into(),
                    ));
                }
                settle(slots, id, LayerSlot::Failed)
            }),
            _ => false,
        };
        if settled {
            merger.remerge();
        }
    };
    // A blob the source does not have fails its layer alone, before any worker starts.
    for row in model.layers.iter().filter(|l| l.fetched()) {
        if let Err(missing) = &row.blob_url {
            on_report(WorkerReport::Failed {
                id: row.index,
                error: WorkerError::NotInSource(missing.to_string()),
            });
        }
    }
    if let Err(no_pool) = crate::page_pool::run(layer_jobs(model), on_report) {
        for row in model.layers.iter().filter(|l| l.fetched()) {
            row.live.error.set(Some(no_pool.to_string()));
            row.live.stage.set(Stage::Failed);
        }
    }
}

/// A TOC read for each layer with a TOC whose source serves byte ranges; a TOC the
/// descriptor names badly is said on the row at once.
fn toc_reads(model: &ImageModel) -> Vec<Option<TocRead>> {
    model
        .layers
        .iter()
        .map(|row| {
            let plan = TocPlan::of(&row.descriptor)?;
            let url = row.blob_url.as_ref().ok()?;
            if !row.fetched() || !model.endpoint.serves_ranges() {
                return None;
            }
            match plan {
                Ok(plan) => Some(TocRead {
                    plan,
                    url: url.clone(),
                    what: format!("TOC of layer {}", row.descriptor.digest),
                    state: row.live.toc,
                }),
                Err(reason) => {
                    row.live.toc.set(TocState::Unusable(reason.to_string()));
                    None
                }
            }
        })
        .collect()
}

/// The image's layer jobs: one per fetched layer the source has, its id the layer's
/// position.
pub(crate) fn layer_jobs(model: &ImageModel) -> Vec<LayerJob> {
    model
        .layers
        .iter()
        .filter(|row| row.fetched())
        .filter_map(|row| {
            let url = row.blob_url.as_ref().ok()?;
            Some(LayerJob {
                id: row.index,
                url: url.clone(),
                digest: row.descriptor.digest.clone(),
                size: row.size_known.then_some(row.descriptor.size),
                media_type: row.descriptor.media_type.clone(),
                diff_id: row.diff_id.clone(),
                without_diff_ids: model.config.is_none(),
            })
        })
        .collect()
}
