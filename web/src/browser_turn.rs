//! Giving the browser a turn: long work on the page is cut into tasks, so that it can
//! paint and handle input in between (no task over 50 ms).

use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

/// Resolves in a new task (a message to ourselves: unlike a timer, it is neither clamped
/// nor throttled), so the browser can paint and handle input in between.
pub(crate) async fn yield_to_browser() {
    let Ok(channel) = web_sys::MessageChannel::new() else {
        return;
    };
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        channel.port1().set_onmessage(Some(&resolve));
        if channel.port2().post_message(&JsValue::NULL).is_err() {
            let _ = resolve.call0(&JsValue::NULL);
        }
    });
    let _ = JsFuture::from(promise).await;
}
