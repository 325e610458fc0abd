use leptos::prelude::*;
use strata_shared::manifest::HistoryStep;

use crate::url_state::layer_changes_href;

/// Build steps, each with the layer it made (empty-layer steps made none).
#[component]
pub(crate) fn HistoryView(
    history: Vec<HistoryStep>,
    step_layers: Vec<Option<usize>>,
) -> impl IntoView {
    let rows = history
        .into_iter()
        .enumerate()
        .map(|(i, step)| {
            let layer = step_layers.iter().position(|s| *s == Some(i));
            let layer_cell = match layer {
                Some(l) => view! { <a href=layer_changes_href(l) data-layer-link=l.to_string()>"L" {l}</a> }.into_any(),
                None => "—".into_any(),
            };
            view! {
                <tr data-history-step=i data-history-layer=layer.map(|l| l.to_string()).unwrap_or_default()>
                    <td class="num">{i + 1}</td>
                    <td class="num">{layer_cell}</td>
                    <td class="mono cmd">{step.created_by.unwrap_or_default()}</td>
                    <td class="dim">{step.created.unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="panel history" data-section="history">
            <h2>"History"</h2>
            <table>
                <thead><tr><th>"Step"</th><th>"Layer"</th><th>"Created by"</th><th>"Created"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}
