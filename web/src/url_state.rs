//! View state lives in the URL query, so a copied link restores the view and Back works.
//! This module owns every query key ([`Key`]) and their typed values ([`ViewState`]).
//!
//! Links are built in Rust from one snapshot of the location, so a listing of many rows
//! costs no calls into the browser per row.

use leptos::prelude::Get;
use leptos_router::params::ParamsMap;
use strata_shared::Digest;
use strata_shared::tree::explore::Sort;

/// Every query key the app reads or writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    /// `platform=linux/arm64/v8`: the index entry to show (changes the load).
    Platform,
    /// `tab=files|history|provenance` (no key: the overview).
    Tab,
    /// `path=/etc/nginx`: the selected file or directory of the Files tab.
    Path,
    /// `dir=/etc`: the folder listed when it is not the one `path` implies (a folder
    /// selected by the arrows, not opened).
    Dir,
    /// `layer=N` (0-based) or `layer=sha256:…`: one layer's changes.
    Layer,
    /// `q=`: a substring or glob search.
    Search,
    /// `sort=size` (no key: by name).
    Sort,
    /// `deleted=1`: listings show removed paths too.
    Deleted,
    /// `view=largest`: the largest files of the image.
    View,
    /// `attestation=sha256:…`: the selected attestation of the Provenance tab.
    Attestation,
    /// `package=NAME`: the selected SBOM package.
    Package,
    /// `strata_split=off|always`: how layers are spread over workers (tests, benchmarks).
    StrataSplit,
    /// `n=40`: the page size of a repository's tag list or a registry's catalog.
    PageSize,
    /// `a=REFERENCE`, `b=REFERENCE`: the two images of a compare.
    SideA,
    /// See [`Key::SideA`].
    SideB,
    /// `pa=linux/amd64`, `pb=linux/arm64`: each compared side's platform.
    PlatformA,
    /// See [`Key::PlatformA`].
    PlatformB,
    /// `unchanged=1`: a compare's file list shows unchanged paths too.
    Unchanged,
    /// `semantic=1`: a compare ignores mtimes and which layer provided a path.
    Semantic,
    /// `kind=added,modified`: the kinds of change a compare's file list shows.
    Kind,
}

impl Key {
    /// The key as written in the URL.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Key::Platform => "platform",
            Key::Tab => "tab",
            Key::Path => "path",
            Key::Dir => "dir",
            Key::Layer => "layer",
            Key::Search => "q",
            Key::Sort => "sort",
            Key::Deleted => "deleted",
            Key::View => "view",
            Key::Attestation => "attestation",
            Key::Package => "package",
            Key::StrataSplit => "strata_split",
            Key::PageSize => "n",
            Key::SideA => "a",
            Key::SideB => "b",
            Key::PlatformA => "pa",
            Key::PlatformB => "pb",
            Key::Unchanged => "unchanged",
            Key::Semantic => "semantic",
            Key::Kind => "kind",
        }
    }
}

/// The image page's tabs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Tab {
    /// Platforms, manifest, layers, config and history (no `tab` key).
    #[default]
    Overview,
    /// The merged filesystem and each layer's changes.
    Files,
    /// The config's history.
    History,
    /// Attestations, SBOM and signatures.
    Provenance,
}

impl Tab {
    /// In the order of the tab bar.
    pub(crate) const ALL: [Tab; 4] = [Tab::Overview, Tab::Files, Tab::History, Tab::Provenance];

    /// An unknown or missing value is the overview.
    pub(crate) fn parse(value: Option<&str>) -> Tab {
        match value {
            Some("files") => Tab::Files,
            Some("history") => Tab::History,
            Some("provenance") => Tab::Provenance,
            _ => Tab::Overview,
        }
    }

    /// The `tab` value; `None` for the overview, which has no key.
    pub(crate) fn value(self) -> Option<&'static str> {
        match self {
            Tab::Overview => None,
            Tab::Files => Some("files"),
            Tab::History => Some("history"),
            Tab::Provenance => Some("provenance"),
        }
    }

    /// The `data-tab` attribute (tests find tabs by it).
    pub(crate) fn id(self) -> &'static str {
        self.value().unwrap_or("overview")
    }

    /// The label in the tab bar.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Files => "Files",
            Tab::History => "History",
            Tab::Provenance => "Provenance",
        }
    }
}

/// Which layer the Files tab shows. Layers are numbered from 0 (the base layer) in the URL
/// and on screen alike (`layer=0` is "L0").
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LayerSel {
    /// The 0-based position in the manifest.
    Number(u32),
    /// The layer's compressed digest, as in the manifest: stable when layers are added
    /// below it.
    Digest(Digest),
}

impl LayerSel {
    /// `2` or `sha256:…`; anything else selects no layer.
    pub(crate) fn parse(value: &str) -> Option<LayerSel> {
        if value.contains(':') {
            value.parse().ok().map(LayerSel::Digest)
        } else {
            value.parse().ok().map(LayerSel::Number)
        }
    }

    /// The value written in the URL.
    pub(crate) fn value(&self) -> String {
        match self {
            LayerSel::Number(n) => n.to_string(),
            LayerSel::Digest(d) => d.to_string(),
        }
    }

    /// The 0-based position among `layers` (the manifest's layer digests, in order).
    pub(crate) fn position(&self, layers: &[Digest]) -> Option<u32> {
        match self {
            LayerSel::Number(n) => ((*n as usize) < layers.len()).then_some(*n),
            LayerSel::Digest(d) => layers.iter().position(|l| l == d).map(|i| i as u32),
        }
    }
}

/// Everything the image page reads from the query, typed. Unknown keys are ignored here
/// (links keep them: see [`UrlState::with`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ViewState {
    /// The platform of an index to show (`os/arch[/variant]`).
    pub platform: Option<String>,
    /// The tab on screen.
    pub tab: Tab,
    /// Selected path, as the tree spells it (no leading `/`; empty: the root).
    pub path: String,
    /// The listed folder, when set apart from `path` (`Some("")`: the root).
    pub dir: Option<String>,
    /// The layer whose changes are listed (none: the merged view).
    pub layer: Option<LayerSel>,
    /// The search, when not blank.
    pub search: Option<String>,
    /// Listing order.
    pub sort: Sort,
    /// Listings show removed paths too.
    pub with_deleted: bool,
    /// The "largest files" view.
    pub largest: bool,
    /// The selected attestation (a manifest digest).
    pub attestation: Option<String>,
    /// The selected SBOM package.
    pub package: Option<String>,
}

impl ViewState {
    /// Reads the state through `get`, which returns a key's (first) value. The page only
    /// reads: links change single keys with [`UrlState::with`], so unknown keys survive.
    /// Writing a whole state back (`href`) exists for the round-trip tests.
    pub(crate) fn read(get: impl Fn(Key) -> Option<String>) -> Self {
        ViewState {
            platform: get(Key::Platform),
            tab: match get(Key::Tab) {
                Some(tab) => Tab::parse(Some(&tab)),
                // `path=` (or `q=`) alone names a place in the files: the Files tab shows it.
                None if get(Key::Path).is_some() || get(Key::Search).is_some() => Tab::Files,
                None => Tab::parse(None),
            },
            path: get(Key::Path)
                .map(|p| p.trim_matches('/').to_owned())
                .unwrap_or_default(),
            dir: get(Key::Dir).map(|d| d.trim_matches('/').to_owned()),
            layer: get(Key::Layer).as_deref().and_then(LayerSel::parse),
            search: get(Key::Search).filter(|q| !q.trim().is_empty()),
            sort: Sort::parse(&get(Key::Sort).unwrap_or_default()),
            with_deleted: get(Key::Deleted).as_deref() == Some("1"),
            largest: get(Key::View).as_deref() == Some("largest"),
            attestation: get(Key::Attestation),
            package: get(Key::Package),
        }
    }

    /// From the router's query map.
    pub(crate) fn from_map(map: &ParamsMap) -> Self {
        Self::read(|key| map.get(key.as_str()))
    }

    /// From a `?a=b&c=d` query string.
    #[cfg(test)]
    pub(crate) fn from_search(search: &str) -> Self {
        let url = UrlState::from_parts("", search);
        Self::read(|key| url.get(key))
    }

    /// The query pairs of this state, in one fixed order; defaults have no key.
    #[cfg(test)]
    pub(crate) fn pairs(&self) -> Vec<(Key, String)> {
        let mut pairs = Vec::new();
        let mut put = |key: Key, value: Option<String>| {
            if let Some(v) = value {
                pairs.push((key, v));
            }
        };
        put(Key::Platform, self.platform.clone());
        put(Key::Tab, self.tab.value().map(str::to_owned));
        put(
            Key::Path,
            (!self.path.is_empty()).then(|| format!("/{}", self.path)),
        );
        put(Key::Dir, self.dir.as_ref().map(|d| format!("/{d}")));
        put(Key::Layer, self.layer.as_ref().map(LayerSel::value));
        put(Key::Search, self.search.clone());
        put(Key::Sort, self.sort.value());
        put(Key::Deleted, self.with_deleted.then(|| "1".to_owned()));
        put(Key::View, self.largest.then(|| "largest".to_owned()));
        put(Key::Attestation, self.attestation.clone());
        put(Key::Package, self.package.clone());
        pairs
    }

    /// The link to this state on page `path`.
    #[cfg(test)]
    pub(crate) fn href(&self, path: &str) -> String {
        let pairs = self.pairs();
        let updates: Vec<(Key, Option<&str>)> =
            pairs.iter().map(|(k, v)| (*k, Some(v.as_str()))).collect();
        UrlState::from_parts(path, "").with(&updates)
    }
}

/// The page's path and query, read once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct UrlState {
    path: String,
    query: Vec<(String, String)>,
}

impl UrlState {
    /// The router's current URL. Read inside a reactive closure (`href=move || ...`), it
    /// makes the closure follow navigation, so links never carry a stale query.
    pub(crate) fn current() -> Self {
        let location = leptos_router::hooks::use_location();
        Self::from_parts(&location.pathname.get(), &location.search.get())
    }

    /// The router's current URL, read without tracking: for event handlers, which run
    /// outside the component tree (so [`UrlState::current`] cannot find the router).
    pub(crate) fn untracked(location: &leptos_router::location::Location) -> Self {
        use leptos::prelude::GetUntracked;
        Self::from_parts(
            &location.pathname.get_untracked(),
            &location.search.get_untracked(),
        )
    }

    /// A path and a `?a=b&c=d` query string (the `?` is optional).
    pub(crate) fn from_parts(path: &str, search: &str) -> Self {
        let query = form_urlencoded::parse(search.trim_start_matches('?').as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Self {
            path: path.to_owned(),
            query,
        }
    }

    /// The first value of `key`.
    pub(crate) fn get(&self, key: Key) -> Option<String> {
        self.query
            .iter()
            .find(|(k, _)| k == key.as_str())
            .map(|(_, v)| v.clone())
    }

    /// The link with some query keys set (`Some`, in place, else appended) or removed
    /// (`None`), serialized as the browser's `URLSearchParams` would.
    pub(crate) fn with(&self, updates: &[(Key, Option<&str>)]) -> String {
        let mut query: Vec<(&str, &str)> = self
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        for (key, value) in updates {
            let key = key.as_str();
            match value {
                Some(v) => match query.iter().position(|(k, _)| *k == key) {
                    Some(first) => {
                        query[first].1 = v;
                        let mut i = first + 1;
                        while i < query.len() {
                            if query[i].0 == key {
                                query.remove(i);
                            } else {
                                i += 1;
                            }
                        }
                    }
                    None => query.push((key, v)),
                },
                None => query.retain(|(k, _)| *k != key),
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
pub(crate) fn href_with(updates: &[(Key, Option<&str>)]) -> String {
    UrlState::current().with(updates)
}

/// The Files tab listing layer `index`'s changes (the selected path kept); reactive.
pub(crate) fn layer_changes_href(index: usize) -> impl Fn() -> String + Send + Sync + 'static {
    move || {
        let layer = index.to_string();
        href_with(&[
            (Key::Tab, Tab::Files.value()),
            (Key::Layer, Some(&layer)),
            (Key::Search, None),
            (Key::View, None),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    const PAGE: &str = "/image/r/a@sha256:00";

    /// Parses `search`, checks the typed state, and writes it back unchanged.
    fn round_trip(search: &str, want: ViewState) {
        let state = ViewState::from_search(search);
        assert_eq!(state, want, "{search}");
        let href = state.href(PAGE);
        let back = href.strip_prefix(PAGE).unwrap_or(&href);
        let decoded: Vec<(String, String)> =
            form_urlencoded::parse(back.trim_start_matches('?').as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        let given: Vec<(String, String)> =
            form_urlencoded::parse(search.trim_start_matches('?').as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        assert_eq!(decoded, given, "{search} → {href}");
    }

    #[wasm_bindgen_test]
    fn a_path_alone_opens_the_files_tab() {
        let state = ViewState::from_search("?path=/etc/conf");
        assert_eq!(state.tab, Tab::Files);
        assert_eq!(state.path, "etc/conf");
        assert_eq!(ViewState::from_search("?q=*.so").tab, Tab::Files);
        assert_eq!(
            ViewState::from_search("?tab=history&path=/etc").tab,
            Tab::History
        );
        assert_eq!(ViewState::from_search("").tab, Tab::Overview);
    }

    fn files() -> ViewState {
        ViewState {
            tab: Tab::Files,
            ..ViewState::default()
        }
    }

    #[wasm_bindgen_test]
    fn row_overview_and_platform() {
        round_trip("", ViewState::default());
        round_trip(
            "?platform=linux/arm64/v8",
            ViewState {
                platform: Some("linux/arm64/v8".into()),
                ..ViewState::default()
            },
        );
    }

    #[wasm_bindgen_test]
    fn row_merged_filesystem_with_a_path() {
        round_trip(
            "?tab=files&path=/etc/nginx/nginx.conf",
            ViewState {
                path: "etc/nginx/nginx.conf".into(),
                ..files()
            },
        );
        round_trip(
            "?tab=files&path=%2Fetc%2Fnginx&dir=%2Fetc",
            ViewState {
                path: "etc/nginx".into(),
                dir: Some("etc".into()),
                ..files()
            },
        );
        round_trip(
            "?tab=files&path=%2Fetc&dir=%2F",
            ViewState {
                path: "etc".into(),
                dir: Some(String::new()),
                ..files()
            },
        );
        round_trip(
            "?tab=files&path=%2Fetc%2Fnginx&deleted=1",
            ViewState {
                path: "etc/nginx".into(),
                with_deleted: true,
                ..files()
            },
        );
    }

    #[wasm_bindgen_test]
    fn row_one_layers_changes_by_number_or_digest() {
        round_trip(
            "?tab=files&layer=2",
            ViewState {
                layer: Some(LayerSel::Number(2)),
                ..files()
            },
        );
        let digest = format!("sha256:{}", "ab".repeat(32));
        let sel = LayerSel::Digest(digest.parse().unwrap());
        round_trip(
            &format!("?tab=files&layer={digest}"),
            ViewState {
                layer: Some(sel.clone()),
                ..files()
            },
        );
        let layers: Vec<Digest> = [format!("sha256:{}", "cd".repeat(32)), digest.clone()]
            .iter()
            .map(|d| d.parse().unwrap())
            .collect();
        assert_eq!(sel.position(&layers), Some(1));
        assert_eq!(LayerSel::Number(1).position(&layers), Some(1));
        assert_eq!(LayerSel::Number(2).position(&layers), None);
        assert_eq!(LayerSel::parse("sha256:nope"), None);
        assert_eq!(LayerSel::parse("-1"), None);
    }

    #[wasm_bindgen_test]
    fn row_search_by_substring_or_glob() {
        round_trip(
            "?tab=files&q=**/*.so",
            ViewState {
                search: Some("**/*.so".into()),
                ..files()
            },
        );
        assert_eq!(ViewState::from_search("?tab=files&q=+").search, None);
    }

    #[wasm_bindgen_test]
    fn row_sort_by_size_and_largest_files() {
        round_trip(
            "?tab=files&sort=size",
            ViewState {
                sort: Sort::parse("size"),
                ..files()
            },
        );
        round_trip(
            "?tab=files&sort=-time",
            ViewState {
                sort: Sort {
                    by: strata_shared::tree::explore::SortBy::Modified,
                    reverse: true,
                },
                ..files()
            },
        );
        round_trip(
            "?tab=files&view=largest",
            ViewState {
                largest: true,
                ..files()
            },
        );
    }

    #[wasm_bindgen_test]
    fn row_history() {
        round_trip(
            "?tab=history",
            ViewState {
                tab: Tab::History,
                ..ViewState::default()
            },
        );
    }

    #[wasm_bindgen_test]
    fn row_provenance_attestation_and_package() {
        let provenance = ViewState {
            tab: Tab::Provenance,
            ..ViewState::default()
        };
        round_trip("?tab=provenance", provenance.clone());
        let attestation = format!("sha256:{}", "01".repeat(32));
        round_trip(
            &format!("?tab=provenance&attestation={attestation}&package=openssl"),
            ViewState {
                attestation: Some(attestation.clone()),
                package: Some("openssl".into()),
                ..provenance
            },
        );
    }

    #[wasm_bindgen_test]
    fn unknown_tabs_are_the_overview() {
        assert_eq!(ViewState::from_search("?tab=nope").tab, Tab::Overview);
        for tab in Tab::ALL {
            assert_eq!(Tab::parse(tab.value()), tab);
        }
    }

    #[wasm_bindgen_test]
    fn sets_replaces_and_removes_keys_like_url_search_params() {
        let state = UrlState::from_parts(PAGE, "?tab=files&path=%2Fetc&q=x");
        assert_eq!(
            state.with(&[(Key::Path, Some("/usr/lib")), (Key::Search, None)]),
            "/image/r/a@sha256:00?tab=files&path=%2Fusr%2Flib"
        );
        assert_eq!(
            state.with(&[(Key::Sort, Some("size"))]),
            "/image/r/a@sha256:00?tab=files&path=%2Fetc&q=x&sort=size"
        );
        assert_eq!(
            state.with(&[(Key::Tab, None), (Key::Path, None), (Key::Search, None)]),
            "/image/r/a@sha256:00"
        );
        let spaces = UrlState::from_parts("/p", "q=a+b&q=c");
        assert_eq!(
            spaces.with(&[(Key::Search, Some("**/*.so x"))]),
            "/p?q=**%2F*.so+x"
        );
        assert_eq!(spaces.get(Key::Search).as_deref(), Some("a b"));
    }
}
