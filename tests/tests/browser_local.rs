//! Real-browser tests of local images (issue 11): the built-in demo with no registry at
//! all, a `docker save` archive and an OCI archive (made by skopeo from it) opened through
//! the file input, an `/archive/…` link in a fresh browser that asks for the file and
//! refuses the wrong one, and an image of a real Docker Engine opened by name.

use std::time::Duration;

use fantoccini::{Client, Locator};
use strata_tests::browser::{
    Browser, attributes, open_file, start_app_for, start_app_with_daemon, visible_text,
    wait_for_archive_page, wait_for_state,
};
use strata_tests::docker_daemon::DockerDaemon;
use strata_tests::local_images::{legacy_archive, members_of, tar_of};

const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Every layer row verified, and at least `min` of them.
async fn assert_layers_verified(client: &Client, min: usize) -> anyhow::Result<()> {
    let states = attributes(client, "tr[data-layer-digest]", "data-layer-state").await?;
    assert!(states.len() >= min, "layer rows: {states:?}");
    assert!(states.iter().all(|s| s == "verified"), "{states:?}");
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

    // And zstd-compressed (`docker save x | zstd`).
    let zst_path = dir.path().join("app.tar.zst");
    let zst = std::process::Command::new("zstd")
        .args(["-q", "-c"])
        .arg(&legacy_path)
        .output()?;
    anyhow::ensure!(zst.status.success(), "zstd failed");
    std::fs::write(&zst_path, zst.stdout)?;

    let app = start_app_for(&[]).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    let mut archive_url = String::new();
    for path in [&legacy_path, &oci_path, &gz_path, &zst_path] {
        client.goto(&format!("{}/", app.url())).await?;
        open_file(&client, "input[data-strata-open=archive]", path).await?;
        let url = wait_for_archive_page(&client, READY_TIMEOUT).await?;
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
    let app = start_app_with_daemon(daemon.socket()).await?;
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

/// Chooses `path` on the home page and returns the archive error shown for it.
async fn refusal_for(client: &Client, app: &str, path: &std::path::Path) -> anyhow::Result<String> {
    client.goto(&format!("{app}/")).await?;
    open_file(client, "input[data-strata-open=archive]", path).await?;
    Ok(client
        .wait()
        .at_most(READY_TIMEOUT)
        .for_element(Locator::Css("[data-strata-error=archive]"))
        .await?
        .text()
        .await?)
}

#[tokio::test]
async fn bad_archives_are_refused_by_name_and_a_bad_layer_fails_alone() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (good, _) = legacy_archive("strata-test/bad:v1", &[5u8; 30_000]);
    let members = members_of(&good);
    let find = |suffix: &str| {
        members
            .iter()
            .find(|(p, _)| p.ends_with(suffix))
            .map(|(p, d)| (p.clone(), d.clone()))
            .unwrap()
    };
    let (layer_path, layer) = find("layer.tar");
    let (config_path, config) = find(".json");
    let with_manifest = |layers: &str| {
        let manifest =
            format!(r#"[{{"Config":"{config_path}","RepoTags":["x:y"],"Layers":[{layers}]}}]"#);
        tar_of(&[
            (&layer_path, &layer),
            (&config_path, &config),
            ("manifest.json", manifest.as_bytes()),
        ])
    };
    let gzip = |bytes: &[u8]| -> anyhow::Result<Vec<u8>> {
        let out = std::process::Command::new("sh")
            .args(["-c", "gzip -c"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        use std::io::Write;
        out.stdin.as_ref().unwrap().write_all(bytes)?;
        let output = out.wait_with_output()?;
        Ok(output.stdout)
    };
    // gzip of an archive large enough to have data after the damage, damaged halfway.
    let (big, _) = legacy_archive(
        "strata-test/big:v1",
        &(0..400_000u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    );
    let mut corrupt_gz = gzip(&big)?;
    let middle = corrupt_gz.len() / 2;
    for b in &mut corrupt_gz[middle..middle + 64] {
        *b ^= 0x5a;
    }
    let zstd = std::process::Command::new("sh")
        .args(["-c", "zstd -q -c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    {
        use std::io::Write;
        zstd.stdin.as_ref().unwrap().write_all(&big)?;
    }
    let mut corrupt_zst = zstd.wait_with_output()?.stdout;
    corrupt_zst.truncate(corrupt_zst.len() / 2);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("cut.tar.zst", corrupt_zst, "zstd data is corrupt or cut"),
        (
            "escape.tar",
            with_manifest(r#""../../etc/passwd""#),
            "unsafe path \"../../etc/passwd\"",
        ),
        (
            "absolute.tar",
            with_manifest(r#""/etc/passwd""#),
            "unsafe path \"/etc/passwd\"",
        ),
        (
            "missing.tar",
            with_manifest(r#""nothere/layer.tar""#),
            "has no member \"nothere/layer.tar\"",
        ),
        (
            "duplicate.tar",
            tar_of(&[("manifest.json", b"[]"), ("manifest.json", b"[]")]),
            "duplicate entry \"manifest.json\"",
        ),
        (
            "truncated.tar",
            good[..good.len() / 2].to_vec(),
            "truncated",
        ),
        ("corrupt.tar.gz", corrupt_gz, "gzip data is corrupt or cut"),
        (
            "index.tar",
            tar_of(&[
                ("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
                ("index.json", b"{not json"),
            ]),
            "index.json is not valid JSON",
        ),
        (
            "notes.txt",
            b"just some text, not a tar at all".repeat(40),
            "not a tar archive",
        ),
    ];
    let app = start_app_for(&[]).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    for (name, bytes, expected) in &cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes)?;
        let refusal = refusal_for(&client, &app.url(), &path).await?;
        assert!(
            refusal.contains(expected),
            "{name}: {refusal:?} should say {expected:?}"
        );
        // Nothing else broke: the home page still offers the demo.
        client.find(Locator::Css("[data-strata-demo]")).await?;
    }

    // A layer whose bytes do not match its diff_id fails alone, named by both digests;
    // the config and the manifest written for the archive stay verified on screen.
    let mut tampered = layer.clone();
    let at = tampered.len() - 2000;
    tampered[at] ^= 1;
    let manifest =
        format!(r#"[{{"Config":"{config_path}","RepoTags":["x:y"],"Layers":["{layer_path}"]}}]"#);
    let bad_layer = dir.path().join("bad-layer.tar");
    std::fs::write(
        &bad_layer,
        tar_of(&[
            (&layer_path, &tampered),
            (&config_path, &config),
            ("manifest.json", manifest.as_bytes()),
        ]),
    )?;
    client.goto(&format!("{}/", app.url())).await?;
    open_file(&client, "input[data-strata-open=archive]", &bad_layer).await?;
    wait_for_archive_page(&client, READY_TIMEOUT).await?;
    wait_for_state(&client, "ready", READY_TIMEOUT).await?;
    client
        .find(Locator::Css("[data-failed-object=layer]"))
        .await?;
    let states = attributes(&client, "tr[data-layer-digest]", "data-layer-state").await?;
    assert_eq!(states, ["failed"]);
    let row = visible_text(&client, "tr[data-layer-digest]").await?;
    assert!(row.contains("diff_id") || row.contains("sha256:"), "{row}");
    client.find(Locator::Css("[data-verified=config]")).await?;
    let checks = attributes(&client, "[data-archive-checks]", "data-archive-checks").await?;
    assert_eq!(checks, ["legacy"], "the page says which checks applied");

    // An OCI archive (skopeo) without one of its layer blobs: that layer fails alone and
    // names the digest; everything above it is on screen.
    let legacy_path = dir.path().join("good.tar");
    std::fs::write(&legacy_path, &good)?;
    let oci_path = dir.path().join("good.oci.tar");
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
    let oci_members = members_of(&std::fs::read(&oci_path)?);
    // The layer's blob, found through index.json and the manifest.
    let member = |path: &str| -> anyhow::Result<serde_json::Value> {
        let (_, data) = oci_members
            .iter()
            .find(|(p, _)| p == path)
            .ok_or_else(|| anyhow::anyhow!("no {path} in skopeo's archive"))?;
        Ok(serde_json::from_slice(data)?)
    };
    let blob_path = |digest: &serde_json::Value| {
        format!(
            "blobs/{}",
            digest.as_str().unwrap_or_default().replace(':', "/")
        )
    };
    let manifest = member(&blob_path(&member("index.json")?["manifests"][0]["digest"]))?;
    let largest = &blob_path(&manifest["layers"][0]["digest"]);
    let without: Vec<(&str, &[u8])> = oci_members
        .iter()
        .filter(|(p, _)| p != largest && !p.ends_with('/'))
        .map(|(p, d)| (p.as_str(), d.as_slice()))
        .collect();
    let missing_blob = dir.path().join("missing-blob.oci.tar");
    std::fs::write(&missing_blob, tar_of(&without))?;
    client.goto(&format!("{}/", app.url())).await?;
    open_file(&client, "input[data-strata-open=archive]", &missing_blob).await?;
    wait_for_archive_page(&client, READY_TIMEOUT).await?;
    wait_for_state(&client, "ready", READY_TIMEOUT).await?;
    client
        .find(Locator::Css("[data-failed-object=layer]"))
        .await?;
    let row = visible_text(&client, "tr[data-layer-digest]").await?;
    let hex = largest.rsplit('/').next().unwrap();
    assert!(row.contains("is not in the opened archive"), "{row}");
    assert!(row.contains(&hex[..12]), "{row} names {hex}");
    client
        .find(Locator::Css("[data-verified=manifest]"))
        .await?;
    client.find(Locator::Css("[data-verified=config]")).await?;
    client.close().await?;
    Ok(())
}
