//! Real-browser tests of local images (issue 11): the built-in demo with no registry at
//! all, a `docker save` archive and an OCI archive (made by skopeo from it) opened through
//! the file input, an `/archive/…` link in a fresh browser that asks for the file and
//! refuses the wrong one, and an image of a real Docker Engine opened by name.

use std::time::Duration;

use fantoccini::{Client, Locator};
use strata_companion::{Config, CredentialsSource, DockerHost};
use strata_tests::browser::{
    Browser, app_dist, attributes, start_app_for, visible_text, wait_for_state,
};
use strata_tests::companion::start_companion;
use strata_tests::docker_daemon::DockerDaemon;
use strata_tests::local_images::legacy_archive;

const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Every layer row verified, and at least `min` of them.
async fn assert_layers_verified(client: &Client, min: usize) -> anyhow::Result<()> {
    let states = attributes(client, "tr[data-layer-digest]", "data-layer-state").await?;
    assert!(states.len() >= min, "layer rows: {states:?}");
    assert!(states.iter().all(|s| s == "verified"), "{states:?}");
    Ok(())
}

/// Waits until the page has left the home page for an `/archive/…` view.
async fn wait_for_archive_page(client: &Client) -> anyhow::Result<String> {
    let deadline = std::time::Instant::now() + READY_TIMEOUT;
    loop {
        let url = client.current_url().await?.to_string();
        if url.contains("/archive/sha256:") {
            return Ok(url);
        }
        if let Ok(error) = client
            .find(Locator::Css("[data-strata-error=archive]"))
            .await
        {
            anyhow::bail!("the archive was refused: {}", error.text().await?);
        }
        anyhow::ensure!(std::time::Instant::now() < deadline, "still on {url}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn open_file(client: &Client, selector: &str, path: &std::path::Path) -> anyhow::Result<()> {
    let input = client.wait().for_element(Locator::Css(selector)).await?;
    input.send_keys(&path.to_string_lossy()).await?;
    Ok(())
}

#[tokio::test]
async fn the_demo_opens_with_no_registry_from_one_click() -> anyhow::Result<()> {
    let app = start_app_for(&[]).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    client.goto(&format!("{}/", app.url())).await?;
    client
        .wait()
        .for_element(Locator::Css("[data-strata-demo]"))
        .await?
        .click()
        .await?;
    wait_for_state(&client, "ready", READY_TIMEOUT).await?;
    assert_layers_verified(&client, 3).await?;
    let platforms = visible_text(&client, "main").await?;
    assert!(platforms.contains("arm64"), "the demo's index lists arm64");
    // The arm64 platform opens too, from the platform link.
    let url = client.current_url().await?;
    client
        .goto(&format!(
            "{}?platform=linux/arm64/v8",
            url.as_str().split('?').next().unwrap_or_default()
        ))
        .await?;
    wait_for_state(&client, "ready", READY_TIMEOUT).await?;
    assert_layers_verified(&client, 3).await?;
    client.close().await?;
    Ok(())
}

#[tokio::test]
async fn archives_open_from_the_file_input_and_links_ask_for_the_file() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (legacy, id) = legacy_archive("strata-test/archive:v1", &[7u8; 50_000]);
    let legacy_path = dir.path().join("app.tar");
    std::fs::write(&legacy_path, &legacy)?;
    let (other, _) = legacy_archive("strata-test/other:v1", b"other");
    let other_path = dir.path().join("other.tar");
    std::fs::write(&other_path, &other)?;
    // The same image as an OCI archive, written by skopeo.
    let oci_path = dir.path().join("app.oci.tar");
    let skopeo = std::process::Command::new("skopeo")
        .arg("copy")
        .arg(format!("docker-archive:{}", legacy_path.display()))
        .arg(format!("oci-archive:{}:v1", oci_path.display()))
        .output()?;
    anyhow::ensure!(
        skopeo.status.success(),
        "skopeo: {}",
        String::from_utf8_lossy(&skopeo.stderr)
    );
    // And gzip-compressed, as `docker save x | gzip` writes it.
    let gz_path = dir.path().join("app.tar.gz");
    let gz = std::process::Command::new("gzip")
        .arg("-kc")
        .arg(&legacy_path)
        .output()?;
    std::fs::write(&gz_path, gz.stdout)?;

    let app = start_app_for(&[]).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    let mut archive_url = String::new();
    for path in [&legacy_path, &oci_path, &gz_path] {
        client.goto(&format!("{}/", app.url())).await?;
        open_file(&client, "input[data-strata-open=archive]", path).await?;
        let url = wait_for_archive_page(&client).await?;
        wait_for_state(&client, "ready", READY_TIMEOUT).await?;
        assert_layers_verified(&client, 1).await?;
        if path == &legacy_path {
            archive_url = url;
        }
    }
    client.close().await?;

    // A fresh browser has no file: the link asks for it, and refuses another archive.
    let fresh = browser.session().await?;
    fresh.goto(&archive_url).await?;
    wait_for_state(&fresh, "needs-file", READY_TIMEOUT).await?;
    open_file(&fresh, "input[data-strata-open=archive]", &other_path).await?;
    let refusal = fresh
        .wait()
        .for_element(Locator::Css("[data-strata-error=archive]"))
        .await?
        .text()
        .await?;
    assert!(refusal.contains("does not contain"), "{refusal}");
    open_file(&fresh, "input[data-strata-open=archive]", &legacy_path).await?;
    wait_for_state(&fresh, "ready", READY_TIMEOUT).await?;
    anyhow::ensure!(fresh.current_url().await?.to_string() == archive_url);
    assert_layers_verified(&fresh, 1).await?;
    let page = visible_text(&fresh, "main").await?;
    assert!(
        page.contains("strata-test/archive:v1"),
        "the archive's name for it is shown"
    );
    let _ = id;
    fresh.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_daemon_image_opens_by_name_verified() -> anyhow::Result<()> {
    let daemon = DockerDaemon::start()?;
    let dir = tempfile::tempdir()?;
    let (archive, _) = legacy_archive("strata-test/local:v1", &[3u8; 20_000]);
    let path = dir.path().join("local.tar");
    std::fs::write(&path, &archive)?;
    daemon.load(&path)?;
    let app = start_companion(Config {
        dist: Some(app_dist()?),
        credentials: CredentialsSource::None,
        docker_host: DockerHost::Unix(daemon.socket()),
        ..Config::default()
    })
    .await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    client.goto(&format!("{}/", app.url())).await?;
    let listed = client
        .wait()
        .for_element(Locator::Css("[data-daemon-image] a"))
        .await?;
    assert_eq!(listed.text().await?, "strata-test/local:v1");
    listed.click().await?;
    wait_for_state(&client, "ready", READY_TIMEOUT).await?;
    assert_layers_verified(&client, 1).await?;
    let pinned = attributes(&client, "[data-pinned-digest]", "data-pinned-digest").await?;
    assert_eq!(pinned.len(), 1);
    client.close().await?;
    Ok(())
}
