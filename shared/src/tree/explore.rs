//! Views over a merged image tree for the file explorer: directory listings, one layer's
//! changes, search by substring or glob, largest files, and the efficiency score. Pure
//! functions, so the page only renders their rows.

use super::{Change, ChangeKind, MergedTree, Pattern, TreeNode};
use crate::layer::EntryKind;

/// How to order a listing: the column whose header was clicked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortBy {
    /// Directories first, then by name.
    #[default]
    Name,
    /// Largest first (directories by their subtree's bytes).
    Size,
    /// By the layer of the latest version (a layer view: the layer of the change), lowest
    /// first, then by name.
    Layer,
    /// Most recently modified first.
    Modified,
}

/// A listing's order as the URL's `sort` key holds it: the column, and `-` before it for
/// the reverse of that column's natural order (`sort=-size`: smallest first).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sort {
    /// The column.
    pub by: SortBy,
    /// The reverse of the column's natural order.
    pub reverse: bool,
}

impl Sort {
    /// Parses the `sort` URL value; anything unknown is the default order.
    pub fn parse(s: &str) -> Sort {
        let (reverse, name) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let by = match name {
            "size" => SortBy::Size,
            "layer" => SortBy::Layer,
            "time" => SortBy::Modified,
            "name" | "" => SortBy::Name,
            _ => return Sort::default(),
        };
        Sort { by, reverse }
    }

    /// The `sort` URL value; `None` for the default order.
    pub fn value(self) -> Option<String> {
        let name = match self.by {
            SortBy::Name if !self.reverse => return None,
            SortBy::Name => "name",
            SortBy::Size => "size",
            SortBy::Layer => "layer",
            SortBy::Modified => "time",
        };
        Some(format!("{}{name}", if self.reverse { "-" } else { "" }))
    }

    /// The order a click on column `by`'s header gives: that column's natural order, or
    /// its reverse when it is already the order.
    pub fn toggled(self, by: SortBy) -> Sort {
        Sort {
            by,
            reverse: self.by == by && !self.reverse,
        }
    }

    /// Orders `rows` (a listing computed with `self.by`) as asked.
    pub fn apply_direction<T>(self, rows: &mut [T]) {
        if self.reverse {
            rows.reverse();
        }
    }
}

/// One row of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Normalized path (no leading `/`).
    pub path: String,
    /// The node.
    pub node: TreeNode,
    /// For directories: bytes of present regular files below it.
    pub subtree_bytes: u64,
    /// For directories: present paths below it.
    pub subtree_count: u64,
    /// In a layer view: what that layer did to the path, with the bytes it added,
    /// rewrote or removed (a deletion row is about the layer that deleted, not the path's
    /// latest version).
    pub change: Option<Change>,
}

impl Row {
    /// The last path component.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    /// The layer the row's Layer column names: the change's in a layer view, else the
    /// latest version's.
    pub fn shown_layer(&self) -> u32 {
        self.change.as_ref().map_or(self.node.layer, |c| c.layer)
    }

    /// Size to sort and show: a directory's subtree, else the node's own.
    pub fn shown_size(&self) -> u64 {
        if self.node.kind == EntryKind::Dir {
            self.subtree_bytes
        } else {
            self.node.size
        }
    }
}

/// `-rwxr-xr-x`, with the kind letter first, as `ls -l` prints it.
pub fn mode_string(kind: EntryKind, mode: u32) -> String {
    let mut s = String::with_capacity(10);
    // A hard link is a regular file, as `ls -l` shows it; the listing says what it links to.
    s.push(match kind {
        EntryKind::Hardlink => '-',
        kind => kind.ls_char(),
    });
    let bits = [
        (0o400, 'r'),
        (0o200, 'w'),
        (0o100, 'x'),
        (0o040, 'r'),
        (0o020, 'w'),
        (0o010, 'x'),
        (0o004, 'r'),
        (0o002, 'w'),
        (0o001, 'x'),
    ];
    for (i, (bit, ch)) in bits.iter().enumerate() {
        let special = match i {
            2 if mode & 0o4000 != 0 => Some(if mode & bit != 0 { 's' } else { 'S' }),
            5 if mode & 0o2000 != 0 => Some(if mode & bit != 0 { 's' } else { 'S' }),
            8 if mode & 0o1000 != 0 => Some(if mode & bit != 0 { 't' } else { 'T' }),
            _ => None,
        };
        s.push(special.unwrap_or(if mode & bit != 0 { *ch } else { '-' }));
    }
    s
}

fn subtree(tree: &MergedTree, dir: &str) -> (u64, u64) {
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    tree.all()
        .skip_while(|(p, _)| *p < prefix.as_str())
        .take_while(|(p, _)| p.starts_with(&prefix))
        .filter(|(p, n)| n.present && !p.is_empty())
        .fold((0, 0), |(bytes, count), (_, n)| {
            let b = if n.kind.has_data() && n.kind != EntryKind::Hardlink {
                n.size
            } else {
                0
            };
            (bytes + b, count + 1)
        })
}

fn row(tree: &MergedTree, path: &str, node: &TreeNode, change: Option<Change>) -> Row {
    let (subtree_bytes, subtree_count) = if node.kind == EntryKind::Dir {
        subtree(tree, path)
    } else {
        (0, 0)
    };
    Row {
        path: path.to_owned(),
        node: node.clone(),
        subtree_bytes,
        subtree_count,
        change,
    }
}

fn sort_rows(rows: &mut [Row], sort: SortBy) {
    match sort {
        SortBy::Name => rows.sort_by(|a, b| {
            (b.node.kind == EntryKind::Dir)
                .cmp(&(a.node.kind == EntryKind::Dir))
                .then_with(|| a.path.cmp(&b.path))
        }),
        SortBy::Size => rows.sort_by(|a, b| {
            b.shown_size()
                .cmp(&a.shown_size())
                .then_with(|| a.path.cmp(&b.path))
        }),
        SortBy::Layer => rows.sort_by(|a, b| {
            a.shown_layer()
                .cmp(&b.shown_layer())
                .then_with(|| a.path.cmp(&b.path))
        }),
        SortBy::Modified => rows.sort_by(|a, b| {
            b.node
                .mtime
                .cmp(&a.node.mtime)
                .then_with(|| a.path.cmp(&b.path))
        }),
    }
}

/// The children of `dir` in the merged image; removed ones too when `with_deleted`.
pub fn list_dir(tree: &MergedTree, dir: &str, sort: SortBy, with_deleted: bool) -> Vec<Row> {
    let mut rows: Vec<Row> = tree
        .children(dir)
        .filter(|(_, n)| n.present || with_deleted)
        .map(|(p, n)| row(tree, p, n, None))
        .collect();
    sort_rows(&mut rows, sort);
    rows
}

/// Everything layer `layer` changed (added, modified, deleted, hid), with what it did.
/// Directories merely re-listed with a new mtime are left out, as in the layer stats.
pub fn layer_changes(tree: &MergedTree, layer: u32, sort: SortBy) -> Vec<Row> {
    // Sized first from the layer's own counts (about a row for each entry and whiteout,
    // and an eighth more for the folders they imply): growing the rows of a 100k-path
    // layer copies them again and again, and counting them took a walk of the whole
    // tree. A row's node leaves its history behind: the layer's change is the row's.
    let expected = tree.layers().get(layer as usize).map_or(0, |stats| {
        let listed = stats.entries.saturating_add(stats.whiteouts);
        listed.saturating_add(listed / 8)
    });
    let mut rows = Vec::with_capacity(usize::try_from(expected).unwrap_or(0).min(tree.len()));
    rows.extend(tree.all().filter_map(|(path, n)| {
        let change = layer_change(n, layer)?;
        Some(Row {
            path: path.to_owned(),
            node: n.without_history(),
            subtree_bytes: 0,
            subtree_count: 0,
            change: Some(change.clone()),
        })
    }));
    match sort {
        SortBy::Size => rows.sort_by(|a, b| {
            let size = |r: &Row| r.change.as_ref().map_or(0, |c| c.size);
            size(b).cmp(&size(a)).then_with(|| a.path.cmp(&b.path))
        }),
        // One layer: every row is that layer's, so by name, which is the tree's order.
        SortBy::Name | SortBy::Layer => {}
        SortBy::Modified => sort_rows(&mut rows, sort),
    }
    rows
}

/// What `layer` did to the path, unless it only re-listed a directory.
fn layer_change(n: &TreeNode, layer: u32) -> Option<&Change> {
    let change = n.changes.iter().rev().find(|c| c.layer == layer)?;
    match change.kind {
        ChangeKind::Modified(m) if !m.is_substantive() => None,
        _ => Some(change),
    }
}

/// A search within what layer `layer` changed (deleted paths included), capped at `limit`.
pub fn search_layer(
    tree: &MergedTree,
    layer: u32,
    pattern: &Pattern,
    sort: SortBy,
    limit: usize,
) -> Vec<Row> {
    let mut rows = layer_changes(tree, layer, sort);
    rows.retain(|r| pattern.matches(&r.path));
    rows.truncate(limit);
    rows
}

/// Present paths matching `pattern`, capped at `limit` rows.
pub fn search(tree: &MergedTree, pattern: &Pattern, sort: SortBy, limit: usize) -> Vec<Row> {
    let mut rows: Vec<Row> = tree
        .present()
        .filter(|(p, _)| !p.is_empty() && pattern.matches(p))
        .take(limit)
        .map(|(p, n)| Row {
            path: p.to_owned(),
            node: n.clone(),
            subtree_bytes: 0,
            subtree_count: 0,
            change: None,
        })
        .collect();
    sort_rows(&mut rows, sort);
    rows
}

/// The `n` largest present regular files.
pub fn largest_files(tree: &MergedTree, n: usize) -> Vec<Row> {
    let mut files: Vec<(&str, &TreeNode)> = tree
        .present()
        .filter(|(_, node)| node.kind == EntryKind::File)
        .collect();
    files.sort_by(|a, b| b.1.size.cmp(&a.1.size).then_with(|| a.0.cmp(b.0)));
    files
        .into_iter()
        .take(n)
        .map(|(p, node)| Row {
            path: p.to_owned(),
            node: node.clone(),
            subtree_bytes: 0,
            subtree_count: 0,
            change: None,
        })
        .collect()
}

/// Efficiency: the share of shipped file bytes that reach the final image,
/// `1 − wasted / (wasted + present file bytes)`; 1.0 for an image with no files.
pub fn efficiency(tree: &MergedTree) -> f64 {
    let wasted = tree.wasted_bytes() as f64;
    let present: u64 = tree
        .present()
        .filter(|(_, n)| n.kind == EntryKind::File)
        .map(|(_, n)| n.size)
        .sum();
    let total = wasted + present as f64;
    if total == 0.0 {
        1.0
    } else {
        1.0 - wasted / total
    }
}

/// The directory a listing shows for a selected path: the path itself when it is a
/// directory of the tree, its parent for a file (shown among its siblings), and the
/// nearest existing directory above a path the image does not have.
pub fn listing_dir(tree: &MergedTree, path: &str) -> String {
    match tree.get(path) {
        Some(node) if node.kind == EntryKind::Dir => path.to_owned(),
        Some(_) => parent_dir(path).to_owned(),
        None => nearest_dir(tree, path),
    }
}

/// Where a path asked for (in a URL) leads in the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathLookup {
    /// The tree has this path (present, or removed by a layer).
    Found,
    /// The path passes through symlinked directories; a shell would reach this path.
    Follows(String),
    /// The image has no such path; the nearest existing directory above it.
    NotFound {
        /// Normalized, `""` for the root.
        nearest: String,
    },
}

/// Symlinks followed in one lookup before it gives up, as Linux's `ELOOP` does.
const MAX_LINK_HOPS: usize = 40;

/// Looks `path` up as a shell would: a symlinked directory on the way is followed (the
/// last component is not, so a link is shown as itself).
pub fn lookup_path(tree: &MergedTree, path: &str) -> PathLookup {
    if path.is_empty() || tree.get(path).is_some() {
        return PathLookup::Found;
    }
    let mut queue: std::collections::VecDeque<String> = path
        .split('/')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    let mut current = String::new();
    let mut hops = 0;
    while let Some(part) = queue.pop_front() {
        let next = if current.is_empty() {
            part
        } else {
            format!("{current}/{part}")
        };
        match tree.get(&next).filter(|n| n.present) {
            Some(node) if node.kind == EntryKind::Symlink && !queue.is_empty() => {
                hops += 1;
                if hops > MAX_LINK_HOPS {
                    return PathLookup::NotFound {
                        nearest: nearest_dir(tree, &current),
                    };
                }
                let target = super::resolve_link(&next, node.link.as_deref().unwrap_or(""));
                let mut rest: std::collections::VecDeque<String> = target
                    .split('/')
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect();
                rest.extend(queue.drain(..));
                queue = rest;
                current = String::new();
            }
            Some(_) => current = next,
            None => {
                return PathLookup::NotFound {
                    nearest: nearest_dir(tree, &next),
                };
            }
        }
    }
    if current == path {
        PathLookup::Found
    } else {
        PathLookup::Follows(current)
    }
}

/// The deepest present directory at or above `path`.
fn nearest_dir(tree: &MergedTree, path: &str) -> String {
    let mut at = path;
    loop {
        if at.is_empty()
            || tree
                .get(at)
                .is_some_and(|n| n.present && n.kind == EntryKind::Dir)
        {
            return at.to_owned();
        }
        at = parent_dir(at);
    }
}

/// The parent of a normalized path (`""` for a top-level name or the root).
pub fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

/// Per layer, how many paths below `dir` it added, modified (substantively) and removed:
/// `(layer, [added, modified, removed])`, by layer.
pub fn subtree_changes_by_layer(tree: &MergedTree, dir: &str) -> Vec<(u32, [u64; 3])> {
    let mut per_layer: std::collections::BTreeMap<u32, [u64; 3]> = Default::default();
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let below = tree
        .all()
        .filter(|(p, _)| p.starts_with(&prefix) && p.len() > prefix.len());
    for (_, n) in below {
        for c in &n.changes {
            let slot = match c.kind {
                ChangeKind::Added => 0,
                ChangeKind::Modified(m) if m.is_substantive() => 1,
                ChangeKind::Modified(_) => continue,
                ChangeKind::Deleted | ChangeKind::HiddenByOpaque => 2,
            };
            per_layer.entry(c.layer).or_default()[slot] += 1;
        }
    }
    per_layer.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_tar::{E, layer, merged};
    use super::*;

    #[test]
    fn sort_values_round_trip_and_a_second_click_reverses() {
        for value in ["size", "-size", "layer", "-layer", "time", "-time", "-name"] {
            assert_eq!(Sort::parse(value).value().as_deref(), Some(value));
        }
        assert_eq!(Sort::parse("").value(), None);
        assert_eq!(Sort::parse("name").value(), None);
        assert_eq!(Sort::parse("bogus"), Sort::default());
        let by_size = Sort::default().toggled(SortBy::Size);
        assert_eq!(by_size.value().as_deref(), Some("size"));
        assert_eq!(
            by_size.toggled(SortBy::Size).value().as_deref(),
            Some("-size")
        );
        assert_eq!(by_size.toggled(SortBy::Size).toggled(SortBy::Size), by_size);
        assert_eq!(
            by_size.toggled(SortBy::Layer).value().as_deref(),
            Some("layer")
        );
    }

    #[test]
    fn listings_sort_by_layer_and_by_time() {
        let tree = merged(&[
            layer(&[E::File("b", b"1"), E::File("a", b"2")]),
            layer(&[E::File("c", b"3"), E::File("b", b"4")]),
        ]);
        let names = |rows: Vec<Row>| rows.into_iter().map(|r| r.path).collect::<Vec<_>>();
        assert_eq!(
            names(list_dir(&tree, "", SortBy::Layer, false)),
            ["a", "b", "c"]
        );
        let mut rows = list_dir(&tree, "", SortBy::Layer, false);
        Sort::parse("-layer").apply_direction(&mut rows);
        assert_eq!(names(rows), ["c", "b", "a"]);
    }

    fn tree() -> MergedTree {
        merged(&[
            layer(&[
                E::Dir("etc/"),
                E::File("etc/hosts", b"127.0.0.1"),
                E::File("etc/big", b"0123456789"),
                E::File("top", b"t"),
            ]),
            layer(&[E::File("etc/hosts", b"::1"), E::File("etc/.wh.big", b"")]),
        ])
    }

    #[test]
    fn a_file_is_listed_among_its_siblings() {
        let t = tree();
        assert_eq!(listing_dir(&t, "etc"), "etc");
        assert_eq!(listing_dir(&t, "etc/hosts"), "etc");
        assert_eq!(listing_dir(&t, "top"), "");
        assert_eq!(listing_dir(&t, ""), "");
        assert_eq!(listing_dir(&t, "no/such/path"), "");
        assert_eq!(listing_dir(&t, "etc/no/such"), "etc");
        assert_eq!(parent_dir("a/b/c"), "a/b");
        assert_eq!(parent_dir("a"), "");
    }

    #[test]
    fn listings_hide_removed_paths_unless_asked() {
        let t = tree();
        let names = |rows: Vec<Row>| rows.into_iter().map(|r| r.path).collect::<Vec<_>>();
        assert_eq!(
            names(list_dir(&t, "etc", SortBy::Name, false)),
            ["etc/hosts"]
        );
        assert_eq!(
            names(list_dir(&t, "etc", SortBy::Name, true)),
            ["etc/big", "etc/hosts"]
        );
        assert_eq!(names(list_dir(&t, "", SortBy::Size, false)), ["etc", "top"]);
        let changes = layer_changes(&t, 1, SortBy::Name);
        let kinds: Vec<_> = changes
            .iter()
            .map(|r| r.change.as_ref().map(|c| c.kind.word()))
            .collect();
        assert_eq!(kinds, [Some("deleted"), Some("modified")]);
    }

    #[test]
    fn a_deletion_row_is_about_the_layer_that_deleted_and_what_went() {
        // L0 adds big (3000 B), L1 deletes it, L2 adds a new, small big.
        let t = merged(&[
            layer(&[
                E::File("big.bin", &[7u8; 3000]),
                E::Dir("var/lib"),
                E::File("var/lib/a", b"a"),
            ]),
            layer(&[
                E::File(".wh.big.bin", b""),
                E::Dir("var/lib"),
                E::File("var/lib/.wh..wh..opq", b""),
                E::File("var/lib/b", b"b"),
            ]),
            layer(&[E::File("big.bin", &[1u8; 1000])]),
        ]);
        let rows = layer_changes(&t, 1, SortBy::Size);
        let big = rows.iter().find(|r| r.path == "big.bin").unwrap();
        let change = big.change.as_ref().unwrap();
        assert_eq!(
            (change.layer, change.kind, change.size),
            (1, ChangeKind::Deleted, 3000)
        );
        assert_eq!(rows[0].path, "big.bin", "sorted by what the change moved");
        // The opaque reset of var/lib reads as a replacement, not an mtime-only rewrite.
        let lib = rows.iter().find(|r| r.path == "var/lib").unwrap();
        let ChangeKind::Modified(m) = lib.change.as_ref().unwrap().kind else {
            panic!("{:?}", lib.change)
        };
        assert!(m.opaque && m.is_substantive(), "{m:?}");
        assert_eq!(m.parts(), ["opaque"]);
    }

    #[test]
    fn paths_are_looked_up_as_a_shell_would() {
        let t = merged(&[layer(&[
            E::Dir("usr/bin"),
            E::File("usr/bin/ls", b"ls"),
            E::Symlink("bin", "usr/bin"),
            E::Symlink("etc/alt", "/bin"),
            E::Symlink("loop", "loop/x"),
            E::File("etc/conf", b"c"),
        ])]);
        assert_eq!(lookup_path(&t, "usr/bin/ls"), PathLookup::Found);
        assert_eq!(lookup_path(&t, "bin"), PathLookup::Found, "the link itself");
        assert_eq!(
            lookup_path(&t, "bin/ls"),
            PathLookup::Follows("usr/bin/ls".into())
        );
        assert_eq!(
            lookup_path(&t, "etc/alt/ls"),
            PathLookup::Follows("usr/bin/ls".into())
        );
        assert_eq!(
            lookup_path(&t, "etc/etc"),
            PathLookup::NotFound {
                nearest: "etc".into()
            }
        );
        assert_eq!(
            lookup_path(&t, "bin/nothing/here"),
            PathLookup::NotFound {
                nearest: "usr/bin".into()
            }
        );
        assert_eq!(
            lookup_path(&t, "etc/conf/x"),
            PathLookup::NotFound {
                nearest: "etc".into()
            },
            "a file is no directory"
        );
        assert!(
            matches!(lookup_path(&t, "loop/a"), PathLookup::NotFound { .. }),
            "a loop ends"
        );
    }

    #[test]
    fn subtree_counts_changes_per_layer() {
        let t = tree();
        assert_eq!(
            subtree_changes_by_layer(&t, "etc"),
            [(0, [2, 0, 0]), (1, [0, 1, 1])]
        );
        assert_eq!(subtree_changes_by_layer(&t, "")[0], (0, [4, 0, 0]));
    }

    #[test]
    fn modes() {
        assert_eq!(mode_string(EntryKind::File, 0o755), "-rwxr-xr-x");
        assert_eq!(mode_string(EntryKind::Dir, 0o1777), "drwxrwxrwt");
        assert_eq!(mode_string(EntryKind::File, 0o4755), "-rwsr-xr-x");
        assert_eq!(mode_string(EntryKind::Symlink, 0o777), "lrwxrwxrwx");
        assert_eq!(mode_string(EntryKind::Hardlink, 0o644), "-rw-r--r--");
    }
}
