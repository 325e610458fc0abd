//! One layer split across two threads (the page runs them in two workers), so that two
//! cores work on a big layer:
//!
//! ```text
//! compressed chunks ─▶ CompressedHalf (size + digest, decompression) ─▶ decompressed bytes
//! decompressed bytes ─▶ TarHalf (diff_id, tar walk → LayerIndex)
//! ```
//!
//! Each half is sans-I/O like [`super::LayerPipeline`] and keeps its rule: a blob whose
//! digest is wrong reports that mismatch, the root cause, rather than the corruption it
//! caused downstream ([`join`] puts the compressed half's failure first).

use super::compressed_end::end_compressed;
use super::{
    Compression, Decompressor, DiffIdVerifier, LayerError, LayerIndex, Limits, Sink, TarWalker,
    VerifiedLayer,
};
use crate::digest::{Digest, DigestVerifier};

/// The first half: size and digest of the compressed blob, and decompression.
///
/// A decompression error stops inflating, but later chunks are still hashed: `finish`
/// reports a digest mismatch first, then the decompression error.
pub struct CompressedHalf {
    verifier: DigestVerifier,
    decompressor: Option<Decompressor>,
    /// The blob outgrew its descriptor's size: reading on is pointless.
    overflow: Option<LayerError>,
    /// Decompression failed: kept for `finish`, after the digest check.
    failed: Option<LayerError>,
}

/// What the compressed half checked.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CompressedDone {
    /// Digest of the compressed blob (checked).
    pub digest: Digest,
    /// Compressed size.
    pub compressed_size: u64,
    /// Decompressed bytes handed on.
    pub decompressed_size: u64,
}

impl CompressedHalf {
    /// A half for the blob of `digest`, `size` bytes when the descriptor says so.
    pub fn new(
        digest: Digest,
        size: Option<u64>,
        compression: Compression,
        limits: &Limits,
    ) -> Self {
        CompressedHalf {
            verifier: DigestVerifier::new(digest, size),
            decompressor: Some(Decompressor::new(compression, limits)),
            overflow: None,
            failed: None,
        }
    }

    /// Hashes a compressed chunk and sends what it inflates to `sink`. Fails only when
    /// the blob is longer than its descriptor says (stop reading then); a decompression
    /// error waits for [`CompressedHalf::finish`].
    pub fn push(&mut self, chunk: &[u8], sink: &mut Sink<'_>) -> Result<(), LayerError> {
        if let Some(e) = &self.overflow {
            return Err(e.clone());
        }
        if let Err(e) = self.verifier.update(chunk) {
            let e = LayerError::from(e);
            self.overflow = Some(e.clone());
            return Err(e);
        }
        if self.failed.is_some() {
            return Ok(());
        }
        let Some(dec) = self.decompressor.as_mut() else {
            return Err(LayerError::Misuse("finished"));
        };
        if let Err(e) = dec.push(chunk, sink) {
            self.failed = Some(e);
        }
        Ok(())
    }

    /// Compressed bytes hashed so far.
    pub fn compressed_in(&self) -> u64 {
        self.verifier.bytes_seen()
    }

    /// Decompressed bytes sent so far.
    pub fn decompressed_out(&self) -> u64 {
        self.decompressor
            .as_ref()
            .map_or(0, Decompressor::decompressed_out)
    }

    /// Ends the blob: size and digest first, then the decompression error if there was
    /// one, then the stream's end (the tail goes to `sink`).
    pub fn finish(self, sink: &mut Sink<'_>) -> Result<CompressedDone, LayerError> {
        let end = end_compressed(self.overflow, self.verifier, self.failed, self.decompressor)?;
        let (digest, compressed_size, dec) = (end.digest, end.size, end.decompressor);
        let mut decompressed_size = dec.decompressed_out();
        dec.finish(&mut |out: &[u8]| {
            decompressed_size += out.len() as u64;
            sink(out)
        })?;
        Ok(CompressedDone {
            digest,
            compressed_size,
            decompressed_size,
        })
    }
}

/// The second half: diff_id and tar walk over the decompressed stream, in order.
///
/// Failures come in [`super::LayerPipeline`]'s order: a tar error while walking stops
/// both stages and wins; at the end the diff_id is checked before the tar's end.
pub struct TarHalf {
    diff_id: DiffIdVerifier,
    walker: TarWalker,
    failed: Option<LayerError>,
}

/// What the tar half checked and built.
#[derive(Clone, Debug)]
pub struct TarDone {
    /// sha256 of the decompressed stream.
    pub diff_id: Digest,
    /// Whether it was checked against the config (false: there was none).
    pub diff_id_checked: bool,
    /// Decompressed size, trailing bytes included.
    pub decompressed_size: u64,
    /// The entries.
    pub index: LayerIndex,
}

impl TarHalf {
    /// A half for the config's diff_id (or none, to compute it only); fails at once
    /// when it is not sha256.
    pub fn new(diff_id: Option<Digest>, limits: Limits) -> Result<Self, LayerError> {
        Ok(TarHalf {
            diff_id: DiffIdVerifier::expecting(diff_id)?,
            walker: TarWalker::new(limits),
            failed: None,
        })
    }

    /// A half for a layer of `compression` whose blob is `digest`: an uncompressed layer
    /// whose diff_id is its blob digest is not hashed again here, since the compressed
    /// half checks the same bytes against the same digest, and its failure wins in
    /// [`join`] (see [`DiffIdVerifier::for_layer`]).
    pub fn for_layer(
        compression: super::Compression,
        digest: &Digest,
        diff_id: Option<Digest>,
        limits: Limits,
    ) -> Result<Self, LayerError> {
        Ok(TarHalf {
            diff_id: DiffIdVerifier::for_layer(compression, digest, diff_id)?,
            walker: TarWalker::new(limits),
            failed: None,
        })
    }

    /// Hashes and walks the next decompressed bytes; after an error, returns it again.
    pub fn push(&mut self, decompressed: &[u8]) -> Result<(), LayerError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        self.diff_id.push(decompressed);
        self.walker.push(decompressed).inspect_err(|e| {
            self.failed = Some(e.clone());
        })
    }

    /// Decompressed bytes seen so far.
    pub fn bytes_seen(&self) -> u64 {
        self.diff_id.bytes_seen()
    }

    /// Tar entries indexed so far.
    pub fn entries(&self) -> u64 {
        self.walker.entries()
    }

    /// Ends the stream: the walk's error, else the diff_id, then the tar's end.
    pub fn finish(self) -> Result<TarDone, LayerError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let decompressed_size = self.diff_id.bytes_seen();
        let diff_id = self.diff_id.finish_outcome()?;
        let index = self.walker.finish()?;
        Ok(TarDone {
            diff_id: diff_id.diff_id,
            diff_id_checked: diff_id.checked,
            decompressed_size,
            index,
        })
    }
}

/// One verified layer from its two halves; the compressed half's failure wins (a wrong
/// blob digest is the root cause of anything the tar half saw).
pub fn join<E>(
    compressed: Result<CompressedDone, E>,
    tar: Result<TarDone, E>,
) -> Result<VerifiedLayer, E> {
    let compressed = compressed?;
    let tar = tar?;
    Ok(VerifiedLayer {
        digest: compressed.digest,
        diff_id: tar.diff_id,
        diff_id_checked: tar.diff_id_checked,
        compressed_size: compressed.compressed_size,
        decompressed_size: tar.decompressed_size,
        index: tar.index,
    })
}
