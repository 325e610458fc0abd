//! Sharing what is on screen: a link to this view pinned by digest (tab, path, layer and
//! platform kept), a copy button that says it copied, and a document title that names
//! the image and the path (what a bookmark or a tab strip shows).

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_location, use_query_map};
use wasm_bindgen::JsCast;

use crate::format::short_digest;
use crate::url_state::{Key, Tab, UrlState, ViewState};

/// The document's title off the image page (as in `index.html`).
const APP_TITLE: &str = "Strata — container image inspector";
/// How long a copy button says "copied".
const COPIED_MS: u64 = 2000;

/// "link to this view" and its copy button; keeps the document title in step.
#[component]
pub(crate) fn ShareView(
    /// The image's pinned app path (`/image/{name}@{digest}`), without a query.
    base_path: String,
    /// The image's name as the page shows it.
    name: String,
    /// The pinned top-level digest.
    pinned: String,
    /// The platform shown, for an index.
    platform: Option<String>,
) -> impl IntoView {
    let location = use_location();
    let share = Memo::new(move |_| {
        let query = location.search.get();
        let view =
            UrlState::from_parts(&base_path, &query).with(&[(Key::Platform, platform.as_deref())]);
        let origin = web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default();
        format!("{origin}{view}")
    });

    let query = use_query_map();
    let title_name = format!("{}@{}", familiar(&name), short_digest(&pinned));
    Effect::new(move |_| {
        let state = ViewState::from_map(&query.read());
        let path = if state.tab == Tab::Files && !state.path.is_empty() {
            format!(" /{}", state.path)
        } else {
            String::new()
        };
        set_title(&format!("{title_name}{path} — Strata"));
    });
    on_cleanup(|| set_title(APP_TITLE));

    view! {
        <span class="share">
            <a href=move || share.get() data-share-link=move || share.get() title="A link to this view, pinned by digest">
                "link to this view"
            </a>
            " "
            <CopyButton text=Signal::derive(move || share.get()) what="the link to this view" share=true/>
        </span>
    }
}

/// A button that copies `text` and says "copied" for a moment (or that it could not).
#[component]
pub(crate) fn CopyButton(
    text: Signal<String>,
    /// What is copied, for the tooltip.
    what: &'static str,
    /// Marks the share link's button (`data-copy-share`).
    #[prop(optional)]
    share: bool,
) -> impl IntoView {
    // Which click the label answers; a later click's timer does not clear an earlier one.
    let clicks = RwSignal::new(0u32);
    let outcome = RwSignal::new(None::<bool>);
    let click = move |_| {
        let value = text.get_untracked();
        let this = clicks.get_untracked() + 1;
        clicks.set(this);
        spawn_local(async move {
            let ok = write_clipboard(&value).await || copy_with_selection(&value);
            let _ = outcome.try_set(Some(ok));
            set_timeout(
                move || {
                    if clicks.try_get_untracked() == Some(this) {
                        let _ = outcome.try_set(None);
                    }
                },
                std::time::Duration::from_millis(COPIED_MS),
            );
        });
    };
    let label = move || match outcome.get() {
        Some(true) => "copied",
        Some(false) => "copy failed: select the text",
        None => "copy",
    };
    view! {
        <button class="copy" title=format!("Copy {what}") on:click=click
            data-copy-share=share.then_some("") aria-live="polite">{label}</button>
    }
}

/// The asynchronous clipboard (needs a secure context and the page focused).
async fn write_clipboard(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let promise = window.navigator().clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}

/// The older way, where the clipboard API is refused: a selected, hidden text area.
fn copy_with_selection(text: &str) -> bool {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return false;
    };
    let Some(area) = document
        .create_element("textarea")
        .ok()
        .and_then(|e| e.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
    else {
        return false;
    };
    area.set_value(text);
    let _ = area.set_attribute("style", "position:fixed;top:-100px;opacity:0");
    let Some(body) = document.body() else {
        return false;
    };
    let _ = body.append_child(&area);
    area.select();
    let ok = document
        .dyn_ref::<web_sys::HtmlDocument>()
        .and_then(|d| d.exec_command("copy").ok())
        .unwrap_or(false);
    area.remove();
    ok
}

fn set_title(title: &str) {
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        document.set_title(title);
    }
}

/// A Docker Hub name as people write it: `docker.io/library/nginx` → `nginx`.
fn familiar(name: &str) -> &str {
    name.strip_prefix("docker.io/library/")
        .filter(|n| !n.contains('/'))
        .or_else(|| name.strip_prefix("docker.io/"))
        .unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn docker_hub_names_read_as_people_write_them() {
        assert_eq!(familiar("docker.io/library/nginx"), "nginx");
        assert_eq!(familiar("docker.io/grafana/grafana"), "grafana/grafana");
        assert_eq!(
            familiar("127.0.0.1:5000/team/app"),
            "127.0.0.1:5000/team/app"
        );
        assert_eq!(familiar("oci:demo"), "oci:demo");
    }
}
