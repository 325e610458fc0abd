//! The split pipeline's halves and the range reader, fed in seeded random chunks as
//! fetch delivers them: same results as the whole pipeline, and the same rule about
//! which failure wins (a digest mismatch beats the corruption it caused).

mod layer_support;

use layer_support::*;
use strata_shared::Digest;
use strata_shared::digest::VerifyError;
use strata_shared::layer::{
    CompressedDone, CompressedHalf, Compression, LayerError, Limits, RangeError, RangeReader,
    TarDone, TarHalf, VerifiedLayer, join,
};

const OCI_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const OCI_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
const OCI_TAR: &str = "application/vnd.oci.image.layer.v1.tar";

fn small_tar() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "etc/os-release", b"ID=strata\n");
    write(dir.path(), "usr/bin/tool", &noise(200_000, 7));
    write(
        dir.path(),
        "usr/share/doc/readme",
        &b"hello layer\n".repeat(3000),
    );
    gnu_tar(dir.path(), "gnu", &[])
}

/// The compressed half in random chunks; returns its result and the bytes it sent on.
fn front(
    blob: &[u8],
    digest: &Digest,
    c: Compression,
    seed: u64,
) -> (Result<CompressedDone, LayerError>, Vec<u8>) {
    let mut half = CompressedHalf::new(
        digest.clone(),
        Some(blob.len() as u64),
        c,
        &Limits::default(),
    );
    let mut out = Vec::new();
    let mut sink = |b: &[u8]| {
        out.extend_from_slice(b);
        Ok(())
    };
    if let Err(e) = feed(blob, seed, |chunk| half.push(chunk, &mut sink)) {
        return (Err(e), out);
    }
    let done = half.finish(&mut sink);
    (done, out)
}

/// The tar half in random chunks.
fn back(decompressed: &[u8], diff_id: &Digest, seed: u64) -> Result<TarDone, LayerError> {
    let mut half = TarHalf::new(Some(diff_id.clone()), Limits::default())?;
    // Errors are kept by the half; push everything, as the back worker does.
    let _ = feed(decompressed, seed, |chunk| half.push(chunk));
    half.finish()
}

fn split(
    blob: &[u8],
    digest: &Digest,
    c: Compression,
    diff_id: &Digest,
    seed: u64,
) -> Result<VerifiedLayer, LayerError> {
    let (compressed, out) = front(blob, digest, c, seed);
    join(compressed, back(&out, diff_id, seed ^ 0xff))
}

fn range(
    blob: &[u8],
    digest: &Digest,
    c: Compression,
    start: u64,
    want: u64,
    seed: u64,
) -> Result<Vec<u8>, RangeError> {
    let mut r = RangeReader::new(
        digest.clone(),
        Some(blob.len() as u64),
        c,
        start,
        want,
        &Limits::default(),
    );
    feed(blob, seed, |chunk| r.push(chunk))?;
    r.finish()
}

#[test]
fn halves_match_the_whole_pipeline_in_random_chunks() {
    let tar = small_tar();
    let diff_id = Digest::sha256_of(&tar);
    for (c, mt, blob) in [
        (Compression::Gzip, OCI_GZIP, gzip_two_members(&tar)),
        (Compression::Zstd, OCI_ZSTD, zstd_two_frames(&tar)),
        (Compression::None, OCI_TAR, tar.clone()),
    ] {
        let whole = pipeline(&blob, mt, &diff_id, Limits::default(), 1).unwrap();
        for seed in 0..12 {
            let layer = split(&blob, &Digest::sha256_of(&blob), c, &diff_id, seed)
                .unwrap_or_else(|e| panic!("{mt}, seed {seed}: {e}"));
            assert_eq!(layer.digest, whole.digest);
            assert_eq!(layer.diff_id, whole.diff_id);
            assert_eq!(layer.compressed_size, whole.compressed_size);
            assert_eq!(layer.decompressed_size, whole.decompressed_size);
            assert_eq!(
                layer.index.encode(),
                whole.index.encode(),
                "{mt}, seed {seed}"
            );
        }
    }
}

#[test]
fn digest_mismatch_beats_the_decompression_error_it_caused() {
    let tar = small_tar();
    let blob = gzip(&tar);
    let digest = Digest::sha256_of(&blob);
    let diff_id = Digest::sha256_of(&tar);
    for (seed, at) in [(1, 0), (2, 1), (3, blob.len() / 2), (4, blob.len() - 3)] {
        let mut bad = blob.clone();
        bad[at] ^= 0x55;
        let err = split(&bad, &digest, Compression::Gzip, &diff_id, seed).unwrap_err();
        assert!(
            matches!(err, LayerError::Compressed(VerifyError::Mismatch { .. })),
            "byte {at}: {err}"
        );
        // The same corruption under its own digest: now the gzip error is the cause.
        let own = Digest::sha256_of(&bad);
        let err = split(&bad, &own, Compression::Gzip, &diff_id, seed).unwrap_err();
        assert!(
            matches!(
                err,
                LayerError::Gzip { .. }
                    | LayerError::CompressedTruncated { .. }
                    | LayerError::DiffIdMismatch { .. }
            ),
            "byte {at}: {err}"
        );
    }
    // A broken gzip magic under its own digest: the gzip error, from the compressed half.
    let mut bad = blob.clone();
    bad[0] = b'X';
    let (compressed, _) = front(&bad, &Digest::sha256_of(&bad), Compression::Gzip, 9);
    assert!(
        matches!(compressed, Err(LayerError::Gzip { .. })),
        "{compressed:?}"
    );
}

#[test]
fn oversize_blob_stops_the_compressed_half_at_once() {
    let tar = small_tar();
    let blob = zstd(&tar);
    let mut half = CompressedHalf::new(
        Digest::sha256_of(&blob),
        Some(100),
        Compression::Zstd,
        &Limits::default(),
    );
    let err = half.push(&blob[..200], &mut |_| Ok(())).unwrap_err();
    assert_eq!(
        err,
        LayerError::Compressed(VerifyError::TooLong {
            expected: 100,
            actual: 200
        })
    );
    assert_eq!(half.push(&blob[200..300], &mut |_| Ok(())), Err(err));
}

#[test]
fn tar_half_keeps_the_pipelines_order_of_failures() {
    let tar = small_tar();
    let wrong = Digest::sha256_of(b"not the tar");
    // Cut short: the tar's end is checked after the diff_id, as in the whole pipeline.
    let cut = &tar[..tar.len() / 2];
    let err = back(cut, &Digest::sha256_of(cut), 3).unwrap_err();
    assert!(
        matches!(&err, LayerError::TarTruncated { what, .. } if what.contains("usr/bin/tool")),
        "{err}"
    );
    let err = back(cut, &wrong, 3).unwrap_err();
    assert!(matches!(err, LayerError::DiffIdMismatch { .. }), "{err}");
    // A broken header stops the walk at once; that error wins over the diff_id.
    let tool = walk(&tar, Limits::default(), 0)
        .unwrap()
        .find("usr/bin/tool")
        .unwrap()
        .header_offset();
    let mut bad = tar.clone();
    bad[tool as usize + 10] ^= 0x01;
    let err = back(&bad, &wrong, 5).unwrap_err();
    assert!(
        matches!(err, LayerError::BadHeaderChecksum { offset, .. } if offset == tool),
        "{err}"
    );
    let err = back(&tar, &wrong, 4).unwrap_err();
    assert_eq!(
        err,
        LayerError::DiffIdMismatch {
            expected: wrong,
            actual: Digest::sha256_of(&tar)
        }
    );
    let d512 = Digest::of(strata_shared::Algorithm::Sha512, &tar);
    assert!(matches!(
        TarHalf::new(Some(d512), Limits::default()).err(),
        Some(LayerError::DiffIdAlgorithm(_))
    ));
}

#[test]
fn join_puts_the_compressed_failure_first() {
    let tar = small_tar();
    let diff_id = Digest::sha256_of(&tar);
    let tar_done = back(&tar, &diff_id, 5);
    let compressed: Result<CompressedDone, LayerError> = Err(LayerError::Misuse("front"));
    let err = join(compressed, Err(LayerError::Misuse("back"))).unwrap_err();
    assert_eq!(err, LayerError::Misuse("front"));
    let ok = CompressedDone {
        digest: Digest::sha256_of(b"blob"),
        compressed_size: 4,
        decompressed_size: tar.len() as u64,
    };
    let err = join(Ok(ok.clone()), Err(LayerError::Misuse("back"))).unwrap_err();
    assert_eq!(err, LayerError::Misuse("back"));
    let layer = join::<LayerError>(Ok(ok), tar_done).unwrap();
    assert_eq!(layer.diff_id, diff_id);
}

#[test]
fn range_reads_file_bytes_in_random_chunks() {
    let tar = small_tar();
    let index = walk(&tar, Limits::default(), 0).unwrap();
    for (c, blob) in [
        (Compression::Gzip, gzip_two_members(&tar)),
        (Compression::Zstd, zstd(&tar)),
        (Compression::None, tar.clone()),
    ] {
        let digest = Digest::sha256_of(&blob);
        for (seed, path) in ["etc/os-release", "usr/bin/tool", "usr/share/doc/readme"]
            .into_iter()
            .enumerate()
        {
            let e = index.find(path).unwrap();
            let (start, len) = (e.data_offset(), e.size());
            let expected = &tar[start as usize..(start + len) as usize];
            let got = range(&blob, &digest, c, start, len, seed as u64).unwrap();
            assert_eq!(got, expected, "{c:?} {path}");
            let head = range(&blob, &digest, c, start, len.min(100), 40 + seed as u64).unwrap();
            assert_eq!(head, &expected[..head.len()], "{c:?} {path} head");
        }
        // Past the end of the stream: a typed error naming where the layer ends.
        let err = range(&blob, &digest, c, tar.len() as u64 - 10, 100, 7).unwrap_err();
        assert_eq!(
            err,
            RangeError::Short {
                end: tar.len() as u64,
                want: 100,
                start: tar.len() as u64 - 10
            }
        );
    }
}

#[test]
fn range_reports_the_digest_mismatch_before_the_decompression_error() {
    let tar = small_tar();
    let blob = gzip(&tar);
    let digest = Digest::sha256_of(&blob);
    for (seed, at) in [(1, 0), (2, 12), (3, blob.len() / 3)] {
        let mut bad = blob.clone();
        bad[at] ^= 0x55;
        let err = range(&bad, &digest, Compression::Gzip, 0, 1000, seed).unwrap_err();
        assert!(
            matches!(
                err,
                RangeError::Layer(LayerError::Compressed(VerifyError::Mismatch { .. }))
            ),
            "byte {at}: {err}"
        );
    }
    // Under its own digest, the broken magic is the gzip error it is.
    let mut bad = blob.clone();
    bad[0] = b'X';
    let err = range(&bad, &Digest::sha256_of(&bad), Compression::Gzip, 0, 10, 4).unwrap_err();
    assert!(
        matches!(err, RangeError::Layer(LayerError::Gzip { .. })),
        "{err}"
    );
    // More bytes than the descriptor says: an error as soon as it shows.
    let mut r = RangeReader::new(
        digest,
        Some(100),
        Compression::Gzip,
        0,
        10,
        &Limits::default(),
    );
    assert_eq!(
        r.push(&blob[..200]),
        Err(RangeError::Layer(LayerError::Compressed(
            VerifyError::TooLong {
                expected: 100,
                actual: 200
            }
        )))
    );
}

/// A plain tar whose diff_id is its blob digest (a `docker save` layer) is hashed once:
/// the tar half leans on the compressed half's check of the same bytes. It still verifies,
/// and a tampered byte is still caught, as the blob digest mismatch.
#[test]
fn an_uncompressed_layer_whose_diff_id_is_its_digest_is_hashed_once_and_still_checked() {
    let tar = small_tar();
    let digest = Digest::sha256_of(&tar);
    let back_for = |bytes: &[u8]| {
        let mut half = TarHalf::for_layer(
            Compression::None,
            &digest,
            Some(digest.clone()),
            Limits::default(),
        )
        .unwrap();
        let _ = feed(bytes, 5, |chunk| half.push(chunk));
        half.finish()
    };
    let (front_done, out) = front(&tar, &digest, Compression::None, 3);
    let layer = join(front_done, back_for(&out)).unwrap();
    assert_eq!(layer.diff_id, digest);
    assert!(layer.diff_id_checked);

    let mut tampered = tar.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 0x20;
    let (front_done, out) = front(&tampered, &digest, Compression::None, 3);
    let err = join(front_done, back_for(&out)).unwrap_err();
    assert!(
        matches!(err, LayerError::Compressed(VerifyError::Mismatch { .. })),
        "{err}"
    );
    // The whole pipeline takes the same shortcut, with the same outcome.
    let whole = |bytes: &[u8]| {
        let spec = strata_shared::layer::LayerSpec {
            media_type: OCI_TAR.to_owned(),
            digest: digest.clone(),
            size: Some(bytes.len() as u64),
            diff_id: Some(digest.clone()),
        };
        let mut p = strata_shared::layer::LayerPipeline::new(&spec, Limits::default())?;
        feed(bytes, 9, |c| p.push(c))?;
        p.finish()
    };
    let caught = whole(&tampered);
    assert!(
        matches!(
            caught,
            Err(LayerError::Compressed(VerifyError::Mismatch { .. }))
        ),
        "{caught:?}"
    );
    assert!(whole(&tar).unwrap().diff_id_checked);
}
