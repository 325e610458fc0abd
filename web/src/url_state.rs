//! View state lives in the URL query, so a copied link restores the view and Back works.
//!
//! Links are built in Rust from one snapshot of the location, so a listing of many rows
//! costs no calls into the browser per row.

use leptos::prelude::Get;

/// The page's path and query, read once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UrlState {
    path: String,
    query: Vec<(String, String)>,
}

impl UrlState {
    /// The router's current URL. Read inside a reactive closure (`href=move || ...`), it
    /// makes the closure follow navigation, so links never carry a stale query.
    pub fn current() -> Self {
        let location = leptos_router::hooks::use_location();
        Self::from_parts(&location.pathname.get(), &location.search.get())
    }

    /// A path and a `?a=b&c=d` query string (the `?` is optional).
    pub fn from_parts(path: &str, search: &str) -> Self {
        let query = form_urlencoded::parse(search.trim_start_matches('?').as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Self {
            path: path.to_owned(),
            query,
        }
    }

    /// The link with some query keys set (`Some`, in place, else appended) or removed
    /// (`None`), serialized as the browser's `URLSearchParams` would.
    pub fn with(&self, updates: &[(&str, Option<&str>)]) -> String {
        let mut query: Vec<(&str, &str)> = self
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        for (key, value) in updates {
            match value {
                Some(v) => match query.iter().position(|(k, _)| k == key) {
                    Some(first) => {
                        query[first].1 = v;
                        let mut i = first + 1;
                        while i < query.len() {
                            if query[i].0 == *key {
                                query.remove(i);
                            } else {
                                i += 1;
                            }
                        }
                    }
                    None => query.push((key, v)),
                },
                None => query.retain(|(k, _)| k != key),
            }
        }
        if query.is_empty() {
            return self.path.clone();
        }
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        format!("{}?{encoded}", self.path)
    }
}

/// The current page's path with some query keys set (`Some`) or removed (`None`);
/// reactive like [`UrlState::current`].
pub fn href_with(updates: &[(&str, Option<&str>)]) -> String {
    UrlState::current().with(updates)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn sets_replaces_and_removes_keys_like_url_search_params() {
        let state = UrlState::from_parts("/image/r/a@sha256:00", "?tab=files&path=%2Fetc&q=x");
        assert_eq!(
            state.with(&[("path", Some("/usr/lib")), ("q", None)]),
            "/image/r/a@sha256:00?tab=files&path=%2Fusr%2Flib"
        );
        assert_eq!(
            state.with(&[("sort", Some("size"))]),
            "/image/r/a@sha256:00?tab=files&path=%2Fetc&q=x&sort=size"
        );
        assert_eq!(
            state.with(&[("tab", None), ("path", None), ("q", None)]),
            "/image/r/a@sha256:00"
        );
        let spaces = UrlState::from_parts("/p", "q=a+b&q=c");
        assert_eq!(spaces.with(&[("q", Some("**/*.so x"))]), "/p?q=**%2F*.so+x");
    }
}
