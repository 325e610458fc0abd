//! What this browser has verified already: each layer's index and summary, kept after the
//! layer's blob digest and diff_id were checked, so a revisit shows the verified tree
//! without fetching, hashing or inflating the layer again.
//!
//! An entry is keyed by the layer's digest, the diff_id it was checked against and the
//! index format's version (a new format never reads an old entry). Its body carries an
//! XXH3-64 checksum: a corrupt or truncated entry is dropped and the layer verified
//! afresh, never shown as verified. The cache is bounded: entries are listed with their
//! sizes and last use in localStorage and the least recently used go first once the
//! budget is passed; a write the browser refuses (quota) is dropped.
//!
//! Entries can be read early, before the documents that name them are verified (see
//! [`crate::early_reads`]); what an early read returns is used only for the key the
//! verified documents name.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::{LocalBoxFuture, Shared};

use js_sys::Uint8Array;
use strata_shared::layer::{INDEX_CODEC_VERSION, LayerIndex};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, Response};

use crate::worker::index_message;
use crate::worker::protocol::{LayerJob, LayerSummary};

/// The Cache Storage cache of verified layers.
const CACHE_NAME: &str = "strata-verified-v1";
/// Where its use is listed, for eviction.
const LRU_KEY: &str = "strata.verified-lru.v1";
/// Most bytes of indexes kept.
const BUDGET_BYTES: u64 = 512 << 20;
/// First bytes of an entry's body.
const MAGIC: &[u8; 4] = b"SVL2";

/// A layer read back from the cache.
#[derive(Clone, Debug)]
pub(crate) struct CachedLayer {
    /// Its summary, with `verified_earlier_ms` set.
    pub summary: LayerSummary,
    /// Its index.
    pub index: Arc<LayerIndex>,
}

/// The cache key of a job's layer, or `None` when it is not kept (a file opened in this
/// tab: its listing stays out of the browser's storage).
pub(crate) fn key_of(job: &LayerJob) -> Option<String> {
    if !(job.url.starts_with("http:") || job.url.starts_with("https:")) {
        return None;
    }
    let origin = job
        .url
        .find("/api/")
        .map_or(job.url.as_str(), |at| &job.url[..at]);
    let diff_id = match (&job.diff_id, job.without_diff_ids) {
        (Some(d), _) => d.to_string(),
        (None, true) => "unchecked".to_owned(),
        (None, false) => return None,
    };
    Some(format!(
        "{origin}/__strata_verified__/layer/v{INDEX_CODEC_VERSION}/{}/{diff_id}",
        job.digest
    ))
}

async fn open() -> Option<Cache> {
    let caches = web_sys::window()?.caches().ok()?;
    JsFuture::from(caches.open(CACHE_NAME))
        .await
        .ok()
        .map(JsCast::unchecked_into)
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// An entry's head: `MAGIC`, the checksum of the fields after it, then verified-at,
/// the summary JSON's length and the JSON. The layer's index message follows it as the
/// worker sent it (see [`index_message`]), with its own checksum.
fn head(summary: &LayerSummary, verified_ms: f64) -> Vec<u8> {
    let json = serde_json::to_vec(summary).unwrap_or_default();
    let mut fields = Vec::with_capacity(12 + json.len());
    fields.extend_from_slice(&verified_ms.to_le_bytes());
    fields.extend_from_slice(&u32::try_from(json.len()).unwrap_or(u32::MAX).to_le_bytes());
    fields.extend_from_slice(&json);
    let mut out = Vec::with_capacity(12 + fields.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&index_message::checksum(&fields).to_le_bytes());
    out.extend_from_slice(&fields);
    out
}

/// The entry's layer, or `None` when any part fails its check.
fn decode(bytes: &[u8]) -> Option<CachedLayer> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let (sum, fields) = rest.split_at_checked(8)?;
    let (verified, rest) = fields.split_at_checked(8)?;
    let (len, rest) = rest.split_at_checked(4)?;
    let len = u32::from_le_bytes(len.try_into().ok()?) as usize;
    let (json, message) = rest.split_at_checked(len)?;
    let head_fields = &fields[..12 + len];
    if u64::from_le_bytes(sum.try_into().ok()?) != index_message::checksum(head_fields) {
        return None;
    }
    let mut summary: LayerSummary = serde_json::from_slice(json).ok()?;
    summary.verified_earlier_ms = Some(f64::from_le_bytes(verified.try_into().ok()?));
    summary.cached = true;
    let index = Arc::new(LayerIndex::decode(index_message::checked(message)?).ok()?);
    Some(CachedLayer { summary, index })
}

/// The layer verified earlier in this browser, if its entry is there and intact (a
/// damaged entry is deleted).
pub(crate) async fn load(key: &str) -> Option<CachedLayer> {
    let cache = open().await?;
    let hit = JsFuture::from(cache.match_with_str(key)).await.ok()?;
    let response: Response = hit.dyn_into().ok()?;
    let body = JsFuture::from(response.array_buffer().ok()?).await.ok()?;
    let bytes = Uint8Array::new(&body).to_vec();
    let decoding = crate::user_timing::span("strata:verified-cache-decode");
    let decoded = decode(&bytes);
    drop(decoding);
    match decoded {
        Some(layer) => {
            touch(key, bytes.len() as u64);
            Some(layer)
        }
        None => {
            let _ = JsFuture::from(cache.delete_with_str(key)).await;
            forget_listed(&[key.to_owned()]);
            None
        }
    }
}

/// A read of one entry under way, awaited by whoever needs it first.
type EarlyRead = Shared<LocalBoxFuture<'static, Option<CachedLayer>>>;

thread_local! {
    /// The reads [`read_early`] started for the page on screen, by key.
    static EARLY: RefCell<HashMap<String, EarlyRead>> = RefCell::new(HashMap::new());
}

/// Starts reading these entries now, before anything asks for them (a revisit's
/// documents are still on their way); replaces the last page's reads.
pub(crate) fn read_early(keys: &[String]) {
    let reads: HashMap<String, EarlyRead> = keys
        .iter()
        .map(|key| {
            let read = {
                let key = key.clone();
                async move { load(&key).await }.boxed_local().shared()
            };
            // Polled now, not when first awaited.
            wasm_bindgen_futures::spawn_local(read.clone().map(drop));
            (key.clone(), read)
        })
        .collect();
    EARLY.with(|e| *e.borrow_mut() = reads);
}

/// The entry of `key`: from the read started early when there is one, else read now.
pub(crate) async fn load_soon(key: &str) -> Option<CachedLayer> {
    match EARLY.with(|e| e.borrow_mut().remove(key)) {
        Some(read) => read.await,
        None => load(key).await,
    }
}

/// Keeps a layer that was just verified: its head and the index message its worker sent,
/// written as they are (the page encodes and copies nothing big).
pub(crate) fn store(key: String, summary: LayerSummary, message: Uint8Array) {
    let verified_ms = now_ms();
    wasm_bindgen_futures::spawn_local(async move {
        let head = Uint8Array::from(head(&summary, verified_ms).as_slice());
        let bytes = u64::from(head.length()) + u64::from(message.length());
        let parts = js_sys::Array::of2(&head, &message);
        let Ok(body) = web_sys::Blob::new_with_u8_array_sequence(&parts) else {
            return;
        };
        drop(message);
        let Some(cache) = open().await else { return };
        let Ok(response) = Response::new_with_opt_blob(Some(&body)) else {
            return;
        };
        // A write the browser refuses (over quota) leaves the layer uncached.
        if JsFuture::from(cache.put_with_str(&key, &response))
            .await
            .is_ok()
        {
            touch(&key, bytes);
            evict(&cache).await;
        }
    });
}

/// Deletes the entries of these keys (the image page's "verify again").
pub(crate) async fn forget(keys: &[String]) {
    if let Some(cache) = open().await {
        for key in keys {
            let _ = JsFuture::from(cache.delete_with_str(key)).await;
        }
    }
    forget_listed(keys);
}

/// Deletes everything this browser kept of verified images: the verified layers and the
/// cached blobs.
pub(crate) async fn forget_all() {
    if let Some(caches) = web_sys::window().and_then(|w| w.caches().ok()) {
        for name in [CACHE_NAME, "strata-blobs-v1"] {
            let _ = JsFuture::from(caches.delete(name)).await;
        }
    }
    if let Some(storage) = local_storage() {
        let _ = storage.remove_item(LRU_KEY);
    }
}

/// One listed entry: key, bytes, last use.
type Listed = (String, u64, f64);

thread_local! {
    static LISTED: RefCell<Option<Vec<Listed>>> = const { RefCell::new(None) };
}

pub(crate) fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn with_list<T>(f: impl FnOnce(&mut Vec<Listed>) -> T) -> T {
    LISTED.with(|l| {
        let mut l = l.borrow_mut();
        let list = l.get_or_insert_with(|| {
            local_storage()
                .and_then(|s| s.get_item(LRU_KEY).ok().flatten())
                .and_then(|json| serde_json::from_str(&json).ok())
                .unwrap_or_default()
        });
        let out = f(list);
        if let Some(storage) = local_storage()
            && let Ok(json) = serde_json::to_string(list)
        {
            let _ = storage.set_item(LRU_KEY, &json);
        }
        out
    })
}

fn touch(key: &str, bytes: u64) {
    with_list(|list| {
        list.retain(|(k, _, _)| k != key);
        list.push((key.to_owned(), bytes, now_ms()));
    });
}

fn forget_listed(keys: &[String]) {
    with_list(|list| list.retain(|(k, _, _)| !keys.contains(k)));
}

/// Deletes the least recently used entries until the rest fit the budget.
async fn evict(cache: &Cache) {
    let gone = with_list(|list| {
        list.sort_by(|a, b| a.2.total_cmp(&b.2));
        let mut total: u64 = list.iter().map(|(_, b, _)| b).sum();
        let mut gone = Vec::new();
        while total > BUDGET_BYTES && list.len() > 1 {
            let (key, bytes, _) = list.remove(0);
            total -= bytes;
            gone.push(key);
        }
        gone
    });
    for key in gone {
        let _ = JsFuture::from(cache.delete_with_str(&key)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn summary() -> LayerSummary {
        LayerSummary {
            compressed: 10,
            decompressed: 20,
            diff_id: Some("sha256:ab".into()),
            diff_id_checked: true,
            entries: 0,
            millis: 1.0,
            cached: false,
            verified_earlier_ms: None,
            worker_memory_bytes: 0,
            times: Default::default(),
            front_times: None,
        }
    }

    #[wasm_bindgen_test]
    fn an_entry_reads_back_and_any_damage_is_refused() {
        let mut bytes = head(&summary(), 1234.0);
        bytes.extend(index_message::encode(&LayerIndex::default()));
        let back = decode(&bytes).expect("intact");
        assert_eq!(back.summary.verified_earlier_ms, Some(1234.0));
        assert!(back.summary.cached);
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_none(), "truncated at {cut}");
        }
        for at in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[at] ^= 0x10;
            assert!(decode(&bad).is_none(), "flipped byte {at}");
        }
    }
}
