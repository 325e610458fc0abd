use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use strata_shared::explore::{self, Pattern, Row, SortBy, mode_string};
use strata_shared::layer::{ChangeKind, EntryKind, MergedTree};
use strata_shared::manifest::HistoryStep;

use crate::components::FileContents;
use crate::files_data::FilesData;
use crate::format::{bytes, short_digest, utc_minutes};
use crate::image_load::LayerRow;
use crate::url_state::{UrlState, href_with};

const SEARCH_LIMIT: usize = 100_000;
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

/// The explorer: layers on the left, the merged tree or one layer's changes in the middle,
/// the selected path's details and timeline on the right. All state is in the URL.
#[component]
pub(crate) fn FilesView(
    files: FilesData,
    layers: Vec<LayerRow>,
    history: Vec<HistoryStep>,
    /// The platform manifest, to look up SBOM packages that claim a file.
    manifest: Option<strata_shared::Digest>,
) -> impl IntoView {
    let query = use_query_map();
    let tree = files.tree.clone();
    // One memo per query key: a view recomputes only when its own keys change (selecting
    // a file must not recompute a 100k-row listing).
    let layer = Memo::new(move |_| {
        query
            .read()
            .get("layer")
            .and_then(|l| l.parse::<u32>().ok())
    });
    let path = Memo::new(move |_| normalize(&query.read().get("path").unwrap_or_default()));
    let search = Memo::new(move |_| query.read().get("q").filter(|q| !q.trim().is_empty()));
    let sort = Memo::new(move |_| SortBy::parse(&query.read().get("sort").unwrap_or_default()));
    let with_deleted = Memo::new(move |_| query.read().get("deleted").as_deref() == Some("1"));
    let largest = Memo::new(move |_| query.read().get("view").as_deref() == Some("largest"));
    let tree_for_dir = tree.clone();
    let dir = Memo::new(move |_| listing_dir(&tree_for_dir, &path.get()));
    let (layer, path, search, sort, with_deleted, largest) = (
        move || layer.get(),
        move || path.get(),
        move || search.get(),
        move || sort.get(),
        move || with_deleted.get(),
        move || largest.get(),
    );

    let commands: Vec<String> = layers
        .iter()
        .map(|l| {
            l.history_step
                .and_then(|s| history.get(s))
                .and_then(|s| s.created_by.clone())
                .unwrap_or_default()
        })
        .collect();
    let stats = tree.layers().to_vec();
    let wasted_total = tree.wasted_bytes();
    let efficiency = explore::efficiency(&tree);
    let layer_list = layers
        .iter()
        .map(|row| {
            let index = row.index as u32;
            let digest = row.descriptor.digest.to_string();
            let live = row.live;
            let stat = stats.get(row.index).cloned().unwrap_or_default();
            let command = commands.get(row.index).cloned().unwrap_or_default();
            let href = move || href_with(&[("layer", Some(&index.to_string())), ("path", None), ("q", None)]);
            view! {
                <li
                    class:current=move || layer() == Some(index)
                    data-layer-digest=digest.clone()
                    data-layer-state=move || live.stage.get().as_str()
                >
                    <a href=href>
                        <span class="mono">"L" {index + 1} " " {short_digest(&digest)}</span>
                        " " <span class="dim">{bytes(row.descriptor.size)}</span>
                    </a>
                    <div class="mono cmd dim small">{command}</div>
                    <div class="small" title=format!(
                        "added {} ({}), modified {} ({}), deleted {} ({})",
                        stat.added.count, bytes(stat.added.bytes),
                        stat.modified.count, bytes(stat.modified.bytes),
                        stat.deleted.count, bytes(stat.deleted.bytes),
                    )>
                        <span class="add">"+" {stat.added.count}</span> " "
                        <span class="mod">"~" {stat.modified.count}</span> " "
                        <span class="del">"−" {stat.deleted.count}</span>
                        {(stat.wasted_bytes > 0).then(|| view! { <span class="dim">" · wasted " {bytes(stat.wasted_bytes)}</span> })}
                    </div>
                </li>
            }
        })
        .collect_view();
    let merged_href = move || href_with(&[("layer", None), ("q", None)]);

    let tree_for_list = tree.clone();
    let commands_for_list = commands.clone();
    // The rows of the current view are computed once per URL change; scrolling only
    // re-renders the window of rows in sight (a 100k-entry layer stays smooth).
    let listing_rows = Memo::new(move |_| {
        let tree = &tree_for_list;
        if largest() {
            return Listing {
                title: format!("Largest {LARGEST} files"),
                rows: explore::largest_files(tree, LARGEST),
                up: None,
                full_paths: true,
            };
        }
        match (search(), layer()) {
            (Some(q), Some(l)) => {
                let pattern = Pattern::parse(&q);
                Listing {
                    title: format!("Search {q} in layer {}", l + 1),
                    rows: explore::search_layer(tree, l, &pattern, sort(), SEARCH_LIMIT),
                    up: None,
                    full_paths: true,
                }
            }
            (Some(q), None) => {
                let pattern = Pattern::parse(&q);
                let rows = explore::search(tree, &pattern, sort(), SEARCH_LIMIT);
                Listing {
                    title: format!("Search {q}"),
                    rows,
                    up: None,
                    full_paths: true,
                }
            }
            (None, Some(l)) => Listing {
                title: layer_title(tree, l, &commands_for_list),
                rows: explore::layer_changes(tree, l, sort()),
                up: None,
                full_paths: true,
            },
            (None, None) => {
                let dir = dir.get();
                let up = (!dir.is_empty()).then(|| {
                    let parent = dir
                        .rsplit_once('/')
                        .map(|(p, _)| p.to_owned())
                        .unwrap_or_default();
                    href_with(&[("path", Some(&format!("/{parent}")))])
                });
                let rows = explore::list_dir(tree, &dir, sort(), with_deleted());
                Listing {
                    title: format!("/{dir}"),
                    rows,
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
        let url = std::sync::Arc::new(UrlState::current());
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
            let capped = (search().is_some() && total >= SEARCH_LIMIT)
                .then(|| format!(", first {SEARCH_LIMIT} matches"));
            view! {
                <span class="mono">{listing.title.clone()}</span>
                <span class="dim">" · " {total} {if total == 1 { " entry" } else { " entries" }} {capped}</span>
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

    let tree_for_detail = tree.clone();
    let commands_for_detail = commands.clone();
    let indexes = files.indexes.clone();
    let layer_rows = layers.clone();
    let detail = move || {
        let p = path();
        let node = tree_for_detail.get(&p)?.clone();
        let source = file_source(&node, &indexes, &layer_rows);
        Some(view! {
            <PathDetail tree=tree_for_detail.clone() path=p node commands=commands_for_detail.clone() manifest=manifest.clone()/>
            {source.map(|request| {
                let name = request_name(&path());
                view! { <FileContents request name/> }
            })}
        })
    };

    let search_text = RwSignal::new(query.read_untracked().get("q").unwrap_or_default());
    let navigate = leptos_router::hooks::use_navigate();
    let submit_search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let q = search_text.get_untracked();
        let q = q.trim();
        navigate(
            &href_with(&[("q", (!q.is_empty()).then_some(q))]),
            Default::default(),
        );
    };
    let sort_name = move || href_with(&[("sort", None)]);
    let sort_size = move || href_with(&[("sort", Some("size"))]);
    let toggle_deleted =
        move || href_with(&[("deleted", if with_deleted() { None } else { Some("1") })]);
    let export_rows = tree.clone();
    let export = move |format: &'static str| {
        let rows = match layer() {
            Some(l) => explore::layer_changes(&export_rows, l, SortBy::Name),
            None => export_rows
                .present()
                .filter(|(p, _)| !p.is_empty())
                .map(|(p, n)| Row {
                    path: p.to_owned(),
                    node: n.clone(),
                    subtree_bytes: 0,
                    subtree_count: 0,
                    change: None,
                })
                .collect(),
        };
        let name = match layer() {
            Some(l) => format!("layer-{}", l + 1),
            None => "merged".into(),
        };
        download_listing(&rows, format, &name);
    };
    let export_csv = export.clone();

    view! {
        <div class="files" tabindex="-1" on:keydown=files_keydown data-merge-ms=format!("{:.0}", files.merge_ms)>
            <aside class="layer-list">
                <ul>
                    <li class:current=move || layer().is_none()>
                        <a href=merged_href data-merged-view="">"Merged filesystem"</a>
                    </li>
                    {layer_list}
                </ul>
                <div class="wasted" data-wasted-bytes=wasted_total.to_string()>
                    "Wasted: " <strong>{bytes(wasted_total)}</strong>
                    " · efficiency " <strong data-efficiency=format!("{efficiency:.4}")>{format!("{:.1}%", efficiency * 100.0)}</strong>
                    <div class="dim small">"Efficiency = 1 − wasted ÷ (wasted + bytes of files in the final image). Wasted bytes: file data a layer ships that a later layer deletes or overwrites, each byte counted once."</div>
                </div>
                <p class="dim small keys">"Keys: " <kbd>"/"</kbd> " search · " <kbd>"↑"</kbd><kbd>"↓"</kbd> " move · " <kbd>"Enter"</kbd> " open · " <kbd>"⌫"</kbd> " up · " <kbd>"["</kbd><kbd>"]"</kbd> " layers"</p>
                {(!files.pending_layers.is_empty()).then(|| view! {
                    <p class="pending small" data-pending-layers=files.pending_layers.len().to_string()>
                        "Layers " {layer_names(&files.pending_layers)} "are still being indexed: the tree grows as they finish."
                    </p>
                })}
                {(!files.missing_layers.is_empty()).then(|| view! {
                    <p class="error small">"Layers " {layer_names(&files.missing_layers)} "failed: their files are missing from the merged view."</p>
                })}
            </aside>
            <section class="tree-pane">
                <div class="toolbar">
                    <form on:submit=submit_search class="search">
                        <input id="file-search" class="mono" type="search" placeholder="/ search: name, path or glob (**/*.so)"
                            prop:value=move || search_text.get() on:input=move |ev| search_text.set(event_target_value(&ev))/>
                    </form>
                    <span class="dim">"sort "</span>
                    <a href=sort_name class:current=move || sort() == SortBy::Name>"name"</a> " "
                    <a href=sort_size class:current=move || sort() == SortBy::Size data-sort-size="">"size"</a>
                    " · " <a href=move || href_with(&[("view", (!largest()).then_some("largest")), ("q", None), ("layer", None)]) class:current=largest data-largest="">"largest files"</a>
                    " · " <a href=toggle_deleted>{move || if with_deleted() { "hide deleted" } else { "show deleted" }}</a>
                    " · export "
                    <button class="link" on:click=move |_| export("json")>"JSON"</button>
                    <button class="link" on:click=move |_| export_csv("csv")>"CSV"</button>
                </div>
                <div class="listing-scroll" node_ref=scroller on:scroll=move |ev| {
                    if let Some(el) = ev.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok()) {
                        scroll_top.set(el.scroll_top() as f64);
                    }
                }>{listing}</div>
            </section>
            <aside class="detail-pane">{detail}</aside>
        </div>
    }
}

/// A layer view's heading: what the layer did, in counts and bytes, and the build step.
fn layer_title(tree: &MergedTree, layer: u32, commands: &[String]) -> String {
    let mut title = format!("Layer {} changes", layer + 1);
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

/// `L1 L3 ` for layer positions 0 and 2.
fn layer_names(layers: &[usize]) -> String {
    layers.iter().map(|l| format!("L{} ", l + 1)).collect()
}

/// Where a present regular file's bytes are: its layer's blob and the data offset in it.
fn file_source(
    node: &strata_shared::layer::TreeNode,
    indexes: &[Option<std::sync::Arc<strata_shared::layer::LayerIndex>>],
    layers: &[LayerRow],
) -> Option<crate::worker::protocol::ReadFileRequest> {
    if !node.present || node.kind != EntryKind::File {
        return None;
    }
    let index = indexes.get(node.layer as usize)?.as_ref()?;
    let entry = index.get(node.entry? as usize)?;
    let row = layers.get(node.layer as usize)?;
    Some(crate::worker::protocol::ReadFileRequest {
        url: row.blob_url.clone(),
        digest: row.descriptor.digest.clone(),
        size: row.descriptor.size,
        media_type: row.descriptor.media_type.clone(),
        data_offset: entry.data_offset(),
        len: entry.size(),
        max_bytes: entry.size(),
    })
}

fn request_name(path: &str) -> String {
    path.rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or("file")
        .to_owned()
}

/// URL paths are absolute (`/etc/nginx`); the tree's are not.
fn normalize(path: &str) -> String {
    path.trim_matches('/').to_owned()
}

/// The directory to list for a selected path: itself when a directory, else its parent.
fn listing_dir(tree: &MergedTree, path: &str) -> String {
    match tree.get(path) {
        Some(node) if node.kind == EntryKind::Dir => path.to_owned(),
        _ => path
            .rsplit_once('/')
            .map(|(p, _)| p.to_owned())
            .unwrap_or_default(),
    }
}

fn change_marker(kind: ChangeKind) -> (&'static str, &'static str) {
    match kind {
        ChangeKind::Added => ("+", "add"),
        ChangeKind::Modified(_) => ("~", "mod"),
        ChangeKind::Deleted => ("−", "del"),
        ChangeKind::HiddenByOpaque => ("−", "del"),
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
    url: std::sync::Arc<UrlState>,
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
    let href = url.with(&[("path", Some(&abs)), ("q", None)]);
    let marker = row.change.map(change_marker);
    let (size, items) = if is_dir {
        (
            bytes(row.subtree_bytes),
            Some(format!(" · {} items", row.subtree_count)),
        )
    } else {
        (bytes(node.size), None)
    };
    let link = node.link.clone().map(|l| format!(" → {l}"));
    let deleted = !node.present
        || matches!(
            row.change,
            Some(ChangeKind::Deleted | ChangeKind::HiddenByOpaque)
        );
    let last = node.changes.last().map(|c| c.kind);
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
            <span role="cell" class="num" title=format!("{} bytes", node.size)>{size}</span>
            <span role="cell" class="mono">"L" {node.layer + 1} {last.map(|k| format!(" {}", change_word(k)))}</span>
            <span role="cell" class="dim mono time">{utc_minutes(node.mtime)}</span>
        </div>
    }
}

fn change_word(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Added => "added",
        ChangeKind::Modified(_) => "modified",
        ChangeKind::Deleted => "deleted",
        ChangeKind::HiddenByOpaque => "hidden",
    }
}

fn modified_detail(kind: ChangeKind) -> String {
    let ChangeKind::Modified(m) = kind else {
        return String::new();
    };
    let parts: Vec<&str> = [
        (m.content, "content"),
        (m.kind, "kind"),
        (m.mode, "mode"),
        (m.owner, "owner"),
        (m.link, "link"),
    ]
    .into_iter()
    .filter_map(|(on, word)| on.then_some(word))
    .collect();
    if parts.is_empty() {
        " (mtime only)".into()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

#[component]
fn PathDetail(
    tree: std::sync::Arc<MergedTree>,
    path: String,
    node: strata_shared::layer::TreeNode,
    commands: Vec<String>,
    manifest: Option<strata_shared::Digest>,
) -> impl IntoView {
    let abs = format!("/{path}");
    let packages = manifest
        .map(|m| crate::provenance_load::packages_of_file(&m, &abs))
        .unwrap_or_default();
    let packages = (!packages.is_empty()).then(|| {
        let items = packages
            .into_iter()
            .map(|(name, version)| {
                let href = href_with(&[("tab", Some("provenance")), ("package", Some(&name))]);
                let label = match version {
                    Some(v) => format!("{name} {v}"),
                    None => name,
                };
                view! { <a href=href data-file-package="">{label}</a> " " }
            })
            .collect_view();
        view! { <dt>"Package"</dt><dd>{items}</dd> }
    });
    let is_dir = node.kind == EntryKind::Dir;
    let timeline = node
        .changes
        .iter()
        .map(|c| {
            let (sym, class) = change_marker(c.kind);
            let cmd = commands.get(c.layer as usize).cloned().unwrap_or_default();
            view! {
                <li data-change-layer=c.layer.to_string() data-change-kind=change_word(c.kind)>
                    <span class=format!("marker {class}")>{sym}</span>
                    " L" {c.layer + 1} " " {change_word(c.kind)} {modified_detail(c.kind)} " · " {bytes(c.size)}
                    <div class="mono cmd dim small">{cmd}</div>
                </li>
            }
        })
        .collect_view();
    let subtree = is_dir.then(|| {
        let mut per_layer: std::collections::BTreeMap<u32, [u64; 3]> = Default::default();
        let prefix = if path.is_empty() { String::new() } else { format!("{path}/") };
        for (_, n) in tree.all().filter(|(p, _)| p.starts_with(&prefix) && p.len() > prefix.len()) {
            for c in &n.changes {
                let slot = match c.kind {
                    ChangeKind::Added => 0,
                    ChangeKind::Modified(m) if m.is_substantive() => 1,
                    ChangeKind::Modified(_) => continue,
                    ChangeKind::Deleted | ChangeKind::HiddenByOpaque => 2,
                };
                per_layer.entry(c.layer).or_default()[slot] += 1;
            }
        }
        view! {
            <h3>"Subtree by layer"</h3>
            <ul class="subtree-summary">
                {per_layer.into_iter().map(|(l, [a, m, d])| view! {
                    <li data-subtree-layer=l.to_string()>"L" {l + 1} ": " <span class="add">"+" {a}</span> " " <span class="mod">"~" {m}</span> " " <span class="del">"−" {d}</span></li>
                }).collect_view()}
            </ul>
        }
    });
    let link = node.link.clone().map(|target| {
        let resolved = resolve_link(&path, &target);
        let href = href_with(&[("path", Some(&format!("/{resolved}")))]);
        view! { <dt>"Link"</dt><dd class="mono"><a href=href data-follow-link="">{target}</a></dd> }
    });
    view! {
        <div class="detail" data-detail-path=abs.clone()>
            <h2 class="mono">{abs.clone()}</h2>
            <dl>
                <dt>"Kind"</dt><dd class="mono">{mode_string(node.kind, node.mode)} {(!node.present).then_some(" (deleted)")}</dd>
                <dt>"Size"</dt><dd title=format!("{} bytes", node.size)>{bytes(node.size)}</dd>
                <dt>"Owner"</dt><dd class="mono">{format!("{}:{}", node.uid, node.gid)}</dd>
                <dt>"Modified"</dt><dd class="mono">{utc_minutes(node.mtime)} " UTC"</dd>
                <dt>"From"</dt><dd>"layer L" {node.layer + 1}</dd>
                {link}
                {packages}
            </dl>
            <h3>"Timeline"</h3>
            <ol class="timeline" data-timeline="">{timeline}</ol>
            {subtree}
        </div>
    }
}

/// Resolves a symlink target against the link's directory, inside the image.
fn resolve_link(path: &str, target: &str) -> String {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        path.rsplit_once('/')
            .map(|(dir, _)| dir.split('/').collect())
            .unwrap_or_default()
    };
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

fn download_listing(rows: &[Row], format: &str, name: &str) {
    let text = if format == "csv" {
        let mut out = String::from("path,kind,mode,uid,gid,size,mtime,layer,link,change\n");
        for r in rows {
            let n = &r.node;
            out.push_str(&format!(
                "\"/{}\",{},{},{},{},{},{},{},\"{}\",{}\n",
                r.path.replace('"', "\"\""),
                n.kind.ls_char(),
                mode_string(n.kind, n.mode),
                n.uid,
                n.gid,
                n.size,
                n.mtime,
                n.layer + 1,
                n.link.clone().unwrap_or_default().replace('"', "\"\""),
                r.change.map(change_word).unwrap_or("")
            ));
        }
        out
    } else {
        let items: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                let n = &r.node;
                serde_json::json!({
                    "path": format!("/{}", r.path), "kind": n.kind.ls_char().to_string(), "mode": mode_string(n.kind, n.mode),
                    "uid": n.uid, "gid": n.gid, "size": n.size, "mtime": n.mtime, "layer": n.layer + 1,
                    "link": n.link, "change": r.change.map(change_word), "present": n.present,
                })
            })
            .collect();
        serde_json::to_string_pretty(&items).unwrap_or_default()
    };
    crate::download::save(
        &format!("{name}.{format}"),
        text.as_bytes(),
        if format == "csv" {
            "text/csv"
        } else {
            "application/json"
        },
    );
}

/// Keyboard: `/` search, arrows move between rows (Enter opens), Backspace goes up,
/// `[` and `]` step through the merged view and the layers.
fn files_keydown(ev: leptos::ev::KeyboardEvent) {
    let in_input = ev
        .target()
        .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(t).ok())
        .is_some();
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let focus = |selector: &str| {
        if let Some(el) = document.query_selector(selector).ok().flatten()
            && let Ok(el) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el)
        {
            let _ = el.focus();
        }
    };
    match ev.key().as_str() {
        "/" if !in_input => {
            ev.prevent_default();
            focus("#file-search");
        }
        "Backspace" if !in_input => {
            ev.prevent_default();
            if let Some(up) = document.query_selector("[data-up]").ok().flatten()
                && let Ok(a) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(up)
            {
                a.click();
            }
        }
        "[" | "]" if !in_input => {
            ev.prevent_default();
            let Ok(links) = document.query_selector_all(".layer-list li > a") else {
                return;
            };
            let current = (0..links.length()).find(|&i| {
                links
                    .item(i)
                    .and_then(|a| a.parent_element())
                    .is_some_and(|li| li.class_list().contains("current"))
            });
            let next = match (ev.key().as_str(), current) {
                ("]", Some(i)) => (i + 1).min(links.length().saturating_sub(1)),
                ("[", Some(i)) => i.saturating_sub(1),
                _ => 0,
            };
            if let Some(a) = links
                .item(next)
                .and_then(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(n).ok())
            {
                a.click();
            }
        }
        "ArrowDown" | "ArrowUp" if !in_input => {
            ev.prevent_default();
            let Ok(links) = document.query_selector_all("[data-listing] .name a") else {
                return;
            };
            let active = document.active_element();
            let mut current = None;
            for i in 0..links.length() {
                if let (Some(node), Some(active)) = (links.item(i), active.as_ref())
                    && node.is_same_node(Some(active))
                {
                    current = Some(i);
                }
            }
            let next = match (ev.key().as_str(), current) {
                ("ArrowDown", Some(i)) => (i + 1).min(links.length().saturating_sub(1)),
                ("ArrowUp", Some(i)) => i.saturating_sub(1),
                _ => 0,
            };
            if let Some(el) = links
                .item(next)
                .and_then(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(n).ok())
            {
                let _ = el.focus();
            }
        }
        _ => {}
    }
}
