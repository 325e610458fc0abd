//! Applies indexed layers in order into the merged image tree, with each path's origin
//! (which layer added, modified or deleted it).
//!
//! Semantics follow the OCI image spec's "Applying changesets": a layer's whiteouts
//! (`.wh.NAME`) and opaque markers (`.wh..wh..opq`) act on the layers below it only, and an
//! opaque marker applies wherever it sits among its siblings, so all of a layer's
//! whiteouts are applied before its entries. A non-directory replacing a directory
//! removes the directory's subtree; a directory replacing a file removes the file.

use std::collections::BTreeMap;

use crate::layer::{ElfInfo, Entry, EntryFlags, EntryKind};

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
    fn add(&mut self, bytes: u64) {
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
    #[serde(skip)]
    data: Option<u32>,
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

/// The merged image: every path any layer touched, and per-layer statistics.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MergedTree {
    nodes: BTreeMap<String, TreeNode>,
    layers: Vec<LayerStats>,
}

impl MergedTree {
    /// The node for a normalized path (no leading `/`; `""` is the root).
    pub fn get(&self, path: &str) -> Option<&TreeNode> {
        self.nodes.get(path)
    }

    /// Paths of the final image with their nodes, sorted.
    pub fn present(&self) -> impl Iterator<Item = (&str, &TreeNode)> + '_ {
        self.nodes
            .iter()
            .filter(|(_, n)| n.present)
            .map(|(k, n)| (k.as_str(), n))
    }

    /// Every path ever touched, removed ones included, sorted.
    pub fn all(&self) -> impl Iterator<Item = (&str, &TreeNode)> + '_ {
        self.nodes.iter().map(|(k, n)| (k.as_str(), n))
    }

    /// Direct children of `dir` (present or not), sorted.
    pub fn children<'a>(
        &'a self,
        dir: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a TreeNode)> + 'a {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let plen = prefix.len();
        self.nodes
            .range::<str, _>((
                std::ops::Bound::Included(prefix.as_str()),
                std::ops::Bound::Unbounded,
            ))
            .take_while(move |(k, _)| k.starts_with(&prefix))
            .filter(move |(k, _)| k.len() > plen && !k[plen..].contains('/'))
            .map(|(k, n)| (k.as_str(), n))
    }

    /// Per-layer statistics, in layer order.
    pub fn layers(&self) -> &[LayerStats] {
        &self.layers
    }

    /// Number of paths ever touched.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no layer touched any path.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Wasted bytes over all layers.
    pub fn wasted_bytes(&self) -> u64 {
        self.layers
            .iter()
            .map(|l| l.wasted_bytes)
            .fold(0, u64::saturating_add)
    }
}

/// The data of one regular file entry, shared by the hard links to it.
#[derive(Clone, Debug)]
struct DataObject {
    layer: u32,
    size: u64,
    refs: u32,
}

/// Applies layers in order; call [`TreeBuilder::apply`] as each layer's index is ready
/// (in layer order) and [`TreeBuilder::finish`] at the end.
#[derive(Clone, Debug, Default)]
pub struct TreeBuilder {
    nodes: BTreeMap<String, TreeNode>,
    objects: Vec<DataObject>,
    pub(super) layers: Vec<LayerStats>,
    /// The parent of the path added last, a present directory with every ancestor
    /// (anything removed forgets it): a layer lists a folder's entries one after
    /// another, so their parents need no lookup but the first.
    known_dir: Option<String>,
}

impl TreeBuilder {
    /// An empty image.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of layers applied so far.
    pub fn layers_applied(&self) -> usize {
        self.layers.len()
    }

    /// The merged tree.
    pub fn finish(self) -> MergedTree {
        MergedTree {
            nodes: self.nodes,
            layers: self.layers,
        }
    }

    /// Records on `dir` that layer `ctx` replaced its contents with an opaque marker.
    pub(super) fn mark_opaque(&mut self, dir: &str, ctx: Ctx) {
        let Some(n) = self.nodes.get_mut(dir).filter(|n| n.present) else {
            return;
        };
        let opaque = Modified {
            opaque: true,
            ..Modified::default()
        };
        match n.changes.last_mut() {
            Some(Change {
                layer,
                kind: ChangeKind::Modified(m),
                ..
            }) if *layer == ctx.layer => {
                if !m.is_substantive() {
                    self.layers[ctx.layer as usize].modified.add(0);
                }
                m.opaque = true;
            }
            Some(c) if c.layer == ctx.layer => {}
            _ => {
                n.changes.push(ctx.change(ChangeKind::Modified(opaque), 0));
                self.layers[ctx.layer as usize].modified.add(0);
            }
        }
    }

    /// Removes `path` (when `include_self`) and every present path under it.
    pub(super) fn remove(&mut self, path: &str, include_self: bool, kind: ChangeKind, ctx: Ctx) {
        self.known_dir = None;
        let (objects, layers) = (&mut self.objects, &mut self.layers);
        if include_self
            && let Some(n) = self.nodes.get_mut(path)
            && n.present
        {
            drop_node(n, kind, ctx, objects, layers);
        }
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}/")
        };
        let range = self.nodes.range_mut::<str, _>((
            std::ops::Bound::Included(prefix.as_str()),
            std::ops::Bound::Unbounded,
        ));
        for (k, n) in range {
            if !k.starts_with(&prefix) {
                break;
            }
            if k.is_empty() || !n.present {
                continue;
            }
            drop_node(n, kind, ctx, objects, layers);
        }
    }

    /// Makes sure every ancestor of `path` is a present directory.
    fn ensure_parents(&mut self, path: &str, ctx: Ctx) {
        let parent = path.rfind('/').map(|at| &path[..at]);
        if parent.is_some() && parent == self.known_dir.as_deref() {
            return;
        }
        self.ensure_ancestors(path, ctx);
        self.known_dir = parent.map(str::to_owned);
    }

    fn ensure_ancestors(&mut self, path: &str, ctx: Ctx) {
        let mut end = 0;
        while let Some(i) = path[end..].find('/') {
            let dir = &path[..end + i];
            end += i + 1;
            match self.nodes.get_mut(dir) {
                Some(n) if n.present && n.kind == EntryKind::Dir => {}
                Some(n) => {
                    let was_present = n.present;
                    if was_present {
                        let (objects, layers) = (&mut self.objects, &mut self.layers);
                        release(n, objects, layers);
                    }
                    let change = if was_present {
                        ChangeKind::Modified(Modified {
                            content: true,
                            kind: true,
                            ..Modified::default()
                        })
                    } else {
                        ChangeKind::Added
                    };
                    *n = TreeNode {
                        changes: std::mem::take(&mut n.changes),
                        wasted: n.wasted,
                        ..implied_dir(ctx.layer)
                    };
                    n.changes.push(Change {
                        layer: ctx.layer,
                        history_step: ctx.history_step,
                        kind: change,
                        size: 0,
                    });
                }
                None => {
                    let mut n = implied_dir(ctx.layer);
                    n.changes.push(Change {
                        layer: ctx.layer,
                        history_step: ctx.history_step,
                        kind: ChangeKind::Added,
                        size: 0,
                    });
                    self.nodes.insert(dir.to_owned(), n);
                }
            }
        }
    }

    pub(super) fn add(&mut self, e: &Entry<'_>, ctx: Ctx) {
        let path = e.path();
        if !e.flags().contains(EntryFlags::ESCAPES_ROOT) {
            self.ensure_parents(path, ctx);
        }
        let kind = e.kind();
        let link = e.link_target().map(str::to_owned);

        // Data: a new object for a file, the target's object for a hard link.
        let mut content = (e.crc32(), e.content_hash(), e.elf());
        let (data, size) = match kind {
            EntryKind::Hardlink => {
                let target = link
                    .as_deref()
                    .and_then(|t| self.nodes.get(t))
                    .filter(|n| n.present);
                if let Some(t) = target {
                    content = (t.crc32, t.content_hash, t.elf);
                }
                match target.and_then(|t| t.data.map(|d| (d, t.size))) {
                    Some((d, size)) => {
                        if let Some(o) = self.objects.get_mut(d as usize) {
                            o.refs += 1;
                        }
                        (Some(d), size)
                    }
                    None => (None, target.map_or(0, |t| t.size)),
                }
            }
            k if k.has_data() && e.size() > 0 => {
                self.objects.push(DataObject {
                    layer: ctx.layer,
                    size: e.size(),
                    refs: 1,
                });
                (Some(self.objects.len() as u32 - 1), e.size())
            }
            _ => (None, e.size()),
        };

        let mut fresh = TreeNode {
            present: true,
            implied: false,
            kind,
            size,
            mode: e.mode(),
            uid: e.uid(),
            gid: e.gid(),
            mtime: e.mtime(),
            link,
            crc32: content.0,
            content_hash: content.1,
            elf: content.2,
            flags: e.flags(),
            layer: ctx.layer,
            entry: Some(e.position() as u32),
            changes: Vec::new(),
            wasted: Wasted::default(),
            data,
        };
        let file_bytes = if kind.has_data() { size } else { 0 };

        let Some(old) = self.nodes.get(path) else {
            fresh.changes.push(ctx.change(ChangeKind::Added, size));
            self.layers[ctx.layer as usize].added.add(file_bytes);
            self.nodes.insert(path.to_owned(), fresh);
            return;
        };
        if !old.present {
            let n = self.nodes.get_mut(path).expect("checked above");
            fresh.changes = std::mem::take(&mut n.changes);
            fresh.wasted = n.wasted;
            fresh.changes.push(ctx.change(ChangeKind::Added, size));
            *n = fresh;
            self.layers[ctx.layer as usize].added.add(file_bytes);
            return;
        }
        if old.kind == EntryKind::Dir && kind != EntryKind::Dir {
            self.remove(path, false, ChangeKind::Deleted, ctx);
        }
        let (objects, layers) = (&mut self.objects, &mut self.layers);
        let n = self.nodes.get_mut(path).expect("checked above");
        release(n, objects, layers);
        let same_layer =
            n.layer == ctx.layer && n.changes.last().is_some_and(|c| c.layer == ctx.layer);
        let modified = Modified {
            content: n.kind != kind
                || n.size != size
                || n.crc32 != fresh.crc32
                || n.content_hash != fresh.content_hash,
            kind: n.kind != kind,
            mode: n.mode != fresh.mode,
            owner: n.uid != fresh.uid || n.gid != fresh.gid,
            link: n.link != fresh.link,
            mtime: n.mtime != fresh.mtime,
            opaque: false,
        };
        let was_implied = n.implied;
        fresh.changes = std::mem::take(&mut n.changes);
        fresh.wasted = n.wasted;
        let stats = &mut layers[ctx.layer as usize];
        if same_layer {
            // A second entry for the path in the same layer (or the real entry of a
            // directory implied earlier in this layer): the later one wins, and the
            // layer's change is updated rather than doubled.
            if let Some(last) = fresh.changes.last_mut() {
                last.size = size;
                if was_implied {
                    match last.kind {
                        ChangeKind::Added => stats.added.add(file_bytes),
                        ChangeKind::Modified(_) => stats.modified.add(file_bytes),
                        _ => {}
                    }
                }
            }
        } else {
            fresh
                .changes
                .push(ctx.change(ChangeKind::Modified(modified), size));
            if modified.is_substantive() || kind != EntryKind::Dir {
                stats.modified.add(file_bytes);
            }
        }
        *n = fresh;
    }
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Ctx {
    pub(super) layer: u32,
    pub(super) history_step: Option<u32>,
}

impl Ctx {
    pub(super) fn change(self, kind: ChangeKind, size: u64) -> Change {
        Change {
            layer: self.layer,
            history_step: self.history_step,
            kind,
            size,
        }
    }
}

fn implied_dir(layer: u32) -> TreeNode {
    TreeNode {
        present: true,
        implied: true,
        kind: EntryKind::Dir,
        size: 0,
        mode: 0o755,
        uid: 0,
        gid: 0,
        mtime: 0,
        link: None,
        crc32: 0,
        content_hash: 0,
        elf: None,
        flags: EntryFlags::empty(),
        layer,
        entry: None,
        changes: Vec::new(),
        wasted: Wasted::default(),
        data: None,
    }
}

/// Marks a present node removed by layer `ctx` and counts it.
fn drop_node(
    n: &mut TreeNode,
    kind: ChangeKind,
    ctx: Ctx,
    objects: &mut [DataObject],
    layers: &mut [LayerStats],
) {
    n.present = false;
    n.changes.push(ctx.change(kind, n.size));
    let bytes = if n.kind.has_data() { n.size } else { 0 };
    if let Some(stats) = layers.get_mut(ctx.layer as usize) {
        stats.deleted.add(bytes);
    }
    release(n, objects, layers);
}

/// Drops the node's reference to its data; data nobody references is wasted in the
/// layer that shipped it.
fn release(n: &mut TreeNode, objects: &mut [DataObject], layers: &mut [LayerStats]) {
    let Some(id) = n.data.take() else { return };
    let Some(o) = objects.get_mut(id as usize) else {
        return;
    };
    o.refs = o.refs.saturating_sub(1);
    if o.refs == 0 {
        n.wasted.copies = n.wasted.copies.saturating_add(1);
        n.wasted.bytes = n.wasted.bytes.saturating_add(o.size);
    }
    if o.refs == 0
        && let Some(stats) = layers.get_mut(o.layer as usize)
    {
        stats.wasted_bytes = stats.wasted_bytes.saturating_add(o.size);
    }
}
