//! The worker's side of JavaScript: its global scope, posting to the page, the clock,
//! and JS errors as text.

use js_sys::Array;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::DedicatedWorkerGlobalScope;

use super::protocol::{WorkerReport, report_message};

/// The worker's global scope.
pub(crate) fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Posts a report to the page (`split` tags a half of a split layer).
pub(crate) fn post(report: &WorkerReport, split: Option<&str>) {
    let (msg, transfer) = report_message(report, split);
    post_with(&msg, &transfer);
}

/// Posts a message to the page, transferring `transfer`.
pub(crate) fn post_with(msg: &JsValue, transfer: &Array) {
    let _ = scope().post_message_with_transfer(msg, transfer);
}

/// Bytes of this worker's wasm memory (it only grows).
pub(crate) fn wasm_memory_bytes() -> u64 {
    wasm_bindgen::memory()
        .unchecked_into::<js_sys::WebAssembly::Memory>()
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length() as u64
}

/// Milliseconds on the worker's clock.
pub(crate) fn now_ms() -> f64 {
    scope().performance().map(|p| p.now()).unwrap_or(0.0)
}

/// A thrown JS value as text.
pub(crate) fn js_error(v: JsValue) -> String {
    v.as_string()
        .or_else(|| js_sys::JSON::stringify(&v).ok().and_then(|s| s.as_string()))
        .unwrap_or_else(|| "unknown error".into())
}
