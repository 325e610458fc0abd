//! The page side of the layer workers: a small pool of Web Workers that take layer jobs
//! in order and report progress, so no layer work runs on the main thread.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::Array;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Blob, BlobPropertyBag, MessageEvent, Url, Worker};

use crate::worker_protocol::{LayerJob, WorkerReport};

/// Name of the worker binary as Trunk emits it (`<name>.js`, `<name>_bg.wasm`).
const WORKER_NAME: &str = "strata-worker";

struct Slot {
    worker: Worker,
    ready: bool,
    busy: bool,
}

struct PoolState {
    slots: Vec<Slot>,
    queue: VecDeque<LayerJob>,
}

/// A pool of layer workers. Dropping it terminates them.
pub struct WorkerPool {
    state: Rc<RefCell<PoolState>>,
    _handlers: Vec<Closure<dyn FnMut(MessageEvent)>>,
}

/// How many workers to start: one per core, at least two (so one big layer's stages can
/// overlap with the next layer's download), at most four.
pub fn pool_size() -> usize {
    let cores = web_sys::window()
        .map(|w| w.navigator().hardware_concurrency())
        .unwrap_or(2.0);
    (cores as usize).clamp(2, 4)
}

fn spawn_worker() -> Result<Worker, JsValue> {
    let origin = web_sys::window().ok_or("no window")?.location().origin()?;
    // A classic worker from a blob URL: Trunk builds the worker with the no-modules target.
    let script = Array::new();
    script.push(
        &format!(r#"importScripts("{origin}/{WORKER_NAME}.js");wasm_bindgen("{origin}/{WORKER_NAME}_bg.wasm");"#)
            .into(),
    );
    let options = BlobPropertyBag::new();
    options.set_type("text/javascript");
    let blob = Blob::new_with_str_sequence_and_options(&script, &options)?;
    let url = Url::create_object_url_with_blob(&blob)?;
    Worker::new(&url)
}

impl WorkerPool {
    /// Starts `size` workers; `on_report` receives every report.
    pub fn new(size: usize, on_report: impl Fn(WorkerReport) + 'static) -> Result<Self, JsValue> {
        let state = Rc::new(RefCell::new(PoolState {
            slots: Vec::new(),
            queue: VecDeque::new(),
        }));
        let on_report = Rc::new(on_report);
        let mut handlers = Vec::new();
        for slot_index in 0..size {
            let worker = spawn_worker()?;
            let state_for_handler = Rc::clone(&state);
            let on_report = Rc::clone(&on_report);
            let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                let Some(text) = event.data().as_string() else {
                    return;
                };
                let Ok(report) = serde_json::from_str::<WorkerReport>(&text) else {
                    return;
                };
                {
                    let mut st = state_for_handler.borrow_mut();
                    match &report {
                        WorkerReport::Ready => st.slots[slot_index].ready = true,
                        WorkerReport::Done { .. } | WorkerReport::Failed { .. } => {
                            st.slots[slot_index].busy = false
                        }
                        WorkerReport::Progress { .. } => {}
                    }
                }
                dispatch(&state_for_handler);
                on_report(report);
            });
            worker.set_onmessage(Some(handler.as_ref().unchecked_ref()));
            handlers.push(handler);
            state.borrow_mut().slots.push(Slot {
                worker,
                ready: false,
                busy: false,
            });
        }
        Ok(WorkerPool {
            state,
            _handlers: handlers,
        })
    }

    /// Queues a job; it starts as soon as a worker is free.
    pub fn submit(&self, job: LayerJob) {
        self.state.borrow_mut().queue.push_back(job);
        dispatch(&self.state);
    }
}

fn dispatch(state: &Rc<RefCell<PoolState>>) {
    let mut st = state.borrow_mut();
    let st = &mut *st;
    for slot in st.slots.iter_mut().filter(|s| s.ready && !s.busy) {
        let Some(job) = st.queue.pop_front() else {
            break;
        };
        if let Ok(text) = serde_json::to_string(&job)
            && slot.worker.post_message(&JsValue::from_str(&text)).is_ok()
        {
            slot.busy = true;
        }
    }
}

impl Drop for WorkerPool {
    fn drop(&mut self) {
        for slot in &self.state.borrow().slots {
            slot.worker.terminate();
        }
    }
}
