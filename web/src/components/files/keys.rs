//! The Files tab's keyboard: `/` search, arrows move between rows (Enter opens),
//! Backspace goes up, `[` and `]` step through the merged view and the layers.

/// Keyboard: `/` search, arrows move between rows (Enter opens), Backspace goes up,
/// `[` and `]` step through the merged view and the layers.
pub(super) fn files_keydown(ev: leptos::ev::KeyboardEvent) {
    let in_input = ev
        .target()
        .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(t).ok())
        .is_some();
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let focus = |selector: &str| {
        if let Some(el) = document.query_selector(selector).ok().flatten()
            && let Ok(el) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el)
        {
            let _ = el.focus();
        }
    };
    match ev.key().as_str() {
        "/" if !in_input => {
            ev.prevent_default();
            focus("#file-search");
        }
        "Backspace" if !in_input => {
            ev.prevent_default();
            if let Some(up) = document.query_selector("[data-up]").ok().flatten()
                && let Ok(a) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(up)
            {
                a.click();
            }
        }
        "[" | "]" if !in_input => {
            ev.prevent_default();
            let Ok(links) = document.query_selector_all(".layer-list li > a") else {
                return;
            };
            let current = (0..links.length()).find(|&i| {
                links
                    .item(i)
                    .and_then(|a| a.parent_element())
                    .is_some_and(|li| li.class_list().contains("current"))
            });
            let next = match (ev.key().as_str(), current) {
                ("]", Some(i)) => (i + 1).min(links.length().saturating_sub(1)),
                ("[", Some(i)) => i.saturating_sub(1),
                _ => 0,
            };
            if let Some(a) = links
                .item(next)
                .and_then(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(n).ok())
            {
                a.click();
            }
        }
        "ArrowDown" | "ArrowUp" if !in_input => {
            ev.prevent_default();
            let Ok(links) = document.query_selector_all("[data-listing] .name a") else {
                return;
            };
            let active = document.active_element();
            let mut current = None;
            for i in 0..links.length() {
                if let (Some(node), Some(active)) = (links.item(i), active.as_ref())
                    && node.is_same_node(Some(active))
                {
                    current = Some(i);
                }
            }
            let next = match (ev.key().as_str(), current) {
                ("ArrowDown", Some(i)) => (i + 1).min(links.length().saturating_sub(1)),
                ("ArrowUp", Some(i)) => i.saturating_sub(1),
                _ => 0,
            };
            if let Some(el) = links
                .item(next)
                .and_then(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(n).ok())
            {
                let _ = el.focus();
            }
        }
        _ => {}
    }
}
