//! Strata's browser app: routes and the top-level component. Every request lives in
//! [`api`]; layer work runs in Web Workers ([`worker_pool`] on the page, [`worker`] inside).

mod api;
mod archive_store;
mod browse_load;
mod browser_turn;
mod compare_load;
mod components;
mod download;
mod early_documents;
mod early_reads;
mod endpoint;
mod format;
mod image_layers;
mod image_load;
mod layer_toc;
mod merged_tree;
mod page_fetches;
mod page_pool;
mod pages;
mod provenance_load;
mod recent;
mod relay_facts;
mod seen_before;
mod source_resolve;
mod tag_filler;
mod tag_memory;
mod tree_merger;
mod url_state;
mod user_timing;
mod verified_cache;
pub mod worker;
pub mod worker_pool;

// Unit tests run in headless Chromium (`wasm-bindgen-test-runner`, see scripts/test.sh).
#[cfg(test)]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

/// Mounts the app in a task of its own: the browser finishes compiling the wasm in the
/// task that resolves its load, and with the first render after it that made one task of
/// 50-60 ms on a fresh profile.
pub fn start() {
    wasm_bindgen_futures::spawn_local(async {
        browser_turn::yield_to_browser().await;
        leptos::mount::mount_to_body(App);
    });
}

/// The app: a home page, the image page (the reference is a wildcard: it has slashes), a
/// repository's tags (a wildcard too) and a registry's repositories.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <Routes fallback=|| view! { <pages::NotFound/> }>
                <Route path=path!("/") view=pages::HomePage/>
                <Route path=path!("/image/*reference") view=|| view! { <pages::ImagePage/> }/>
                <Route path=path!("/archive/:digest") view=|| view! { <pages::ImagePage archive=true/> }/>
                <Route path=path!("/repo/*path") view=pages::RepositoryPage/>
                <Route path=path!("/registry/:host") view=pages::RegistryPage/>
                <Route path=path!("/compare") view=pages::ComparePage/>
            </Routes>
        </Router>
    }
}
