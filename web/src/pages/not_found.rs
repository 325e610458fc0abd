use leptos::prelude::*;

/// Unknown app route.
#[component]
pub(crate) fn NotFound() -> impl IntoView {
    view! {
        <main class="page" data-strata-state="error">
            <p class="error">"No such page. " <a href="/">"Inspect an image"</a></p>
        </main>
    }
}
