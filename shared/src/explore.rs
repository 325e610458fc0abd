//! Views over a merged image tree for the file explorer: directory listings, one layer's
//! changes, search by substring or glob, largest files, and the efficiency score. Pure
//! functions, so the page only renders their rows.

use crate::layer::{ChangeKind, EntryKind, MergedTree, TreeNode};

/// How to order a listing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortBy {
    /// Directories first, then by name.
    #[default]
    Name,
    /// Largest first (directories by their subtree's bytes).
    Size,
}

impl SortBy {
    /// Parses the `sort` URL value.
    pub fn parse(s: &str) -> SortBy {
        if s == "size" {
            SortBy::Size
        } else {
            SortBy::Name
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
    /// In a layer view: what that layer did to the path.
    pub change: Option<ChangeKind>,
}

impl Row {
    /// The last path component.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
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
    s.push(kind.ls_char());
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

fn row(tree: &MergedTree, path: &str, node: &TreeNode, change: Option<ChangeKind>) -> Row {
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
    let mut rows: Vec<Row> = tree
        .all()
        .filter_map(|(p, n)| {
            let change = n.changes.iter().rev().find(|c| c.layer == layer)?;
            match change.kind {
                ChangeKind::Modified(m) if !m.is_substantive() => None,
                kind => Some(Row {
                    path: p.to_owned(),
                    node: n.clone(),
                    subtree_bytes: 0,
                    subtree_count: 0,
                    change: Some(kind),
                }),
            }
        })
        .collect();
    match sort {
        SortBy::Name => rows.sort_by(|a, b| a.path.cmp(&b.path)),
        SortBy::Size => rows.sort_by(|a, b| {
            b.node
                .size
                .cmp(&a.node.size)
                .then_with(|| a.path.cmp(&b.path))
        }),
    }
    rows
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

/// A search: a glob when the query has `*`, `?` or `[`, else a case-insensitive substring.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// Matches paths containing this (lowercased) text.
    Substring(String),
    /// Matches whole paths: `*` within a component, `**` across components, `?` one char.
    Glob(String),
}

impl Pattern {
    /// Reads a query as typed; a leading `/` is ignored (paths are shown absolute).
    pub fn parse(query: &str) -> Pattern {
        let q = query.trim().trim_start_matches('/');
        if q.contains(['*', '?', '[']) {
            Pattern::Glob(q.to_owned())
        } else {
            Pattern::Substring(q.to_lowercase())
        }
    }

    /// Whether a normalized path matches.
    pub fn matches(&self, path: &str) -> bool {
        match self {
            Pattern::Substring(s) => path.to_lowercase().contains(s.as_str()),
            Pattern::Glob(g) => glob_match(g.as_bytes(), path.as_bytes()),
        }
    }
}

/// Iterative glob matching with two backtrack points (the last `*` and the last `**`);
/// no recursion, so a hostile pattern cannot blow the stack.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // (pattern index after the star, text index the star currently covers up to)
    let mut single: Option<(usize, usize)> = None;
    let mut double: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() {
            match pattern[p] {
                b'*' => {
                    let is_double = pattern.get(p + 1) == Some(&b'*');
                    let mut next = p + if is_double { 2 } else { 1 };
                    if is_double {
                        // `**/` also matches zero directories.
                        if pattern.get(next) == Some(&b'/') {
                            next += 1;
                        }
                        double = Some((next, t));
                        single = None;
                    } else {
                        single = Some((next, t));
                    }
                    p = next;
                    continue;
                }
                b'?' if text[t] != b'/' => {
                    p += 1;
                    t += 1;
                    continue;
                }
                b'[' => {
                    if let Some((true, len)) = class_match(&pattern[p..], text[t]) {
                        p += len;
                        t += 1;
                        continue;
                    }
                }
                c if c == text[t] => {
                    p += 1;
                    t += 1;
                    continue;
                }
                _ => {}
            }
        }
        if let Some((after, covered)) = single.filter(|&(_, c)| text[c] != b'/') {
            single = Some((after, covered + 1));
            p = after;
            t = covered + 1;
        } else if let Some((after, covered)) = double {
            single = None;
            double = Some((after, covered + 1));
            p = after;
            t = covered + 1;
        } else {
            return false;
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

/// Matches `[abc]`, `[a-z]`, `[!x]` against one byte: (matched, pattern length).
fn class_match(pattern: &[u8], c: u8) -> Option<(bool, usize)> {
    let end = pattern.iter().skip(1).position(|&b| b == b']')? + 1;
    let body = &pattern[1..end];
    let (negate, body) = match body.first() {
        Some(b'!') | Some(b'^') => (true, &body[1..]),
        _ => (false, body),
    };
    let mut hit = false;
    let mut i = 0;
    while i < body.len() {
        if i + 2 < body.len() && body[i + 1] == b'-' {
            hit |= (body[i]..=body[i + 2]).contains(&c);
            i += 3;
        } else {
            hit |= body[i] == c;
            i += 1;
        }
    }
    Some((hit != negate, end + 1))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let cases = [
            ("**/*.so", "usr/lib/libc.so", true),
            ("**/*.so", "libc.so", true),
            ("*.so", "usr/lib/libc.so", false),
            ("usr/*/libc.so", "usr/lib/libc.so", true),
            ("usr/*/libc.so", "usr/lib/x/libc.so", false),
            ("usr/**/libc.so", "usr/lib/x/libc.so", true),
            ("etc/?osts", "etc/hosts", true),
            ("etc/[a-h]osts", "etc/hosts", true),
            ("etc/[!h]osts", "etc/hosts", false),
            ("**", "a/b/c", true),
            (
                "a*b*c*d*e*f*g*h",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                false,
            ),
        ];
        for (pattern, path, want) in cases {
            assert_eq!(
                glob_match(pattern.as_bytes(), path.as_bytes()),
                want,
                "{pattern} vs {path}"
            );
        }
        assert_eq!(
            Pattern::parse("/etc/*.conf"),
            Pattern::Glob("etc/*.conf".into())
        );
        assert!(Pattern::parse("NGINX").matches("etc/nginx/nginx.conf"));
    }

    #[test]
    fn modes() {
        assert_eq!(mode_string(EntryKind::File, 0o755), "-rwxr-xr-x");
        assert_eq!(mode_string(EntryKind::Dir, 0o1777), "drwxrwxrwt");
        assert_eq!(mode_string(EntryKind::File, 0o4755), "-rwsr-xr-x");
        assert_eq!(mode_string(EntryKind::Symlink, 0o777), "lrwxrwxrwx");
    }
}
