use leptos::prelude::*;
use strata_shared::compare::export::{Comparison, ImageSide, files_csv, to_json};
use strata_shared::compare::files::FileFilter;
use strata_shared::compare::rollup::directory_rollups;

use super::layers::layer_infos;
use crate::compare_load::LoadedSide;
use crate::pages::ComputedDiff;

fn image_side(side: &LoadedSide) -> ImageSide {
    ImageSide {
        reference: Some(side.pinned_reference()),
        digest: side
            .model
            .manifest
            .as_ref()
            .map_or_else(|| side.model.pinned.clone(), |m| m.digest.clone()),
        platform: side.platform(),
    }
}

/// The whole comparison as JSON (with both digests), and the changed paths as CSV.
#[component]
pub(crate) fn CompareExport(
    a: LoadedSide,
    b: LoadedSide,
    diff: RwSignal<Option<ComputedDiff>>,
    semantic: Memo<bool>,
) -> impl IntoView {
    let comparison = move || {
        let files = diff.get_untracked().map(|d| (*d.diff).clone());
        let foreign = |side: &LoadedSide| {
            let arch = side
                .model
                .config
                .as_ref()
                .map(|(c, _)| c.architecture.clone())?;
            let tree = side.files.get_untracked()?;
            strata_shared::compare::arch::foreign_binaries(&tree.tree, &arch).ok()
        };
        Comparison {
            a: image_side(&a),
            b: image_side(&b),
            semantic: semantic.get_untracked(),
            layers: Some(strata_shared::compare::layers::compare_layers(
                &layer_infos(&a.model),
                &layer_infos(&b.model),
            )),
            config: match (&a.model.config, &b.model.config) {
                (Some((ca, _)), Some((cb, _))) => {
                    Some(strata_shared::compare::config::diff_configs(ca, cb))
                }
                _ => None,
            },
            directories: files.as_ref().map(directory_rollups),
            files,
            packages: None,
            foreign_in_a: foreign(&a),
            foreign_in_b: foreign(&b),
        }
    };
    let comparison = StoredValue::new(comparison);
    let preview = RwSignal::new(None::<String>);
    let save_json = move |_| {
        let json = to_json(&comparison.with_value(|c| c()));
        crate::download::save("strata-compare.json", json.as_bytes(), "application/json");
    };
    let save_csv = move |_| {
        if let Some(d) = diff.get_untracked() {
            let filter = FileFilter::changed();
            let csv = files_csv(d.diff.filtered(&filter));
            crate::download::save("strata-compare-files.csv", csv.as_bytes(), "text/csv");
        }
    };
    let ready = move || diff.get().is_some();
    view! {
        <section class="panel export" data-compare-export="">
            <h2>"Export"</h2>
            <p class="dim">"The comparison as JSON: both images' digests, layers and pull cost, config and history, every path of the file diff and the directory roll-ups. The CSV holds the changed paths."</p>
            <button data-export="json" on:click=save_json>"Download JSON"</button>
            " "
            <button data-export="csv" on:click=save_csv disabled=move || !ready()>"Download CSV"</button>
            {move || (!ready()).then(|| view! { <p class="dim">"The file list is added once both trees are whole."</p> })}
            " "
            <button class="link" data-export="preview" on:click=move |_| preview.set(Some(to_json(&comparison.with_value(|c| c()))))>"Show the JSON"</button>
            {move || preview.get().map(|json| view! { <pre class="mono raw" data-export-preview="">{json}</pre> })}
        </section>
    }
}
