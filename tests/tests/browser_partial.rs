//! Real-browser tests of partial failure (issue 12): objects missing from a real
//! Distribution registry (deleted through its API, as a garbage collection or a partial
//! mirror leaves them) fail alone, and everything that verified stays on screen.

use std::time::Duration;

use fantoccini::Locator;
use strata_tests::browser::{Browser, attributes, start_app, visible_text, wait_for_state};
use strata_tests::image::Format;
use strata_tests::push::{Pusher, push_index, push_three_layer_image};
use strata_tests::registry::Registry;

const TIMEOUT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_missing_platform_manifest_leaves_the_index_and_its_other_platforms() -> anyhow::Result<()>
{
    let registry = Registry::start().await?;
    let index = push_index(&registry, "partial/multi", "v1", Format::Oci).await?;
    let (gone_platform, gone) = &index.images[0];
    let (kept_platform, _) = &index.images[1];
    Pusher::for_registry(&registry)?
        .delete("partial/multi", "manifests", &gone.manifest_digest)
        .await?;
    let app = start_app(&registry).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    let base = format!(
        "{}/image/{}/partial/multi@{}",
        app.url(),
        registry.host(),
        index.digest
    );
    client
        .goto(&format!("{base}?platform={gone_platform}"))
        .await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let failed = attributes(&client, "[data-failed-object]", "data-failed-object").await?;
    assert_eq!(failed, ["platform manifest"]);
    let digests = attributes(&client, "[data-failed-object]", "data-failed-digest").await?;
    assert_eq!(digests, std::slice::from_ref(&gone.manifest_digest));
    let text = visible_text(&client, "[data-strata-failures]").await?;
    assert!(text.contains("MANIFEST_UNKNOWN"), "what came back: {text}");
    assert!(
        text.contains(&format!("manifests/{}", gone.manifest_digest)),
        "what was asked: {text}"
    );
    client.find(Locator::Css("[data-verified=index]")).await?;
    let platforms = attributes(&client, "[data-platform]", "data-platform").await?;
    assert!(
        platforms.contains(&kept_platform.to_string()),
        "{platforms:?}"
    );

    // The other platform is one click away and whole.
    client
        .find(Locator::Css(&format!(
            "[data-platform='{kept_platform}'] a"
        )))
        .await?
        .click()
        .await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let states = attributes(&client, "tr[data-layer-digest]", "data-layer-state").await?;
    assert!(
        !states.is_empty() && states.iter().all(|s| s == "verified"),
        "{states:?}"
    );
    assert!(
        client
            .find(Locator::Css("[data-strata-failures]"))
            .await
            .is_err()
    );
    client.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_missing_config_still_shows_verified_layers_and_their_files() -> anyhow::Result<()> {
    let registry = Registry::start().await?;
    let image = push_three_layer_image(&registry, "partial/noconfig", "v1").await?;
    Pusher::for_registry(&registry)?
        .delete("partial/noconfig", "blobs", &image.config_digest)
        .await?;
    let app = start_app(&registry).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    let base = format!(
        "{}/image/{}/partial/noconfig@{}",
        app.url(),
        registry.host(),
        image.manifest_digest
    );
    client.goto(&base).await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let failed = attributes(&client, "[data-failed-object]", "data-failed-object").await?;
    assert_eq!(failed, ["config"]);
    let text = visible_text(&client, "[data-strata-failures]").await?;
    assert!(text.contains("BLOB_UNKNOWN"), "{text}");
    client
        .find(Locator::Css("[data-verified=manifest]"))
        .await?;
    let digests = attributes(&client, "tr[data-layer-digest]", "data-layer-digest").await?;
    let pushed: Vec<_> = image.layers.iter().map(|l| l.digest.clone()).collect();
    assert_eq!(digests, pushed, "every layer, with its digest");
    let states = attributes(&client, "tr[data-layer-digest]", "data-layer-state").await?;
    assert_eq!(states, ["verified"; 3]);
    let unchecked = client
        .find_all(Locator::Css("[data-diff-id-unchecked]"))
        .await?;
    assert_eq!(
        unchecked.len(),
        3,
        "the page says the diff_ids are unchecked"
    );

    // The Files tab works from the layers alone.
    client.goto(&format!("{base}?tab=files")).await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let rows = attributes(&client, "[data-listing] [data-path]", "data-path").await?;
    assert!(!rows.is_empty(), "the merged tree lists the layers' files");
    client.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_path_alone_opens_the_files_tab_on_that_file() -> anyhow::Result<()> {
    let registry = Registry::start().await?;
    let image = push_three_layer_image(&registry, "partial/path", "v1").await?;
    let app = start_app(&registry).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    let base = format!(
        "{}/image/{}/partial/path@{}",
        app.url(),
        registry.host(),
        image.manifest_digest
    );
    client
        .goto(&format!("{base}?path=/etc/app/config.toml"))
        .await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let current = visible_text(&client, "nav.tabs a.current").await?;
    assert_eq!(current, "Files");
    let detail = attributes(&client, "[data-detail-path]", "data-detail-path").await?;
    assert_eq!(detail, ["/etc/app/config.toml"]);
    // The Overview tab's link still leads to the overview, path or not.
    client
        .find(Locator::Css("nav.tabs a[data-tab=overview]"))
        .await?
        .click()
        .await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    assert_eq!(
        visible_text(&client, "nav.tabs a.current").await?,
        "Overview"
    );
    client.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_signed_schema1_image_is_read_verified_with_history_and_files() -> anyhow::Result<()> {
    let registry = Registry::start().await?;
    let image = strata_tests::schema1::signed_schema1("old/schema1", "v1")?;
    let pusher = Pusher::for_registry(&registry)?;
    for (digest, blob) in &image.blobs {
        pusher.push_blob("old/schema1", digest, blob).await?;
    }
    let pushed = pusher
        .push_manifest_digested(
            "old/schema1",
            "v1",
            "application/vnd.docker.distribution.manifest.v1+prettyjws",
            &image.bytes,
        )
        .await?;
    assert_eq!(pushed, image.digest, "the registry digests the JWS payload");
    let app = start_app(&registry).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    let base = format!("{}/image/{}/old/schema1", app.url(), registry.host());
    client.goto(&format!("{base}:v1")).await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    client
        .find(Locator::Css("[data-schema1] [data-verified=manifest]"))
        .await?;
    assert_eq!(
        visible_text(&client, "[data-schema1-architecture]").await?,
        "amd64"
    );
    let algorithms = attributes(
        &client,
        "[data-schema1-signature]",
        "data-schema1-signature",
    )
    .await?;
    assert_eq!(algorithms, ["ES256"]);
    // Two layers, oldest first, each verified against its blobSum; the throwaway step is
    // an empty layer of the history.
    let digests = attributes(&client, "tr[data-layer-digest]", "data-layer-digest").await?;
    assert_eq!(
        digests,
        [image.blobs[0].0.clone(), image.blobs[2].0.clone()]
    );
    let states = attributes(&client, "tr[data-layer-digest]", "data-layer-state").await?;
    assert_eq!(states, ["verified"; 2]);
    assert_eq!(
        client
            .find_all(Locator::Css("[data-diff-id-unchecked]"))
            .await?
            .len(),
        2
    );
    let pinned = attributes(&client, "[data-pinned-digest]", "data-pinned-digest").await?;
    assert_eq!(pinned, std::slice::from_ref(&image.digest));
    client
        .goto(&format!("{base}@{}?tab=history", image.digest))
        .await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let history = visible_text(&client, "main").await?;
    assert!(history.contains("ENV MODE=old"), "{history}");
    assert!(history.contains("apt-get install tool"), "{history}");
    client
        .goto(&format!("{base}@{}?path=/usr/bin/tool", image.digest))
        .await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let detail = attributes(&client, "[data-detail-path]", "data-detail-path").await?;
    assert_eq!(detail, ["/usr/bin/tool"]);
    client.close().await?;
    Ok(())
}

/// The real registry never answers 429, so a scripted one plays Docker Hub's rate limit
/// on the config blob, twice: the page says how long to wait, and "try again" reads it.
#[tokio::test]
async fn a_rate_limited_config_says_how_long_to_wait_and_can_be_retried() -> anyhow::Result<()> {
    use strata_tests::scripted_registry::{BlobScript, Script, ScriptedRegistry};
    let built = strata_tests::fixtures::three_layer_image().build(Format::Oci)?;
    let config = built.config_digest.clone();
    let manifest = built.manifest_digest.clone();
    let mut script = Script::honest(built);
    let left = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(2));
    script.blobs.insert(
        config.clone(),
        BlobScript::RateLimited {
            left: left.clone(),
            retry_after: 120,
        },
    );
    let registry = ScriptedRegistry::start(script).await?;
    let app = strata_tests::browser::start_app_for(&[registry.host().to_owned()]).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    client
        .goto(&format!(
            "{}/image/{}/team/limited@{manifest}",
            app.url(),
            registry.host()
        ))
        .await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let text = visible_text(&client, "[data-failed-object=config]").await?;
    assert!(text.contains("Retry in 2 min"), "{text}");
    assert!(text.contains("0 of 100 left per 6 h"), "{text}");
    // The layers still verified, by blob digest.
    let states = attributes(&client, "tr[data-layer-digest]", "data-layer-state").await?;
    assert_eq!(states, ["verified"; 3]);
    // Whatever the relay retried on its own, the registry has stopped limiting by now.
    left.store(0, std::sync::atomic::Ordering::SeqCst);
    client
        .find(Locator::Css("[data-retry-object=config]"))
        .await?
        .click()
        .await?;
    let deadline = std::time::Instant::now() + TIMEOUT;
    while client
        .find(Locator::Css("[data-verified=config]"))
        .await
        .is_err()
    {
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "the config was not read again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for_state(&client, "ready", TIMEOUT).await?;
    assert!(
        client
            .find(Locator::Css("[data-strata-failures]"))
            .await
            .is_err()
    );
    client.close().await?;
    Ok(())
}

/// Screenshots for a person to look at (not a check): with `STRATA_SCREENSHOT_DIR` set,
/// PNGs of a missing config, a schema1 image, a legacy archive's checks and the home page
/// with recent images, at 1400 and 1024 px. Dark mode: also set
/// `STRATA_CHROME_EXTRA_ARGS=--force-dark-mode`.
#[tokio::test]
#[ignore = "screenshots: run by hand with STRATA_SCREENSHOT_DIR"]
async fn screenshots_of_partial_local_and_schema1_pages() -> anyhow::Result<()> {
    let Some(dir) = std::env::var_os("STRATA_SCREENSHOT_DIR").map(std::path::PathBuf::from) else {
        return Ok(());
    };
    std::fs::create_dir_all(&dir)?;
    let registry = Registry::start().await?;
    let image = push_three_layer_image(&registry, "shots/noconfig", "v1").await?;
    let pusher = Pusher::for_registry(&registry)?;
    pusher
        .delete("shots/noconfig", "blobs", &image.config_digest)
        .await?;
    let old = strata_tests::schema1::signed_schema1("shots/old", "v1")?;
    for (digest, blob) in &old.blobs {
        pusher.push_blob("shots/old", digest, blob).await?;
    }
    pusher
        .push_manifest_digested(
            "shots/old",
            "v1",
            "application/vnd.docker.distribution.manifest.v1+prettyjws",
            &old.bytes,
        )
        .await?;
    let work = tempfile::tempdir()?;
    let (archive, _) = strata_tests::local_images::legacy_archive("shots/app:v1", &[7u8; 40_000]);
    let archive_path = work.path().join("app.tar");
    std::fs::write(&archive_path, archive)?;
    let app = start_app(&registry).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    let host = registry.host();
    let pages = [
        (
            "missing-config",
            format!(
                "{}/image/{host}/shots/noconfig@{}",
                app.url(),
                image.manifest_digest
            ),
        ),
        (
            "schema1",
            format!("{}/image/{host}/shots/old:v1", app.url()),
        ),
    ];
    for width in [1400u32, 1024] {
        client.set_window_size(width, 1000).await?;
        for (name, url) in &pages {
            client.goto(url).await?;
            wait_for_state(&client, "ready", TIMEOUT).await?;
            tokio::time::sleep(Duration::from_millis(300)).await;
            std::fs::write(
                dir.join(format!("{name}-{width}.png")),
                client.screenshot().await?,
            )?;
        }
        client.goto(&format!("{}/", app.url())).await?;
        strata_tests::browser::open_file(&client, "input[data-strata-open=archive]", &archive_path)
            .await?;
        strata_tests::browser::wait_for_archive_page(&client, TIMEOUT).await?;
        wait_for_state(&client, "ready", TIMEOUT).await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        std::fs::write(
            dir.join(format!("archive-{width}.png")),
            client.screenshot().await?,
        )?;
        client.goto(&format!("{}/", app.url())).await?;
        client
            .wait()
            .for_element(Locator::Css("[data-recent-image]"))
            .await?;
        std::fs::write(
            dir.join(format!("home-{width}.png")),
            client.screenshot().await?,
        )?;
    }
    client.close().await?;
    Ok(())
}
