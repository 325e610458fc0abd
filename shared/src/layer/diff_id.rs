//! Stage 3: the diff_id check, sha256 over the whole decompressed stream.

use super::LayerError;
use crate::digest::{Algorithm, Digest, DigestVerifier};

/// Hashes every decompressed byte (trailing bytes after the tar end included, as
/// containerd does) and compares with the config's `rootfs.diff_ids[i]` at the end.
pub struct DiffIdVerifier {
    inner: DigestVerifier,
    expected: Digest,
}

impl DiffIdVerifier {
    /// A verifier for the diff_id from the image config; it must be sha256.
    pub fn new(expected: Digest) -> Result<Self, LayerError> {
        if expected.algorithm() != Algorithm::Sha256 {
            return Err(LayerError::DiffIdAlgorithm(expected));
        }
        Ok(DiffIdVerifier {
            inner: DigestVerifier::new(expected.clone(), None),
            expected,
        })
    }

    /// Hashes a chunk of the decompressed stream.
    pub fn push(&mut self, decompressed: &[u8]) {
        // No size is set, so the verifier cannot fail here.
        let _ = self.inner.update(decompressed);
    }

    /// Decompressed bytes hashed so far.
    pub fn bytes_seen(&self) -> u64 {
        self.inner.bytes_seen()
    }

    /// Checks the digest of everything pushed.
    pub fn finish(self) -> Result<Digest, LayerError> {
        self.inner.finish().map_err(|e| match e {
            crate::digest::VerifyError::Mismatch { actual, .. } => LayerError::DiffIdMismatch {
                expected: self.expected,
                actual,
            },
            other => LayerError::Compressed(other),
        })
    }
}
