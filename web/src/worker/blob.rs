//! A layer blob's bytes inside a worker: from the browser's Cache Storage when it is
//! there, else from the relay, as the chunks fetch delivers.

use std::future::Future;

use js_sys::Uint8Array;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, ReadableStreamDefaultReader, Response};

use super::js::{js_error, scope};
use super::protocol::WorkerError;

/// Blobs are immutable by digest, so the cache is keyed by digest alone. Cached bytes go
/// through the same pipeline, so they are verified again on every read.
const CACHE_NAME: &str = "strata-blobs-v1";

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
) -> Result<T, WorkerError>
where
    F: FnMut(Response, bool, bool) -> Fut,
    Fut: Future<Output = Result<T, WorkerError>>,
{
    // A `blob:` URL is a slice of a file opened in this tab: already local, and Cache
    // Storage takes only http(s) keys. Teeing its stream into a cache write that can never
    // read it would buffer the whole blob in memory.
    let cache = if url.starts_with("http:") || url.starts_with("https:") {
        open_cache().await
    } else {
        None
    };
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
    let request = crate::api::companion_request(url, &web_sys::RequestInit::new())
        .map_err(|e| WorkerError::Unreachable(js_error(e)))?;
    let response: Response = JsFuture::from(scope().fetch_with_request(&request))
        .await
        .map_err(|e| WorkerError::Unreachable(js_error(e)))?
        .unchecked_into();
    if !response.ok() {
        return Err(WorkerError::Http(response.status()));
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
    pub(crate) fn new(response: &Response) -> Result<Self, WorkerError> {
        let body = response.body().ok_or(WorkerError::NoBody)?;
        Ok(ChunkReader {
            reader: body.get_reader().unchecked_into(),
        })
    }

    /// The next chunk, or `None` at the end of the body.
    pub(crate) async fn next(&mut self) -> Result<Option<Vec<u8>>, WorkerError> {
        let interrupted = |e| WorkerError::Interrupted(js_error(e));
        let result = JsFuture::from(self.reader.read())
            .await
            .map_err(interrupted)?;
        let done = js_sys::Reflect::get(&result, &"done".into())
            .map(|d| d.is_truthy())
            .unwrap_or(true);
        if done {
            return Ok(None);
        }
        let value = js_sys::Reflect::get(&result, &"value".into()).map_err(interrupted)?;
        Ok(Some(Uint8Array::new(&value).to_vec()))
    }

    /// Stops the download (when the bytes are no longer needed).
    pub(crate) fn cancel(&self) {
        let _ = self.reader.cancel();
    }
}
