use leptos::prelude::*;

/// A failure, said plainly, with what to try.
#[component]
pub(crate) fn ErrorView(message: String) -> impl IntoView {
    view! {
        <section class="panel error-panel" role="alert">
            <h2>"Could not show this image"</h2>
            <p class="error" data-strata-error="page">{message}</p>
            <p class="hint">"Check the reference, or " <a href="/">"try another image"</a> "."</p>
        </section>
    }
}
