//! Real-browser test of the raw JSON views (issue 13, item 7): the index, the manifest and
//! the config each show their JSON pretty-printed, with a switch to the bytes as served,
//! and every digest in them links to what the page shows of it: a layer to its changes, a
//! platform manifest to that platform, the config to the overview. A two-platform index
//! pushed to the real Distribution registry.

use std::time::Duration;

use fantoccini::{Client, Locator};
use strata_tests::browser::{Browser, start_app, wait_for_state};
use strata_tests::fixtures::two_platform_images;
use strata_tests::image::{Format, build_index};
use strata_tests::push::Pusher;
use strata_tests::registry::Registry;

const TIMEOUT: Duration = Duration::from_secs(60);

/// Opens the `what` document's raw view and returns the `href` of the link on `digest`.
async fn digest_href(client: &Client, what: &str, digest: &str) -> anyhow::Result<String> {
    let link = client
        .find(Locator::Css(&format!(
            "[data-json-document={what}] [data-json-view=pretty] a[data-json-digest='{digest}']"
        )))
        .await?;
    Ok(link.attr("href").await?.unwrap_or_default())
}

async fn open_document(client: &Client, what: &str) -> anyhow::Result<()> {
    client
        .find(Locator::Css(&format!(
            "[data-json-document={what}] summary"
        )))
        .await?
        .click()
        .await?;
    Ok(())
}

#[tokio::test]
async fn digests_in_the_raw_documents_link_to_what_they_name() -> anyhow::Result<()> {
    let registry = Registry::start().await?;
    let index = build_index("team/json", &two_platform_images(), Format::Oci)?;
    let pushed = Pusher::for_registry(&registry)?
        .push_index("team/json", "v1", &index)
        .await?;
    let (arm_platform, arm) = &pushed.images[1];
    let app = start_app(&registry).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    let base = format!(
        "{}/image/{}/team/json@{}",
        app.url(),
        registry.host(),
        pushed.digest
    );
    client
        .goto(&format!("{base}?platform={arm_platform}"))
        .await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;

    // The index names the arm64 manifest: its link selects that platform.
    open_document(&client, "index").await?;
    let href = digest_href(&client, "index", &arm.manifest_digest).await?;
    assert!(href.contains(&format!("platform={arm_platform}")), "{href}");

    // The manifest names the config and each layer.
    open_document(&client, "manifest").await?;
    let href = digest_href(&client, "manifest", &arm.config_digest).await?;
    assert!(href.ends_with("#config"), "{href}");
    let layer = &arm.layers[1].digest;
    let href = digest_href(&client, "manifest", layer).await?;
    assert!(
        href.contains("tab=files") && href.contains("layer=sha256"),
        "{href}"
    );
    client
        .find(Locator::Css(&format!(
            "[data-json-document=manifest] a[data-json-digest='{layer}']"
        )))
        .await?
        .click()
        .await?;
    client
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::Css("[data-listing]"))
        .await?;
    let url = client.current_url().await?;
    let layer_key = url
        .query_pairs()
        .find(|(k, _)| k == "layer")
        .map(|(_, v)| v.into_owned());
    assert_eq!(layer_key.as_deref(), Some(layer.as_str()), "{url}");

    // "As served" shows the config's bytes exactly.
    client
        .goto(&format!("{base}?platform={arm_platform}"))
        .await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    open_document(&client, "config").await?;
    client
        .find(Locator::Css(
            "[data-json-document=config] [data-json-mode=raw]",
        ))
        .await?
        .click()
        .await?;
    let shown = client
        .find(Locator::Css(
            "[data-json-document=config] [data-json-view=raw]",
        ))
        .await?
        .prop("textContent")
        .await?
        .unwrap_or_default();
    assert_eq!(
        shown.as_bytes(),
        arm.config_bytes.as_slice(),
        "the config as served"
    );
    client.close().await?;
    Ok(())
}
