use leptos::prelude::*;

/// The app's name, linking home.
#[component]
pub(crate) fn TopBar(#[prop(optional)] children: Option<Children>) -> impl IntoView {
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Strata"</a>
            {children.map(|c| c())}
        </header>
    }
}
