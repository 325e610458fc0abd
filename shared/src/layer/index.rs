//! The compact, serializable index of one layer's tar entries.

use std::collections::HashMap;

use super::tar::ContentFacts;
use super::{ElfInfo, Entry, EntryFlags, EntryKind, LayerError};

/// A slice of the index's shared text table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Span {
    #[serde(rename = "s")]
    pub(crate) start: u32,
    #[serde(rename = "n")]
    pub(crate) len: u32,
}

/// One entry, with its strings as spans of the text table (no heap string per entry).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct EntryRecord {
    #[serde(rename = "p")]
    pub(crate) path: Span,
    #[serde(rename = "l")]
    pub(crate) link: Option<Span>,
    #[serde(rename = "u")]
    pub(crate) uname: Span,
    #[serde(rename = "g")]
    pub(crate) gname: Span,
    #[serde(rename = "k")]
    pub(crate) kind: EntryKind,
    #[serde(rename = "f")]
    pub(crate) flags: EntryFlags,
    #[serde(rename = "m")]
    pub(crate) mode: u32,
    #[serde(rename = "ui")]
    pub(crate) uid: u64,
    #[serde(rename = "gi")]
    pub(crate) gid: u64,
    #[serde(rename = "z")]
    pub(crate) size: u64,
    #[serde(rename = "t")]
    pub(crate) mtime: i64,
    #[serde(rename = "h")]
    pub(crate) header_offset: u64,
    #[serde(rename = "o")]
    pub(crate) data_offset: u64,
    #[serde(rename = "c")]
    pub(crate) crc32: u32,
    #[serde(rename = "x", default)]
    pub(crate) content_hash: u64,
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub(crate) elf: Option<ElfInfo>,
    #[serde(rename = "dj", default)]
    pub(crate) dev_major: u32,
    #[serde(rename = "dn", default)]
    pub(crate) dev_minor: u32,
    #[serde(rename = "xs", default)]
    pub(crate) xattr_start: u32,
    #[serde(rename = "xn", default)]
    pub(crate) xattr_len: u32,
}

/// One extended attribute: name, and value as lowercase hex in the text table.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct XattrRecord {
    pub(crate) name: Span,
    pub(crate) value_hex: Span,
}

/// Every entry of one layer, in tar order, with the facts of the stream around them.
///
/// Compact on purpose (a layer may hold 100k files and the page keeps every layer's
/// index): all strings live in one shared text table, entries hold offsets into it,
/// owner names are interned. File contents are never kept; [`Entry::data_offset`] says
/// where to find them in the decompressed stream. Serializable so a Web Worker can post
/// it to the page; accessors tolerate a corrupted deserialized index (bad spans read as
/// `""`) instead of panicking.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct LayerIndex {
    text: String,
    entries: Vec<EntryRecord>,
    xattrs: Vec<XattrRecord>,
    tar_bytes: u64,
    end_of_archive: Option<u64>,
}

impl LayerIndex {
    /// The tables and stream facts, for the binary codec.
    #[allow(clippy::type_complexity)]
    pub(crate) fn parts(&self) -> (&str, &[EntryRecord], &[XattrRecord], u64, Option<u64>) {
        (
            &self.text,
            &self.entries,
            &self.xattrs,
            self.tar_bytes,
            self.end_of_archive,
        )
    }

    /// An index from decoded tables.
    pub(crate) fn from_parts(
        text: String,
        entries: Vec<EntryRecord>,
        xattrs: Vec<XattrRecord>,
        tar_bytes: u64,
        end_of_archive: Option<u64>,
    ) -> Self {
        Self {
            text,
            entries,
            xattrs,
            tar_bytes,
            end_of_archive,
        }
    }

    /// Number of entries (whiteouts included).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the layer has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry at `position` (tar order).
    pub fn get(&self, position: usize) -> Option<Entry<'_>> {
        self.entries.get(position).map(|rec| Entry {
            index: self,
            rec,
            pos: position,
        })
    }

    /// All entries in tar order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Entry<'_>> + '_ {
        self.entries
            .iter()
            .enumerate()
            .map(move |(pos, rec)| Entry {
                index: self,
                rec,
                pos,
            })
    }

    /// The last entry with this normalized path (the one extraction keeps); linear.
    pub fn find(&self, path: &str) -> Option<Entry<'_>> {
        self.iter().filter(|e| e.path() == path).last()
    }

    /// The regular file whose data the hard link at `position` shares, as this layer had
    /// it then: the last entry before it with the link's target path (a tar hard link
    /// names an earlier entry of the same archive, from the archive's root), following
    /// a chain of hard links. `None` for other kinds or a target this layer lacks.
    pub fn link_source(&self, position: usize) -> Option<Entry<'_>> {
        let mut at = position;
        // Each step moves strictly backwards, so the chain ends.
        loop {
            let link = self.get(at)?;
            if link.kind() != EntryKind::Hardlink {
                return None;
            }
            let target = link.link_target()?;
            let source = self.entries[..at]
                .iter()
                .enumerate()
                .rev()
                .map(|(pos, rec)| Entry {
                    index: self,
                    rec,
                    pos,
                })
                .find(|e| e.path() == target)?;
            match source.kind() {
                EntryKind::Hardlink => at = source.pos,
                kind if kind.has_data() => return Some(source),
                _ => return None,
            }
        }
    }

    /// Length of the decompressed stream walked, trailing bytes included.
    pub fn tar_bytes(&self) -> u64 {
        self.tar_bytes
    }

    /// Offset of the end-of-archive zero block, or `None` when the stream just stopped
    /// after an entry (GNU tar accepts that too).
    pub fn end_of_archive(&self) -> Option<u64> {
        self.end_of_archive
    }

    /// Bytes after the end-of-archive marker (zero padding, usually); they count toward
    /// the diff_id but hold no entries.
    pub fn trailing_bytes(&self) -> u64 {
        self.end_of_archive
            .map_or(0, |end| self.tar_bytes.saturating_sub(end))
    }

    /// Sum of the sizes of entries with data (regular files).
    pub fn content_bytes(&self) -> u64 {
        self.entries
            .iter()
            .filter(|r| r.kind.has_data())
            .map(|r| r.size)
            .fold(0, u64::saturating_add)
    }

    /// Approximate heap bytes held by this index (to show and to test the memory bound).
    pub fn heap_bytes(&self) -> usize {
        self.text.capacity()
            + self.entries.capacity() * std::mem::size_of::<EntryRecord>()
            + self.xattrs.capacity() * std::mem::size_of::<XattrRecord>()
    }

    pub(crate) fn text(&self, span: Span) -> &str {
        let start = span.start as usize;
        self.text
            .get(start..start.saturating_add(span.len as usize))
            .unwrap_or("")
    }

    pub(crate) fn xattrs_of(&self, rec: &EntryRecord) -> impl Iterator<Item = &XattrRecord> + '_ {
        let start = rec.xattr_start as usize;
        let end = start.saturating_add(rec.xattr_len as usize);
        self.xattrs.get(start..end).unwrap_or_default().iter()
    }

    pub(crate) fn xattr_value(&self, x: &XattrRecord) -> Vec<u8> {
        hex::decode(self.text(x.value_hex)).unwrap_or_default()
    }
}

/// Everything the tar walker knows about an entry, before it goes into the index.
pub(crate) struct NewEntry<'a> {
    pub(crate) path: &'a str,
    pub(crate) link: Option<&'a str>,
    pub(crate) uname: &'a str,
    pub(crate) gname: &'a str,
    pub(crate) kind: EntryKind,
    pub(crate) flags: EntryFlags,
    pub(crate) mode: u32,
    pub(crate) uid: u64,
    pub(crate) gid: u64,
    pub(crate) size: u64,
    pub(crate) mtime: i64,
    pub(crate) header_offset: u64,
    pub(crate) data_offset: u64,
    pub(crate) device: (u32, u32),
    pub(crate) xattrs: &'a [(String, Vec<u8>)],
}

/// Builds a [`LayerIndex`] under the text cap.
pub(crate) struct IndexBuilder {
    index: LayerIndex,
    names: HashMap<String, Span>,
    max_text: u64,
}

impl IndexBuilder {
    pub(crate) fn new(max_text: u64) -> Self {
        IndexBuilder {
            index: LayerIndex::default(),
            names: HashMap::new(),
            max_text,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.index.entries.len()
    }

    pub(crate) fn index(&self) -> &LayerIndex {
        &self.index
    }

    pub(crate) fn push(&mut self, e: NewEntry<'_>) -> Result<(), LayerError> {
        let too_large = || LayerError::IndexTooLarge {
            limit: self.max_text,
            path: e.path.to_owned(),
        };
        let mut needed = e.path.len() + e.link.map_or(0, str::len) + e.uname.len() + e.gname.len();
        for (name, value) in e.xattrs {
            needed = needed
                .saturating_add(name.len())
                .saturating_add(value.len().saturating_mul(2));
        }
        let total = (self.index.text.len() as u64).saturating_add(needed as u64);
        if total > self.max_text || total > u64::from(u32::MAX) {
            return Err(too_large());
        }
        let path = self.append(e.path);
        let link = e.link.map(|l| self.append(l));
        let uname = self.intern(e.uname);
        let gname = self.intern(e.gname);
        let xattr_start = self.index.xattrs.len() as u32;
        for (name, value) in e.xattrs {
            let name = self.append(name);
            let value_hex = self.append(&hex::encode(value));
            self.index.xattrs.push(XattrRecord { name, value_hex });
        }
        self.index.entries.push(EntryRecord {
            path,
            link,
            uname,
            gname,
            kind: e.kind,
            flags: e.flags,
            mode: e.mode,
            uid: e.uid,
            gid: e.gid,
            size: e.size,
            mtime: e.mtime,
            header_offset: e.header_offset,
            data_offset: e.data_offset,
            crc32: 0,
            content_hash: 0,
            elf: None,
            dev_major: e.device.0,
            dev_minor: e.device.1,
            xattr_start,
            xattr_len: e.xattrs.len() as u32,
        });
        Ok(())
    }

    /// Records what the data of the entry at `position` showed, once it all passed.
    pub(crate) fn set_content(&mut self, position: usize, facts: ContentFacts) {
        if let Some(rec) = self.index.entries.get_mut(position) {
            rec.crc32 = facts.crc32;
            rec.content_hash = facts.hash;
            rec.elf = facts.elf;
        }
    }

    pub(crate) fn finish(mut self, tar_bytes: u64, end_of_archive: Option<u64>) -> LayerIndex {
        self.index.tar_bytes = tar_bytes;
        self.index.end_of_archive = end_of_archive;
        self.index.text.shrink_to_fit();
        self.index.entries.shrink_to_fit();
        self.index.xattrs.shrink_to_fit();
        self.index
    }

    fn append(&mut self, s: &str) -> Span {
        let start = self.index.text.len() as u32;
        self.index.text.push_str(s);
        Span {
            start,
            len: s.len() as u32,
        }
    }

    fn intern(&mut self, s: &str) -> Span {
        if s.is_empty() {
            return Span::default();
        }
        if let Some(span) = self.names.get(s) {
            return *span;
        }
        let span = self.append(s);
        // Owner names are few; a hostile layer with many distinct ones is still capped
        // by the text cap, and the map stops growing past a few thousand names.
        if self.names.len() < 4096 {
            self.names.insert(s.to_owned(), span);
        }
        span
    }
}
