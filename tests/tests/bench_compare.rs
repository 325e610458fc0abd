//! The compare benchmark (issue 15), run by `scripts/bench-compare.sh`; it prints numbers
//! and never fails on a timing. Two Debian-sized images share a base layer of real /usr
//! files and differ in their top layer by about 2,000 files (1,000 rewritten at the same
//! size, 500 removed, 500 added). Printed, from navigation to `data-strata-state=ready`
//! in a fresh browser each time:
//! - opening B alone on the image page;
//! - the compare of A and B (both images verified, the shared base once, the tree diff);
//! - the tree diff itself in wasm on the page (`data-diff-ms`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fantoccini::Client;
use strata_tests::browser::{Browser, attributes, start_app, wait_for_state};
use strata_tests::image::{BuiltImage, Entry, Format, Layer, LayerSpec};
use strata_tests::push::Pusher;
use strata_tests::real_files::real_layer;
use strata_tests::registry::Registry;

const TIMEOUT: Duration = Duration::from_secs(900);
/// Files of the top layer of A.
const TOP_FILES: usize = 3000;

/// The bytes of `/srv/app/f{i}` (2 KiB), `version` 0 in A; B rewrites some.
fn contents(i: usize, version: u8) -> Vec<u8> {
    (0..2048u32)
        .map(|k| (k as usize ^ i).wrapping_mul(31) as u8 ^ version)
        .collect()
}

fn top_layer(b: bool) -> anyhow::Result<Layer> {
    let mut entries = Vec::new();
    for i in 0..TOP_FILES {
        let version = match (b, i) {
            (false, _) => 0,
            (true, i) if i < 1000 => 1,
            (true, i) if i >= TOP_FILES - 500 => continue,
            (true, _) => 0,
        };
        entries.push(Entry::file(
            &format!("/srv/app/f{i:05}"),
            contents(i, version),
            0o644,
        ));
    }
    if b {
        for i in TOP_FILES..TOP_FILES + 500 {
            entries.push(Entry::file(
                &format!("/srv/app/f{i:05}"),
                contents(i, 0),
                0o644,
            ));
        }
    }
    Layer::build(&LayerSpec::new("COPY app/ /srv/app/", entries), Format::Oci)
}

fn image(base: &Layer, top: Layer) -> anyhow::Result<BuiltImage> {
    let layers = vec![base.clone(), top];
    let config = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>()},
        "history": [
            {"created_by": "ADD rootfs.tar.gz / (files of /usr/share and /usr/lib)"},
            {"created_by": "COPY app/ /srv/app/"},
        ],
    });
    BuiltImage::assemble(
        Format::Oci,
        Format::Oci.config_type(),
        serde_json::to_vec(&config)?,
        layers,
        &BTreeMap::new(),
    )
}

async fn time_to_ready(client: &Client, url: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    client.goto(url).await?;
    wait_for_state(client, "ready", TIMEOUT).await?;
    Ok(started.elapsed())
}

#[tokio::test]
#[ignore = "benchmark: run by scripts/bench-compare.sh"]
async fn bench_compare_two_debian_sized_images() -> anyhow::Result<()> {
    let budget_mb = strata_tests::real_files::env_mb("STRATA_BENCH_E2E_MB", 280);
    let work = tempfile::tempdir()?;
    let base = real_layer(&["/usr/share", "/usr/lib"], budget_mb << 20, work.path())?;
    let a = image(&base, top_layer(false)?)?;
    let b = image(&base, top_layer(true)?)?;
    println!(
        "COMPARE images: shared base {:.1} MB gzip ({:.1} MB tar); top layers {:.1} / {:.1} MB gzip",
        base.blob.len() as f64 / 1e6,
        base.uncompressed.len() as f64 / 1e6,
        a.layers[1].blob.len() as f64 / 1e6,
        b.layers[1].blob.len() as f64 / 1e6,
    );
    drop(base);
    let registry = Registry::start().await?;
    let pusher = Pusher::for_registry(&registry)?;
    let pushed_a = pusher.push_image("bench/cmp", Some("a"), &a).await?;
    let pushed_b = pusher.push_image("bench/cmp", Some("b"), &b).await?;
    drop((a, b));
    let app = start_app(&registry).await?;
    let host = registry.host();
    let b_alone = format!(
        "{}/image/{host}/bench/cmp@{}",
        app.url(),
        pushed_b.manifest_digest
    );
    let compare = format!(
        "{}/compare?a={host}/bench/cmp@{}&b={host}/bench/cmp@{}&tab=files",
        app.url(),
        pushed_a.manifest_digest,
        pushed_b.manifest_digest
    );
    for round in 1..=2 {
        // A fresh browser (profile, caches) for each, so both start cold.
        let mut browser = Browser::start().await?;
        let client = browser.session().await?;
        let alone = time_to_ready(&client, &b_alone).await?;
        client.close().await?;
        drop(browser);
        let mut browser = Browser::start().await?;
        let client = browser.session().await?;
        let both = time_to_ready(&client, &compare).await?;
        let diff_ms = attributes(&client, "[data-diff-ms]", "data-diff-ms").await?;
        let counts = attributes(&client, "[data-diff-counts]", "data-diff-counts").await?;
        client.close().await?;
        println!(
            "COMPARE round {round}: B alone {:.2} s; compare A/B {:.2} s ({:.2}x B alone); tree diff in wasm {} ms; counts added,removed,modified,metadata,unchanged = {}",
            alone.as_secs_f64(),
            both.as_secs_f64(),
            both.as_secs_f64() / alone.as_secs_f64(),
            diff_ms.first().map_or("?", String::as_str),
            counts.first().map_or("?", String::as_str),
        );
    }
    Ok(())
}
