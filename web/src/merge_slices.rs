//! Applying layers to a tree on the page a slice of entries at a time, yielding to the
//! browser between slices: a 100k-entry layer takes hundreds of milliseconds, more than
//! the 50 ms the page allows any task.

use std::sync::{Arc, LazyLock};

use strata_shared::layer::LayerIndex;
use strata_shared::tree::TreeBuilder;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::merged_tree::{LayerSlot, now_ms};

/// Entries applied between looks at the clock (about a millisecond's work).
const SLICE_ENTRIES: usize = 1024;
/// Main-thread milliseconds of merging before the browser gets a turn.
const TURN_MS: f64 = 12.0;

pub(crate) static EMPTY: LazyLock<Arc<LayerIndex>> = LazyLock::new(Arc::default);

/// What a slot contributes: its index (empty when unknown) and its history step (none
/// for a failed layer, whose step cannot be trusted to have run).
pub(crate) fn contribution(
    slot: &LayerSlot,
    step: Option<usize>,
) -> (Arc<LayerIndex>, Option<u32>) {
    let step = step.map(|s| s as u32);
    match slot {
        LayerSlot::Indexed(index) | LayerSlot::Listed(index) => (index.clone(), step),
        LayerSlot::Failed => (EMPTY.clone(), None),
        LayerSlot::Pending | LayerSlot::NotFetched => (EMPTY.clone(), step),
    }
}

/// Applies one layer a slice at a time, giving the browser its turns.
pub(crate) async fn apply(
    builder: &mut TreeBuilder,
    index: &LayerIndex,
    step: Option<u32>,
    turn: &mut Turn,
) {
    let mut application = builder.begin(step);
    while !builder.advance(&mut application, index, SLICE_ENTRIES) {
        turn.maybe_yield().await;
    }
    turn.maybe_yield().await;
}

/// The main thread's time spent merging, and when to let the browser run.
pub(crate) struct Turn {
    started: f64,
    busy: f64,
}

impl Turn {
    pub(crate) fn start() -> Turn {
        Turn {
            started: now_ms(),
            busy: 0.0,
        }
    }

    /// Milliseconds of main-thread work so far.
    pub(crate) fn busy_ms(&self) -> f64 {
        self.busy + (now_ms() - self.started)
    }

    pub(crate) async fn maybe_yield(&mut self) {
        let ran = now_ms() - self.started;
        if ran < TURN_MS {
            return;
        }
        self.busy += ran;
        yield_to_browser().await;
        self.started = now_ms();
    }
}

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
