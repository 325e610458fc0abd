//! What this browser saw of a repository's tags on an earlier visit (tag → digest), kept
//! in `localStorage` under one key per repository, so that the repository page can mark
//! the tags that moved since. Only digests are kept; storage errors are ignored (it is a
//! convenience).

use strata_shared::browse::rows::Remembered;

/// At most this many tags are remembered per repository.
const LIMIT: usize = 10_000;

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The storage key of a repository (`docker.io/library/nginx`).
fn key(repository: &str) -> String {
    format!("strata.tags.v1.{repository}")
}

/// The tags remembered for `repository`; unreadable is none.
pub(crate) fn load(repository: &str) -> Remembered {
    storage()
        .and_then(|s| s.get_item(&key(repository)).ok().flatten())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// Remembers `tags` for `repository` (the next visit compares against them).
pub(crate) fn save(repository: &str, tags: &Remembered) {
    if tags.len() > LIMIT {
        return;
    }
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(tags)) {
        let _ = storage.set_item(&key(repository), &text);
    }
}
