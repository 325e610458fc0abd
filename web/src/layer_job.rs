//! One layer's run inside a worker: the shared pipeline, fed chunk by chunk.

use strata_shared::{Digest, DigestVerifier};

use crate::worker_protocol::{LayerJob, LayerSummary, Stage, WorkerReport};

/// The state of one layer being processed.
pub struct LayerRun {
    id: usize,
    verifier: DigestVerifier,
}

impl LayerRun {
    /// Prepares the pipeline for `job`.
    pub fn new(job: &LayerJob) -> Result<Self, String> {
        let digest = Digest::parse(&job.digest).map_err(|e| e.to_string())?;
        Ok(LayerRun { id: job.id, verifier: DigestVerifier::new(digest, Some(job.size)) })
    }

    /// Feeds the next chunk of compressed bytes.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), String> {
        self.verifier.update(chunk).map_err(|e| format!("layer {e}"))
    }

    /// A progress report.
    pub fn progress(&self, stage: Stage) -> WorkerReport {
        WorkerReport::Progress {
            id: self.id,
            stage,
            compressed: self.verifier.bytes_seen(),
            decompressed: 0,
            entries: 0,
        }
    }

    /// Checks everything at the end of the stream.
    pub fn finish(self, millis: f64) -> Result<LayerSummary, String> {
        let compressed = self.verifier.bytes_seen();
        self.verifier.finish().map_err(|e| format!("layer {e}"))?;
        Ok(LayerSummary { compressed, millis, ..LayerSummary::default() })
    }
}
