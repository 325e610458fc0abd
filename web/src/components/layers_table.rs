use leptos::prelude::*;
use strata_shared::manifest::{HistoryStep, LayerFormat};

use crate::format::{bytes, rate, short_digest};
use crate::image_load::LayerRow;
use crate::url_state::layer_changes_href;
use crate::worker::protocol::Stage;

/// A throughput worth showing: over at least 4 MiB and 200 ms (a small layer's rate is
/// mostly latency, and says nothing).
fn meaningful_rate(bytes_done: u64, millis: f64) -> String {
    if bytes_done >= 4 << 20 && millis >= 200.0 {
        rate(bytes_done, millis)
    } else {
        String::new()
    }
}

/// The format's label beside the media type: eStargz, zstd:chunked, encrypted, foreign.
fn format_badge(format: &LayerFormat) -> Option<impl IntoView + use<>> {
    let label = format.label()?;
    let title = match format {
        LayerFormat::Estargz { toc_digest } => {
            format!("eStargz: its table of contents has digest {toc_digest}")
        }
        LayerFormat::ZstdChunked { manifest_checksum } => {
            format!("zstd:chunked: its table of contents has checksum {manifest_checksum}")
        }
        LayerFormat::Encrypted { .. } => "encrypted with ocicrypt".to_owned(),
        LayerFormat::Foreign { .. } => "not distributed by this registry".to_owned(),
        LayerFormat::Plain => String::new(),
    };
    Some(view! { <span class="badge format" title=title>{label}</span> })
}

/// The state cell of a layer that is never fetched: why, and what the descriptor says
/// instead (a foreign layer's URLs, listed and never followed; an encrypted layer's
/// recipients' key types).
fn not_fetched(format: &LayerFormat) -> impl IntoView + use<> {
    let reason = format.not_fetched_reason().unwrap_or("not fetched");
    let detail = match format {
        LayerFormat::Foreign { urls } if urls.is_empty() => {
            view! { <div class="dim small">"The descriptor lists no URL to get it from."</div> }
                .into_any()
        }
        LayerFormat::Foreign { urls } => {
            let items = urls
                .iter()
                .map(|u| view! { <li class="mono small" data-layer-foreign-url=u.clone()>{u.clone()}</li> })
                .collect_view();
            view! { <ul class="plain">{items}</ul> }.into_any()
        }
        LayerFormat::Encrypted { recipients, cipher } => {
            let who = if recipients.is_empty() {
                "no recipient annotations".to_owned()
            } else {
                format!("recipients' keys: {}", recipients.join(", "))
            };
            let cipher = cipher.clone().map(|c| format!(" · cipher {c}"));
            view! {
                <div class="dim small" data-encryption-recipients=recipients.join(",")>{who}{cipher}</div>
            }
            .into_any()
        }
        _ => ().into_any(),
    };
    view! {
        <span class="state skipped" data-layer-not-fetched="">{reason}</span>
        {detail}
    }
}

/// Every layer: digest, media type, size, the history step that made it, and live progress
/// until verified.
#[component]
pub(crate) fn LayersTable(layers: Vec<LayerRow>, history: Vec<HistoryStep>) -> impl IntoView {
    let rows = layers
        .into_iter()
        .map(|row| {
            let live = row.live;
            let format = row.format.clone();
            let format_id = row.format.id();
            let format_badge = format_badge(&row.format);
            let size = row.descriptor.size;
            let size_known = row.size_known;
            let digest = row.descriptor.digest.to_string();
            let step = row
                .history_step
                .and_then(|i| history.get(i).map(|s| (i, s.created_by.clone().unwrap_or_default())));
            let step_cell = match step {
                Some((i, cmd)) => view! { <span class="dim">"#" {i + 1} " "</span> <span class="mono cmd">{cmd}</span> }.into_any(),
                None => view! { <span class="dim">"—"</span> }.into_any(),
            };
            let progress = move || {
                let done = live.compressed.get();
                let pct = if size == 0 { 100.0 } else { (done as f64 / size as f64 * 100.0).min(100.0) };
                match live.stage.get() {
                    Stage::Verified => {
                        let summary = live.summary.get().unwrap_or_default();
                        let mut parts = Vec::new();
                        if summary.entries > 0 {
                            parts.push(crate::format::plural(summary.entries, "entry", "entries"));
                            parts.push(format!("{} unpacked", bytes(summary.decompressed)));
                        }
                        parts.push(meaningful_rate(summary.compressed, summary.millis));
                        parts.retain(|p| !p.is_empty());
                        let detail = parts.join(" · ");
                        let unchecked = (!summary.diff_id_checked).then(|| view! {
                            <span class="state warn" data-diff-id-unchecked="" title=format!(
                                "The image gives no diff_id to check this layer's tar against (schema1, or no config). Computed: {}",
                                summary.diff_id.clone().unwrap_or_default()
                            )>
                                " · diff_id unchecked"
                            </span>
                        });
                        let label = if summary.diff_id_checked { "✓ verified" } else { "✓ blob verified" };
                        let earlier = summary.verified_earlier_ms.map(|ms| {
                            view! { <span class="dim" data-verified-earlier="">" earlier in this browser, " {crate::format::utc_minutes((ms / 1000.0) as i64)} " UTC"</span> }
                        });
                        view! {
                            <span class="state ok">{label}</span>
                            {earlier}
                            {unchecked}
                            <span class="dim">" " {detail}</span>
                        }
                        .into_any()
                    }
                    Stage::NotFetched => not_fetched(&format).into_any(),
                    Stage::Failed => view! {
                        <span class="state bad" data-layer-error="">"✗ " {live.error.get().unwrap_or_default()}</span>
                    }
                    .into_any(),
                    stage if !size_known => view! {
                        <span class="state">{stage.as_str()}</span>
                        <span class="dim">" " {bytes(done)}</span>
                    }
                    .into_any(),
                    stage => view! {
                        <span class="state">{stage.as_str()}</span>
                        <progress max="100" value=pct></progress>
                        <span class="dim">{bytes(done)} " / " {bytes(size)}</span>
                    }
                    .into_any(),
                }
            };
            view! {
                <tr data-layer-digest=digest.clone() data-layer-format=format_id data-layer-state=move || live.stage.get().as_str() data-layer-cached=move || live.summary.get().map(|s| s.cached.to_string()).unwrap_or_default() data-worker-memory=move || live.summary.get().map(|s| s.worker_memory_bytes.to_string()).unwrap_or_default() data-layer-times=move || live.summary.get().map(|s| s.times_text()).unwrap_or_default()>
                    <td class="mono"><a href=layer_changes_href(row.index) data-layer-link=row.index.to_string()>"L" {row.index}</a></td>
                    <td class="mono" title=digest.clone()>{short_digest(&digest)}</td>
                    <td class="dim" title=row.descriptor.media_type.to_string()>{row.descriptor.media_type.label().to_owned()} {format_badge}</td>
                    <td class="num" title=if size_known { format!("{size} bytes") } else { "schema1 manifests give no sizes".to_owned() }>
                        {move || if size_known { bytes(size) } else { live.summary.get().map_or_else(|| "—".to_owned(), |s| bytes(s.compressed)) }}
                    </td>
                    <td>{step_cell}</td>
                    <td class="progress-cell">
                        {progress}
                        {move || live.toc.get().text().map(|text| {
                            let state = live.toc.get().id().unwrap_or_default();
                            view! { <div class="toc-state small" data-layer-toc=state>{text}</div> }
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="panel layers" data-section="layers">
            <h2>"Layers"</h2>
            <table>
                <thead>
                    <tr><th>"#"</th><th>"Digest"</th><th>"Type"</th><th>"Size"</th><th>"Made by"</th><th>"State"</th></tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}
