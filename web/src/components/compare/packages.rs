use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use strata_shared::attestation::sbom::Sbom;
use strata_shared::compare::packages::{PackageDiff, diff_packages};

use super::change_word;
use crate::compare_load::LoadedSide;
use crate::provenance_load::load_provenance;

/// The SBOM packages added, removed and changed in version, when both images carry an
/// SBOM attestation (the first one each lists).
#[component]
pub(crate) fn ComparePackages(a: LoadedSide, b: LoadedSide) -> impl IntoView {
    let loaded = RwSignal::new(None::<[Option<Arc<Sbom>>; 2]>);
    spawn_local(async move {
        let first = |p: Arc<crate::provenance_load::LoadedProvenance>| {
            p.sboms().next().map(|(_, s)| s.clone())
        };
        let (pa, pb) = futures::join!(load_provenance(&a.model), load_provenance(&b.model));
        loaded.set(Some([first(pa), first(pb)]));
    });
    move || match loaded.get() {
        None => view! { <p class="loading">"Looking for SBOM attestations of both images…"</p> }
            .into_any(),
        Some([Some(sa), Some(sb)]) => package_table(diff_packages(&sa, &sb)).into_any(),
        Some([sa, sb]) => {
            let lacking = match (sa.is_none(), sb.is_none()) {
                (true, true) => "Neither image has",
                (true, false) => "Image A has",
                _ => "Image B has",
            };
            let tail = if sa.is_none() && sb.is_none() {
                " an SBOM attestation"
            } else {
                " no SBOM attestation"
            };
            view! { <section class="panel" data-packages-missing=""><p>{lacking} {tail} ", so there are no packages to compare."</p></section> }.into_any()
        }
    }
}

fn package_table(d: PackageDiff) -> impl IntoView {
    let rows = d
        .rows
        .iter()
        .filter(|r| r.change != strata_shared::compare::Change::Same)
        .map(|r| {
            let word = change_word(r.change);
            view! {
                <tr data-package-key=r.key.clone() data-change=word class=format!("change-{word}")>
                    <td class="mono">{r.name.clone()}</td><td class="dim">{r.kind.clone()}</td>
                    <td>{word}</td>
                    <td class="mono">{r.a_version.clone().unwrap_or_default()}</td>
                    <td class="mono">{r.b_version.clone().unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="panel" data-package-counts=format!("{},{},{},{}", d.added, d.removed, d.changed, d.same)>
            <h2>"Packages"</h2>
            <p>{format!("{} added, {} removed, {} changed in version, {} the same.", d.added, d.removed, d.changed, d.same)}</p>
            <table class="package-diff">
                <thead><tr><th>"Package"</th><th>"Type"</th><th>"Change"</th><th>"A"</th><th>"B"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}
