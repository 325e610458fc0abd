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
//! On a split layer's port, the front posts decompressed batches (transferred
//! `ArrayBuffer`s of about [`SPLIT_BATCH_BYTES`]) and the strings [`PORT_RESET`],
//! [`PORT_END`] or `abort:REASON`; the back answers [`PORT_ACK`] for every batch it
//! processed, so at most [`SPLIT_MAX_IN_FLIGHT`] batches wait in memory.

use js_sys::{Array, Object, Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use strata_shared::layer::LayerIndex;
use wasm_bindgen::JsValue;

/// Decompressed bytes per batch the front of a split layer posts to the back.
pub const SPLIT_BATCH_BYTES: usize = 1 << 20;
/// Batches the front may post before the back acknowledges one.
pub const SPLIT_MAX_IN_FLIGHT: u32 = 8;
/// Port message: the back processed one batch.
pub const PORT_ACK: &str = "ack";
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
    pub digest: String,
    /// The layer's size from the manifest.
    pub size: u64,
    /// The layer's media type from the manifest.
    pub media_type: String,
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
    pub result: Result<FrontSummary, String>,
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
}

/// One layer to fetch, verify and index.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LayerJob {
    /// The page's id for the job (the layer index).
    pub id: usize,
    /// Absolute relay URL of the blob.
    pub url: String,
    /// The layer's digest from the manifest.
    pub digest: String,
    /// The layer's size from the manifest.
    pub size: u64,
    /// The layer's media type from the manifest.
    pub media_type: String,
    /// The config's `rootfs.diff_ids[id]`, when present.
    pub diff_id: Option<String>,
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
        /// The layer's entries, for the file views (travels as binary, not in the JSON).
        #[serde(skip)]
        index: LayerIndex,
    },
    /// The job failed.
    Failed {
        /// Job id.
        id: usize,
        /// What failed, for the user.
        error: String,
    },
}

/// What the page shows of a finished layer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerSummary {
    /// Compressed bytes verified.
    pub compressed: u64,
    /// Decompressed bytes (the diff).
    pub decompressed: u64,
    /// The verified diff_id.
    pub diff_id: Option<String>,
    /// Entries in the layer's tar.
    pub entries: u64,
    /// Milliseconds from first byte to verified.
    pub millis: f64,
    /// Whether the blob came from the browser cache.
    pub cached: bool,
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
        let bytes = Uint8Array::from(index.encode().as_slice());
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
    let bytes = Reflect::get(data, &"index".into())
        .ok()
        .filter(|b| !b.is_undefined())
        .map(|b| Uint8Array::new(&b).to_vec());
    match bytes.map(|b| LayerIndex::decode(&b)) {
        Some(Ok(index)) => WorkerReport::Done { id, summary, index },
        Some(Err(e)) => WorkerReport::Failed {
            id,
            error: format!("the worker's layer index is unreadable: {e}"),
        },
        None => WorkerReport::Failed {
            id,
            error: "the worker sent no layer index".into(),
        },
    }
}
