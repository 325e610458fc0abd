//! The push-driven walker: a state machine over header, body, data and padding blocks.

use super::content::ContentProbe;
use super::header::{BLOCK, SIZE, c_string, check_checksum, lossy, numeric, padding};
use super::pax::{PaxFields, parse_pax};
use crate::layer::index::{IndexBuilder, NewEntry};
use crate::layer::path::normalize_path;
use crate::layer::whiteout::Whiteout;
use crate::layer::{EntryFlags, EntryKind, LayerError, LayerIndex, Limits};

/// Push-driven tar reader for one layer's decompressed stream.
///
/// Entries are indexed as their headers arrive; [`TarWalker::index`] shows them while the
/// stream is still coming. The walk stops at the end-of-archive zero block; bytes after
/// it are counted but ignored (they still belong to the diff_id).
pub struct TarWalker {
    limits: Limits,
    builder: IndexBuilder,
    offset: u64,
    state: State,
    block: Box<[u8; BLOCK]>,
    block_len: usize,
    body: Vec<u8>,
    meta: PendingMeta,
    global: PaxFields,
    content: ContentProbe,
    end: Option<u64>,
    entries: u64,
    failed: bool,
}

enum State {
    /// Expecting a header block.
    Header,
    /// Collecting the body of a PAX or GNU long-name header.
    Body {
        kind: BodyKind,
        remaining: u64,
        pad: u64,
        header_offset: u64,
    },
    /// Reading old-GNU sparse extension blocks; then `data` bytes of the entry.
    SparseExt { data: u64, entry: usize },
    /// Skipping an entry's data (hashing it when `entry` is set), then `pad` bytes.
    Data {
        remaining: u64,
        pad: u64,
        entry: Option<usize>,
    },
    /// Skipping padding.
    Skip { remaining: u64 },
    /// After the end-of-archive block.
    End,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Pax,
    PaxGlobal,
    LongName,
    LongLink,
}

impl BodyKind {
    fn name(self) -> &'static str {
        match self {
            BodyKind::Pax => "PAX",
            BodyKind::PaxGlobal => "PAX global",
            BodyKind::LongName => "GNU long name",
            BodyKind::LongLink => "GNU long link",
        }
    }
}

/// Metadata headers seen since the last entry.
#[derive(Default)]
struct PendingMeta {
    pax: PaxFields,
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    first_header: Option<u64>,
}

impl TarWalker {
    /// A walker enforcing `limits` (entry count, header body size, index text size).
    pub fn new(limits: Limits) -> Self {
        let builder = IndexBuilder::new(limits.max_index_bytes);
        TarWalker {
            limits,
            builder,
            offset: 0,
            state: State::Header,
            block: Box::new([0; BLOCK]),
            block_len: 0,
            body: Vec::new(),
            meta: PendingMeta::default(),
            global: PaxFields::default(),
            content: ContentProbe::new(),
            end: None,
            entries: 0,
            failed: false,
        }
    }

    /// Turns the per-file 64-bit content hash off (on by default; entries then carry 0
    /// and compare by CRC-32 + size). Only for measuring what the hash costs.
    pub fn set_content_hash(&mut self, on: bool) {
        self.content.set_hash(on);
    }

    /// Decompressed bytes pushed so far.
    pub fn bytes_seen(&self) -> u64 {
        self.offset
    }

    /// Entries indexed so far.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// The index as built so far (for a live view while the layer streams).
    pub fn index(&self) -> &LayerIndex {
        self.builder.index()
    }

    /// Walks the next chunk of the decompressed stream.
    pub fn push(&mut self, input: &[u8]) -> Result<(), LayerError> {
        if self.failed {
            return Err(LayerError::Misuse("failed"));
        }
        let r = self.push_inner(input);
        if r.is_err() {
            self.failed = true;
        }
        r
    }

    /// Ends the stream; fails if it stopped inside a header or an entry's data.
    pub fn finish(self) -> Result<LayerIndex, LayerError> {
        if self.failed {
            return Err(LayerError::Misuse("failed"));
        }
        let cut = |what: String| LayerError::TarTruncated {
            offset: self.offset,
            what,
        };
        match self.state {
            State::End => {}
            State::Header if self.block_len > 0 => {
                return Err(cut(format!(
                    "header block has {} of 512 bytes",
                    self.block_len
                )));
            }
            State::Header => {
                if let Some(at) = self.meta.first_header {
                    return Err(cut(format!("extended header at offset {at} has no entry")));
                }
            }
            State::Body {
                kind,
                remaining,
                header_offset,
                ..
            } => {
                return Err(cut(format!(
                    "{} header at offset {header_offset} misses {remaining} body bytes",
                    kind.name()
                )));
            }
            State::SparseExt { entry, .. } => {
                return Err(cut(format!("sparse map of {:?}", self.entry_path(entry))));
            }
            State::Data {
                remaining, entry, ..
            } => {
                let name = entry.map(|e| self.entry_path(e)).unwrap_or_default();
                return Err(cut(format!("data of {name:?} misses {remaining} bytes")));
            }
            State::Skip { remaining } => {
                return Err(cut(format!(
                    "padding after the last entry misses {remaining} bytes"
                )));
            }
        }
        Ok(self.builder.finish(self.offset, self.end))
    }

    fn entry_path(&self, pos: usize) -> String {
        self.builder
            .index()
            .get(pos)
            .map(|e| e.path().to_owned())
            .unwrap_or_default()
    }

    fn push_inner(&mut self, mut input: &[u8]) -> Result<(), LayerError> {
        while !input.is_empty() {
            match &mut self.state {
                State::End => {
                    self.offset += input.len() as u64;
                    let end = self.end.unwrap_or(0);
                    if self.offset.saturating_sub(end) > self.limits.max_trailing_bytes {
                        return Err(LayerError::TrailingTooLarge {
                            limit: self.limits.max_trailing_bytes,
                            end,
                        });
                    }
                    return Ok(());
                }
                State::Data {
                    remaining,
                    pad,
                    entry,
                } => {
                    let n = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(input.len());
                    if entry.is_some() {
                        self.content.update(&input[..n]);
                    }
                    *remaining -= n as u64;
                    input = &input[n..];
                    self.offset += n as u64;
                    if *remaining == 0 {
                        let pad = *pad;
                        if let Some(pos) = *entry {
                            self.builder.set_content(pos, self.content.finish());
                        }
                        self.state = skip(pad);
                    }
                }
                State::Skip { remaining } => {
                    let n = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(input.len());
                    *remaining -= n as u64;
                    input = &input[n..];
                    self.offset += n as u64;
                    if *remaining == 0 {
                        self.state = State::Header;
                    }
                }
                State::Body {
                    kind,
                    remaining,
                    pad,
                    header_offset,
                } => {
                    let n = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(input.len());
                    self.body.extend_from_slice(&input[..n]);
                    *remaining -= n as u64;
                    input = &input[n..];
                    self.offset += n as u64;
                    if *remaining == 0 {
                        let (kind, pad, at) = (*kind, *pad, *header_offset);
                        self.state = skip(pad);
                        let body = std::mem::take(&mut self.body);
                        let r = self.on_body(kind, &body, at);
                        self.body = body;
                        self.body.clear();
                        if self.body.capacity() > 64 * 1024 {
                            self.body = Vec::new();
                        }
                        r?;
                    }
                }
                State::Header | State::SparseExt { .. } => {
                    let mut blk = [0u8; BLOCK];
                    let at;
                    if self.block_len == 0 && input.len() >= BLOCK {
                        blk.copy_from_slice(&input[..BLOCK]);
                        input = &input[BLOCK..];
                        at = self.offset;
                        self.offset += BLOCK as u64;
                    } else {
                        let n = (BLOCK - self.block_len).min(input.len());
                        self.block[self.block_len..self.block_len + n].copy_from_slice(&input[..n]);
                        self.block_len += n;
                        input = &input[n..];
                        self.offset += n as u64;
                        if self.block_len < BLOCK {
                            continue;
                        }
                        blk.copy_from_slice(&self.block[..]);
                        self.block_len = 0;
                        at = self.offset - BLOCK as u64;
                    }
                    if let State::SparseExt { data, entry } = self.state {
                        // Old GNU sparse extension: 21 sparse entries, then `isextended`.
                        if blk[504] == 0 {
                            self.state = data_state(data, Some(entry));
                        }
                    } else {
                        self.on_header(&blk, at)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn on_header(&mut self, blk: &[u8; BLOCK], at: u64) -> Result<(), LayerError> {
        if blk.iter().all(|&b| b == 0) {
            self.end = Some(at);
            self.state = State::End;
            return Ok(());
        }
        check_checksum(blk, at)?;
        let header = tar::Header::from_byte_slice(blk);
        let flag = blk[156];
        let meta_kind = match flag {
            b'x' => Some(BodyKind::Pax),
            b'g' => Some(BodyKind::PaxGlobal),
            b'L' => Some(BodyKind::LongName),
            b'K' => Some(BodyKind::LongLink),
            _ => None,
        };
        let field_err = |field: &'static str, reason: String| LayerError::BadHeaderField {
            offset: at,
            path: String::from_utf8_lossy(&header.path_bytes()).into_owned(),
            field,
            reason,
        };
        let unsigned =
            |field: &'static str, range: std::ops::Range<usize>| -> Result<u64, LayerError> {
                let v = numeric(&blk[range]).map_err(|r| field_err(field, r))?;
                u64::try_from(v).map_err(|_| field_err(field, format!("negative value {v}")))
            };
        if let Some(kind) = meta_kind {
            let size = unsigned("size", SIZE)?;
            if size > self.limits.max_header_bytes {
                return Err(LayerError::HeaderTooLarge {
                    kind: kind.name(),
                    offset: at,
                    size,
                    limit: self.limits.max_header_bytes,
                });
            }
            if kind != BodyKind::PaxGlobal && self.meta.first_header.is_none() {
                self.meta.first_header = Some(at);
            }
            self.body.clear();
            self.state = if size == 0 {
                State::Header
            } else {
                State::Body {
                    kind,
                    remaining: size,
                    pad: padding(size),
                    header_offset: at,
                }
            };
            if size == 0 {
                self.on_body(kind, &[], at)?;
            }
            return Ok(());
        }
        let Some(mut kind) = EntryKind::from_type_flag(flag) else {
            // Volume labels and other non-entry headers: skip their data.
            let size = unsigned("size", SIZE)?;
            self.meta = PendingMeta::default();
            self.state = data_state(size, None);
            return Ok(());
        };

        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(LayerError::TooManyEntries {
                limit: self.limits.max_entries,
                offset: at,
            });
        }

        let meta = std::mem::take(&mut self.meta);
        let pax = &meta.pax;
        let global = &self.global;
        let mut flags = EntryFlags::empty();
        if pax.any || global.any {
            flags |= EntryFlags::PAX;
        }

        // Name: PAX path, else GNU long name, else the header (ustar prefix included).
        let header_path = header.path_bytes();
        let raw_path: &[u8] = if let Some(p) = pax.sparse_name.as_deref().or(pax.path.as_deref()) {
            p
        } else if let Some(p) = global.path.as_deref() {
            p
        } else if let Some(p) = meta.long_name.as_deref() {
            flags |= EntryFlags::GNU_LONG_NAME;
            p
        } else {
            &header_path
        };
        if matches!(flag, b'0' | b'\0' | b'7') && raw_path.ends_with(b"/") {
            kind = EntryKind::Dir;
        }
        if let EntryKind::Other(_) = kind {
            flags |= EntryFlags::UNKNOWN_TYPE;
        }
        let (path, path_flags) = normalize_path(raw_path);
        flags |= path_flags;
        if let Some(w) = Whiteout::classify(&path) {
            flags |= w.flag();
        }

        let header_link = header.link_name_bytes();
        let link_raw: Option<&[u8]> = match kind {
            EntryKind::Hardlink | EntryKind::Symlink => Some(
                if let Some(l) = pax.linkpath.as_deref().or(global.linkpath.as_deref()) {
                    l
                } else if let Some(l) = meta.long_link.as_deref() {
                    flags |= EntryFlags::GNU_LONG_NAME;
                    l
                } else {
                    header_link.as_deref().unwrap_or_default()
                },
            ),
            _ => None,
        };
        let link: Option<String> = link_raw.map(|raw| {
            if kind == EntryKind::Hardlink {
                let (l, lf) = normalize_path(raw);
                if lf.intersects(EntryFlags::ESCAPES_ROOT | EntryFlags::ABSOLUTE) {
                    flags |= EntryFlags::LINK_ESCAPES;
                }
                if lf.contains(EntryFlags::NON_UTF8) {
                    flags |= EntryFlags::NON_UTF8;
                }
                l
            } else {
                let l = String::from_utf8_lossy(raw);
                if std::str::from_utf8(raw).is_err() {
                    flags |= EntryFlags::NON_UTF8;
                }
                l.into_owned()
            }
        });

        let stored = match pax.size.or(global.size) {
            Some(s) => s,
            None => unsigned("size", SIZE)?,
        };
        let data_len = if kind.has_data() { stored } else { 0 };
        let mut size = data_len;
        if flag == b'S' {
            flags |= EntryFlags::SPARSE;
            size = if header.as_gnu().is_some() {
                unsigned("realsize", 483..495)?
            } else {
                data_len
            };
        } else if pax.sparse {
            flags |= EntryFlags::SPARSE;
            size = pax.sparse_size.unwrap_or(data_len);
        }

        let mode = (unsigned("mode", 100..108)? & 0o7777) as u32;
        let uid = match pax.uid.or(global.uid) {
            Some(v) => v,
            None => unsigned("uid", 108..116)?,
        };
        let gid = match pax.gid.or(global.gid) {
            Some(v) => v,
            None => unsigned("gid", 116..124)?,
        };
        let mtime = match pax.mtime.or(global.mtime) {
            Some(v) => v,
            None => numeric(&blk[136..148]).map_err(|r| field_err("mtime", r))?,
        };
        let uname = lossy(
            pax.uname
                .as_deref()
                .or(global.uname.as_deref())
                .or(header.username_bytes()),
        );
        let gname = lossy(
            pax.gname
                .as_deref()
                .or(global.gname.as_deref())
                .or(header.groupname_bytes()),
        );
        let device = if matches!(kind, EntryKind::CharDevice | EntryKind::BlockDevice) {
            let dev = |r: std::ops::Range<usize>| {
                numeric(&blk[r])
                    .ok()
                    .and_then(|v| u32::try_from(v).ok())
                    .unwrap_or(0)
            };
            (dev(329..337), dev(337..345))
        } else {
            (0, 0)
        };
        let xattrs = if pax.xattrs.is_empty() {
            &global.xattrs
        } else {
            &pax.xattrs
        };

        let position = self.builder.len();
        let data_offset = self.offset_after_header(at);
        self.builder.push(NewEntry {
            path: &path,
            link: link.as_deref(),
            uname: &uname,
            gname: &gname,
            kind,
            flags,
            mode,
            uid,
            gid,
            size,
            mtime,
            header_offset: meta.first_header.unwrap_or(at),
            data_offset,
            device,
            xattrs,
        })?;

        self.content.start(data_len);
        let extended = flag == b'S' && blk[482] == 1;
        self.state = if extended {
            State::SparseExt {
                data: data_len,
                entry: position,
            }
        } else {
            data_state(data_len, Some(position))
        };
        Ok(())
    }

    fn offset_after_header(&self, at: u64) -> u64 {
        at + BLOCK as u64
    }

    fn on_body(&mut self, kind: BodyKind, body: &[u8], at: u64) -> Result<(), LayerError> {
        match kind {
            BodyKind::Pax => {
                let mut fields = std::mem::take(&mut self.meta.pax);
                parse_pax(body, at, &mut fields)?;
                self.meta.pax = fields;
            }
            BodyKind::PaxGlobal => {
                let mut fields = std::mem::take(&mut self.global);
                parse_pax(body, at, &mut fields)?;
                self.global = fields;
            }
            BodyKind::LongName => self.meta.long_name = Some(c_string(body).to_vec()),
            BodyKind::LongLink => self.meta.long_link = Some(c_string(body).to_vec()),
        }
        Ok(())
    }
}

fn skip(pad: u64) -> State {
    if pad == 0 {
        State::Header
    } else {
        State::Skip { remaining: pad }
    }
}

fn data_state(len: u64, entry: Option<usize>) -> State {
    if len == 0 {
        State::Header
    } else {
        State::Data {
            remaining: len,
            pad: padding(len),
            entry,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(bytes: &[u8], chunk: usize) -> Result<LayerIndex, LayerError> {
        let mut w = TarWalker::new(Limits::default());
        for c in bytes.chunks(chunk.max(1)) {
            w.push(c)?;
        }
        w.finish()
    }

    #[test]
    fn empty_stream_is_an_empty_layer() {
        let idx = walk(&[], 1).unwrap();
        assert!(idx.is_empty());
        let idx = walk(&[0u8; 1024], 100).unwrap();
        assert_eq!(idx.end_of_archive(), Some(0));
        assert_eq!(idx.trailing_bytes(), 1024);
    }
    #[test]
    fn garbage_header_names_offset() {
        let err = walk(&[b'x'; 512], 512).unwrap_err();
        assert!(
            matches!(err, LayerError::BadHeaderChecksum { offset: 0, .. }),
            "{err}"
        );
        let err = walk(&[1u8; 100], 7).unwrap_err();
        assert!(matches!(err, LayerError::TarTruncated { .. }), "{err}");
    }
}
