//! Two sequences aligned by a longest common subsequence: equal items matched in order,
//! and within each gap between matches the removed and added items paired in order as
//! `changed` (a history step `apt-get install foo=1.2` that became `foo=1.3`, a line that
//! was edited). Used for history steps and for the lines of a modified text file.
//!
//! The common head and tail are matched first, so the table covers only the differing
//! middle, and the table is bounded ([`MAX_LCS_CELLS`]); past it the middle is paired in
//! order without matching.

use super::Change;

/// Most cells of the LCS table (rows × columns after trimming the common head and tail):
/// 4 MiB of `u32`, about 1000 × 1000 differing items.
pub const MAX_LCS_CELLS: usize = 1 << 20;

/// One row of an alignment: indexes into A and B.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Aligned {
    /// `same` (equal items), `changed` (paired in a gap), `added`, `removed`.
    pub change: Change,
    /// A's item.
    pub a: Option<usize>,
    /// B's item.
    pub b: Option<usize>,
}

/// The rows of A and B aligned, and whether the LCS bound cut the alignment short.
pub fn align<T: PartialEq>(a: &[T], b: &[T]) -> (Vec<Aligned>, bool) {
    let (pairs, truncated) = lcs_pairs(a, b);
    let mut rows = Vec::with_capacity(a.len().max(b.len()));
    let gap = |rows: &mut Vec<Aligned>, ia: std::ops::Range<usize>, jb: std::ops::Range<usize>| {
        let paired = ia.len().min(jb.len());
        for k in 0..paired {
            rows.push(Aligned {
                change: Change::Changed,
                a: Some(ia.start + k),
                b: Some(jb.start + k),
            });
        }
        for x in ia.start + paired..ia.end {
            rows.push(Aligned {
                change: Change::Removed,
                a: Some(x),
                b: None,
            });
        }
        for y in jb.start + paired..jb.end {
            rows.push(Aligned {
                change: Change::Added,
                a: None,
                b: Some(y),
            });
        }
    };
    let (mut i, mut j) = (0, 0);
    for (pa, pb) in pairs {
        gap(&mut rows, i..pa, j..pb);
        rows.push(Aligned {
            change: Change::Same,
            a: Some(pa),
            b: Some(pb),
        });
        (i, j) = (pa + 1, pb + 1);
    }
    gap(&mut rows, i..a.len(), j..b.len());
    (rows, truncated)
}

/// Index pairs of a longest common subsequence, in order.
fn lcs_pairs<T: PartialEq>(a: &[T], b: &[T]) -> (Vec<(usize, usize)>, bool) {
    let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut pairs: Vec<(usize, usize)> = (0..head).map(|i| (i, i)).collect();
    let (n, m) = (ma.len(), mb.len());
    let truncated = n.saturating_mul(m) > MAX_LCS_CELLS;
    if !truncated && n > 0 && m > 0 {
        // table[i][j] = LCS length of ma[i..] and mb[j..].
        let w = m + 1;
        let mut table = vec![0u32; (n + 1) * w];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                table[i * w + j] = if ma[i] == mb[j] {
                    table[(i + 1) * w + j + 1] + 1
                } else {
                    table[(i + 1) * w + j].max(table[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n && j < m {
            if ma[i] == mb[j] {
                pairs.push((head + i, head + j));
                i += 1;
                j += 1;
            } else if table[(i + 1) * w + j] >= table[i * w + j + 1] {
                i += 1;
            } else {
                j += 1;
            }
        }
    }
    pairs.extend((0..tail).map(|k| (a.len() - tail + k, b.len() - tail + k)));
    (pairs, truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(a: &[&str], b: &[&str]) -> Vec<(Change, Option<usize>, Option<usize>)> {
        align(a, b)
            .0
            .into_iter()
            .map(|r| (r.change, r.a, r.b))
            .collect()
    }

    #[test]
    fn an_inserted_item_is_one_added_row() {
        assert_eq!(
            changes(&["a", "b", "c"], &["a", "x", "b", "c"]),
            [
                (Change::Same, Some(0), Some(0)),
                (Change::Added, None, Some(1)),
                (Change::Same, Some(1), Some(2)),
                (Change::Same, Some(2), Some(3)),
            ]
        );
    }

    #[test]
    fn an_edited_item_is_paired_as_changed_and_extra_items_stand_alone() {
        assert_eq!(
            changes(&["a", "old", "gone", "z"], &["a", "new", "z"]),
            [
                (Change::Same, Some(0), Some(0)),
                (Change::Changed, Some(1), Some(1)),
                (Change::Removed, Some(2), None),
                (Change::Same, Some(3), Some(2)),
            ]
        );
    }

    #[test]
    fn past_the_bound_the_middle_is_paired_in_order_and_reported() {
        let a: Vec<u32> = (0..1100).collect();
        let b: Vec<u32> = (5000..6100).collect();
        let (rows, truncated) = align(&a, &b);
        assert!(truncated);
        assert_eq!(rows.len(), 1100);
        assert!(rows.iter().all(|r| r.change == Change::Changed));
    }

    #[test]
    fn empty_sides_are_all_added_or_removed() {
        assert_eq!(changes(&[], &["a"]), [(Change::Added, None, Some(0))]);
        assert_eq!(changes(&["a"], &[]), [(Change::Removed, Some(0), None)]);
    }
}
