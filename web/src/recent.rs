//! Images recently opened in this browser, kept in `localStorage` for the home page. Only
//! pinned paths and names are kept, never bytes: an archive's entry still needs its file.

use serde::{Deserialize, Serialize};

const KEY: &str = "strata.recent.v1";
/// How many are kept, newest first.
const LIMIT: usize = 12;

/// One remembered image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct RecentImage {
    /// The pinned app path (`/image/…@sha256:…`, `/archive/sha256:…`).
    pub(crate) path: String,
    /// The name the page showed.
    pub(crate) name: String,
    /// When it was last opened, milliseconds since the epoch.
    pub(crate) opened_ms: f64,
    /// Read from a file or folder: the link asks for it again.
    pub(crate) needs_file: bool,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The remembered images, newest first; an unreadable entry is treated as none.
pub(crate) fn list() -> Vec<RecentImage> {
    storage()
        .and_then(|s| s.get_item(KEY).ok().flatten())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// Puts `image` first (once). Storage errors (quota, private mode) are ignored: the list
/// is a convenience.
pub(crate) fn remember(image: RecentImage) {
    let mut images = list();
    images.retain(|i| i.path != image.path);
    images.insert(0, image);
    images.truncate(LIMIT);
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(&images)) {
        let _ = storage.set_item(KEY, &text);
    }
}

/// Forgets every remembered image.
pub(crate) fn forget_all() {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(KEY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn image(path: &str) -> RecentImage {
        RecentImage {
            path: path.into(),
            name: path.into(),
            opened_ms: 0.0,
            needs_file: false,
        }
    }

    #[wasm_bindgen_test]
    fn newest_first_once_and_bounded() {
        forget_all();
        for i in 0..20 {
            remember(image(&format!("/image/a{i}")));
        }
        remember(image("/image/a5"));
        let paths: Vec<_> = list().into_iter().map(|i| i.path).collect();
        assert_eq!(paths.len(), LIMIT);
        assert_eq!(paths[0], "/image/a5");
        assert_eq!(paths[1], "/image/a19");
        assert_eq!(paths.iter().filter(|p| *p == "/image/a5").count(), 1);
        forget_all();
        assert!(list().is_empty());
    }

    #[wasm_bindgen_test]
    fn a_corrupt_entry_reads_as_empty() {
        storage().unwrap().set_item(KEY, "{not json").unwrap();
        assert!(list().is_empty());
        remember(image("/image/b"));
        assert_eq!(list().len(), 1);
        forget_all();
    }
}
