//! Hostile layers: each must end in a clear error (or a flagged entry), in bounded time
//! and memory, whatever the chunking.

mod layer_support;

use std::time::{Duration, Instant};

use layer_support::*;
use strata_shared::Digest;
use strata_shared::digest::VerifyError;
use strata_shared::layer::{
    Compression, EntryFlags, LayerError, LayerPipeline, LayerSpec, Limits, TarWalker,
};
use strata_shared::tree::TreeBuilder;

const OCI_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const OCI_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";

fn small_tar() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "etc/os-release", b"ID=strata\n");
    write(dir.path(), "usr/bin/tool", &noise(200_000, 7));
    gnu_tar(dir.path(), "gnu", &[])
}

/// A raw ustar header block with a valid checksum.
fn header(name: &[u8], flag: u8, size: u64) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name);
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    if size < 1 << 33 {
        h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    } else {
        // GNU base-256 for sizes over 8 GiB.
        h[124] = 0x80;
        h[128..136].copy_from_slice(&size.to_be_bytes());
    }
    h[136..148].copy_from_slice(b"14530000000\0");
    h[156] = flag;
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

fn pad(mut v: Vec<u8>) -> Vec<u8> {
    let n = (512 - v.len() % 512) % 512;
    v.extend(std::iter::repeat_n(0u8, n));
    v
}

fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let body = key.len() + value.len() + 3;
    let mut len = body + 1;
    while len != body + len.to_string().len() {
        len = body + len.to_string().len();
    }
    let mut r = format!("{len} {key}=").into_bytes();
    r.extend_from_slice(value);
    r.push(b'\n');
    r
}

#[test]
fn truncated_gzip_is_an_error_at_every_cut() {
    let tar = small_tar();
    let blob = gzip(&tar);
    for (seed, cut) in [
        10,
        100,
        blob.len() / 2,
        blob.len() - 9,
        blob.len() - 4,
        blob.len() - 1,
    ]
    .into_iter()
    .enumerate()
    {
        let err = decompress(
            &blob[..cut],
            Compression::Gzip,
            &Limits::default(),
            seed as u64,
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                LayerError::CompressedTruncated { .. } | LayerError::Gzip { .. }
            ),
            "cut at {cut}: {err}"
        );
        // Through the pipeline (the digest is of the cut blob, so it passes): same error.
        let err = pipeline(
            &blob[..cut],
            OCI_GZIP,
            &Digest::sha256_of(&tar),
            Limits::default(),
            1,
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                LayerError::CompressedTruncated { .. } | LayerError::Gzip { .. }
            ),
            "cut at {cut}: {err}"
        );
    }
}

#[test]
fn gzip_bad_crc_is_an_error() {
    let tar = small_tar();
    let mut blob = gzip(&tar);
    let n = blob.len();
    blob[n - 8] ^= 0xff; // CRC32 in the trailer
    let err = decompress(&blob, Compression::Gzip, &Limits::default(), 2).unwrap_err();
    assert!(
        matches!(&err, LayerError::Gzip { reason, .. } if reason.contains("checksum")),
        "{err}"
    );
    // A bad CRC in the first of two members shows when the second begins.
    let mut two = blob.clone();
    two.extend(gzip(b"more"));
    let err = decompress(&two, Compression::Gzip, &Limits::default(), 3).unwrap_err();
    assert!(matches!(err, LayerError::Gzip { .. }), "{err}");
    // A flipped bit in the deflate data.
    let mut body = gzip(&tar);
    body[n / 2] ^= 0x10;
    let err = decompress(&body, Compression::Gzip, &Limits::default(), 4).unwrap_err();
    assert!(matches!(err, LayerError::Gzip { .. }), "{err}");
}

#[test]
fn zstd_frame_garbage_is_an_error() {
    let tar = small_tar();
    let blob = zstd(&tar);
    // Garbage after a valid frame.
    let mut after = blob.clone();
    after.extend_from_slice(b"GARBAGE!GARBAGE!");
    let err = decompress(&after, Compression::Zstd, &Limits::default(), 5).unwrap_err();
    assert!(
        matches!(&err, LayerError::Zstd { reason, .. } if reason.contains("magic")),
        "{err}"
    );
    // Truncated.
    let err = decompress(
        &blob[..blob.len() - 10],
        Compression::Zstd,
        &Limits::default(),
        6,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            LayerError::CompressedTruncated { .. } | LayerError::Zstd { .. }
        ),
        "{err}"
    );
    // Pure noise, and corruption at many places inside the frame: errors, never panics.
    let err = decompress(&noise(4096, 9), Compression::Zstd, &Limits::default(), 7).unwrap_err();
    assert!(matches!(err, LayerError::Zstd { .. }), "{err}");
    let mut rng = Rng::new(77);
    for i in 0..40 {
        let mut bad = blob.clone();
        for _ in 0..3 {
            let at = 6 + rng.below(bad.len() as u64 - 6) as usize;
            bad[at] ^= 1 << rng.below(8);
        }
        // The frame checksum catches what the block decoder does not.
        let err = decompress(&bad, Compression::Zstd, &Limits::default(), i).unwrap_err();
        assert!(
            matches!(
                err,
                LayerError::Zstd { .. } | LayerError::CompressedTruncated { .. }
            ),
            "corruption {i}: {err}"
        );
    }
}

#[test]
fn zstd_window_over_the_cap_is_refused() {
    let data = noise(3 << 20, 3);
    let blob = pipe(
        "zstd",
        &["-q", "-c", "--long=22", "--no-content-size"],
        &data,
    );
    let limits = Limits {
        max_zstd_window: 1 << 20,
        ..Limits::default()
    };
    let err = decompress(&blob, Compression::Zstd, &limits, 8).unwrap_err();
    assert!(
        matches!(err, LayerError::ZstdWindowTooLarge { limit: 1048576, .. }),
        "{err}"
    );
}

#[test]
fn pax_header_of_100_mb_is_refused_without_allocating() {
    for (flag, kind) in [
        (b'x', "PAX"),
        (b'g', "PAX global"),
        (b'L', "GNU long name"),
        (b'K', "GNU long link"),
    ] {
        let mut tar = header(b"././@PaxHeader", flag, 100 << 20).to_vec();
        tar.extend(std::iter::repeat_n(b'A', 4096));
        let started = Instant::now();
        let err = walk(&tar, Limits::default(), 10).unwrap_err();
        assert_eq!(
            err,
            LayerError::HeaderTooLarge {
                kind,
                offset: 0,
                size: 100 << 20,
                limit: 1 << 20
            },
            "{err}"
        );
        assert!(err.to_string().contains("104857600-byte body"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}

/// One gzip member of 1 MiB of zeros is about 1 KB; repeated, it is a valid
/// multi-member stream that would inflate to 10 GB.
fn bomb_member() -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(&vec![0u8; 1 << 20]).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_bomb_of_10_gb_stops_at_the_output_cap() {
    let member = bomb_member();
    assert!(member.len() < 1200, "member is {} bytes", member.len());
    let members = 10 * 1024; // 10 GiB of output in total
    // A real tar header of a 10 GB file first, so the trailing-bytes cap cannot be what
    // stops it: only the output cap can.
    let mut head = header(b"big.img", b'0', 10 << 30).to_vec();
    head.extend(std::iter::repeat_n(0u8, (1 << 20) - 512));
    let first = {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(&head).unwrap();
        e.finish().unwrap()
    };
    let limits = Limits {
        max_decompressed_bytes: 64 << 20,
        ..Limits::default()
    };
    let spec = LayerSpec {
        media_type: OCI_GZIP.into(),
        digest: Digest::sha256_of(b"not known in advance"),
        size: None,
        diff_id: Some(Digest::sha256_of(b"")),
    };
    let mut p = LayerPipeline::new(&spec, limits).unwrap();
    let started = Instant::now();
    let mut err = p.push(&first).err();
    let mut pushed = 1;
    while err.is_none() && pushed < members {
        err = feed(&member, pushed as u64, |c| p.push(c)).err();
        pushed += 1;
    }
    let err = err.expect("the cap must stop the bomb");
    assert!(
        matches!(err, LayerError::OutputTooLarge { limit, .. } if limit == 64 << 20),
        "{err}"
    );
    assert!(pushed <= 70, "stopped after {pushed} members");
    assert!(p.progress().decompressed_out <= 64 << 20);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn zeros_after_the_end_marker_stop_at_the_trailing_cap() {
    // The same bomb with default caps: all zeros is an empty tar followed by zeros.
    let member = bomb_member();
    let spec = LayerSpec {
        media_type: OCI_GZIP.into(),
        digest: Digest::sha256_of(b"?"),
        size: None,
        diff_id: Some(Digest::sha256_of(b"")),
    };
    let mut p = LayerPipeline::new(&spec, Limits::default()).unwrap();
    let mut err = None;
    for i in 0..10 * 1024 {
        err = feed(&member, i, |c| p.push(c)).err();
        if err.is_some() {
            break;
        }
    }
    let err = err.expect("trailing cap");
    assert!(
        matches!(err, LayerError::TrailingTooLarge { end: 0, .. }),
        "{err}"
    );
    assert!(p.progress().decompressed_out <= 3 << 20);
}

#[test]
fn a_million_empty_entries_hit_the_entry_cap() {
    assert!(Limits::default().max_entries < 1_000_000);
    let block = header(b"empty", b'0', 0);
    let limits = Limits {
        max_entries: 20_000,
        ..Limits::default()
    };
    let mut w = TarWalker::new(limits);
    let started = Instant::now();
    let mut err = None;
    let mut chunk = Vec::new();
    for _ in 0..1_000_000 / 64 {
        chunk.clear();
        for _ in 0..64 {
            chunk.extend_from_slice(&block);
        }
        if let Err(e) = feed(&chunk, 1, |c| w.push(c)) {
            err = Some(e);
            break;
        }
    }
    let err = err.expect("entry cap");
    assert_eq!(
        err,
        LayerError::TooManyEntries {
            limit: 20_000,
            offset: 20_000 * 512
        }
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn escaping_and_absolute_paths_are_kept_and_flagged() {
    let mut tar = Vec::new();
    tar.extend(header(b"../../etc/passwd", b'0', 0));
    tar.extend(header(b"/etc/shadow", b'0', 0));
    tar.extend(header(b"ok/../../x", b'0', 0));
    tar.extend(header(b"caf\xe9", b'0', 0));
    tar.extend([0u8; 1024]);
    let blob = gzip(&tar);
    let layer = pipeline(
        &blob,
        OCI_GZIP,
        &Digest::sha256_of(&tar),
        Limits::default(),
        12,
    )
    .unwrap();
    let idx = &layer.index;
    let e: Vec<(&str, EntryFlags)> = idx.iter().map(|e| (e.path(), e.flags())).collect();
    assert_eq!(
        e,
        [
            ("../../etc/passwd", EntryFlags::ESCAPES_ROOT),
            ("etc/shadow", EntryFlags::ABSOLUTE),
            ("../x", EntryFlags::ESCAPES_ROOT),
            ("caf\u{fffd}", EntryFlags::NON_UTF8),
        ]
    );
    assert_eq!(
        strata_shared::layer::display_path(idx.get(3).unwrap().path()),
        "caf\\u{fffd}"
    );
    let mut tree = TreeBuilder::new();
    tree.apply(idx, None);
    let tree = tree.finish();
    assert!(
        tree.get("etc/passwd").is_none(),
        "an escaping entry must not land on /etc/passwd"
    );
    assert!(
        tree.get("../../etc/passwd")
            .unwrap()
            .flags
            .contains(EntryFlags::ESCAPES_ROOT)
    );
}

#[test]
fn nul_bytes_in_names() {
    // In a PAX path: no file system can hold it; Go's archive/tar rejects it too.
    let body = pax_record("path", b"etc/pass\0wd");
    let mut tar = header(b"././@PaxHeader", b'x', body.len() as u64).to_vec();
    tar.extend(pad(body));
    tar.extend(header(b"placeholder", b'0', 0));
    tar.extend([0u8; 1024]);
    let err = walk(&tar, Limits::default(), 13).unwrap_err();
    assert!(
        matches!(&err, LayerError::NulInName { key, offset: 0, .. } if key == "path"),
        "{err}"
    );
    assert!(err.to_string().contains(r#""etc/pass\0wd""#), "{err}");

    // In a GNU long name the name ends at the first NUL, as GNU tar reads it.
    let name = b"a-long-name\0hidden-part".to_vec();
    let mut tar = header(b"././@LongLink", b'L', name.len() as u64).to_vec();
    tar.extend(pad(name));
    tar.extend(header(b"short", b'0', 0));
    tar.extend([0u8; 1024]);
    let idx = walk(&tar, Limits::default(), 14).unwrap();
    assert_eq!(idx.get(0).unwrap().path(), "a-long-name");
}

#[test]
fn digest_mismatch_names_both_digests() {
    let tar = small_tar();
    let blob = gzip(&tar);
    let wrong = Digest::sha256_of(b"something else");
    let spec = LayerSpec {
        media_type: OCI_GZIP.into(),
        digest: wrong.clone(),
        size: Some(blob.len() as u64),
        diff_id: Some(Digest::sha256_of(&tar)),
    };
    let mut p = LayerPipeline::new(&spec, Limits::default()).unwrap();
    feed(&blob, 15, |c| p.push(c)).unwrap();
    let err = p.finish().unwrap_err();
    let actual = Digest::sha256_of(&blob);
    assert_eq!(
        err,
        LayerError::Compressed(VerifyError::Mismatch {
            expected: wrong.clone(),
            actual: actual.clone()
        })
    );
    let msg = err.to_string();
    assert!(
        msg.contains(&wrong.to_string()) && msg.contains(&actual.to_string()),
        "{msg}"
    );

    // Too many bytes: an error as soon as the size is exceeded.
    let spec = LayerSpec {
        size: Some(100),
        digest: actual.clone(),
        ..spec
    };
    let mut p = LayerPipeline::new(&spec, Limits::default()).unwrap();
    let err = p.push(&blob[..200]).unwrap_err();
    assert!(
        matches!(
            err,
            LayerError::Compressed(VerifyError::TooLong {
                expected: 100,
                actual: 200
            })
        ),
        "{err}"
    );

    // sha512 descriptors are checked with sha512.
    let d512 = Digest::of(strata_shared::Algorithm::Sha512, &blob);
    let spec = LayerSpec {
        size: Some(blob.len() as u64),
        digest: d512.clone(),
        ..spec
    };
    let mut p = LayerPipeline::new(&spec, Limits::default()).unwrap();
    feed(&blob, 16, |c| p.push(c)).unwrap();
    assert_eq!(p.finish().unwrap().digest, d512);
}

#[test]
fn corrupted_bytes_report_the_digest_mismatch_as_the_cause() {
    let tar = small_tar();
    let blob = gzip(&tar);
    let mut bad = blob.clone();
    bad[blob.len() / 2] ^= 0x55;
    let spec = LayerSpec {
        media_type: OCI_GZIP.into(),
        digest: Digest::sha256_of(&blob),
        size: Some(blob.len() as u64),
        diff_id: Some(Digest::sha256_of(&tar)),
    };
    let mut p = LayerPipeline::new(&spec, Limits::default()).unwrap();
    for c in bad.chunks(999) {
        let _ = p.push(c);
    }
    let err = p.finish().unwrap_err();
    assert!(
        matches!(err, LayerError::Compressed(VerifyError::Mismatch { .. })),
        "{err}"
    );

    // A broken gzip magic fails the first push; the digest mismatch still wins at the end.
    let mut bad = blob.clone();
    bad[0] = b'X';
    let mut p = LayerPipeline::new(&spec, Limits::default()).unwrap();
    let first = p.push(&bad[..100]).unwrap_err();
    assert!(matches!(first, LayerError::Gzip { .. }), "{first}");
    for c in bad[100..].chunks(999) {
        assert_eq!(p.push(c).unwrap_err(), first);
    }
    let err = p.finish().unwrap_err();
    assert!(
        matches!(err, LayerError::Compressed(VerifyError::Mismatch { .. })),
        "{err}"
    );
}

#[test]
fn diff_id_mismatch_names_both_digests() {
    let tar = small_tar();
    let blob = zstd(&tar);
    let wrong = Digest::sha256_of(b"not the tar");
    let err = pipeline(&blob, OCI_ZSTD, &wrong, Limits::default(), 17).unwrap_err();
    let actual = Digest::sha256_of(&tar);
    assert_eq!(
        err,
        LayerError::DiffIdMismatch {
            expected: wrong.clone(),
            actual: actual.clone()
        }
    );
    assert!(err.to_string().contains(&actual.to_string()));
    // A sha512 diff_id is refused up front.
    let d512 = Digest::of(strata_shared::Algorithm::Sha512, &tar);
    let err = pipeline(&blob, OCI_ZSTD, &d512, Limits::default(), 18).unwrap_err();
    assert!(matches!(err, LayerError::DiffIdAlgorithm(_)), "{err}");
}

#[test]
fn unknown_media_type_is_refused_up_front() {
    let spec = LayerSpec {
        media_type: "application/vnd.oci.image.layer.v1.tar+bzip2".into(),
        digest: Digest::sha256_of(b""),
        size: None,
        diff_id: Some(Digest::sha256_of(b"")),
    };
    let err = LayerPipeline::new(&spec, Limits::default()).err().unwrap();
    assert!(err.to_string().contains("tar+bzip2"), "{err}");
}

#[test]
fn truncated_tar_names_the_entry() {
    let tar = small_tar();
    let cut = tar.len() / 2;
    let err = walk(&tar[..cut], Limits::default(), 19).unwrap_err();
    assert!(
        matches!(&err, LayerError::TarTruncated { what, .. } if what.contains("usr/bin/tool")),
        "{err}"
    );
    let index = walk(&tar, Limits::default(), 20).unwrap();
    let tool = index.find("usr/bin/tool").unwrap();
    let mut bad = tar.clone();
    bad[tool.data_offset() as usize + 10] ^= 0xff; // file data: not the walker's business
    walk(&bad, Limits::default(), 20).unwrap();
    let header_at = tool.header_offset();
    let mut bad = tar.clone();
    bad[header_at as usize + 10] ^= 0x01;
    let err = walk(&bad, Limits::default(), 21).unwrap_err();
    assert!(
        matches!(err, LayerError::BadHeaderChecksum { offset, .. } if offset == header_at),
        "{err}"
    );
    assert!(
        err.to_string().contains(&format!("offset {header_at}")),
        "{err}"
    );
}

#[test]
fn random_garbage_never_panics() {
    // A small in-test fuzz (nightly cargo-fuzz is not available everywhere): noise and
    // mutated real tars through the walker, the gzip and the zstd paths.
    let tar = small_tar();
    let gz = gzip(&tar);
    let zs = zstd(&tar);
    let limits = Limits {
        max_decompressed_bytes: 8 << 20,
        max_header_bytes: 64 << 10,
        max_entries: 1000,
        ..Limits::default()
    };
    // Each run ends (no hang) well within the budget, and every failure is one of the
    // engine's typed errors naming a real problem, never a misuse of a stage.
    let started = Instant::now();
    let typed = |what: &str, r: Result<(), LayerError>| {
        if let Err(e) = r {
            assert!(!matches!(e, LayerError::Misuse(_)), "{what}: {e}");
            assert!(!e.to_string().is_empty(), "{what}: empty message");
        }
    };
    let mut rng = Rng::new(2024);
    for i in 0..150u64 {
        let mut t = tar.clone();
        for _ in 0..1 + rng.below(8) {
            let at = rng.below(t.len() as u64) as usize;
            t[at] = rng.next() as u8;
        }
        typed("mutated tar", walk(&t, limits.clone(), i).map(drop));
        let noisy = noise(1 + rng.below(3000) as usize, i);
        // Noise is never a tar: its first block has no valid header checksum.
        let err = walk(&noisy, limits.clone(), i).unwrap_err();
        assert!(
            matches!(
                err,
                LayerError::BadHeaderChecksum { .. } | LayerError::TarTruncated { .. }
            ),
            "noise {i}: {err}"
        );
        for (c, blob) in [(Compression::Gzip, &gz), (Compression::Zstd, &zs)] {
            let mut b = blob.clone();
            let at = rng.below(b.len() as u64) as usize;
            b[at] = rng.next() as u8;
            typed("mutated blob", decompress(&b, c, &limits, i).map(drop));
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "150 rounds took {:?}",
        started.elapsed()
    );
}
