//! The merged tree of the image on screen, built from the verified layers' indexes.
//!
//! It is rebuilt each time a layer settles, so the tree appears with the first indexed
//! layer and grows as the others finish; until then the page names the pending layers.

use std::sync::Arc;

use strata_shared::layer::LayerIndex;
use strata_shared::tree::{MergedTree, TreeBuilder};

/// Where one layer's index stands.
#[derive(Clone, Debug, Default)]
pub(crate) enum LayerSlot {
    /// Still downloading, verifying or indexing.
    #[default]
    Pending,
    /// Verified and indexed.
    Indexed(Arc<LayerIndex>),
    /// Failed: its files are unknown.
    Failed,
    /// Never fetched (foreign or encrypted): its files are unknown.
    NotFetched,
    /// Still streaming, its files listed from its TOC (verified against the TOC digest,
    /// not yet against the layer).
    Listed(Arc<LayerIndex>),
}

/// Each layer's slot before any worker reports: pending, or not fetched for good.
pub(crate) fn initial_slots(layers: &[crate::image_load::LayerRow]) -> Vec<LayerSlot> {
    layers
        .iter()
        .map(|l| {
            if l.fetched() {
                LayerSlot::Pending
            } else {
                LayerSlot::NotFetched
            }
        })
        .collect()
}

/// What the Files tab reads.
#[derive(Clone, Debug)]
pub(crate) struct MergedTreeState {
    /// Layers applied in order, with each path's origin.
    pub tree: Arc<MergedTree>,
    /// Layers that failed and were left out of the merge (their files are unknown).
    pub missing_layers: Vec<usize>,
    /// Layers not indexed yet, left out of this merge (the tree is partial).
    pub pending_layers: Vec<usize>,
    /// Foreign or encrypted layers, never fetched, applied as empty (their files are
    /// unknown).
    pub unfetched_layers: Vec<usize>,
    /// Layers still streaming whose files come from their TOC.
    pub toc_layers: Vec<usize>,
    /// Each layer's index (`None` for failed or pending layers): where a file's bytes are.
    pub indexes: Arc<Vec<Option<Arc<LayerIndex>>>>,
    /// Milliseconds the merge took on the page (shown to benchmarks as `data-merge-ms`).
    pub merge_ms: f64,
}

/// Settles layer `id`'s slot; whether it was pending or listed from its TOC (a layer
/// settles once).
pub(crate) fn settle(slots: &mut [LayerSlot], id: usize, to: LayerSlot) -> bool {
    match slots.get_mut(id) {
        Some(slot @ (LayerSlot::Pending | LayerSlot::Listed(_))) => {
            *slot = to;
            true
        }
        _ => false,
    }
}

/// Lists a pending layer's files from its TOC; whether it was still pending.
pub(crate) fn list_from_toc(slots: &mut [LayerSlot], id: usize, toc: Arc<LayerIndex>) -> bool {
    match slots.get_mut(id) {
        Some(slot @ LayerSlot::Pending) => {
            *slot = LayerSlot::Listed(toc);
            true
        }
        _ => false,
    }
}

/// Milliseconds on the page's clock (for the timings benchmarks read).
pub(crate) fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// Applies every indexed layer in order. A failed, pending or unfetched layer is applied as empty
/// and named, so the rest still shows; origins above it are then incomplete, and the
/// page says so.
pub(crate) fn merge(slots: &[LayerSlot], history_steps: &[Option<usize>]) -> MergedTreeState {
    let started = now_ms();
    let mut builder = TreeBuilder::new();
    let mut missing_layers = Vec::new();
    let mut pending_layers = Vec::new();
    let mut unfetched_layers = Vec::new();
    let mut toc_layers = Vec::new();
    let empty = LayerIndex::default();
    for (i, slot) in slots.iter().enumerate() {
        let step = history_steps.get(i).copied().flatten().map(|s| s as u32);
        match slot {
            LayerSlot::Indexed(index) => {
                builder.apply(index, step);
            }
            LayerSlot::Listed(toc) => {
                toc_layers.push(i);
                builder.apply(toc, step);
            }
            LayerSlot::Pending => {
                pending_layers.push(i);
                builder.apply(&empty, step);
            }
            LayerSlot::Failed => {
                missing_layers.push(i);
                builder.apply(&empty, None);
            }
            LayerSlot::NotFetched => {
                unfetched_layers.push(i);
                builder.apply(&empty, step);
            }
        }
    }
    let tree = Arc::new(builder.finish());
    let indexes = slots
        .iter()
        .map(|slot| match slot {
            LayerSlot::Indexed(index) => Some(index.clone()),
            _ => None,
        })
        .collect();
    MergedTreeState {
        tree,
        missing_layers,
        pending_layers,
        unfetched_layers,
        toc_layers,
        indexes: Arc::new(indexes),
        merge_ms: now_ms() - started,
    }
}
