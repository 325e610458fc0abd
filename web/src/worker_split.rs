//! One layer split across two workers, so that both cores work on a big layer:
//!
//! ```text
//! front worker: fetch ─▶ DigestVerifier ─▶ Decompressor ──batches (1 MiB, transferred)──┐
//! back worker:                         DiffIdVerifier + TarWalker ◀─────── MessagePort ─┘
//! ```
//!
//! The page hands both workers the two ends of one `MessageChannel`. The front posts
//! decompressed batches as transferred `ArrayBuffer`s and waits when
//! [`SPLIT_MAX_IN_FLIGHT`] are unacknowledged, so memory stays bounded when the back is
//! slower. Each half reports its own result to the page; the pool marks the layer
//! verified only when both passed (see `worker_pool`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Uint8Array};
use strata_shared::Digest;
use strata_shared::digest::DigestVerifier;
use strata_shared::layer::{
    Compression, Decompressor, DiffIdVerifier, LayerError, Limits, TarWalker,
};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, MessagePort, Response};

use crate::worker::{ChunkReader, now_ms, post, scope, with_blob};
use crate::worker_protocol::{
    FrontResult, FrontSummary, LayerJob, LayerSummary, PORT_ABORT, PORT_ACK, PORT_END, PORT_RESET,
    SPLIT_BATCH_BYTES, SPLIT_MAX_IN_FLIGHT, Stage, WorkerReport,
};

/// Compressed bytes handed to the decompressor at once: bounds one push's output (a
/// deflate block expands at most ~1032×), so a bomb cannot build a huge batch.
const INFLATE_PIECE: usize = 16 << 10;

fn post_part(kind: &str, text: &str) {
    let msg = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&msg, &"split".into(), &kind.into());
    let _ = js_sys::Reflect::set(&msg, &"text".into(), &text.into());
    let _ = scope().post_message(&msg);
}

/// The front's end of the port, with the count of batches the back has not acknowledged.
struct Link {
    port: MessagePort,
    in_flight: Cell<u32>,
    wake: RefCell<Option<js_sys::Function>>,
}

impl Link {
    /// Posts `batch` (and empties it), first waiting while too many are in flight.
    async fn send(self: &Rc<Self>, batch: &mut Vec<u8>) {
        while self.in_flight.get() >= SPLIT_MAX_IN_FLIGHT {
            let promise = js_sys::Promise::new(&mut |resolve, _reject| {
                *self.wake.borrow_mut() = Some(resolve);
            });
            let _ = JsFuture::from(promise).await;
        }
        let array = Uint8Array::new_with_length(batch.len() as u32);
        array.copy_from(batch);
        batch.clear();
        let buffer = array.buffer();
        if self
            .port
            .post_message_with_transferable(&buffer, &Array::of1(&buffer))
            .is_ok()
        {
            self.in_flight.set(self.in_flight.get() + 1);
        }
    }

    fn acked(&self) {
        self.in_flight.set(self.in_flight.get().saturating_sub(1));
        if let Some(wake) = self.wake.borrow_mut().take() {
            let _ = wake.call0(&JsValue::NULL);
        }
    }
}

/// The front half: fetch (cache first), size + digest of the compressed bytes, and
/// decompression; decompressed batches go to the back through `port`.
pub(crate) async fn front(job: LayerJob, port: MessagePort) {
    let link = Rc::new(Link {
        port,
        in_flight: Cell::new(0),
        wake: RefCell::new(None),
    });
    let on_ack = Closure::<dyn FnMut(MessageEvent)>::new({
        let link = Rc::clone(&link);
        move |event: MessageEvent| {
            if event.data().as_string().as_deref() == Some(PORT_ACK) {
                link.acked();
            }
        }
    });
    link.port
        .set_onmessage(Some(on_ack.as_ref().unchecked_ref()));
    let result = with_blob(&job.url, &job.digest, true, |response, cached, retry| {
        front_consume(job.clone(), Rc::clone(&link), response, cached, retry)
    })
    .await;
    let end = match &result {
        Ok(_) => PORT_END.to_owned(),
        Err(e) => format!("{PORT_ABORT}{e}"),
    };
    let _ = link.port.post_message(&JsValue::from_str(&end));
    link.port.set_onmessage(None);
    drop(on_ack);
    if let Ok(text) = serde_json::to_string(&FrontResult { id: job.id, result }) {
        post_part("front", &text);
    }
}

async fn front_consume(
    job: LayerJob,
    link: Rc<Link>,
    response: Response,
    cached: bool,
    retry: bool,
) -> Result<FrontSummary, String> {
    if retry {
        let _ = link.port.post_message(&JsValue::from_str(PORT_RESET));
    }
    let started = now_ms();
    let digest = Digest::parse(&job.digest).map_err(|e| format!("layer digest: {e}"))?;
    let compression = Compression::from_media_type(&job.media_type).map_err(|e| e.to_string())?;
    let mut verifier = DigestVerifier::new(digest, Some(job.size));
    let mut decompressor = Decompressor::new(compression, &Limits::default());
    let mut batch = Vec::with_capacity(SPLIT_BATCH_BYTES * 2);
    let mut reader = ChunkReader::new(&response)?;
    // A decompression error stops inflating, but the blob is still hashed to the end: a
    // wrong digest is the root cause to report, not the corruption it caused.
    let mut failed: Option<String> = None;
    let mut last_report = 0.0;
    let mut decompressed = 0u64;
    while let Some(chunk) = reader.next().await? {
        if let Err(e) = verifier.update(&chunk) {
            reader.cancel();
            return Err(LayerError::from(e).to_string());
        }
        if failed.is_none() {
            for piece in chunk.chunks(INFLATE_PIECE) {
                let pushed = decompressor.push(piece, &mut |out: &[u8]| {
                    batch.extend_from_slice(out);
                    Ok(())
                });
                if let Err(e) = pushed {
                    failed = Some(e.to_string());
                    break;
                }
                if batch.len() >= SPLIT_BATCH_BYTES {
                    decompressed += batch.len() as u64;
                    link.send(&mut batch).await;
                }
            }
        }
        let t = now_ms();
        if t - last_report > 100.0 {
            last_report = t;
            post(&progress(
                &job,
                verifier.bytes_seen(),
                decompressed,
                Stage::Downloading,
            ));
        }
    }
    let compressed = verifier.bytes_seen();
    post(&progress(&job, compressed, decompressed, Stage::Indexing));
    verifier
        .finish()
        .map_err(|e| LayerError::from(e).to_string())?;
    if let Some(e) = failed {
        return Err(e);
    }
    decompressor
        .finish(&mut |out: &[u8]| {
            batch.extend_from_slice(out);
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    if !batch.is_empty() {
        decompressed += batch.len() as u64;
        link.send(&mut batch).await;
    }
    Ok(FrontSummary {
        compressed,
        decompressed,
        millis: now_ms() - started,
        cached,
    })
}

fn progress(job: &LayerJob, compressed: u64, decompressed: u64, stage: Stage) -> WorkerReport {
    WorkerReport::Progress {
        id: job.id,
        stage,
        compressed,
        decompressed,
        entries: 0,
    }
}

/// The back half's state: diff_id and tar walk over the batches, in order.
struct Back {
    job: LayerJob,
    started: f64,
    stages: Result<(DiffIdVerifier, TarWalker), String>,
    scratch: Vec<u8>,
}

impl Back {
    fn new(job: LayerJob) -> Self {
        let stages = job
            .diff_id
            .as_deref()
            .ok_or_else(|| {
                "the config lists no diff_id for this layer, so it cannot be verified".to_owned()
            })
            .and_then(|d| Digest::parse(d).map_err(|e| format!("diff_id: {e}")))
            .and_then(|d| DiffIdVerifier::new(d).map_err(|e| e.to_string()))
            .map(|v| (v, TarWalker::new(Limits::default())));
        Back {
            job,
            started: now_ms(),
            stages,
            scratch: Vec::new(),
        }
    }

    fn push(&mut self, buffer: &JsValue) {
        let array = Uint8Array::new(buffer);
        if let Ok((diff_id, walker)) = &mut self.stages {
            self.scratch.resize(array.length() as usize, 0);
            array.copy_to(&mut self.scratch);
            diff_id.push(&self.scratch);
            if let Err(e) = walker.push(&self.scratch) {
                self.stages = Err(e.to_string());
            }
        }
    }

    fn finish(self) -> WorkerReport {
        let id = self.job.id;
        let millis = now_ms() - self.started;
        let done = self.stages.and_then(|(diff_id, walker)| {
            let decompressed = diff_id.bytes_seen();
            let diff_id = diff_id.finish().map_err(|e| e.to_string())?;
            let index = walker.finish().map_err(|e| e.to_string())?;
            Ok((decompressed, diff_id, index))
        });
        match done {
            Ok((decompressed, diff_id, index)) => WorkerReport::Done {
                id,
                summary: LayerSummary {
                    compressed: 0,
                    decompressed,
                    diff_id: Some(diff_id.to_string()),
                    entries: index.len() as u64,
                    millis,
                    cached: false,
                },
                index,
            },
            Err(error) => WorkerReport::Failed { id, error },
        }
    }
}

/// The back half: installs the port handler; reports when the front says the stream
/// ended (or failed).
pub(crate) fn back(job: LayerJob, port: MessagePort) {
    let state = Rc::new(RefCell::new(Some(Back::new(job.clone()))));
    let reply = port.clone();
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let data = event.data();
        let Some(text) = data.as_string() else {
            if let Some(back) = state.borrow_mut().as_mut() {
                back.push(&data);
            }
            let _ = reply.post_message(&JsValue::from_str(PORT_ACK));
            return;
        };
        let report = if text == PORT_RESET {
            *state.borrow_mut() = Some(Back::new(job.clone()));
            None
        } else if text == PORT_END {
            state.borrow_mut().take().map(Back::finish)
        } else if let Some(reason) = text.strip_prefix(PORT_ABORT) {
            state.borrow_mut().take().map(|_| WorkerReport::Failed {
                id: job.id,
                error: reason.to_owned(),
            })
        } else {
            None
        };
        if let Some(report) = report {
            reply.set_onmessage(None);
            reply.close();
            let (msg, transfer) = crate::worker_protocol::report_message(&report, Some("back"));
            let _ = scope().post_message_with_transfer(&msg, &transfer);
        }
    });
    port.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    // The handler lives as long as the port delivers messages; it is small.
    handler.forget();
}
