//! Builds small tars from fuzz input (names, kinds, whiteouts) with tar's Builder and
//! merges them as layers: the merge must never panic, whatever the paths.
//! Run: `scripts/fuzz.sh 60 layer_merge` (stable toolchain).
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_shared::layer::{Limits, TarWalker};
use strata_shared::tree::TreeBuilder;

fuzz_target!(|data: &[u8]| {
    let mut tree = TreeBuilder::new();
    // Each layer: a run of records "kind byte, name bytes up to ';'", separated by '|'.
    for layer in data.split(|&b| b == b'|').take(8) {
        let mut tar = Vec::new();
        for rec in layer.split(|&b| b == b';').take(64) {
            let Some((&k, name)) = rec.split_first() else {
                continue;
            };
            if name.is_empty() || name.len() > 90 || name.contains(&0) {
                continue;
            }
            let mut h = [0u8; 512];
            h[..name.len()].copy_from_slice(name);
            h[100..107].copy_from_slice(b"0000644");
            h[124..135].copy_from_slice(b"00000000000");
            h[156] = [b'0', b'5', b'2', b'1'][usize::from(k % 4)];
            if k % 4 >= 2 {
                h[157] = b'a';
            }
            h[257..263].copy_from_slice(b"ustar\0");
            h[263..265].copy_from_slice(b"00");
            h[148..156].copy_from_slice(b"        ");
            let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
            h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
            tar.extend_from_slice(&h);
        }
        tar.extend_from_slice(&[0u8; 1024]);
        let mut w = TarWalker::new(Limits::default());
        if w.push(&tar).is_err() {
            return;
        }
        let Ok(index) = w.finish() else { return };
        tree.apply(&index, None);
    }
    let merged = tree.finish();
    let _ = merged.present().count();
    let _ = merged.children("").count();
});
