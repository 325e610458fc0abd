//! A compact binary form of [`LayerIndex`], for handing a layer's index from a Web Worker
//! to the page as one transferable buffer: a 100k-entry index decodes in milliseconds,
//! where JSON took seconds on the page's main thread.
//!
//! Layout (little-endian): magic `SIDX` and version 2 (2 added each entry's content
//! hash and ELF header); `tar_bytes` u64; `end_of_archive`
//! as a flag byte and u64; the text table (u32 length, UTF-8); the entries (u32 count,
//! fixed-size records); the xattrs (u32 count, four u32 each). Decoding checks every
//! length against the bytes left before allocating, so hostile input costs at most its
//! own size; spans are not checked here because the index's accessors already read bad
//! spans as `""`.

use super::index::{EntryRecord, Span, XattrRecord};
use super::{ElfClass, ElfInfo, EntryFlags, EntryKind, LayerIndex};

const MAGIC: &[u8; 4] = b"SIDX";
/// The format's version: anything that keeps encoded indexes (a browser's cache of
/// verified layers) keys them by it, so a new format never reads an old one.
pub const INDEX_CODEC_VERSION: u8 = 2;
const VERSION: u8 = INDEX_CODEC_VERSION;
/// Bytes of one encoded entry record.
const ENTRY_BYTES: usize = 8 * 4 + 1 + 1 + 2 + 4 + 8 * 6 + 4 * 5 + 8 + ELF_BYTES;
/// Bytes of an entry's ELF header facts: class (0 none), byte order, machine, type.
const ELF_BYTES: usize = 1 + 1 + 2 + 2;
/// Bytes of one encoded xattr record.
const XATTR_BYTES: usize = 16;

/// Why bytes are not an encoded index.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IndexCodecError {
    /// The buffer does not start with the magic and version.
    #[error("not a Strata layer index (bad magic or version {0})")]
    BadHeader(u8),
    /// A length or count runs past the end of the buffer.
    #[error("layer index truncated: {what} needs {needed} bytes, {left} left")]
    Truncated {
        /// The part being read.
        what: &'static str,
        /// Bytes it needs.
        needed: usize,
        /// Bytes left in the buffer.
        left: usize,
    },
    /// The text table is not UTF-8.
    #[error("layer index text table is not UTF-8 at byte {0}")]
    NotUtf8(usize),
    /// Bytes follow the last part.
    #[error("layer index has {0} trailing bytes")]
    Trailing(usize),
}

impl LayerIndex {
    /// The index as bytes for [`LayerIndex::decode`].
    pub fn encode(&self) -> Vec<u8> {
        let (text, entries, xattrs, tar_bytes, end_of_archive) = self.parts();
        let mut out = Vec::with_capacity(
            32 + text.len() + entries.len() * ENTRY_BYTES + xattrs.len() * XATTR_BYTES,
        );
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&tar_bytes.to_le_bytes());
        out.push(u8::from(end_of_archive.is_some()));
        out.extend_from_slice(&end_of_archive.unwrap_or(0).to_le_bytes());
        put_len(&mut out, text.len());
        out.extend_from_slice(text.as_bytes());
        put_len(&mut out, entries.len());
        for rec in entries {
            put_entry(&mut out, rec);
        }
        put_len(&mut out, xattrs.len());
        for x in xattrs {
            put_span(&mut out, x.name);
            put_span(&mut out, x.value_hex);
        }
        out
    }

    /// An index from [`LayerIndex::encode`]'s bytes; any other input is an error, never
    /// a panic, and never an allocation larger than the input.
    pub fn decode(bytes: &[u8]) -> Result<LayerIndex, IndexCodecError> {
        let mut r = Reader { bytes, at: 0 };
        let header = r.take(5, "header")?;
        if &header[..4] != MAGIC || header[4] != VERSION {
            return Err(IndexCodecError::BadHeader(header[4]));
        }
        let tar_bytes = r.u64("tar size")?;
        let has_end = r.u8("end of archive")? != 0;
        let end = r.u64("end of archive")?;
        let text_len = r.len("text length")?;
        let text_bytes = r.take(text_len, "text table")?;
        let text = std::str::from_utf8(text_bytes)
            .map_err(|e| IndexCodecError::NotUtf8(e.valid_up_to()))?
            .to_owned();
        let count = r.len("entry count")?;
        let records = r.take(count.saturating_mul(ENTRY_BYTES), "entries")?;
        // Fixed-size records read at constant offsets, with no error to check per field
        // (this runs on the page's main thread for every layer a worker indexed).
        let entries: Vec<EntryRecord> = records
            .as_chunks::<ENTRY_BYTES>()
            .0
            .iter()
            .map(|rec| Record { rec, at: 0 }.entry())
            .collect();
        let count = r.len("xattr count")?;
        r.check(count.saturating_mul(XATTR_BYTES), "xattrs")?;
        let mut xattrs = Vec::with_capacity(count);
        for _ in 0..count {
            xattrs.push(XattrRecord {
                name: r.span("xattr")?,
                value_hex: r.span("xattr")?,
            });
        }
        if r.at != bytes.len() {
            return Err(IndexCodecError::Trailing(bytes.len() - r.at));
        }
        Ok(LayerIndex::from_parts(
            text,
            entries,
            xattrs,
            tar_bytes,
            has_end.then_some(end),
        ))
    }
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

fn put_span(out: &mut Vec<u8>, span: Span) {
    out.extend_from_slice(&span.start.to_le_bytes());
    out.extend_from_slice(&span.len.to_le_bytes());
}

fn kind_bytes(kind: EntryKind) -> [u8; 2] {
    match kind {
        EntryKind::File => [0, 0],
        EntryKind::Dir => [1, 0],
        EntryKind::Symlink => [2, 0],
        EntryKind::Hardlink => [3, 0],
        EntryKind::CharDevice => [4, 0],
        EntryKind::BlockDevice => [5, 0],
        EntryKind::Fifo => [6, 0],
        EntryKind::Other(b) => [7, b],
    }
}

fn kind_of(tag: u8, other: u8) -> EntryKind {
    match tag {
        0 => EntryKind::File,
        1 => EntryKind::Dir,
        2 => EntryKind::Symlink,
        3 => EntryKind::Hardlink,
        4 => EntryKind::CharDevice,
        5 => EntryKind::BlockDevice,
        6 => EntryKind::Fifo,
        _ => EntryKind::Other(other),
    }
}

fn put_entry(out: &mut Vec<u8>, rec: &EntryRecord) {
    put_span(out, rec.path);
    put_span(out, rec.link.unwrap_or_default());
    put_span(out, rec.uname);
    put_span(out, rec.gname);
    let [tag, other] = kind_bytes(rec.kind);
    out.push(tag | if rec.link.is_some() { 0x80 } else { 0 });
    out.push(other);
    out.extend_from_slice(&rec.flags.bits().to_le_bytes());
    out.extend_from_slice(&rec.mode.to_le_bytes());
    for v in [rec.uid, rec.gid, rec.size] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&rec.mtime.to_le_bytes());
    for v in [rec.header_offset, rec.data_offset] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for v in [
        rec.crc32,
        rec.dev_major,
        rec.dev_minor,
        rec.xattr_start,
        rec.xattr_len,
    ] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&rec.content_hash.to_le_bytes());
    put_elf(out, rec.elf);
}

fn put_elf(out: &mut Vec<u8>, elf: Option<ElfInfo>) {
    let Some(e) = elf else {
        out.extend_from_slice(&[0; ELF_BYTES]);
        return;
    };
    out.push(match e.class {
        ElfClass::Elf32 => 1,
        ElfClass::Elf64 => 2,
    });
    out.push(if e.big_endian { 2 } else { 1 });
    out.extend_from_slice(&e.machine.to_le_bytes());
    out.extend_from_slice(&e.file_type.to_le_bytes());
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn check(&self, needed: usize, what: &'static str) -> Result<(), IndexCodecError> {
        let left = self.bytes.len() - self.at;
        if needed > left {
            return Err(IndexCodecError::Truncated { what, needed, left });
        }
        Ok(())
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], IndexCodecError> {
        self.check(n, what)?;
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], IndexCodecError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, IndexCodecError> {
        Ok(self.array::<1>(what)?[0])
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, IndexCodecError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, IndexCodecError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    fn len(&mut self, what: &'static str) -> Result<usize, IndexCodecError> {
        Ok(self.u32(what)? as usize)
    }

    fn span(&mut self, what: &'static str) -> Result<Span, IndexCodecError> {
        Ok(Span {
            start: self.u32(what)?,
            len: self.u32(what)?,
        })
    }
}

/// One entry's bytes, read field by field.
struct Record<'a> {
    rec: &'a [u8; ENTRY_BYTES],
    at: usize,
}

impl Record<'_> {
    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        // The fields add up to ENTRY_BYTES, so this never runs short (the offsets are
        // constants once inlined); a short read would give zeros rather than panic.
        if let Some(field) = self.rec.get(self.at..self.at + N) {
            out.copy_from_slice(field);
        }
        self.at += N;
        out
    }

    fn u8(&mut self) -> u8 {
        self.array::<1>()[0]
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.array())
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.array())
    }

    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.array())
    }

    fn span(&mut self) -> Span {
        Span {
            start: self.u32(),
            len: self.u32(),
        }
    }

    fn entry(mut self) -> EntryRecord {
        let path = self.span();
        let link = self.span();
        let uname = self.span();
        let gname = self.span();
        let tag = self.u8();
        let other = self.u8();
        EntryRecord {
            path,
            link: (tag & 0x80 != 0).then_some(link),
            uname,
            gname,
            kind: kind_of(tag & 0x7f, other),
            flags: EntryFlags::from_bits(self.u16()),
            mode: self.u32(),
            uid: self.u64(),
            gid: self.u64(),
            size: self.u64(),
            mtime: self.u64() as i64,
            header_offset: self.u64(),
            data_offset: self.u64(),
            crc32: self.u32(),
            dev_major: self.u32(),
            dev_minor: self.u32(),
            xattr_start: self.u32(),
            xattr_len: self.u32(),
            content_hash: self.u64(),
            elf: self.elf(),
        }
    }

    /// An unknown class byte reads as "not ELF": the index stays usable.
    fn elf(&mut self) -> Option<ElfInfo> {
        let class = self.u8();
        let order = self.u8();
        let machine = self.u16();
        let file_type = self.u16();
        let class = match class {
            1 => ElfClass::Elf32,
            2 => ElfClass::Elf64,
            _ => return None,
        };
        Some(ElfInfo {
            class,
            big_endian: order == 2,
            machine,
            file_type,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::{Limits, TarWalker};

    /// A small index with a link, a directory and an xattr, from a tar made by tar-rs.
    fn sample() -> LayerIndex {
        let mut b = tar::Builder::new(Vec::new());
        b.append_pax_extensions([("SCHILY.xattr.user.note", &b"hi"[..])])
            .unwrap();
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o644);
        h.set_size(20);
        b.append_data(&mut h, "etc/hosts", &b"127.0.0.1 localhost\n"[..])
            .unwrap();
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, "etc/link", "hosts").unwrap();
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_size(0);
        b.append_data(&mut h, "usr/", std::io::empty()).unwrap();
        let mut elf = crate::layer::elf::test_head(2, 2, 2, 22);
        elf.extend_from_slice(&[7; 40]);
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o755);
        h.set_size(elf.len() as u64);
        b.append_data(&mut h, "usr/bin/app", &elf[..]).unwrap();
        let tar = b.into_inner().unwrap();
        let mut walker = TarWalker::new(Limits::default());
        walker.push(&tar).unwrap();
        walker.finish().unwrap()
    }

    fn json(index: &LayerIndex) -> String {
        serde_json::to_string(index).unwrap()
    }

    #[test]
    fn round_trips() {
        let index = sample();
        assert_eq!(index.len(), 4);
        let bytes = index.encode();
        let decoded = LayerIndex::decode(&bytes).unwrap();
        assert_eq!(json(&decoded), json(&index));
        let app = decoded.find("usr/bin/app").unwrap();
        assert_eq!(
            app.elf().map(|e| (e.machine, e.big_endian)),
            Some((22, true))
        );
        assert_ne!(app.content_hash(), 0);
        assert_eq!(
            app.content_hash(),
            index.find("usr/bin/app").unwrap().content_hash()
        );
        assert_eq!(decoded.find("etc/hosts").unwrap().elf(), None);
        let empty = LayerIndex::default();
        assert_eq!(
            json(&LayerIndex::decode(&empty.encode()).unwrap()),
            json(&empty)
        );
    }

    #[test]
    fn every_truncation_and_trailing_byte_is_an_error() {
        let bytes = sample().encode();
        for cut in 0..bytes.len() {
            let err = LayerIndex::decode(&bytes[..cut]).unwrap_err();
            assert!(
                matches!(
                    err,
                    IndexCodecError::Truncated { .. } | IndexCodecError::BadHeader(_)
                ),
                "cut at {cut}: {err}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            LayerIndex::decode(&longer).unwrap_err(),
            IndexCodecError::Trailing(1)
        );
    }

    #[test]
    fn hostile_counts_and_bytes_never_panic_or_overallocate() {
        let bytes = sample().encode();
        // An entry count of u32::MAX is refused before any allocation.
        let text_len = u32::from_le_bytes(bytes[22..26].try_into().unwrap()) as usize;
        let count_at = 26 + text_len;
        let mut huge = bytes.clone();
        huge[count_at..count_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            LayerIndex::decode(&huge),
            Err(IndexCodecError::Truncated {
                what: "entries",
                ..
            })
        ));
        // Bad magic, bad text, and every single-byte flip: an error or an index, never a
        // panic; an index from flipped bytes still answers its accessors.
        assert!(matches!(
            LayerIndex::decode(b"JSON{}"),
            Err(IndexCodecError::BadHeader(_))
        ));
        for at in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0xa5;
            if let Ok(index) = LayerIndex::decode(&flipped) {
                for entry in index.iter() {
                    let _ = (entry.path(), entry.link_target(), entry.xattrs().count());
                }
            }
        }
    }
}
