//! Real-browser tests of the image page (issue 2): headless Chromium over WebDriver, the
//! app as built by Trunk (`dist/`, served by the companion's `--dist`), the real
//! Distribution registry on loopback, images built and pushed by the test.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use strata_tests::browser::{Browser, attributes, start_app, visible_text, wait_for_state};
use strata_tests::fixtures::{three_layer_image, two_platform_images};
use strata_tests::image::{Format, build_index};
use strata_tests::push::{PushedImage, Pusher};
use strata_tests::registry::Registry;

const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Checks the image page shows `image` verified: pinned digest, one verified row per layer.
async fn assert_image_view(
    client: &Client,
    pinned: &str,
    image: &PushedImage,
) -> anyhow::Result<()> {
    let shown = attributes(client, "[data-pinned-digest]", "data-pinned-digest").await?;
    assert_eq!(shown, vec![pinned.to_owned()], "pinned digest on the page");
    let digests = attributes(client, "tr[data-layer-digest]", "data-layer-digest").await?;
    let expected: Vec<String> = image.layers.iter().map(|l| l.digest.clone()).collect();
    assert_eq!(digests, expected, "layer rows in manifest order");
    let states = attributes(client, "tr[data-layer-digest]", "data-layer-state").await?;
    assert!(
        states.iter().all(|s| s == "verified"),
        "every layer verified: {states:?}"
    );
    let manifest = attributes(client, "[data-manifest-digest]", "data-manifest-digest").await?;
    assert_eq!(manifest, vec![image.manifest_digest.clone()]);
    let verified = attributes(client, "[data-verified]", "data-verified").await?;
    assert!(verified.contains(&"manifest".to_owned()) && verified.contains(&"config".to_owned()));
    Ok(())
}

/// Opens the home page, types `reference` into the form and submits it.
async fn paste_reference(client: &Client, app_url: &str, reference: &str) -> anyhow::Result<()> {
    client.goto(&format!("{app_url}/")).await?;
    let input = client
        .wait()
        .for_element(Locator::Id("reference-input"))
        .await?;
    input.send_keys(reference).await?;
    client
        .find(Locator::Css("#reference-form button[type=submit]"))
        .await?
        .click()
        .await?;
    Ok(())
}

#[tokio::test]
async fn paste_reference_then_open_pinned_link_in_fresh_browser() -> anyhow::Result<()> {
    let registry = Registry::start().await?;
    let built = three_layer_image().build(Format::Oci)?;
    let image = Pusher::for_registry(&registry)?
        .push_image("team/app", Some("dev"), &built)
        .await?;
    let app = start_app(&registry).await?;
    let mut browser = Browser::start().await?;

    let client = browser.session().await?;
    let started = Instant::now();
    paste_reference(
        &client,
        &app.url(),
        &format!("{}/team/app:dev", registry.host()),
    )
    .await?;
    wait_for_state(&client, "ready", READY_TIMEOUT).await?;
    println!(
        "paste to ready for a 3-layer image: {:?}",
        started.elapsed()
    );
    assert_image_view(&client, &image.manifest_digest, &image).await?;
    let history_layers = attributes(&client, "tr[data-history-step]", "data-history-layer").await?;
    assert!(
        history_layers.contains(&String::new()),
        "the ENV step maps to no layer: {history_layers:?}"
    );
    let pinned_href = client
        .find(Locator::Css("[data-pinned-link]"))
        .await?
        .attr("href")
        .await?
        .expect("pinned link has an href");
    assert_eq!(
        pinned_href,
        format!(
            "/image/{}/team/app@{}",
            registry.host(),
            image.manifest_digest
        )
    );
    client.close().await?;

    let fresh = browser.session().await?;
    fresh.goto(&format!("{}{pinned_href}", app.url())).await?;
    wait_for_state(&fresh, "ready", READY_TIMEOUT).await?;
    assert_image_view(&fresh, &image.manifest_digest, &image).await?;
    fresh.close().await?;
    Ok(())
}

#[tokio::test]
async fn index_shows_platforms_with_attestations_and_switches_by_link() -> anyhow::Result<()> {
    let registry = Registry::start().await?;
    let index = build_index("team/multi", &two_platform_images(), Format::Oci)?;
    let pushed = Pusher::for_registry(&registry)?
        .push_index("team/multi", "v1", &index)
        .await?;
    let app = start_app(&registry).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;

    client
        .goto(&format!(
            "{}/image/{}/team/multi:v1",
            app.url(),
            registry.host()
        ))
        .await?;
    wait_for_state(&client, "ready", READY_TIMEOUT).await?;
    let platforms = attributes(&client, "[data-platform]", "data-platform").await?;
    assert_eq!(
        platforms,
        vec!["linux/amd64".to_owned(), "linux/arm64/v8".to_owned()],
        "attestation is not a platform"
    );
    let attestations = attributes(&client, "[data-attestation]", "data-attestation").await?;
    assert_eq!(
        attestations,
        vec![pushed.attestation.manifest_digest.clone()]
    );
    let amd64 = &pushed.images[0].1;
    assert_image_view(&client, &pushed.digest, amd64).await?;

    client
        .find(Locator::Css("[data-platform='linux/arm64/v8'] > a"))
        .await?
        .click()
        .await?;
    let deadline = Instant::now() + READY_TIMEOUT;
    let arm64 = &pushed.images[1].1;
    loop {
        let shown = attributes(&client, "[data-manifest-digest]", "data-manifest-digest").await?;
        if shown == vec![arm64.manifest_digest.clone()] {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "arm64 manifest never shown: {shown:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for_state(&client, "ready", READY_TIMEOUT).await?;
    assert_image_view(&client, &pushed.digest, arm64).await?;
    assert!(
        client
            .current_url()
            .await?
            .as_str()
            .contains("platform=linux/arm64/v8")
    );
    client.close().await?;
    Ok(())
}

#[tokio::test]
async fn bad_reference_is_explained_before_any_request_and_unknown_tag_is_plain()
-> anyhow::Result<()> {
    let registry = Registry::start().await?;
    let app = start_app(&registry).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    paste_reference(&client, &app.url(), "Nginx:latest").await?;
    let message = client
        .wait()
        .for_element(Locator::Css("[data-strata-error=reference]"))
        .await?
        .text()
        .await?;
    assert!(message.contains("must be lowercase"), "{message}");
    assert!(
        client.current_url().await?.path() == "/",
        "no navigation on a bad reference"
    );

    client
        .goto(&format!(
            "{}/image/{}/team/none:missing",
            app.url(),
            registry.host()
        ))
        .await?;
    wait_for_state(&client, "error", READY_TIMEOUT).await?;
    let text = visible_text(&client, "[data-strata-error=page]").await?;
    assert!(
        text.contains("not found") && text.contains("MANIFEST_UNKNOWN"),
        "{text}"
    );
    client.close().await?;
    Ok(())
}
