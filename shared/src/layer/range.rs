//! A byte range of a layer's decompressed stream (a file's contents), read from the
//! compressed blob as it streams.
//!
//! Honest by construction: the whole blob is hashed before any byte is returned, so the
//! bytes come from a blob whose compressed digest passed. Decompression is deterministic,
//! so they are the bytes the layer pipeline verified (diff_id included). Inflating stops
//! as soon as the range is out; only hashing continues to the end.

use super::{Compression, Decompressor, LayerError, Limits};
use crate::digest::{Digest, DigestVerifier};

/// Why a range could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// The blob failed its size or digest check, or does not decompress.
    #[error(transparent)]
    Layer(#[from] LayerError),
    /// The decompressed stream ends before the range does.
    #[error(
        "the layer ends at decompressed byte {end} before the file's {want} bytes at offset {start}"
    )]
    Short {
        /// Decompressed bytes in the layer.
        end: u64,
        /// Bytes wanted.
        want: u64,
        /// Offset of the range.
        start: u64,
    },
}

/// `want` bytes from `start` of a layer's decompressed stream, from pushed compressed
/// chunks. A decompression error waits for [`RangeReader::finish`], which reports a
/// digest mismatch first.
pub struct RangeReader {
    verifier: DigestVerifier,
    decompressor: Option<Decompressor>,
    failed: Option<LayerError>,
    start: u64,
    want: u64,
    position: u64,
    out: Vec<u8>,
}

impl RangeReader {
    /// A reader of `[start, start + want)` from the blob of `digest` (`size` bytes).
    pub fn new(
        digest: Digest,
        size: Option<u64>,
        compression: Compression,
        start: u64,
        want: u64,
        limits: &Limits,
    ) -> Self {
        RangeReader {
            verifier: DigestVerifier::new(digest, size),
            decompressor: Some(Decompressor::new(compression, limits)),
            failed: None,
            start,
            want,
            position: 0,
            out: Vec::new(),
        }
    }

    /// Feeds the next compressed chunk. Fails only when the blob is longer than its
    /// descriptor says (stop reading then).
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), RangeError> {
        self.verifier.update(chunk).map_err(LayerError::from)?;
        let (start, want) = (self.start, self.want);
        let (position, out) = (&mut self.position, &mut self.out);
        if let Some(decompressor) = &mut self.decompressor {
            let pushed = decompressor.push(chunk, &mut |bytes: &[u8]| {
                take_range(bytes, position, start, want, out);
                Ok(())
            });
            if let Err(e) = pushed {
                self.failed = Some(e);
                self.decompressor = None;
            } else if self.out.len() as u64 >= self.want {
                // The range is out: stop inflating; hashing goes on to the end.
                self.decompressor = None;
            }
        }
        Ok(())
    }

    /// Checks the blob's size and digest, then returns the range.
    pub fn finish(mut self) -> Result<Vec<u8>, RangeError> {
        self.verifier.finish().map_err(LayerError::from)?;
        if let Some(e) = self.failed {
            return Err(e.into());
        }
        if let Some(decompressor) = self.decompressor.take() {
            let (start, want) = (self.start, self.want);
            let (position, out) = (&mut self.position, &mut self.out);
            decompressor.finish(&mut |bytes: &[u8]| {
                take_range(bytes, position, start, want, out);
                Ok(())
            })?;
        }
        if (self.out.len() as u64) < self.want {
            return Err(RangeError::Short {
                end: self.position,
                want: self.want,
                start: self.start,
            });
        }
        Ok(self.out)
    }
}

/// Appends the part of `bytes` (at `position` of the stream) inside `[start, start+want)`.
fn take_range(bytes: &[u8], position: &mut u64, start: u64, want: u64, out: &mut Vec<u8>) {
    let here = *position;
    *position += bytes.len() as u64;
    let end = start.saturating_add(want);
    if *position <= start || here >= end {
        return;
    }
    let from = start.saturating_sub(here) as usize;
    let to = (end.min(*position) - here) as usize;
    out.extend_from_slice(&bytes[from..to]);
}

#[cfg(test)]
mod tests {
    use super::take_range;

    #[test]
    fn range_spans_pieces() {
        let stream: Vec<u8> = (0..100u8).collect();
        for piece in [1, 3, 7, 64, 100] {
            let (mut position, mut out) = (0, Vec::new());
            for bytes in stream.chunks(piece) {
                take_range(bytes, &mut position, 10, 25, &mut out);
            }
            assert_eq!(out, &stream[10..35], "pieces of {piece}");
        }
    }
}
