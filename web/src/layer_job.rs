//! One layer's run inside a worker: the shared pipeline (digest, decompression, diff_id,
//! tar index), fed chunk by chunk as the blob downloads.

use strata_shared::Digest;
use strata_shared::layer::{LayerPipeline, LayerSpec, Limits, VerifiedLayer};

use crate::worker_protocol::{LayerJob, LayerSummary, Stage, WorkerReport};

/// The state of one layer being processed.
pub struct LayerRun {
    id: usize,
    pipeline: LayerPipeline,
}

impl LayerRun {
    /// Prepares the pipeline for `job`; a missing or malformed digest fails the layer.
    pub fn new(job: &LayerJob) -> Result<Self, String> {
        let digest = Digest::parse(&job.digest).map_err(|e| format!("layer digest: {e}"))?;
        let diff_id = job
            .diff_id
            .as_deref()
            .ok_or("the config lists no diff_id for this layer, so it cannot be verified")?;
        let diff_id = Digest::parse(diff_id).map_err(|e| format!("diff_id: {e}"))?;
        let spec = LayerSpec {
            media_type: job.media_type.clone(),
            digest,
            size: Some(job.size),
            diff_id,
        };
        let pipeline = LayerPipeline::new(&spec, Limits::default()).map_err(|e| e.to_string())?;
        Ok(LayerRun {
            id: job.id,
            pipeline,
        })
    }

    /// Feeds the next chunk of compressed bytes.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), String> {
        self.pipeline.push(chunk).map_err(|e| e.to_string())
    }

    /// A progress report.
    pub fn progress(&self, stage: Stage) -> WorkerReport {
        let p = self.pipeline.progress();
        WorkerReport::Progress {
            id: self.id,
            stage,
            compressed: p.compressed_in,
            decompressed: p.decompressed_out,
            entries: p.entries,
        }
    }

    /// Checks everything at the end of the stream: size, digest, diff_id, tar end.
    pub fn finish(
        self,
        millis: f64,
        cached: bool,
    ) -> Result<(LayerSummary, VerifiedLayer), String> {
        let layer = self.pipeline.finish().map_err(|e| e.to_string())?;
        let summary = LayerSummary {
            compressed: layer.compressed_size,
            decompressed: layer.decompressed_size,
            diff_id: Some(layer.diff_id.to_string()),
            entries: layer.index.len() as u64,
            millis,
            cached,
        };
        Ok((summary, layer))
    }
}
