//! What the page's start script began before the app's code arrived.
//!
//! A pinned revisit spends most of its time waiting: for the app's wasm, then for its
//! documents and the Cache Storage entries of its layers. The inline script at the top
//! of `index.html` reads the link's note (see [`crate::early_reads`]) and starts those
//! requests and reads at once, while the wasm is still loading; it leaves them on
//! `window.strataEarly`, which [`take`] hands over (once) to the load of the same link.
//! Nothing it returns is trusted: each document is verified as always, and each entry
//! is checked before use.

use js_sys::{Array, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::early_documents::Document;

/// Where the start script leaves what it started.
const GLOBAL: &str = "strataEarly";

/// The requests and reads the start script began for one link.
pub(crate) struct BootReads {
    /// Each noted document with its pending response.
    pub documents: Vec<(Document, Promise)>,
    /// Each noted verified-cache key with the pending read of its body.
    pub layers: Vec<(String, Promise)>,
}

/// What the start script began for `link`, once; `None` when it began nothing for it.
pub(crate) fn take(link: &str) -> Option<BootReads> {
    let window: JsValue = web_sys::window()?.into();
    let found = Reflect::get(&window, &GLOBAL.into()).ok()?;
    if found.is_undefined() || found.is_null() {
        return None;
    }
    let _ = Reflect::delete_property(window.unchecked_ref::<js_sys::Object>(), &GLOBAL.into());
    if field(&found, "link").as_string().as_deref() != Some(link) {
        return None;
    }
    let documents = pairs(&field(&found, "documents"))
        .filter_map(|(document, pending)| {
            let url = field(&document, "url").as_string()?;
            let accept = field(&document, "accept").as_string();
            Some((Document { url, accept }, pending))
        })
        .collect();
    let layers = pairs(&field(&found, "layers"))
        .filter_map(|(key, pending)| Some((key.as_string()?, pending)))
        .collect();
    Some(BootReads { documents, layers })
}

fn field(object: &JsValue, name: &str) -> JsValue {
    Reflect::get(object, &name.into()).unwrap_or(JsValue::UNDEFINED)
}

/// The `[value, promise]` pairs of an array (anything else is skipped).
fn pairs(list: &JsValue) -> impl Iterator<Item = (JsValue, Promise)> {
    let list: Array = list.dyn_ref::<Array>().cloned().unwrap_or_default();
    list.into_iter().filter_map(|pair| {
        let pair = pair.dyn_into::<Array>().ok()?;
        let pending = pair.get(1).dyn_into::<Promise>().ok()?;
        Some((pair.get(0), pending))
    })
}
