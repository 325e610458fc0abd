//! Stage 4: a push-driven tar walker that turns the decompressed stream into a
//! [`LayerIndex`](super::LayerIndex).
//!
//! It decodes 512-byte header blocks with `tar::Header` and keeps only what an index
//! needs: data is skipped (a CRC-32, an XXH3-64 and the ELF header are taken on the way), PAX and GNU long-name bodies
//! are buffered up to [`Limits::max_header_bytes`](super::Limits::max_header_bytes). tar's own pull-based `Archive` buffers
//! such bodies without bound, so it never sees untrusted bytes here.
//!
//! PAX records are split by their length prefix (not at newlines, which a path may
//! contain), following POSIX `pax` "extended header" records: `"%d %s=%s\n"`.
//!
//! [`walker`] holds the state machine, [`header`] the header block fields, [`pax`]
//! the extended header records and [`content`] what a file's data tells.

mod content;
mod header;
mod pax;
mod walker;

pub(crate) use content::ContentFacts;
pub use walker::TarWalker;
