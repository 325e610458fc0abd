//! The middle pane: the rows of the view the URL asks for (a directory, one layer's
//! changes, a search, the largest files), rendered as a window over the rows in sight.

use std::sync::Arc;

use leptos::prelude::*;
use strata_shared::layer::EntryKind;
use strata_shared::tree::explore::{self, Row, mode_string};
use strata_shared::tree::{ChangeKind, MergedTree, Pattern};

use super::marks::{change_marker, change_word};
use super::selection::Selection;
use crate::format::plural;
use crate::format::{bytes, utc_minutes};
use crate::url_state::{Key, UrlState, href_with};

/// Searches stop after this many matches.
pub(super) const SEARCH_LIMIT: usize = 100_000;
/// Rows of the "largest files" view.
const LARGEST: usize = 500;
/// Fixed row height (px, matches the stylesheet) so the visible window can be computed.
const ROW_HEIGHT: f64 = 26.0;
/// Rows rendered above the visible ones.
const WINDOW_MARGIN: usize = 20;
/// The window moves by this many rows: small steps spread the work of a fast scroll
/// evenly over frames instead of one long task per big block.
const WINDOW_BLOCK: usize = 10;
/// Rows rendered at once (visible ones, the margin above and blocks below).
const WINDOW_ROWS: usize = 100;

/// The rows of the view the URL asks for.
#[derive(Clone, Debug, PartialEq)]
struct Listing {
    title: String,
    rows: Vec<Row>,
    up: Option<String>,
    full_paths: bool,
}

/// The scrolling listing with its heading.
#[component]
pub(super) fn ListingPane(
    tree: Arc<MergedTree>,
    sel: Selection,
    /// Each layer's build step, for layer headings.
    commands: Vec<String>,
) -> impl IntoView {
    let Selection {
        layer,
        path,
        search,
        sort,
        with_deleted,
        largest,
    } = sel;
    let tree_for_dir = tree.clone();
    let dir = Memo::new(move |_| explore::listing_dir(&tree_for_dir, &path.get()));
    // The rows of the current view are computed once per URL change; scrolling only
    // re-renders the window of rows in sight (a 100k-entry layer stays smooth).
    let listing_rows = Memo::new(move |_| {
        let tree = &tree;
        if largest.get() {
            return Listing {
                title: format!("Largest {LARGEST} files"),
                rows: explore::largest_files(tree, LARGEST),
                up: None,
                full_paths: true,
            };
        }
        match (search.get(), layer.get()) {
            (Some(q), Some(l)) => Listing {
                title: format!("Search {q} in layer {l}"),
                rows: explore::search_layer(tree, l, &Pattern::parse(&q), sort.get(), SEARCH_LIMIT),
                up: None,
                full_paths: true,
            },
            (Some(q), None) => Listing {
                rows: explore::search(tree, &Pattern::parse(&q), sort.get(), SEARCH_LIMIT),
                title: format!("Search {q}"),
                up: None,
                full_paths: true,
            },
            (None, Some(l)) => Listing {
                title: layer_title(tree, l, &commands),
                rows: explore::layer_changes(tree, l, sort.get()),
                up: None,
                full_paths: true,
            },
            (None, None) => {
                let dir = dir.get();
                let up = (!dir.is_empty()).then(|| {
                    let parent = explore::parent_dir(&dir);
                    href_with(&[(Key::Path, Some(&format!("/{parent}")))])
                });
                Listing {
                    rows: explore::list_dir(tree, &dir, sort.get(), with_deleted.get()),
                    title: format!("/{dir}"),
                    up,
                    full_paths: false,
                }
            }
        }
    });
    // Each new listing gets a new generation: rows are keyed by (generation, position), so
    // a row once made never moves, and moving the window only makes the rows that came in.
    let generation = Memo::new(move |previous: Option<&u64>| {
        listing_rows.track();
        previous.map_or(0, |g| g + 1)
    });
    let scroll_top = RwSignal::new(0.0f64);
    let scroller = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        listing_rows.track();
        scroll_top.set(0.0);
        if let Some(el) = scroller.get_untracked() {
            el.set_scroll_top(0);
        }
    });
    // The window moves in blocks, so scrolling re-renders once per block, not per event.
    let window_start = Memo::new(move |_| {
        let row = (scroll_top.get() / ROW_HEIGHT) as usize;
        (row / WINDOW_BLOCK * WINDOW_BLOCK).saturating_sub(WINDOW_MARGIN)
    });
    let total = move || listing_rows.with(|l| l.rows.len());
    let visible = move || {
        let first = window_start.get();
        let url = Arc::new(UrlState::current());
        let generation = generation.get();
        listing_rows.with(|l| {
            let last = (first + WINDOW_ROWS).min(l.rows.len());
            l.rows
                .get(first..last)
                .unwrap_or_default()
                .iter()
                .enumerate()
                .map(|(i, row)| VisibleRow {
                    generation,
                    position: first + i,
                    row: row.clone(),
                    full_path: l.full_paths,
                    url: url.clone(),
                })
                .collect::<Vec<_>>()
        })
    };
    let head = move || {
        listing_rows.with(|listing| {
            let total = listing.rows.len();
            let capped = (search.get().is_some() && total >= SEARCH_LIMIT)
                .then(|| format!(", first {SEARCH_LIMIT} matches"));
            view! {
                <span class="mono">{listing.title.clone()}</span>
                <span class="dim">" · " {plural(total as u64, "entry", "entries")} {capped}</span>
                {listing.up.clone().map(|href| view! { " · " <a href=href data-up="">".. up"</a> })}
            }
        })
    };
    // Rows are absolutely placed in a body as tall as the whole listing: adding or
    // removing rows never lays out the others (a table re-laid out every block).
    let listing = move || {
        view! {
            <div class="listing-head">{head}</div>
            <div class="listing" role="table" data-listing="" data-total=move || total().to_string()>
                <div class="row head" role="row">
                    <span role="columnheader">"Name"</span><span role="columnheader">"Mode"</span>
                    <span role="columnheader" class="owner">"Owner"</span><span role="columnheader" class="num">"Size"</span>
                    <span role="columnheader">"Layer"</span><span role="columnheader" class="time">"Modified (UTC)"</span>
                </div>
                <div class="rows" role="rowgroup" style=move || format!("height:{}px", total() as f64 * ROW_HEIGHT)>
                    <For
                        each=visible
                        key=|v| (v.generation, v.position)
                        children=listing_row
                    />
                </div>
            </div>
        }
    };
    view! {
        <div class="listing-scroll" node_ref=scroller on:scroll=move |ev| {
            if let Some(el) = ev.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok()) {
                scroll_top.set(el.scroll_top() as f64);
            }
        }>{listing}</div>
    }
}

/// A layer view's heading: what the layer did, in counts and bytes, and the build step.
fn layer_title(tree: &MergedTree, layer: u32, commands: &[String]) -> String {
    let mut title = format!("Layer {layer} changes");
    if let Some(s) = tree.layers().get(layer as usize) {
        title.push_str(&format!(
            ": +{} ({}) ~{} ({}) −{} ({})",
            s.added.count,
            bytes(s.added.bytes),
            s.modified.count,
            bytes(s.modified.bytes),
            s.deleted.count,
            bytes(s.deleted.bytes)
        ));
    }
    match commands.get(layer as usize).filter(|c| !c.is_empty()) {
        Some(command) => format!("{title} · {command}"),
        None => title,
    }
}

/// One row of the window on screen, with what it needs to render itself.
#[derive(Clone)]
struct VisibleRow {
    generation: u64,
    position: usize,
    row: Row,
    full_path: bool,
    /// The URL when the window was cut, for the rows' links.
    url: Arc<UrlState>,
}

fn listing_row(visible: VisibleRow) -> impl IntoView {
    let VisibleRow {
        position,
        row,
        full_path,
        url,
        ..
    } = visible;
    let node = &row.node;
    let is_dir = node.kind == EntryKind::Dir;
    let abs = format!("/{}", row.path);
    // Full-path rows (search, layer changes) lead with the name, then the directory in
    // grey, so a narrow column still shows what the entry is.
    let shown_name = format!("{}{}", row.name(), if is_dir { "/" } else { "" });
    let parent = full_path.then(|| {
        let dir = abs.rsplit_once('/').map_or("", |(d, _)| d);
        format!(" {dir}/")
    });
    let href = url.with(&[(Key::Path, Some(&abs)), (Key::Search, None)]);
    let marker = row.change.as_ref().map(|c| change_marker(c.kind));
    let removed = matches!(
        row.change.as_ref().map(|c| c.kind),
        Some(ChangeKind::Deleted | ChangeKind::HiddenByOpaque)
    );
    // A layer view's row tells what that layer did: the bytes it wrote, or removed.
    let (size, size_bytes, items) = match &row.change {
        Some(change) if removed => (format!("{} removed", bytes(change.size)), change.size, None),
        Some(change) if !is_dir => (bytes(change.size), change.size, None),
        _ if is_dir => (
            bytes(row.subtree_bytes),
            row.subtree_bytes,
            Some(format!(
                " · {}",
                plural(row.subtree_count, "item below", "items below")
            )),
        ),
        _ => (bytes(node.size), node.size, None),
    };
    let link = node.link.clone().map(|l| format!(" → {l}"));
    let deleted = !node.present || removed;
    // In a layer view, the layer that made this change; elsewhere, the path's latest.
    let (layer_no, layer_word) = match &row.change {
        Some(change) if removed => (
            change.layer,
            format!(" {} by L{}", change_word(change.kind), change.layer),
        ),
        Some(change) => (change.layer, format!(" {}", change_word(change.kind))),
        None => (
            node.layer,
            node.changes
                .last()
                .map(|c| format!(" {}", change_word(c.kind)))
                .unwrap_or_default(),
        ),
    };
    let layer_cell = if removed {
        layer_word.trim_start().to_owned()
    } else {
        format!("L{layer_no}{layer_word}")
    };
    let title = abs.clone();
    view! {
        <div role="row" class="row" data-path=abs class:deleted=deleted class:dir=is_dir
            style=format!("top:{}px", position as f64 * ROW_HEIGHT)>
            <span role="cell" class="mono name" title=title>
                {marker.map(|(sym, class)| view! { <span class=format!("marker {class}")>{sym} " "</span> })}
                <a href=href>{shown_name}</a>
                <span class="dim">{parent}{link}{items}</span>
            </span>
            <span role="cell" class="mono">{mode_string(node.kind, node.mode)}</span>
            <span role="cell" class="mono owner">{format!("{}:{}", node.uid, node.gid)}</span>
            <span role="cell" class="num" title=format!("{size_bytes} bytes")>{size}</span>
            <span role="cell" class="mono layer-cell" title=layer_cell.clone()>{layer_cell.clone()}</span>
            <span role="cell" class="dim mono time">{utc_minutes(node.mtime)}</span>
        </div>
    }
}
