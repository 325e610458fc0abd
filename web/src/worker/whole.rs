//! One whole layer in one worker: the shared pipeline (digest, decompression, diff_id,
//! tar index), fed chunk by chunk as the blob downloads.

use strata_shared::layer::{LayerPipeline, LayerSpec, Limits, VerifiedLayer};

use super::blob::{ChunkReader, with_blob};
use super::js::{now_ms, post, wasm_memory_bytes};
use super::protocol::{LayerJob, LayerSummary, Stage, StageTimes, WorkerError, WorkerReport};

/// The state of one layer being processed.
struct LayerRun {
    id: usize,
    pipeline: LayerPipeline,
}

impl LayerRun {
    /// Prepares the pipeline for `job`; a missing diff_id fails the layer.
    fn new(job: &LayerJob) -> Result<Self, WorkerError> {
        let diff_id = job.expected_diff_id()?;
        let spec = LayerSpec {
            media_type: job.media_type.as_str().to_owned(),
            digest: job.digest.clone(),
            size: job.size,
            diff_id,
        };
        let pipeline = LayerPipeline::new(&spec, Limits::default())?;
        Ok(LayerRun {
            id: job.id,
            pipeline,
        })
    }

    /// A progress report.
    fn progress(&self, stage: Stage) -> WorkerReport {
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
    fn finish(
        self,
        millis: f64,
        cached: bool,
    ) -> Result<(LayerSummary, VerifiedLayer), WorkerError> {
        let layer = self.pipeline.finish()?;
        let summary = LayerSummary {
            compressed: layer.compressed_size,
            decompressed: layer.decompressed_size,
            diff_id: Some(layer.diff_id.to_string()),
            diff_id_checked: layer.diff_id_checked,
            entries: layer.index.len() as u64,
            millis,
            cached,
            verified_earlier_ms: None,
            worker_memory_bytes: wasm_memory_bytes(),
            times: StageTimes::default(),
            front_times: None,
        };
        Ok((summary, layer))
    }
}

/// Runs one whole layer job and reports `Done` or `Failed`.
pub(super) async fn run(job: LayerJob) {
    let id = job.id;
    let result = with_blob(
        &job.url,
        &job.digest.to_string(),
        true,
        |reader, cached, _retry| consume(job.clone(), reader, cached),
    )
    .await;
    let report = match result {
        Ok((summary, layer)) => WorkerReport::Done {
            id,
            summary,
            index: std::sync::Arc::new(layer.index),
            message: None,
        },
        Err(error) => WorkerReport::Failed { id, error },
    };
    post(&report, None);
}

async fn consume(
    job: LayerJob,
    mut reader: ChunkReader,
    cached: bool,
) -> Result<(LayerSummary, VerifiedLayer), WorkerError> {
    let started = now_ms();
    let mut run = LayerRun::new(&job)?;
    let mut last_report = 0.0;
    let mut times = StageTimes::default();
    while let Some(chunk) = reader.next().await? {
        let got = now_ms();
        if let Err(e) = run.pipeline.push(&chunk) {
            reader.cancel();
            return Err(e.into());
        }
        let t = now_ms();
        times.computing_ms += t - got;
        if t - last_report > 100.0 {
            last_report = t;
            post(&run.progress(Stage::Downloading), None);
        }
    }
    post(&run.progress(Stage::Indexing), None);
    let finishing = now_ms();
    let (mut summary, layer) = run.finish(now_ms() - started, cached)?;
    times.computing_ms += now_ms() - finishing;
    times.waiting_ms = reader.waited_ms();
    times.stalled_ms = reader.stalled_ms();
    summary.times = times;
    Ok((summary, layer))
}
