//! The whole per-layer chain on one thread: verify, decompress, diff_id, tar walk.

use super::compressed_end::end_compressed;
use super::{Compression, Decompressor, DiffIdVerifier, LayerError, LayerIndex, Limits, TarWalker};
use crate::digest::{Digest, DigestVerifier};

/// What the manifest and config say about one layer.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LayerSpec {
    /// The descriptor's media type (picks the decompressor).
    pub media_type: String,
    /// The descriptor's digest of the compressed blob.
    pub digest: Digest,
    /// The descriptor's size of the compressed blob.
    pub size: Option<u64>,
    /// The config's `rootfs.diff_ids[i]`: sha256 of the decompressed tar. `None` when
    /// the image has none (schema1, a config that could not be fetched): the layer is
    /// then verified against its blob digest only, and its diff_id computed.
    pub diff_id: Option<Digest>,
}

/// How far a layer has come, for progress bars and MB/s.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Progress {
    /// Compressed bytes received.
    pub compressed_in: u64,
    /// Decompressed bytes produced.
    pub decompressed_out: u64,
    /// Tar entries indexed.
    pub entries: u64,
}

/// A layer whose compressed digest and diff_id both passed, with its index.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct VerifiedLayer {
    /// Digest of the compressed blob (checked).
    pub digest: Digest,
    /// sha256 of the decompressed stream.
    pub diff_id: Digest,
    /// Whether `diff_id` was checked against the config (false: there was none).
    pub diff_id_checked: bool,
    /// Compressed size.
    pub compressed_size: u64,
    /// Decompressed size, trailing bytes included.
    pub decompressed_size: u64,
    /// The entries.
    pub index: LayerIndex,
}

/// Runs all four stages of one layer on one thread: chunks in, a [`VerifiedLayer`] out.
///
/// The first error stops decompression and indexing (so a bomb costs nothing more), but
/// later chunks are still hashed: if the blob's digest turns out wrong, `finish` reports
/// that mismatch, the root cause, rather than the corruption it caused downstream.
pub struct LayerPipeline {
    compressed: DigestVerifier,
    compressed_error: Option<LayerError>,
    decompressor: Option<Decompressor>,
    diff_id: DiffIdVerifier,
    walker: TarWalker,
    failed: Option<LayerError>,
}

impl LayerPipeline {
    /// A pipeline for `spec`; fails at once for an unknown media type or a diff_id that
    /// is not sha256.
    pub fn new(spec: &LayerSpec, limits: Limits) -> Result<Self, LayerError> {
        let compression = Compression::from_media_type(&spec.media_type)?;
        Ok(LayerPipeline {
            compressed: DigestVerifier::new(spec.digest.clone(), spec.size),
            compressed_error: None,
            decompressor: Some(Decompressor::new(compression, &limits)),
            diff_id: DiffIdVerifier::for_layer(compression, &spec.digest, spec.diff_id.clone())?,
            walker: TarWalker::new(limits),
            failed: None,
        })
    }

    /// Feeds the next chunk of the compressed blob.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), LayerError> {
        if self.compressed_error.is_none()
            && let Err(e) = self.compressed.update(chunk)
        {
            self.compressed_error = Some(e.into());
        }
        if let Some(e) = &self.compressed_error {
            return Err(e.clone());
        }
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let Some(dec) = self.decompressor.as_mut() else {
            return Err(LayerError::Misuse("finished"));
        };
        let (diff_id, walker) = (&mut self.diff_id, &mut self.walker);
        let r = dec.push(chunk, &mut |out: &[u8]| {
            diff_id.push(out);
            walker.push(out)
        });
        if let Err(e) = &r {
            self.failed = Some(e.clone());
        }
        r
    }

    /// Bytes and entries so far.
    pub fn progress(&self) -> Progress {
        Progress {
            compressed_in: self.compressed.bytes_seen(),
            decompressed_out: self.diff_id.bytes_seen(),
            entries: self.walker.entries(),
        }
    }

    /// Ends the blob: checks size and digest, flushes decompression, checks the diff_id
    /// and the tar's end. The layer is verified only if all of that passes.
    pub fn finish(mut self) -> Result<VerifiedLayer, LayerError> {
        let end = end_compressed(
            self.compressed_error,
            self.compressed,
            self.failed.take(),
            self.decompressor.take(),
        )?;
        let (digest, compressed_size, dec) = (end.digest, end.size, end.decompressor);
        let (diff_id, walker) = (&mut self.diff_id, &mut self.walker);
        dec.finish(&mut |out: &[u8]| {
            diff_id.push(out);
            walker.push(out)
        })?;
        let decompressed_size = self.diff_id.bytes_seen();
        let diff_id = self.diff_id.finish_outcome()?;
        let index = self.walker.finish()?;
        Ok(VerifiedLayer {
            digest,
            diff_id: diff_id.diff_id,
            diff_id_checked: diff_id.checked,
            compressed_size,
            decompressed_size,
            index,
        })
    }
}
