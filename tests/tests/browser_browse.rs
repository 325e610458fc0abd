//! Real-browser tests of the repository and registry pages (issue 16): a repository of
//! 150 tags on the real Distribution registry, listed 40 at a time, rows grouped by
//! digest with a cosign-style signature tag folded under its subject, filled lazily as
//! they scroll into view (HEAD, then the manifest by digest), sorted and filtered; a tag
//! moved between two visits is marked; the registry's catalog lists its repositories; and
//! a registry that refuses its catalog (as Docker Hub does) is said to.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use strata_tests::browser::{
    Browser, attributes, start_app, start_app_for, visible_text, wait_for_state,
};
use strata_tests::image::Format;
use strata_tests::paging_proxy::PagingProxy;
use strata_tests::push::{PushedImage, Pusher, push_index, push_three_layer_image};
use strata_tests::registry::Registry;

const TIMEOUT: Duration = Duration::from_secs(90);
const NAME: &str = "browse/app";

/// The base manifest with one annotation changed: a manifest of its own (its own digest)
/// over the same config and layers, so that 150 tags cost 150 small PUTs.
fn variant(base: &PushedImage, label: &str) -> Vec<u8> {
    let mut manifest: serde_json::Value = serde_json::from_slice(&base.manifest_bytes).unwrap();
    manifest["annotations"] = serde_json::json!({ "org.example.variant": label });
    serde_json::to_vec(&manifest).unwrap()
}

/// Waits until `script` (a JavaScript expression) is true on the page.
async fn wait_until(client: &Client, what: &str, script: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let value = client
            .execute(&format!("return !!({script});"), vec![])
            .await?;
        if value.as_bool() == Some(true) {
            return Ok(());
        }
        if Instant::now() > deadline {
            let text = visible_text(client, "main").await.unwrap_or_default();
            anyhow::bail!("still not {what} after {TIMEOUT:?}; page says: {text}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of `attribute` on the row of `tag` (`None` when absent).
async fn row_attr(client: &Client, tag: &str, attribute: &str) -> anyhow::Result<Option<String>> {
    let row = client
        .find(Locator::Css(&format!("tr[data-tag='{tag}']")))
        .await?;
    Ok(row.attr(attribute).await?)
}

fn row_ready(tag: &str) -> String {
    format!("document.querySelector(\"tr[data-tag='{tag}'][data-fill='ready']\")")
}

#[tokio::test]
async fn a_repository_is_listed_in_pages_grouped_folded_filled_sorted_and_filtered()
-> anyhow::Result<()> {
    let registry = Registry::start().await?;
    let pusher = Pusher::for_registry(&registry)?;
    let base = push_three_layer_image(&registry, NAME, "t000").await?;
    let media_type = base.manifest_media_type.clone();
    for i in 1..150 {
        let tag = format!("t{i:03}");
        pusher
            .push_manifest(NAME, &tag, &media_type, &variant(&base, &tag))
            .await?;
    }
    // Two tags on one digest, a two-platform index, and a signature of t000's digest.
    pusher
        .push_manifest(NAME, "latest", &media_type, &base.manifest_bytes)
        .await?;
    let index = push_index(&registry, NAME, "multi", Format::Oci).await?;
    let signed_hex = base.manifest_digest.trim_start_matches("sha256:");
    let signature_tag = format!("sha256-{signed_hex}.sig");
    pusher
        .push_manifest(NAME, &signature_tag, &media_type, &variant(&base, "sig"))
        .await?;

    // Distribution 2.8 ignores `n` on tags/list: the proxy pages it as Distribution 3 does.
    let proxy = PagingProxy::start(&registry).await?;
    let app = start_app_for(&[proxy.host().to_owned()]).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    let page = format!("{}/repo/{}/{NAME}", app.url(), proxy.host());
    client.goto(&format!("{page}?n=40")).await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;

    // 153 tags, 40 a page: four pages, each asked with n=40, the next ones by the relay's
    // rewritten Link.
    let pages = proxy.tag_pages();
    assert_eq!(pages.len(), 4, "{pages:?}");
    assert_eq!(pages[0], format!("/v2/{NAME}/tags/list?n=40"));
    assert!(
        pages[1..]
            .iter()
            .all(|p| p.contains("n=40") && p.contains("last=")),
        "{pages:?}"
    );
    assert_eq!(
        client
            .find(Locator::Css("[data-tag-count]"))
            .await?
            .text()
            .await?
            .split(" · ")
            .next(),
        Some("153 tags")
    );

    // The first rows fill; `latest` and `t000` share a row; the signature is a badge on
    // it, never a row.
    wait_until(
        &client,
        "grouped",
        "document.querySelector(\"tr[data-tag='latest'][data-tags='latest,t000']\")",
    )
    .await?;
    let tags = attributes(&client, "tr[data-tag]", "data-tag").await?;
    assert_eq!(
        tags.len(),
        151,
        "150 t-tags and multi, latest grouped with t000"
    );
    assert_eq!(&tags[..4], ["latest", "multi", "t001", "t002"]);
    assert!(!tags.iter().any(|t| t.starts_with("sha256-")), "{tags:?}");
    assert_eq!(
        row_attr(&client, "latest", "data-digest").await?.as_deref(),
        Some(base.manifest_digest.as_str())
    );
    assert_eq!(
        row_attr(&client, "latest", "data-artifacts")
            .await?
            .as_deref(),
        Some("sig")
    );
    let badge = client
        .find(Locator::Css("tr[data-tag='latest'] [data-artifact='sig']"))
        .await?;
    assert_eq!(
        badge.attr("title").await?.as_deref(),
        Some(signature_tag.as_str())
    );

    // Visible rows carry their facts: the index its platforms and the sum over them.
    wait_until(&client, "multi filled", &row_ready("multi")).await?;
    wait_until(&client, "t001 filled", &row_ready("t001")).await?;
    let layers = |p: &PushedImage| p.layers.iter().map(|l| l.size).sum::<u64>();
    let index_size: u64 = index.images.iter().map(|(_, p)| layers(p)).sum();
    assert_eq!(
        row_attr(&client, "multi", "data-kind").await?.as_deref(),
        Some("index")
    );
    assert_eq!(
        row_attr(&client, "multi", "data-platforms")
            .await?
            .as_deref(),
        Some("linux/amd64,linux/arm64/v8")
    );
    assert_eq!(
        row_attr(&client, "multi", "data-size").await?,
        Some(index_size.to_string())
    );
    let created: serde_json::Value = serde_json::from_slice(&base.config_bytes)?;
    assert_eq!(
        row_attr(&client, "t001", "data-kind").await?.as_deref(),
        Some("manifest")
    );
    assert_eq!(
        row_attr(&client, "t001", "data-size").await?,
        Some(layers(&base).to_string())
    );
    assert_eq!(
        row_attr(&client, "t001", "data-created").await?.as_deref(),
        created["created"].as_str()
    );
    // HEAD for the tag, then GET by digest only: no manifest GET by tag.
    let requests = proxy.requests();
    assert!(
        requests.contains(&format!("HEAD /v2/{NAME}/manifests/t001")),
        "{requests:?}"
    );
    assert!(
        !requests
            .iter()
            .any(|r| r.starts_with("GET ") && r.ends_with("/manifests/t001")),
        "{requests:?}"
    );

    // Rows far below the fold are not read until they scroll into view.
    assert_eq!(
        row_attr(&client, "t149", "data-fill").await?.as_deref(),
        Some("pending")
    );
    assert_eq!(row_attr(&client, "t149", "data-size").await?, None);
    assert!(!requests.iter().any(|r| r.ends_with("/manifests/t149")));
    client
        .execute(
            "document.querySelector(\"tr[data-tag='t149']\").scrollIntoView();",
            vec![],
        )
        .await?;
    wait_until(&client, "t149 filled after scrolling", &row_ready("t149")).await?;

    // Largest first: rows whose size is known lead, in non-increasing order.
    client.execute("window.scrollTo(0, 0);", vec![]).await?;
    client
        .find(Locator::Css("[data-sort='size']"))
        .await?
        .click()
        .await?;
    wait_until(
        &client,
        "sorted by size",
        "location.search.includes('sort=size')",
    )
    .await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let sizes = attributes(&client, "tr[data-tag]", "data-size").await?;
    let known: Vec<u64> = sizes
        .iter()
        .take_while(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    assert!(known.len() >= 10, "{sizes:?}");
    assert!(known.windows(2).all(|w| w[0] >= w[1]), "{known:?}");
    assert!(
        sizes[known.len()..].iter().all(String::is_empty),
        "{sizes:?}"
    );
    assert_eq!(
        attributes(&client, "tr[data-tag]", "data-tag").await?[0],
        "multi",
        "the index is the largest"
    );

    // A glob filters by tag.
    let filter = client.find(Locator::Css("[data-tag-filter]")).await?;
    filter.send_keys("t01?\n").await?;
    wait_until(&client, "filtered", "location.search.includes('q=t01')").await?;
    client
        .find(Locator::Css("[data-sort='name']"))
        .await?
        .click()
        .await?;
    wait_until(
        &client,
        "sorted by name",
        "!location.search.includes('sort=')",
    )
    .await?;
    let filtered = attributes(&client, "tr[data-tag]", "data-tag").await?;
    let expected: Vec<String> = (10..20).map(|i| format!("t{i:03}")).collect();
    assert_eq!(filtered, expected);

    // t001 moves to another digest; the next visit in this browser marks it.
    let moved = pusher
        .push_manifest(NAME, "t001", &media_type, &variant(&base, "moved"))
        .await?;
    client.goto(&format!("{page}?n=40")).await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    wait_until(&client, "t001 filled again", &row_ready("t001")).await?;
    wait_until(&client, "t002 filled again", &row_ready("t002")).await?;
    assert_eq!(
        row_attr(&client, "t001", "data-digest").await?.as_deref(),
        Some(moved.as_str())
    );
    assert_eq!(
        row_attr(&client, "t001", "data-moved").await?.as_deref(),
        Some("t001")
    );
    assert_eq!(row_attr(&client, "t002", "data-moved").await?, None);
    assert_eq!(row_attr(&client, "latest", "data-moved").await?, None);
    client.close().await?;
    Ok(())
}

#[tokio::test]
async fn the_registry_page_lists_repositories_and_the_image_page_links_its_tags()
-> anyhow::Result<()> {
    let registry = Registry::start().await?;
    let host = registry.host();
    for name in ["browse/b", "browse/a", "c"] {
        push_three_layer_image(&registry, name, "v1").await?;
    }
    let app = start_app(&registry).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;

    // The real registry pages its catalog: two at a time here.
    client
        .goto(&format!("{}/registry/{host}?n=2", app.url()))
        .await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let names = attributes(&client, "[data-repository]", "data-repository").await?;
    assert_eq!(names, ["browse/a", "browse/b", "c"]);
    client
        .find(Locator::Css("[data-repository='browse/b'] a"))
        .await?
        .click()
        .await?;
    wait_until(
        &client,
        "on the repository page",
        "location.pathname.startsWith('/repo/')",
    )
    .await?;
    assert_eq!(
        client.current_url().await?.path(),
        format!("/repo/{host}/browse/b")
    );
    wait_for_state(&client, "ready", TIMEOUT).await?;
    assert_eq!(
        attributes(&client, "tr[data-tag]", "data-tag").await?,
        ["v1"]
    );

    // Every registry image links to its repository's tags.
    client
        .goto(&format!("{}/image/{host}/c:v1", app.url()))
        .await?;
    let link = client
        .wait()
        .for_element(Locator::Css("[data-all-tags]"))
        .await?;
    assert_eq!(link.attr("href").await?, Some(format!("/repo/{host}/c")));
    client.close().await?;
    Ok(())
}

/// Docker Hub refuses `_catalog`: 401 `UNAUTHORIZED`, whatever token was asked for. It
/// cannot be reached from here, so a small server answers as it does (a token from its
/// realm, then 401 again).
#[tokio::test]
async fn a_registry_that_refuses_its_catalog_is_said_to() -> anyhow::Result<()> {
    use axum::extract::Request;
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let host = listener.local_addr()?.to_string();
    let realm = format!("http://{host}/token");
    let hub = axum::Router::new()
        .route(
            "/token",
            axum::routing::get(|| async { axum::Json(serde_json::json!({ "token": "anonymous" })) }),
        )
        .fallback(move |request: Request| {
            let realm = realm.clone();
            async move {
                let scope = if request.uri().path() == "/v2/" {
                    String::new()
                } else {
                    r#",scope="registry:catalog:*""#.to_owned()
                };
                (
                    StatusCode::UNAUTHORIZED,
                    [(
                        header::WWW_AUTHENTICATE,
                        format!(r#"Bearer realm="{realm}",service="registry.docker.io"{scope}"#),
                    )],
                    r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"registry","Class":"","Name":"catalog","Action":"*"}]}]}"#,
                )
                    .into_response()
            }
        });
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, hub).await;
    });
    let app = start_app_for(std::slice::from_ref(&host)).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    client
        .goto(&format!("{}/registry/{host}", app.url()))
        .await?;
    wait_for_state(&client, "error", TIMEOUT).await?;
    let text = visible_text(&client, "[data-strata-error='catalog-refused']").await?;
    assert!(
        text.contains(&format!("{host} refused to list its catalog")),
        "{text}"
    );
    assert!(text.contains("UNAUTHORIZED"), "{text}");
    assert!(
        client
            .find(Locator::Css("[data-repository]"))
            .await
            .is_err()
    );
    // A repository can still be opened by name.
    client
        .find(Locator::Css("[data-open-repository]"))
        .await?
        .send_keys("library/nginx\n")
        .await?;
    wait_until(
        &client,
        "on the repository page",
        "location.pathname.startsWith('/repo/')",
    )
    .await?;
    assert_eq!(
        client.current_url().await?.path(),
        format!("/repo/{host}/library/nginx")
    );
    client.close().await?;
    server.abort();
    Ok(())
}
