//! The wasm half of `scripts/bench.sh`: the layer engine in headless Chromium on the same
//! blob as the native benchmark. Prints numbers (lines starting `WASM`), never fails on
//! a timing.
//!
//! A benchmark, not a test: it is `#[ignore]`d, so test runs skip it, and bench.sh runs
//! it with `--ignored`. The blob is fetched from a local server; its URL and digests are
//! compiled in from `STRATA_BENCH_URL`, `STRATA_BENCH_DIGEST`, `STRATA_BENCH_DIFF_ID`
//! (bench.sh sets them). Without them it fails, rather than pass having measured nothing.
#![cfg(target_arch = "wasm32")]

use strata_shared::Digest;
use strata_shared::digest::DigestVerifier;
use strata_shared::layer::{
    Compression, Decompressor, DiffIdVerifier, LayerPipeline, LayerSpec, Limits, TarWalker,
};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const CHUNK: usize = 64 << 10;

fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

async fn fetch(url: &str) -> Vec<u8> {
    let window = web_sys::window().expect("a window");
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .expect("fetch the benchmark blob")
        .unchecked_into();
    assert!(response.ok(), "GET {url}: HTTP {}", response.status());
    let buffer = JsFuture::from(response.array_buffer().expect("body"))
        .await
        .expect("read the body");
    js_sys::Uint8Array::new(&buffer).to_vec()
}

/// Lets the page breathe (the test runner polls it over WebDriver).
async fn yield_now() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Best of `runs` timings, in seconds, yielding to the page between runs.
async fn best(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..runs {
        yield_now().await;
        let t = now();
        f();
        best = best.min((now() - t) / 1000.0);
    }
    best
}

#[wasm_bindgen_test]
#[ignore = "a benchmark: scripts/bench.sh runs it with --ignored"]
async fn bench_layer_engine() {
    let (Some(url), Some(digest), Some(diff_id)) = (
        option_env!("STRATA_BENCH_URL"),
        option_env!("STRATA_BENCH_DIGEST"),
        option_env!("STRATA_BENCH_DIFF_ID"),
    ) else {
        panic!(
            "STRATA_BENCH_URL, STRATA_BENCH_DIGEST, STRATA_BENCH_DIFF_ID are not set at build time (run scripts/bench.sh)"
        );
    };
    let digest = Digest::parse(digest).unwrap();
    let diff_id = Digest::parse(diff_id).unwrap();
    let blob = fetch(url).await;
    let spec = LayerSpec {
        media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
        digest: digest.clone(),
        size: Some(blob.len() as u64),
        diff_id: Some(diff_id.clone()),
    };
    // Size the tar first: doubling a Vec of a few hundred MB would need twice that.
    let mut tar_len = 0;
    let mut d = Decompressor::new(Compression::Gzip, &Limits::default());
    let mut count = |b: &[u8]| {
        tar_len += b.len();
        Ok(())
    };
    blob.chunks(CHUNK)
        .for_each(|c| d.push(c, &mut count).unwrap());
    d.finish(&mut count).unwrap();
    yield_now().await;
    let mut tar = Vec::with_capacity(tar_len);
    let mut d = Decompressor::new(Compression::Gzip, &Limits::default());
    for c in blob.chunks(CHUNK) {
        d.push_to_vec(c, &mut tar).unwrap();
    }
    d.finish(&mut |b: &[u8]| {
        tar.extend_from_slice(b);
        Ok(())
    })
    .unwrap();
    let (gz_mb, tar_mb) = (blob.len() as f64 / 1e6, tar.len() as f64 / 1e6);

    let mut entries = 0;
    let t_engine = best(2, || {
        let mut p = LayerPipeline::new(&spec, Limits::default()).unwrap();
        for c in blob.chunks(CHUNK) {
            p.push(c).unwrap();
        }
        entries = p
            .finish()
            .expect("the engine verifies the layer")
            .index
            .len();
    })
    .await;
    let t_hash = best(2, || {
        let mut v = DigestVerifier::new(digest.clone(), Some(blob.len() as u64));
        blob.chunks(CHUNK).for_each(|c| v.update(c).unwrap());
        v.finish().unwrap();
    })
    .await;
    let t_inflate = best(2, || {
        let mut d = Decompressor::new(Compression::Gzip, &Limits::default());
        let mut sink = |_: &[u8]| Ok(());
        blob.chunks(CHUNK)
            .for_each(|c| d.push(c, &mut sink).unwrap());
        d.finish(&mut sink).unwrap();
    })
    .await;
    let t_diff = best(2, || {
        let mut v = DiffIdVerifier::new(diff_id.clone()).unwrap();
        tar.chunks(CHUNK).for_each(|c| v.push(c));
        v.finish().unwrap();
    })
    .await;
    let t_walk = best(2, || {
        let mut w = TarWalker::new(Limits::default());
        tar.chunks(CHUNK).for_each(|c| w.push(c).unwrap());
        w.finish().unwrap();
    })
    .await;
    // What each worker of a split layer does: front = hash + inflate, back = diff_id + walk.
    let front = t_hash + t_inflate;
    let back = t_diff + t_walk;
    console_log!(
        "WASM layer: {entries} entries, tar {tar_mb:.1} MB, gzip {gz_mb:.1} MB, simd128: {}",
        cfg!(target_feature = "simd128")
    );
    console_log!(
        "WASM engine, one thread, all stages: {t_engine:>8.3} s  {:>7.1} MB/s compressed  {:>7.1} MB/s uncompressed",
        gz_mb / t_engine,
        tar_mb / t_engine
    );
    console_log!(
        "WASM   stage 1 sha256 of blob:      {t_hash:>8.3} s  {:>7.1} MB/s",
        gz_mb / t_hash
    );
    console_log!(
        "WASM   stage 2 gunzip:              {t_inflate:>8.3} s  {:>7.1} MB/s of output",
        tar_mb / t_inflate
    );
    console_log!(
        "WASM   stage 3 diff_id sha256:      {t_diff:>8.3} s  {:>7.1} MB/s",
        tar_mb / t_diff
    );
    console_log!(
        "WASM   stage 4 tar walk:            {t_walk:>8.3} s  {:>7.1} MB/s",
        tar_mb / t_walk
    );
    console_log!(
        "WASM split bound (two workers, slower half): {:.3} s  {:.1} MB/s compressed",
        front.max(back),
        gz_mb / front.max(back)
    );
    console_log!("WASM_ENGINE_SECONDS {t_engine:.4}");
}
