//! `/repo/{registry}/{name}`: every tag of a repository. Tags are listed page by page
//! (`tags/list?n=…`, following the relay's `Link`), one row a digest; rows fill as they
//! scroll into view (see [`crate::tag_filler`]); signature, attestation and SBOM tags are
//! badges on the row of their subject; tags that moved since this browser last saw them
//! are marked. Grouping, sorting and filtering are [`strata_shared::browse::rows`].

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use strata_shared::Reference;
use strata_shared::browse::listing::{TagList, parse_repository};
use strata_shared::browse::rows::{
    Remembered, SortFacts, TagRow, TagSort, filter, group, moved, sort,
};
use strata_shared::source::ImageSource;

use crate::api;
use crate::browse_load::{is_relay_list, page_owner, page_size};
use crate::components::TopBar;
use crate::endpoint::Endpoint;
use crate::format::{bytes, short_digest, utc_minutes};
use crate::tag_filler::{self, Facts, TagDigest, TagSignals};
use crate::url_state::{Key, href_with};

/// Page size when the URL gives none (`n=`), and the largest the relay passes on.
const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 10_000;
/// Pages listed without asking; then a "more" button.
const AUTO_PAGES: usize = 50;
/// Rows read at once when the list is in, before anything scrolls.
const FIRST_ROWS: usize = 30;

/// Where the listing stands.
#[derive(Clone, Debug, PartialEq)]
enum ListState {
    /// Pages are being read.
    Listing,
    /// Listed: `next` is the relay's next page when paging stopped before the end.
    Listed { next: Option<String> },
    /// The first page failed: nothing to show.
    Failed(String),
    /// A later page failed: what was listed stays.
    Stopped(String),
}

/// `/repo/*path`.
#[component]
pub(crate) fn RepositoryPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let path = Memo::new(move |_| params.read().get("path").unwrap_or_default());
    let n = Memo::new(move |_| {
        page_size(
            query.read().get(Key::PageSize.as_str()),
            DEFAULT_PAGE,
            MAX_PAGE,
        )
    });
    move || {
        match parse_repository(&path.get()) {
        Ok(reference) => view! { <RepositoryView reference n=n.get()/> }.into_any(),
        Err(e) => view! {
            <main class="page repository" data-strata-state="error">
                <TopBar/>
                <section class="panel error-panel" role="alert">
                    <p class="error" data-strata-error="page">{e.to_string()}</p>
                    <p class="hint">"A repository page is " <code>"/repo/REGISTRY/NAME"</code> ", e.g. " <a href="/repo/docker.io/library/nginx">"/repo/docker.io/library/nginx"</a> "."</p>
                </section>
            </main>
        }
        .into_any(),
    }
    }
}

#[component]
fn RepositoryView(reference: Reference, n: u32) -> impl IntoView {
    let name = reference.name();
    let endpoint =
        Endpoint::relay(&ImageSource::Registry(reference.clone())).expect("a registry endpoint");
    let signals = TagSignals::new();
    let list = RwSignal::new(ListState::Listing);
    let remembered = StoredValue::new(crate::tag_memory::load(&name));
    let query = use_query_map();
    let sort_by =
        Memo::new(move |_| TagSort::parse(query.read().get(Key::Sort.as_str()).as_deref()));
    let search = Memo::new(move |_| query.read().get(Key::Search.as_str()).unwrap_or_default());

    let rows = Memo::new(move |_| {
        let tags = signals.tags.read();
        let digests = signals.digests.read();
        let grouped = group(
            tags.iter()
                .map(|t| (t.as_str(), digests.get(t).and_then(TagDigest::digest))),
        );
        let mut rows = filter(grouped.rows, &search.get());
        let by = sort_by.get();
        if by != TagSort::Name {
            let facts = signals.facts.read();
            sort(&mut rows, by, |d| match facts.get(d) {
                Some(Facts::Ready(f)) => SortFacts {
                    size: f.size,
                    created: f.created_seconds(),
                },
                _ => SortFacts::default(),
            });
        }
        (rows, grouped.unattached)
    });

    let owner = page_owner();
    crate::page_fetches::begin(owner);
    let filler = tag_filler::start(endpoint.clone(), name.clone(), signals);
    on_cleanup(move || {
        tag_filler::stop(filler);
        crate::page_fetches::end(owner);
    });
    let first = endpoint
        .url(&format!("tags/list?n={n}"))
        .unwrap_or_default();
    spawn_local(list_pages(first, signals, list, rows));

    let page_state = move || match list.get() {
        ListState::Failed(_) => "error",
        ListState::Listing => "loading",
        _ if signals.pending.get() > 0 => "loading",
        _ => "ready",
    };
    let more = move |_| {
        if let ListState::Listed { next: Some(next) } = list.get_untracked() {
            list.set(ListState::Listing);
            spawn_local(list_pages(next, signals, list, rows));
        }
    };
    let image_base = format!("/image/{name}");
    let counts = move || {
        let tags = signals.tags.read().len();
        let read = signals
            .digests
            .read()
            .values()
            .filter(|d| d.digest().is_some())
            .count();
        format!(
            "{} · {read} read",
            crate::format::plural(tags as u64, "tag", "tags")
        )
    };
    view! {
        <main class="page repository" data-strata-state=page_state data-repository-page=name.clone()>
            <TopBar/>
            <section class="browse-header">
                <h1 class="mono">{name.clone()}</h1>
                <p class="dim">
                    <a href=format!("/registry/{}", reference.registry) data-registry-link="">{format!("all repositories of {}", reference.registry)}</a>
                    " · " <span data-tag-count="">{counts}</span>
                </p>
            </section>
            {move || match list.get() {
                ListState::Failed(message) => view! {
                    <section class="panel error-panel" role="alert">
                        <h2>"Could not list the tags"</h2>
                        <p class="error" data-strata-error="tags">{message}</p>
                    </section>
                }.into_any(),
                _ => view! {
                    <Toolbar/>
                    <section class="panel tag-table">
                        <table>
                            <thead><tr>
                                <th>"Tags"</th><th>"Digest"</th><th>"Type"</th><th>"Platforms"</th>
                                <th class="num">"Size"</th><th>"Created"</th>
                            </tr></thead>
                            <tbody>
                                <For
                                    each=move || rows.get().0
                                    key=|row| (row.tags.clone(), row.digest.clone(), row.artifacts.len())
                                    children={
                                        let image_base = image_base.clone();
                                        move |row| view! { <TagRowView row signals remembered image_base=image_base.clone()/> }
                                    }
                                />
                            </tbody>
                        </table>
                        {move || list_footer(list.get(), rows.get().0.is_empty())}
                        {move || {
                            let more = more;
                            matches!(list.get(), ListState::Listed { next: Some(_) }).then(|| view! {
                                <button class="more" data-more="" on:click=more>"List more tags"</button>
                            })
                        }}
                        {move || unattached(rows.get().1)}
                    </section>
                }.into_any(),
            }}
        </main>
    }
}

/// Lists pages from `url` on (at most [`AUTO_PAGES`] at a time), then reads the first rows.
async fn list_pages(
    mut url: String,
    signals: TagSignals,
    list: RwSignal<ListState>,
    rows: Memo<(Vec<TagRow>, Vec<String>)>,
) {
    let first_page = signals.tags.with_untracked(Vec::is_empty);
    let mut next = None;
    for page in 0..AUTO_PAGES {
        let answer = api::fetch_list_page(&url, "tag list").await;
        let read = answer.and_then(|(bytes, link)| {
            TagList::parse(&bytes)
                .map(|l| (l.tags, link))
                .map_err(|e| api::ApiError::Invalid(e.to_string()))
        });
        match read {
            Ok((tags, link)) => {
                if signals.tags.try_update(|t| t.extend(tags)).is_none() {
                    return;
                }
                next = link.filter(|l| is_relay_list(l));
            }
            Err(e) => {
                let state = if first_page && page == 0 {
                    ListState::Failed(e.to_string())
                } else {
                    ListState::Stopped(e.to_string())
                };
                let _ = list.try_set(state);
                return;
            }
        }
        match &next {
            Some(n) => url = n.clone(),
            None => break,
        }
    }
    if list.try_set(ListState::Listed { next }).is_none() {
        return;
    }
    if let Some((rows, _)) = rows.try_get_untracked() {
        tag_filler::want_now(
            rows.iter()
                .filter(|r| r.digest.is_none())
                .take(FIRST_ROWS)
                .map(|r| r.first_tag().to_owned()),
        );
    }
}

fn list_footer(state: ListState, empty: bool) -> impl IntoView {
    match state {
        ListState::Listing => Some(view! { <p class="loading">"Listing tags…"</p> }.into_any()),
        ListState::Stopped(message) => Some(
            view! { <p class="error" data-list-error="">"Listing stopped: " {message}</p> }
                .into_any(),
        ),
        ListState::Listed { .. } if empty => {
            Some(view! { <p class="dim" data-no-tags="">"No tags match."</p> }.into_any())
        }
        _ => None,
    }
}

/// Artifact tags whose subject is no row: listed once, below the rows.
fn unattached(tags: Vec<String>) -> impl IntoView {
    (!tags.is_empty()).then(|| {
        let count = tags.len();
        view! {
            <details class="unattached" data-unattached=count.to_string()>
                <summary class="dim">{crate::format::plural(count as u64, "signature, attestation or SBOM tag", "signature, attestation or SBOM tags")} " for digests not listed here"</summary>
                <ul class="plain mono">{tags.into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}</ul>
            </details>
        }
    })
}

/// Filter (a glob or a substring) and sort links.
#[component]
fn Toolbar() -> impl IntoView {
    let query = use_query_map();
    let current =
        Memo::new(move |_| TagSort::parse(query.read().get(Key::Sort.as_str()).as_deref()));
    let text = RwSignal::new(
        query
            .read_untracked()
            .get(Key::Search.as_str())
            .unwrap_or_default(),
    );
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let q = text.get_untracked();
        let q = q.trim();
        navigate(
            &href_with(&[(Key::Search, (!q.is_empty()).then_some(q))]),
            Default::default(),
        );
    };
    let link = move |by: TagSort, label: &'static str| {
        let value = by.value().unwrap_or("name");
        view! {
            <a href=move || href_with(&[(Key::Sort, by.value())]) data-sort=value class:current=move || current.get() == by>{label}</a>
        }
    };
    view! {
        <div class="toolbar browse-toolbar">
            <form class="search" on:submit=submit>
                <input class="mono" type="search" data-tag-filter="" placeholder="filter tags: text or glob (1.2*, *-alpine)"
                    prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))/>
            </form>
            <span class="dim">"sort:"</span>
            {link(TagSort::Name, "name")}
            {link(TagSort::Created, "newest")}
            {link(TagSort::Size, "largest")}
        </div>
    }
}

#[component]
fn TagRowView(
    row: TagRow,
    signals: TagSignals,
    remembered: StoredValue<Remembered>,
    image_base: String,
) -> impl IntoView {
    let node = NodeRef::<leptos::html::Tr>::new();
    node.on_load(|el| tag_filler::observe(&el));
    let first = row.first_tag().to_owned();
    let digest = row.digest.clone();
    let moved_tags: Vec<String> =
        remembered.with_value(|r| moved(&row, r).into_iter().map(str::to_owned).collect());
    let facts = {
        let digest = digest.clone();
        move || {
            digest
                .as_ref()
                .and_then(|d| signals.facts.with(|f| f.get(d).cloned()))
        }
    };
    let tag_state = {
        let first = first.clone();
        move || signals.digests.with(|d| d.get(&first).cloned())
    };
    let ready = {
        let facts = facts.clone();
        move || match facts() {
            Some(Facts::Ready(f)) => Some(f),
            _ => None,
        }
    };
    let fill = {
        let facts = facts.clone();
        move || match (tag_state(), facts()) {
            (_, Some(Facts::Ready(_))) => "ready",
            (_, Some(Facts::Failed(_))) | (Some(TagDigest::Failed(_)), _) => "failed",
            (_, Some(Facts::Loading)) | (Some(TagDigest::Resolving), _) => "reading",
            _ => "pending",
        }
    };
    let failure = {
        let facts = facts.clone();
        let first = first.clone();
        move || {
            let tag = signals.digests.with(|d| match d.get(&first) {
                Some(TagDigest::Failed(e)) => Some(e.clone()),
                _ => None,
            });
            tag.or(match facts() {
                Some(Facts::Failed(e)) => Some(e),
                _ => None,
            })
        }
    };
    let (r1, r2, r3, r4, r5) = (
        ready.clone(),
        ready.clone(),
        ready.clone(),
        ready.clone(),
        ready.clone(),
    );
    let (r6, r7, r8) = (ready.clone(), ready.clone(), ready);
    let tag_links = row
        .tags
        .iter()
        .map(|t| {
            let moved = moved_tags.contains(t);
            view! {
                <a class="tag mono" href=format!("{image_base}:{t}") class:moved=moved title=moved.then_some("this tag pointed at another digest when this browser last listed it")>{t.clone()}</a>
            }
        })
        .collect_view();
    let artifacts = row
        .artifacts
        .iter()
        .map(|(kind, tag)| view! { <span class="badge artifact" data-artifact=kind.label() title=tag.clone()>{kind.label()}</span> })
        .collect_view();
    let artifact_list = row
        .artifacts
        .iter()
        .map(|(k, _)| k.label())
        .collect::<Vec<_>>()
        .join(",");
    let digest_cell = digest.clone().map(|d| {
        let text = short_digest(&d.to_string());
        view! { <a class="mono" href=format!("{image_base}@{d}") title=d.to_string()>{text}</a> }
    });
    view! {
        <tr node_ref=node data-tag=first.clone() data-digest=digest.as_ref().map(ToString::to_string).unwrap_or_default()
            data-tags=row.tags.join(",") data-moved=(!moved_tags.is_empty()).then(|| moved_tags.join(","))
            data-artifacts=(!artifact_list.is_empty()).then_some(artifact_list)
            data-fill=fill
            data-kind=move || r1().map(|f| f.kind)
            data-platforms=move || r2().map(|f| f.platforms.join(","))
            data-size=move || r3().and_then(|f| f.size).map(|s| s.to_string())
            data-created=move || r4().and_then(|f| f.created)>
            <td class="tags">
                {tag_links}
                {(!moved_tags.is_empty()).then(|| view! { <span class="badge moved" title="moved since this browser last listed this repository">"moved"</span> })}
                {artifacts}
            </td>
            <td>{digest_cell}{move || failure().map(|e| view! { <span class="error" data-row-error="">{e}</span> })}</td>
            <td class="dim">{move || r5().map(|f| f.media_type)}</td>
            <td class="mono platforms">{move || r6().map(|f| f.platforms.join(" "))}</td>
            <td class="num">{move || r7().and_then(|f| f.size).map(bytes)}</td>
            <td class="dim">{move || r8().and_then(|f| f.created_seconds()).map(utc_minutes)}</td>
        </tr>
    }
}
