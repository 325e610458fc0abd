//! Why a layer failed: one variant per problem, each message naming the input at fault.

use crate::digest::{Digest, VerifyError};

/// Why a layer could not be verified or indexed.
///
/// Messages name what failed (which digest was expected and which was found, which cap
/// was hit, which entry and offset), so the page can show the reason next to the layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayerError {
    /// The descriptor's media type is not a layer type Strata can open.
    #[error(
        "unsupported layer media type {0:?}: expected an OCI or Docker tar layer (uncompressed, +gzip or +zstd)"
    )]
    UnsupportedMediaType(String),

    /// The compressed blob failed its size or digest check against the descriptor.
    #[error("compressed layer blob: {0}")]
    Compressed(#[from] VerifyError),

    /// The decompressed stream does not hash to the config's `rootfs.diff_ids[i]`.
    #[error("diff_id mismatch: config says {expected}, decompressed layer hashes to {actual}")]
    DiffIdMismatch {
        /// The diff_id from the image config.
        expected: Digest,
        /// The sha256 of the decompressed bytes.
        actual: Digest,
    },

    /// A diff_id that is not sha256 (the OCI spec requires sha256 of the uncompressed tar).
    #[error("diff_id {0} is not a sha256 digest")]
    DiffIdAlgorithm(Digest),

    /// The gzip stream is corrupt (bad header, bad deflate data, bad CRC or length).
    #[error("gzip stream corrupt near compressed byte {offset}: {reason}")]
    Gzip {
        /// Compressed bytes consumed when the problem showed.
        offset: u64,
        /// What the decoder reported.
        reason: String,
    },

    /// The zstd stream is corrupt or uses a feature Strata does not accept.
    #[error("zstd stream corrupt near compressed byte {offset}: {reason}")]
    Zstd {
        /// Compressed bytes consumed when the problem showed.
        offset: u64,
        /// What went wrong.
        reason: String,
    },

    /// The compressed stream ended before its last member or frame was complete.
    #[error("{format} stream truncated after {offset} compressed bytes: {reason}")]
    CompressedTruncated {
        /// `gzip` or `zstd`.
        format: &'static str,
        /// Compressed bytes seen.
        offset: u64,
        /// What was missing.
        reason: String,
    },

    /// A zstd frame asks for a window larger than the cap (memory the decoder would need).
    #[error(
        "zstd frame at compressed byte {offset} needs a {window}-byte window, over the cap of {limit} bytes"
    )]
    ZstdWindowTooLarge {
        /// Compressed offset of the frame.
        offset: u64,
        /// Window size the frame declares.
        window: u64,
        /// [`crate::layer::Limits::max_zstd_window`].
        limit: u64,
    },

    /// Decompression produced more bytes than allowed (a decompression bomb).
    #[error(
        "decompressed output exceeds the cap of {limit} bytes (after {compressed} compressed bytes)"
    )]
    OutputTooLarge {
        /// [`crate::layer::Limits::max_decompressed_bytes`].
        limit: u64,
        /// Compressed bytes consumed when the cap was hit.
        compressed: u64,
    },

    /// More tar entries than allowed.
    #[error(
        "tar stream has more than {limit} entries (cap reached at decompressed offset {offset})"
    )]
    TooManyEntries {
        /// [`crate::layer::Limits::max_entries`].
        limit: u64,
        /// Offset of the header that went over.
        offset: u64,
    },

    /// A PAX or GNU long-name header declares a body larger than allowed.
    #[error(
        "{kind} header at offset {offset} declares a {size}-byte body, over the cap of {limit} bytes"
    )]
    HeaderTooLarge {
        /// `PAX`, `PAX global`, `GNU long name` or `GNU long link`.
        kind: &'static str,
        /// Offset of the header block.
        offset: u64,
        /// Declared body size.
        size: u64,
        /// [`crate::layer::Limits::max_header_bytes`].
        limit: u64,
    },

    /// Too many bytes after the end-of-archive block.
    #[error(
        "more than {limit} bytes follow the tar end-of-archive block at decompressed offset {end}"
    )]
    TrailingTooLarge {
        /// [`crate::layer::Limits::max_trailing_bytes`].
        limit: u64,
        /// Offset of the end-of-archive block.
        end: u64,
    },

    /// Paths, names and xattrs kept in the index went over the cap.
    #[error("layer index text exceeds the cap of {limit} bytes (at entry {path:?})")]
    IndexTooLarge {
        /// [`crate::layer::Limits::max_index_bytes`].
        limit: u64,
        /// The entry being added.
        path: String,
    },

    /// A 512-byte block that should be a tar header has a wrong checksum.
    #[error(
        "not a tar header at decompressed offset {offset}: checksum field {stored:?}, computed {computed}"
    )]
    BadHeaderChecksum {
        /// Offset of the block.
        offset: u64,
        /// The checksum field as written.
        stored: String,
        /// The checksum of the block.
        computed: u32,
    },

    /// A numeric header field could not be parsed.
    #[error("tar header at offset {offset} (entry {path:?}): bad {field}: {reason}")]
    BadHeaderField {
        /// Offset of the header block.
        offset: u64,
        /// Entry path, lossy.
        path: String,
        /// `size`, `mode`, `uid`, ...
        field: &'static str,
        /// Parser message.
        reason: String,
    },

    /// A PAX extended header is malformed.
    #[error("malformed PAX header at offset {offset}: {reason}")]
    BadPax {
        /// Offset of the PAX header block.
        offset: u64,
        /// What is wrong, with the offending record.
        reason: String,
    },

    /// A name field holds a NUL byte, which no file system path can contain.
    #[error("tar entry at offset {offset}: PAX {key} {value:?} contains a NUL byte")]
    NulInName {
        /// Offset of the PAX header block.
        offset: u64,
        /// `path`, `linkpath`, `uname` or `gname`.
        key: String,
        /// The value, lossy (the message shows the NUL as `\0`).
        value: String,
    },

    /// The tar stream ended inside a header or an entry's data.
    #[error("tar stream truncated at decompressed offset {offset}: {what}")]
    TarTruncated {
        /// Bytes of tar seen.
        offset: u64,
        /// What was cut off, naming the entry.
        what: String,
    },

    /// A stage was used after it failed or finished.
    #[error("layer stage used after it {0}")]
    Misuse(&'static str),
}
