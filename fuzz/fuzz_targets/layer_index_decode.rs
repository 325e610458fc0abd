//! Decodes arbitrary bytes as a binary layer index (what a worker hands the page) and,
//! when they decode, merges the index as a layer: neither may panic or over-allocate.
//! Run: `scripts/fuzz.sh 60 layer_index_decode` (stable toolchain).
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_shared::layer::LayerIndex;
use strata_shared::tree::TreeBuilder;

fuzz_target!(|data: &[u8]| {
    if let Ok(index) = LayerIndex::decode(data) {
        for entry in index.iter() {
            let _ = (entry.path(), entry.link_target(), entry.xattrs().count());
        }
        let mut tree = TreeBuilder::new();
        tree.apply(&index, None);
        let _ = tree.finish();
    }
});
