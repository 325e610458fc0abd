use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use strata_shared::paste;
use strata_shared::source::ImageSource;

/// What the last submitted text was reduced to, so that the page it opens can say so.
#[derive(Clone, Debug, PartialEq)]
struct Took {
    /// The app path opened.
    page: String,
    /// The reference found in the text.
    reference: String,
    /// The text as pasted (trimmed).
    from: String,
}

thread_local! {
    /// The note of the last submit; the form of the page it opened shows it.
    static TOOK: ArcRwSignal<Option<Took>> = ArcRwSignal::new(None);
}

/// The reference input. It takes what people copy (`docker pull X`, `FROM X AS y`, a
/// registry's web page, a Strata link: see [`paste`]) and says what it took; the
/// reference is then parsed and normalized like the docker CLI before any request, and a
/// bad one says what is wrong and goes nowhere.
#[component]
pub(crate) fn ReferenceForm(initial: String, #[prop(optional)] autofocus: bool) -> impl IntoView {
    let text = RwSignal::new(initial);
    let error = RwSignal::new(None::<String>);
    let took = TOOK.with(Clone::clone);
    let navigate = use_navigate();
    let took_for_submit = took.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = text.get_untracked();
        let input = input.trim();
        let pasted = paste::extract(input);
        let rewritten = pasted.reference != input;
        match ImageSource::parse(&pasted.reference) {
            Ok(source) => {
                error.set(None);
                let query = pasted.query.map(|q| format!("?{q}")).unwrap_or_default();
                let page = format!("/image/{source}");
                took_for_submit.set(rewritten.then(|| Took {
                    page: page.clone(),
                    reference: pasted.reference.clone(),
                    from: input.to_owned(),
                }));
                text.set(pasted.reference);
                navigate(&format!("{page}{query}"), Default::default());
            }
            Err(e) if rewritten => error.set(Some(format!(
                "Took {} from {input:?}, which is not a reference: {e}",
                pasted.reference
            ))),
            Err(e) => error.set(Some(e.to_string())),
        }
    };
    let location = use_location();
    let note = move || {
        let took = took.get()?;
        (location.pathname.get() == took.page).then(|| {
            view! {
                <p class="took dim" data-paste-took=took.reference.clone()>
                    "Took " <code class="mono">{took.reference.clone()}</code>
                    " from " <code class="mono">{took.from.clone()}</code>
                </p>
            }
        })
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
                placeholder="nginx:1.27 · docker pull … · FROM … · a Docker Hub or Quay page · oci:demo · docker-daemon:app:dev"
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
            />
            <button type="submit">"Inspect"</button>
            {move || error.get().map(|e| view! { <p class="error" data-strata-error="reference">{e}</p> })}
            {note}
        </form>
    }
}
