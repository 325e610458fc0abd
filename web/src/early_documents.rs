//! The documents of a pinned revisit, requested all at once.
//!
//! A page learns its documents one after another: the manifest names the config (an
//! index names a platform's manifest, which names the config), so each waits for the one
//! before it to arrive and verify. A pinned link names the same documents every time, so
//! the page keeps the content-addressed requests it made ([`seen`]) and its next visit
//! sends them together at the start ([`crate::early_reads`]). Each response is handed to
//! the request the page makes anyway ([`take`]) and verified there as always; a request
//! that is never made again is simply not used.

use std::cell::RefCell;

/// A content-addressed request of a page load: its URL and `Accept` header.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) struct Document {
    pub url: String,
    pub accept: Option<String>,
}

impl Document {
    /// The document a request asks for: a `GET` with no header but `Accept`.
    pub(crate) fn of(method: &str, url: &str, headers: &[(&str, &str)]) -> Option<Document> {
        (method == "GET" && headers.iter().all(|(name, _)| *name == "Accept")).then(|| Document {
            url: url.to_owned(),
            accept: headers.first().map(|(_, value)| (*value).to_owned()),
        })
    }
}

/// Most documents kept for one load: an index, a platform's manifest and a config are
/// three; the rest of a page's digests (attestations, say) are not on its way to ready.
const MOST: usize = 4;

/// Bodies at most this big count as documents (a layer is never requested early).
const MOST_BYTES: usize = 4 << 20;

thread_local! {
    /// The current load's content-addressed requests, in the order they were made.
    static SEEN: RefCell<Vec<Document>> = const { RefCell::new(Vec::new()) };
    /// Responses requested early, not yet taken by the page's own request.
    static EARLY: RefCell<Vec<(Document, js_sys::Promise)>> = const { RefCell::new(Vec::new()) };
}

/// A new page load: forgets the last one's requests and unused early responses.
pub(crate) fn reset() {
    SEEN.with(|s| s.borrow_mut().clear());
    EARLY.with(|e| e.borrow_mut().clear());
}

/// Whether `url` names its object by digest, so that its bytes never change.
fn content_addressed(url: &str) -> bool {
    url.contains("/manifests/sha256:") || url.contains("/blobs/sha256:")
}

/// Notes a request the page made and the size of what came back.
pub(crate) fn record(document: Document, body_bytes: usize) {
    if !content_addressed(&document.url) || body_bytes > MOST_BYTES {
        return;
    }
    SEEN.with(|s| {
        let mut seen = s.borrow_mut();
        if seen.len() < MOST && !seen.contains(&document) {
            seen.push(document);
        }
    });
}

/// The current load's documents, in the order they were requested.
pub(crate) fn seen() -> Vec<Document> {
    SEEN.with(|s| s.borrow().clone())
}

/// Keeps the pending response of a request sent early (only a content-addressed one).
pub(crate) fn keep(document: Document, response: js_sys::Promise) {
    if content_addressed(&document.url) {
        EARLY.with(|e| e.borrow_mut().push((document, response)));
    }
}

/// The response requested early for `document`, once.
pub(crate) fn take(document: &Document) -> Option<js_sys::Promise> {
    EARLY.with(|e| {
        let mut early = e.borrow_mut();
        let at = early.iter().position(|(d, _)| d == document)?;
        Some(early.swap_remove(at).1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn doc(url: &str) -> Document {
        Document {
            url: url.into(),
            accept: None,
        }
    }

    #[wasm_bindgen_test]
    fn only_small_content_addressed_requests_are_kept_in_order_and_once() {
        reset();
        record(doc("/api/r/x/v2/a/manifests/latest"), 10);
        record(doc("/api/r/x/v2/a/manifests/sha256:01"), 10);
        record(doc("/api/r/x/v2/a/blobs/sha256:02"), MOST_BYTES + 1);
        record(doc("/api/r/x/v2/a/blobs/sha256:03"), 10);
        record(doc("/api/r/x/v2/a/manifests/sha256:01"), 10);
        let urls: Vec<_> = seen().into_iter().map(|d| d.url).collect();
        assert_eq!(
            urls,
            [
                "/api/r/x/v2/a/manifests/sha256:01",
                "/api/r/x/v2/a/blobs/sha256:03"
            ]
        );
        for n in 0..10 {
            record(doc(&format!("/api/r/x/v2/a/blobs/sha256:1{n}")), 10);
        }
        assert_eq!(seen().len(), MOST);
        reset();
        assert!(seen().is_empty());
    }
}
