//! `/compare?a={reference}&b={reference}[&pa=…&pb=…]`: two images side by side. Each
//! side is resolved and verified as the image page does it; the layers of both go to one
//! worker pool (a shared blob once), and the diff is computed once both trees are whole.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use strata_shared::compare::files::{DiffOptions, TreeDiff, diff_trees};
use strata_shared::manifest::Platform;

use crate::compare_load::{LoadedSide, SideName, layer_identities, load_side, start_layers};
use crate::components::compare::{
    CompareConfig, CompareExport, CompareFiles, CompareLayers, ComparePackages, CompareTab,
    SideCard, compare_href,
};
use crate::components::{CopyButton, ErrorView, PageFailure, TopBar};
use crate::merged_tree::now_ms;
use crate::url_state::{Key, href_with};

/// One side of the page: loaded, or why not.
type SideResult = Result<LoadedSide, PageFailure>;

#[derive(Clone, Debug)]
enum CompareState {
    /// `a` or `b` is missing: the page asks for them.
    Incomplete,
    Loading(String),
    Loaded(Box<[SideResult; 2]>),
}

/// The file diff once both trees are whole, with the milliseconds it took (shown to
/// benchmarks as `data-diff-ms`).
#[derive(Clone)]
pub(crate) struct ComputedDiff {
    pub diff: Arc<TreeDiff>,
    pub millis: f64,
}

/// The compare page.
#[component]
pub(crate) fn ComparePage() -> impl IntoView {
    let query = use_query_map();
    let state = RwSignal::new(CompareState::Incomplete);
    // The file diff of the loaded sides: the page is ready once it is computed.
    let diff = RwSignal::new(None::<ComputedDiff>);
    let generation = StoredValue::new(0u64);
    // Which load owns the page's document fetches (a plain atomic: the cleanup below may
    // run after the page's arena is gone).
    let owner = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let owner_of_effect = owner.clone();
    // Only the sides and their platforms reload; tab, filters and path change the view.
    let sides = Memo::new(move |_| {
        let q = query.read();
        let get = |key: Key| q.get(key.as_str()).filter(|v| !v.trim().is_empty());
        (
            get(Key::SideA),
            get(Key::SideB),
            get(Key::PlatformA),
            get(Key::PlatformB),
        )
    });
    Effect::new(move |_| {
        let (a, b, pa, pb) = sides.get();
        let this_load = generation.get_value() + 1;
        generation.set_value(this_load);
        let (Some(a), Some(b)) = (a, b) else {
            state.set(CompareState::Incomplete);
            return;
        };
        let load_owner = crate::browse_load::page_owner();
        owner_of_effect.store(load_owner, std::sync::atomic::Ordering::Relaxed);
        crate::page_fetches::begin(load_owner);
        crate::page_pool::warm();
        diff.set(None);
        state.set(CompareState::Loading(format!("Resolving {a} and {b}")));
        spawn_local(async move {
            let platform = |p: Option<String>| p.as_deref().and_then(Platform::parse);
            let (ra, rb) = futures::join!(
                load_side(&a, platform(pa.clone())),
                load_side(&b, platform(pb.clone()))
            );
            if generation.get_value() != this_load {
                return;
            }
            let side = |reference: String, model: Result<_, PageFailure>| {
                model.map(|model| LoadedSide {
                    reference,
                    model,
                    files: RwSignal::new(None),
                })
            };
            let loaded = [side(a, ra), side(b, rb)];
            let readable: Vec<&LoadedSide> =
                loaded.iter().filter_map(|s| s.as_ref().ok()).collect();
            start_layers(&readable);
            state.set(CompareState::Loaded(Box::new(loaded)));
        });
    });

    // Leaving the page aborts what it still fetches (a newer page's fetches are kept).
    on_cleanup(move || {
        crate::page_fetches::end(owner.load(std::sync::atomic::Ordering::Relaxed));
    });

    let page_state = move || match state.get() {
        CompareState::Incomplete => "needs-input",
        CompareState::Loading(_) => "loading",
        CompareState::Loaded(sides) => match &*sides {
            [Ok(a), Ok(b)] if a.settled() && b.settled() && diff.with(Option::is_some) => "ready",
            [Ok(_), Ok(_)] => "loading",
            _ => "error",
        },
    };
    view! {
        <main class="page compare" data-strata-state=page_state>
            <TopBar>
                <span class="dim">"Compare two images"</span>
            </TopBar>
            {move || match state.get() {
                CompareState::Incomplete => view! { <CompareForm/> }.into_any(),
                CompareState::Loading(step) => view! { <p class="loading">{step} "…"</p> }.into_any(),
                CompareState::Loaded(sides) => {
                    let [a, b] = *sides;
                    match (a, b) {
                        (Ok(a), Ok(b)) => view! { <CompareBody a b diff/> }.into_any(),
                        (a, b) => view! { <FailedSides a b/> }.into_any(),
                    }
                }
            }}
        </main>
    }
}

/// A compare whose side could not be read: each side's card or its error, by name.
#[component]
fn FailedSides(a: SideResult, b: SideResult) -> impl IntoView {
    let one = |name: SideName, side: SideResult| match side {
        Ok(side) => view! { <SideCard name side/> }.into_any(),
        Err(failure) => view! {
            <section class="panel compare-side" data-compare-side=name.word() data-side-failed="">
                <h2>"Image " {name.label()}</h2>
                <ErrorView failure/>
            </section>
        }
        .into_any(),
    };
    view! { <div class="compare-sides">{one(SideName::A, a)}{one(SideName::B, b)}</div> }
}

/// The form of a compare page opened without both sides.
#[component]
fn CompareForm() -> impl IntoView {
    view! {
        <section class="panel compare-form" data-compare-form="">
            <h2>"Compare two images"</h2>
            <p class="dim">"Any reference Strata opens: a registry image, " <code>"docker-daemon:…"</code> ", " <code>"oci:…"</code> ", or " <code>"archive:sha256:…"</code> " for a file opened in this tab."</p>
            <form method="get" action="/compare">
                <label>"A " <input name="a" class="mono" placeholder="registry/name:1.4" required=true/></label>
                <label>"B " <input name="b" class="mono" placeholder="registry/name:1.5" required=true/></label>
                <button type="submit">"Compare"</button>
            </form>
        </section>
    }
}

#[component]
fn CompareBody(
    a: LoadedSide,
    b: LoadedSide,
    diff: RwSignal<Option<ComputedDiff>>,
) -> impl IntoView {
    let query = use_query_map();
    let tab = Memo::new(move |_| CompareTab::parse(query.read().get("tab").as_deref()));
    let semantic = Memo::new(move |_| query.read().get("semantic").as_deref() == Some("1"));
    {
        let (fa, fb) = (a.files, b.files);
        let (da, db) = layer_identities(&a, &b);
        Effect::new(move |_| {
            let semantic = semantic.get();
            let (Some(ta), Some(tb)) = (fa.get(), fb.get()) else {
                return;
            };
            if !ta.pending_layers.is_empty() || !tb.pending_layers.is_empty() {
                diff.set(None);
                return;
            }
            let started = now_ms();
            let computed = diff_trees(
                &ta.tree,
                &tb.tree,
                DiffOptions {
                    semantic,
                    a_layers: &da,
                    b_layers: &db,
                },
            );
            diff.set(Some(ComputedDiff {
                diff: Arc::new(computed),
                millis: now_ms() - started,
            }));
        });
    }
    let pinned = compare_href(
        &a.pinned_reference(),
        &b.pinned_reference(),
        a.platform().as_deref(),
        b.platform().as_deref(),
    );
    let swapped = compare_href(
        &b.pinned_reference(),
        &a.pinned_reference(),
        b.platform().as_deref(),
        a.platform().as_deref(),
    );
    let pinned_absolute = {
        let origin = web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default();
        format!("{origin}{pinned}")
    };
    let body = {
        let (a, b) = (a.clone(), b.clone());
        move |tab: CompareTab| match tab {
            CompareTab::Layers => view! { <CompareLayers a=a.clone() b=b.clone()/> }.into_any(),
            CompareTab::Config => view! { <CompareConfig a=a.clone() b=b.clone()/> }.into_any(),
            CompareTab::Files => view! { <CompareFiles a=a.clone() b=b.clone() diff/> }.into_any(),
            CompareTab::Packages => view! { <ComparePackages a=a.clone() b=b.clone()/> }.into_any(),
            CompareTab::Export => {
                view! { <CompareExport a=a.clone() b=b.clone() diff semantic/> }.into_any()
            }
        }
    };
    let diff_ms = move || diff.get().map(|d| format!("{:.1}", d.millis));
    view! {
        <section class="compare-header" data-diff-ms=diff_ms>
            <div class="pinned">
                <a class="mono" href=pinned.clone() data-compare-pinned="">"Pinned link to this compare"</a>
                <CopyButton text=Signal::stored(pinned_absolute) what="the pinned compare link"/>
                <a href=swapped data-compare-swap="">"swap A and B"</a>
            </div>
            <div class="compare-sides">
                <SideCard name=SideName::A side=a.clone()/>
                <SideCard name=SideName::B side=b.clone()/>
            </div>
        </section>
        <nav class="tabs" role="tablist">
            {CompareTab::ALL.into_iter().map(|t| {
                let href = move || href_with(&[(Key::Tab, t.value())]);
                view! { <a href=href role="tab" class:current=move || tab.get() == t data-tab=t.id()>{t.label()}</a> }
            }).collect_view()}
        </nav>
        {move || body(tab.get())}
    }
}
