//! Image config JSON: parsing never panics, and the history lines up with any layer count.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use strata_shared::attestation::provenance_labels;
use strata_shared::manifest::{layer_history, ImageConfig};

fuzz_target!(|data: &[u8]| {
    let Ok(config) = ImageConfig::parse(data) else {
        return;
    };
    let layers = config.rootfs.diff_ids.len();
    for count in [0, layers, layers + 3] {
        let map = layer_history(&config.history, count);
        assert_eq!(map.len(), count, "one history slot per layer");
        for step in map.into_iter().flatten() {
            assert!(step < config.history.len(), "history index in range");
        }
    }
    let labels = config
        .config
        .as_ref()
        .and_then(|c| c.labels.clone())
        .unwrap_or_default();
    let _ = provenance_labels(&labels, &BTreeMap::new());
    let _ = provenance_labels(&BTreeMap::new(), &labels);
});
