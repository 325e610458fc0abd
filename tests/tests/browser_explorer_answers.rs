//! Real-browser tests of the Files tab's answers (issue 13, "wrong answers"): a hard link
//! resolves from the archive's root and shows its target's bytes as its layer had them;
//! a deletion row credits the layer that deleted and the bytes that went; an opaque reset
//! reads as a replacement; a missing path says so and offers the nearest folder; a path
//! through a symlinked directory is followed. The image is pushed to the real Distribution
//! registry and read in headless Chromium.

use std::time::Duration;

use fantoccini::{Client, Locator};
use strata_tests::browser::{
    Browser, attributes, open_files_view as open, start_app, visible_text,
};
use strata_tests::fixtures::three_layer_image;
use strata_tests::image::{Entry, Format, ImageSpec, LayerSpec, Step};
use strata_tests::push::Pusher;
use strata_tests::registry::Registry;

const TIMEOUT: Duration = Duration::from_secs(60);

/// L0 writes a file with a hard link to it, a tool under /usr/bin reached through the
/// /bin symlink, /var/lib and a 3000-byte /big.bin; L1 rewrites the linked file, deletes
/// /big.bin and resets /var/lib with an opaque marker; L2 adds a new, small /big.bin.
fn answers_image() -> ImageSpec {
    let mut spec = three_layer_image();
    spec.steps = vec![
        Step::Layer(LayerSpec::new(
            "ADD base /",
            vec![
                Entry::file("/etc/conf", b"first version\n".to_vec(), 0o644),
                Entry::hardlink("/etc/conf.hard", "/etc/conf"),
                Entry::file("/usr/bin/tool", b"#!/bin/sh\necho tool\n".to_vec(), 0o755),
                Entry::symlink("/bin", "usr/bin"),
                Entry::file("/var/lib/old.txt", b"old\n".to_vec(), 0o644),
                Entry::file("/big.bin", vec![3u8; 3000], 0o644),
            ],
        )),
        Step::Layer(LayerSpec::new(
            "RUN update",
            vec![
                Entry::file("/etc/conf", b"second version, longer\n".to_vec(), 0o644),
                Entry::whiteout("/big.bin"),
                Entry::opaque("/var/lib"),
                Entry::file("/var/lib/new.txt", b"new\n".to_vec(), 0o644),
            ],
        )),
        Step::Layer(LayerSpec::new(
            "ADD big.bin /",
            vec![Entry::file("/big.bin", vec![1u8; 1000], 0o644)],
        )),
    ];
    spec
}

/// The text of one listing row's cell (`num` for the size, `layer-cell` for the layer).
async fn cell(client: &Client, path: &str, class: &str) -> anyhow::Result<String> {
    visible_text(
        client,
        &format!("[data-listing] [data-path='{path}'] .{class}"),
    )
    .await
}

#[tokio::test]
async fn links_deletions_missing_paths_and_symlinked_folders_answer_right() -> anyhow::Result<()> {
    let registry = Registry::start().await?;
    let built = answers_image().build(Format::Oci)?;
    let image = Pusher::for_registry(&registry)?
        .push_image("team/answers", Some("v1"), &built)
        .await?;
    let app = start_app(&registry).await?;
    let base = format!(
        "{}/image/{}/team/answers@{}",
        app.url(),
        registry.host(),
        image.manifest_digest
    );
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;

    // A hard link: named from the root, its target's bytes as L0 had them.
    open(&client, &format!("{base}?tab=files&path=/etc/conf.hard")).await?;
    let link = client.find(Locator::Css("[data-follow-link=hard]")).await?;
    assert_eq!(link.text().await?, "/etc/conf");
    let href = link.attr("href").await?.unwrap_or_default();
    assert!(
        href.contains("path=%2Fetc%2Fconf") || href.contains("path=/etc/conf"),
        "{href}"
    );
    let detail = visible_text(&client, "[data-detail-path]").await?;
    assert!(detail.contains("Hard link to"), "{detail}");
    // Its row reads as a file that links, not as a symlink: no arrow, no `h` mode.
    let row = visible_text(&client, "[data-listing] [data-path='/etc/conf.hard']").await?;
    assert!(row.contains("hard link to /etc/conf"), "{row}");
    assert!(!row.contains('→') && row.contains("-rw"), "{row}");
    let contents = client
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::Css("[data-contents-kind=text]"))
        .await?
        .text()
        .await?;
    assert!(contents.contains("first version"), "{contents}");
    assert!(!contents.contains("second"), "{contents}");

    // L1's view: the deletion is L1's, with the 3000 bytes it removed; the opaque reset
    // of /var/lib is a replacement.
    open(&client, &format!("{base}?tab=files&layer=1")).await?;
    assert_eq!(
        cell(&client, "/big.bin", "layer-cell").await?,
        "deleted by L1"
    );
    assert_eq!(cell(&client, "/big.bin", "num").await?, "−2.9 KiB");
    assert_eq!(
        cell(&client, "/var/lib", "layer-cell").await?,
        "L1 replaced (opaque)"
    );

    // A path the image lacks, and one through a symlinked folder.
    open(&client, &format!("{base}?tab=files&path=/etc/etc")).await?;
    let missing = attributes(&client, "[data-path-not-found]", "data-path-not-found").await?;
    assert_eq!(missing, ["/etc/etc"]);
    let nearest = client.find(Locator::Css("[data-nearest]")).await?;
    assert_eq!(nearest.text().await?, "/etc");
    open(&client, &format!("{base}?tab=files&path=/bin/tool")).await?;
    let deadline = std::time::Instant::now() + TIMEOUT;
    loop {
        let detail = attributes(&client, "[data-detail-path]", "data-detail-path").await?;
        if detail == ["/usr/bin/tool"] {
            break;
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "detail shows {detail:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = client.current_url().await?.to_string();
    assert!(
        url.contains("usr%2Fbin%2Ftool") || url.contains("usr/bin/tool"),
        "{url}"
    );

    // Search runs as you type (no Enter), and says what its matches weigh.
    open(&client, &format!("{base}?tab=files")).await?;
    let history_length = || async {
        anyhow::Ok(
            client
                .execute("return history.length", vec![])
                .await?
                .as_i64()
                .unwrap_or_default(),
        )
    };
    let history_before = history_length().await?;
    client
        .find(Locator::Css("#file-search"))
        .await?
        .send_keys("tool")
        .await?;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let rows = attributes(&client, "[data-listing] [data-path]", "data-path").await?;
        if rows == ["/usr/bin/tool"] {
            break;
        }
        if std::time::Instant::now() > deadline {
            let value = client
                .execute(
                    "return document.querySelector('#file-search').value + ' | ' + location.href",
                    vec![],
                )
                .await?;
            anyhow::bail!("rows {rows:?}; box and URL: {value}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let weight = attributes(&client, "[data-search-bytes]", "data-search-bytes").await?;
    assert_eq!(weight, ["20"]);
    assert!(
        history_length().await? <= history_before + 1,
        "one history entry per search, not one per key"
    );
    client.close().await?;
    Ok(())
}
