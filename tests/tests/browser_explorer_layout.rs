//! Real-browser tests of the Files tab's table and frame (issue 13, items 9–10): column
//! headers sort (a second click reverses) and say so with `aria-sort`; the wasted-files
//! list beside the total names each path whose data never reaches the image, with its
//! bytes; at 1400 px the tab fills the window so the page itself never scrolls, the
//! details pane shows 16 bytes of hex per line without scrolling sideways, and its
//! splitter resizes it from the keyboard and is remembered; at 1024 px the panes stack
//! and nothing is wider than the window.
//! Headless Chromium over WebDriver, the image pushed to the real Distribution registry.

use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, Locator};
use strata_tests::browser::{
    Browser, ServedImage, attributes, open_files_view as open, serve_image,
};
use strata_tests::fixtures::three_layer_image;
use strata_tests::image::{Entry, Format, ImageSpec, LayerSpec, Step};

const TIMEOUT: Duration = Duration::from_secs(60);
/// Files in /many, sized 1 to MANY bytes.
const MANY: usize = 40;

/// L0 writes /etc/app.conf, a binary /usr/lib/libx.so, /big.bin and /many; L1 rewrites
/// /etc/app.conf; L2 deletes /big.bin.
fn layout_image() -> ImageSpec {
    let mut spec = three_layer_image();
    let mut base = vec![
        Entry::file("/etc/app.conf", b"one\n".to_vec(), 0o644),
        Entry::file(
            "/usr/lib/libx.so",
            (0..=255u8).cycle().take(600).collect::<Vec<_>>(),
            0o755,
        ),
        Entry::file("/big.bin", vec![7u8; 3000], 0o644),
    ];
    base.extend((1..=MANY).map(|i| Entry::file(&format!("/many/f{i:02}"), vec![b'x'; i], 0o644)));
    spec.steps = vec![
        Step::Layer(LayerSpec::new("ADD base /", base)),
        Step::Layer(LayerSpec::new(
            "RUN configure",
            vec![Entry::file(
                "/etc/app.conf",
                b"two, longer\n".to_vec(),
                0o644,
            )],
        )),
        Step::Layer(LayerSpec::new(
            "RUN rm /big.bin",
            vec![Entry::whiteout("/big.bin")],
        )),
    ];
    spec
}

async fn setup() -> anyhow::Result<ServedImage> {
    serve_image(&layout_image().build(Format::Oci)?, "team/layout").await
}

async fn paths(client: &Client) -> anyhow::Result<Vec<String>> {
    attributes(client, "[data-listing] [data-path]", "data-path").await
}

/// Waits until the listing's first rows are `want`.
async fn wait_first_paths(client: &Client, want: &[&str]) -> anyhow::Result<()> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let got = paths(client).await?;
        if got.len() >= want.len() && got[..want.len()] == *want {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "listing starts {got:?}, wanted {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn click_header(client: &Client, column: &str) -> anyhow::Result<()> {
    client
        .find(Locator::Css(&format!("[data-sort-column='{column}']")))
        .await?
        .click()
        .await?;
    Ok(())
}

async fn aria_sort(client: &Client, column: &str) -> anyhow::Result<String> {
    let got = client
        .execute(
            "const a = document.querySelector(`[data-sort-column='${arguments[0]}']`); \
             return a ? a.closest('[role=columnheader]').getAttribute('aria-sort') : null;",
            vec![serde_json::json!(column)],
        )
        .await?;
    Ok(got.as_str().unwrap_or_default().to_owned())
}

async fn number(client: &Client, script: &str) -> anyhow::Result<f64> {
    let got = client.execute(script, vec![]).await?;
    got.as_f64()
        .ok_or_else(|| anyhow::anyhow!("{script} gave {got}"))
}

#[tokio::test]
async fn column_headers_sort_and_a_second_click_reverses() -> anyhow::Result<()> {
    let s = setup().await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    open(&client, &format!("{}?tab=files&path=/many", s.base)).await?;
    wait_first_paths(&client, &["/many/f01", "/many/f02"]).await?;
    assert_eq!(aria_sort(&client, "name").await?, "ascending");
    assert_eq!(aria_sort(&client, "size").await?, "none");

    click_header(&client, "size").await?;
    wait_first_paths(&client, &["/many/f40", "/many/f39"]).await?;
    assert!(client.current_url().await?.as_str().contains("sort=size"));
    assert_eq!(aria_sort(&client, "size").await?, "descending");
    assert_eq!(aria_sort(&client, "name").await?, "none");

    click_header(&client, "size").await?;
    wait_first_paths(&client, &["/many/f01", "/many/f02"]).await?;
    assert!(client.current_url().await?.as_str().contains("sort=-size"));
    assert_eq!(aria_sort(&client, "size").await?, "ascending");

    click_header(&client, "name").await?;
    wait_first_paths(&client, &["/many/f01", "/many/f02"]).await?;
    click_header(&client, "name").await?;
    wait_first_paths(&client, &["/many/f40", "/many/f39"]).await?;
    assert!(client.current_url().await?.as_str().contains("sort=-name"));

    // The root: /etc was last written by L1, the rest by L0; by layer, L1 comes last.
    open(&client, &format!("{}?tab=files&sort=-layer", s.base)).await?;
    wait_first_paths(&client, &["/etc"]).await?;
    assert_eq!(aria_sort(&client, "layer").await?, "descending");
    client.close().await?;
    Ok(())
}

#[tokio::test]
async fn the_wasted_files_list_names_each_path_and_its_bytes() -> anyhow::Result<()> {
    let s = setup().await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    open(&client, &format!("{}?tab=files", s.base)).await?;
    let list = client
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::Css("[data-wasted-files]"))
        .await?;
    assert_eq!(list.attr("data-wasted-files").await?.as_deref(), Some("2"));
    let wasted_paths = attributes(&client, "[data-wasted-path]", "data-wasted-path").await?;
    assert_eq!(wasted_paths, ["/big.bin", "/etc/app.conf"], "largest first");
    let wasted_bytes = attributes(&client, "[data-wasted-path]", "data-wasted-path-bytes").await?;
    assert_eq!(wasted_bytes, ["3000", "4"]);
    let total = attributes(&client, "[data-wasted-bytes]", "data-wasted-bytes").await?;
    assert_eq!(total, ["3004"], "the list adds up to the total");

    // A listed path opens with the deleted paths shown, so a deleted one is there.
    list.find(Locator::Css("summary")).await?.click().await?;
    client
        .find(Locator::Css("[data-wasted-path='/big.bin'] a"))
        .await?
        .click()
        .await?;
    let deadline = Instant::now() + TIMEOUT;
    while attributes(&client, "[data-detail-path]", "data-detail-path").await? != ["/big.bin"] {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the detail pane never showed /big.bin"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    client.close().await?;
    Ok(())
}

#[tokio::test]
async fn at_1400_px_only_the_panes_scroll_and_hex_fits_and_the_splitter_resizes()
-> anyhow::Result<()> {
    let s = setup().await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    client.set_window_size(1400, 900).await?;
    open(
        &client,
        &format!("{}?tab=files&path=/usr/lib/libx.so", s.base),
    )
    .await?;
    let hex = client
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::Css("[data-contents-kind='hex']"))
        .await?;
    let _ = hex;
    // One scroll area: the page is no taller than the window.
    let overflow = number(
        &client,
        "return document.scrollingElement.scrollHeight - window.innerHeight;",
    )
    .await?;
    assert!(
        overflow <= 1.0,
        "the page scrolls by {overflow}px besides the listing"
    );
    // 16 bytes of hex and their text fit the details pane.
    let hidden = number(
        &client,
        "const p = document.querySelector('[data-contents-kind=hex]'); \
         return p.scrollWidth - p.clientWidth;",
    )
    .await?;
    assert!(hidden <= 0.0, "the hex view hides {hidden}px sideways");
    let layer_cells = number(
        &client,
        "return [...document.querySelectorAll('[data-listing] .layer-cell')] \
           .filter(c => c.scrollWidth > c.clientWidth).length;",
    )
    .await?;
    assert_eq!(layer_cells, 0.0, "a Layer cell is truncated");

    // The splitter: ← widens the details pane by a step, and the width is remembered.
    let width = "return document.querySelector('.detail-pane').getBoundingClientRect().width;";
    let before = number(&client, width).await?;
    client
        .execute("document.querySelector('[data-splitter]').focus();", vec![])
        .await?;
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: '\u{E012}' })
        .then(KeyAction::Up { value: '\u{E012}' });
    client.perform_actions(keys).await?;
    let after = number(&client, width).await?;
    assert!(
        (after - before - 32.0).abs() < 1.5,
        "← moved the splitter from {before} to {after}"
    );
    // The arrow was the splitter's: the selection stayed.
    let url = client.current_url().await?;
    let path = url
        .query_pairs()
        .find(|(k, _)| k == "path")
        .map(|(_, v)| v.into_owned());
    assert_eq!(path.as_deref(), Some("/usr/lib/libx.so"), "{url}");
    client.refresh().await?;
    open(&client, client.current_url().await?.as_str()).await?;
    let remembered = number(&client, width).await?;
    assert!(
        (remembered - after).abs() < 1.5,
        "{remembered} after a reload, {after} before"
    );
    client.close().await?;
    Ok(())
}

#[tokio::test]
async fn at_1024_px_the_panes_stack_and_nothing_is_wider_than_the_window() -> anyhow::Result<()> {
    let s = setup().await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    client.set_window_size(1024, 768).await?;
    open(&client, &format!("{}?tab=files&path=/etc/app.conf", s.base)).await?;
    client
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::Css("[data-detail-path]"))
        .await?;
    let wide = number(
        &client,
        "return document.scrollingElement.scrollWidth - window.innerWidth;",
    )
    .await?;
    assert!(wide <= 0.0, "the page is {wide}px wider than the window");
    let stacked = client
        .execute(
            "const box = s => document.querySelector(s).getBoundingClientRect(); \
             const layers = box('.layer-list'), tree = box('.tree-pane'), detail = box('.detail-pane'); \
             return [layers.bottom <= tree.top + 1, tree.bottom <= detail.top + 1, \
                     detail.width >= window.innerWidth * 0.8];",
            vec![],
        )
        .await?;
    assert_eq!(
        stacked,
        serde_json::json!([true, true, true]),
        "layers, listing, details"
    );
    client.close().await?;
    Ok(())
}

/// Screenshots for a person to look at (not a check): with `STRATA_SCREENSHOT_DIR` set,
/// PNGs of the Files tab on a Debian-sized image (a gzip layer of real files under /usr,
/// about 90 MB, then a layer with a hard link and a binary file, then one that deletes
/// /usr/share/doc): mid-load (the big layer held back by the scripted registry), ready, a
/// hard link, a deletion in a layer view and the hex view, at 1400 and 1024 px. Dark
/// mode: also set `STRATA_CHROME_EXTRA_ARGS=--force-dark-mode`.
#[tokio::test]
#[ignore = "screenshots: run by hand with STRATA_SCREENSHOT_DIR"]
async fn screenshots_of_the_files_tab_on_a_debian_sized_image() -> anyhow::Result<()> {
    use std::sync::Arc;
    use strata_tests::image::{BuiltImage, Layer, gzip};
    use strata_tests::scripted_registry::{BlobScript, Script, ScriptedRegistry};
    use tokio::sync::Notify;

    let Some(dir) = std::env::var_os("STRATA_SCREENSHOT_DIR").map(std::path::PathBuf::from) else {
        return Ok(());
    };
    let mode =
        if std::env::var("STRATA_CHROME_EXTRA_ARGS").is_ok_and(|a| a.contains("force-dark-mode")) {
            "dark"
        } else {
            "light"
        };
    std::fs::create_dir_all(&dir)?;
    let work = tempfile::tempdir()?;
    let base_tar = work.path().join("base.tar");
    strata_tests::real_files::real_files_tar(&["/usr/share", "/usr/lib"], 90 << 20, &base_tar)?;
    let tar = std::fs::read(&base_tar)?;
    let blob = gzip(&tar)?;
    let mut spec = three_layer_image();
    spec.steps = vec![
        Step::Layer(LayerSpec::new(
            "ADD rootfs.tar.gz /",
            vec![Entry::file("/placeholder", b"x".to_vec(), 0o644)],
        )),
        Step::Layer(LayerSpec::new(
            "RUN install tool",
            vec![
                Entry::file(
                    "/opt/tool/bin/run",
                    b"#!/bin/sh\necho run\n".to_vec(),
                    0o755,
                ),
                Entry::hardlink("/opt/tool/bin/run-again", "/opt/tool/bin/run"),
                Entry::file(
                    "/opt/tool/lib/blob.bin",
                    (0..=255u8).cycle().take(2048).collect::<Vec<_>>(),
                    0o644,
                ),
            ],
        )),
        Step::Layer(LayerSpec::new(
            "RUN rm -rf /usr/share/doc",
            vec![Entry::whiteout("/usr/share/doc")],
        )),
    ];
    let mut layers: Vec<Layer> = spec
        .layers()
        .map(|l| Layer::build(l, Format::Oci))
        .collect::<anyhow::Result<_>>()?;
    layers[0] = Layer {
        digest: strata_tests::image::sha256_digest(&blob),
        diff_id: strata_tests::image::sha256_digest(&tar),
        blob,
        uncompressed: tar,
        media_type: Format::Oci.layer_type().to_owned(),
        annotations: Default::default(),
    };
    let config = serde_json::to_vec(&spec.config_json(&layers))?;
    let image = BuiltImage::assemble(
        Format::Oci,
        Format::Oci.config_type(),
        config,
        layers,
        &spec.annotations,
    )?;
    let big = image.layers[0].digest.clone();
    for width in [1400u32, 1024] {
        let gate = Arc::new(Notify::new());
        let mut script = Script::honest(image.clone());
        script
            .blobs
            .insert(big.clone(), BlobScript::HeldUntil(Arc::clone(&gate)));
        let registry = ScriptedRegistry::start(script).await?;
        let app = strata_tests::browser::start_app_for(&[registry.host().to_owned()]).await?;
        let mut browser = Browser::start().await?;
        let client = browser.session().await?;
        client.set_window_size(width, 900).await?;
        let base = format!("{}/image/{}/shots/debian:v1", app.url(), registry.host());
        let shot = |name: &str| dir.join(format!("files-{name}-{width}-{mode}.png"));
        client.goto(&format!("{base}?tab=files")).await?;
        client
            .wait()
            .at_most(TIMEOUT)
            .for_element(Locator::Css("[data-files-progress]"))
            .await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        std::fs::write(shot("mid-load"), client.screenshot().await?)?;
        // Released for good: every later request of the blob (a new page load may ask
        // again) is let through too.
        let release = Arc::clone(&gate);
        let releaser = tokio::spawn(async move {
            loop {
                release.notify_one();
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        strata_tests::browser::wait_for_state(&client, "ready", TIMEOUT).await?;
        for (name, query) in [
            ("ready", "?tab=files&path=/usr/share"),
            ("hard-link", "?tab=files&path=/opt/tool/bin/run-again"),
            ("deletion-in-layer", "?tab=files&layer=2"),
            ("hex", "?tab=files&path=/opt/tool/lib/blob.bin"),
        ] {
            open(&client, &format!("{base}{query}")).await?;
            tokio::time::sleep(Duration::from_millis(500)).await;
            std::fs::write(shot(name), client.screenshot().await?)?;
        }
        releaser.abort();
        client.close().await?;
    }
    Ok(())
}
