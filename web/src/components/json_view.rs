//! A document's JSON as the registry served it, or pretty-printed with every digest it
//! names linked to what the page shows of that object (a layer's changes, a platform's
//! manifest, the config, an attestation).

use std::collections::HashMap;
use std::sync::Arc;

use leptos::prelude::*;

/// Where each digest the page knows leads.
pub(crate) type DigestLinks = Arc<HashMap<String, String>>;

/// `sha256:` and 64 lowercase hex digits.
const DIGEST_LEN: usize = "sha256:".len() + 64;

/// A collapsed "Raw {what}" with a pretty/raw switch (pretty first).
#[component]
pub(crate) fn JsonDocument(what: &'static str, raw: String, links: DigestLinks) -> impl IntoView {
    let pretty_text = serde_json::from_str::<serde_json::Value>(&raw)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok());
    let pretty = RwSignal::new(pretty_text.is_some());
    let body = move || match (&pretty_text, pretty.get()) {
        (Some(text), true) => linked(text, &links).into_any(),
        _ => view! { <pre class="mono raw" data-json-view="raw">{raw.clone()}</pre> }.into_any(),
    };
    view! {
        <details class="json-document" data-json-document=what>
            <summary>{format!("Raw {what}")}</summary>
            <div class="json-switch" role="group" aria-label="JSON view">
                <button class="link" aria-pressed=move || pretty.get().to_string()
                    on:click=move |_| pretty.set(true) data-json-mode="pretty">"pretty"</button>
                " · "
                <button class="link" aria-pressed=move || (!pretty.get()).to_string()
                    on:click=move |_| pretty.set(false) data-json-mode="raw">"as served"</button>
            </div>
            {body}
        </details>
    }
}

/// The text with each known digest made a link.
fn linked(text: &str, links: &HashMap<String, String>) -> impl IntoView + use<> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("sha256:") {
        let candidate = rest.get(at..at + DIGEST_LEN);
        match candidate.and_then(|d| links.get(d).map(|href| (d, href))) {
            Some((digest, href)) => {
                parts.push(rest[..at].to_owned().into_any());
                parts.push(
                    view! { <a href=href.clone() data-json-digest=digest.to_owned()>{digest.to_owned()}</a> }
                        .into_any(),
                );
                rest = &rest[at + DIGEST_LEN..];
            }
            None => {
                let end = at + "sha256:".len();
                parts.push(rest[..end].to_owned().into_any());
                rest = &rest[end..];
            }
        }
    }
    parts.push(rest.to_owned().into_any());
    view! { <pre class="mono raw" data-json-view="pretty">{parts}</pre> }
}
