use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_params_map, use_query_map};
use strata_shared::manifest::{Platform, layer_history};

use crate::components::{
    ArchiveChecks, CompareWith, ConfigView, CopyButton, DistributionFacts, ErrorView, FilesView,
    HistoryView, JsonDocument, LayersTable, OpenImage, PlatformSwitch, Platforms, ReferenceForm,
    ShareView, TopBar, VerificationBadge,
};
use crate::format::{bytes, short_digest};
use crate::image_load::{ImageModel, load_image};
use crate::merged_tree::MergedTreeState;
use crate::url_state::{Key, Tab, ViewState, href_with};
use crate::worker::protocol::Stage;

thread_local! {
    /// Counts image loads in this tab: each owns its document fetches.
    static LOADS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

#[derive(Clone, Debug)]
enum PageState {
    Loading(String),
    Failed(crate::components::PageFailure),
    /// `/archive/{digest}` whose file is not open in this tab.
    NeedFile(String),
    Loaded(Box<ImageModel>),
}

/// `/image/{reference}` (a registry reference, `oci:…` or `docker-daemon:…`) and
/// `/archive/{digest}` (`archive`): resolves, verifies and shows one image.
#[component]
pub(crate) fn ImagePage(#[prop(optional)] archive: bool) -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let state = RwSignal::new(PageState::Loading("Resolving reference".into()));
    let files = RwSignal::new(None::<MergedTreeState>);
    let generation = StoredValue::new(0u64);
    // Bumped by "try again" on a failed object: the image is read again (what verified
    // comes back from the browser's caches).
    let retries = RwSignal::new(0u64);
    provide_context(Retry(retries));
    // Not a StoredValue: the cleanup below may run after the page's arena is gone.
    let current_owner = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let owner_of_effect = current_owner.clone();

    // Memos, so that only a new reference or platform reloads the image: the rest of the
    // query (tab, path, search) changes the view, never the load.
    let param = if archive { "digest" } else { "reference" };
    let reference = Memo::new(move |_| params.read().get(param).unwrap_or_default());
    let platform = Memo::new(move |_| ViewState::from_map(&query.read()).platform);
    Effect::new(move |_| {
        let raw = reference.get();
        retries.track();
        // An archive opened on this page (after "open the file again") reloads it.
        let _ = archive && crate::archive_store::opened().get() > 0;
        let platform = platform.get().and_then(|p| Platform::parse(&p));
        // What a revisit of this link reads early (see crate::early_reads).
        let link = match &platform {
            Some(p) => format!("{raw}?platform={p}"),
            None => raw.clone(),
        };
        let this_load = generation.get_value() + 1;
        generation.set_value(this_load);
        let owner = LOADS.with(|n| {
            n.set(n.get() + 1);
            n.get()
        });
        owner_of_effect.store(owner, std::sync::atomic::Ordering::Relaxed);
        crate::page_fetches::begin(owner);
        // Workers start now, while the documents load, unless the layers are likely in
        // the cache: then only a layer that is not starts them.
        if crate::early_reads::start(&link) {
            crate::page_pool::warm_on_demand();
        } else {
            crate::page_pool::warm();
        }
        files.set(None);
        state.set(PageState::Loading(format!("Resolving {raw}")));
        spawn_local(async move {
            let next = match crate::source_resolve::resolve(&raw, archive).await {
                Err(crate::source_resolve::ResolveError::NeedFile(digest)) => {
                    PageState::NeedFile(digest.to_string())
                }
                Err(e) => PageState::Failed(e.to_string().into()),
                Ok((endpoint, manifest_ref)) => {
                    match load_image(endpoint.clone(), manifest_ref.clone(), platform).await {
                        Ok(model) => PageState::Loaded(Box::new(model)),
                        Err(e) => PageState::Failed(
                            crate::components::explain_failure(e, &endpoint, &manifest_ref).await,
                        ),
                    }
                }
            };
            if generation.get_value() != this_load {
                return;
            }
            if let PageState::Loaded(model) = &next {
                crate::recent::remember(crate::recent::RecentImage {
                    path: model.pinned_path(),
                    name: format!("{}@{}", model.endpoint.name, model.pinned.short()),
                    opened_ms: js_sys::Date::now(),
                    needs_file: archive,
                });
                crate::early_reads::remember(&link, model);
                crate::image_layers::start_layers(model, files);
            }
            state.set(next);
        });
    });

    // Leaving the page aborts what it still fetches (a newer page's fetches are kept).
    on_cleanup(move || {
        crate::page_fetches::end(current_owner.load(std::sync::atomic::Ordering::Relaxed));
    });

    let page_state = move || match state.get() {
        PageState::Loading(_) => "loading",
        PageState::Failed(_) => "error",
        PageState::NeedFile(_) => "needs-file",
        // Something was shown: failed objects are marked on the page and listed in its
        // summary, and the page is ready once every layer has settled and is merged.
        PageState::Loaded(model) => {
            if model.all_layers_settled()
                && files.with(|f| f.as_ref().is_some_and(MergedTreeState::is_complete))
            {
                "ready"
            } else {
                "loading"
            }
        }
    };
    let initial_input = if archive {
        String::new()
    } else {
        params.read_untracked().get("reference").unwrap_or_default()
    };

    view! {
        <main class="page image" data-strata-state=page_state>
            <TopBar>
                <ReferenceForm initial=initial_input/>
            </TopBar>
            {move || match state.get() {
                PageState::Loading(step) => view! { <p class="loading">{step} "…"</p> }.into_any(),
                PageState::Failed(failure) => view! { <ErrorView failure/> }.into_any(),
                PageState::NeedFile(digest) => view! {
                    <section class="need-file" data-strata-need-file=digest.clone()>
                        <p>
                            "This link shows an image from a file, which is read in the browser and never uploaded or stored. Open the file that holds "
                            <code>{digest.clone()}</code> ":"
                        </p>
                        <OpenImage expect=digest.clone()/>
                    </section>
                }.into_any(),
                PageState::Loaded(model) => view! { <ImageBody model=*model files/> }.into_any(),
            }}
        </main>
    }
}

#[component]
fn ImageBody(model: ImageModel, files: RwSignal<Option<MergedTreeState>>) -> impl IntoView {
    let query = use_query_map();
    // A memo: the tab's content is rebuilt when the tab changes, not on every query change.
    let tab = Memo::new(move |_| ViewState::from_map(&query.read()).tab);
    let pinned_path = model.pinned_path();
    let config_digest = model
        .manifest
        .as_ref()
        .map(|m| m.manifest.config.digest.clone());
    let pinned_full = model
        .endpoint
        .pinned_reference(&model.pinned, config_digest.as_ref());
    let base_path = model
        .endpoint
        .pinned_path(&model.pinned, config_digest.as_ref());
    let copy_target = pinned_full.clone();
    let share_base = model
        .endpoint
        .pinned_path(&model.pinned, config_digest.as_ref());
    let total: u64 = model.layers.iter().map(|l| l.descriptor.size).sum();
    let layer_count = model.layers.len();
    let m = model.clone();
    let verified_all = {
        let m = m.clone();
        move || m.all_layers_verified()
    };
    let verified_label = m.verified_label();
    let settled_all = move || m.all_layers_settled();
    let documents_failed = !model.failures.is_empty();
    // Schema1 gives no sizes: the total is what has verified so far.
    let sizes_known = model.layers.iter().all(|l| l.size_known);
    let share_platform = model.index.as_ref().map(|i| i.selected.to_string());
    let schema1 = model.schema1.clone();
    let history_all = model.history();
    let is_schema1 = schema1.is_some();
    let index_view = model.index.clone();
    let manifest = model.manifest.clone();
    let config = model.config.clone();
    let layers = model.layers.clone();
    let provenance_model = model.clone();
    let facts_model = model.clone();
    let archive_origin = model
        .endpoint
        .opened_archive()
        .map(|(store, daemon)| (store.label.clone(), store.shape, daemon));
    let image_id = config_digest.as_ref().map(ToString::to_string);
    let links = digest_links(&model, &share_base);
    let verified_earlier = verified_earlier_note(&model);
    let compare_reference = model
        .endpoint
        .compare_reference(&model.pinned, config_digest.as_ref());
    let other_platforms: Vec<String> = model
        .index
        .as_ref()
        .map(|i| {
            i.entries
                .platforms
                .iter()
                .map(|e| e.platform())
                .filter(|p| *p != i.selected)
                .map(|p| p.to_string())
                .collect()
        })
        .unwrap_or_default();
    let config_raw = model.config_raw.clone();
    // The first render in three tasks, so that none runs long (on a Debian-sized image
    // it was one 50-90 ms task): the header now, the tab's body in the next task, and the
    // overview's config, its JSON and the history in the one after.
    let stage = RwSignal::new(0u8);
    spawn_local(async move {
        for next in 1..=2 {
            crate::browser_turn::yield_to_browser().await;
            if stage.try_set(next).is_some() {
                return;
            }
        }
    });
    let body_shown = Memo::new(move |_| stage.get() >= 1);
    let later_shown = Memo::new(move |_| stage.get() >= 2);
    let tab_body = {
        let (index_view, manifest, config) = (index_view.clone(), manifest.clone(), config.clone());
        move |tab: Tab| {
            match tab {
            Tab::Files => {
                let layers = layers.clone();
                let manifest_digest = manifest.as_ref().map(|m| m.digest.clone());
                let architecture = config.as_ref().map(|(c, _)| c.architecture.clone());
                let history = history_all.clone();
                match files.get() {
                    Some(data) => view! { <FilesView files=data layers history manifest=manifest_digest.clone() architecture=architecture.clone()/> }.into_any(),
                    None => view! { <p class="loading">"Indexing layers… the file tree appears as soon as the first layer is verified and indexed."</p> }.into_any(),
                }
            }
            Tab::History => {
                let history = history_all.clone();
                let steps = layer_history(&history, layers.len());
                view! { <HistoryView history step_layers=steps/> }.into_any()
            }
            Tab::Provenance => view! { <crate::components::ProvenanceView model=provenance_model.clone() files/> }.into_any(),
            Tab::Overview => view! {
                {archive_origin.clone().map(|(label, shape, daemon)| view! {
                    <ArchiveChecks label shape daemon config=image_id.clone() layers=layers.len()/>
                })}
                {index_view.clone().map(|index| {
                    let raw = index.raw.clone();
                    view! {
                        <Platforms index base_path=base_path.clone()/>
                        <JsonDocument what="index" raw links=links.clone()/>
                    }
                })}
                <DistributionFacts model=facts_model.clone()/>
                {manifest.clone().map(|m| manifest_panel(m, links.clone()))}
                {(manifest.is_some() || is_schema1).then(|| {
                    let history = history_all.clone();
                    view! { <LayersTable layers=layers.clone() history/> }
                })}
                {
                    let (config, config_raw, links, history_all, layer_count) =
                        (config.clone(), config_raw.clone(), links.clone(), history_all.clone(), layers.len());
                    move || later_shown.get().then(|| view! {
                        {config.clone().map(|(config, _)| {
                            let history = config.history.clone();
                            let steps = layer_history(&history, layer_count);
                            view! {
                                <ConfigView config/>
                                {config_raw.clone().map(|raw| view! { <JsonDocument what="config" raw links=links.clone()/> })}
                                <HistoryView history step_layers=steps/>
                            }
                        })}
                        {is_schema1.then(|| {
                            let steps = layer_history(&history_all, layer_count);
                            view! { <HistoryView history=history_all.clone() step_layers=steps/> }
                        })}
                    })
                }
            }.into_any(),
        }
        }
    };
    view! {
        <section class="image-header">
            <div class="pinned">
                <a class="mono" href=pinned_path.clone() data-pinned-link="" data-pinned-digest=model.pinned.to_string() title=pinned_full.clone()>
                    {format!("{}@{}", model.endpoint.name, short_digest(&model.pinned.to_string()))}
                </a>
                <CopyButton text=Signal::stored(copy_target) what="the pinned reference"/>
                {model.endpoint.repository_page().map(|href| view! { <a class="all-tags" href=href.to_owned() data-all-tags="">"all tags"</a> })}
                <CompareWith pinned=compare_reference platform=share_platform.clone() other_platforms
                    endpoint=model.endpoint.repository_page().is_some().then(|| model.endpoint.clone())
                    repository=model.endpoint.repository_page().is_some().then(|| model.endpoint.name.clone())/>
                <ShareView base_path=share_base name=model.endpoint.name.clone() pinned=model.pinned.to_string() platform=share_platform/>
            </div>
            <div class="facts">
                {move || if !verified_all() {
                    if settled_all() {
                        view! { <span class="badge bad" data-partly-verified="">"✗ partly verified: see what failed"</span> }.into_any()
                    } else {
                        view! { <span class="badge pending">"verifying layers…"</span> }.into_any()
                    }
                } else if documents_failed {
                    view! { <span class="badge bad" data-partly-verified="">"✗ partly verified: see what failed"</span> }.into_any()
                } else {
                    view! { <span class="badge ok">{verified_label.clone()}</span> }.into_any()
                }}
                {verified_earlier.clone()}
                {index_view.clone().map(|index| view! { <PlatformSwitch index/> })}
                <span>
                    {if sizes_known { bytes(total) } else { "size unknown (schema1)".to_owned() }}
                    " · " {crate::format::plural(layer_count as u64, "layer", "layers")}
                </span>
            </div>
            <div class="verifications">
                {index_view.as_ref().map(|i| view! { <VerificationBadge verification=i.verification.clone()/> })}
                {manifest.as_ref().map(|m| view! { <VerificationBadge verification=m.verification.clone()/> })}
                {config.as_ref().map(|(_, v)| view! { <VerificationBadge verification=v.clone()/> })}
            </div>
        </section>
        <FailedObjects failures=model.failures.clone() layers=model.layers.clone()/>
        {schema1.clone().map(schema1_panel)}
        <nav class="tabs" role="tablist">
            {Tab::ALL.into_iter().map(|t| {
                // Overview is the default, but a `path=` left in the URL would open Files:
                // its link names it.
                let value = if t == Tab::Overview { Some("overview") } else { t.value() };
                let href = move || href_with(&[(Key::Tab, value)]);
                view! { <a href=href role="tab" class:current=move || tab.get() == t data-tab=t.id()>{t.label()}</a> }
            }).collect_view()}
        </nav>
        // Each tab renders inside its own boundary: a failing view shows its errors, and the
        // header and the other tabs stay usable.
        {move || {
            if !body_shown.get() {
                return view! { <p class="loading">"…"</p> }.into_any();
            }
            let body = tab_body(tab.get());
            view! {
                <ErrorBoundary fallback=|errors| view! { <TabErrors errors/> }>
                    {body}
                </ErrorBoundary>
            }
            .into_any()
        }}
    }
}

/// "Verified earlier in this browser on DATE" once every layer came from the cache of
/// verified layers, with a control to verify them again now.
fn verified_earlier_note(model: &ImageModel) -> impl Fn() -> Option<AnyView> + Clone + use<> {
    let lives: Vec<_> = model
        .layers
        .iter()
        .filter(|l| l.fetched())
        .map(|l| l.live)
        .collect();
    let keys: Vec<String> = crate::image_layers::layer_jobs(model)
        .iter()
        .filter_map(crate::verified_cache::key_of)
        .collect();
    let retry = use_context::<Retry>();
    move || {
        let earliest = lives
            .iter()
            .map(|l| l.summary.get().and_then(|s| s.verified_earlier_ms))
            .collect::<Option<Vec<f64>>>()?
            .into_iter()
            .reduce(f64::min)?;
        let keys = keys.clone();
        let again = move |_| {
            let keys = keys.clone();
            spawn_local(async move {
                crate::verified_cache::forget(&keys).await;
                if let Some(Retry(n)) = retry {
                    n.update(|n| *n += 1);
                }
            });
        };
        Some(
            view! {
                <span class="dim" data-verified-earlier-all="">
                    "verified earlier in this browser, " {crate::format::utc_minutes((earliest / 1000.0) as i64)} " UTC "
                    <button class="link-button" data-verify-again="" on:click=again>"verify again now"</button>
                </span>
            }
            .into_any(),
        )
    }
}

/// Asks the image page to read the image again.
#[derive(Clone, Copy)]
struct Retry(RwSignal<u64>);

/// The objects that failed alone, each with its digest, what was asked and what came back;
/// a rate-limited one says when to try again and offers to. Layers that fail join the list
/// as they settle.
#[component]
fn FailedObjects(
    failures: Vec<crate::image_load::ObjectFailure>,
    layers: Vec<crate::image_load::LayerRow>,
) -> impl IntoView {
    let retry = use_context::<Retry>();
    let lives: Vec<_> = layers
        .iter()
        .map(|l| (l.index, l.descriptor.digest.to_string(), l.live))
        .collect();
    let failed_layers = move || {
        lives
            .iter()
            .filter(|(_, _, live)| live.stage.get() == Stage::Failed)
            .map(|(index, digest, live)| {
                view! {
                    <li data-failed-object="layer" data-failed-digest=digest.clone()>
                        <strong>"layer L" {*index}</strong> " " <code class="mono">{digest.clone()}</code>
                        <div class="answer">{live.error.get().unwrap_or_default()}</div>
                    </li>
                }
            })
            .collect::<Vec<_>>()
    };
    let any_layer_failed = {
        let lives: Vec<_> = layers.iter().map(|l| l.live).collect();
        move || lives.iter().any(|l| l.stage.get() == Stage::Failed)
    };
    let has_failures = !failures.is_empty();
    move || {
        (has_failures || any_layer_failed()).then(|| {
        let failures = failures.clone();
        let rows = failures
            .into_iter()
            .map(|f| {
                let retry_button = retry.map(|Retry(n)| {
                    let label = if f.rate_limited { "Try again now" } else { "Try again" };
                    view! {
                        <button class="retry" data-retry-object=f.object on:click=move |_| n.update(|n| *n += 1)>{label}</button>
                    }
                });
                view! {
                    <li data-failed-object=f.object data-failed-digest=f.digest.to_string()>
                        <strong>{f.object}</strong> " " <code class="mono">{f.digest.to_string()}</code>
                        <div class="dim">"asked for " <code>{f.asked.clone()}</code></div>
                        <div class="answer">{f.answer.clone()}</div>
                        {retry_button}
                    </li>
                }
            })
            .collect_view();
        view! {
            <section class="panel error-panel failed-objects" data-strata-failures="">
                <h2>"Some objects could not be read"</h2>
                <p class="dim">"Everything else on this page verified. The objects below failed alone:"</p>
                <ul>{rows}{failed_layers.clone()}</ul>
            </section>
        }
    })
    }
}

/// What a tab's boundary shows when a view in it fails.
#[component]
fn TabErrors(errors: ArcRwSignal<Errors>) -> impl IntoView {
    view! {
        <section class="panel error-panel" data-tab-error="">
            <h2>"This view failed"</h2>
            <ul>
                {move || errors.get().into_iter().map(|(_, e)| view! { <li>{e.to_string()}</li> }).collect_view()}
            </ul>
        </section>
    }
}

/// A schema1 manifest: what it names, its signatures, and what cannot be checked.
fn schema1_panel(s1: crate::image_load::Schema1View) -> impl IntoView {
    let m = s1.manifest;
    let signatures = m
        .signatures
        .iter()
        .map(|s| {
            view! {
                <li class="mono" data-schema1-signature=s.algorithm.clone()>
                    {s.algorithm.clone()} " · key " {s.key_id.clone().unwrap_or_else(|| "(none)".into())}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="panel schema1" data-schema1="">
            <h2>"Legacy schema1 manifest " <VerificationBadge verification=s1.verification.clone()/></h2>
            <dl>
                <dt>"Pushed as"</dt><dd class="mono">{format!("{}:{}", m.name, m.tag)}</dd>
                <dt>"Architecture"</dt><dd class="mono" data-schema1-architecture="">{m.architecture.clone()}</dd>
                <dt>"Signatures"</dt>
                <dd>
                    {if m.signatures.is_empty() { Some("unsigned") } else { None }}
                    <ul class="plain">{signatures}</ul>
                    {(!m.signatures.is_empty()).then_some("JWS signatures are listed, not verified: their libtrust keys vouch for nothing today.")}
                </dd>
            </dl>
            <p class="dim">"Docker's format before 2017. Its layers are its distinct fsLayers, oldest first, each verified against its blobSum; schema1 has no diff_ids and no sizes, so the uncompressed tars cannot be checked. The history comes from v1Compatibility; throwaway steps and repeated blobs are empty layers."</p>
            <details><summary>"Raw manifest"</summary><pre class="mono raw">{s1.raw.clone()}</pre></details>
        </section>
    }
}

/// Where each digest the image's documents name leads on this page: a layer to its
/// changes, a platform manifest to that platform, the config to the overview, an
/// attestation to the Provenance tab, any other manifest to its own page.
fn digest_links(model: &ImageModel, share_base: &str) -> crate::components::DigestLinks {
    let mut links = std::collections::HashMap::new();
    for layer in &model.layers {
        let digest = layer.descriptor.digest.to_string();
        let href = href_with(&[
            (Key::Tab, Some("files")),
            (Key::Layer, Some(&digest)),
            (Key::Path, None),
            (Key::Search, None),
        ]);
        links.insert(digest, href);
    }
    if let Some(m) = &model.manifest {
        links.insert(
            m.manifest.config.digest.to_string(),
            format!("{}#config", href_with(&[(Key::Tab, None)])),
        );
        if let Some(subject) = &m.manifest.subject {
            links.insert(
                subject.digest.to_string(),
                model.endpoint.pinned_path(&subject.digest, None),
            );
        }
    }
    if let Some(index) = &model.index {
        for entry in &index.entries.platforms {
            links.insert(
                entry.descriptor.digest.to_string(),
                format!("{share_base}?platform={}", entry.platform()),
            );
            for attestation in &entry.attestations {
                let digest = attestation.digest.to_string();
                let href = format!(
                    "{share_base}?platform={}&tab=provenance&attestation={digest}",
                    entry.platform()
                );
                links.insert(digest, href);
            }
        }
        for orphan in &index.entries.orphan_attestations {
            links.insert(
                orphan.digest.to_string(),
                model.endpoint.pinned_path(&orphan.digest, None),
            );
        }
    }
    std::sync::Arc::new(links)
}

fn manifest_panel(
    m: crate::image_load::ManifestView,
    links: crate::components::DigestLinks,
) -> impl IntoView {
    let annotations = m.manifest.annotations.clone();
    view! {
        <section class="panel manifest" data-section="manifest">
            <h2>"Manifest " <span class="dim">{m.media_type.label().to_owned()}</span></h2>
            <dl>
                <dt>"Digest"</dt><dd class="mono" data-manifest-digest=m.digest.to_string()>{m.digest.to_string()}</dd>
                {m.manifest.artifact_type.clone().map(|a| view! { <dt>"Artifact type"</dt><dd class="mono">{a}</dd> })}
                {m.manifest.subject.clone().map(|s| view! { <dt>"Subject"</dt><dd class="mono">{s.digest.to_string()}</dd> })}
            </dl>
            {(!annotations.is_empty()).then(|| view! {
                <h3>"Annotations"</h3>
                <ul class="mono kv">{annotations.into_iter().map(|(k, v)| view! { <li>{k} "=" {v}</li> }).collect_view()}</ul>
            })}
            <JsonDocument what="manifest" raw=m.raw.clone() links/>
        </section>
    }
}
