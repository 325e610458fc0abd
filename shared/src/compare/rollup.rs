//! Per-directory sums of a tree diff: how many paths under each directory changed, and
//! by how many bytes, so a page can list the directories where most changed first.

use std::collections::HashMap;

use super::files::{ChangeCounts, FileChange, TreeDiff};

/// The changes under one directory (every depth below it, not the directory itself).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DirRollup {
    /// Normalized directory path (`""` is the root).
    pub dir: String,
    /// Paths below it per kind of change (unchanged ones included).
    pub counts: ChangeCounts,
    /// B's file bytes below it minus A's.
    pub byte_delta: i64,
    /// Bytes that changed hands below it: added files' new bytes, removed files' old
    /// bytes, and the larger version of each modified file. The "size of the change"
    /// that rollups sort by (a file grown by 1 byte and one rewritten whole differ here,
    /// not in the delta).
    pub churn_bytes: u64,
}

/// How to order rollups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RollupOrder {
    /// Largest churn first (then largest |delta|, then path).
    Churn,
    /// Largest |delta| first (then churn, then path).
    Delta,
    /// Most changed paths first (then churn, then path).
    Count,
    /// By path.
    Path,
}

/// Every directory with at least one changed path below it, ordered by
/// [`RollupOrder::Churn`]. Linear in rows × depth.
pub fn directory_rollups(diff: &TreeDiff) -> Vec<DirRollup> {
    let mut acc: HashMap<&str, DirRollup> = HashMap::new();
    for row in &diff.entries {
        let p = row.path.as_str();
        let delta = row.byte_delta();
        let churn = match row.change {
            FileChange::Added => row.b.map_or(0, |s| s.file_bytes()),
            FileChange::Removed => row.a.map_or(0, |s| s.file_bytes()),
            FileChange::Modified => {
                let (a, b) = (
                    row.a.map_or(0, |s| s.file_bytes()),
                    row.b.map_or(0, |s| s.file_bytes()),
                );
                a.max(b)
            }
            FileChange::Metadata | FileChange::Unchanged => 0,
        };
        let ancestors = std::iter::once("").chain(p.match_indices('/').map(|(i, _)| &p[..i]));
        for dir in ancestors {
            let r = acc.entry(dir).or_insert_with(|| DirRollup {
                dir: dir.to_owned(),
                counts: ChangeCounts::default(),
                byte_delta: 0,
                churn_bytes: 0,
            });
            r.counts.add(row.change);
            r.byte_delta += delta;
            r.churn_bytes = r.churn_bytes.saturating_add(churn);
        }
    }
    let mut out: Vec<DirRollup> = acc
        .into_values()
        .filter(|r| r.counts.changed() > 0)
        .collect();
    sort_rollups(&mut out, RollupOrder::Churn);
    out
}

/// Re-orders rollups for a view.
pub fn sort_rollups(rollups: &mut [DirRollup], order: RollupOrder) {
    rollups.sort_by(|x, y| {
        let key = |r: &DirRollup| match order {
            RollupOrder::Churn => (r.churn_bytes, r.byte_delta.unsigned_abs()),
            RollupOrder::Delta => (r.byte_delta.unsigned_abs(), r.churn_bytes),
            RollupOrder::Count => (r.counts.changed(), r.churn_bytes),
            RollupOrder::Path => (0, 0),
        };
        key(y).cmp(&key(x)).then_with(|| x.dir.cmp(&y.dir))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::files::{DiffOptions, diff_trees};
    use crate::tree::test_tar::{E, layer, merged};

    #[test]
    fn sums_per_directory_sorted_by_churn() {
        let a = merged(&[layer(&[
            E::File("usr/lib/big", &[0; 1000]),
            E::File("usr/lib/same", b"s"),
            E::File("usr/bin/tool", b"12345"),
            E::File("etc/x", b"1"),
        ])]);
        let b = merged(&[layer(&[
            E::File("usr/lib/big", &[1; 1010]),
            E::File("usr/lib/same", b"s"),
            E::File("usr/bin/tool", b"123"),
            E::File("usr/bin/new", &[2; 40]),
            E::File("etc/x", b"1"),
        ])]);
        let d = diff_trees(&a, &b, DiffOptions::default());
        let r = directory_rollups(&d);
        let view: Vec<_> = r
            .iter()
            .map(|r| {
                (
                    r.dir.as_str(),
                    r.churn_bytes,
                    r.byte_delta,
                    r.counts.changed(),
                )
            })
            .collect();
        assert_eq!(
            view,
            [
                ("", 1055, 48, 3),
                ("usr", 1055, 48, 3),
                ("usr/lib", 1010, 10, 1),
                ("usr/bin", 45, 38, 2),
            ]
        );
        assert_eq!(r[2].counts.unchanged, 1);
        let mut by_count = r.clone();
        sort_rollups(&mut by_count, RollupOrder::Count);
        assert_eq!(by_count[2].dir, "usr/bin");
        sort_rollups(&mut by_count, RollupOrder::Path);
        assert_eq!(by_count[0].dir, "");
        assert_eq!(by_count[3].dir, "usr/lib");
    }
}
