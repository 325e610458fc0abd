use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::{OpenImage, ReferenceForm, TopBar};

/// The demo's pinned-enough link: the demo is built identically everywhere.
const DEMO: &str = "/image/oci:demo";

/// What this machine offers besides registries: the companion's layouts and the daemon.
#[derive(Clone, Debug, Default, serde::Deserialize)]
struct LocalOverview {
    #[serde(default)]
    layouts: Vec<LayoutEntry>,
    #[serde(default)]
    daemon: bool,
}

#[derive(Clone, Debug, serde::Deserialize)]
struct LayoutEntry {
    name: String,
    #[serde(default)]
    tags: Vec<TagEntry>,
}

#[derive(Clone, Debug, serde::Deserialize)]
struct TagEntry {
    tag: String,
}

/// One image of the daemon's list.
#[derive(Clone, Debug, serde::Deserialize)]
struct DaemonImage {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Size", default)]
    size: i64,
}

async fn get_json<T: serde::de::DeserializeOwned>(url: &str) -> Option<T> {
    use wasm_bindgen::JsCast;
    let window = web_sys::window()?;
    let request = crate::api::companion_request(url, &web_sys::RequestInit::new()).ok()?;
    let response: web_sys::Response =
        wasm_bindgen_futures::JsFuture::from(window.fetch_with_request(&request))
            .await
            .ok()?
            .dyn_into()
            .ok()?;
    if !response.ok() {
        return None;
    }
    let text = wasm_bindgen_futures::JsFuture::from(response.text().ok()?)
        .await
        .ok()?;
    serde_json::from_str(&text.as_string()?).ok()
}

/// Start here: the demo, images on this machine (files, folders, the daemon, layouts), or
/// a reference to paste.
#[component]
pub(crate) fn HomePage() -> impl IntoView {
    let local = RwSignal::new(None::<LocalOverview>);
    let daemon_images = RwSignal::new(None::<Vec<DaemonImage>>);
    spawn_local(async move {
        let overview: Option<LocalOverview> = get_json("/api/local").await;
        if overview.as_ref().is_some_and(|o| o.daemon) {
            daemon_images.set(get_json("/api/docker/images").await);
        }
        local.set(overview);
    });
    // Public images exist, but only with a network: they are offered as such.
    let registry_examples = [
        "nginx:1.27",
        "debian:bookworm",
        "quay.io/prometheus/prometheus:latest",
    ];
    view! {
        <main class="page home" data-strata-state="ready">
            <TopBar/>
            <section class="hero">
                <h1>"Look inside a container image"</h1>
                <ReferenceForm initial=String::new() autofocus=true/>
                <p class="examples">
                    <a class="demo-link" href=DEMO data-strata-demo="">"Open the demo image"</a>
                    " — built into Strata, works offline."
                    <br/>
                    <span class="dim">"From public registries (needs network): "</span>
                    {registry_examples
                        .iter()
                        .map(|e| view! {
                            <a class="mono" href=format!("/image/{e}") data-needs-network="" title="Needs network access to the registry">{*e}</a> " "
                        })
                        .collect_view()}
                </p>
                <OpenImage/>
                <RecentImages/>
                <ForgetCached/>
                {move || {
                    let images = daemon_images.get().unwrap_or_default();
                    (!images.is_empty())
                        .then(|| {
                            view! {
                                <section class="local-images" aria-label="Images of the local daemon">
                                    <h2>"On this machine's Docker"</h2>
                                    <ul>
                                        {images
                                            .into_iter()
                                            .take(20)
                                            .map(|image| {
                                                let name = image
                                                    .repo_tags
                                                    .as_ref()
                                                    .and_then(|t| t.first().cloned())
                                                    .filter(|t| t != "<none>:<none>");
                                                let target = match &name {
                                                    Some(tag) => format!("docker-daemon:{tag}"),
                                                    None => format!("docker-daemon:{}", image.id),
                                                };
                                                let label = name.unwrap_or_else(|| image.id.chars().take(19).collect());
                                                view! {
                                                    <li data-daemon-image=image.id.clone()>
                                                        <a class="mono" href=format!("/image/{target}")>{label}</a>
                                                        " "
                                                        <span class="dim">{crate::format::bytes(image.size.max(0) as u64)}</span>
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                    </ul>
                                </section>
                            }
                        })
                }}
                {move || {
                    let layouts: Vec<_> = local
                        .get()
                        .map(|o| o.layouts)
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|l| l.name != "demo")
                        .collect();
                    (!layouts.is_empty())
                        .then(|| {
                            view! {
                                <section class="local-layouts" aria-label="OCI layouts served by the companion">
                                    <h2>"OCI layouts"</h2>
                                    <ul>
                                        {layouts
                                            .into_iter()
                                            .flat_map(|l| {
                                                let name = l.name.clone();
                                                l.tags.into_iter().map(move |t| format!("oci:{name}:{}", t.tag))
                                            })
                                            .map(|r| view! { <li><a class="mono" href=format!("/image/{r}")>{r.clone()}</a></li> })
                                            .collect_view()}
                                    </ul>
                                </section>
                            }
                        })
                }}
                <ul class="promises">
                    <li>"Every manifest, config and layer is checked against its digest in your browser — the relay is a courier, not a witness."</li>
                    <li>"Layers are decompressed and indexed in Web Workers while they download."</li>
                    <li>"Every view has a link pinned by digest: a colleague sees exactly the same bytes."</li>
                </ul>
            </section>
        </main>
    }
}

/// Deletes what this browser kept of verified images (layers and their indexes), so every
/// image is fetched and verified afresh; shown whatever the recent list holds.
#[component]
fn ForgetCached() -> impl IntoView {
    let forgotten = RwSignal::new(false);
    let forget = move |_| {
        leptos::task::spawn_local(async move {
            crate::verified_cache::forget_all().await;
            crate::early_reads::forget();
            forgotten.set(true);
        });
    };
    view! {
        <p class="dim forget-cached">
            "Layers this browser verified are kept, so revisits open at once. "
            <button class="link-button" data-forget-cached="" on:click=forget>
                {move || if forgotten.get() { "Cached images forgotten." } else { "Forget cached images" }}
            </button>
        </p>
    }
}

/// Images opened before in this browser, newest first, with a control to forget them.
#[component]
fn RecentImages() -> impl IntoView {
    let images = RwSignal::new(crate::recent::list());
    let forget = move |_| {
        crate::recent::forget_all();
        images.set(Vec::new());
    };

    move || {
        let list = images.get();
        (!list.is_empty()).then(|| {
            view! {
                <section class="recent-images" aria-label="Recently opened in this browser">
                    <h2>
                        "Recently opened "
                        <button class="link-button" on:click=forget title="Forget this list (kept only in this browser)">"forget"</button>
                    </h2>
                    <ul>
                        {list
                            .into_iter()
                            .map(|image| {
                                let when = js_sys::Date::new(&image.opened_ms.into())
                                    .to_iso_string()
                                    .as_string()
                                    .unwrap_or_default();
                                let when = when.get(..16).unwrap_or_default().replace('T', " ");
                                view! {
                                    <li data-recent-image=image.path.clone()>
                                        <a class="mono" href=image.path.clone()>{image.name.clone()}</a>
                                        " "
                                        <span class="dim">
                                            {when} {image.needs_file.then_some(" · needs its file")}
                                        </span>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </section>
            }
        })
    }
}
