//! The end of a blob's compressed side, in the order every engine keeps (the whole
//! pipeline and the split's first half): an error that stopped reading wins, then size and
//! digest, then a decompression error; only then is the decompressor handed back to flush.

use super::{Decompressor, LayerError};
use crate::digest::{Digest, DigestVerifier};

/// A compressed side that ended well: its digest and size, and the decompressor to flush.
pub(super) struct CompressedEnd {
    pub(super) digest: Digest,
    pub(super) size: u64,
    pub(super) decompressor: Decompressor,
}

/// Ends the compressed side; see the module docs for which failure wins.
pub(super) fn end_compressed(
    stopped: Option<LayerError>,
    verifier: DigestVerifier,
    failed: Option<LayerError>,
    decompressor: Option<Decompressor>,
) -> Result<CompressedEnd, LayerError> {
    if let Some(e) = stopped {
        return Err(e);
    }
    let size = verifier.bytes_seen();
    let digest = verifier.finish()?;
    if let Some(e) = failed {
        return Err(e);
    }
    let decompressor = decompressor.ok_or(LayerError::Misuse("finished"))?;
    Ok(CompressedEnd {
        digest,
        size,
        decompressor,
    })
}
