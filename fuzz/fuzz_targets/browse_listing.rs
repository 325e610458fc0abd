//! What the browse pages read from a registry: a `tags/list` or `_catalog` page, the
//! `Link` header that pages it, and the tags themselves (artifact tags, natural order,
//! grouping, glob filters). None panics; grouping loses no tag and orders rows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_shared::browse::{artifact_tag::ArtifactTag, listing, rows, time};
use strata_shared::link;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the document, the rest is it.
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(bytes);
    let tags: Vec<String> = match pick % 4 {
        0 => match listing::TagList::parse(bytes) {
            Ok(list) => list.tags,
            Err(e) => {
                assert!(e.to_string().starts_with("invalid tag list"));
                return;
            }
        },
        1 => match listing::Catalog::parse(bytes) {
            Ok(catalog) => {
                for name in &catalog.repositories {
                    let _ = listing::parse_repository(name);
                }
                catalog.repositories
            }
            Err(_) => return,
        },
        2 => {
            for l in link::parse_links(&text) {
                assert!(text.contains(l.target), "{:?} is not in {text:?}", l.target);
            }
            let _ = link::next_target(&text);
            let _ = time::rfc3339_seconds(&text);
            let _ = listing::parse_repository(&text);
            return;
        }
        _ => text.lines().map(str::to_owned).collect(),
    };

    let grouped = rows::group(tags.iter().map(|t| (t.as_str(), None)));
    let artifacts = tags
        .iter()
        .filter(|t| ArtifactTag::parse(t).is_some())
        .count();
    let in_rows: usize = grouped.rows.iter().map(|r| r.tags.len()).sum();
    // Unresolved, no artifact tag has a row to fold under.
    assert_eq!(in_rows, tags.len() - artifacts);
    assert_eq!(grouped.unattached.len(), artifacts);
    for pair in grouped.rows.windows(2) {
        assert_ne!(
            rows::tag_order(pair[0].first_tag(), pair[1].first_tag()),
            std::cmp::Ordering::Greater,
            "rows out of order"
        );
    }
    // Each tag in turn as a filter query (globs included).
    for query in tags.iter().take(4) {
        let kept = rows::filter(grouped.rows.clone(), query);
        assert!(kept.len() <= grouped.rows.len());
    }
});
