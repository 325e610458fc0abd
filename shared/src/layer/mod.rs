//! The layer pipeline: verify, decompress and index one layer blob, sans-I/O.
//!
//! Bytes arrive in chunks of any size, in order, as they come from the network. Each
//! stage is its own push struct (`push(&[u8])`, `finish()`), so a page can run all of
//! them on one thread through [`LayerPipeline`], or split one layer across workers:
//!
//! ```text
//! compressed chunks ─┬─▶ DigestVerifier (size + sha256/sha512 of the blob)   stage 1
//!                    └─▶ Decompressor (gzip multi-member, zstd, none) ──┐     stage 2
//!      decompressed chunks ◀───────────────────────────────────────────┘
//!                    ┌─▶ DiffIdVerifier (sha256 of the whole tar stream)     stage 3
//!                    └─▶ TarWalker (headers → LayerIndex)                    stage 4
//! ```
//!
//! A layer is verified only when both the compressed digest and the diff_id pass.
//! [`crate::tree`] then merges indexed layers in order. Caps in [`Limits`]
//! turn decompression bombs and header floods into [`LayerError`]s.

mod compressed_end;
mod compression;
mod decompress;
mod diff_id;
mod elf;
mod entry;
mod error;
mod index;
mod index_codec;
mod limits;
mod path;
mod pipeline;
mod range;
mod split;
mod tar;
pub mod toc;
mod whiteout;

pub use compression::Compression;
pub use decompress::{Decompressor, Sink};
pub use diff_id::{DiffIdOutcome, DiffIdVerifier};
#[cfg(test)]
pub(crate) use elf::test_head;
pub use elf::{ELF_HEAD_BYTES, ET_DYN, ET_EXEC, ElfClass, ElfInfo};
pub use entry::{Entry, EntryFlags, EntryKind};
pub use error::LayerError;
pub use index::LayerIndex;
pub use index_codec::{INDEX_CODEC_VERSION, IndexCodecError};
pub use limits::Limits;
pub use path::{display_path, normalize_path};
pub use pipeline::{LayerPipeline, LayerSpec, Progress, VerifiedLayer};
pub use range::{RangeError, RangeReader};
pub use split::{CompressedDone, CompressedHalf, TarDone, TarHalf, join};
pub use tar::TarWalker;
pub use whiteout::{OPAQUE_MARKER, WHITEOUT_PREFIX, Whiteout};
