//! Real-browser tests of the compare page (issue 15): two images built by test code with
//! known changes in the real Distribution registry, a platform compare of a two-platform
//! index reached from the image page's "Compare with…", and a daemon image against the
//! same image pushed to the registry by skopeo.

use std::collections::BTreeMap;
use std::time::Duration;

use fantoccini::{Client, Locator};
use strata_tests::browser::{
    Browser, app_dist, attributes, start_app, visible_text, wait_for_state,
};
use strata_tests::docker_daemon::DockerDaemon;
use strata_tests::fixtures::{elf64, two_platform_images};
use strata_tests::image::{Entry, Format, ImageSpec, LayerSpec, RuntimeConfig, Step, build_index};
use strata_tests::local_images::legacy_archive;
use strata_tests::push::{PushedImage, Pusher};
use strata_tests::registry::Registry;

const TIMEOUT: Duration = Duration::from_secs(90);

fn spec(layers: Vec<LayerSpec>, env: &str) -> ImageSpec {
    ImageSpec {
        architecture: "amd64".into(),
        os: "linux".into(),
        variant: None,
        created: "2026-01-01T00:00:00Z".into(),
        config: RuntimeConfig {
            env: vec![env.into()],
            cmd: Some(vec!["/bin/app".into()]),
            ..RuntimeConfig::default()
        },
        steps: layers.into_iter().map(Step::Layer).collect(),
        annotations: BTreeMap::new(),
    }
}

/// The base layer both images share (built from one spec, so one blob).
fn base() -> LayerSpec {
    LayerSpec::new(
        "ADD base.tar /",
        vec![
            Entry::file("/etc/base.conf", b"base\n".to_vec(), 0o644),
            Entry::file("/opt/keep.txt", b"kept\n".to_vec(), 0o644),
        ],
    )
}

/// A: the base, then a layer with what B changes.
fn image_a() -> ImageSpec {
    spec(
        vec![
            base(),
            LayerSpec::new(
                "COPY a/ /",
                vec![
                    Entry::file("/etc/removed.txt", b"gone in B\n".to_vec(), 0o644),
                    Entry::file("/etc/modified.txt", b"aaaa\n".to_vec(), 0o644),
                    Entry::file("/etc/mode.sh", b"#!/bin/sh\n".to_vec(), 0o644),
                    Entry::file("/etc/becomes-link", b"x\n".to_vec(), 0o644),
                    Entry::file("/opt/hidden/one.txt", b"1\n".to_vec(), 0o644),
                    Entry::file("/opt/hidden/two.txt", b"2\n".to_vec(), 0o644),
                ],
            ),
        ],
        "MODE=a",
    )
}

/// B: the same base, then its own layer: one file added, one modified with the same size
/// and mtime, one changed only in mode, one replaced by a symlink, and an opaque
/// directory hiding A's files.
fn image_b() -> ImageSpec {
    spec(
        vec![
            base(),
            LayerSpec::new(
                "COPY b/ /",
                vec![
                    Entry::file("/etc/added.txt", b"new in B\n".to_vec(), 0o644),
                    Entry::file("/etc/modified.txt", b"bbbb\n".to_vec(), 0o644),
                    Entry::file("/etc/mode.sh", b"#!/bin/sh\n".to_vec(), 0o755),
                    Entry::symlink("/etc/becomes-link", "/etc/base.conf"),
                    Entry::opaque("/opt/hidden"),
                    Entry::file("/opt/hidden/new.txt", b"n\n".to_vec(), 0o644),
                ],
            ),
        ],
        "MODE=b",
    )
}

/// A and B pushed as `team/cmp:1.0` and `team/cmp:2.0`.
async fn push_a_and_b(registry: &Registry) -> anyhow::Result<(PushedImage, PushedImage)> {
    let pusher = Pusher::for_registry(registry)?;
    let a = pusher
        .push_image("team/cmp", Some("1.0"), &image_a().build(Format::Oci)?)
        .await?;
    let b = pusher
        .push_image("team/cmp", Some("2.0"), &image_b().build(Format::Oci)?)
        .await?;
    Ok((a, b))
}

/// The compare page of `team/cmp:1.0` (A) and `team/cmp:2.0` (B) on `host`.
fn compare_a_and_b(app: &str, host: &str) -> String {
    format!("{app}/compare?a={host}/team/cmp:1.0&b={host}/team/cmp:2.0")
}

/// Each file row's (path, kind), in page order.
async fn diff_rows(client: &Client) -> anyhow::Result<Vec<(String, String)>> {
    let paths = attributes(client, "[data-diff-path]", "data-diff-path").await?;
    let kinds = attributes(client, "[data-diff-path]", "data-diff-kind").await?;
    Ok(paths.into_iter().zip(kinds).collect())
}

async fn open_ready(client: &Client, url: &str) -> anyhow::Result<()> {
    client.goto(url).await?;
    wait_for_state(client, "ready", TIMEOUT).await?;
    client
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::Css("[data-diff-ms]"))
        .await?;
    Ok(())
}

#[tokio::test]
async fn known_changes_get_their_kinds_and_the_pull_cost_counts_the_shared_layer_once()
-> anyhow::Result<()> {
    let registry = Registry::start().await?;
    let (a, b) = push_a_and_b(&registry).await?;
    assert_eq!(
        a.layers[0].digest, b.layers[0].digest,
        "the base is one blob"
    );
    let app = start_app(&registry).await?;
    let host = registry.host();
    let url = compare_a_and_b(&app.url(), &host);
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;

    // Layers: the base on both sides, each own layer on its side; the pull cost of B on a
    // machine holding A is B's own layer only, and the reverse A's.
    open_ready(&client, &url).await?;
    let sides: Vec<(String, String)> =
        attributes(&client, "[data-layer-side]", "data-layer-digest")
            .await?
            .into_iter()
            .zip(attributes(&client, "[data-layer-side]", "data-layer-side").await?)
            .collect();
    assert_eq!(
        sides,
        [
            (a.layers[0].digest.clone(), "both".to_owned()),
            (a.layers[1].digest.clone(), "a".to_owned()),
            (b.layers[1].digest.clone(), "b".to_owned()),
        ]
    );
    // The shared base blob was fetched once for both sides.
    let base_uri = format!("/v2/team/cmp/blobs/{}", a.layers[0].digest);
    let log = registry.log();
    let base_gets = log
        .lines()
        .filter(|l| {
            l.contains("response completed") && l.contains("method=GET") && l.contains(&base_uri)
        })
        .count();
    assert_eq!(base_gets, 1, "GETs of the shared base blob:\n{log}");
    let pull = attributes(&client, "[data-pull-bytes]", "data-pull-bytes").await?;
    assert_eq!(pull, [b.layers[1].size.to_string()]);
    let reverse = attributes(&client, "[data-pull-bytes]", "data-pull-bytes-reverse").await?;
    assert_eq!(reverse, [a.layers[1].size.to_string()]);

    // Config: the env variable changed.
    client.goto(&format!("{url}&tab=config")).await?;
    client
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::Css(
            "[data-config-key='env:MODE'][data-change=changed]",
        ))
        .await?;

    // Files: every changed path with its kind; unchanged ones only with unchanged=1.
    open_ready(&client, &format!("{url}&tab=files")).await?;
    let rows: BTreeMap<String, String> = diff_rows(&client).await?.into_iter().collect();
    let expect = [
        ("/etc/added.txt", "added"),
        ("/etc/removed.txt", "removed"),
        ("/etc/modified.txt", "modified"),
        ("/etc/mode.sh", "metadata"),
        ("/etc/becomes-link", "modified"),
        ("/opt/hidden/one.txt", "removed"),
        ("/opt/hidden/two.txt", "removed"),
        ("/opt/hidden/new.txt", "added"),
    ];
    for (path, kind) in expect {
        assert_eq!(
            rows.get(path).map(String::as_str),
            Some(kind),
            "{path} in {rows:?}"
        );
    }
    assert!(
        !rows.contains_key("/etc/base.conf"),
        "unchanged paths are hidden: {rows:?}"
    );
    assert!(rows.values().all(|k| k != "unchanged"), "{rows:?}");

    open_ready(&client, &format!("{url}&tab=files&unchanged=1")).await?;
    let all: BTreeMap<String, String> = diff_rows(&client).await?.into_iter().collect();
    assert_eq!(
        all.get("/etc/base.conf").map(String::as_str),
        Some("unchanged")
    );
    assert_eq!(
        all.get("/opt/keep.txt").map(String::as_str),
        Some("unchanged")
    );

    // A kind filter and a search narrow the list.
    open_ready(&client, &format!("{url}&tab=files&kind=removed&q=/opt/**")).await?;
    let removed = diff_rows(&client).await?;
    assert_eq!(
        removed,
        [
            ("/opt/hidden/one.txt".to_owned(), "removed".to_owned()),
            ("/opt/hidden/two.txt".to_owned(), "removed".to_owned()),
        ]
    );

    // The modified file opens as a line diff read from both verified layers.
    open_ready(&client, &format!("{url}&tab=files&path=/etc/modified.txt")).await?;
    let diff = client
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::Css("[data-line-diff]"))
        .await?;
    assert_eq!(diff.attr("data-line-diff").await?.as_deref(), Some("1"));
    let text = visible_text(&client, "[data-line-diff]").await?;
    assert!(text.contains("aaaa") && text.contains("bbbb"), "{text}");

    // The export names both images by digest and holds every path's kind.
    open_ready(&client, &format!("{url}&tab=export")).await?;
    client
        .find(Locator::Css("[data-export=preview]"))
        .await?
        .click()
        .await?;
    let json = client
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::Css("[data-export-preview]"))
        .await?
        .text()
        .await?;
    let export: serde_json::Value = serde_json::from_str(&json)?;
    assert_eq!(export["a"]["digest"], a.manifest_digest.as_str());
    assert_eq!(export["b"]["digest"], b.manifest_digest.as_str());
    let exported: BTreeMap<String, String> = export["files"]["entries"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|e| {
            (
                format!("/{}", e["path"].as_str().unwrap_or_default()),
                e["change"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .filter(|(_, change)| change != "unchanged")
        .collect();
    assert_eq!(exported, rows, "the export lists the page's changed paths");
    assert_eq!(
        export["layers"]["pull_b_given_a"]["download_bytes"],
        b.layers[1].size
    );

    // The pinned link names both images by digest and shows the same in a fresh browser.
    let pinned = client
        .find(Locator::Css("[data-compare-pinned]"))
        .await?
        .attr("href")
        .await?
        .unwrap_or_default();
    assert!(
        pinned.contains(&a.manifest_digest.replace(':', "%3A")),
        "{pinned}"
    );
    assert!(
        pinned.contains(&b.manifest_digest.replace(':', "%3A")),
        "{pinned}"
    );
    client.close().await?;
    let mut fresh_browser = Browser::start().await?;
    let fresh = fresh_browser.session().await?;
    open_ready(&fresh, &format!("{}{pinned}&tab=files", app.url())).await?;
    let again: BTreeMap<String, String> = diff_rows(&fresh).await?.into_iter().collect();
    assert_eq!(again, rows, "the pinned link shows the same diff");
    fresh.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_side_that_cannot_be_read_fails_alone_and_the_other_stays_verified() -> anyhow::Result<()>
{
    let registry = Registry::start().await?;
    let (a, _) = push_a_and_b(&registry).await?;
    let app = start_app(&registry).await?;
    let host = registry.host();
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    client
        .goto(&format!(
            "{}/compare?a={host}/team/cmp:1.0&b={host}/team/cmp:no-such-tag",
            app.url()
        ))
        .await?;
    wait_for_state(&client, "error", TIMEOUT).await?;
    let failed = attributes(&client, "[data-side-failed]", "data-compare-side").await?;
    assert_eq!(failed, ["b"]);
    let text = visible_text(&client, "[data-side-failed]").await?;
    assert!(
        text.contains("no-such-tag"),
        "the error names the tag: {text}"
    );
    // A is still there, verified, under its digest.
    let digest = attributes(&client, "[data-compare-side=a]", "data-side-digest").await?;
    assert_eq!(digest, std::slice::from_ref(&a.manifest_digest));
    client
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::Css(
            "[data-compare-side=a] [data-side-verified=all]",
        ))
        .await?;
    client.close().await?;
    Ok(())
}

#[tokio::test]
async fn packages_of_two_sboms_are_added_removed_and_changed_in_version() -> anyhow::Result<()> {
    use strata_tests::provenance_fixtures::{
        buildkit_index, buildkit_index_with_sbom, spdx_document,
    };
    let registry = Registry::start().await?;
    let host = registry.host();
    let base = (
        "base/runtime",
        "sha256:0000000000000000000000000000000000000000000000000000000000000000",
    );
    let a = buildkit_index(&format!("{host}/team/sbom:1"), &image_a(), base)?;
    // B's SBOM: the Go app one version up, the deb package gone, a new npm package.
    let mut sbom = spdx_document();
    let packages = sbom["packages"].as_array_mut().expect("packages");
    packages.retain(|p| p["name"] != "strata-base-files");
    packages[0]["versionInfo"] = "1.3.0".into();
    packages[0]["externalRefs"][0]["referenceLocator"] =
        "pkg:golang/example.com/strata/app@v1.3.0".into();
    packages.push(serde_json::json!({
        "name": "left-pad", "SPDXID": "SPDXRef-Package-new", "versionInfo": "1.3.0",
        "downloadLocation": "NOASSERTION", "filesAnalyzed": false,
        "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:npm/left-pad@1.3.0"}],
    }));
    sbom["relationships"] = serde_json::json!([]);
    let b = buildkit_index_with_sbom(&format!("{host}/team/sbom:2"), &image_b(), base, sbom)?;
    let pusher = Pusher::for_registry(&registry)?;
    pusher.push_index("team/sbom", "1", &a).await?;
    pusher.push_index("team/sbom", "2", &b).await?;
    let app = start_app(&registry).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    client
        .goto(&format!(
            "{}/compare?a={host}/team/sbom:1&b={host}/team/sbom:2&tab=packages",
            app.url()
        ))
        .await?;
    client
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::Css("[data-package-counts]"))
        .await?;
    let keys = attributes(&client, "[data-package-key]", "data-package-key").await?;
    let changes = attributes(&client, "[data-package-key]", "data-change").await?;
    let rows: BTreeMap<String, String> = keys.into_iter().zip(changes).collect();
    let find = |needle: &str| {
        rows.iter()
            .find(|(k, _)| k.contains(needle))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(find("strata/app").as_deref(), Some("changed"), "{rows:?}");
    assert_eq!(
        find("strata-base-files").as_deref(),
        Some("removed"),
        "{rows:?}"
    );
    assert_eq!(find("left-pad").as_deref(), Some("added"), "{rows:?}");
    assert_eq!(rows.len(), 3, "{rows:?}");
    client.close().await?;
    Ok(())
}

#[tokio::test]
async fn the_platform_compare_flags_the_x86_binary_in_the_arm64_image() -> anyhow::Result<()> {
    let registry = Registry::start().await?;
    let mut specs = two_platform_images();
    // Only the arm64 image gets the x86-64 program.
    specs[1].steps.push(Step::Layer(LayerSpec::new(
        "COPY tool /usr/bin/",
        vec![Entry::file("/usr/bin/tool", elf64(62, 2), 0o755)],
    )));
    let index = build_index("team/multi", &specs, Format::Oci)?;
    let pushed = Pusher::for_registry(&registry)?
        .push_index("team/multi", "v1", &index)
        .await?;
    let app = start_app(&registry).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    // From the image page's "Compare with…", the other platform.
    client
        .goto(&format!(
            "{}/image/{}/team/multi@{}?platform=linux/amd64",
            app.url(),
            registry.host(),
            pushed.digest
        ))
        .await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    client
        .find(Locator::Css("[data-compare-with] summary"))
        .await?
        .click()
        .await?;
    client
        .find(Locator::Css("[data-compare-platform='linux/arm64/v8']"))
        .await?
        .click()
        .await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let platforms = attributes(&client, "[data-side-platform]", "data-side-platform").await?;
    assert_eq!(platforms, ["linux/amd64", "linux/arm64/v8"]);
    let files = client.find(Locator::Css("[data-tab=files]")).await?;
    files.click().await?;
    client
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::Css("[data-foreign-side=b]"))
        .await?;
    let in_b = attributes(
        &client,
        "[data-foreign-side=b] [data-foreign-binary]",
        "data-foreign-binary",
    )
    .await?;
    assert_eq!(in_b, ["/usr/bin/tool"]);
    let count_a = attributes(&client, "[data-foreign-side=a]", "data-foreign-count").await?;
    assert_eq!(count_a, ["0"]);
    let rows: BTreeMap<String, String> = diff_rows(&client).await?.into_iter().collect();
    assert_eq!(rows.get("/usr/bin/tool").map(String::as_str), Some("added"));
    client.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_daemon_image_and_the_same_image_from_the_registry_are_unchanged_throughout()
-> anyhow::Result<()> {
    let daemon = DockerDaemon::start()?;
    let registry = Registry::start().await?;
    let dir = tempfile::tempdir()?;
    let (archive, _) = legacy_archive("strata-test/same:v1", &[5u8; 30_000]);
    let path = dir.path().join("same.tar");
    std::fs::write(&path, &archive)?;
    daemon.load(&path)?;
    // The same image in the registry, its layer gzipped by skopeo on the way.
    let skopeo = std::process::Command::new("skopeo")
        .arg("copy")
        .arg("--dest-tls-verify=false")
        .arg(format!("docker-archive:{}", path.display()))
        .arg(format!("docker://{}/team/same:v1", registry.host()))
        .output()?;
    anyhow::ensure!(
        skopeo.status.success(),
        "skopeo: {}",
        String::from_utf8_lossy(&skopeo.stderr)
    );
    let app = strata_tests::companion::start_companion(strata_tests::companion::Config {
        insecure_registries: vec![registry.host()],
        dist: Some(app_dist()?),
        credentials: strata_companion::CredentialsSource::None,
        docker_host: strata_companion::DockerHost::Unix(daemon.socket()),
        ..strata_tests::companion::Config::default()
    })
    .await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    let url = format!(
        "{}/compare?a={}/team/same:v1&b=docker-daemon:strata-test/same:v1&tab=files&unchanged=1",
        app.url(),
        registry.host()
    );
    open_ready(&client, &url).await?;
    client
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::Css("[data-diff-rows]"))
        .await?;
    let rows = diff_rows(&client).await?;
    assert!(
        rows.iter().any(|(p, _)| p == "/etc/hello.txt")
            && rows.iter().any(|(p, _)| p == "/data.bin"),
        "{rows:?}"
    );
    assert!(rows.iter().all(|(_, k)| k == "unchanged"), "{rows:?}");
    // The layer blobs differ (gzip in the registry, a plain tar from the daemon), and
    // are matched as the same files by diff_id.
    client
        .goto(&url.replace("&tab=files&unchanged=1", ""))
        .await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let sides = attributes(&client, "[data-layer-side]", "data-layer-side").await?;
    assert_eq!(sides, ["both"]);
    let text = visible_text(&client, "[data-layer-side]").await?;
    assert!(text.contains("same files, other compression"), "{text}");
    client.close().await?;
    Ok(())
}

/// Screenshots for a person to look at (not a check): with `STRATA_SCREENSHOT_DIR` set,
/// the compare of the known-changes images, each tab and a modified file's line diff, at
/// 1400 and 1024 px (`STRATA_CHROME_EXTRA_ARGS=--force-dark-mode` for dark).
#[tokio::test]
#[ignore = "screenshots: run by hand with STRATA_SCREENSHOT_DIR"]
async fn screenshots_of_the_compare_page() -> anyhow::Result<()> {
    let Some(dir) = std::env::var_os("STRATA_SCREENSHOT_DIR").map(std::path::PathBuf::from) else {
        anyhow::bail!("set STRATA_SCREENSHOT_DIR");
    };
    std::fs::create_dir_all(&dir)?;
    let mode = if std::env::var("STRATA_CHROME_EXTRA_ARGS").is_ok_and(|a| a.contains("dark")) {
        "dark"
    } else {
        "light"
    };
    let registry = Registry::start().await?;
    push_a_and_b(&registry).await?;
    let app = start_app(&registry).await?;
    let host = registry.host();
    let url = compare_a_and_b(&app.url(), &host);
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    for width in [1400u32, 1024] {
        client.set_window_size(width, 900).await?;
        for (name, query) in [
            ("layers", ""),
            ("config", "&tab=config"),
            ("files", "&tab=files"),
            ("line-diff", "&tab=files&path=/etc/modified.txt"),
            ("export", "&tab=export"),
        ] {
            open_ready(&client, &format!("{url}{query}")).await?;
            tokio::time::sleep(Duration::from_millis(400)).await;
            let path = dir.join(format!("compare-{name}-{width}-{mode}.png"));
            std::fs::write(path, client.screenshot().await?)?;
        }
    }
    client.close().await?;
    Ok(())
}
