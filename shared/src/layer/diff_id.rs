//! Stage 3: the diff_id check, sha256 over the whole decompressed stream.

use super::LayerError;
use crate::digest::{Algorithm, Digest, Hasher};

/// Hashes every decompressed byte (trailing bytes after the tar end included, as
/// containerd does) and compares with the config's `rootfs.diff_ids[i]` at the end; or,
/// for an image with no diff_ids (schema1, a config that could not be fetched), only
/// computes it, so the layer is still indexed and its diff_id shown as unchecked.
pub struct DiffIdVerifier {
    hasher: Hasher,
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
            hasher: Hasher::new(Algorithm::Sha256),
            bytes: 0,
            expected,
        })
    }

    /// Hashes a chunk of the decompressed stream.
    pub fn push(&mut self, decompressed: &[u8]) {
        self.hasher.update(decompressed);
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
        let actual = self.hasher.finish();
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
