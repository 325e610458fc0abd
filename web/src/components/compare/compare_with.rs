use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use super::compare_href;
use crate::endpoint::Endpoint;

/// Most tags offered.
const TAGS_OFFERED: u32 = 100;

/// The image page's "Compare with…": another platform of the same index, another tag of
/// the same repository (from `tags/list`, fetched when opened), or any reference.
#[component]
pub(crate) fn CompareWith(
    /// The pinned reference of the image on screen (side A).
    pinned: String,
    /// Its platform, when picked from an index.
    platform: Option<String>,
    /// The index's other platforms.
    other_platforms: Vec<String>,
    /// Where the repository's tags are listed (registry images only).
    endpoint: Option<Endpoint>,
    /// The image's name without tag or digest, to make `name:tag` references.
    repository: Option<String>,
) -> impl IntoView {
    let tags = RwSignal::new(None::<Result<Vec<String>, String>>);
    let asked = StoredValue::new(false);
    let on_toggle = move |_| {
        if asked.get_value() {
            return;
        }
        asked.set_value(true);
        if let Some(endpoint) = endpoint.clone() {
            spawn_local(async move {
                let result = crate::api::fetch_tags(&endpoint, TAGS_OFFERED).await;
                tags.set(Some(result.map_err(|e| e.to_string())));
            });
        }
    };
    let platform_links = {
        let pinned = pinned.clone();
        let platform = platform.clone();
        other_platforms
            .into_iter()
            .map(|p| {
                let href = compare_href(&pinned, &pinned, platform.as_deref(), Some(&p));
                view! { <li><a class="mono" href=href data-compare-platform=p.clone()>{p.clone()}</a></li> }
            })
            .collect_view()
    };
    let tag_links = {
        let (pinned, platform) = (pinned.clone(), platform.clone());
        move || {
            match (tags.get(), &repository) {
            (Some(Ok(list)), Some(repo)) => list
                .into_iter()
                .map(|tag| {
                    let href = compare_href(&pinned, &format!("{repo}:{tag}"), platform.as_deref(), platform.as_deref());
                    view! { <li><a class="mono" href=href data-compare-tag=tag.clone()>{tag.clone()}</a></li> }
                })
                .collect_view()
                .into_any(),
            (Some(Err(e)), _) => view! { <li class="dim">"tags cannot be listed: " {e}</li> }.into_any(),
            (None, Some(_)) => view! { <li class="dim">"listing tags…"</li> }.into_any(),
            _ => ().into_any(),
        }
        }
    };
    let text = RwSignal::new(String::new());
    let navigate = use_navigate();
    let submit = {
        let (pinned, platform) = (pinned.clone(), platform.clone());
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let other = text.get_untracked();
            if !other.trim().is_empty() {
                navigate(
                    &compare_href(&pinned, other.trim(), platform.as_deref(), None),
                    Default::default(),
                );
            }
        }
    };
    view! {
        <details class="compare-with" data-compare-with="" on:toggle=on_toggle>
            <summary>"Compare with…"</summary>
            <div class="compare-with-body">
                <form on:submit=submit>
                    <label>"Any image: " <input class="mono" data-compare-reference="" placeholder="registry/name:tag, docker-daemon:…, oci:…"
                        prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))/></label>
                    <button type="submit">"Compare"</button>
                </form>
                <h3>"Another platform"</h3>
                <ul class="plain">{platform_links}</ul>
                <h3>"Another tag"</h3>
                <ul class="plain compare-tags">{tag_links}</ul>
            </div>
        </details>
    }
}
