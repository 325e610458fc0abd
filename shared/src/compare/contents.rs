//! The two versions of a modified file side by side: a text file line by line (lines
//! aligned as history steps are, see [`super::align`]), a small binary as hex rows of
//! 16 bytes at the same offsets.

use super::Change;
use super::align::align;

/// Bytes per hex row.
pub const HEX_ROW: usize = 16;

/// Whether bytes read as text: UTF-8 with no NUL.
pub fn is_text(bytes: &[u8]) -> bool {
    !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok()
}

/// One row of a line diff: a line of A and/or of B, numbered from 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineRow {
    /// `same`, `changed`, `added` or `removed`.
    pub change: Change,
    /// A's line number and text.
    pub a: Option<(usize, String)>,
    /// B's line number and text.
    pub b: Option<(usize, String)>,
}

/// Two texts diffed line by line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineDiff {
    /// Every line of both, aligned.
    pub rows: Vec<LineRow>,
    /// The differing middle was too large to align; its lines are paired in order.
    pub truncated: bool,
}

impl LineDiff {
    /// Rows that are not `same`.
    pub fn changed_rows(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.change != Change::Same)
            .count()
    }
}

/// Diffs two texts line by line (a final newline does not make an empty last line).
pub fn diff_lines(a: &str, b: &str) -> LineDiff {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let (aligned, truncated) = align(&la, &lb);
    let line = |lines: &[&str], i: Option<usize>| i.map(|i| (i + 1, lines[i].to_owned()));
    LineDiff {
        rows: aligned
            .into_iter()
            .map(|r| LineRow {
                change: r.change,
                a: line(&la, r.a),
                b: line(&lb, r.b),
            })
            .collect(),
        truncated,
    }
}

/// One row of a hex diff: the 16 bytes at `offset` on each side (shorter or empty past a
/// side's end).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HexRow<'a> {
    /// Offset of the row's first byte.
    pub offset: usize,
    /// A's bytes.
    pub a: &'a [u8],
    /// B's bytes.
    pub b: &'a [u8],
}

impl HexRow<'_> {
    /// Whether the two sides differ in this row.
    pub fn differs(&self) -> bool {
        self.a != self.b
    }
}

/// Both byte strings as rows of [`HEX_ROW`] bytes, offset by offset.
pub fn hex_rows<'a>(a: &'a [u8], b: &'a [u8]) -> Vec<HexRow<'a>> {
    let slice = |s: &'a [u8], at: usize| &s[at.min(s.len())..(at + HEX_ROW).min(s.len())];
    (0..a.len().max(b.len()))
        .step_by(HEX_ROW)
        .map(|offset| HexRow {
            offset,
            a: slice(a, offset),
            b: slice(b, offset),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edited_line_is_changed_and_the_rest_stays_aligned() {
        let d = diff_lines("a\nport = 80\nc\n", "a\nport = 8080\nc\nd\n");
        let changes: Vec<_> = d.rows.iter().map(|r| r.change).collect();
        assert_eq!(
            changes,
            [Change::Same, Change::Changed, Change::Same, Change::Added]
        );
        assert_eq!(d.rows[1].a, Some((2, "port = 80".into())));
        assert_eq!(d.rows[1].b, Some((2, "port = 8080".into())));
        assert_eq!(d.rows[3].b, Some((4, "d".into())));
        assert_eq!(d.changed_rows(), 2);
    }

    #[test]
    fn text_is_utf8_without_nul() {
        assert!(is_text(b"plain\n"));
        assert!(is_text("héllo".as_bytes()));
        assert!(!is_text(b"\x7fELF\x02\x01\0"));
        assert!(!is_text(&[0xff, 0xfe]));
    }

    #[test]
    fn hex_rows_cover_the_longer_side_and_mark_the_rows_that_differ() {
        let a = [0u8; 40];
        let mut b = [0u8; 20];
        b[17] = 1;
        let rows = hex_rows(&a, &b);
        assert_eq!(rows.len(), 3);
        assert!(!rows[0].differs());
        assert!(rows[1].differs());
        assert_eq!(rows[1].b.len(), 4);
        assert!(rows[2].b.is_empty() && rows[2].differs());
    }
}
