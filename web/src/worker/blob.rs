//! A layer blob's bytes inside a worker: from the browser's Cache Storage when it is
//! there, else from the relay, as the chunks fetch delivers.

use std::future::Future;
use std::rc::Rc;

use js_sys::Uint8Array;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, ReadableStreamDefaultReader, Response};

use super::cache_feed::CacheFeed;
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
/// (`retry` is then true). With `store`, the relay's copy is cached as `consume` reads it
/// (never faster, and the reader waits when the write falls behind; see [`CacheFeed`])
/// and dropped again unless `consume` accepted it.
pub(crate) async fn with_blob<T, F, Fut>(
    url: &str,
    digest: &str,
    store: bool,
    mut consume: F,
) -> Result<T, WorkerError>
where
    F: FnMut(ChunkReader, bool, bool) -> Fut,
    Fut: Future<Output = Result<T, WorkerError>>,
{
    // A `blob:` URL is a slice of a file opened in this tab: already local, and Cache
    // Storage takes only http(s) keys.
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
        match consume(ChunkReader::new(&response, None)?, true, false).await {
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
    let feed = match (&cache, store) {
        (Some(cache), true) => CacheFeed::start(cache, &key).map(Rc::new),
        _ => None,
    };
    let result = consume(ChunkReader::new(&response, feed.clone())?, false, retry).await;
    if let Some(feed) = feed {
        let stored_ok = feed.finish(result.is_ok()).await;
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
    /// Where each chunk is also written, as it is read.
    feed: Option<Rc<CacheFeed>>,
    /// Milliseconds spent waiting for chunks.
    waited_ms: f64,
}

impl ChunkReader {
    fn new(response: &Response, feed: Option<Rc<CacheFeed>>) -> Result<Self, WorkerError> {
        let body = response.body().ok_or(WorkerError::NoBody)?;
        Ok(ChunkReader {
            reader: body.get_reader().unchecked_into(),
            feed,
            waited_ms: 0.0,
        })
    }

    /// Milliseconds spent waiting for the chunks read so far.
    pub(crate) fn waited_ms(&self) -> f64 {
        self.waited_ms
    }

    /// Milliseconds spent waiting for the cache write to take what was read.
    pub(crate) fn stalled_ms(&self) -> f64 {
        self.feed.as_ref().map_or(0.0, |feed| feed.stalled_ms())
    }

    /// The next chunk, or `None` at the end of the body.
    pub(crate) async fn next(&mut self) -> Result<Option<Vec<u8>>, WorkerError> {
        let interrupted = |e| WorkerError::Interrupted(js_error(e));
        if let Some(feed) = &self.feed {
            feed.ready().await;
        }
        let asked = super::js::now_ms();
        let result = JsFuture::from(self.reader.read()).await;
        self.waited_ms += super::js::now_ms() - asked;
        let result = result.map_err(interrupted)?;
        let done = js_sys::Reflect::get(&result, &"done".into())
            .map(|d| d.is_truthy())
            .unwrap_or(true);
        if done {
            if let Some(feed) = &self.feed {
                feed.close();
            }
            return Ok(None);
        }
        let value = js_sys::Reflect::get(&result, &"value".into()).map_err(interrupted)?;
        if let Some(feed) = &self.feed {
            feed.write(&value);
        }
        Ok(Some(Uint8Array::new(&value).to_vec()))
    }

    /// Stops the download (when the bytes are no longer needed).
    pub(crate) fn cancel(&self) {
        let _ = self.reader.cancel();
    }
}
