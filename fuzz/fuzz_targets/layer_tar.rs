//! Feeds arbitrary bytes to the tar walker in chunks whose sizes come from the input, under
//! small caps. It must never panic, and memory stays bounded by the caps.
//! Run: `scripts/fuzz.sh 60 layer_tar` (stable toolchain).
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_shared::layer::{Limits, TarWalker};
use strata_shared::tree::TreeBuilder;

fuzz_target!(|data: &[u8]| {
    let Some((&seed, body)) = data.split_first() else {
        return;
    };
    let limits = Limits {
        max_header_bytes: 64 << 10,
        max_entries: 10_000,
        max_decompressed_bytes: 16 << 20,
        max_index_bytes: 1 << 20,
        max_zstd_window: 1 << 20,
        ..Limits::default()
    };
    let mut walker = TarWalker::new(limits);
    let chunk = usize::from(seed).max(1);
    for piece in body.chunks(chunk) {
        if walker.push(piece).is_err() {
            return;
        }
    }
    if let Ok(index) = walker.finish() {
        for e in index.iter() {
            let _ = (
                e.path(),
                e.link_target(),
                e.uname(),
                e.xattrs().count(),
                e.whiteout(),
            );
        }
        let mut tree = TreeBuilder::new();
        tree.apply(&index, None);
        tree.apply(&index, Some(1));
        let _ = tree.finish();
    }
});
