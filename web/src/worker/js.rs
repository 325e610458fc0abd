//! The worker's side of JavaScript: its global scope, posting to the page, the clock,
//! and JS errors as text.

use std::cell::RefCell;

use js_sys::Array;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
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

/// A single waiter's wake-up call: the waiter awaits [`Wakeup::wait`], a callback (a
/// message, a stream's pull) calls [`Wakeup::wake`].
#[derive(Default)]
pub(crate) struct Wakeup(RefCell<Option<js_sys::Function>>);

impl Wakeup {
    /// Waits until woken, or for at most `timeout_ms` when given.
    pub(crate) async fn wait(&self, timeout_ms: Option<i32>) {
        let promise = js_sys::Promise::new(&mut |resolve, _reject| {
            if let Some(ms) = timeout_ms {
                let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
            }
            *self.0.borrow_mut() = Some(resolve);
        });
        let _ = JsFuture::from(promise).await;
    }

    /// Wakes the waiter, if one waits.
    pub(crate) fn wake(&self) {
        if let Some(wake) = self.0.borrow_mut().take() {
            let _ = wake.call0(&JsValue::NULL);
        }
    }
}
