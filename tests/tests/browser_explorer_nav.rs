//! Real-browser tests of moving around the Files tab (issue 13, items 6–8): the keyboard
//! works at the document level and keeps working after each action (arrows move a
//! visible selection, Enter opens, Backspace goes up, ↓ enters search results, Esc
//! clears the search); a deep link highlights its row and scrolls it into view; layer
//! rows, history steps and breadcrumbs are links; switching layers keeps the path; an
//! index's header switches platform in place; the header's share link keeps the view,
//! pinned by digest; the document title names the image and the path.
//! Headless Chromium over WebDriver, images pushed to the real Distribution registry.

use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, Locator};
use strata_tests::browser::{
    Browser, attributes, open_files_view as open, start_app, wait_for_state,
};
use strata_tests::fixtures::{three_layer_image, two_platform_images};
use strata_tests::image::{Entry, Format, ImageSpec, LayerSpec, Step, build_index};
use strata_tests::push::Pusher;
use strata_tests::registry::Registry;

const TIMEOUT: Duration = Duration::from_secs(60);
/// Files in /many: more than the listing renders at once.
const MANY: usize = 300;

const DOWN: char = '\u{E015}';
const UP: char = '\u{E013}';
const ENTER: char = '\u{E007}';
const BACKSPACE: char = '\u{E003}';
const ESCAPE: char = '\u{E00C}';

/// L0 writes /etc (a file and the nginx folder), /usr/lib and /many (300 files);
/// L1 modifies /etc/app.conf and adds /etc/nginx/conf.d/site.conf.
fn nav_image() -> ImageSpec {
    let mut spec = three_layer_image();
    let mut base = vec![
        Entry::file("/etc/app.conf", b"one\n".to_vec(), 0o644),
        Entry::file("/etc/nginx/nginx.conf", b"events {}\n".to_vec(), 0o644),
        Entry::file("/etc/nginx/mime.types", b"types {}\n".to_vec(), 0o644),
        Entry::file("/usr/lib/libx.so", vec![1u8; 300], 0o755),
    ];
    base.extend((0..MANY).map(|i| Entry::file(&format!("/many/f{i:03}"), vec![b'x'; i], 0o644)));
    spec.steps = vec![
        Step::Layer(LayerSpec::new("ADD base /", base)),
        Step::Layer(LayerSpec::new(
            "RUN configure",
            vec![
                Entry::file("/etc/app.conf", b"two, longer\n".to_vec(), 0o644),
                Entry::file(
                    "/etc/nginx/conf.d/site.conf",
                    b"server {}\n".to_vec(),
                    0o644,
                ),
            ],
        )),
    ];
    spec
}

struct Setup {
    _registry: Registry,
    app: strata_tests::companion::Companion,
    host: String,
    digest: String,
    base: String,
}

async fn setup() -> anyhow::Result<Setup> {
    let registry = Registry::start().await?;
    let built = nav_image().build(Format::Oci)?;
    let image = Pusher::for_registry(&registry)?
        .push_image("team/nav", Some("v1"), &built)
        .await?;
    let app = start_app(&registry).await?;
    let host = registry.host();
    let base = format!(
        "{}/image/{host}/team/nav@{}",
        app.url(),
        image.manifest_digest
    );
    Ok(Setup {
        _registry: registry,
        app,
        host,
        digest: image.manifest_digest,
        base,
    })
}

/// Presses `key` as a user would: it goes to whatever has the focus (often the body).
async fn press(client: &Client, key: char) -> anyhow::Result<()> {
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    client.perform_actions(keys).await?;
    Ok(())
}

/// The current URL's value of `key`.
async fn query(client: &Client, key: &str) -> anyhow::Result<Option<String>> {
    let url = client.current_url().await?;
    Ok(url
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned()))
}

/// Waits until the URL's `key` is `want`.
async fn wait_query(client: &Client, key: &str, want: Option<&str>) -> anyhow::Result<()> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let got = query(client, key).await?;
        if got.as_deref() == want {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{key} is {got:?}, wanted {want:?} ({})",
            client.current_url().await?
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until `path` is the one highlighted row (class, `aria-selected`, `data-selected`)
/// and the detail pane shows it.
async fn wait_selected(client: &Client, path: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let selected = attributes(client, "[data-listing] [data-selected]", "data-path").await?;
        let aria = attributes(
            client,
            "[data-listing] [aria-selected=true].selected",
            "data-path",
        )
        .await?;
        let detail = attributes(client, "[data-detail-path]", "data-detail-path").await?;
        if selected == [path] && aria == [path] && detail == [path] {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "selected {selected:?}, aria {aria:?}, detail {detail:?}; wanted {path}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether the row of `path` lies wholly inside the listing's scroll box.
async fn row_in_view(client: &Client, path: &str) -> anyhow::Result<bool> {
    let seen = client
        .execute(
            "const row = document.querySelector(`[data-listing] [data-path='${arguments[0]}']`); \
             const box = document.querySelector('.listing-scroll'); \
             if (!row || !box) return false; \
             const r = row.getBoundingClientRect(), b = box.getBoundingClientRect(); \
             return r.top >= b.top - 1 && r.bottom <= b.bottom + 1 && r.height > 0;",
            vec![serde_json::json!(path)],
        )
        .await?;
    Ok(seen.as_bool().unwrap_or(false))
}

async fn wait_in_view(client: &Client, path: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + TIMEOUT;
    while !row_in_view(client, path).await? {
        anyhow::ensure!(
            Instant::now() < deadline,
            "{path} is not scrolled into view"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

#[tokio::test]
async fn keys_work_from_the_document_and_keep_working_after_each_action() -> anyhow::Result<()> {
    let s = setup().await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;

    // Nothing focused: the keys reach the Files tab from the body.
    open(&client, &format!("{}?tab=files", s.base)).await?;
    wait_paths(&client, &["/etc", "/many", "/usr"]).await?;
    press(&client, DOWN).await?;
    wait_selected(&client, "/etc").await?;
    press(&client, DOWN).await?;
    wait_selected(&client, "/many").await?;
    press(&client, UP).await?;
    wait_selected(&client, "/etc").await?;
    // Moving onto a folder selects it; the listing stays.
    wait_paths(&client, &["/etc", "/many", "/usr"]).await?;

    // Enter opens the folder; the arrows go on inside it.
    press(&client, ENTER).await?;
    wait_paths(&client, &["/etc/nginx", "/etc/app.conf"]).await?;
    wait_query(&client, "path", Some("/etc")).await?;
    press(&client, DOWN).await?;
    wait_selected(&client, "/etc/nginx").await?;
    press(&client, DOWN).await?;
    wait_selected(&client, "/etc/app.conf").await?;
    press(&client, UP).await?;
    wait_selected(&client, "/etc/nginx").await?;
    wait_paths(&client, &["/etc/nginx", "/etc/app.conf"]).await?;
    press(&client, ENTER).await?;
    wait_paths(
        &client,
        &[
            "/etc/nginx/conf.d",
            "/etc/nginx/mime.types",
            "/etc/nginx/nginx.conf",
        ],
    )
    .await?;

    // Backspace goes up, the folder it left selected.
    press(&client, BACKSPACE).await?;
    wait_paths(&client, &["/etc/nginx", "/etc/app.conf"]).await?;
    wait_selected(&client, "/etc/nginx").await?;

    // After a click on a row, the keys still work.
    client
        .find(Locator::Css(
            "[data-listing] [data-path='/etc/app.conf'] .name a",
        ))
        .await?
        .click()
        .await?;
    wait_selected(&client, "/etc/app.conf").await?;
    press(&client, UP).await?;
    wait_selected(&client, "/etc/nginx").await?;

    // `/` focuses the search; ↓ from the box enters the results; Esc clears the search.
    press(&client, '/').await?;
    let search = client.find(Locator::Id("file-search")).await?;
    for c in "conf".chars() {
        press(&client, c).await?;
    }
    assert_eq!(search.prop("value").await?.as_deref(), Some("conf"));
    press(&client, DOWN).await?;
    wait_query(&client, "q", Some("conf")).await?;
    let deadline = Instant::now() + TIMEOUT;
    let results = loop {
        let got = paths(&client).await?;
        if got.len() >= 3 && got.iter().all(|p| p.contains("conf")) {
            break got;
        }
        anyhow::ensure!(Instant::now() < deadline, "results: {got:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    wait_selected(&client, &results[0]).await?;
    press(&client, DOWN).await?;
    wait_selected(&client, &results[1]).await?;
    wait_query(&client, "q", Some("conf")).await?;
    press(&client, ESCAPE).await?;
    wait_query(&client, "q", None).await?;
    assert_eq!(search.prop("value").await?.as_deref(), Some(""));

    // `]` and `[` step through the layers, keeping the selected path.
    let kept = query(&client, "path").await?;
    press(&client, ']').await?;
    wait_query(&client, "layer", Some("0")).await?;
    press(&client, ']').await?;
    wait_query(&client, "layer", Some("1")).await?;
    assert_eq!(query(&client, "path").await?, kept);
    press(&client, '[').await?;
    wait_query(&client, "layer", Some("0")).await?;
    press(&client, '[').await?;
    wait_query(&client, "layer", None).await?;

    // Still alive after all that: Backspace up to the root, then the arrows.
    let root = ["/etc", "/many", "/usr"];
    for _ in 0..4 {
        let before = paths(&client).await?;
        if before == root {
            break;
        }
        press(&client, BACKSPACE).await?;
        let deadline = Instant::now() + TIMEOUT;
        while paths(&client).await? == before {
            anyhow::ensure!(Instant::now() < deadline, "Backspace left {before:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    wait_paths(&client, &root).await?;
    wait_selected(&client, "/etc").await?;
    press(&client, DOWN).await?;
    wait_selected(&client, "/many").await?;
    client.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_deep_link_highlights_its_row_and_scrolls_it_into_view() -> anyhow::Result<()> {
    let s = setup().await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;

    open(&client, &format!("{}?tab=files&path=/many/f250", s.base)).await?;
    wait_selected(&client, "/many/f250").await?;
    wait_in_view(&client, "/many/f250").await?;
    let history = client.execute("return history.length", vec![]).await?;
    // The arrows keep the selection in view, below and above.
    for _ in 0..30 {
        press(&client, DOWN).await?;
    }
    wait_selected(&client, "/many/f280").await?;
    wait_in_view(&client, "/many/f280").await?;
    for _ in 0..60 {
        press(&client, UP).await?;
    }
    wait_selected(&client, "/many/f220").await?;
    wait_in_view(&client, "/many/f220").await?;
    // Moving replaces the history entry: the arrows do not fill Back with rows.
    let after = client.execute("return history.length", vec![]).await?;
    assert_eq!(history, after, "history length");
    client.close().await?;
    Ok(())
}

#[tokio::test]
async fn layers_history_steps_and_breadcrumbs_are_links() -> anyhow::Result<()> {
    let s = setup().await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;

    // A layer row of the Overview opens that layer's changes.
    client.goto(&s.base).await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    client
        .find(Locator::Css("tr[data-layer-digest] a[data-layer-link='1']"))
        .await?
        .click()
        .await?;
    wait_query(&client, "tab", Some("files")).await?;
    wait_query(&client, "layer", Some("1")).await?;
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let listed = paths(&client).await?;
        if listed.contains(&"/etc/app.conf".to_owned())
            && listed.contains(&"/etc/nginx/conf.d/site.conf".to_owned())
            && !listed.iter().any(|p| p.starts_with("/many"))
        {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "L1's changes: {listed:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // So does a history step's layer.
    client.goto(&format!("{}?tab=history", s.base)).await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    client
        .find(Locator::Css("tr[data-history-step] a[data-layer-link='0']"))
        .await?
        .click()
        .await?;
    wait_query(&client, "tab", Some("files")).await?;
    wait_query(&client, "layer", Some("0")).await?;

    // Breadcrumbs over the listing: each folder of the path a link.
    open(
        &client,
        &format!("{}?tab=files&path=/etc/nginx/nginx.conf", s.base),
    )
    .await?;
    let crumbs = attributes(&client, "a[data-breadcrumb]", "data-breadcrumb").await?;
    assert_eq!(crumbs, ["/", "/etc", "/etc/nginx"]);
    client
        .find(Locator::Css("a[data-breadcrumb='/etc']"))
        .await?
        .click()
        .await?;
    wait_paths(&client, &["/etc/nginx", "/etc/app.conf"]).await?;
    wait_query(&client, "path", Some("/etc")).await?;

    // Switching layers keeps the selected path, and its detail.
    open(&client, &format!("{}?tab=files&path=/etc/app.conf", s.base)).await?;
    client
        .find(Locator::Css(".layer-list a[data-layer-link='1']"))
        .await?
        .click()
        .await?;
    wait_query(&client, "layer", Some("1")).await?;
    assert_eq!(
        query(&client, "path").await?.as_deref(),
        Some("/etc/app.conf")
    );
    wait_selected(&client, "/etc/app.conf").await?;
    client
        .find(Locator::Css("[data-merged-view]"))
        .await?
        .click()
        .await?;
    wait_query(&client, "layer", None).await?;
    wait_selected(&client, "/etc/app.conf").await?;
    client.close().await?;
    Ok(())
}

#[tokio::test]
async fn the_header_shares_this_view_switches_platform_and_titles_the_page() -> anyhow::Result<()> {
    let registry = Registry::start().await?;
    let index = build_index("team/multi", &two_platform_images(), Format::Oci)?;
    let pushed = Pusher::for_registry(&registry)?
        .push_index("team/multi", "v1", &index)
        .await?;
    let app = start_app(&registry).await?;
    let host = registry.host();
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;

    // Opened by tag: the share link pins the index digest and keeps the view.
    open(
        &client,
        &format!(
            "{}/image/{host}/team/multi:v1?tab=files&path=/etc/os-release",
            app.url()
        ),
    )
    .await?;
    let share = share_link(&client).await?;
    assert_eq!(
        share.path(),
        format!("/image/{host}/team/multi@{}", pushed.digest)
    );
    assert_eq!(share.origin().ascii_serialization(), app.url());
    let pairs: Vec<(String, String)> = share.query_pairs().into_owned().collect();
    for want in [
        ("tab", "files"),
        ("path", "/etc/os-release"),
        ("platform", "linux/amd64"),
    ] {
        assert!(
            pairs.contains(&(want.0.to_owned(), want.1.to_owned())),
            "{share} keeps {want:?}"
        );
    }

    // The title names the image, pinned, and the path.
    let short = &pushed.digest[..("sha256:".len() + 12)];
    let want_title = format!("{host}/team/multi@{short} /etc/os-release — Strata");
    wait_title(&client, &want_title).await?;

    // A layer view: the share link follows.
    client
        .find(Locator::Css(".layer-list a[data-layer-link='0']"))
        .await?
        .click()
        .await?;
    wait_query(&client, "layer", Some("0")).await?;
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let share = share_link(&client).await?;
        if share.query_pairs().any(|(k, v)| k == "layer" && v == "0") {
            assert!(
                share
                    .query_pairs()
                    .any(|(k, v)| k == "path" && v == "/etc/os-release")
            );
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "share link {share} has no layer");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Copy says it copied, for a moment.
    let copy = client.find(Locator::Css("[data-copy-share]")).await?;
    copy.click().await?;
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        if copy.text().await? == "copied" {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "copy says {:?}",
            copy.text().await?
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_ne!(copy.text().await?, "copied", "the confirmation goes away");

    // The header's platform switcher: the other platform, the same view.
    let switch = client
        .find(Locator::Css("select[data-platform-switch]"))
        .await?;
    let options = attributes(&client, "select[data-platform-switch] option", "value").await?;
    assert_eq!(options, ["linux/amd64", "linux/arm64/v8"]);
    switch.select_by_value("linux/arm64/v8").await?;
    wait_query(&client, "platform", Some("linux/arm64/v8")).await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    assert_eq!(query(&client, "tab").await?.as_deref(), Some("files"));
    assert_eq!(
        query(&client, "path").await?.as_deref(),
        Some("/etc/os-release")
    );
    client
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::Css("[data-detail-path='/etc/os-release']"))
        .await?;
    let shown = client
        .find(Locator::Css("select[data-platform-switch]"))
        .await?
        .prop("value")
        .await?;
    assert_eq!(shown.as_deref(), Some("linux/arm64/v8"));
    let share = share_link(&client).await?;
    assert!(
        share
            .query_pairs()
            .any(|(k, v)| k == "platform" && v == "linux/arm64/v8"),
        "{share}"
    );
    client.close().await?;
    Ok(())
}

#[tokio::test]
async fn the_share_link_of_a_single_image_opens_the_same_view_in_a_fresh_browser()
-> anyhow::Result<()> {
    let s = setup().await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    open(
        &client,
        &format!(
            "{}/image/{}/team/nav:v1?tab=files&path=/etc/app.conf&layer=1",
            s.app.url(),
            s.host
        ),
    )
    .await?;
    let share = share_link(&client).await?;
    assert_eq!(
        share.path(),
        format!("/image/{}/team/nav@{}", s.host, s.digest)
    );
    client.close().await?;

    let fresh = browser.session().await?;
    open(&fresh, share.as_str()).await?;
    wait_query(&fresh, "layer", Some("1")).await?;
    wait_selected(&fresh, "/etc/app.conf").await?;
    fresh.close().await?;
    Ok(())
}

async fn share_link(client: &Client) -> anyhow::Result<url::Url> {
    let value = client
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::Css("[data-share-link]"))
        .await?
        .attr("data-share-link")
        .await?
        .unwrap_or_default();
    Ok(url::Url::parse(&value)?)
}

async fn wait_title(client: &Client, want: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let title = client.title().await?;
        if title == want {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "title is {title:?}, wanted {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
