use leptos::prelude::*;

use crate::components::{ReferenceForm, TopBar};

/// Paste a reference; examples and what Strata verifies.
#[component]
pub(crate) fn HomePage() -> impl IntoView {
    let examples = [
        "nginx:1.27",
        "docker.io/library/debian:bookworm",
        "ghcr.io/org/app:tag",
        "quay.io/prometheus/prometheus",
        "127.0.0.1:5000/team/app:dev",
    ];
    view! {
        <main class="page home" data-strata-state="ready">
            <TopBar/>
            <section class="hero">
                <h1>"Look inside a container image"</h1>
                <ReferenceForm initial=String::new() autofocus=true/>
                <p class="examples">
                    "Try: "
                    {examples
                        .iter()
                        .map(|e| view! { <a class="mono" href=format!("/image/{e}")>{*e}</a> " " })
                        .collect_view()}
                </p>
                <ul class="promises">
                    <li>"Every manifest, config and layer is checked against its digest in your browser — the relay is a courier, not a witness."</li>
                    <li>"Layers are decompressed and indexed in Web Workers while they download."</li>
                    <li>"Every view has a link pinned by digest: a colleague sees exactly the same bytes."</li>
                </ul>
            </section>
        </main>
    }
}
