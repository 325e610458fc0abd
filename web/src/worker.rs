//! Runs inside a Web Worker: takes layer jobs (whole, or one half of a split layer) and
//! file reads, streams the blob (from the browser's Cache Storage when it is there, else
//! from the relay), feeds each chunk to the layer pipeline as it arrives, and reports
//! progress and the verified index.

use std::future::Future;

use js_sys::Uint8Array;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Cache, DedicatedWorkerGlobalScope, MessageEvent, MessagePort, ReadableStreamDefaultReader,
    Response,
};

use crate::layer_job::LayerRun;
use crate::worker_protocol::{LayerJob, LayerSummary, Stage, WorkerReport, WorkerRequest};

/// Blobs are immutable by digest, so the cache is keyed by digest alone. Cached bytes go
/// through the same pipeline, so they are verified again on every read.
const CACHE_NAME: &str = "strata-blobs-v1";

pub(crate) fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

pub(crate) fn post(report: &WorkerReport) {
    let (msg, transfer) = crate::worker_protocol::report_message(report, None);
    let _ = scope().post_message_with_transfer(&msg, &transfer);
}

pub(crate) fn now_ms() -> f64 {
    scope().performance().map(|p| p.now()).unwrap_or(0.0)
}

/// Installs the message handler and tells the page this worker is ready.
pub fn start() {
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| {
        let data = event.data();
        let text = data.as_string().or_else(|| {
            js_sys::Reflect::get(&data, &"text".into())
                .ok()
                .and_then(|t| t.as_string())
        });
        let port = js_sys::Reflect::get(&data, &"port".into())
            .ok()
            .and_then(|p| p.dyn_into::<MessagePort>().ok());
        let request = text
            .ok_or_else(|| "a message without text".to_owned())
            .and_then(|t| serde_json::from_str::<WorkerRequest>(&t).map_err(|e| e.to_string()));
        match (request, port) {
            (Ok(WorkerRequest::Layer(job)), _) => wasm_bindgen_futures::spawn_local(run(job)),
            (Ok(WorkerRequest::SplitFront(job)), Some(port)) => {
                wasm_bindgen_futures::spawn_local(crate::worker_split::front(job, port))
            }
            (Ok(WorkerRequest::SplitBack(job)), Some(port)) => crate::worker_split::back(job, port),
            (Ok(WorkerRequest::ReadFile { id, request }), _) => {
                wasm_bindgen_futures::spawn_local(crate::worker_read::run(id, request))
            }
            (Ok(WorkerRequest::SplitFront(job) | WorkerRequest::SplitBack(job)), None) => {
                post(&WorkerReport::Failed {
                    id: job.id,
                    error: "split layer job without a port".into(),
                })
            }
            (Err(e), _) => post(&WorkerReport::Failed {
                id: usize::MAX,
                error: format!("bad job: {e}"),
            }),
        }
    });
    scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    post(&WorkerReport::Ready);
}

async fn run(job: LayerJob) {
    let id = job.id;
    let result = with_blob(&job.url, &job.digest, true, |response, cached, _retry| {
        consume(job.clone(), response, cached)
    })
    .await;
    let report = match result {
        Ok((summary, layer)) => WorkerReport::Done {
            id,
            summary,
            index: layer.index,
        },
        Err(error) => WorkerReport::Failed { id, error },
    };
    post(&report);
}

pub(crate) fn js_error(v: JsValue) -> String {
    v.as_string()
        .or_else(|| js_sys::JSON::stringify(&v).ok().and_then(|s| s.as_string()))
        .unwrap_or_else(|| "unknown error".into())
}

fn cache_key(url: &str, digest: &str) -> String {
    // The job URL is absolute (the worker's own base is a blob: URL): keep its origin.
    let origin = url.find("/api/").map_or(url, |at| &url[..at]);
    format!("{origin}/__strata_blob_cache__/{digest}")
}

async fn open_cache() -> Option<Cache> {
    let caches = scope().caches().ok()?;
    JsFuture::from(caches.open(CACHE_NAME))
        .await
        .ok()
        .map(JsCast::unchecked_into)
}

async fn cached_response(cache: &Cache, key: &str) -> Option<Response> {
    let hit = JsFuture::from(cache.match_with_str(key)).await.ok()?;
    hit.dyn_into::<Response>().ok()
}

/// Streams the blob of `digest` through `consume`: from Cache Storage first; if that copy
/// fails (`consume` errs), it is dropped and the relay's copy is consumed instead
/// (`retry` is then true). With `store`, the relay's copy is cached as it streams and
/// dropped again unless `consume` accepted it.
pub(crate) async fn with_blob<T, F, Fut>(
    url: &str,
    digest: &str,
    store: bool,
    mut consume: F,
) -> Result<T, String>
where
    F: FnMut(Response, bool, bool) -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let cache = open_cache().await;
    let key = cache_key(url, digest);
    let mut retry = false;
    if let Some(cache) = &cache
        && let Some(response) = cached_response(cache, &key).await
    {
        match consume(response, true, false).await {
            Ok(done) => return Ok(done),
            // A cached blob that no longer verifies is dropped and fetched again.
            Err(_) => {
                retry = true;
                let _ = JsFuture::from(cache.delete_with_str(&key)).await;
            }
        }
    }
    let response: Response = JsFuture::from(scope().fetch_with_str(url))
        .await
        .map_err(|e| format!("relay unreachable: {}", js_error(e)))?
        .unchecked_into();
    if !response.ok() {
        return Err(format!("blob request failed: HTTP {}", response.status()));
    }
    let stored = match (&cache, store, response.clone()) {
        (Some(cache), true, Ok(copy)) => Some(JsFuture::from(cache.put_with_str(&key, &copy))),
        _ => None,
    };
    let result = consume(response, false, retry).await;
    if let Some(stored) = stored {
        let stored_ok = stored.await.is_ok();
        if (result.is_err() || !stored_ok)
            && let Some(cache) = &cache
        {
            let _ = JsFuture::from(cache.delete_with_str(&key)).await;
        }
    }
    result
}

/// The chunks of a response body, as fetch delivers them.
pub(crate) struct ChunkReader {
    reader: ReadableStreamDefaultReader,
}

impl ChunkReader {
    pub(crate) fn new(response: &Response) -> Result<Self, String> {
        let body = response.body().ok_or("blob response has no body")?;
        Ok(ChunkReader {
            reader: body.get_reader().unchecked_into(),
        })
    }

    /// The next chunk, or `None` at the end of the body.
    pub(crate) async fn next(&mut self) -> Result<Option<Vec<u8>>, String> {
        let result = JsFuture::from(self.reader.read())
            .await
            .map_err(|e| format!("download interrupted: {}", js_error(e)))?;
        let done = js_sys::Reflect::get(&result, &"done".into())
            .map(|d| d.is_truthy())
            .unwrap_or(true);
        if done {
            return Ok(None);
        }
        let value = js_sys::Reflect::get(&result, &"value".into()).map_err(js_error)?;
        Ok(Some(Uint8Array::new(&value).to_vec()))
    }

    /// Stops the download (when the bytes are no longer needed).
    pub(crate) fn cancel(&self) {
        let _ = self.reader.cancel();
    }
}

async fn consume(
    job: LayerJob,
    response: Response,
    cached: bool,
) -> Result<(LayerSummary, strata_shared::layer::VerifiedLayer), String> {
    let started = now_ms();
    let mut run = LayerRun::new(&job)?;
    let mut reader = ChunkReader::new(&response)?;
    let mut last_report = 0.0;
    while let Some(chunk) = reader.next().await? {
        if let Err(e) = run.push(&chunk) {
            reader.cancel();
            return Err(e);
        }
        let t = now_ms();
        if t - last_report > 100.0 {
            last_report = t;
            post(&run.progress(Stage::Downloading));
        }
    }
    post(&run.progress(Stage::Indexing));
    run.finish(now_ms() - started, cached)
}
