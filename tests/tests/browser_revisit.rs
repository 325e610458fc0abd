//! Real-browser tests of the cache of verified layers (issue 14, goal 2): a pinned revisit
//! shows the verified tree from what this browser verified before, with no layer fetched
//! again, even with the registry stopped; a damaged entry is verified afresh and never
//! shown as verified earlier; "verify again now" and "forget cached images" drop it.

use std::time::Duration;

use fantoccini::{Client, Locator};
use strata_tests::browser::{Browser, attributes, serve_image, wait_for_state};
use strata_tests::fixtures::three_layer_image;
use strata_tests::image::Format;

const TIMEOUT: Duration = Duration::from_secs(60);

async fn open_ready(client: &Client, url: &str) -> anyhow::Result<()> {
    client.goto(url).await?;
    wait_for_state(client, "ready", TIMEOUT).await
}

/// Per layer row: its state and whether it was verified earlier in this browser.
async fn rows(client: &Client) -> anyhow::Result<Vec<(String, bool)>> {
    let got = client
        .execute(
            "return [...document.querySelectorAll('tr[data-layer-state]')].map(r => \
               [r.getAttribute('data-layer-state'), !!r.querySelector('[data-verified-earlier]')]);",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(got)?)
}

async fn cache_keys(client: &Client) -> anyhow::Result<Vec<String>> {
    let got = client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             caches.open('strata-verified-v1').then(c => c.keys()) \
               .then(ks => done(ks.map(k => k.url))).catch(e => done([]));",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(got)?)
}

/// The verified-cache keys the pinned links opened in this browser noted.
async fn noted_keys(client: &Client) -> anyhow::Result<Vec<String>> {
    let got = client
        .execute(
            "const all = JSON.parse(localStorage.getItem('strata.pinned-layers.v1') || '[]'); \
             return all.flatMap(n => n.keys);",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(got)?)
}

/// When the page's manifest response ended and when its config request started
/// (milliseconds from navigation, Resource Timing).
async fn manifest_end_and_config_start(client: &Client) -> anyhow::Result<(f64, f64)> {
    let got = client
        .execute(
            "const all = performance.getEntriesByType('resource'); \
             const manifest = all.find(e => e.name.includes('/manifests/sha256:')); \
             const config = all.find(e => e.name.includes('/blobs/sha256:')); \
             return [manifest.responseEnd, config.startTime];",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(got)?)
}

#[tokio::test]
async fn a_pinned_revisit_reads_the_verified_layers_and_a_damaged_entry_is_verified_afresh()
-> anyhow::Result<()> {
    let served = serve_image(&three_layer_image().build(Format::Oci)?, "team/revisit").await?;
    let url = format!("{}?tab=overview", served.base);
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;

    open_ready(&client, &url).await?;
    // A first visit learns the config from the manifest, so asks for it afterwards.
    let (manifest_end, config_start) = manifest_end_and_config_start(&client).await?;
    assert!(
        config_start >= manifest_end,
        "{config_start} {manifest_end}"
    );
    let first = rows(&client).await?;
    assert_eq!(first.len(), 3);
    assert!(
        first.iter().all(|(s, earlier)| s == "verified" && !earlier),
        "{first:?}"
    );
    // The cache is written after the layers verify.
    let mut keys = Vec::new();
    for _ in 0..50 {
        keys = cache_keys(&client).await?;
        if keys.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(
        keys.iter().all(|k| k.contains("/v2/")),
        "keyed by index format version: {keys:?}"
    );
    // The pinned link noted its layers' keys, so its revisit reads them at once.
    let mut noted = noted_keys(&client).await?;
    noted.sort();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(noted, sorted);

    // Revisit: every layer from the cache, said so, and the documents the link noted
    // requested together at the start (the config before the manifest has arrived).
    open_ready(&client, &url).await?;
    let (manifest_end, config_start) = manifest_end_and_config_start(&client).await?;
    assert!(config_start < manifest_end, "{config_start} {manifest_end}");
    let again = rows(&client).await?;
    assert!(
        again.iter().all(|(s, earlier)| s == "verified" && *earlier),
        "{again:?}"
    );
    client
        .find(Locator::Css("[data-verified-earlier-all]"))
        .await?;

    // One entry truncated: that layer is verified afresh, the others come from the cache.
    client
        .execute_async(
            "const [key, done] = [arguments[0], arguments[arguments.length - 1]]; \
             caches.open('strata-verified-v1').then(async c => { \
               const body = new Uint8Array(await (await c.match(key)).arrayBuffer()); \
               await c.put(key, new Response(body.slice(0, body.length - 7))); done(true); });",
            vec![serde_json::json!(keys[0])],
        )
        .await?;
    open_ready(&client, &url).await?;
    let damaged = rows(&client).await?;
    assert!(damaged.iter().all(|(s, _)| s == "verified"), "{damaged:?}");
    assert_eq!(
        damaged.iter().filter(|(_, earlier)| !earlier).count(),
        1,
        "{damaged:?}"
    );
    assert!(
        client
            .find(Locator::Css("[data-verified-earlier-all]"))
            .await
            .is_err()
    );

    // "verify again now": every layer verified now.
    open_ready(&client, &url).await?;
    client
        .find(Locator::Css("[data-verify-again]"))
        .await?
        .click()
        .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let fresh = rows(&client).await?;
    assert!(
        fresh.iter().all(|(s, earlier)| s == "verified" && !earlier),
        "{fresh:?}"
    );

    // With the registry stopped, the pinned link still opens verified.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let strata_tests::browser::ServedImage { registry, app, .. } = served;
    drop(registry);
    open_ready(&client, &url).await?;
    let offline = rows(&client).await?;
    assert!(
        offline
            .iter()
            .all(|(s, earlier)| s == "verified" && *earlier),
        "{offline:?}"
    );
    let files = attributes(&client, "[data-tab=files]", "href").await?;
    assert_eq!(files.len(), 1);

    // "forget cached images" on the home page empties the cache.
    client.goto(&format!("{}/", app.url())).await?;
    client
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::Css("[data-forget-cached]"))
        .await?
        .click()
        .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(cache_keys(&client).await?.is_empty());
    assert!(noted_keys(&client).await?.is_empty());
    client.close().await?;
    Ok(())
}
