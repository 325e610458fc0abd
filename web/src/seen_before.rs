//! What this browser saw on earlier visits, for the overview's distribution facts:
//! - the digest a tag pointed at (shared with the repository page's "moved" marks, in
//!   [`crate::tag_memory`]);
//! - the verified layers of every image opened, by diff_id, so an image can say how many
//!   of its bytes another image seen here already holds.
//!
//! Kept in `localStorage`, bounded, most recent first; storage errors are ignored (it is a
//! convenience, never a verification).

use serde::{Deserialize, Serialize};
use strata_shared::Digest;

/// Layers remembered, most recent first.
const LIMIT: usize = 2_000;
const KEY: &str = "strata.seen-layers.v1";

/// A tag against this browser's earlier visit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TagSeen {
    /// Opened by digest, or from a source without tags.
    NotATag,
    /// This browser has not seen the tag before.
    First,
    /// The tag points where it did.
    Same,
    /// The tag pointed at this other digest.
    Moved(String),
}

/// Compares `tag` of `repository` with the last visit and remembers `digest` for it.
pub(crate) fn tag_visit(repository: &str, tag: &str, digest: &Digest) -> TagSeen {
    let mut remembered = crate::tag_memory::load(repository);
    let digest = digest.to_string();
    let seen = match remembered.get(tag) {
        None => TagSeen::First,
        Some(before) if *before == digest => TagSeen::Same,
        Some(before) => TagSeen::Moved(before.clone()),
    };
    remembered.insert(tag.to_owned(), digest);
    crate::tag_memory::save(repository, &remembered);
    seen
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct SeenLayer {
    /// `sha256:…` of the layer's tar.
    diff_id: String,
    /// Compressed bytes of the blob that held it.
    size: u64,
    /// The image it was verified in: `name@digest`.
    image: String,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn load() -> Vec<SeenLayer> {
    storage()
        .and_then(|s| s.get_item(KEY).ok().flatten())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// Remembers that `diff_id` verified in `image` (`name@digest`).
pub(crate) fn remember_layer(diff_id: &Digest, size: u64, image: &str) {
    let diff_id = diff_id.to_string();
    let mut layers = load();
    layers.retain(|l| !(l.diff_id == diff_id && l.image == image));
    layers.insert(
        0,
        SeenLayer {
            diff_id,
            size,
            image: image.to_owned(),
        },
    );
    layers.truncate(LIMIT);
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(&layers)) {
        let _ = storage.set_item(KEY, &text);
    }
}

/// This image's bytes other images seen here hold too.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SharedBytes {
    /// Compressed bytes of this image's layers found elsewhere.
    pub bytes: u64,
    /// How many of its layers.
    pub layers: usize,
    /// The other images, most recent first.
    pub images: Vec<String>,
}

/// Which of `layers` (diff_id, compressed size) images other than `this_image` held.
pub(crate) fn shared_with_others(layers: &[(Digest, u64)], this_image: &str) -> SharedBytes {
    let seen = load();
    let mut shared = SharedBytes::default();
    for (diff_id, size) in layers {
        let diff_id = diff_id.to_string();
        let holders: Vec<&SeenLayer> = seen
            .iter()
            .filter(|l| l.diff_id == diff_id && l.image != this_image)
            .collect();
        if holders.is_empty() {
            continue;
        }
        shared.bytes += size;
        shared.layers += 1;
        for holder in holders {
            if !shared.images.contains(&holder.image) {
                shared.images.push(holder.image.clone());
            }
        }
    }
    shared
}
