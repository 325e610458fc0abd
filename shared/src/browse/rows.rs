//! The rows of a repository page: image tags grouped by the digest they point at (one row
//! a digest; a tag not yet resolved is a row of its own), artifact tags folded under the
//! row of their subject, rows filtered by a pattern and sorted, and the tags that moved
//! since a remembered visit.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use super::artifact_tag::{ArtifactKind, ArtifactTag};
use crate::digest::Digest;
use crate::tree::Pattern;

/// One row: the image tags that point at one digest, and what describes that digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagRow {
    /// In name order ([`tag_order`]); the first names the row.
    pub tags: Vec<String>,
    /// `None` until the tag is resolved.
    pub digest: Option<Digest>,
    /// Artifact tags whose subject is `digest`, by kind then name.
    pub artifacts: Vec<(ArtifactKind, String)>,
}

impl TagRow {
    /// The tag that names the row.
    pub fn first_tag(&self) -> &str {
        self.tags.first().map_or("", String::as_str)
    }
}

/// Every row, and the artifact tags that fold under none of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rows {
    /// In name order of their first tag.
    pub rows: Vec<TagRow>,
    /// Artifact tags whose subject is no row's digest (or not yet resolved): never rows.
    pub unattached: Vec<String>,
}

/// Groups `tags` (each with its digest once resolved) into rows.
pub fn group<'a>(tags: impl IntoIterator<Item = (&'a str, Option<&'a Digest>)>) -> Rows {
    let mut images = Vec::new();
    let mut artifacts = Vec::new();
    for (tag, digest) in tags {
        match ArtifactTag::parse(tag) {
            Some(artifact) => artifacts.push((tag, artifact)),
            None => images.push((tag, digest)),
        }
    }
    images.sort_by(|a, b| tag_order(a.0, b.0));
    let mut out = Rows::default();
    let mut row_of: HashMap<&Digest, usize> = HashMap::new();
    for (tag, digest) in images {
        match digest.and_then(|d| row_of.get(d).copied()) {
            Some(i) => out.rows[i].tags.push(tag.to_owned()),
            None => {
                if let Some(d) = digest {
                    row_of.insert(d, out.rows.len());
                }
                out.rows.push(TagRow {
                    tags: vec![tag.to_owned()],
                    digest: digest.cloned(),
                    artifacts: Vec::new(),
                });
            }
        }
    }
    artifacts.sort_by(|a, b| (a.1.kind, a.0).cmp(&(b.1.kind, b.0)));
    for (tag, artifact) in artifacts {
        match row_of.get(&artifact.subject) {
            Some(&i) => out.rows[i].artifacts.push((artifact.kind, tag.to_owned())),
            None => out.unattached.push(tag.to_owned()),
        }
    }
    out
}

/// Tag names in "natural" order: runs of digits compare as numbers (`v2` before `v10`),
/// the rest byte by byte; equal numbers with more leading zeros come first.
pub fn tag_order(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].is_ascii_digit() && b[j].is_ascii_digit() {
            let (si, sj) = (i, j);
            while i < a.len() && a[i].is_ascii_digit() {
                i += 1;
            }
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let (na, nb) = (&a[si..i], &b[sj..j]);
            let trim = |n: &'_ [u8]| {
                let zeros = n.iter().take_while(|&&c| c == b'0').count();
                n.len() - zeros
            };
            let by_value = trim(na)
                .cmp(&trim(nb))
                .then_with(|| na[na.len() - trim(na)..].cmp(&nb[nb.len() - trim(nb)..]))
                .then_with(|| nb.len().cmp(&na.len()));
            if by_value != Ordering::Equal {
                return by_value;
            }
        } else {
            if a[i] != b[j] {
                return a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
    }
    (a.len() - i).cmp(&(b.len() - j))
}

/// How rows are ordered (`sort=` in the page URL).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TagSort {
    /// By first tag, in [`tag_order`] (no key).
    #[default]
    Name,
    /// Newest image first (`created`).
    Created,
    /// Largest first (`size`).
    Size,
}

impl TagSort {
    /// Reads `sort=`; anything else is by name.
    pub fn parse(value: Option<&str>) -> TagSort {
        match value {
            Some("created") => TagSort::Created,
            Some("size") => TagSort::Size,
            _ => TagSort::Name,
        }
    }

    /// The `sort=` value; `None` for by name.
    pub fn value(self) -> Option<&'static str> {
        match self {
            TagSort::Name => None,
            TagSort::Created => Some("created"),
            TagSort::Size => Some("size"),
        }
    }
}

/// What is known of a digest for sorting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SortFacts {
    /// Compressed bytes.
    pub size: Option<u64>,
    /// Seconds since the epoch.
    pub created: Option<i64>,
}

/// Sorts rows in name order (as [`group`] made them) by `by`: rows whose value is known
/// first, largest or newest first; the rest after, still in name order.
pub fn sort(rows: &mut [TagRow], by: TagSort, facts: impl Fn(&Digest) -> SortFacts) {
    let key = |row: &TagRow| -> Option<i128> {
        let facts = row.digest.as_ref().map(&facts).unwrap_or_default();
        match by {
            TagSort::Name => None,
            TagSort::Created => facts.created.map(i128::from),
            TagSort::Size => facts.size.map(i128::from),
        }
    };
    match by {
        TagSort::Name => rows.sort_by(|a, b| tag_order(a.first_tag(), b.first_tag())),
        _ => rows.sort_by(|a, b| match (key(a), key(b)) {
            (Some(x), Some(y)) => y.cmp(&x),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }),
    }
}

/// Keeps the rows one of whose tags matches `query` (a glob when it has `*`, `?` or `[`,
/// else a case-insensitive substring); a blank query keeps all.
pub fn filter(rows: Vec<TagRow>, query: &str) -> Vec<TagRow> {
    if query.trim().is_empty() {
        return rows;
    }
    let pattern = Pattern::parse(query);
    rows.into_iter()
        .filter(|row| row.tags.iter().any(|t| pattern.matches(t)))
        .collect()
}

/// A remembered visit: tag → the digest it pointed at then.
pub type Remembered = BTreeMap<String, String>;

/// The tags of `row` whose remembered digest differs from the row's.
pub fn moved<'a>(row: &'a TagRow, remembered: &Remembered) -> Vec<&'a str> {
    let Some(digest) = &row.digest else {
        return Vec::new();
    };
    let digest = digest.to_string();
    row.tags
        .iter()
        .filter(|t| remembered.get(*t).is_some_and(|d| *d != digest))
        .map(String::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> Digest {
        Digest::parse(&format!("sha256:{}", c.to_string().repeat(64))).unwrap()
    }

    #[test]
    fn tags_group_by_digest_and_artifacts_fold_under_their_subject() {
        let (a, b, c) = (d('a'), d('b'), d('c'));
        let sig = format!("sha256-{}.sig", "a".repeat(64));
        let att = format!("sha256-{}.att", "a".repeat(64));
        let orphan = format!("sha256-{}.sig", "e".repeat(64));
        let rows = group([
            ("v10", Some(&a)),
            ("v2", Some(&b)),
            (sig.as_str(), Some(&c)),
            ("latest", Some(&a)),
            ("pending", None),
            (att.as_str(), None),
            (orphan.as_str(), None),
            ("also-pending", None),
        ]);
        let summary: Vec<_> = rows
            .rows
            .iter()
            .map(|r| (r.tags.join(","), r.digest.clone(), r.artifacts.len()))
            .collect();
        assert_eq!(
            summary,
            [
                ("also-pending".to_owned(), None, 0),
                ("latest,v10".to_owned(), Some(a.clone()), 2),
                ("pending".to_owned(), None, 0),
                ("v2".to_owned(), Some(b.clone()), 0),
            ]
        );
        assert_eq!(
            rows.rows[1].artifacts,
            [
                (ArtifactKind::Signature, sig.clone()),
                (ArtifactKind::Attestation, att.clone())
            ]
        );
        assert_eq!(rows.unattached, [orphan]);
    }

    #[test]
    fn natural_tag_order() {
        let mut tags = vec![
            "v10", "v2", "v1.10", "v1.9", "a", "v02", "1.27", "1.3", "t000",
        ];
        tags.sort_by(|a, b| tag_order(a, b));
        assert_eq!(
            tags,
            [
                "1.3", "1.27", "a", "t000", "v1.9", "v1.10", "v02", "v2", "v10"
            ]
        );
        assert_eq!(tag_order("a", "a"), Ordering::Equal);
        assert_eq!(tag_order("a", "ab"), Ordering::Less);
    }

    #[test]
    fn sorting_puts_known_values_first() {
        let (a, b, c) = (d('a'), d('b'), d('c'));
        let mut rows = group([
            ("x", Some(&a)),
            ("y", Some(&b)),
            ("z", Some(&c)),
            ("w", None),
        ])
        .rows;
        let facts = |digest: &Digest| match digest.hex().chars().next() {
            Some('a') => SortFacts {
                size: Some(10),
                created: Some(300),
            },
            Some('b') => SortFacts {
                size: Some(30),
                created: None,
            },
            _ => SortFacts::default(),
        };
        let names = |rows: &[TagRow]| {
            rows.iter()
                .map(|r| r.first_tag().to_owned())
                .collect::<Vec<_>>()
        };
        sort(&mut rows, TagSort::Size, facts);
        assert_eq!(names(&rows), ["y", "x", "w", "z"]);
        sort(&mut rows, TagSort::Name, facts);
        sort(&mut rows, TagSort::Created, facts);
        assert_eq!(names(&rows), ["x", "w", "y", "z"]);
        sort(&mut rows, TagSort::Name, facts);
        assert_eq!(names(&rows), ["w", "x", "y", "z"]);
        assert_eq!(TagSort::parse(Some("size")), TagSort::Size);
        assert_eq!(TagSort::parse(Some("bogus")), TagSort::Name);
        assert_eq!(TagSort::Created.value(), Some("created"));
    }

    #[test]
    fn filters_by_glob_or_substring() {
        let rows = group([("v1.2", None), ("v1.3-alpine", None), ("latest", None)]).rows;
        let kept = |q: &str| {
            filter(rows.clone(), q)
                .iter()
                .map(|r| r.first_tag().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(kept("v1.*"), ["v1.2", "v1.3-alpine"]);
        assert_eq!(kept("*-alpine"), ["v1.3-alpine"]);
        assert_eq!(kept("v?.2"), ["v1.2"]);
        assert_eq!(kept("ALP"), ["v1.3-alpine"]);
        assert_eq!(kept("  "), ["latest", "v1.2", "v1.3-alpine"]);
        assert!(kept("nope*").is_empty());
    }

    #[test]
    fn moved_tags_are_those_whose_digest_changed() {
        let (a, b) = (d('a'), d('b'));
        let rows = group([("v1", Some(&a)), ("latest", Some(&a)), ("new", None)]).rows;
        let remembered: Remembered = [
            ("latest".to_owned(), b.to_string()),
            ("v1".to_owned(), a.to_string()),
            ("new".to_owned(), b.to_string()),
        ]
        .into();
        assert_eq!(moved(&rows[0], &remembered), ["latest"]);
        assert!(moved(&rows[1], &remembered).is_empty(), "not resolved yet");
    }
}
