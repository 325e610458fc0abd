//! `/registry/{host}`: a registry's repositories, from its catalog (`_catalog?n=…`,
//! following the relay's `Link`), each linking to its repository page. Most public
//! registries — Docker Hub among them — refuse the catalog: the page says so, and offers
//! to open a repository by name.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use strata_shared::browse::listing::Catalog;

use crate::api::{self, ApiError};
use crate::browse_load::{is_relay_list, page_owner, page_size};
use crate::components::TopBar;
use crate::url_state::Key;

const DEFAULT_PAGE: u32 = 100;
/// The relay's largest catalog page.
const MAX_PAGE: u32 = 1000;
/// Pages listed without asking; then a "more" button.
const AUTO_PAGES: usize = 20;

#[derive(Clone, Debug, PartialEq)]
enum CatalogState {
    Listing,
    Listed {
        next: Option<String>,
    },
    /// The registry keeps its catalog to itself: what it answered.
    Refused(String),
    /// Anything else that went wrong on the first page.
    Failed(String),
    /// A later page failed: what was listed stays.
    Stopped(String),
}

/// `/registry/:host`.
#[component]
pub(crate) fn RegistryPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let host = Memo::new(move |_| params.read().get("host").unwrap_or_default());
    let n = Memo::new(move |_| {
        page_size(
            query.read().get(Key::PageSize.as_str()),
            DEFAULT_PAGE,
            MAX_PAGE,
        )
    });
    move || view! { <RegistryView host=host.get() n=n.get()/> }
}

#[component]
fn RegistryView(host: String, n: u32) -> impl IntoView {
    let repositories = RwSignal::new(Vec::<String>::new());
    let state = RwSignal::new(CatalogState::Listing);
    let owner = page_owner();
    crate::page_fetches::begin(owner);
    on_cleanup(move || crate::page_fetches::end(owner));
    let first = format!("/api/registry/{host}/v2/_catalog?n={n}");
    spawn_local(list_pages(first, repositories, state));

    let page_state = move || match state.get() {
        CatalogState::Listing => "loading",
        CatalogState::Refused(_) | CatalogState::Failed(_) => "error",
        _ => "ready",
    };
    let more = move |_| {
        if let CatalogState::Listed { next: Some(next) } = state.get_untracked() {
            state.set(CatalogState::Listing);
            spawn_local(list_pages(next, repositories, state));
        }
    };
    let rows = {
        let host = host.clone();
        move || {
            repositories
                .get()
                .into_iter()
                .map(|name| {
                    view! {
                        <li data-repository=name.clone()>
                            <a class="mono" href=format!("/repo/{host}/{name}")>{name.clone()}</a>
                        </li>
                    }
                })
                .collect_view()
        }
    };
    let body = {
        let host = host.clone();
        move || {
            match state.get() {
            CatalogState::Refused(answer) => view! {
                <section class="panel error-panel" role="alert">
                    <h2>"This registry does not list its repositories"</h2>
                    <p data-strata-error="catalog-refused">
                        {format!("{host} refused to list its catalog ({answer}). Most public registries, Docker Hub among them, keep it private: a repository can still be opened by its name.")}
                    </p>
                    <OpenRepository host=host.clone()/>
                </section>
            }.into_any(),
            CatalogState::Failed(message) => view! {
                <section class="panel error-panel" role="alert">
                    <h2>"Could not list the repositories"</h2>
                    <p class="error" data-strata-error="catalog">{message}</p>
                    <OpenRepository host=host.clone()/>
                </section>
            }.into_any(),
            other => view! {
                <section class="panel repository-list">
                    <ul class="plain">{rows.clone()}</ul>
                    {match other {
                        CatalogState::Listing => Some(view! { <p class="loading">"Listing repositories…"</p> }.into_any()),
                        CatalogState::Stopped(m) => Some(view! { <p class="error" data-list-error="">"Listing stopped: " {m}</p> }.into_any()),
                        CatalogState::Listed { next: Some(_) } => Some(view! {
                            <button class="more" data-more="" on:click=more>"List more repositories"</button>
                        }.into_any()),
                        _ => None,
                    }}
                </section>
            }.into_any(),
        }
        }
    };
    let count = move || {
        crate::format::plural(
            repositories.read().len() as u64,
            "repository",
            "repositories",
        )
    };
    view! {
        <main class="page registry" data-strata-state=page_state data-registry-page=host.clone()>
            <TopBar/>
            <section class="browse-header">
                <h1 class="mono">{host.clone()}</h1>
                <p class="dim" data-repository-count="">{count}</p>
            </section>
            {body}
        </main>
    }
}

/// A name to open on this registry, for when its catalog cannot be listed.
#[component]
fn OpenRepository(host: String) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = text.get_untracked();
        let name = name.trim().trim_matches('/');
        if !name.is_empty() {
            navigate(&format!("/repo/{host}/{name}"), Default::default());
        }
    };
    view! {
        <form class="reference-form open-repository" on:submit=submit>
            <input class="mono" data-open-repository="" placeholder="repository name, e.g. library/nginx"
                prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))/>
            <button type="submit">"Open"</button>
        </form>
    }
}

/// Lists catalog pages from `url` on, at most [`AUTO_PAGES`] at a time.
async fn list_pages(
    mut url: String,
    repositories: RwSignal<Vec<String>>,
    state: RwSignal<CatalogState>,
) {
    let first_page = repositories.with_untracked(Vec::is_empty);
    let mut next = None;
    for page in 0..AUTO_PAGES {
        let read = api::fetch_list_page(&url, "catalog")
            .await
            .and_then(|(bytes, link)| {
                Catalog::parse(&bytes)
                    .map(|c| (c.repositories, link))
                    .map_err(|e| ApiError::Invalid(e.to_string()))
            });
        match read {
            Ok((names, link)) => {
                if repositories.try_update(|r| r.extend(names)).is_none() {
                    return;
                }
                next = link.filter(|l| is_relay_list(l));
            }
            Err(e) => {
                let _ = state.try_set(if first_page && page == 0 {
                    refusal(&e)
                } else {
                    CatalogState::Stopped(e.to_string())
                });
                return;
            }
        }
        match &next {
            Some(n) => url = n.clone(),
            None => break,
        }
    }
    let _ = state.try_set(CatalogState::Listed { next });
}

/// A registry's own "no" to the catalog (401 or 403 whatever the token, 404, or
/// `UNSUPPORTED`) is a refusal; the relay's errors and the rest are failures.
fn refusal(error: &ApiError) -> CatalogState {
    match error {
        ApiError::AuthRequired { detail, .. } => {
            CatalogState::Refused(format!("it answered 401 or 403: {detail}"))
        }
        ApiError::NotFound { detail, .. } => {
            CatalogState::Refused(format!("it answered 404: {detail}"))
        }
        ApiError::Registry { status, detail }
            if detail.contains("UNSUPPORTED") || *status == 405 =>
        {
            CatalogState::Refused(format!("it answered {status}: {detail}"))
        }
        other => CatalogState::Failed(other.to_string()),
    }
}
