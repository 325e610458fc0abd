use leptos::prelude::*;

use crate::compare_load::{LoadedSide, SideName};
use crate::format::{bytes, plural, short_digest};
use crate::worker::protocol::Stage;

/// One compared image: its name, pinned digest (a link to its own page), platform, size
/// and how far its layers have verified.
#[component]
pub(crate) fn SideCard(name: SideName, side: LoadedSide) -> impl IntoView {
    let model = side.model.clone();
    let total: u64 = model.layers.iter().map(|l| l.descriptor.size).sum();
    let count = model.layers.len();
    let lives: Vec<_> = model.layers.iter().map(|l| l.live).collect();
    let progress = move || {
        // Foreign and encrypted layers are never fetched: they count as settled.
        let verified = lives
            .iter()
            .filter(|l| matches!(l.stage.get(), Stage::Verified | Stage::NotFetched))
            .count();
        let failed = lives
            .iter()
            .filter(|l| l.stage.get() == Stage::Failed)
            .count();
        if failed > 0 && verified + failed == count {
            view! { <span class="badge bad" data-side-verified="partly">{format!("✗ {failed} of {count} layers failed")}</span> }.into_any()
        } else if verified == count && model.failures.is_empty() {
            view! { <span class="badge ok" data-side-verified="all">"✓ all verified"</span> }
                .into_any()
        } else if verified == count {
            view! { <span class="badge bad" data-side-verified="partly">"✗ partly verified"</span> }
                .into_any()
        } else {
            view! { <span class="badge pending" data-side-verified="pending">{format!("verifying: {verified} of {count} layers")}</span> }.into_any()
        }
    };
    let pinned = side.model.pinned.to_string();
    let platform = side.platform();
    view! {
        <section class="panel compare-side" data-compare-side=name.word() data-side-digest=pinned.clone()>
            <h2>"Image " {name.label()}</h2>
            <div class="mono side-name" title=side.reference.clone()>{side.reference.clone()}</div>
            <a class="mono" href=side.model.pinned_path() data-side-link="">
                {format!("{}@{}", side.model.endpoint.name, short_digest(&pinned))}
            </a>
            <div class="facts">
                {progress}
                {platform.map(|p| view! { <span class="mono" data-side-platform=p.clone()>{p.clone()}</span> })}
                <span>{bytes(total)} " · " {plural(count as u64, "layer", "layers")}</span>
            </div>
        </section>
    }
}
