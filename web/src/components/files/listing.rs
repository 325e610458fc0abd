//! The middle pane: the rows of the view the URL asks for (a directory, one layer's
//! changes, a search, the largest files), rendered as a window over the rows in sight.

use std::sync::Arc;

use leptos::prelude::*;
use strata_shared::layer::EntryKind;
use strata_shared::tree::explore::{self, Row, Sort, SortBy, mode_string};
use strata_shared::tree::{ChangeKind, MergedTree, Pattern};

use super::marks::{change_marker, change_word};
use super::selection::Selection;
use crate::format::plural;
use crate::format::{bytes, utc_minutes};
use crate::url_state::{Key, UrlState};

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
pub(super) struct Listing {
    title: String,
    /// In order, as shown.
    pub rows: Vec<Row>,
    /// The folder listed, in a folder's view (`""`: the root); none in the other views.
    pub dir: Option<String>,
    full_paths: bool,
}

/// The rows of the view the URL asks for, computed once per change of the keys they
/// depend on: selecting a file in the listed folder recomputes nothing.
pub(super) fn listing_rows(
    tree: Arc<MergedTree>,
    sel: Selection,
    // Each layer's build step, for layer headings.
    commands: Vec<String>,
) -> Memo<Listing> {
    let Selection {
        layer,
        path,
        dir: dir_key,
        search,
        sort,
        with_deleted,
        largest,
    } = sel;
    let tree_for_dir = tree.clone();
    // A folder the arrows selected keeps its parent listed (`dir=`); otherwise the path
    // names the folder listed (a file: its folder).
    let dir = Memo::new(move |_| match dir_key.get() {
        Some(d)
            if d.is_empty()
                || tree_for_dir
                    .get(&d)
                    .is_some_and(|n| n.kind == EntryKind::Dir) =>
        {
            d
        }
        _ => explore::listing_dir(&tree_for_dir, &path.get()),
    });
    Memo::new(move |_| {
        let _listing = crate::user_timing::span("strata:listing");
        let tree = &tree;
        // Each view in its column's natural order, then turned if the header was
        // clicked twice.
        let order = sort.get();
        let by = order.by;
        let mut listing = if largest.get() {
            Listing {
                title: format!("Largest {LARGEST} files"),
                rows: explore::largest_files(tree, LARGEST),
                dir: None,
                full_paths: true,
            }
        } else {
            match (search.get(), layer.get()) {
                (Some(q), Some(l)) => Listing {
                    title: format!("Search {q} in layer {l}"),
                    rows: explore::search_layer(tree, l, &Pattern::parse(&q), by, SEARCH_LIMIT),
                    dir: None,
                    full_paths: true,
                },
                (Some(q), None) => Listing {
                    rows: explore::search(tree, &Pattern::parse(&q), by, SEARCH_LIMIT),
                    title: format!("Search {q}"),
                    dir: None,
                    full_paths: true,
                },
                (None, Some(l)) => Listing {
                    title: layer_title(tree, l, &commands),
                    rows: explore::layer_changes(tree, l, by),
                    dir: None,
                    full_paths: true,
                },
                (None, None) => {
                    let dir = dir.get();
                    Listing {
                        rows: explore::list_dir(tree, &dir, by, with_deleted.get()),
                        title: format!("/{dir}"),
                        dir: Some(dir),
                        full_paths: false,
                    }
                }
            }
        };
        order.apply_direction(&mut listing.rows);
        listing
    })
}

/// The link that goes up from folder `dir`, the folder left selected.
pub(super) fn up_href(url: &UrlState, dir: &str) -> String {
    let parent = explore::parent_dir(dir);
    url.with(&[
        (Key::Path, Some(&format!("/{dir}"))),
        (Key::Dir, Some(&format!("/{parent}"))),
    ])
}

/// The scrolling listing with its heading.
#[component]
pub(super) fn ListingPane(
    listing: Memo<Listing>,
    sel: Selection,
    /// Some layers are not indexed yet: a folder may not be fully known.
    partial: bool,
) -> impl IntoView {
    let Selection {
        path, search, sort, ..
    } = sel;
    let listing_rows = listing;
    // Each new listing gets a new generation: rows are keyed by (generation, position), so
    // a row once made never moves, and moving the window only makes the rows that came in.
    let generation = Memo::new(move |previous: Option<&u64>| {
        listing_rows.track();
        previous.map_or(0, |g| g + 1)
    });
    let scroll_top = RwSignal::new(0.0f64);
    let scroller = NodeRef::<leptos::html::Div>::new();
    // A new listing starts at its top; the selected row is brought into view (a deep
    // link's, or the one the arrows moved to). After the frame, so that the rows' body
    // has its new height.
    Effect::new(move |previous: Option<u64>| {
        let generation = generation.get();
        let selected = path.get();
        let position = listing_rows.with(|l| l.rows.iter().position(|r| r.path == selected));
        let fresh = previous != Some(generation);
        scroller.track();
        request_animation_frame(move || {
            let Some(el) = scroller.get_untracked() else {
                return;
            };
            if fresh {
                el.set_scroll_top(0);
                scroll_top.set(0.0);
            }
            if let Some(position) = position {
                scroll_into_view(&el, position, scroll_top);
            }
        });
        generation
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
                    selected: path,
                })
                .collect::<Vec<_>>()
        })
    };
    let head = move || {
        let url = UrlState::current();
        listing_rows.with(|listing| {
            let total = listing.rows.len();
            let capped = (search.get().is_some() && total >= SEARCH_LIMIT)
                .then(|| format!(", first {SEARCH_LIMIT} matches"));
            // A search says how much its matches weigh (files, each counted once).
            let matched_bytes = search.get().is_some().then(|| {
                let sum: u64 = listing
                    .rows
                    .iter()
                    .filter(|r| r.node.kind != EntryKind::Dir)
                    .map(|r| r.node.size)
                    .sum();
                view! { <span class="dim" data-search-bytes=sum.to_string()>" · " {bytes(sum)} " in matched files"</span> }
            });
            let title = match &listing.dir {
                Some(dir) => breadcrumbs(&url, dir).into_any(),
                None => view! { <span class="mono">{listing.title.clone()}</span> }.into_any(),
            };
            let up = listing
                .dir
                .as_deref()
                .filter(|d| !d.is_empty())
                .map(|d| up_href(&url, d));
            view! {
                {title}
                <span class="dim">" · " {plural(total as u64, "entry", "entries")} {capped}</span>
                {matched_bytes}
                {partial.then(|| view! { <span class="pending" data-listing-partial="">" · so far: layers still indexing may add to it"</span> })}
                {up.map(|href| view! { " · " <a href=href data-up="">".. up"</a> })}
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
                    <ColumnHeader label="Name" by=SortBy::Name sort/>
                    <span role="columnheader">"Mode"</span>
                    <span role="columnheader" class="owner">"Owner"</span>
                    <ColumnHeader label="Size" by=SortBy::Size sort class="num"/>
                    <ColumnHeader label="Layer" by=SortBy::Layer sort/>
                    <ColumnHeader label="Modified (UTC)" by=SortBy::Modified sort class="time"/>
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

/// A column header that sorts by its column: a first click in the column's natural
/// order (names A–Z, sizes and times largest and newest first, layers from L0), a second
/// reverses it.
#[component]
fn ColumnHeader(
    label: &'static str,
    by: SortBy,
    sort: Memo<Sort>,
    #[prop(optional)] class: &'static str,
) -> impl IntoView {
    let href = move || {
        let next = sort.get().toggled(by);
        UrlState::current().with(&[(Key::Sort, next.value().as_deref())])
    };
    let current = move || sort.get().by == by;
    let aria = move || {
        let s = sort.get();
        match (s.by == by, s.reverse) {
            (false, _) => "none",
            // Each column's natural order: names and layers ascend, sizes and times
            // descend.
            (true, reverse) => match (by, reverse) {
                (SortBy::Name | SortBy::Layer, false) | (SortBy::Size | SortBy::Modified, true) => {
                    "ascending"
                }
                _ => "descending",
            },
        }
    };
    let arrow = move || match aria() {
        "ascending" => " ▲",
        "descending" => " ▼",
        _ => "",
    };
    view! {
        <span role="columnheader" class=class aria-sort=aria>
            <a href=href class="sort" class:current=current data-sort-column=by_value(by)>{label}{arrow}</a>
        </span>
    }
}

/// The column's name in `data-sort-column`.
fn by_value(by: SortBy) -> &'static str {
    match by {
        SortBy::Name => "name",
        SortBy::Size => "size",
        SortBy::Layer => "layer",
        SortBy::Modified => "time",
    }
}

/// Scrolls the listing so that row `position` is in sight below the sticky header. The
/// row may not be rendered yet (the listing is a window): its place is computed.
fn scroll_into_view(
    scroller: &web_sys::HtmlDivElement,
    position: usize,
    scroll_top: RwSignal<f64>,
) {
    let Some(body) = scroller.query_selector(".rows").ok().flatten() else {
        return;
    };
    let now = scroller.scroll_top() as f64;
    let body_top =
        body.get_bounding_client_rect().top() - scroller.get_bounding_client_rect().top() + now;
    let row_top = body_top + position as f64 * ROW_HEIGHT;
    // The box's own height, fractions included (a flex layout gives fractional ones), less
    // a horizontal scrollbar.
    let scrollbar = (scroller.offset_height() - scroller.client_height()).max(0) as f64;
    let height = scroller.get_bounding_client_rect().height() - scrollbar;
    // The column header sticks to the top of the box, one row high.
    let target = if row_top < now + ROW_HEIGHT {
        row_top - ROW_HEIGHT
    } else if row_top + ROW_HEIGHT > now + height {
        row_top + ROW_HEIGHT - height
    } else {
        return;
    };
    let target = target.max(0.0);
    scroller.set_scroll_top(target as i32);
    scroll_top.set(scroller.scroll_top() as f64);
}

/// The listed folder as links: `/`, then each folder down to it.
fn breadcrumbs(url: &UrlState, dir: &str) -> impl IntoView + use<> {
    let mut crumbs = vec![("/".to_owned(), "/".to_owned())];
    let mut folder = String::new();
    for segment in dir.split('/').filter(|s| !s.is_empty()) {
        folder.push('/');
        folder.push_str(segment);
        crumbs.push((folder.clone(), segment.to_owned()));
    }
    let links = crumbs
        .into_iter()
        .enumerate()
        .map(|(i, (target, label))| {
            let href = url.with(&[(Key::Path, Some(&target)), (Key::Dir, None)]);
            view! {
                {(i > 1).then_some("/")}
                <a href=href data-breadcrumb=target>{label}</a>
            }
        })
        .collect_view();
    view! { <nav class="breadcrumb mono" aria-label="Folder">{links}</nav> }
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
    /// The selected path: its row is highlighted.
    selected: Memo<String>,
}

fn listing_row(visible: VisibleRow) -> impl IntoView {
    let VisibleRow {
        position,
        row,
        full_path,
        url,
        selected,
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
    let href = url.with(&[
        (Key::Path, Some(&abs)),
        (Key::Search, None),
        (Key::Dir, None),
    ]);
    let path = row.path.clone();
    let is_selected = Memo::new(move |_| selected.with(|s| *s == path));
    let marker = row.change.as_ref().map(|c| change_marker(c.kind));
    let removed = matches!(
        row.change.as_ref().map(|c| c.kind),
        Some(ChangeKind::Deleted | ChangeKind::HiddenByOpaque)
    );
    // A layer view's row tells what that layer did: the bytes it wrote, or removed.
    let (size, size_bytes, items) = match &row.change {
        // The Layer cell says which layer removed it.
        Some(change) if removed => (format!("−{}", bytes(change.size)), change.size, None),
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
    // A hard link's target is a path from the image's root, and it is no symlink.
    let link = node.link.clone().map(|l| match node.kind {
        EntryKind::Hardlink => format!(" hard link to /{}", l.trim_start_matches('/')),
        _ => format!(" → {l}"),
    });
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
            class:selected=is_selected aria-selected=move || is_selected.get().to_string()
            data-selected=move || is_selected.get().then_some("")
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
            <span role="cell" class="dim mono time">{if node.implied { "—".to_owned() } else { utc_minutes(node.mtime) }}</span>
        </div>
    }
}
