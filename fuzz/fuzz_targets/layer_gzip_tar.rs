//! Feeds arbitrary bytes as a gzip layer through the whole pipeline (digest, gunzip,
//! diff_id, tar walk) under small caps. Must never panic or grow past the caps.
//! Run: `scripts/fuzz.sh 60 layer_gzip_tar` (stable toolchain).
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_shared::layer::{LayerPipeline, LayerSpec, Limits};
use strata_shared::Digest;

fuzz_target!(|data: &[u8]| {
    let Some((&seed, body)) = data.split_first() else {
        return;
    };
    let spec = LayerSpec {
        media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
        digest: Digest::sha256_of(body),
        size: Some(body.len() as u64),
        diff_id: Some(Digest::sha256_of(b"")),
    };
    let limits = Limits {
        max_header_bytes: 64 << 10,
        max_entries: 10_000,
        max_decompressed_bytes: 16 << 20,
        max_index_bytes: 1 << 20,
        max_zstd_window: 1 << 20,
        ..Limits::default()
    };
    let Ok(mut p) = LayerPipeline::new(&spec, limits) else {
        return;
    };
    for piece in body.chunks(usize::from(seed).max(1)) {
        if p.push(piece).is_err() {
            return;
        }
    }
    let _ = p.finish();
});
