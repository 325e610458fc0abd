//! Real-browser tests of the reference box and the errors it leads to (issue 13, items
//! 11–12): the box takes what people copy (`docker pull X`, `FROM X AS y`, `podman pull`,
//! registry web pages, Strata links, quoted references) and says what it took; a missing
//! tag lists the tags that exist, as links; a missing digest is named with `@`; the home
//! page's examples are the demo, or marked as needing the network.
//! Headless Chromium over WebDriver, images pushed to the real Distribution registry.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use strata_tests::browser::{Browser, attributes, start_app, visible_text, wait_for_state};
use strata_tests::fixtures::three_layer_image;
use strata_tests::image::Format;
use strata_tests::push::Pusher;
use strata_tests::registry::Registry;

const TIMEOUT: Duration = Duration::from_secs(60);

/// Types `text` into the home page's box and submits it.
async fn paste(client: &Client, app_url: &str, text: &str) -> anyhow::Result<()> {
    client.goto(&format!("{app_url}/")).await?;
    let input = client
        .wait()
        .for_element(Locator::Id("reference-input"))
        .await?;
    input.send_keys(text).await?;
    client
        .find(Locator::Css("#reference-form button[type=submit]"))
        .await?
        .click()
        .await?;
    Ok(())
}

/// Waits until the page's path is `want`.
async fn wait_path(client: &Client, want: &str) -> anyhow::Result<url::Url> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let url = client.current_url().await?;
        if url.path() == want {
            return Ok(url);
        }
        anyhow::ensure!(Instant::now() < deadline, "at {url}, wanted {want}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What the box says it took: the reference (`data-paste-took`) and the sentence.
async fn took(client: &Client) -> anyhow::Result<(String, String)> {
    let note = client
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::Css("[data-paste-took]"))
        .await?;
    Ok((
        note.attr("data-paste-took").await?.unwrap_or_default(),
        note.text().await?,
    ))
}

#[tokio::test]
async fn the_box_takes_what_people_copy_and_says_what_it_took() -> anyhow::Result<()> {
    let registry = Registry::start().await?;
    let built = three_layer_image().build(Format::Oci)?;
    let image = Pusher::for_registry(&registry)?
        .push_image("team/app", Some("dev"), &built)
        .await?;
    let app = start_app(&registry).await?;
    let host = registry.host();
    let reference = format!("{host}/team/app:dev");
    let page = format!("/image/{reference}");
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;

    for text in [
        format!("docker pull {reference}"),
        format!("FROM {reference} AS build"),
        format!("podman pull {reference}"),
        format!("  \"{reference}\"  "),
    ] {
        paste(&client, &app.url(), &text).await?;
        wait_path(&client, &page).await?;
        wait_for_state(&client, "ready", TIMEOUT).await?;
        let (taken, sentence) = took(&client).await?;
        assert_eq!(taken, reference, "from {text:?}");
        assert!(
            sentence.starts_with(&format!("Took {reference} from"))
                && sentence.contains(text.trim()),
            "{sentence}"
        );
    }

    // A reference typed as is needs no note.
    paste(&client, &app.url(), &reference).await?;
    wait_path(&client, &page).await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    assert!(
        client
            .find_all(Locator::Css("[data-paste-took]"))
            .await?
            .is_empty()
    );

    // A Strata link opens its image and its view.
    let link = format!(
        "{}/image/{host}/team/app@{}?tab=files&path=%2Fetc%2Fos-release",
        app.url(),
        image.manifest_digest
    );
    paste(&client, &app.url(), &link).await?;
    let url = wait_path(
        &client,
        &format!("/image/{host}/team/app@{}", image.manifest_digest),
    )
    .await?;
    assert!(
        url.query_pairs()
            .any(|(k, v)| k == "path" && v == "/etc/os-release"),
        "{url}"
    );
    wait_for_state(&client, "ready", TIMEOUT).await?;
    client
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::Css("[data-detail-path='/etc/os-release']"))
        .await?;

    // Registry web pages name their image (not reachable from here: only the address is
    // checked).
    for (text, want) in [
        (
            "https://hub.docker.com/_/nginx",
            "/image/docker.io/library/nginx:latest",
        ),
        (
            "https://hub.docker.com/r/grafana/grafana",
            "/image/docker.io/grafana/grafana:latest",
        ),
        (
            "https://quay.io/repository/prometheus/prometheus?tab=tags",
            "/image/quay.io/prometheus/prometheus:latest",
        ),
    ] {
        paste(&client, &app.url(), text).await?;
        wait_path(&client, want).await?;
        let (taken, _) = took(&client).await?;
        assert!(!taken.starts_with("http"), "{text} → {taken}");
    }

    // Text that names nothing is refused before any request, with the parser's reason.
    paste(&client, &app.url(), "docker build .").await?;
    let message = client
        .wait()
        .for_element(Locator::Css("[data-strata-error=reference]"))
        .await?
        .text()
        .await?;
    assert!(message.contains("docker build ."), "{message}");
    assert_eq!(client.current_url().await?.path(), "/");
    client.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_missing_tag_lists_the_tags_that_exist_and_a_missing_digest_reads_with_at()
-> anyhow::Result<()> {
    let registry = Registry::start().await?;
    let built = three_layer_image().build(Format::Oci)?;
    let pusher = Pusher::for_registry(&registry)?;
    for tag in ["dev", "v1.0", "v1.1"] {
        pusher.push_image("team/app", Some(tag), &built).await?;
    }
    let app = start_app(&registry).await?;
    let host = registry.host();
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;

    client
        .goto(&format!("{}/image/{host}/team/app:v1.2", app.url()))
        .await?;
    wait_for_state(&client, "error", TIMEOUT).await?;
    let deadline = Instant::now() + TIMEOUT;
    let tags = loop {
        let tags = attributes(&client, "a[data-existing-tag]", "data-existing-tag").await?;
        if !tags.is_empty() {
            break tags;
        }
        anyhow::ensure!(Instant::now() < deadline, "no tags listed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut sorted = tags.clone();
    sorted.sort();
    assert_eq!(sorted, ["dev", "v1.0", "v1.1"]);
    // The nearest names first.
    assert_eq!(tags.last().map(String::as_str), Some("dev"), "{tags:?}");
    let text = visible_text(&client, "[data-missing-tag]").await?;
    assert!(text.contains("v1.2"), "{text}");
    // Each tag opens.
    client
        .find(Locator::Css("a[data-existing-tag='v1.1']"))
        .await?
        .click()
        .await?;
    wait_path(&client, &format!("/image/{host}/team/app:v1.1")).await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;

    // A digest that is not there is named with `@`.
    let zeros = format!("sha256:{}", "0".repeat(64));
    client
        .goto(&format!("{}/image/{host}/team/app@{zeros}", app.url()))
        .await?;
    wait_for_state(&client, "error", TIMEOUT).await?;
    let text = visible_text(&client, "[data-strata-error=page]").await?;
    assert!(text.contains(&format!("team/app@{zeros}")), "{text}");
    assert!(!text.contains(&format!("team/app:{zeros}")), "{text}");
    client.close().await?;
    Ok(())
}

#[tokio::test]
async fn the_home_page_offers_the_demo_and_marks_what_needs_the_network() -> anyhow::Result<()> {
    let app = strata_tests::browser::start_app_for(&[]).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    client.goto(&format!("{}/", app.url())).await?;
    client
        .wait()
        .for_element(Locator::Css("[data-strata-demo]"))
        .await?;
    // Every example is the demo, a local source, or says it needs the network.
    for example in client.find_all(Locator::Css(".examples a")).await? {
        let href = example.attr("href").await?.unwrap_or_default();
        let demo = example.attr("data-strata-demo").await?.is_some();
        let local = href.starts_with("/image/oci:") || href.starts_with("/image/docker-daemon:");
        let network = example.attr("data-needs-network").await?.is_some();
        assert!(demo || local || network, "{href} is not marked");
        if network {
            let text = visible_text(&client, ".examples").await?;
            assert!(text.contains("needs network"), "{text}");
        }
    }
    client.close().await?;
    Ok(())
}
