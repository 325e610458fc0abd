use leptos::prelude::*;
use strata_shared::manifest::Descriptor;

use crate::format::{bytes, short_digest};
use crate::image_load::IndexView;
use crate::url_state::{Key, UrlState};

/// The header's platform of an index: a switcher to the same view (tab, path, layer) on
/// another platform; a plain label when the index has one platform.
#[component]
pub(crate) fn PlatformSwitch(index: IndexView) -> impl IntoView {
    let selected = index.selected.to_string();
    let platforms: Vec<String> = index
        .entries
        .platforms
        .iter()
        .map(|e| e.platform().to_string())
        .collect();
    if platforms.len() < 2 {
        return view! { <span class="platform mono">{selected}</span> }.into_any();
    }
    let location = leptos_router::hooks::use_location();
    let navigate = leptos_router::hooks::use_navigate();
    let change = move |ev| {
        let platform = event_target_value(&ev);
        let href = UrlState::untracked(&location).with(&[(Key::Platform, Some(&platform))]);
        navigate(&href, Default::default());
    };
    let options = platforms
        .into_iter()
        .map(|p| {
            let current = p == selected;
            let label = p.clone();
            view! { <option value=p selected=current>{label}</option> }
        })
        .collect_view();
    view! {
        <select class="platform mono" data-platform-switch="" aria-label="Platform" title="Show this view on another platform" on:change=change>
            {options}
        </select>
    }
    .into_any()
}

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
