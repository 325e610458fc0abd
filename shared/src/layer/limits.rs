//! Caps that turn hostile layers into errors instead of out-of-memory tabs.

/// Caps applied while a layer streams through the pipeline.
///
/// Defaults are generous for real images (the largest public layers have a few hundred
/// thousand files and a few GB of content) and small enough that a browser tab survives a
/// bomb. Every field is public so a caller (or a test) can tighten or loosen one.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Largest body of a PAX or GNU long-name/long-link header (they are buffered).
    pub max_header_bytes: u64,
    /// Most tar entries (files, dirs, links, whiteouts) one layer may hold.
    pub max_entries: u64,
    /// Most decompressed bytes one layer may produce (checked as they are produced).
    pub max_decompressed_bytes: u64,
    /// Most bytes of text (paths, link targets, names, xattrs) kept in one layer's index.
    pub max_index_bytes: u64,
    /// Largest zstd window accepted (the decoder holds one window in memory).
    pub max_zstd_window: u64,
    /// Most bytes accepted after the tar's end-of-archive block (they are hashed for the
    /// diff_id but hold nothing; a stream of zeros after the end is a bomb, not padding).
    pub max_trailing_bytes: u64,
}

impl Limits {
    /// 1 MiB: the largest PAX or long-name body; real ones are a few hundred bytes.
    pub const DEFAULT_MAX_HEADER_BYTES: u64 = 1 << 20;
    /// 500 000 entries: several times the largest real layers.
    pub const DEFAULT_MAX_ENTRIES: u64 = 500_000;
    /// 8 GiB of tar: above the largest common layers (CUDA, ML runtimes), and a bound on
    /// the time a bomb can burn (a 10 GB bomb stops here).
    pub const DEFAULT_MAX_DECOMPRESSED_BYTES: u64 = 8 << 30;
    /// 256 MiB of index text.
    pub const DEFAULT_MAX_INDEX_BYTES: u64 = 256 << 20;
    /// 128 MiB: the zstd CLI's own default decoding limit (`--memory=128MB`).
    pub const DEFAULT_MAX_ZSTD_WINDOW: u64 = 128 << 20;
    /// 1 MiB after the end marker: GNU tar pads to 10 KiB records, Go's writer to 1 KiB.
    pub const DEFAULT_MAX_TRAILING_BYTES: u64 = 1 << 20;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header_bytes: Self::DEFAULT_MAX_HEADER_BYTES,
            max_entries: Self::DEFAULT_MAX_ENTRIES,
            max_decompressed_bytes: Self::DEFAULT_MAX_DECOMPRESSED_BYTES,
            max_index_bytes: Self::DEFAULT_MAX_INDEX_BYTES,
            max_zstd_window: Self::DEFAULT_MAX_ZSTD_WINDOW,
            max_trailing_bytes: Self::DEFAULT_MAX_TRAILING_BYTES,
        }
    }
}
