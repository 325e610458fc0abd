//! The layer engine's tests in a real browser: headless Chromium through
//! `wasm-bindgen-test-runner` (see scripts/test.sh and ../TOOLCHAIN.md).
//!
//! The CLI-made fixtures of the native tests cannot run in a browser, so layers are built
//! in the test with `tar::Builder` and flate2's `GzEncoder` (zlib-rs compresses on wasm32
//! too). zstd has no pure-Rust encoder in the tree and an opaque frame made elsewhere is
//! not a fixture anyone can read, so zstd stays covered by the native tests; gzip and
//! uncompressed layers are covered here. Every layer is fed in seeded random chunks.
//!
//! Run: `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//! CHROMEDRIVER=/usr/bin/chromedriver cargo test -p strata-shared --target
//! wasm32-unknown-unknown --test wasm_engine`.
#![cfg(target_arch = "wasm32")]

use std::io::Write as _;

use strata_shared::Digest;
use strata_shared::digest::VerifyError;
use strata_shared::layer::{
    EntryKind, LayerError, LayerIndex, LayerPipeline, LayerSpec, Limits, VerifiedLayer,
};
use strata_shared::tree::{ChangeKind, TreeBuilder};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const OCI_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const OCI_TAR: &str = "application/vnd.oci.image.layer.v1.tar";

/// xorshift64*: seeded chunk sizes, reproducible in any failure message.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// Bytes that do not compress away (so gzip members span many chunks).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed | 1);
    (0..len).map(|_| rng.below(256) as u8).collect()
}

enum E<'a> {
    Dir(&'a str),
    File(&'a str, &'a [u8]),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
}

fn tar_of(entries: &[E<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(1_704_067_200);
        h.set_uid(0);
        h.set_gid(0);
        let (path, data): (&str, &[u8]) = match e {
            E::Dir(p) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                (p, &[])
            }
            E::File(p, d) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                (p, d)
            }
            E::Symlink(p, t) | E::Hardlink(p, t) => {
                h.set_entry_type(if matches!(e, E::Symlink(..)) {
                    tar::EntryType::Symlink
                } else {
                    tar::EntryType::Link
                });
                h.set_mode(0o777);
                h.set_size(0);
                builder.append_link(&mut h, p, t).unwrap();
                continue;
            }
        };
        h.set_size(data.len() as u64);
        builder.append_data(&mut h, path, data).unwrap();
    }
    builder.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn spec(media_type: &str, blob: &[u8], tar: &[u8]) -> LayerSpec {
    LayerSpec {
        media_type: media_type.into(),
        digest: Digest::sha256_of(blob),
        size: Some(blob.len() as u64),
        diff_id: Some(Digest::sha256_of(tar)),
    }
}

/// Feeds `blob` in random chunks of 1 byte to 96 KiB; the first error stops the feed.
fn run(
    spec: &LayerSpec,
    blob: &[u8],
    limits: Limits,
    seed: u64,
) -> Result<VerifiedLayer, LayerError> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut p = LayerPipeline::new(spec, limits)?;
    let mut rest = blob;
    while !rest.is_empty() {
        let n = (1 + rng.below(96 << 10) as usize).min(rest.len());
        let (chunk, tail) = rest.split_at(n);
        p.push(chunk)?;
        rest = tail;
    }
    p.finish()
}

fn sample_layer() -> Vec<u8> {
    let long = format!("usr/share/{}/file.txt", "deep".repeat(40));
    let big = noise(300_000, 11);
    tar_of(&[
        E::Dir("etc"),
        E::File("etc/os-release", b"ID=strata\n"),
        E::Dir("usr"),
        E::Dir("usr/bin"),
        E::File("usr/bin/tool", &big),
        E::Symlink("usr/bin/alias", "tool"),
        E::Hardlink("usr/bin/same", "usr/bin/tool"),
        E::File(&long, b"long names use GNU headers"),
    ])
}

fn listing(index: &LayerIndex) -> Vec<(String, EntryKind, u64)> {
    index
        .iter()
        .map(|e| (e.path().to_owned(), e.kind(), e.size()))
        .collect()
}

#[wasm_bindgen_test]
fn gzip_layer_indexes_every_entry_with_data_offsets() {
    let tar = sample_layer();
    let blob = gzip(&tar);
    let layer = run(&spec(OCI_GZIP, &blob, &tar), &blob, Limits::default(), 1).unwrap();
    assert_eq!(layer.decompressed_size, tar.len() as u64);
    assert_eq!(layer.compressed_size, blob.len() as u64);
    let long = format!("usr/share/{}/file.txt", "deep".repeat(40));
    assert_eq!(
        listing(&layer.index),
        vec![
            ("etc".into(), EntryKind::Dir, 0),
            ("etc/os-release".into(), EntryKind::File, 10),
            ("usr".into(), EntryKind::Dir, 0),
            ("usr/bin".into(), EntryKind::Dir, 0),
            ("usr/bin/tool".into(), EntryKind::File, 300_000),
            ("usr/bin/alias".into(), EntryKind::Symlink, 0),
            ("usr/bin/same".into(), EntryKind::Hardlink, 0),
            (long, EntryKind::File, 26),
        ]
    );
    let alias = layer.index.find("usr/bin/alias").unwrap();
    assert_eq!(alias.link_target(), Some("tool"));
    // Offsets point at the file's bytes in the decompressed stream.
    let tool = layer.index.find("usr/bin/tool").unwrap();
    let at = tool.data_offset() as usize;
    assert_eq!(&tar[at..at + 300_000], &noise(300_000, 11)[..]);
}

#[wasm_bindgen_test]
fn uncompressed_layer_gives_the_same_index() {
    let tar = sample_layer();
    let blob = gzip(&tar);
    let gz = run(&spec(OCI_GZIP, &blob, &tar), &blob, Limits::default(), 2).unwrap();
    let plain = run(&spec(OCI_TAR, &tar, &tar), &tar, Limits::default(), 3).unwrap();
    assert_eq!(listing(&gz.index), listing(&plain.index));
    assert_eq!(gz.diff_id, plain.diff_id);
}

#[wasm_bindgen_test]
fn random_chunkings_agree() {
    let tar = sample_layer();
    let blob = gzip(&tar);
    let s = spec(OCI_GZIP, &blob, &tar);
    let first = listing(&run(&s, &blob, Limits::default(), 100).unwrap().index);
    for seed in 101..120 {
        let again = run(&s, &blob, Limits::default(), seed).unwrap();
        assert_eq!(listing(&again.index), first, "seed {seed}");
    }
}

#[wasm_bindgen_test]
fn whiteouts_and_opaque_dirs_merge_in_layer_order() {
    let l0 = tar_of(&[
        E::Dir("etc"),
        E::File("etc/a", &[1; 700]),
        E::File("etc/b", b"b"),
        E::Dir("opt"),
        E::File("opt/old", b"old"),
    ]);
    let l1 = tar_of(&[
        E::Dir("etc"),
        E::File("etc/.wh.a", b""),
        E::Dir("opt"),
        E::File("opt/new", b"new"),
        // The opaque marker after its siblings still hides only lower children.
        E::File("opt/.wh..wh..opq", b""),
    ]);
    let mut tree = TreeBuilder::new();
    for (i, tar) in [l0, l1].iter().enumerate() {
        let blob = gzip(tar);
        let layer = run(
            &spec(OCI_GZIP, &blob, tar),
            &blob,
            Limits::default(),
            i as u64,
        )
        .unwrap();
        tree.apply(&layer.index, Some(i as u32));
    }
    let tree = tree.finish();
    let present: Vec<&str> = tree.present().map(|(p, _)| p).collect();
    assert_eq!(present, ["etc", "etc/b", "opt", "opt/new"]);
    assert!(tree.get("etc/.wh.a").is_none(), "whiteouts are not files");
    let kinds: Vec<ChangeKind> = tree
        .get("etc/a")
        .unwrap()
        .changes
        .iter()
        .map(|c| c.kind)
        .collect();
    assert_eq!(kinds, [ChangeKind::Added, ChangeKind::Deleted]);
    assert!(!tree.get("opt/old").unwrap().present);
    assert_eq!(tree.layers()[0].wasted_bytes, 700 + 3);
}

#[wasm_bindgen_test]
fn digest_mismatch_is_reported_with_both_digests() {
    let tar = sample_layer();
    let blob = gzip(&tar);
    let mut s = spec(OCI_GZIP, &blob, &tar);
    s.digest = Digest::sha256_of(b"another blob");
    let err = run(&s, &blob, Limits::default(), 4).unwrap_err();
    match &err {
        LayerError::Compressed(VerifyError::Mismatch { expected, actual }) => {
            assert_eq!(expected, &s.digest);
            assert_eq!(actual, &Digest::sha256_of(&blob));
        }
        other => panic!("expected a digest mismatch, got {other:?}"),
    }
}

#[wasm_bindgen_test]
fn diff_id_mismatch_is_reported_with_both_digests() {
    let tar = sample_layer();
    let blob = gzip(&tar);
    let mut s = spec(OCI_GZIP, &blob, &tar);
    let wrong = Digest::sha256_of(b"another tar");
    s.diff_id = Some(wrong.clone());
    let err = run(&s, &blob, Limits::default(), 5).unwrap_err();
    match &err {
        LayerError::DiffIdMismatch { expected, actual } => {
            assert_eq!(expected, &wrong);
            assert_eq!(actual, &Digest::sha256_of(&tar));
        }
        other => panic!("expected a diff_id mismatch, got {other:?}"),
    }
    assert!(err.to_string().contains(&wrong.to_string()));
}

#[wasm_bindgen_test]
fn truncated_gzip_is_an_error_not_a_short_layer() {
    let tar = sample_layer();
    let blob = gzip(&tar);
    let cut = &blob[..blob.len() * 2 / 3];
    // The descriptor matches the cut blob: only decompression can notice.
    let s = LayerSpec {
        size: Some(cut.len() as u64),
        digest: Digest::sha256_of(cut),
        ..spec(OCI_GZIP, &blob, &tar)
    };
    for seed in 0..4 {
        let err = run(&s, cut, Limits::default(), seed).unwrap_err();
        assert!(
            matches!(
                err,
                LayerError::CompressedTruncated { .. } | LayerError::TarTruncated { .. }
            ),
            "seed {seed}: {err}"
        );
    }
}

#[wasm_bindgen_test]
fn entry_cap_turns_a_header_flood_into_an_error() {
    let names: Vec<String> = (0..3000).map(|i| format!("f/{i}")).collect();
    let entries: Vec<E<'_>> = names.iter().map(|n| E::File(n, b"")).collect();
    let tar = tar_of(&entries);
    let blob = gzip(&tar);
    let limits = Limits {
        max_entries: 1000,
        ..Limits::default()
    };
    let err = run(&spec(OCI_GZIP, &blob, &tar), &blob, limits, 6).unwrap_err();
    assert!(
        matches!(err, LayerError::TooManyEntries { .. }),
        "expected the entry cap, got {err}"
    );
}

#[wasm_bindgen_test]
fn inflate_bomb_stops_at_the_output_cap() {
    // 16 MiB of zeros gzip to ~16 KB; the cap is 4 MiB. (Zeros also read as a tar end
    // followed by padding: lift that cap so the output cap is the one that trips.)
    let zeros = vec![0u8; 16 << 20];
    let blob = gzip(&zeros);
    let limits = Limits {
        max_decompressed_bytes: 4 << 20,
        max_trailing_bytes: 64 << 20,
        ..Limits::default()
    };
    let err = run(&spec(OCI_GZIP, &blob, &zeros), &blob, limits, 7).unwrap_err();
    assert!(
        matches!(err, LayerError::OutputTooLarge { .. }),
        "expected the output cap, got {err}"
    );
}
