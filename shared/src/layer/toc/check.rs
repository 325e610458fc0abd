//! What a TOC listed against what its verified layer holds: a TOC can lie (its digest
//! only proves who wrote it), and the page then shows the layer's true files and says so.

use std::collections::HashMap;

use crate::layer::{EntryKind, LayerIndex};

/// Paths kept as examples of each difference.
const EXAMPLES: usize = 5;

/// The differences between a TOC and its layer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TocCheck {
    /// Entries the TOC listed.
    pub listed: usize,
    /// How many paths the layer holds that the TOC did not list.
    pub unlisted: usize,
    /// How many paths the TOC listed that the layer does not hold.
    pub invented: usize,
    /// How many paths both have, with another kind, size, mode or link target.
    pub changed: usize,
    /// A few of the paths above, `/`-rooted, unlisted first.
    pub examples: Vec<String>,
}

impl TocCheck {
    /// Whether the TOC listed exactly the layer's entries.
    pub fn is_true(&self) -> bool {
        self.unlisted == 0 && self.invented == 0 && self.changed == 0
    }

    /// "2 files not listed, 1 listed but absent, 1 different (/a, /b)".
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        let mut say = |n: usize, what: &str| {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        };
        say(self.unlisted, "in the layer but not in the TOC");
        say(self.invented, "in the TOC but not in the layer");
        say(self.changed, "listed with other facts");
        let mut text = parts.join(", ");
        if !self.examples.is_empty() {
            text.push_str(&format!(" ({})", self.examples.join(", ")));
        }
        text
    }
}

/// What is compared of one path.
#[derive(PartialEq)]
struct Facts<'a> {
    kind: EntryKind,
    size: u64,
    mode: u32,
    link: Option<&'a str>,
}

fn facts<'a>(index: &'a LayerIndex, skip: Option<&str>) -> HashMap<String, Facts<'a>> {
    index
        .iter()
        .filter(|e| Some(e.path()) != skip && !e.path().is_empty())
        .map(|e| {
            let facts = Facts {
                kind: e.kind(),
                size: e.size(),
                mode: e.mode(),
                link: e.link_target(),
            };
            (e.path().to_owned(), facts)
        })
        .collect()
}

/// Compares `toc` with `layer`, leaving out the layer's own TOC entry `own_entry`.
pub(super) fn compare(toc: &LayerIndex, layer: &LayerIndex, own_entry: Option<&str>) -> TocCheck {
    let listed = facts(toc, None);
    let held = facts(layer, own_entry);
    let mut check = TocCheck {
        listed: toc.len(),
        ..TocCheck::default()
    };
    let mut unlisted: Vec<&String> = held.keys().filter(|p| !listed.contains_key(*p)).collect();
    let mut invented: Vec<&String> = listed.keys().filter(|p| !held.contains_key(*p)).collect();
    let mut changed: Vec<&String> = listed
        .iter()
        .filter(|(p, f)| held.get(*p).is_some_and(|h| h != *f))
        .map(|(p, _)| p)
        .collect();
    for list in [&mut unlisted, &mut invented, &mut changed] {
        list.sort();
    }
    check.unlisted = unlisted.len();
    check.invented = invented.len();
    check.changed = changed.len();
    check.examples = unlisted
        .into_iter()
        .chain(invented)
        .chain(changed)
        .take(EXAMPLES)
        .map(|p| format!("/{p}"))
        .collect();
    check
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::Limits;
    use crate::layer::toc::entries::index_of;

    fn index(json: &str) -> LayerIndex {
        index_of(json.as_bytes(), &Limits::default()).unwrap()
    }

    #[test]
    fn a_true_toc_passes_and_a_lying_one_is_named() {
        let layer = index(
            r#"{"entries":[{"name":"a","type":"reg","size":3,"mode":420},
            {"name":"b","type":"reg","size":1,"mode":420},
            {"name":"stargz.index.json","type":"reg","size":9,"mode":420}]}"#,
        );
        let honest = index(
            r#"{"entries":[{"name":"a","type":"reg","size":3,"mode":420},
            {"name":"b","type":"reg","size":1,"mode":420}]}"#,
        );
        let check = compare(&honest, &layer, Some("stargz.index.json"));
        assert!(check.is_true(), "{check:?}");
        assert!(!compare(&honest, &layer, None).is_true());

        let lying = index(
            r#"{"entries":[{"name":"a","type":"reg","size":4,"mode":420},
            {"name":"ghost","type":"reg","size":1,"mode":420}]}"#,
        );
        let check = compare(&lying, &layer, Some("stargz.index.json"));
        assert_eq!((check.unlisted, check.invented, check.changed), (1, 1, 1));
        assert_eq!(check.examples, ["/b", "/ghost", "/a"]);
        assert_eq!(
            check.summary(),
            "1 in the layer but not in the TOC, 1 in the TOC but not in the layer, \
             1 listed with other facts (/b, /ghost, /a)"
        );
    }
}
