//! One tar entry: its kind, flags, and a borrowed view into a [`LayerIndex`].

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

use super::ElfInfo;
use super::index::{EntryRecord, LayerIndex};
use super::whiteout::Whiteout;

/// What a tar entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum EntryKind {
    /// A regular file (types `0`, `\0`, `7`, and GNU sparse `S`).
    File,
    /// A directory (`5`, GNU dumpdir `D`, or an old-style name ending in `/`).
    Dir,
    /// A symbolic link (`2`); the target is in [`Entry::link_target`].
    Symlink,
    /// A hard link (`1`) to an earlier entry named in [`Entry::link_target`].
    Hardlink,
    /// A character device (`3`).
    CharDevice,
    /// A block device (`4`).
    BlockDevice,
    /// A named pipe (`6`).
    Fifo,
    /// Any other type byte; GNU tar extracts such entries as regular files.
    Other(u8),
}

impl EntryKind {
    /// The kind for a tar type flag byte (`None` for metadata headers: PAX, GNU long
    /// names, volume labels).
    pub fn from_type_flag(flag: u8) -> Option<Self> {
        Some(match flag {
            b'0' | b'\0' | b'7' | b'S' => EntryKind::File,
            b'1' => EntryKind::Hardlink,
            b'2' => EntryKind::Symlink,
            b'3' => EntryKind::CharDevice,
            b'4' => EntryKind::BlockDevice,
            b'5' | b'D' => EntryKind::Dir,
            b'6' => EntryKind::Fifo,
            b'x' | b'g' | b'L' | b'K' | b'V' | b'X' => return None,
            other => EntryKind::Other(other),
        })
    }

    /// The letter `ls -l` and `tar -tv` print first: `-`, `d`, `l`, `h`, `c`, `b`, `p`.
    pub fn ls_char(self) -> char {
        match self {
            EntryKind::File | EntryKind::Other(_) => '-',
            EntryKind::Dir => 'd',
            EntryKind::Symlink => 'l',
            EntryKind::Hardlink => 'h',
            EntryKind::CharDevice => 'c',
            EntryKind::BlockDevice => 'b',
            EntryKind::Fifo => 'p',
        }
    }

    /// Whether entries of this kind carry data blocks in the tar stream. Like Go's
    /// archive/tar (which Docker and containerd use), links, devices, fifos and
    /// directories never do, whatever their size field says.
    pub fn has_data(self) -> bool {
        matches!(self, EntryKind::File | EntryKind::Other(_))
    }
}

/// Facts about an entry worth a warning in the UI; a set of bits.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct EntryFlags(u16);

impl EntryFlags {
    /// The name started with `/` (extracted relative to the root anyway).
    pub const ABSOLUTE: Self = EntryFlags(1);
    /// A `..` in the name climbs above the root: the entry would land outside the image.
    pub const ESCAPES_ROOT: Self = EntryFlags(1 << 1);
    /// The name (or link target) was not UTF-8; it is shown with U+FFFD.
    pub const NON_UTF8: Self = EntryFlags(1 << 2);
    /// A GNU sparse file (old `S` type or PAX `GNU.sparse.*`); its data is a sparse map
    /// plus the non-hole parts, so `size` is the logical size.
    pub const SPARSE: Self = EntryFlags(1 << 3);
    /// A `.wh.NAME` whiteout: deletes NAME from lower layers; not a file of the image.
    pub const WHITEOUT: Self = EntryFlags(1 << 4);
    /// A `.wh..wh..opq` marker: its directory hides lower layers' children.
    pub const OPAQUE: Self = EntryFlags(1 << 5);
    /// Another AUFS `.wh..wh.*` metadata entry, ignored by runtimes.
    pub const WHITEOUT_META: Self = EntryFlags(1 << 6);
    /// Metadata came from a PAX extended header.
    pub const PAX: Self = EntryFlags(1 << 7);
    /// The name or link came from a GNU long-name (`L`) or long-link (`K`) header.
    pub const GNU_LONG_NAME: Self = EntryFlags(1 << 8);
    /// The link target escapes the root or is absolute (normal for symlinks, odd for
    /// hard links).
    pub const LINK_ESCAPES: Self = EntryFlags(1 << 9);
    /// The type byte is not one POSIX or GNU defines.
    pub const UNKNOWN_TYPE: Self = EntryFlags(1 << 10);

    /// No flags.
    pub const fn empty() -> Self {
        EntryFlags(0)
    }

    /// Both sets.
    pub const fn union(self, other: Self) -> Self {
        EntryFlags(self.0 | other.0)
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any flag of `other` is set.
    pub const fn intersects(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The raw bits (stable: for passing across a worker boundary).
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// Flags from raw bits (unknown bits are kept, and shown by no name).
    pub const fn from_bits(bits: u16) -> Self {
        EntryFlags(bits)
    }

    const NAMES: [(EntryFlags, &'static str); 11] = [
        (Self::ABSOLUTE, "absolute"),
        (Self::ESCAPES_ROOT, "escapes-root"),
        (Self::NON_UTF8, "non-utf8"),
        (Self::SPARSE, "sparse"),
        (Self::WHITEOUT, "whiteout"),
        (Self::OPAQUE, "opaque"),
        (Self::WHITEOUT_META, "whiteout-meta"),
        (Self::PAX, "pax"),
        (Self::GNU_LONG_NAME, "gnu-long-name"),
        (Self::LINK_ESCAPES, "link-escapes"),
        (Self::UNKNOWN_TYPE, "unknown-type"),
    ];
}

impl BitOr for EntryFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        self.union(rhs)
    }
}

impl BitOrAssign for EntryFlags {
    fn bitor_assign(&mut self, rhs: Self) {
        *self = self.union(rhs);
    }
}

impl fmt::Debug for EntryFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Self::NAMES
            .iter()
            .filter(|(fl, _)| self.contains(*fl))
            .map(|(_, n)| *n)
            .collect();
        write!(f, "EntryFlags({})", names.join("|"))
    }
}

/// A borrowed view of one entry of a [`LayerIndex`]; strings point into the index's
/// shared text table.
#[derive(Clone, Copy)]
pub struct Entry<'a> {
    pub(super) index: &'a LayerIndex,
    pub(super) rec: &'a EntryRecord,
    pub(super) pos: usize,
}

impl<'a> Entry<'a> {
    /// Position of the entry in its layer (tar order).
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Normalized path inside the image, without leading `/`; `""` is the root.
    pub fn path(&self) -> &'a str {
        self.index.text(self.rec.path)
    }

    /// What the entry is.
    pub fn kind(&self) -> EntryKind {
        self.rec.kind
    }

    /// Warnings about the entry.
    pub fn flags(&self) -> EntryFlags {
        self.rec.flags
    }

    /// Logical size in bytes (0 for kinds without data; the real size for sparse files).
    pub fn size(&self) -> u64 {
        self.rec.size
    }

    /// Permission bits (`0o7777` at most).
    pub fn mode(&self) -> u32 {
        self.rec.mode
    }

    /// Owner user id.
    pub fn uid(&self) -> u64 {
        self.rec.uid
    }

    /// Owner group id.
    pub fn gid(&self) -> u64 {
        self.rec.gid
    }

    /// Owner user name, `""` when the archive has none.
    pub fn uname(&self) -> &'a str {
        self.index.text(self.rec.uname)
    }

    /// Owner group name, `""` when the archive has none.
    pub fn gname(&self) -> &'a str {
        self.index.text(self.rec.gname)
    }

    /// Modification time, seconds since the Unix epoch.
    pub fn mtime(&self) -> i64 {
        self.rec.mtime
    }

    /// Target of a symlink (as written) or hard link (normalized like a path).
    pub fn link_target(&self) -> Option<&'a str> {
        self.rec.link.map(|s| self.index.text(s))
    }

    /// Device numbers of a character or block device.
    pub fn device(&self) -> Option<(u32, u32)> {
        matches!(
            self.rec.kind,
            EntryKind::CharDevice | EntryKind::BlockDevice
        )
        .then_some((self.rec.dev_major, self.rec.dev_minor))
    }

    /// Offset of the entry's first header block (PAX or long-name headers included) in
    /// the decompressed stream.
    pub fn header_offset(&self) -> u64 {
        self.rec.header_offset
    }

    /// Offset of the entry's data in the decompressed stream: its bytes are
    /// `[data_offset, data_offset + size)` there (except for sparse files).
    pub fn data_offset(&self) -> u64 {
        self.rec.data_offset
    }

    /// CRC-32 of the entry's data as stored (0 for entries without data): lets the merge
    /// tell a changed file from a re-written identical one.
    pub fn crc32(&self) -> u32 {
        self.rec.crc32
    }

    /// XXH3-64 of the entry's data as stored (0 for entries without data, or when the
    /// walker ran without it): with [`Entry::size`] and [`Entry::crc32`], the content
    /// identity that compares files across images (see `layer/tar/content.rs` for why).
    pub fn content_hash(&self) -> u64 {
        self.rec.content_hash
    }

    /// The ELF header of a regular file whose data starts with one.
    pub fn elf(&self) -> Option<ElfInfo> {
        self.rec.elf
    }

    /// Extended attributes from `SCHILY.xattr.*` PAX records: name and raw value.
    pub fn xattrs(&self) -> impl Iterator<Item = (&'a str, Vec<u8>)> + 'a {
        let index = self.index;
        index
            .xattrs_of(self.rec)
            .map(move |x| (index.text(x.name), index.xattr_value(x)))
    }

    /// What the entry does if it is a whiteout (`None` for ordinary entries).
    pub fn whiteout(&self) -> Option<Whiteout> {
        Whiteout::classify(self.path())
    }

    /// Whether the entry is a file of the image (not a whiteout or AUFS metadata).
    pub fn is_visible(&self) -> bool {
        !self
            .rec
            .flags
            .intersects(EntryFlags::WHITEOUT | EntryFlags::OPAQUE | EntryFlags::WHITEOUT_META)
    }
}

impl fmt::Debug for Entry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("path", &self.path())
            .field("kind", &self.kind())
            .field("size", &self.size())
            .field("mode", &format_args!("{:o}", self.mode()))
            .field("uid", &self.uid())
            .field("gid", &self.gid())
            .field("link", &self.link_target())
            .field("flags", &self.flags())
            .finish()
    }
}
