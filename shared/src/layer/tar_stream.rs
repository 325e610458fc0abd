//! Stage 4: a push-driven tar walker that turns the decompressed stream into a
//! [`LayerIndex`].
//!
//! It decodes 512-byte header blocks with `tar::Header` and keeps only what an index
//! needs: data is skipped (a CRC-32 is taken on the way), PAX and GNU long-name bodies
//! are buffered up to [`Limits::max_header_bytes`]. tar's own pull-based `Archive` buffers
//! such bodies without bound, so it never sees untrusted bytes here.
//!
//! PAX records are split by their length prefix (not at newlines, which a path may
//! contain), following POSIX `pax` "extended header" records: `"%d %s=%s\n"`.

use super::index::{IndexBuilder, NewEntry};
use super::path::normalize_path;
use super::whiteout::Whiteout;
use super::{EntryFlags, EntryKind, LayerError, LayerIndex, Limits};

const BLOCK: usize = 512;

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
    crc: flate2::Crc,
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

/// Values from PAX records (`x` for the next entry, `g` for all following ones).
#[derive(Clone, Default)]
struct PaxFields {
    path: Option<Vec<u8>>,
    linkpath: Option<Vec<u8>>,
    size: Option<u64>,
    uid: Option<u64>,
    gid: Option<u64>,
    uname: Option<Vec<u8>>,
    gname: Option<Vec<u8>>,
    mtime: Option<i64>,
    xattrs: Vec<(String, Vec<u8>)>,
    sparse: bool,
    sparse_name: Option<Vec<u8>>,
    sparse_size: Option<u64>,
    any: bool,
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
            crc: flate2::Crc::new(),
            end: None,
            entries: 0,
            failed: false,
        }
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
                        self.crc.update(&input[..n]);
                    }
                    *remaining -= n as u64;
                    input = &input[n..];
                    self.offset += n as u64;
                    if *remaining == 0 {
                        let pad = *pad;
                        if let Some(pos) = *entry {
                            self.builder.set_crc(pos, self.crc.sum());
                        }
                        self.crc.reset();
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

        self.crc.reset();
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

/// The size field of a header block.
const SIZE: std::ops::Range<usize> = 124..136;

/// A numeric header field: octal text (spaces and NULs around it ignored, empty is 0) or
/// GNU base-256 (high bit set; two's complement when negative), as GNU tar and Go's
/// archive/tar read them.
fn numeric(field: &[u8]) -> Result<i64, String> {
    if let Some(&first) = field.first()
        && first & 0x80 != 0
    {
        let inv = if first & 0x40 != 0 { 0xff } else { 0 };
        let mut x: u64 = 0;
        for (i, &c) in field.iter().enumerate() {
            let mut c = c ^ inv;
            if i == 0 {
                c &= 0x7f;
            }
            if x >> 56 != 0 {
                return Err("base-256 value overflows 64 bits".into());
            }
            x = x << 8 | u64::from(c);
        }
        if x >> 63 != 0 {
            return Err("base-256 value overflows 64 bits".into());
        }
        let x = x as i64;
        return Ok(if inv == 0xff { !x } else { x });
    }
    let text = field.iter().map(|&b| b as char).collect::<String>();
    let text = text.trim_matches(|c| c == ' ' || c == '\0');
    if text.is_empty() {
        return Ok(0);
    }
    u64::from_str_radix(text, 8)
        .ok()
        .and_then(|v| i64::try_from(v).ok())
        .ok_or_else(|| format!("{text:?} is not an octal number"))
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

fn padding(len: u64) -> u64 {
    (BLOCK as u64 - len % BLOCK as u64) % BLOCK as u64
}

fn lossy(bytes: Option<&[u8]>) -> String {
    String::from_utf8_lossy(bytes.map(c_string).unwrap_or_default()).into_owned()
}

/// The bytes before the first NUL (how C tar implementations read name fields).
fn c_string(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(i) => &b[..i],
        None => b,
    }
}

/// Checks the header checksum: the sum of all bytes with the checksum field read as
/// spaces, unsigned (POSIX) or signed (some historic tars).
fn check_checksum(blk: &[u8; BLOCK], at: u64) -> Result<(), LayerError> {
    let mut unsigned: u32 = 0;
    let mut signed: i32 = 0;
    for (i, &b) in blk.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += u32::from(b);
        signed += i32::from(b as i8);
    }
    let field = &blk[148..156];
    let text: String = field
        .iter()
        .map(|&b| b as char)
        .collect::<String>()
        .trim_matches(|c: char| c == '\0' || c == ' ')
        .to_owned();
    let stored = u32::from_str_radix(&text, 8).ok();
    match stored {
        Some(s) if s == unsigned || s as i64 == i64::from(signed) => Ok(()),
        _ => Err(LayerError::BadHeaderChecksum {
            offset: at,
            stored: String::from_utf8_lossy(field).into_owned(),
            computed: unsigned,
        }),
    }
}

/// Parses PAX records (`"<len> <key>=<value>\n"`, len counting the whole record).
fn parse_pax(body: &[u8], at: u64, out: &mut PaxFields) -> Result<(), LayerError> {
    let bad = |reason: String| LayerError::BadPax { offset: at, reason };
    let mut rest = body;
    while !rest.is_empty() {
        if rest.iter().all(|&b| b == 0) {
            break;
        }
        let sp = rest
            .iter()
            .take(21)
            .position(|&b| b == b' ')
            .ok_or_else(|| bad(format!("record without length: {:?}", preview(rest))))?;
        let len = std::str::from_utf8(&rest[..sp])
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<usize>().ok())
            .ok_or_else(|| bad(format!("bad record length: {:?}", preview(rest))))?;
        if len <= sp + 1 || len > rest.len() {
            return Err(bad(format!(
                "record length {len} does not fit the {} bytes left: {:?}",
                rest.len(),
                preview(rest)
            )));
        }
        let record = &rest[sp + 1..len];
        let Some((&b'\n', kv)) = record.split_last() else {
            return Err(bad(format!(
                "record does not end with a newline: {:?}",
                preview(rest)
            )));
        };
        let eq = kv
            .iter()
            .position(|&b| b == b'=')
            .ok_or_else(|| bad(format!("record without '=': {:?}", preview(rest))))?;
        apply_pax(&kv[..eq], &kv[eq + 1..], at, out)?;
        rest = &rest[len..];
    }
    Ok(())
}

fn preview(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(60)]).into_owned()
}

fn apply_pax(key: &[u8], value: &[u8], at: u64, out: &mut PaxFields) -> Result<(), LayerError> {
    let bad = |reason: String| LayerError::BadPax { offset: at, reason };
    let text = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
    let number = |v: &[u8]| -> Result<Option<u64>, LayerError> {
        if v.is_empty() {
            return Ok(None);
        }
        std::str::from_utf8(v)
            .ok()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<u64>().ok())
            .map(Some)
            .ok_or_else(|| bad(format!("{} is not a number: {:?}", text(key), text(v))))
    };
    let name = |v: &[u8]| -> Result<Option<Vec<u8>>, LayerError> {
        if v.contains(&0) {
            return Err(LayerError::NulInName {
                offset: at,
                key: text(key),
                value: text(v),
            });
        }
        Ok((!v.is_empty()).then(|| v.to_vec()))
    };
    out.any = true;
    match key {
        b"path" => out.path = name(value)?,
        b"linkpath" => out.linkpath = name(value)?,
        b"uname" => out.uname = name(value)?,
        b"gname" => out.gname = name(value)?,
        b"size" => out.size = number(value)?,
        b"uid" => out.uid = number(value)?,
        b"gid" => out.gid = number(value)?,
        b"mtime" => {
            out.mtime = if value.is_empty() {
                None
            } else {
                Some(
                    parse_pax_time(value)
                        .ok_or_else(|| bad(format!("mtime is not a time: {:?}", text(value))))?,
                )
            }
        }
        b"GNU.sparse.name" => {
            out.sparse = true;
            out.sparse_name = name(value)?;
        }
        b"GNU.sparse.realsize" | b"GNU.sparse.size" => {
            out.sparse = true;
            out.sparse_size = number(value)?;
        }
        k if k.starts_with(b"GNU.sparse.") => out.sparse = true,
        k if k.starts_with(b"SCHILY.xattr.") => {
            let xname = text(&k[b"SCHILY.xattr.".len()..]);
            out.xattrs.retain(|(n, _)| *n != xname);
            out.xattrs.push((xname, value.to_vec()));
        }
        _ => {}
    }
    Ok(())
}

/// `[-]seconds[.fraction]` to whole seconds, rounding toward negative infinity.
fn parse_pax_time(v: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(v).ok()?;
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    if secs.is_empty()
        || !secs.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let secs: i64 = secs.parse().ok()?;
    let has_frac = frac.bytes().any(|b| b != b'0');
    Some(if neg {
        -secs - i64::from(has_frac)
    } else {
        secs
    })
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

    fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
        let body_len = key.len() + value.len() + 3; // ' ', '=', '\n'
        let mut len = body_len + 1;
        while len != body_len + len.to_string().len() {
            len = body_len + len.to_string().len();
        }
        let mut r = format!("{len} {key}=").into_bytes();
        r.extend_from_slice(value);
        r.push(b'\n');
        r
    }

    #[test]
    fn numeric_fields() {
        assert_eq!(numeric(b"0000644\0"), Ok(0o644));
        assert_eq!(numeric(b"\0\0\0\0\0\0\0\0"), Ok(0));
        assert_eq!(numeric(b"  17 \0"), Ok(0o17));
        assert_eq!(numeric(&[0x80, 0, 0, 0, 0, 0, 0x01, 0x00]), Ok(256));
        assert_eq!(numeric(&[0xff; 12]), Ok(-1));
        assert!(numeric(&[0x80, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(numeric(b"12x\0").is_err());
    }

    #[test]
    fn pax_time_parses() {
        assert_eq!(parse_pax_time(b"1700000000.5"), Some(1_700_000_000));
        assert_eq!(parse_pax_time(b"-1.5"), Some(-2));
        assert_eq!(parse_pax_time(b"12"), Some(12));
        assert_eq!(parse_pax_time(b"1e9"), None);
    }

    #[test]
    fn pax_records_by_length_allow_newlines() {
        let mut body = pax_record("path", b"a\nb");
        body.extend(pax_record("SCHILY.xattr.user.k", b"v\x00\x01"));
        let mut f = PaxFields::default();
        parse_pax(&body, 0, &mut f).unwrap();
        assert_eq!(f.path.as_deref(), Some(&b"a\nb"[..]));
        assert_eq!(f.xattrs, vec![("user.k".to_owned(), b"v\x00\x01".to_vec())]);
    }

    #[test]
    fn malformed_pax_is_an_error() {
        for body in [
            &b"99 path=x\n"[..],
            b"abc path=x\n",
            b"9 pathx\n\n",
            b"8 path=x",
        ] {
            let err = parse_pax(body, 7, &mut PaxFields::default()).unwrap_err();
            assert!(matches!(err, LayerError::BadPax { offset: 7, .. }), "{err}");
        }
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
