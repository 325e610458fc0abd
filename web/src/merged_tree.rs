//! The merged tree of the image on screen, built from the verified layers' indexes.
//!
//! It grows as layers settle (see [`crate::tree_merger`]), so the tree appears with the
//! first indexed layer; until the last one the page names the pending layers.

use std::sync::Arc;

use strata_shared::layer::LayerIndex;
use strata_shared::tree::{MergedTree, WastedPath, explore, wasted_files};

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
    /// The image's efficiency (see [`explore::efficiency`]), computed with the tree so
    /// that the Files tab's first render does not walk every path for it.
    pub efficiency: f64,
    /// The paths with wasted bytes, the most first (see [`wasted_files`]).
    pub wasted: Arc<Vec<WastedPath>>,
}

impl MergedTreeState {
    /// Whether every layer that settled is in the tree: none pending, none from its TOC.
    pub(crate) fn is_complete(&self) -> bool {
        self.pending_layers.is_empty() && self.toc_layers.is_empty()
    }
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

/// What the Files tab reads of `tree`, merged from `slots` in `merge_ms` of main-thread time.
pub(crate) fn state_of(tree: MergedTree, slots: &[LayerSlot], merge_ms: f64) -> MergedTreeState {
    let layers_where = |wanted: fn(&LayerSlot) -> bool| {
        slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| wanted(slot))
            .map(|(i, _)| i)
            .collect::<Vec<_>>()
    };
    let indexes = slots
        .iter()
        .map(|slot| match slot {
            LayerSlot::Indexed(index) => Some(index.clone()),
            _ => None,
        })
        .collect();
    MergedTreeState {
        efficiency: explore::efficiency(&tree),
        wasted: Arc::new(wasted_files(&tree)),
        tree: Arc::new(tree),
        missing_layers: layers_where(|s| matches!(s, LayerSlot::Failed)),
        pending_layers: layers_where(|s| matches!(s, LayerSlot::Pending)),
        unfetched_layers: layers_where(|s| matches!(s, LayerSlot::NotFetched)),
        toc_layers: layers_where(|s| matches!(s, LayerSlot::Listed(_))),
        indexes: Arc::new(indexes),
        merge_ms,
    }
}
