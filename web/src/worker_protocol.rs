//! Messages between the page and the layer workers, as JSON strings (postMessage).

use serde::{Deserialize, Serialize};

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
        /// The layer's entries, for the file views.
        index: strata_shared::layer::LayerIndex,
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
