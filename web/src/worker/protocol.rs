//! Messages between the page and the layer workers.
//!
//! The page posts `{text, port?}` objects: `text` is a [`WorkerRequest`] as JSON, `port`
//! the `MessagePort` of a split layer. Workers post [`WorkerReport`]s as `{text, index?}`
//! ([`report_message`]): the JSON, and a finished layer's index in the binary form of
//! [`LayerIndex::encode`] as a transferred `ArrayBuffer` (JSON of a 100k-entry index took
//! seconds to parse on the page's main thread). The halves of a split layer add
//! `split: "front" | "back"` (the front's text is a [`FrontResult`]) and the pool combines
//! them into one report; file reads answer
//! `{read: id, ok, error?, bytes?}` with the bytes as a transferred `ArrayBuffer`.
//!
//! On a split layer's port, the front posts decompressed batches (`Uint8Array`s of about
//! [`SPLIT_BATCH_BYTES`] whose buffers are transferred) and the strings [`PORT_RESET`],
//! [`PORT_END`] or `abort:REASON`; the back acknowledges every batch it processed by
//! transferring its buffer back, so at most [`SPLIT_MAX_IN_FLIGHT`]
//! batches wait in memory and the front refills the same few buffers: a fresh buffer per
//! batch was garbage the workers' collectors let pile up to hundreds of MiB on a big
//! layer.
//!
//! Every encoding and decoding of these messages lives here, for both sides.

use std::sync::Arc;

use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use strata_shared::layer::{LayerError, LayerIndex, RangeError};
use strata_shared::{Digest, MediaType};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::MessagePort;

/// Decompressed bytes per batch the front of a split layer posts to the back.
pub const SPLIT_BATCH_BYTES: usize = 1 << 20;
/// Batches the front may post before the back acknowledges one.
pub const SPLIT_MAX_IN_FLIGHT: u32 = 8;
/// Port message: forget everything so far (the front refetches after a bad cached blob).
pub const PORT_RESET: &str = "reset";
/// Port message: the decompressed stream ended; finish and report.
pub const PORT_END: &str = "end";
/// Port message prefix: the front failed; stop and report this reason.
pub const PORT_ABORT: &str = "abort:";

/// What the page asks a worker to do.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum WorkerRequest {
    /// Fetch, verify and index one whole layer.
    Layer(LayerJob),
    /// Front half of a split layer: fetch, digest and decompress; batches go to the port.
    SplitFront(LayerJob),
    /// Back half of a split layer: diff_id and tar walk of the batches from the port.
    SplitBack(LayerJob),
    /// Read a file's bytes out of a layer blob.
    ReadFile {
        /// The pool's id for the read.
        id: u64,
        /// What to read.
        request: ReadFileRequest,
    },
}

/// A file's bytes to read from a layer: the blob is streamed (from Cache Storage, else
/// the relay), its compressed digest checked over the whole blob before any byte is
/// returned, and `min(len, max_bytes)` bytes from `data_offset` of the decompressed
/// stream are returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadFileRequest {
    /// Absolute relay URL of the blob.
    pub url: String,
    /// The layer's digest from the manifest.
    pub digest: Digest,
    /// The layer's size from the manifest (none in schema1, which gives no sizes).
    pub size: Option<u64>,
    /// The layer's media type from the manifest.
    pub media_type: MediaType,
    /// Offset of the file's data in the decompressed stream (`Entry::data_offset`).
    pub data_offset: u64,
    /// The file's size.
    pub len: u64,
    /// Most bytes to return.
    pub max_bytes: u64,
}

/// What the front half of a split layer reports when its stream ended.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FrontResult {
    /// Job id.
    pub id: usize,
    /// Compressed size and digest passed (and decompression ended cleanly), or why not.
    pub result: Result<FrontSummary, WorkerError>,
}

/// The front half's numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FrontSummary {
    /// Compressed bytes verified.
    pub compressed: u64,
    /// Decompressed bytes posted to the back.
    pub decompressed: u64,
    /// Milliseconds from first byte to the end of the stream.
    pub millis: f64,
    /// Whether the blob came from the browser cache.
    pub cached: bool,
    /// The front worker's wasm memory at the end (see [`LayerSummary`]).
    #[serde(default)]
    pub worker_memory_bytes: u64,
    /// Where the front's time went.
    #[serde(default)]
    pub times: StageTimes,
}

/// One layer to fetch, verify and index.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LayerJob {
    /// The page's id for the job (the layer index).
    pub id: usize,
    /// Absolute relay URL of the blob.
    pub url: String,
    /// The layer's digest from the manifest.
    pub digest: Digest,
    /// The layer's size from the manifest (none in schema1, which gives no sizes).
    pub size: Option<u64>,
    /// The layer's media type from the manifest.
    pub media_type: MediaType,
    /// The config's `rootfs.diff_ids[id]`, when present.
    pub diff_id: Option<Digest>,
    /// The image has no diff_ids at all (schema1, or its config could not be fetched):
    /// the diff_id is computed and shown unchecked instead of failing the layer.
    #[serde(default)]
    pub without_diff_ids: bool,
}

impl LayerJob {
    /// The diff_id to check: the config's; none when the image has none; a layer the
    /// config forgot fails.
    pub fn expected_diff_id(&self) -> Result<Option<Digest>, WorkerError> {
        match (&self.diff_id, self.without_diff_ids) {
            (Some(d), _) => Ok(Some(d.clone())),
            (None, true) => Ok(None),
            (None, false) => Err(WorkerError::NoDiffId),
        }
    }
}

/// Where a layer is in its pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    /// Waiting for a worker.
    Pending,
    /// Bytes arriving (and being processed as they arrive).
    Downloading,
    /// All bytes in; finishing the index.
    Indexing,
    /// Digest and diff_id passed.
    Verified,
    /// Something failed; the reason is in the message.
    Failed,
    /// Never handed to a worker: a foreign or encrypted layer (its row says why). Settled,
    /// and not a failure.
    NotFetched,
}

impl Stage {
    /// The value of `data-layer-state`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Pending => "pending",
            Stage::Downloading => "downloading",
            Stage::Indexing => "indexing",
            Stage::Verified => "verified",
            Stage::Failed => "failed",
            Stage::NotFetched => "not-fetched",
        }
    }
}

/// A worker's report.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum WorkerReport {
    /// The worker loaded and takes jobs.
    Ready,
    /// Progress of a job.
    Progress {
        /// Job id.
        id: usize,
        /// Stage now.
        stage: Stage,
        /// Compressed bytes received.
        compressed: u64,
        /// Decompressed bytes produced.
        decompressed: u64,
        /// Tar entries seen.
        entries: u64,
    },
    /// The job passed every check.
    Done {
        /// Job id.
        id: usize,
        /// Summary numbers.
        summary: LayerSummary,
        /// The layer's entries, for the file views (travels as binary, not in the JSON;
        /// shared, as the page's tree, cache and rows all hold it).
        #[serde(skip)]
        index: Arc<LayerIndex>,
        /// The index as the worker sent it (see [`super::index_message`]), kept for the
        /// cache of verified layers; none for a layer read from that cache.
        #[serde(skip)]
        message: Option<Uint8Array>,
    },
    /// The job failed.
    Failed {
        /// Job id.
        id: usize,
        /// What failed, for the user.
        error: WorkerError,
    },
    /// A request the worker could not read, with no job id to fail.
    Rejected {
        /// Why.
        error: WorkerError,
    },
}

impl WorkerReport {
    /// The job the report is about (`Ready` and `Rejected` name none).
    pub fn job_id(&self) -> Option<usize> {
        match self {
            WorkerReport::Progress { id, .. }
            | WorkerReport::Done { id, .. }
            | WorkerReport::Failed { id, .. } => Some(*id),
            WorkerReport::Ready | WorkerReport::Rejected { .. } => None,
        }
    }
}

/// What the page shows of a finished layer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerSummary {
    /// Compressed bytes verified.
    pub compressed: u64,
    /// Decompressed bytes (the diff).
    pub decompressed: u64,
    /// The diff_id (verified unless `diff_id_checked` is false).
    pub diff_id: Option<String>,
    /// Whether the diff_id was checked against the config (false: the image has none).
    #[serde(default = "checked_by_default")]
    pub diff_id_checked: bool,
    /// Entries in the layer's tar.
    pub entries: u64,
    /// Milliseconds from first byte to verified.
    pub millis: f64,
    /// Whether the blob came from the browser cache.
    pub cached: bool,
    /// When this browser verified the layer, if it was not verified now but its index was
    /// read from the cache of verified layers (milliseconds since the epoch).
    #[serde(default)]
    pub verified_earlier_ms: Option<f64>,
    /// The wasm memory of the worker(s) that ran the layer, when it finished: a
    /// worker's memory never shrinks, so this is its high-water mark (for benchmarks).
    #[serde(default)]
    pub worker_memory_bytes: u64,
    /// Where the time of the worker that finished the layer went (the back half's, when
    /// split).
    #[serde(default)]
    pub times: StageTimes,
    /// Where the front half's time went, when the layer was split.
    #[serde(default)]
    pub front_times: Option<StageTimes>,
}

impl LayerSummary {
    /// Where the workers' time went, as one line (`data-layer-times`).
    pub fn times_text(&self) -> String {
        match &self.front_times {
            Some(front) => format!("front: {}; back: {}", front.text(), self.times.text()),
            None => self.times.text(),
        }
    }
}

/// Where one worker's time on a layer went, in milliseconds: what a benchmark needs to
/// find the slowest stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StageTimes {
    /// Waiting for the blob's next chunk (or the front's next batch).
    pub waiting_ms: f64,
    /// Hashing, decompressing and walking the tar.
    pub computing_ms: f64,
    /// Waiting for the back half to take a batch (back-pressure).
    pub stalled_ms: f64,
}

impl StageTimes {
    fn text(&self) -> String {
        format!(
            "waiting {:.0} ms, computing {:.0} ms, stalled {:.0} ms",
            self.waiting_ms, self.computing_ms, self.stalled_ms
        )
    }
}

fn checked_by_default() -> bool {
    true
}

/// A report as the message a worker posts, and the buffers to transfer with it.
pub fn report_message(report: &WorkerReport, split: Option<&str>) -> (JsValue, Array) {
    let msg = Object::new();
    let transfer = Array::new();
    let text = serde_json::to_string(report).unwrap_or_default();
    let _ = Reflect::set(&msg, &"text".into(), &text.into());
    if let Some(split) = split {
        let _ = Reflect::set(&msg, &"split".into(), &split.into());
    }
    if let WorkerReport::Done { index, .. } = report {
        let bytes = Uint8Array::from(super::index_message::encode(index).as_slice());
        let buffer = bytes.buffer();
        let _ = Reflect::set(&msg, &"index".into(), &buffer);
        transfer.push(&buffer);
    }
    (msg.into(), transfer)
}

/// The report in a message made by [`report_message`] (its JSON text already read): a
/// `Done` report gets its index back from the binary buffer; an index that does not
/// decode fails the layer, naming why.
pub fn report_with_index(report: WorkerReport, data: &JsValue) -> WorkerReport {
    let WorkerReport::Done { id, summary, .. } = report else {
        return report;
    };
    let message = Reflect::get(data, &"index".into())
        .ok()
        .filter(|b| !b.is_undefined())
        .map(|b| Uint8Array::new(&b));
    let decoded = message.as_ref().map(|m| {
        let bytes = m.to_vec();
        LayerIndex::decode(super::index_message::unchecked(&bytes))
    });
    match decoded {
        Some(Ok(index)) => WorkerReport::Done {
            id,
            summary,
            index: Arc::new(index),
            message,
        },
        Some(Err(e)) => WorkerReport::Failed {
            id,
            error: WorkerError::IndexUnreadable(e.to_string()),
        },
        None => WorkerReport::Failed {
            id,
            error: WorkerError::NoIndex,
        },
    }
}

/// Why a worker job or read failed: typed, so the page can tell a network failure from a
/// layer that failed its checks. Travels as JSON inside the reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", content = "detail")]
pub enum WorkerError {
    /// The blob or its tar failed a check (the `LayerError`'s message).
    #[error("{0}")]
    Layer(String),
    /// No diff_id in the config for this layer.
    #[error("the config lists no diff_id for this layer, so it cannot be verified")]
    NoDiffId,
    /// The source has no such blob (an archive without it); the source's message.
    #[error("{0}")]
    NotInSource(String),
    /// The relay could not be reached (the browser's message).
    #[error("relay unreachable: {0}")]
    Unreachable(String),
    /// The relay answered the blob request with an error status.
    #[error("blob request failed: HTTP {0}")]
    Http(u16),
    /// The blob response came without a body.
    #[error("blob response has no body")]
    NoBody,
    /// The body stream failed mid-way.
    #[error("download interrupted: {0}")]
    Interrupted(String),
    /// The worker could not read the page's request (the parser's message).
    #[error("bad job: {0}")]
    BadRequest(String),
    /// A split half came without its `MessagePort`.
    #[error("split layer job without a port")]
    NoPort,
    /// The page could not read a worker's message.
    #[error("unreadable message from a worker: {0}")]
    BadReport(String),
    /// A `Done` report's binary index does not decode.
    #[error("the worker's layer index is unreadable: {0}")]
    IndexUnreadable(String),
    /// A `Done` report without its binary index.
    #[error("the worker sent no layer index")]
    NoIndex,
    /// The back half of a split layer ended without a result.
    #[error("the split layer's back half sent no result")]
    NoBackResult,
    /// The page could not post the request to a worker.
    #[error("could not post the read to a worker")]
    NotPosted,
    /// No worker pool runs (the page is gone or never started it).
    #[error("the layer workers are not running")]
    NoWorkers,
}

impl From<LayerError> for WorkerError {
    fn from(e: LayerError) -> Self {
        WorkerError::Layer(e.to_string())
    }
}

impl From<RangeError> for WorkerError {
    fn from(e: RangeError) -> Self {
        WorkerError::Layer(e.to_string())
    }
}

/// A request as the message the page posts: `{text, port?}`, the port transferred.
pub fn request_message(request: &WorkerRequest, port: Option<&MessagePort>) -> (JsValue, Array) {
    let msg = Object::new();
    let transfer = Array::new();
    let text = serde_json::to_string(request).unwrap_or_default();
    let _ = Reflect::set(&msg, &"text".into(), &text.into());
    if let Some(port) = port {
        let _ = Reflect::set(&msg, &"port".into(), port);
        transfer.push(port);
    }
    (msg.into(), transfer)
}

/// A request the worker could not read: whom to tell, as far as the text says.
pub enum Unreadable {
    /// A layer job (whole or split) with this id.
    Layer(usize, WorkerError),
    /// A file read with this id.
    Read(u64, WorkerError),
    /// No id to answer to.
    Unknown(WorkerError),
}

/// The request and port in a message made by [`request_message`].
pub fn decode_request(data: &JsValue) -> Result<(WorkerRequest, Option<MessagePort>), Unreadable> {
    let text = data.as_string().or_else(|| {
        Reflect::get(data, &"text".into())
            .ok()
            .and_then(|t| t.as_string())
    });
    let port = Reflect::get(data, &"port".into())
        .ok()
        .and_then(|p| p.dyn_into::<MessagePort>().ok());
    let Some(text) = text else {
        return Err(Unreadable::Unknown(WorkerError::BadRequest(
            "a message without text".into(),
        )));
    };
    match serde_json::from_str::<WorkerRequest>(&text) {
        Ok(request) => Ok((request, port)),
        Err(e) => Err(unreadable(&text, WorkerError::BadRequest(e.to_string()))),
    }
}

/// Finds the job or read id in a request that did not parse, so its failure reaches
/// whoever waits for it.
fn unreadable(text: &str, error: WorkerError) -> Unreadable {
    let value: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let id = value.get("id").and_then(serde_json::Value::as_u64);
    match (value.get("kind").and_then(|k| k.as_str()), id) {
        (Some("ReadFile"), Some(id)) => Unreadable::Read(id, error),
        (Some("Layer" | "SplitFront" | "SplitBack"), Some(id)) => {
            Unreadable::Layer(id as usize, error)
        }
        _ => Unreadable::Unknown(error),
    }
}

/// A file read's answer: `{read: id, ok, error?, bytes?}`, the bytes transferred.
pub fn read_message(id: u64, result: &Result<Vec<u8>, WorkerError>) -> (JsValue, Array) {
    let msg = Object::new();
    let _ = Reflect::set(&msg, &"read".into(), &JsValue::from_f64(id as f64));
    let _ = Reflect::set(&msg, &"ok".into(), &JsValue::from_bool(result.is_ok()));
    let transfer = Array::new();
    match result {
        Ok(bytes) => {
            let array = Uint8Array::new_with_length(bytes.len() as u32);
            array.copy_from(bytes);
            let buffer = array.buffer();
            let _ = Reflect::set(&msg, &"bytes".into(), &buffer);
            transfer.push(&buffer);
        }
        Err(e) => {
            let text = serde_json::to_string(e).unwrap_or_default();
            let _ = Reflect::set(&msg, &"error".into(), &text.into());
        }
    }
    (msg.into(), transfer)
}

/// The front half's result as the message it posts: `{split: "front", text}`.
pub fn front_message(front: &FrontResult) -> JsValue {
    let msg = Object::new();
    let text = serde_json::to_string(front).unwrap_or_default();
    let _ = Reflect::set(&msg, &"split".into(), &"front".into());
    let _ = Reflect::set(&msg, &"text".into(), &text.into());
    msg.into()
}

/// What a worker posted, decoded on the page.
pub enum FromWorker {
    /// A whole layer's report (or `Ready`).
    Report(WorkerReport),
    /// The front half of a split layer ended.
    Front(FrontResult),
    /// The back half of a split layer ended.
    Back(WorkerReport),
    /// A file read's answer.
    Read(u64, Result<Vec<u8>, WorkerError>),
}

/// Decodes a worker's message; what cannot be read comes back as the reason.
pub fn decode_report(data: &JsValue) -> Result<FromWorker, WorkerError> {
    let get = |key: &str| Reflect::get(data, &key.into()).ok();
    if let Some(id) = get("read").and_then(|v| v.as_f64()) {
        let ok = get("ok").is_some_and(|v| v.is_truthy());
        let result = if ok {
            Ok(get("bytes")
                .map(|b| Uint8Array::new(&b).to_vec())
                .unwrap_or_default())
        } else {
            let text = get("error").and_then(|e| e.as_string()).unwrap_or_default();
            Err(serde_json::from_str(&text)
                .unwrap_or_else(|e| WorkerError::BadReport(format!("read error {text:?}: {e}"))))
        };
        return Ok(FromWorker::Read(id as u64, result));
    }
    let text = get("text")
        .and_then(|t| t.as_string())
        .ok_or_else(|| WorkerError::BadReport("a message without text".into()))?;
    let bad = |e: serde_json::Error| WorkerError::BadReport(e.to_string());
    let report = |text: &str| {
        serde_json::from_str(text)
            .map(|report| report_with_index(report, data))
            .map_err(bad)
    };
    match get("split").and_then(|s| s.as_string()).as_deref() {
        None => report(&text).map(FromWorker::Report),
        Some("front") => serde_json::from_str(&text)
            .map(FromWorker::Front)
            .map_err(bad),
        Some("back") => report(&text).map(FromWorker::Back),
        Some(other) => Err(WorkerError::BadReport(format!(
            "unknown split half {other:?}"
        ))),
    }
}

/// A message on a split layer's port.
pub enum PortMessage {
    /// A batch of decompressed bytes, copied out of the buffer it came in (to be given
    /// back with the acknowledgement).
    Batch(Vec<u8>, ArrayBuffer),
    /// The back processed one batch, and gave its buffer back.
    Ack(ArrayBuffer),
    /// Forget everything so far.
    Reset,
    /// The stream ended.
    End,
    /// The front failed.
    Abort(WorkerError),
    /// Anything else (ignored).
    Unknown,
}

impl PortMessage {
    /// Reads a port message; batches are copied out of their buffer.
    pub fn decode(data: &JsValue) -> Self {
        if let Some(batch) = data.dyn_ref::<Uint8Array>() {
            return PortMessage::Batch(batch.to_vec(), batch.buffer());
        }
        if let Some(buffer) = data.dyn_ref::<ArrayBuffer>() {
            return PortMessage::Ack(buffer.clone());
        }
        let Some(text) = data.as_string() else {
            return PortMessage::Unknown;
        };
        match text.as_str() {
            PORT_RESET => PortMessage::Reset,
            PORT_END => PortMessage::End,
            _ => match text.strip_prefix(PORT_ABORT) {
                Some(reason) => PortMessage::Abort(
                    serde_json::from_str(reason)
                        .unwrap_or_else(|_| WorkerError::Layer(reason.to_owned())),
                ),
                None => PortMessage::Unknown,
            },
        }
    }

    /// A control message as posted (batches and given-back buffers are transferred
    /// instead, see `split`).
    pub fn encode(&self) -> JsValue {
        let text = match self {
            PortMessage::Reset => PORT_RESET.to_owned(),
            PortMessage::End => PORT_END.to_owned(),
            PortMessage::Abort(e) => {
                format!(
                    "{PORT_ABORT}{}",
                    serde_json::to_string(e).unwrap_or_default()
                )
            }
            PortMessage::Batch(..) | PortMessage::Ack(_) | PortMessage::Unknown => String::new(),
        };
        JsValue::from_str(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn unreadable_requests_keep_their_id() {
        let e = WorkerError::BadRequest("x".into());
        assert!(matches!(
            unreadable(r#"{"kind":"ReadFile","id":7,"request":{}}"#, e.clone()),
            Unreadable::Read(7, _)
        ));
        assert!(matches!(
            unreadable(r#"{"kind":"SplitBack","id":3,"digest":"nope"}"#, e.clone()),
            Unreadable::Layer(3, _)
        ));
        assert!(matches!(unreadable("not json", e), Unreadable::Unknown(_)));
    }

    #[wasm_bindgen_test]
    fn errors_round_trip_as_json() {
        for e in [
            WorkerError::Http(404),
            WorkerError::NoDiffId,
            WorkerError::Layer("bad".into()),
        ] {
            let text = serde_json::to_string(&e).unwrap();
            assert_eq!(serde_json::from_str::<WorkerError>(&text).unwrap(), e);
        }
    }
}
