//! The page side of the layer workers: a small pool of Web Workers that take layer jobs
//! in order and report progress, so no layer work runs on the main thread.
//!
//! A big layer (at least [`SPLIT_THRESHOLD`] bytes, or any layer when fewer layers than
//! workers wait) is split across two workers — one fetches, hashes and inflates, the other
//! hashes the tar and walks it (see `worker::split`) — so both cores work on it; its report
//! is `Done` only when both halves passed. `?strata_split=off` in the page URL turns the
//! split off, `?strata_split=always` splits every layer (tests, benchmarks).

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use js_sys::Array;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Blob, BlobPropertyBag, MessageChannel, MessageEvent, MessagePort, Url, Worker};

use crate::worker::protocol::{
    FromWorker, FrontResult, LayerJob, ReadFileRequest, WorkerError, WorkerReport, WorkerRequest,
    decode_report, request_message,
};

/// Name of the worker binary as Trunk emits it (`<name>.js`, `<name>_bg.wasm`).
const WORKER_NAME: &str = "strata-worker";

/// Layers from this size up are split across two workers.
pub const SPLIT_THRESHOLD: u64 = 8 << 20;

/// Whether and when layers are split across two workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitMode {
    /// Never: every layer runs whole in one worker.
    Off,
    /// Big layers, or any layer when workers would otherwise idle (the default).
    Auto,
    /// Every layer.
    Always,
}

impl SplitMode {
    /// From the page URL's `strata_split` query parameter (`off`, `always`), else `Auto`.
    pub fn from_location() -> Self {
        let search = web_sys::window()
            .and_then(|w| w.location().search().ok())
            .unwrap_or_default();
        let value = crate::url_state::UrlState::from_parts("", &search)
            .get(crate::url_state::Key::StrataSplit);
        match value.as_deref() {
            Some("off") => SplitMode::Off,
            Some("always") => SplitMode::Always,
            _ => SplitMode::Auto,
        }
    }
}

struct Slot {
    worker: Worker,
    ready: bool,
    busy: bool,
}

/// The two halves' results of one split layer, until both are in.
#[derive(Default)]
struct SplitParts {
    front: Option<FrontResult>,
    back: Option<WorkerReport>,
}

type ReadResult = Result<Vec<u8>, WorkerError>;
type ReadDone = Box<dyn FnOnce(ReadResult)>;

struct PoolState {
    slots: Vec<Slot>,
    queue: VecDeque<LayerJob>,
    mode: SplitMode,
    splits: HashMap<usize, SplitParts>,
    reads: HashMap<u64, ReadDone>,
    waiting_reads: VecDeque<(u64, ReadFileRequest)>,
    next_read: u64,
    next_read_slot: usize,
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

/// The single report of a split layer once both halves are in: the front's failure
/// first (a wrong blob digest is the root cause of anything the back saw).
fn combine(front: FrontResult, back: WorkerReport) -> WorkerReport {
    let id = front.id;
    match (front.result, back) {
        (Err(error), _) => WorkerReport::Failed { id, error },
        (Ok(_), WorkerReport::Failed { error, .. }) => WorkerReport::Failed { id, error },
        (
            Ok(f),
            WorkerReport::Done {
                mut summary,
                index,
                message,
                ..
            },
        ) => {
            summary.compressed = f.compressed;
            summary.cached = f.cached;
            summary.worker_memory_bytes += f.worker_memory_bytes;
            summary.front_times = Some(f.times);
            summary.millis = summary.millis.max(f.millis);
            WorkerReport::Done {
                id,
                summary,
                index,
                message,
            }
        }
        (Ok(_), _) => WorkerReport::Failed {
            id,
            error: WorkerError::NoBackResult,
        },
    }
}

impl WorkerPool {
    /// Starts `size` workers (at least two, so one big layer can be split across two
    /// cores); `on_report` receives every report.
    pub fn new(size: usize, on_report: impl Fn(WorkerReport) + 'static) -> Result<Self, JsValue> {
        let size = size.max(2);
        let state = Rc::new(RefCell::new(PoolState {
            slots: Vec::new(),
            queue: VecDeque::new(),
            mode: SplitMode::from_location(),
            splits: HashMap::new(),
            reads: HashMap::new(),
            waiting_reads: VecDeque::new(),
            next_read: 0,
            next_read_slot: 0,
        }));
        let on_report = Rc::new(on_report);
        let mut handlers = Vec::new();
        for slot_index in 0..size {
            let worker = spawn_worker()?;
            let state_for_handler = Rc::clone(&state);
            let on_report = Rc::clone(&on_report);
            let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                let decoding = crate::user_timing::span("strata:decode-report");
                let decoded = decode_report(&event.data());
                drop(decoding);
                let _handling = crate::user_timing::span("strata:handle-report");
                let message = match decoded {
                    Ok(message) => message,
                    Err(e) => {
                        leptos::logging::warn!("layer worker {slot_index}: {e}");
                        return;
                    }
                };
                let mut report = None;
                let mut read_done = None;
                {
                    let mut st = state_for_handler.borrow_mut();
                    let st = &mut *st;
                    match message {
                        FromWorker::Report(r) => {
                            match &r {
                                WorkerReport::Ready => st.slots[slot_index].ready = true,
                                WorkerReport::Done { .. } | WorkerReport::Failed { .. } => {
                                    st.slots[slot_index].busy = false
                                }
                                WorkerReport::Progress { .. } => {}
                                WorkerReport::Rejected { error } => {
                                    leptos::logging::warn!("layer worker {slot_index}: {error}")
                                }
                            }
                            report = Some(r);
                        }
                        FromWorker::Front(front) => {
                            st.slots[slot_index].busy = false;
                            let id = front.id;
                            let parts = st.splits.entry(id).or_default();
                            parts.front = Some(front);
                            report = take_combined(&mut st.splits, id);
                        }
                        FromWorker::Back(back) => {
                            st.slots[slot_index].busy = false;
                            let id = match &back {
                                WorkerReport::Done { id, .. }
                                | WorkerReport::Failed { id, .. }
                                | WorkerReport::Progress { id, .. } => *id,
                                WorkerReport::Ready | WorkerReport::Rejected { .. } => usize::MAX,
                            };
                            st.splits.entry(id).or_default().back = Some(back);
                            report = take_combined(&mut st.splits, id);
                        }
                        FromWorker::Read(id, result) => {
                            read_done = st.reads.remove(&id).map(|done| (done, result));
                        }
                    }
                }
                dispatch(&state_for_handler);
                if let Some((done, result)) = read_done {
                    done(result);
                }
                if let Some(report) = report {
                    on_report(report);
                }
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

    /// Queues a job; it starts as soon as a worker (two for a split layer) is free.
    pub fn submit(&self, job: LayerJob) {
        self.state.borrow_mut().queue.push_back(job);
        dispatch(&self.state);
    }

    /// Reads `min(len, max_bytes)` bytes of a file from a layer blob in a worker; the
    /// blob's digest is checked over all of it before `on_done` gets the bytes.
    pub fn read_file(&self, request: ReadFileRequest, on_done: impl FnOnce(ReadResult) + 'static) {
        {
            let mut st = self.state.borrow_mut();
            let id = st.next_read;
            st.next_read += 1;
            st.reads.insert(id, Box::new(on_done));
            st.waiting_reads.push_back((id, request));
        }
        dispatch(&self.state);
    }
}

fn take_combined(splits: &mut HashMap<usize, SplitParts>, id: usize) -> Option<WorkerReport> {
    let parts = splits.get(&id)?;
    if parts.front.is_none() || parts.back.is_none() {
        return None;
    }
    let parts = splits.remove(&id)?;
    Some(combine(parts.front?, parts.back?))
}

fn post_request(worker: &Worker, request: &WorkerRequest, port: Option<&MessagePort>) -> bool {
    let (msg, transfer) = request_message(request, port);
    worker.post_message_with_transfer(&msg, &transfer).is_ok()
}

fn wants_split(mode: SplitMode, job: &LayerJob, slots: usize, queued: usize) -> bool {
    match mode {
        _ if slots < 2 => false,
        SplitMode::Off => false,
        SplitMode::Always => true,
        // Fewer layers than workers: a spare worker would idle, so put it to work. A layer
        // of unknown size (schema1) is split like a big one when a worker is spare.
        SplitMode::Auto => {
            let size = job.size.unwrap_or(SPLIT_THRESHOLD);
            size >= SPLIT_THRESHOLD || (queued < slots && size >= 1 << 20)
        }
    }
}

fn dispatch(state: &Rc<RefCell<PoolState>>) {
    let mut st = state.borrow_mut();
    let st = &mut *st;
    // File reads run beside layer jobs (a worker interleaves them); spread them round robin.
    while let Some((id, request)) = st.waiting_reads.pop_front() {
        let ready: Vec<usize> = (0..st.slots.len()).filter(|&i| st.slots[i].ready).collect();
        if ready.is_empty() {
            st.waiting_reads.push_front((id, request));
            break;
        }
        let idle = ready.iter().copied().find(|&i| !st.slots[i].busy);
        let i = idle.unwrap_or(ready[st.next_read_slot % ready.len()]);
        st.next_read_slot += 1;
        if !post_request(
            &st.slots[i].worker,
            &WorkerRequest::ReadFile { id, request },
            None,
        ) && let Some(done) = st.reads.remove(&id)
        {
            // Answer after this borrow ends.
            wasm_bindgen_futures::spawn_local(async move { done(Err(WorkerError::NotPosted)) });
        }
    }
    loop {
        let idle: Vec<usize> = (0..st.slots.len())
            .filter(|&i| st.slots[i].ready && !st.slots[i].busy)
            .collect();
        if idle.is_empty() || st.queue.is_empty() {
            return;
        }
        let slots = st.slots.len();
        let queued = st.queue.len();
        let split_head = st
            .queue
            .front()
            .is_some_and(|j| wants_split(st.mode, j, slots, queued));
        if split_head && idle.len() >= 2 {
            let Some(job) = st.queue.pop_front() else {
                return;
            };
            let Ok(channel) = MessageChannel::new() else {
                st.queue.push_front(job);
                st.mode = SplitMode::Off;
                continue;
            };
            let (front, back) = (idle[0], idle[1]);
            let id = job.id;
            let back_ok = post_request(
                &st.slots[back].worker,
                &WorkerRequest::SplitBack(job.clone()),
                Some(&channel.port2()),
            );
            let front_ok = back_ok
                && post_request(
                    &st.slots[front].worker,
                    &WorkerRequest::SplitFront(job.clone()),
                    Some(&channel.port1()),
                );
            if front_ok {
                st.slots[front].busy = true;
                st.slots[back].busy = true;
                st.splits.insert(id, SplitParts::default());
            } else {
                // Posting failed (no transferable ports?): run layers whole from now on.
                st.queue.push_front(job);
                st.mode = SplitMode::Off;
            }
            continue;
        }
        // The head waits for two idle workers; a whole job behind it may take this one.
        let position = if split_head {
            match (1..st.queue.len()).find(|&p| !wants_split(st.mode, &st.queue[p], slots, queued))
            {
                Some(p) => p,
                None => return,
            }
        } else {
            0
        };
        let Some(job) = st.queue.remove(position) else {
            return;
        };
        let slot = &mut st.slots[idle[0]];
        if post_request(&slot.worker, &WorkerRequest::Layer(job), None) {
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
