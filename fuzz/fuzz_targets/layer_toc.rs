//! The lazy-pull TOC readers: eStargz's footer and TOC member, zstd:chunked's position
//! annotation and manifest, and the TOC JSON both share. The first byte picks the path;
//! digests are computed over the input where a real TOC would carry a matching one, so the
//! fuzzer reaches the decompressors and the JSON, not only the digest checks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_shared::layer::toc::{ByteRange, TocPlan, list_unverified};
use strata_shared::layer::Limits;
use strata_shared::manifest::Descriptor;
use strata_shared::Digest;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let limits = Limits {
        max_entries: 10_000,
        max_index_bytes: 1 << 20,
        ..Limits::default()
    };
    let all = ByteRange {
        start: 0,
        end: rest.len() as u64,
    };
    match mode % 4 {
        0 => {
            let plan = TocPlan::Estargz {
                blob_size: rest.len() as u64,
                toc_digest: Digest::sha256_of(b"unknown"),
            };
            let _ = plan.read(all, rest, &limits);
            let first = plan.first_range();
            assert!(first.end == rest.len() as u64 && first.start <= first.end);
        }
        1 => {
            let plan = TocPlan::ZstdChunked {
                range: all,
                uncompressed: (rest.len() as u64).saturating_mul(4),
                checksum: Digest::sha256_of(rest),
            };
            let _ = plan.read(all, rest, &limits);
        }
        2 => {
            if let Ok(index) = list_unverified(rest, &limits) {
                let plan = TocPlan::ZstdChunked {
                    range: all,
                    uncompressed: 0,
                    checksum: Digest::sha256_of(b""),
                };
                let check = plan.check(&index, &index);
                assert!(check.is_true(), "a TOC agrees with itself: {check:?}");
            }
        }
        _ => {
            let position = String::from_utf8_lossy(rest);
            let descriptor: Result<Descriptor, _> = serde_json::from_value(serde_json::json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar+zstd",
                "digest": Digest::sha256_of(b"blob").to_string(),
                "size": 4096,
                "annotations": {
                    "io.github.containers.zstd-chunked.manifest-checksum":
                        Digest::sha256_of(b"m").to_string(),
                    "io.github.containers.zstd-chunked.manifest-position": position,
                },
            }));
            if let Ok(descriptor) = descriptor {
                if let Some(Ok(plan)) = TocPlan::of(&descriptor) {
                    let range = plan.first_range();
                    assert!(range.end <= 4096 && !range.is_empty());
                }
            }
        }
    }
});
