//! A lazily pullable layer's table of contents — eStargz's `stargz.index.json`, or
//! zstd:chunked's manifest — read with a `Range` request before the layer has streamed.
//!
//! The TOC is checked against the digest its descriptor names (the verified manifest pins
//! that), so it is the TOC the image's author published. What it lists is still only a
//! claim about the tar: the page labels it "from the TOC; verifying" until the layer
//! itself verifies, and [`TocPlan::check`] then compares the two.

mod check;
mod entries;
mod estargz;
mod zstd_chunked;

pub use check::TocCheck;

use super::{LayerError, LayerIndex, Limits};
use crate::digest::{Digest, DigestError};
use crate::manifest::{Descriptor, LayerFormat};

/// zstd:chunked: where the compressed manifest lies, `OFFSET:LENGTH:UNCOMPRESSED:TYPE`.
pub const ZSTD_CHUNKED_MANIFEST_POSITION: &str =
    "io.github.containers.zstd-chunked.manifest-position";
/// The same, as older containers/storage releases wrote it.
pub const ZSTD_CHUNKED_MANIFEST_POSITION_LEGACY: &str =
    "io.containers.zstd-chunked.manifest-position";

/// The most bytes of TOC read, compressed or not: a TOC of 500 000 entries is about
/// 100 MiB of JSON, far above real layers (a Debian rootfs's is about 2 MiB).
pub const MAX_TOC_BYTES: u64 = 64 << 20;

/// How much of an eStargz blob's end is asked for first: the footer, and the TOC of any
/// layer up to several thousand files, in one request.
pub const ESTARGZ_TAIL_BYTES: u64 = 512 << 10;

/// Why a TOC could not be used. The layer itself is unaffected: it streams and verifies
/// as any other.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TocError {
    /// The annotation that names the TOC's digest is not a digest.
    #[error("the TOC digest {value:?} is not a digest: {source}")]
    BadDigest {
        /// The annotation's value.
        value: String,
        /// Why.
        source: DigestError,
    },
    /// zstd:chunked without the annotation that says where its manifest is.
    #[error("the layer has no {ZSTD_CHUNKED_MANIFEST_POSITION} annotation")]
    NoPosition,
    /// The position annotation is not `OFFSET:LENGTH:UNCOMPRESSED:1`.
    #[error("manifest-position {0:?} is not OFFSET:LENGTH:UNCOMPRESSED:1")]
    BadPosition(String),
    /// The TOC would be larger than [`MAX_TOC_BYTES`].
    #[error("the TOC would be {bytes} bytes; at most {max} are read")]
    TooLarge {
        /// Its size.
        bytes: u64,
        /// The cap.
        max: u64,
    },
    /// The TOC's range does not lie inside the blob.
    #[error("the TOC at bytes {start}..{end} lies outside the {size}-byte blob")]
    OutOfBlob {
        /// Start of the range.
        start: u64,
        /// End (exclusive).
        end: u64,
        /// The blob's size.
        size: u64,
    },
    /// The source answered with other bytes than the range asked for.
    #[error("asked for {want} bytes of the blob, got {got}")]
    WrongLength {
        /// Bytes asked for.
        want: u64,
        /// Bytes received.
        got: u64,
    },
    /// The blob does not end with an eStargz (or stargz) footer.
    #[error("the blob does not end with an eStargz footer")]
    NoFooter,
    /// The footer names an offset outside the blob.
    #[error("the eStargz footer names TOC offset {offset} in a {size}-byte blob")]
    BadOffset {
        /// The offset read.
        offset: u64,
        /// The blob's size.
        size: u64,
    },
    /// The TOC is not the one the manifest names.
    #[error("the TOC's digest is {actual}, but the manifest names {expected}")]
    DigestMismatch {
        /// What the annotation says.
        expected: Digest,
        /// What the bytes hash to.
        actual: Digest,
    },
    /// The TOC's bytes do not decompress.
    #[error("the TOC does not decompress: {0}")]
    Decompress(LayerError),
    /// eStargz's TOC member holds something else than `stargz.index.json`.
    #[error("the TOC member holds {0:?}, not stargz.index.json")]
    NotToc(String),
    /// zstd:chunked's manifest decompresses to another length than its position says.
    #[error("the manifest decompresses to {got} bytes; its position says {want}")]
    LengthMismatch {
        /// The length in the annotation.
        want: u64,
        /// The length decompressed.
        got: u64,
    },
    /// The TOC is not the JSON both formats write.
    #[error("the TOC is not valid JSON: {0}")]
    Json(String),
    /// An entry's type is none of the formats' types.
    #[error("the TOC entry {name:?} has unknown type {kind:?}")]
    UnknownType {
        /// The entry's name.
        name: String,
        /// Its type.
        kind: String,
    },
    /// More entries than a layer may hold.
    #[error("the TOC lists more than {0} entries")]
    TooManyEntries(u64),
    /// The index of the listed entries is over its text cap.
    #[error(transparent)]
    Index(LayerError),
}

/// A byte range of a blob, end exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

impl ByteRange {
    /// Its length in bytes.
    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// Whether it holds no byte.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The HTTP `Range` header value.
    pub fn header(&self) -> String {
        format!("bytes={}-{}", self.start, self.end.saturating_sub(1))
    }
}

/// What to do after reading a range.
#[derive(Debug)]
pub enum TocStep {
    /// The TOC, verified against its digest, as an index of the entries it lists (their
    /// offsets are zero: contents are read from the verified layer, never by the TOC).
    Listed(LayerIndex),
    /// The TOC starts before the range that was read: read this one.
    Fetch(ByteRange),
}

/// How to read one layer's TOC: where it is and which digest pins it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TocPlan {
    /// eStargz: the footer at the blob's end names the TOC's offset.
    Estargz {
        /// The blob's size (from the descriptor).
        blob_size: u64,
        /// The digest of `stargz.index.json`.
        toc_digest: Digest,
    },
    /// zstd:chunked: the position annotation names the compressed manifest's bytes.
    ZstdChunked {
        /// The manifest's bytes in the blob.
        range: ByteRange,
        /// Its length decompressed.
        uncompressed: u64,
        /// The digest of the compressed bytes.
        checksum: Digest,
    },
}

impl TocPlan {
    /// The plan for a layer with a TOC; `None` for every other layer.
    pub fn of(descriptor: &Descriptor) -> Option<Result<TocPlan, TocError>> {
        match LayerFormat::of(descriptor) {
            LayerFormat::Estargz { toc_digest } => Some(parse_digest(&toc_digest).map(
                |toc_digest| TocPlan::Estargz {
                    blob_size: descriptor.size,
                    toc_digest,
                },
            )),
            LayerFormat::ZstdChunked { manifest_checksum } => Some(
                parse_digest(&manifest_checksum)
                    .and_then(|checksum| zstd_chunked::plan(descriptor, checksum)),
            ),
            _ => None,
        }
    }

    /// The first range to read.
    pub fn first_range(&self) -> ByteRange {
        match self {
            TocPlan::Estargz { blob_size, .. } => ByteRange {
                start: blob_size.saturating_sub(ESTARGZ_TAIL_BYTES),
                end: *blob_size,
            },
            TocPlan::ZstdChunked { range, .. } => *range,
        }
    }

    /// Reads the TOC from `bytes`, the blob's `range`.
    pub fn read(
        &self,
        range: ByteRange,
        bytes: &[u8],
        limits: &Limits,
    ) -> Result<TocStep, TocError> {
        if bytes.len() as u64 != range.len() {
            return Err(TocError::WrongLength {
                want: range.len(),
                got: bytes.len() as u64,
            });
        }
        match self {
            TocPlan::Estargz {
                blob_size,
                toc_digest,
            } => estargz::read(*blob_size, toc_digest, range, bytes, limits),
            TocPlan::ZstdChunked {
                uncompressed,
                checksum,
                ..
            } => zstd_chunked::read(*uncompressed, checksum, bytes, limits).map(TocStep::Listed),
        }
    }

    /// Compares what the TOC listed with what the verified layer holds. eStargz's TOC is
    /// itself a tar entry, `stargz.index.json`, which it does not list.
    pub fn check(&self, toc: &LayerIndex, layer: &LayerIndex) -> TocCheck {
        let own_entry = match self {
            TocPlan::Estargz { .. } => Some(estargz::TOC_NAME),
            TocPlan::ZstdChunked { .. } => None,
        };
        check::compare(toc, layer, own_entry)
    }
}

/// The entries a TOC's JSON lists, without any digest check: for tests and fuzzing. The
/// page only lists a TOC through [`TocPlan::read`], which checks its digest first.
pub fn list_unverified(json: &[u8], limits: &Limits) -> Result<LayerIndex, TocError> {
    entries::index_of(json, limits)
}

fn parse_digest(value: &str) -> Result<Digest, TocError> {
    Digest::parse(value).map_err(|source| TocError::BadDigest {
        value: value.to_owned(),
        source,
    })
}

/// Decompresses at most [`MAX_TOC_BYTES`] of `compressed`.
fn decompress(
    compression: super::Compression,
    compressed: &[u8],
    limits: &Limits,
) -> Result<Vec<u8>, TocError> {
    let capped = Limits {
        max_decompressed_bytes: MAX_TOC_BYTES + 64 * 1024,
        ..limits.clone()
    };
    let mut decompressor = super::Decompressor::new(compression, &capped);
    let mut out = Vec::new();
    decompressor
        .push_to_vec(compressed, &mut out)
        .map_err(TocError::Decompress)?;
    decompressor
        .finish(&mut |b: &[u8]| {
            out.extend_from_slice(b);
            Ok(())
        })
        .map_err(TocError::Decompress)?;
    Ok(out)
}

/// Whether `digest` names `bytes`, in the digest's own algorithm.
fn verify(expected: &Digest, bytes: &[u8]) -> Result<(), TocError> {
    let actual = Digest::of(expected.algorithm(), bytes);
    if &actual == expected {
        Ok(())
    } else {
        Err(TocError::DigestMismatch {
            expected: expected.clone(),
            actual,
        })
    }
}
