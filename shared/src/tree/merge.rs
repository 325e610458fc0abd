//! Applies indexed layers in order into the merged image tree, with each path's origin
//! (which layer added, modified or deleted it).
//!
//! Semantics follow the OCI image spec's "Applying changesets": a layer's whiteouts
//! (`.wh.NAME`) and opaque markers (`.wh..wh..opq`) act on the layers below it only, and an
//! opaque marker applies wherever it sits among its siblings, so all of a layer's
//! whiteouts are applied before its entries. A non-directory replacing a directory
//! removes the directory's subtree; a directory replacing a file removes the file.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry as Slot;

use super::node::{Change, ChangeKind, LayerStats, Modified, TreeNode, Wasted};
use crate::layer::{Entry, EntryFlags, EntryKind};

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

        // One descent of the map for a new path (most are new), not a lookup and an insert.
        let old_kind = match self.nodes.entry(path.to_owned()) {
            Slot::Vacant(slot) => {
                fresh.changes.push(ctx.change(ChangeKind::Added, size));
                self.layers[ctx.layer as usize].added.add(file_bytes);
                slot.insert(fresh);
                return;
            }
            Slot::Occupied(slot) => {
                let n = slot.into_mut();
                if !n.present {
                    fresh.changes = std::mem::take(&mut n.changes);
                    fresh.wasted = n.wasted;
                    fresh.changes.push(ctx.change(ChangeKind::Added, size));
                    *n = fresh;
                    self.layers[ctx.layer as usize].added.add(file_bytes);
                    return;
                }
                n.kind
            }
        };
        if old_kind == EntryKind::Dir && kind != EntryKind::Dir {
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
