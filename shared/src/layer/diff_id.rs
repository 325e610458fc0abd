//! Stage 3: the diff_id check, sha256 over the whole decompressed stream.

use super::LayerError;
use crate::digest::{Algorithm, Digest, Hasher};

/// Hashes every decompressed byte (trailing bytes after the tar end included, as
/// containerd does) and compares with the config's `rootfs.diff_ids[i]` at the end; or,
/// for an image with no diff_ids (schema1, a config that could not be fetched), only
/// computes it, so the layer is still indexed and its diff_id shown as unchecked.
pub struct DiffIdVerifier {
    /// `None` when the blob's own digest check covers these very bytes.
    hasher: Option<Hasher>,
    bytes: u64,
    expected: Option<Digest>,
}

/// The diff_id at the end of the stream, and whether it was checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffIdOutcome {
    /// sha256 of the decompressed stream.
    pub diff_id: Digest,
    /// Whether it equals the config's diff_id (false: there was none to compare with).
    pub checked: bool,
}

impl DiffIdVerifier {
    /// A verifier for the diff_id from the image config; it must be sha256.
    pub fn new(expected: Digest) -> Result<Self, LayerError> {
        Self::expecting(Some(expected))
    }

    /// A verifier when the config gives `expected`, else one that only computes it.
    pub fn expecting(expected: Option<Digest>) -> Result<Self, LayerError> {
        if let Some(expected) = &expected
            && expected.algorithm() != Algorithm::Sha256
        {
            return Err(LayerError::DiffIdAlgorithm(expected.clone()));
        }
        Ok(DiffIdVerifier {
            hasher: Some(Hasher::new(Algorithm::Sha256)),
            bytes: 0,
            expected,
        })
    }

    /// The verifier for a layer of `compression` whose blob is `digest`: an uncompressed
    /// layer whose diff_id is its blob digest (`docker save` layers, Docker 25+ exports)
    /// streams the same bytes into both checks, so the blob's digest check, which runs
    /// first and fails the layer on its own, settles the diff_id too, and they are hashed
    /// once instead of twice.
    pub fn for_layer(
        compression: super::Compression,
        digest: &Digest,
        expected: Option<Digest>,
    ) -> Result<Self, LayerError> {
        let mut verifier = Self::expecting(expected)?;
        if compression == super::Compression::None && verifier.expected.as_ref() == Some(digest) {
            verifier.hasher = None;
        }
        Ok(verifier)
    }

    /// Hashes a chunk of the decompressed stream.
    pub fn push(&mut self, decompressed: &[u8]) {
        if let Some(hasher) = &mut self.hasher {
            hasher.update(decompressed);
        }
        self.bytes += decompressed.len() as u64;
    }

    /// Decompressed bytes hashed so far.
    pub fn bytes_seen(&self) -> u64 {
        self.bytes
    }

    /// Checks the digest of everything pushed.
    pub fn finish(self) -> Result<Digest, LayerError> {
        self.finish_outcome().map(|o| o.diff_id)
    }

    /// The digest of everything pushed, checked when there is a diff_id to check.
    pub fn finish_outcome(self) -> Result<DiffIdOutcome, LayerError> {
        let Some(hasher) = self.hasher else {
            // Settled by the blob digest check over the same bytes (see `for_layer`).
            let diff_id = self.expected.ok_or(LayerError::Misuse("no diff_id"))?;
            return Ok(DiffIdOutcome {
                diff_id,
                checked: true,
            });
        };
        let actual = hasher.finish();
        match self.expected {
            Some(expected) if expected != actual => {
                Err(LayerError::DiffIdMismatch { expected, actual })
            }
            Some(_) => Ok(DiffIdOutcome {
                diff_id: actual,
                checked: true,
            }),
            None => Ok(DiffIdOutcome {
                diff_id: actual,
                checked: false,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_when_given_and_computes_when_not() {
        let right = Digest::sha256_of(b"tar bytes");
        let mut v = DiffIdVerifier::new(right.clone()).unwrap();
        v.push(b"tar ");
        v.push(b"bytes");
        assert_eq!(v.bytes_seen(), 9);
        assert_eq!(
            v.finish_outcome().unwrap(),
            DiffIdOutcome {
                diff_id: right.clone(),
                checked: true
            }
        );
        let mut v = DiffIdVerifier::new(Digest::sha256_of(b"other")).unwrap();
        v.push(b"tar bytes");
        assert!(
            matches!(v.finish(), Err(LayerError::DiffIdMismatch { actual, .. }) if actual == right)
        );
        let mut v = DiffIdVerifier::expecting(None).unwrap();
        v.push(b"tar bytes");
        assert_eq!(
            v.finish_outcome().unwrap(),
            DiffIdOutcome {
                diff_id: right,
                checked: false
            }
        );
    }
}
