//! A pinned link's revisit reads its verified layers while its documents are on their way,
//! and requests those documents all at once.
//!
//! When a link pinned by digest is shown, it notes the verified-cache keys of its layers
//! and the requests of its documents. Its next visit starts reading those entries and
//! sends those requests at once: Cache Storage takes tens of milliseconds, which would
//! otherwise only start once the documents are verified, and each document would wait for
//! the one that names it. What an early read returns is used only for a key the verified
//! documents name (see [`crate::verified_cache::load_soon`]), and an early response only
//! by the same request, verified as always (see [`crate::early_documents`]); a tag is
//! never read early, as it may name other layers now.

use crate::early_documents::{self, Document};
use crate::image_load::ImageModel;
use crate::verified_cache;

/// Where pinned links note their layers' keys.
const NOTED_KEY: &str = "strata.pinned-layers.v1";
/// Most links noted there (the least recently shown go first).
const NOTED_LINKS: usize = 64;

/// One pinned link and the keys of its verified layers.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Noted {
    link: String,
    keys: Vec<String>,
    /// Absent from notes written before documents were noted.
    #[serde(default)]
    documents: Vec<Document>,
}

fn pinned(link: &str) -> bool {
    link.contains("@sha256:")
}

/// Starts reading what `link` showed when it was last opened here (only a pinned link);
/// replaces the last page's early reads.
/// Call it after [`crate::page_fetches::begin`]: the early requests are the new
/// load's. Whether layers are read early.
pub(crate) fn start(link: &str) -> bool {
    let note = pinned(link)
        .then(|| noted().into_iter().find(|n| n.link == link))
        .flatten();
    let (keys, documents) = note.map(|n| (n.keys, n.documents)).unwrap_or_default();
    documents.into_iter().for_each(crate::api::request_early);
    verified_cache::read_early(&keys);
    !keys.is_empty()
}

/// Notes the keys of the layers `link` shows (when it is pinned), for [`start`] on its
/// next visit.
pub(crate) fn remember(link: &str, model: &ImageModel) {
    if !pinned(link) {
        return;
    }
    let keys: Vec<String> = crate::image_layers::layer_jobs(model)
        .iter()
        .filter_map(verified_cache::key_of)
        .collect();
    let entry = Noted {
        link: link.to_owned(),
        keys,
        documents: early_documents::seen(),
    };
    let mut all = noted();
    if all.last() == Some(&entry) {
        return;
    }
    all.retain(|n| n.link != link);
    if !entry.keys.is_empty() {
        all.push(entry);
    }
    let extra = all.len().saturating_sub(NOTED_LINKS);
    all.drain(..extra);
    if let Some(storage) = verified_cache::local_storage()
        && let Ok(json) = serde_json::to_string(&all)
    {
        let _ = storage.set_item(NOTED_KEY, &json);
    }
}

/// Forgets every noted link ("forget cached images").
pub(crate) fn forget() {
    if let Some(storage) = verified_cache::local_storage() {
        let _ = storage.remove_item(NOTED_KEY);
    }
}

/// The noted links, least recently shown first.
fn noted() -> Vec<Noted> {
    verified_cache::local_storage()
        .and_then(|s| s.get_item(NOTED_KEY).ok().flatten())
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}
