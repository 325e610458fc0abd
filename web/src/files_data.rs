//! The merged tree of the image on screen, built from the verified layers' indexes.

use std::sync::Arc;

use strata_shared::layer::{LayerIndex, MergedTree, TreeBuilder};

/// What the Files tab reads.
#[derive(Clone, Debug)]
pub struct FilesData {
    /// Layers applied in order, with provenance.
    pub tree: Arc<MergedTree>,
    /// Layers that failed and were left out of the merge (their files are unknown).
    pub missing_layers: Vec<usize>,
    /// Each layer's index (`None` for failed layers): where a file's bytes are.
    pub indexes: Arc<Vec<Option<LayerIndex>>>,
    /// Milliseconds the merge took on the page (shown to benchmarks as `data-merge-ms`).
    pub merge_ms: f64,
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// Applies every verified layer in order. A failed layer is skipped and named, so the
/// rest still shows; provenance below it is then incomplete, and the page says so.
pub fn merge(indexes: Vec<Option<LayerIndex>>, history_steps: &[Option<usize>]) -> FilesData {
    let started = now_ms();
    let mut builder = TreeBuilder::new();
    let mut missing_layers = Vec::new();
    for (i, index) in indexes.iter().enumerate() {
        match index {
            Some(index) => {
                let step = history_steps.get(i).copied().flatten().map(|s| s as u32);
                builder.apply(index, step);
            }
            None => {
                missing_layers.push(i);
                builder.apply(&LayerIndex::default(), None);
            }
        }
    }
    let tree = Arc::new(builder.finish());
    FilesData {
        tree,
        missing_layers,
        indexes: Arc::new(indexes),
        merge_ms: now_ms() - started,
    }
}
