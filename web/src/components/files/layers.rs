//! The left pane: the merged view and each layer, with what each layer did, the image's
//! wasted bytes, and which layers are still missing from the tree.

use leptos::prelude::*;
use strata_shared::tree::{MergedTree, WastedPath};

use super::marks::layer_names;
use crate::format::{bytes, short_digest};
use crate::image_load::LayerRow;
use crate::merged_tree::MergedTreeState;
use crate::url_state::{Key, LayerSel, href_with};

#[component]
pub(super) fn LayerList(
    files: MergedTreeState,
    layers: Vec<LayerRow>,
    /// Each layer's build step.
    commands: Vec<String>,
    /// The listed layer (none: the merged view).
    layer: Memo<Option<u32>>,
) -> impl IntoView {
    let _span = crate::user_timing::span("strata:layer-list");
    let tree: &MergedTree = &files.tree;
    let stats = tree.layers().to_vec();
    let wasted_total = tree.wasted_bytes();
    let efficiency = files.efficiency;
    // Until every layer is in, totals are about the layers indexed so far.
    let partial = !files.pending_layers.is_empty() || !files.toc_layers.is_empty();
    let layer_list = layers
        .iter()
        .map(|row| {
            let index = row.index as u32;
            let digest = row.descriptor.digest.to_string();
            let live = row.live;
            let stat = stats.get(row.index).cloned().unwrap_or_default();
            let command = commands.get(row.index).cloned().unwrap_or_default();
            let value = LayerSel::Number(index).value();
            // The selected path stays: its row is highlighted in the layer's changes, and
            // its detail stays on screen.
            let href = move || {
                href_with(&[
                    (Key::Layer, Some(&value)),
                    (Key::Search, None),
                    (Key::View, None),
                ])
            };
            view! {
                <li
                    class:current=move || layer.get() == Some(index)
                    data-layer-digest=digest.clone()
                    data-layer-state=move || live.stage.get().as_str()
                >
                    <a href=href data-layer-link=index.to_string()>
                        <span class="mono">"L" {index} " " {short_digest(&digest)}</span>
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
    let wasted_list = wasted_files_list(&files.wasted);
    let merged_href =
        move || href_with(&[(Key::Layer, None), (Key::Search, None), (Key::View, None)]);
    view! {
        <aside class="layer-list">
            <ul>
                <li class:current=move || layer.get().is_none()>
                    <a href=merged_href data-merged-view="">"Merged filesystem"</a>
                </li>
                {layer_list}
            </ul>
            <div class="wasted" data-wasted-bytes=wasted_total.to_string() data-partial=partial.then_some("")>
                {if partial { "Wasted so far: " } else { "Wasted: " }} <strong>{bytes(wasted_total)}</strong>
                " · efficiency " <strong data-efficiency=format!("{efficiency:.4}")>{format!("{:.1}%", efficiency * 100.0)}</strong>
                {partial.then(|| view! { <span class="pending">" · partial until every layer is indexed"</span> })}
                <div class="dim small">"Efficiency = 1 − wasted ÷ (wasted + bytes of files in the final image). Wasted bytes: file data a layer ships that a later layer deletes or overwrites, each byte counted once."</div>
            </div>
            {wasted_list}
            <p class="dim small keys">"Keys: " <kbd>"/"</kbd> " search · " <kbd>"↑"</kbd><kbd>"↓"</kbd> " move · " <kbd>"Enter"</kbd> " open · " <kbd>"⌫"</kbd> " up · " <kbd>"["</kbd><kbd>"]"</kbd> " layers · " <kbd>"Esc"</kbd> " clear search"</p>
            {(!files.pending_layers.is_empty()).then(|| view! {
                <p class="pending small" data-pending-layers=files.pending_layers.len().to_string()>
                    "Layers " {layer_names(&files.pending_layers)} "are still being indexed: the tree grows as they finish."
                </p>
            })}
            {(!files.toc_layers.is_empty()).then(|| view! {
                <p class="pending small" data-toc-layers=files.toc_layers.len().to_string()>
                    "Layers " {layer_names(&files.toc_layers)} "are listed from their TOC; verifying: their files are what the TOC claims until the layer has streamed and verified."
                </p>
            })}
            {(!files.unfetched_layers.is_empty()).then(|| view! {
                <p class="dim small" data-unfetched-layers=files.unfetched_layers.len().to_string()>
                    "Layers " {layer_names(&files.unfetched_layers)} "were not fetched (foreign or encrypted): their files are unknown, and the merged view is missing them."
                </p>
            })}
            {(!files.missing_layers.is_empty()).then(|| view! {
                <p class="error small">"Layers " {layer_names(&files.missing_layers)} "failed: their files are missing from the merged view."</p>
            })}
        </aside>
    }
}

/// Rows of the wasted-files list shown at once; the rest are counted.
const WASTED_SHOWN: usize = 50;

/// dive's "potential wasted space": each path whose shipped data never reaches the final
/// image, with how many of its versions were wasted and their bytes, largest first.
fn wasted_files_list(wasted: &[WastedPath]) -> Option<impl IntoView + use<>> {
    if wasted.is_empty() {
        return None;
    }
    let more = wasted.len().saturating_sub(WASTED_SHOWN);
    let count = wasted.len() as u64;
    let rows = wasted
        .iter()
        .take(WASTED_SHOWN)
        .map(|w| {
            let abs = format!("/{}", w.path);
            let href = href_with(&[
                (Key::Path, Some(&abs)),
                (Key::Layer, None),
                (Key::Search, None),
                (Key::View, None),
                (Key::Deleted, Some("1")),
            ]);
            view! {
                <tr data-wasted-path=abs.clone() data-wasted-path-bytes=w.bytes.to_string()>
                    <td class="num">{w.copies}</td>
                    <td class="num">{bytes(w.bytes)}</td>
                    <td class="mono path"><a href=href title=abs.clone()>{abs.clone()}</a></td>
                </tr>
            }
        })
        .collect_view();
    Some(view! {
        <details class="wasted-files" data-wasted-files=count.to_string()>
            <summary>{crate::format::plural(count, "wasted file", "wasted files")}</summary>
            <table class="small">
                <thead><tr><th class="num" title="versions of the path whose data was wasted">"Count"</th><th class="num">"Wasted"</th><th>"Path"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            {(more > 0).then(|| view! { <p class="dim small">"and " {more} " more paths"</p> })}
        </details>
    })
}
