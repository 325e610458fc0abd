use leptos::prelude::*;
use strata_shared::compare::layers::{LayerInfo, LayerMatch, LayerRow, LayerSide, compare_layers};

use crate::compare_load::LoadedSide;
use crate::format::{bytes, plural, short_digest};
use crate::image_load::ImageModel;
use crate::worker::protocol::Stage;

/// A side's layers as the layer compare reads them (schema1 images included: their rows
/// carry digests, and no sizes or diff_ids).
pub(super) fn layer_infos(model: &ImageModel) -> Vec<LayerInfo> {
    model
        .layers
        .iter()
        .map(|row| LayerInfo {
            digest: row.descriptor.digest.clone(),
            size: row.descriptor.size,
            media_type: row.descriptor.media_type.clone(),
            diff_id: row.diff_id.clone(),
        })
        .collect()
}

fn side_word(side: LayerSide) -> &'static str {
    match side {
        LayerSide::Both => "both",
        LayerSide::A => "a",
        LayerSide::B => "b",
    }
}

fn positions(p: &[usize]) -> String {
    p.iter()
        .map(|i| format!("L{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which layers the images share and which are their own, and what a pull of one costs a
/// machine holding the other. Shared blobs are fetched and verified once on this page.
#[component]
pub(crate) fn CompareLayers(a: LoadedSide, b: LoadedSide) -> impl IntoView {
    let diff = compare_layers(&layer_infos(&a.model), &layer_infos(&b.model));
    let to_b = diff.pull_b_given_a;
    let to_a = diff.pull_a_given_b;
    let (a_lives, b_lives): (Vec<_>, Vec<_>) = (
        a.model.layers.iter().map(|l| l.live).collect(),
        b.model.layers.iter().map(|l| l.live).collect(),
    );
    let rows = diff
        .rows
        .iter()
        .map(|row: &LayerRow| {
            let occurrence = row.a.as_ref().or(row.b.as_ref()).expect("a row has a side");
            let digest = occurrence.layer.digest.to_string();
            let b_digest = row
                .b
                .as_ref()
                .map(|o| o.layer.digest.to_string())
                .filter(|d| *d != digest);
            let live = match (&row.a, &row.b) {
                (Some(o), _) => o.positions.first().and_then(|&p| a_lives.get(p)).copied(),
                (None, Some(o)) => o.positions.first().and_then(|&p| b_lives.get(p)).copied(),
                (None, None) => None,
            };
            let state = move || match live.map(|l| l.stage.get()) {
                Some(Stage::Verified) => "✓ verified",
                Some(Stage::Failed) => "✗ failed",
                Some(Stage::NotFetched) => "not fetched (foreign or encrypted)",
                _ => "verifying…",
            };
            let matched = match row.matched_by {
                Some(LayerMatch::Digest) => "same blob",
                Some(LayerMatch::DiffId) => "same files, other compression",
                None => "",
            };
            let size = match (&row.a, &row.b) {
                (Some(x), Some(y)) if x.layer.size != y.layer.size => format!(
                    "{} → {}",
                    bytes(x.layer.size),
                    bytes(y.layer.size)
                ),
                _ => bytes(occurrence.layer.size),
            };
            view! {
                <tr data-layer-digest=digest.clone() data-layer-digest-b=b_digest.clone() data-layer-side=side_word(row.side)
                    class=format!("side-{}", side_word(row.side))>
                    <td>{match row.side { LayerSide::Both => "A and B", LayerSide::A => "only A", LayerSide::B => "only B" }}</td>
                    <td class="mono">{row.a.as_ref().map(|o| positions(&o.positions))}</td>
                    <td class="mono">{row.b.as_ref().map(|o| positions(&o.positions))}</td>
                    <td class="mono" title=digest.clone()>{short_digest(&digest)}
                        {b_digest.clone().map(|d| view! { " / " <span title=d.clone()>{short_digest(&d)}</span> })}</td>
                    <td class="num">{size}</td>
                    <td class="dim">{occurrence.layer.media_type.label().to_owned()}</td>
                    <td class="dim">{matched}</td>
                    <td>{state}</td>
                </tr>
            }
        })
        .collect_view();
    let shared_count = diff
        .rows
        .iter()
        .filter(|r| r.side == LayerSide::Both)
        .count();
    let redundant = to_b.redundant_bytes();
    view! {
        <section class="panel pull-cost" data-pull-bytes=to_b.download_bytes.to_string()
            data-pull-bytes-reverse=to_a.download_bytes.to_string()>
            <h2>"Pull cost"</h2>
            <p>
                "A machine that holds A downloads " <strong data-pull-b="">{bytes(to_b.download_bytes)}</strong>
                " to pull B: " {plural(to_b.download_layers as u64, "layer", "layers")} " of " {to_b.total_layers}
                ", out of " {bytes(to_b.total_bytes)} " in all."
            </p>
            <p>
                "The other way, a machine that holds B downloads " <strong data-pull-a="">{bytes(to_a.download_bytes)}</strong>
                " to pull A: " {plural(to_a.download_layers as u64, "layer", "layers")} " of " {to_a.total_layers} "."
            </p>
            {(redundant > 0).then(|| view! {
                <p class="dim" data-pull-redundant=redundant.to_string()>
                    {bytes(redundant)} " of that download holds files A already has (the same diff_id in another compression): registries and clients skip blobs by digest only."
                </p>
            })}
            <p class="dim">{plural(shared_count as u64, "layer is", "layers are")} " shared. A shared layer was downloaded and verified once on this page."</p>
        </section>
        <section class="panel">
            <h2>"Layers"</h2>
            <table class="compare-layers">
                <thead><tr><th>"In"</th><th>"A"</th><th>"B"</th><th>"Digest"</th><th>"Size"</th><th>"Type"</th><th>"Match"</th><th>"State"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}
