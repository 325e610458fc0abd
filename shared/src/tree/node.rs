//! What the merged tree records: per path its latest version and every change, per layer
//! what it did to the image.

use crate::layer::{ElfInfo, EntryFlags, EntryKind};

/// What one layer did to one path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ChangeKind {
    /// The path did not exist below (or had been deleted) and this layer created it.
    Added,
    /// The path existed below and this layer wrote it again; the flags say what differs.
    Modified(Modified),
    /// A whiteout of the path or of an ancestor, or a non-directory replacing an ancestor
    /// directory, removed it.
    Deleted,
    /// An opaque marker in an ancestor directory hid it.
    HiddenByOpaque,
}

impl ChangeKind {
    /// One word for listings and exports: `added`, `modified`, `deleted`, `hidden`.
    pub fn word(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Modified(_) => "modified",
            ChangeKind::Deleted => "deleted",
            ChangeKind::HiddenByOpaque => "hidden",
        }
    }
}

/// What a [`ChangeKind::Modified`] changed compared with the version below.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Modified {
    /// Data differs (size or CRC-32), or the kind changed (a file became a directory...).
    pub content: bool,
    /// The kind changed (file ↔ directory ↔ symlink ...).
    pub kind: bool,
    /// Permission bits differ.
    pub mode: bool,
    /// uid or gid differ.
    pub owner: bool,
    /// Symlink or hard-link target differs.
    pub link: bool,
    /// Only the modification time may differ when every other flag is false.
    pub mtime: bool,
    /// This layer's opaque marker replaced the directory's contents from below.
    #[serde(default)]
    pub opaque: bool,
}

impl Modified {
    /// Whether anything besides the mtime changed.
    pub fn is_substantive(&self) -> bool {
        self.content || self.kind || self.mode || self.owner || self.link || self.opaque
    }

    /// The substantive changes by name (`content`, `kind`, `mode`, `owner`, `link`); empty
    /// when only the mtime may differ.
    pub fn parts(&self) -> Vec<&'static str> {
        [
            (self.content, "content"),
            (self.kind, "kind"),
            (self.mode, "mode"),
            (self.owner, "owner"),
            (self.link, "link"),
            (self.opaque, "opaque"),
        ]
        .into_iter()
        .filter_map(|(on, word)| on.then_some(word))
        .collect()
    }
}

/// One step of a path's history.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Change {
    /// Layer index (0 = base layer).
    pub layer: u32,
    /// Index into the config's `history` of the step that made the layer, when known.
    pub history_step: Option<u32>,
    /// What happened.
    pub kind: ChangeKind,
    /// Size of the path's data after an add or modify, or of what was removed.
    pub size: u64,
}

/// A count of paths and their bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CountBytes {
    /// Number of paths.
    pub count: u64,
    /// Bytes of regular-file data.
    pub bytes: u64,
}

impl CountBytes {
    pub(super) fn add(&mut self, bytes: u64) {
        self.count += 1;
        self.bytes = self.bytes.saturating_add(bytes);
    }
}

/// What one layer did to the image.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LayerStats {
    /// Layer index.
    pub layer: u32,
    /// History step that made it, when known.
    pub history_step: Option<u32>,
    /// Entries of the layer that are files of the image (whiteouts excluded).
    pub entries: u64,
    /// Whiteout and opaque entries.
    pub whiteouts: u64,
    /// Paths this layer created.
    pub added: CountBytes,
    /// Paths this layer rewrote with a real change (directories re-listed with only a new
    /// mtime are not counted).
    pub modified: CountBytes,
    /// Paths of lower layers this layer removed (deleted, hidden, or replaced subtrees),
    /// with the bytes of their regular files.
    pub deleted: CountBytes,
    /// Bytes of this layer's files that a later entry deletes or replaces: shipped, never
    /// seen in the final image. Each byte counts once; data still reachable through a
    /// hard link is not wasted.
    pub wasted_bytes: u64,
}

/// One path of the merged image, present or removed, with its history.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TreeNode {
    /// Whether the path exists in the final image.
    pub present: bool,
    /// A directory no layer lists but that must exist for a listed path inside it.
    pub implied: bool,
    /// Kind of the latest version.
    pub kind: EntryKind,
    /// Size of the latest version (a hard link shows its target's size).
    pub size: u64,
    /// Permission bits.
    pub mode: u32,
    /// Owner user id.
    pub uid: u64,
    /// Owner group id.
    pub gid: u64,
    /// Modification time (seconds since the epoch).
    pub mtime: i64,
    /// Link target of a symlink or hard link.
    pub link: Option<String>,
    /// CRC-32 of the data (0 for entries without data); a hard link has its target's.
    pub crc32: u32,
    /// XXH3-64 of the data (0 for entries without data); a hard link has its target's.
    #[serde(default)]
    pub content_hash: u64,
    /// The ELF header of a file whose data starts with one (a hard link: its target's).
    #[serde(default)]
    pub elf: Option<ElfInfo>,
    /// Flags of the entry that provided the latest version.
    pub flags: EntryFlags,
    /// Layer of the latest version.
    pub layer: u32,
    /// Position of the latest version in that layer's index (`None` when implied).
    pub entry: Option<u32>,
    /// Every change, oldest first.
    pub changes: Vec<Change>,
    /// Data this path shipped in some layer that never reaches the final image.
    #[serde(default)]
    pub wasted: Wasted,
    /// The data object the node's bytes belong to (shared by hard links).
    #[serde(skip)]
    pub(super) data: Option<u32>,
}

impl TreeNode {
    /// The node's latest version without its history (`changes` left empty): what a
    /// row of one layer's changes needs, at a fraction of a full copy.
    pub fn without_history(&self) -> TreeNode {
        TreeNode {
            present: self.present,
            implied: self.implied,
            kind: self.kind,
            size: self.size,
            mode: self.mode,
            uid: self.uid,
            gid: self.gid,
            mtime: self.mtime,
            link: self.link.clone(),
            crc32: self.crc32,
            content_hash: self.content_hash,
            elf: self.elf,
            flags: self.flags,
            layer: self.layer,
            entry: self.entry,
            changes: Vec::new(),
            wasted: self.wasted,
            data: self.data,
        }
    }
}

/// A path's shipped data that a later layer deleted or overwrote: dive's "potential
/// wasted space" of one path. Data still reachable through a hard link is not wasted, and
/// data two paths shared is credited to the path that dropped it last.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Wasted {
    /// Versions of the path whose data was wasted.
    pub copies: u32,
    /// Their bytes.
    pub bytes: u64,
}
