//! A Cache Storage write fed with the chunks the pipeline reads, as it reads them, with
//! back-pressure in bytes.
//!
//! Caching a clone of the response (`Response.clone()` tees its body) lets the faster
//! branch pull the whole blob from the network while the pipeline's branch queues every
//! chunk it has not consumed yet: the whole blob in memory. Fed from the reader, the write
//! can only follow the pipeline. Its queue is counted in bytes, not chunks: fetch hands a
//! slow reader whatever its data pipe holds, so a chunk can be a megabyte, and a bound in
//! chunks let hundreds of MiB wait for the disk on a big layer. The reader waits
//! ([`CacheFeed::ready`]) while more than [`MAX_QUEUED_BYTES`] are queued, but the cache
//! may only cost the first visit so much: on two cores the browser's storage work
//! competes with both halves of a split layer, and a write that would make the pipeline
//! wait longer than [`STALL_SHARE`] of its time is given up (the layer is still verified;
//! its blob is only not kept).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    ByteLengthQueuingStrategy, Cache, QueuingStrategy, QueuingStrategyInit, ReadableStream,
    ReadableStreamDefaultController, Response,
};

use super::js::{Wakeup, now_ms};

/// The queue the cache write is asked to keep (its high-water mark).
const HIGH_WATER_BYTES: f64 = 16.0 * 1024.0 * 1024.0;

/// Queued bytes above which the reader waits for the write to catch up.
const MAX_QUEUED_BYTES: f64 = 32.0 * 1024.0 * 1024.0;

/// The share of the time since the write started that the reader may spend waiting for it.
const STALL_SHARE: f64 = 0.1;

/// Waiting always allowed, so that a small blob's write is not given up for a hiccup.
const STALL_GRACE_MS: f64 = 500.0;

/// How much longer a reader that has waited `stalled_ms` in all may wait for a write
/// started `age_ms` ago, or `None` when the write has had its share.
fn stall_allowance(age_ms: f64, stalled_ms: f64) -> Option<f64> {
    let allowed = STALL_GRACE_MS.max(age_ms * STALL_SHARE);
    (stalled_ms < allowed).then_some(allowed - stalled_ms)
}

/// What the stream's callbacks share with the feed.
#[derive(Default)]
struct Signals {
    /// Ends the reader's wait: the stream pulled (its queue fell below the mark) or was
    /// cancelled.
    pulled: Wakeup,
    cancelled: Cell<bool>,
}

pub(crate) struct CacheFeed {
    controller: ReadableStreamDefaultController,
    started_ms: f64,
    stalled_ms: Cell<f64>,
    signals: Rc<Signals>,
    put: RefCell<Option<JsFuture>>,
    state: Cell<FeedState>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FeedState {
    Open,
    Closed,
    Abandoned,
}

impl CacheFeed {
    /// Starts the write of `key`, or `None` when the browser refuses to.
    pub(crate) fn start(cache: &Cache, key: &str) -> Option<CacheFeed> {
        let controller: Rc<RefCell<Option<ReadableStreamDefaultController>>> = Rc::default();
        let slot = controller.clone();
        let start = Closure::once_into_js(move |c: ReadableStreamDefaultController| {
            *slot.borrow_mut() = Some(c);
        });
        let signals = Rc::new(Signals::default());
        let on_pull = Rc::clone(&signals);
        let pull = Closure::<dyn FnMut()>::new(move || on_pull.pulled.wake()).into_js_value();
        let on_cancel = Rc::clone(&signals);
        let cancel = Closure::<dyn FnMut()>::new(move || {
            on_cancel.cancelled.set(true);
            on_cancel.pulled.wake();
        })
        .into_js_value();
        let source = js_sys::Object::new();
        for (name, callback) in [("start", &start), ("pull", &pull), ("cancel", &cancel)] {
            js_sys::Reflect::set(&source, &name.into(), callback).ok()?;
        }
        let strategy: QueuingStrategy =
            ByteLengthQueuingStrategy::new(&QueuingStrategyInit::new(HIGH_WATER_BYTES))
                .ok()?
                .unchecked_into();
        let stream =
            ReadableStream::new_with_underlying_source_and_strategy(&source, &strategy).ok()?;
        // `start` runs inside the constructor.
        let controller = controller.borrow_mut().take()?;
        let body = Response::new_with_opt_readable_stream(Some(&stream)).ok()?;
        let put = JsFuture::from(cache.put_with_str(key, &body));
        Some(CacheFeed {
            controller,
            started_ms: now_ms(),
            stalled_ms: Cell::new(0.0),
            signals,
            put: RefCell::new(Some(put)),
            state: Cell::new(FeedState::Open),
        })
    }

    fn queued_bytes(&self) -> f64 {
        HIGH_WATER_BYTES - self.controller.desired_size().unwrap_or(HIGH_WATER_BYTES)
    }

    /// Waits while the write is more than [`MAX_QUEUED_BYTES`] behind. A write that would
    /// take more than its share of the time is given up.
    pub(crate) async fn ready(&self) {
        let started = now_ms();
        while self.state.get() == FeedState::Open && self.queued_bytes() > MAX_QUEUED_BYTES {
            if self.signals.cancelled.get() {
                self.state.set(FeedState::Abandoned);
                break;
            }
            let now = now_ms();
            let stalled = self.stalled_ms.get() + (now - started);
            let Some(remaining) = stall_allowance(now - self.started_ms, stalled) else {
                self.abandon();
                break;
            };
            let remaining = remaining.ceil() as i32 + 1;
            self.signals.pulled.wait(Some(remaining)).await;
        }
        self.stalled_ms
            .set(self.stalled_ms.get() + (now_ms() - started));
    }

    /// Milliseconds the reader has waited for this write in all.
    pub(crate) fn stalled_ms(&self) -> f64 {
        self.stalled_ms.get()
    }

    /// Writes one chunk (the reader waited for [`CacheFeed::ready`] first).
    pub(crate) fn write(&self, chunk: &JsValue) {
        if self.state.get() != FeedState::Open {
            return;
        }
        if self.signals.cancelled.get() || self.controller.enqueue_with_chunk(chunk).is_err() {
            self.state.set(FeedState::Abandoned);
        }
    }

    /// The blob has been read to its end.
    pub(crate) fn close(&self) {
        if self.state.get() == FeedState::Open {
            let _ = self.controller.close();
            self.state.set(FeedState::Closed);
        }
    }

    fn abandon(&self) {
        if self.state.get() == FeedState::Open {
            self.controller
                .error_with_e(&JsValue::from_str("the cache write fell behind"));
        }
        self.state.set(FeedState::Abandoned);
    }

    /// Ends the write (abandoned unless the blob was read whole and `keep`); whether the
    /// cache now holds it.
    pub(crate) async fn finish(&self, keep: bool) -> bool {
        if !keep || self.state.get() != FeedState::Closed {
            self.abandon();
        }
        let put = self.put.borrow_mut().take();
        let stored = match put {
            Some(put) => put.await.is_ok(),
            None => false,
        };
        stored && self.state.get() == FeedState::Closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn a_young_write_gets_the_grace_then_a_tenth_of_its_age() {
        // Young: the grace, whatever the age.
        assert_eq!(stall_allowance(0.0, 0.0), Some(STALL_GRACE_MS));
        assert_eq!(
            stall_allowance(1_000.0, 200.0),
            Some(STALL_GRACE_MS - 200.0)
        );
        assert_eq!(stall_allowance(1_000.0, STALL_GRACE_MS), None);
        // Old: a tenth of the time since the write started.
        assert_eq!(stall_allowance(20_000.0, 1_500.0), Some(500.0));
        assert_eq!(stall_allowance(20_000.0, 2_000.0), None);
        assert_eq!(stall_allowance(20_000.0, 9_000.0), None);
    }
}
