//! Runs inside a Web Worker: takes one layer job at a time, streams the blob (from the
//! browser's Cache Storage when it is there, else from the relay), feeds each chunk to the
//! layer pipeline as it arrives, and reports progress and the verified index.

use js_sys::Uint8Array;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Cache, DedicatedWorkerGlobalScope, MessageEvent, ReadableStreamDefaultReader, Response,
};

use crate::layer_job::LayerRun;
use crate::worker_protocol::{LayerJob, Stage, WorkerReport};

/// Blobs are immutable by digest, so the cache is keyed by digest alone. Cached bytes go
/// through the same pipeline, so they are verified again on every read.
const CACHE_NAME: &str = "strata-blobs-v1";

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(report: &WorkerReport) {
    if let Ok(text) = serde_json::to_string(report) {
        let _ = scope().post_message(&JsValue::from_str(&text));
    }
}

fn now_ms() -> f64 {
    scope().performance().map(|p| p.now()).unwrap_or(0.0)
}

/// Installs the message handler and tells the page this worker is ready.
pub fn start() {
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| {
        let Some(text) = event.data().as_string() else {
            return;
        };
        match serde_json::from_str::<LayerJob>(&text) {
            Ok(job) => wasm_bindgen_futures::spawn_local(run(job)),
            Err(e) => post(&WorkerReport::Failed {
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
    let report = match process(&job).await {
        Ok((summary, layer)) => WorkerReport::Done {
            id,
            summary,
            index: layer.index,
        },
        Err(error) => WorkerReport::Failed { id, error },
    };
    post(&report);
}

fn js_error(v: JsValue) -> String {
    v.as_string()
        .or_else(|| js_sys::JSON::stringify(&v).ok().and_then(|s| s.as_string()))
        .unwrap_or_else(|| "unknown error".into())
}

fn cache_key(job: &LayerJob) -> String {
    // The job URL is absolute (the worker's own base is a blob: URL): keep its origin.
    let origin = job
        .url
        .find("/api/")
        .map_or(job.url.as_str(), |at| &job.url[..at]);
    format!("{origin}/__strata_blob_cache__/{}", job.digest)
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

async fn process(
    job: &LayerJob,
) -> Result<
    (
        crate::worker_protocol::LayerSummary,
        strata_shared::layer::VerifiedLayer,
    ),
    String,
> {
    let cache = open_cache().await;
    let key = cache_key(job);
    if let Some(cache) = &cache
        && let Some(response) = cached_response(cache, &key).await
    {
        match consume(job, response, true).await {
            Ok(done) => return Ok(done),
            // A cached blob that no longer verifies is dropped and fetched again.
            Err(_) => {
                let _ = JsFuture::from(cache.delete_with_str(&key)).await;
            }
        }
    }
    let response: Response = JsFuture::from(scope().fetch_with_str(&job.url))
        .await
        .map_err(|e| format!("relay unreachable: {}", js_error(e)))?
        .unchecked_into();
    if !response.ok() {
        return Err(format!("blob request failed: HTTP {}", response.status()));
    }
    let stored = match (&cache, response.clone()) {
        (Some(cache), Ok(copy)) => Some(JsFuture::from(cache.put_with_str(&key, &copy))),
        _ => None,
    };
    let result = consume(job, response, false).await;
    if let Some(stored) = stored {
        let stored_ok = stored.await.is_ok();
        if (result.is_err() || !stored_ok)
            && cache.is_some()
            && let Some(cache) = &cache
        {
            let _ = JsFuture::from(cache.delete_with_str(&key)).await;
        }
    }
    result
}

async fn consume(
    job: &LayerJob,
    response: Response,
    cached: bool,
) -> Result<
    (
        crate::worker_protocol::LayerSummary,
        strata_shared::layer::VerifiedLayer,
    ),
    String,
> {
    let started = now_ms();
    let mut run = LayerRun::new(job)?;
    let body = response.body().ok_or("blob response has no body")?;
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut last_report = 0.0;
    loop {
        let result = JsFuture::from(reader.read())
            .await
            .map_err(|e| format!("download interrupted: {}", js_error(e)))?;
        let done = js_sys::Reflect::get(&result, &"done".into())
            .map(|d| d.is_truthy())
            .unwrap_or(true);
        if done {
            break;
        }
        let value = js_sys::Reflect::get(&result, &"value".into()).map_err(js_error)?;
        let chunk = Uint8Array::new(&value).to_vec();
        run.push(&chunk)?;
        let t = now_ms();
        if t - last_report > 100.0 {
            last_report = t;
            post(&run.progress(Stage::Downloading));
        }
    }
    post(&run.progress(Stage::Indexing));
    run.finish(now_ms() - started, cached)
}
