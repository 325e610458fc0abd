//! What the Files tab shows, from the URL: one memo per key, so a view recomputes only
//! when its own keys change (selecting a file must not recompute a 100k-row listing).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use strata_shared::Digest;
use strata_shared::tree::explore::Sort;

use crate::url_state::ViewState;

/// The Files tab's part of the view state.
#[derive(Clone, Copy)]
pub(super) struct Selection {
    /// The listed layer's 0-based position (a `layer=sha256:…` resolved); none: merged.
    pub layer: Memo<Option<u32>>,
    /// The selected path, as the tree spells it.
    pub path: Memo<String>,
    /// The listed folder when set apart from the path (a folder selected, not opened).
    pub dir: Memo<Option<String>>,
    pub search: Memo<Option<String>>,
    pub sort: Memo<Sort>,
    pub with_deleted: Memo<bool>,
    pub largest: Memo<bool>,
}

impl Selection {
    /// Follows the router's query; `layers` are the manifest's layer digests, in order.
    pub fn from_url(layers: Vec<Digest>) -> Self {
        let query = use_query_map();
        let state = Memo::new(move |_| ViewState::from_map(&query.read()));
        Selection {
            layer: Memo::new(move |_| state.read().layer.as_ref()?.position(&layers)),
            path: Memo::new(move |_| state.read().path.clone()),
            dir: Memo::new(move |_| state.read().dir.clone()),
            search: Memo::new(move |_| state.read().search.clone()),
            sort: Memo::new(move |_| state.read().sort),
            with_deleted: Memo::new(move |_| state.read().with_deleted),
            largest: Memo::new(move |_| state.read().largest),
        }
    }
}
