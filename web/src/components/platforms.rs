use leptos::prelude::*;
use strata_shared::manifest::Descriptor;

use crate::format::{bytes, short_digest};
use crate::image_load::IndexView;

/// The platforms of an index; switching is a link. Attestations are listed under the
/// platform they describe, never as platforms.
#[component]
pub(crate) fn Platforms(index: IndexView, base_path: String) -> impl IntoView {
    let selected = index.selected.to_string();
    let media_label = index.media_type.label().to_owned();
    let rows = index
        .entries
        .platforms
        .into_iter()
        .map(|entry| {
            let platform = entry.platform().to_string();
            let href = format!("{base_path}?platform={platform}");
            let current = platform == selected;
            let attestations = entry.attestations.into_iter().map(attestation_line).collect_view();
            view! {
                <li class:current=current data-platform=platform.clone()>
                    <a href=href aria-current=if current { "page" } else { "false" }>{platform.clone()}</a>
                    " "
                    <span class="mono dim" title=entry.descriptor.digest.to_string()>
                        {short_digest(&entry.descriptor.digest.to_string())}
                    </span>
                    " "
                    <span class="dim">{bytes(entry.descriptor.size)} " manifest"</span>
                    <ul class="attestations">{attestations}</ul>
                </li>
            }
        })
        .collect_view();
    let orphans = index
        .entries
        .orphan_attestations
        .into_iter()
        .map(attestation_line)
        .collect_view();
    view! {
        <section class="panel platforms">
            <h2>"Platforms " <span class="dim">{media_label}</span></h2>
            <ul>{rows}</ul>
            <ul class="attestations">{orphans}</ul>
        </section>
    }
}

fn attestation_line(d: Descriptor) -> impl IntoView {
    view! {
        <li class="attestation" data-attestation=d.digest.to_string()>
            "attestation " <span class="mono" title=d.digest.to_string()>{short_digest(&d.digest.to_string())}</span>
            " " <span class="dim">{bytes(d.size)}</span>
        </li>
    }
}
