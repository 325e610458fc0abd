//! One layer split across two workers, so that both cores work on a big layer:
//!
//! ```text
//! front worker: fetch ─▶ CompressedHalf ──batches (1 MiB, transferred)──┐
//! back worker:          TarHalf ◀─────────────────────── MessagePort ─┘
//! ```
//!
//! The page hands both workers the two ends of one `MessageChannel`. The front posts
//! decompressed batches as transferred `ArrayBuffer`s and waits when
//! [`SPLIT_MAX_IN_FLIGHT`] are unacknowledged, so memory stays bounded when the back is
//! slower. Each half reports its own result to the page; the pool marks the layer
//! verified only when both passed (see `worker_pool`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, ArrayBuffer, Uint8Array};
use strata_shared::layer::{CompressedHalf, Compression, Limits, TarHalf};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, MessagePort};

use super::blob::{ChunkReader, with_blob};
use super::js::{Wakeup, now_ms, post, scope, wasm_memory_bytes};
use super::protocol::{
    FrontResult, FrontSummary, LayerJob, LayerSummary, PortMessage, SPLIT_BATCH_BYTES,
    SPLIT_MAX_IN_FLIGHT, Stage, StageTimes, WorkerError, WorkerReport, front_message,
};

/// Compressed bytes handed to the decompressor at once: bounds one push's output (a
/// deflate block expands at most ~1032×), so a bomb cannot build a huge batch.
const INFLATE_PIECE: usize = 16 << 10;

/// Bytes of a batch buffer: a batch is flushed once it holds [`SPLIT_BATCH_BYTES`], so it
/// is a little more; a bigger one (a burst of a highly compressed piece) gets its own.
const BATCH_BUFFER_BYTES: usize = 2 * SPLIT_BATCH_BYTES;

/// The front's end of the port, with the count of batches the back has not acknowledged
/// and the buffers it gave back.
struct Link {
    port: MessagePort,
    in_flight: Cell<u32>,
    acked: Wakeup,
    spare: RefCell<Vec<ArrayBuffer>>,
}

impl Link {
    /// Posts `batch` (and empties it), first waiting while too many are in flight; the
    /// milliseconds it waited.
    async fn send(self: &Rc<Self>, batch: &mut Vec<u8>) -> f64 {
        let asked = now_ms();
        while self.in_flight.get() >= SPLIT_MAX_IN_FLIGHT {
            self.acked.wait(None).await;
        }
        let stalled = now_ms() - asked;
        let buffer = self.buffer_for(batch.len());
        let view = Uint8Array::new_with_byte_offset_and_length(&buffer, 0, batch.len() as u32);
        view.copy_from(batch);
        batch.clear();
        if self
            .port
            .post_message_with_transferable(&view, &Array::of1(&buffer))
            .is_ok()
        {
            self.in_flight.set(self.in_flight.get() + 1);
        }
        stalled
    }

    /// A given-back buffer that holds `len` bytes, or a new one.
    fn buffer_for(&self, len: usize) -> ArrayBuffer {
        let mut spare = self.spare.borrow_mut();
        match spare.pop() {
            Some(buffer) if buffer.byte_length() as usize >= len => buffer,
            _ => ArrayBuffer::new(len.max(BATCH_BUFFER_BYTES) as u32),
        }
    }

    fn acked(&self, buffer: ArrayBuffer) {
        self.in_flight.set(self.in_flight.get().saturating_sub(1));
        if buffer.byte_length() as usize == BATCH_BUFFER_BYTES {
            self.spare.borrow_mut().push(buffer);
        }
        self.acked.wake();
    }
}

/// The front half: fetch (cache first), then [`CompressedHalf`]; decompressed batches
/// go to the back through `port`.
pub(super) async fn front(job: LayerJob, port: MessagePort) {
    let link = Rc::new(Link {
        port,
        in_flight: Cell::new(0),
        acked: Wakeup::default(),
        spare: RefCell::new(Vec::new()),
    });
    let on_ack = Closure::<dyn FnMut(MessageEvent)>::new({
        let link = Rc::clone(&link);
        move |event: MessageEvent| {
            if let PortMessage::Ack(buffer) = PortMessage::decode(&event.data()) {
                link.acked(buffer);
            }
        }
    });
    link.port
        .set_onmessage(Some(on_ack.as_ref().unchecked_ref()));
    let result = with_blob(
        &job.url,
        &job.digest.to_string(),
        true,
        |reader, cached, retry| front_consume(job.clone(), Rc::clone(&link), reader, cached, retry),
    )
    .await;
    let end = match &result {
        Ok(_) => PortMessage::End,
        Err(e) => PortMessage::Abort(e.clone()),
    };
    let _ = link.port.post_message(&end.encode());
    link.port.set_onmessage(None);
    drop(on_ack);
    let _ = scope().post_message(&front_message(&FrontResult { id: job.id, result }));
}

async fn front_consume(
    job: LayerJob,
    link: Rc<Link>,
    mut reader: ChunkReader,
    cached: bool,
    retry: bool,
) -> Result<FrontSummary, WorkerError> {
    if retry {
        let _ = link.port.post_message(&PortMessage::Reset.encode());
    }
    let started = now_ms();
    let compression = Compression::from_media_type(job.media_type.as_str())?;
    let mut half = CompressedHalf::new(
        job.digest.clone(),
        job.size,
        compression,
        &Limits::default(),
    );
    let mut batch = Vec::with_capacity(SPLIT_BATCH_BYTES * 2);
    let mut last_report = 0.0;
    let mut decompressed = 0u64;
    let mut times = StageTimes::default();
    while let Some(chunk) = reader.next().await? {
        let got = now_ms();
        let mut stalled = 0.0;
        for piece in chunk.chunks(INFLATE_PIECE) {
            let pushed = half.push(piece, &mut |out: &[u8]| {
                batch.extend_from_slice(out);
                Ok(())
            });
            if let Err(e) = pushed {
                reader.cancel();
                return Err(e.into());
            }
            if batch.len() >= SPLIT_BATCH_BYTES {
                decompressed += batch.len() as u64;
                stalled += link.send(&mut batch).await;
            }
        }
        let t = now_ms();
        times.stalled_ms += stalled;
        times.computing_ms += t - got - stalled;
        if t - last_report > 100.0 {
            last_report = t;
            post(
                &progress(&job, half.compressed_in(), decompressed, Stage::Downloading),
                None,
            );
        }
    }
    times.waiting_ms = reader.waited_ms();
    times.stalled_ms += reader.stalled_ms();
    let compressed = half.compressed_in();
    post(
        &progress(&job, compressed, decompressed, Stage::Indexing),
        None,
    );
    half.finish(&mut |out: &[u8]| {
        batch.extend_from_slice(out);
        Ok(())
    })?;
    if !batch.is_empty() {
        decompressed += batch.len() as u64;
        times.stalled_ms += link.send(&mut batch).await;
    }
    Ok(FrontSummary {
        compressed,
        decompressed,
        millis: now_ms() - started,
        cached,
        worker_memory_bytes: wasm_memory_bytes(),
        times,
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

/// The back half's state: [`TarHalf`] over the batches, in order.
struct Back {
    job: LayerJob,
    started: f64,
    half: Result<TarHalf, WorkerError>,
    /// Milliseconds spent on batches (the rest of the time it waited for them).
    computing_ms: f64,
}

impl Back {
    fn new(job: LayerJob) -> Self {
        let half = job.expected_diff_id().and_then(|d| {
            let compression = Compression::from_media_type(job.media_type.as_str())?;
            Ok(TarHalf::for_layer(
                compression,
                &job.digest,
                d,
                Limits::default(),
            )?)
        });
        Back {
            job,
            started: now_ms(),
            half,
            computing_ms: 0.0,
        }
    }

    fn push(&mut self, batch: &[u8]) {
        let started = now_ms();
        if let Ok(half) = &mut self.half {
            // The half keeps its first error for `finish`.
            let _ = half.push(batch);
        }
        self.computing_ms += now_ms() - started;
    }

    fn finish(self) -> WorkerReport {
        let id = self.job.id;
        let finishing = now_ms();
        let finished = self.half.and_then(|half| Ok(half.finish()?));
        let millis = now_ms() - self.started;
        let computing_ms = self.computing_ms + (now_ms() - finishing);
        let times = StageTimes {
            waiting_ms: millis - computing_ms,
            computing_ms,
            stalled_ms: 0.0,
        };
        match finished {
            Ok(done) => WorkerReport::Done {
                id,
                summary: LayerSummary {
                    compressed: 0,
                    decompressed: done.decompressed_size,
                    diff_id: Some(done.diff_id.to_string()),
                    diff_id_checked: done.diff_id_checked,
                    entries: done.index.len() as u64,
                    millis,
                    cached: false,
                    verified_earlier_ms: None,
                    worker_memory_bytes: wasm_memory_bytes(),
                    times,
                    front_times: None,
                },
                index: std::sync::Arc::new(done.index),
                message: None,
            },
            Err(error) => WorkerReport::Failed { id, error },
        }
    }
}

/// The back half: installs the port handler; reports when the front says the stream
/// ended (or failed).
pub(super) fn back(job: LayerJob, port: MessagePort) {
    let state = Rc::new(RefCell::new(Some(Back::new(job.clone()))));
    let reply = port.clone();
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let report = match PortMessage::decode(&event.data()) {
            PortMessage::Batch(batch, buffer) => {
                if let Some(back) = state.borrow_mut().as_mut() {
                    back.push(&batch);
                }
                // The buffer goes back to the front to carry another batch.
                let _ = reply.post_message_with_transferable(&buffer, &Array::of1(&buffer));
                None
            }
            PortMessage::Reset => {
                *state.borrow_mut() = Some(Back::new(job.clone()));
                None
            }
            PortMessage::End => state.borrow_mut().take().map(Back::finish),
            PortMessage::Abort(error) => state
                .borrow_mut()
                .take()
                .map(|_| WorkerReport::Failed { id: job.id, error }),
            PortMessage::Ack(_) | PortMessage::Unknown => None,
        };
        if let Some(report) = report {
            reply.set_onmessage(None);
            reply.close();
            post(&report, Some("back"));
        }
    });
    port.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    // The handler lives as long as the port delivers messages; it is small.
    handler.forget();
}
