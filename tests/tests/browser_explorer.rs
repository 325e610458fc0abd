//! Real-browser tests of the Files tab (issue 4): merged and per-layer views, whiteouts and
//! opaque directories, origin timelines (the layers that added, modified, deleted a path),
//! search and glob, wasted bytes, deep links.
//! Headless Chromium over WebDriver, the Trunk-built app served by the companion, and an
//! image with known content pushed to the real Distribution registry.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use strata_tests::browser::{
    Browser, ServedImage, attributes, open_files_view as open, page_state, serve_image,
    start_app_for, visible_text, wait_for_state,
};
use strata_tests::fixtures::three_layer_image;
use strata_tests::image::{Entry, Format, ImageSpec, LayerSpec, Step};
use strata_tests::scripted_registry::{BlobScript, Script, ScriptedRegistry};
use tokio::sync::Notify;

const TIMEOUT: Duration = Duration::from_secs(60);
const CONF_V1: &[u8] = b"mode = one\n";
const CONF_V2: &[u8] = b"mode = two, longer\n";
const BIG: usize = 100_000;
const A_TXT: &[u8] = b"kept until layer 3\n";
const B_TXT: &[u8] = b"hidden by the opaque dir\n";
/// "café crème" in ISO-8859-1: not UTF-8, still text.
const LATIN1: &[u8] = b"caf\xe9 cr\xe8me\n";

/// L0 writes everything; L1 modifies /etc/app.conf and rewrites /opt/big.bin;
/// L2 deletes /etc/app.conf, makes /data opaque and adds /data/new.txt.
fn explorer_image() -> ImageSpec {
    let mut spec = three_layer_image();
    spec.steps = vec![
        Step::Layer(LayerSpec::new(
            "ADD base /",
            vec![
                Entry::file("/etc/app.conf", CONF_V1, 0o644),
                Entry::file("/usr/lib/libx.so", vec![1u8; 300], 0o755),
                Entry::file("/usr/lib/sub/liby.so", vec![2u8; 200], 0o755),
                Entry::file("/opt/big.bin", vec![3u8; BIG], 0o644),
                Entry::file("/data/keep/a.txt", A_TXT, 0o644),
                Entry::file("/data/old/b.txt", B_TXT, 0o644),
                Entry::symlink("/usr/lib/liblink.so", "sub/liby.so"),
                Entry::file("/usr/share/latin1.txt", LATIN1, 0o644),
            ],
        )),
        Step::Empty {
            created_by: "ENV A=1".into(),
        },
        Step::Layer(LayerSpec::new(
            "RUN configure",
            vec![
                Entry::file("/etc/app.conf", CONF_V2, 0o600),
                Entry::file("/opt/big.bin", vec![4u8; BIG], 0o644),
            ],
        )),
        Step::Layer(LayerSpec::new(
            "RUN cleanup",
            vec![
                Entry::whiteout("/etc/app.conf"),
                Entry::file("/data/new.txt", b"new\n".to_vec(), 0o644),
                Entry::opaque("/data"),
            ],
        )),
    ];
    spec
}

async fn setup() -> anyhow::Result<ServedImage> {
    serve_image(&explorer_image().build(Format::Docker)?, "team/explore").await
}

/// Opens a file's URL and waits until its contents show as text.
async fn open_text(client: &Client, url: &str) -> anyhow::Result<()> {
    open(client, url).await?;
    client
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::Css("[data-contents-kind=text]"))
        .await?;
    Ok(())
}

async fn paths(client: &Client) -> anyhow::Result<Vec<String>> {
    attributes(client, "[data-listing] [data-path]", "data-path").await
}

async fn wait_paths(client: &Client, want: &[&str]) -> anyhow::Result<()> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let got = paths(client).await?;
        if got == want {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "listing is {got:?}, wanted {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn merged_view_applies_whiteouts_and_opaque_dirs_and_blame_lists_each_step()
-> anyhow::Result<()> {
    let s = setup().await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;

    open(&client, &format!("{}?tab=files", s.base)).await?;
    wait_paths(&client, &["/data", "/etc", "/opt", "/usr"]).await?;

    // /etc/app.conf was deleted by L2: hidden, unless deleted paths are shown (struck through).
    open(&client, &format!("{}?tab=files&path=/etc", s.base)).await?;
    wait_paths(&client, &[]).await?;
    open(
        &client,
        &format!("{}?tab=files&path=/etc&deleted=1", s.base),
    )
    .await?;
    wait_paths(&client, &["/etc/app.conf"]).await?;
    let class = client
        .find(Locator::Css("[data-path='/etc/app.conf']"))
        .await?
        .attr("class")
        .await?;
    assert!(class.unwrap_or_default().contains("deleted"));

    // The opaque /data keeps only what L2 added.
    open(&client, &format!("{}?tab=files&path=/data", s.base)).await?;
    wait_paths(&client, &["/data/new.txt"]).await?;

    // Origin: added in L0, modified in L1, deleted in L2 — exactly those steps.
    open(
        &client,
        &format!("{}?tab=files&path=/etc/app.conf&deleted=1", s.base),
    )
    .await?;
    let layers = attributes(&client, "[data-timeline] li", "data-change-layer").await?;
    let kinds = attributes(&client, "[data-timeline] li", "data-change-kind").await?;
    assert_eq!(layers, vec!["0", "1", "2"]);
    assert_eq!(kinds, vec!["added", "modified", "deleted"]);
    let a_kinds = {
        open(
            &client,
            &format!("{}?tab=files&path=/data/keep/a.txt&deleted=1", s.base),
        )
        .await?;
        attributes(&client, "[data-timeline] li", "data-change-kind").await?
    };
    assert_eq!(a_kinds, vec!["added", "hidden"]);

    // Wasted bytes: every byte written and later deleted or overwritten, counted once.
    let wasted = attributes(&client, "[data-wasted-bytes]", "data-wasted-bytes").await?;
    let expected = CONF_V1.len() + CONF_V2.len() + BIG + A_TXT.len() + B_TXT.len();
    assert_eq!(wasted, vec![expected.to_string()]);
    client.close().await?;
    Ok(())
}

#[tokio::test]
async fn layer_view_search_glob_and_deep_link_in_fresh_session() -> anyhow::Result<()> {
    let s = setup().await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;

    // Layer 1's changes (L1): the two files it rewrote, marked modified.
    open(&client, &format!("{}?tab=files&layer=1", s.base)).await?;
    wait_paths(&client, &["/etc/app.conf", "/opt/big.bin"]).await?;

    // A search within one layer finds what that layer changed, even if deleted later;
    // the merged tree no longer has it.
    open(&client, &format!("{}?tab=files&layer=1&q=app", s.base)).await?;
    wait_paths(&client, &["/etc/app.conf"]).await?;
    open(&client, &format!("{}?tab=files&q=app", s.base)).await?;
    wait_paths(&client, &[]).await?;

    // Substring search and glob across the merged tree.
    open(&client, &format!("{}?tab=files&q=libx", s.base)).await?;
    wait_paths(&client, &["/usr/lib/libx.so"]).await?;
    open(&client, &format!("{}?tab=files&q=**/*.so", s.base)).await?;
    wait_paths(
        &client,
        &[
            "/usr/lib/liblink.so",
            "/usr/lib/libx.so",
            "/usr/lib/sub/liby.so",
        ],
    )
    .await?;

    // Typing `/` focuses search; typing a query and Enter puts it in the URL.
    open(&client, &format!("{}?tab=files", s.base)).await?;
    client
        .find(Locator::Css(".files"))
        .await?
        .send_keys("/")
        .await?;
    let search = client.find(Locator::Id("file-search")).await?;
    search.send_keys("big\u{E007}").await?;
    wait_paths(&client, &["/opt/big.bin"]).await?;
    assert!(client.current_url().await?.as_str().contains("q=big"));
    client.back().await?;
    wait_paths(&client, &["/data", "/etc", "/opt", "/usr"]).await?;

    // `]` and `[` step from the merged view through the layers and back.
    let files = client.find(Locator::Css(".files")).await?;
    for (key, want) in [
        ("]", Some("layer=0")),
        ("]", Some("layer=1")),
        ("[", Some("layer=0")),
        ("[", None),
    ] {
        files.send_keys(key).await?;
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let url = client.current_url().await?;
            let layer = url
                .query_pairs()
                .find(|(k, _)| k == "layer")
                .map(|(k, v)| format!("{k}={v}"));
            if layer.as_deref() == want {
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "after {key}: {url}, wanted {want:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    // Sorting by size puts the largest first.
    open(
        &client,
        &format!("{}?tab=files&path=/usr/lib&sort=size", s.base),
    )
    .await?;
    // libx.so (300 B) > sub/ (one 200 B file) > the symlink (0 B).
    wait_paths(
        &client,
        &["/usr/lib/libx.so", "/usr/lib/sub", "/usr/lib/liblink.so"],
    )
    .await?;
    // The largest files of the merged image, biggest first (L1's big.bin, then libx.so).
    open(&client, &format!("{}?tab=files&view=largest", s.base)).await?;
    let largest = paths(&client).await?;
    assert_eq!(
        largest.first().map(String::as_str),
        Some("/opt/big.bin"),
        "{largest:?}"
    );
    assert_eq!(
        largest.get(1).map(String::as_str),
        Some("/usr/lib/libx.so"),
        "{largest:?}"
    );
    client.close().await?;

    // A deep link to a file opens that file in a fresh session; its symlink resolves.
    let fresh = browser.session().await?;
    open(
        &fresh,
        &format!("{}?tab=files&path=/usr/lib/liblink.so", s.base),
    )
    .await?;
    let detail = attributes(&fresh, "[data-detail-path]", "data-detail-path").await?;
    assert_eq!(detail, vec!["/usr/lib/liblink.so"]);
    fresh
        .find(Locator::Css("[data-follow-link]"))
        .await?
        .click()
        .await?;
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let detail = attributes(&fresh, "[data-detail-path]", "data-detail-path").await?;
        if detail == vec!["/usr/lib/sub/liby.so"] {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "symlink not followed: {detail:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    fresh.close().await?;
    drop(s.app);
    Ok(())
}

#[tokio::test]
async fn file_contents_text_hex_load_all_and_download_come_from_the_verified_layer()
-> anyhow::Result<()> {
    let s = setup().await?;
    let mut browser = Browser::start().await?;
    let (client, downloads) = browser.session_with_downloads().await?;

    open_text(&client, &format!("{}?tab=files&path=/data/new.txt", s.base)).await?;
    assert_eq!(
        visible_text(&client, "[data-contents-kind=text] td.code").await?,
        "new"
    );
    assert_eq!(
        visible_text(&client, "[data-contents-kind=text] td.ln").await?,
        "1"
    );

    open(
        &client,
        &format!("{}?tab=files&path=/usr/lib/libx.so", s.base),
    )
    .await?;
    let hex = client
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::Css("[data-contents-kind=hex]"))
        .await?;
    let dump = hex.text().await?;
    assert!(dump.starts_with("00000000  01 01 01"), "{dump}");
    assert_eq!(dump.lines().count(), 300_usize.div_ceil(16));

    // 8-bit text that is not UTF-8 is shown as Latin-1, and says so.
    open_text(
        &client,
        &format!("{}?tab=files&path=/usr/share/latin1.txt", s.base),
    )
    .await?;
    assert_eq!(
        attributes(
            &client,
            "[data-contents-encoding]",
            "data-contents-encoding"
        )
        .await?,
        vec!["Latin-1"]
    );
    assert_eq!(
        visible_text(&client, "[data-contents-kind=text] td.code").await?,
        "café crème"
    );

    // A file over the preview size is shown partially until "load all".
    open(&client, &format!("{}?tab=files&path=/opt/big.bin", s.base)).await?;
    let load_all = client
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::Css("[data-load-all]"))
        .await?;
    let partial = client
        .find(Locator::Css("[data-contents-kind=hex]"))
        .await?
        .text()
        .await?
        .lines()
        .count();
    assert_eq!(partial, 64 * 1024 / 16);
    load_all.click().await?;
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let lines = match client.find(Locator::Css("[data-contents-kind=hex]")).await {
            Ok(el) => el.text().await?.lines().count(),
            Err(_) => 0,
        };
        if lines == BIG.div_ceil(16) {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "load all never showed the whole file ({lines} lines)"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The downloaded file's bytes equal the original.
    client
        .find(Locator::Css("[data-download]"))
        .await?
        .click()
        .await?;
    let target = downloads.join("big.bin");
    let deadline = Instant::now() + TIMEOUT;
    while !(target.exists() && std::fs::metadata(&target)?.len() == BIG as u64) {
        anyhow::ensure!(
            Instant::now() < deadline,
            "download never arrived in {}",
            downloads.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        std::fs::read(&target)?,
        vec![4u8; BIG],
        "L1's version of /opt/big.bin"
    );
    client.close().await?;
    Ok(())
}

/// The tree shows as soon as one layer is indexed and grows as the others finish. The
/// first layer's blob is held back by the scripted registry (a real registry cannot be
/// told to stall one blob) until the test has seen the partial tree.
#[tokio::test]
async fn tree_appears_before_the_slowest_layer_and_grows() -> anyhow::Result<()> {
    let mut script = Script::honest(explorer_image().build(Format::Oci)?);
    let gate = Arc::new(Notify::new());
    let first = script.image.layers[0].digest.clone();
    script
        .blobs
        .insert(first.clone(), BlobScript::HeldUntil(Arc::clone(&gate)));
    let registry = ScriptedRegistry::start(script).await?;
    let app = start_app_for(&[registry.host().to_owned()]).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    client
        .goto(&format!(
            "{}/image/{}/team/slow:v1?tab=files&deleted=1",
            app.url(),
            registry.host()
        ))
        .await?;

    // L1 and L2 are merged while L0 is still on its way: only what they wrote shows.
    wait_paths(&client, &["/data", "/etc", "/opt"]).await?;
    let pending = attributes(&client, "[data-pending-layers]", "data-pending-layers").await?;
    assert_eq!(pending, vec!["1"]);
    assert_eq!(page_state(&client).await?, "loading");
    // Nothing reads as final while L0 is out: a progress bar, totals and the listing
    // marked partial.
    let progress = attributes(&client, "[data-files-progress]", "data-files-progress").await?;
    assert_eq!(progress, ["2/3"]);
    assert_eq!(
        client
            .find_all(Locator::Css(".wasted[data-partial]"))
            .await?
            .len(),
        1
    );
    client.find(Locator::Css("[data-listing-partial]")).await?;
    let first_state = attributes(
        &client,
        &format!(".layer-list [data-layer-digest='{first}']"),
        "data-layer-state",
    )
    .await?;
    assert_ne!(first_state, vec!["verified"]);

    // Let L0 through: the tree completes, and the notice goes away.
    gate.notify_one();
    wait_for_state(&client, "ready", TIMEOUT).await?;
    wait_paths(&client, &["/data", "/etc", "/opt", "/usr"]).await?;
    assert!(
        attributes(&client, "[data-pending-layers]", "data-pending-layers")
            .await?
            .is_empty()
    );
    for partial in [
        "[data-files-progress]",
        ".wasted[data-partial]",
        "[data-listing-partial]",
    ] {
        assert!(
            client.find_all(Locator::Css(partial)).await?.is_empty(),
            "{partial} once final"
        );
    }
    client.close().await?;
    Ok(())
}
