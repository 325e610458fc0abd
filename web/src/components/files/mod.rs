//! The Files tab: layers on the left ([`layers`]), the merged tree or one layer's
//! changes in the middle ([`listing`]), the selected path's details and origin on the
//! right ([`detail`]). All state is in the URL ([`selection`]).

mod detail;
mod foreign;
mod keys;
mod layers;
mod layout;
mod listing;
mod marks;
mod selection;

use leptos::prelude::*;
use strata_shared::manifest::HistoryStep;
use strata_shared::tree::explore;
use strata_shared::tree::export;
use wasm_bindgen::JsCast;

use crate::components::FileContents;
use crate::image_load::LayerRow;
use crate::merged_tree::MergedTreeState;
use crate::url_state::{Key, href_with};
pub(crate) use detail::file_source;
use detail::{PathDetail, request_name};
use keys::{FilesKeys, SEARCH_BOX};
use layers::LayerList;
use listing::{ListingPane, listing_rows};
use selection::Selection;

/// The explorer of the merged image.
#[component]
pub(crate) fn FilesView(
    files: MergedTreeState,
    layers: Vec<LayerRow>,
    history: Vec<HistoryStep>,
    /// The platform manifest, to look up SBOM packages that claim a file.
    manifest: Option<strata_shared::Digest>,
    /// The config's CPU architecture, to flag executables built for another one.
    architecture: Option<String>,
) -> impl IntoView {
    let _span = crate::user_timing::span("strata:files-view");
    let tree = files.tree.clone();
    // While layers are still indexing, a bar says how far the tree has come; the figures
    // below it are partial until then.
    // A layer listed from its TOC is not indexed yet either.
    let files_pending: Vec<usize> = files
        .pending_layers
        .iter()
        .chain(&files.toc_layers)
        .copied()
        .collect();
    let layer_total = layers.len();
    let progress = (!files_pending.is_empty()).then(|| {
        let indexed = layer_total.saturating_sub(files_pending.len());
        view! {
            <div class="files-progress" data-files-progress=format!("{indexed}/{layer_total}")>
                <progress max=layer_total.to_string() value=indexed.to_string()></progress>
                " " {indexed} " of " {crate::format::plural(layer_total as u64, "layer", "layers")} " indexed: folders, counts and totals are partial until the rest are in."
            </div>
        }
    });
    let sel = Selection::from_url(layers.iter().map(|l| l.descriptor.digest.clone()).collect());
    let Selection {
        layer,
        path,
        with_deleted,
        largest,
        ..
    } = sel;

    let commands: Vec<String> = layers
        .iter()
        .map(|l| {
            l.history_step
                .and_then(|s| history.get(s))
                .and_then(|s| s.created_by.clone())
                .unwrap_or_default()
        })
        .collect();

    let tree_for_detail = tree.clone();
    let commands_for_detail = commands.clone();
    let indexes = files.indexes.clone();
    let layer_rows = layers.clone();
    let detail = move || {
        let p = path.get();
        let node = tree_for_detail.get(&p)?.clone();
        let source = file_source(&node, &indexes, &layer_rows);
        Some(view! {
            <PathDetail tree=tree_for_detail.clone() path=p node commands=commands_for_detail.clone() manifest=manifest.clone()/>
            {source.map(|request| {
                let name = request_name(&path.get());
                view! { <FileContents request name/> }
            })}
        })
    };

    // A path through a symlinked directory is followed, as a shell would; a path the
    // image lacks says so and offers the nearest directory above it.
    let lookup_tree = tree.clone();
    let lookup = Memo::new(move |_| explore::lookup_path(&lookup_tree, &path.get()));
    let follow = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let explore::PathLookup::Follows(target) = lookup.get() {
            follow(
                &href_with(&[(Key::Path, Some(&format!("/{target}")))]),
                leptos_router::NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });
    let not_found = move || match lookup.get() {
        explore::PathLookup::NotFound { nearest } => {
            let href = href_with(&[(Key::Path, Some(&format!("/{nearest}")))]);
            Some(view! {
                <p class="panel error-panel not-found" data-path-not-found=format!("/{}", path.get())>
                    <code class="mono">{format!("/{}", path.get())}</code>
                    " is not found in this image. The nearest folder above it is "
                    <a href=href class="mono" data-nearest="">{format!("/{nearest}")}</a> "."
                </p>
            })
        }
        _ => None,
    };

    let search_text = RwSignal::new(sel.search.get_untracked().unwrap_or_default());
    let listing = listing_rows(tree.clone(), sel, commands.clone());
    FilesKeys {
        listing,
        search_text,
        location: leptos_router::hooks::use_location(),
        navigate: std::rc::Rc::new(leptos_router::hooks::use_navigate()),
        pending_first: RwSignal::new(false),
    }
    .listen();
    // Search runs as you type, 250 ms after the last key, replacing the URL (one history
    // entry for a search, not one per key); Enter runs it at once.
    let typed = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let typed_for_submit = typed.clone();
    let navigate_typed = leptos_router::hooks::use_navigate();
    let location = leptos_router::hooks::use_location();
    let on_type = move |ev: leptos::ev::Event| {
        search_text.set(event_target_value(&ev));
        let mine = typed.get() + 1;
        typed.set(mine);
        let typed = typed.clone();
        let navigate = navigate_typed.clone();
        let location = location.clone();
        let run = move || {
            if typed.get() != mine {
                return;
            }
            let q = search_text.get_untracked();
            let q = q.trim();
            // A timer runs outside the component tree: the URL comes from the location
            // captured here, not from the router's context.
            let href = crate::url_state::UrlState::untracked(&location)
                .with(&[(Key::Search, (!q.is_empty()).then_some(q))]);
            navigate(
                &href,
                leptos_router::NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        };
        if let Some(window) = web_sys::window() {
            let callback = wasm_bindgen::closure::Closure::once_into_js(run);
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                callback.unchecked_ref(),
                250,
            );
        }
    };
    let navigate = leptos_router::hooks::use_navigate();
    let submit_search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // Enter runs the search now; a search still waiting for the typing to stop must
        // not run again later (after a Back, it would bring the search back).
        typed_for_submit.set(typed_for_submit.get() + 1);
        let q = search_text.get_untracked();
        let q = q.trim();
        navigate(
            &href_with(&[(Key::Search, (!q.is_empty()).then_some(q))]),
            Default::default(),
        );
    };
    let toggle_deleted = move || {
        href_with(&[(
            Key::Deleted,
            if with_deleted.get() { None } else { Some("1") },
        )])
    };
    let largest_href = move || {
        href_with(&[
            (Key::View, (!largest.get()).then_some("largest")),
            (Key::Search, None),
            (Key::Layer, None),
        ])
    };
    let export_tree = tree.clone();
    let export = move |format: &'static str| {
        let rows = export::rows(&export_tree, layer.get());
        let (text, mime) = match format {
            "csv" => (export::to_csv(&rows), "text/csv"),
            _ => (export::to_json(&rows), "application/json"),
        };
        let name = format!("{}.{format}", export::file_stem(layer.get()));
        crate::download::save(&name, text.as_bytes(), mime);
    };
    let export_csv = export.clone();
    let merge_ms = format!("{:.0}", files.merge_ms);
    let frame = NodeRef::<leptos::html::Div>::new();
    layout::fit_to_window(frame);

    view! {
        <div class="files" tabindex="-1" data-merge-ms=merge_ms node_ref=frame>
            <LayerList files layers commands=commands.clone() layer/>
            <section class="tree-pane">
                <div class="toolbar">
                    <form on:submit=submit_search class="search">
                        <input id=SEARCH_BOX class="mono" type="search" placeholder="/ search: name, path or glob (**/*.so)"
                            prop:value=move || search_text.get() on:input=on_type/>
                    </form>
                    <a href=largest_href class:current=move || largest.get() data-largest="">"largest files"</a>
                    " · " <a href=toggle_deleted>{move || if with_deleted.get() { "hide deleted" } else { "show deleted" }}</a>
                    <span class="nowrap">" · export "
                        <button class="link" on:click=move |_| export("json")>"JSON"</button>
                        <button class="link" on:click=move |_| export_csv("csv")>"CSV"</button>
                    </span>
                </div>
                {not_found}
                {progress}
                {architecture.map(|arch| view! { <foreign::ForeignBinaries tree=tree.clone() architecture=arch/> })}
                <ListingPane listing sel partial=!files_pending.is_empty()/>
            </section>
            <layout::Splitter frame/>
            <aside class="detail-pane">{detail}</aside>
        </div>
    }
}
