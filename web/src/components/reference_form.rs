use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use strata_shared::source::ImageSource;

/// The reference input: parsed and normalized like the docker CLI before any request; a bad
/// reference says what is wrong and goes nowhere.
#[component]
pub(crate) fn ReferenceForm(initial: String, #[prop(optional)] autofocus: bool) -> impl IntoView {
    let text = RwSignal::new(initial);
    let error = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = text.get_untracked();
        match ImageSource::parse(input.trim()) {
            Ok(reference) => {
                error.set(None);
                navigate(&format!("/image/{reference}"), Default::default());
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };
    view! {
        <form class="reference-form" id="reference-form" on:submit=submit>
            <input
                id="reference-input"
                class="mono"
                type="text"
                spellcheck="false"
                autocomplete="off"
                autofocus=autofocus
                aria-label="Image reference"
                placeholder="nginx:1.27 · oci:demo · docker-daemon:app:dev · 127.0.0.1:5000/team/api:dev"
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
            />
            <button type="submit">"Inspect"</button>
            {move || error.get().map(|e| view! { <p class="error" data-strata-error="reference">{e}</p> })}
        </form>
    }
}
