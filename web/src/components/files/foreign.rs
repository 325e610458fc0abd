//! Executables and libraries built for another CPU than the image's platform (an arm64
//! image that ships x86-64 binaries), from the ELF header each layer's index recorded.

use std::sync::Arc;

use leptos::prelude::*;
use strata_shared::compare::arch::foreign_binaries;
use strata_shared::tree::MergedTree;

use crate::format::{bytes, plural};
use crate::url_state::{Key, href_with};

/// Paths listed at once; the rest are counted.
const SHOWN: usize = 20;

/// A warning above the listing when the image holds foreign executables; nothing when it
/// holds none (or its architecture has no known ELF machine).
#[component]
pub(super) fn ForeignBinaries(tree: Arc<MergedTree>, architecture: String) -> impl IntoView {
    let _span = crate::user_timing::span("strata:foreign-binaries");
    let found = foreign_binaries(&tree, &architecture).unwrap_or_default();
    // Code the platform's CPUs run anyway (i386 on amd64) is listed, but not warned about.
    let (compat, foreign): (Vec<_>, Vec<_>) = found.into_iter().partition(|f| f.compat);
    let warn = !foreign.is_empty();
    let listed: Vec<_> = foreign.into_iter().chain(compat).collect();
    if listed.is_empty() {
        return None;
    }
    let count = listed.len();
    let rows = listed
        .iter()
        .take(SHOWN)
        .map(|f| {
            let abs = format!("/{}", f.path);
            let href = href_with(&[
                (Key::Path, Some(&abs)),
                (Key::Layer, None),
                (Key::Search, None),
            ]);
            view! {
                <li data-foreign-binary=abs.clone() data-foreign-compat=f.compat.then_some("")>
                    <a class="mono" href=href>{abs.clone()}</a>
                    <span class="dim">" · " {f.elf.describe()} " · " {bytes(f.size)}
                        {f.compat.then_some(" · runs on this CPU in compatibility mode")}</span>
                </li>
            }
        })
        .collect_view();
    Some(view! {
        <details class="foreign-binaries" class:error-panel=warn class:panel=true
            data-foreign-binaries=count.to_string() open=warn>
            <summary>
                {plural(count as u64, "executable or library is", "executables or libraries are")}
                " built for another CPU than this " <code>{architecture.clone()}</code> " image"
            </summary>
            <ul>{rows}</ul>
            {(count > SHOWN).then(|| view! { <p class="dim small">"and " {count - SHOWN} " more"</p> })}
        </details>
    })
}
