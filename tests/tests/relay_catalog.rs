//! The companion's `_catalog` route against the real Distribution registry, which pages
//! its catalog: three repositories pushed, read two at a time through the relay, the
//! registry's `Link` rewritten to the relay's own path and followed to the end.

use strata_tests::companion::start_companion_for;
use strata_tests::http::get;
use strata_tests::push::push_three_layer_image;
use strata_tests::registry::Registry;

#[tokio::test]
async fn the_catalog_is_relayed_page_by_page() -> anyhow::Result<()> {
    let registry = Registry::start().await?;
    let host = registry.host();
    for name in ["team/app", "team/b", "c"] {
        push_three_layer_image(&registry, name, "v1").await?;
    }
    let companion = start_companion_for(std::slice::from_ref(&host)).await?;

    let first = get(&companion.registry_url(&host, "_catalog?n=2")).await;
    assert_eq!(first.status, 200);
    assert_eq!(
        first.json()["repositories"],
        serde_json::json!(["c", "team/app"])
    );
    let link = first.header("link").to_owned();
    let next = format!("/api/registry/{host}/v2/_catalog?n=2&last=team%2Fapp");
    assert_eq!(link, format!(r#"<{next}>; rel="next""#));

    let second = get(&format!("{}{next}", companion.url())).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.json()["repositories"], serde_json::json!(["team/b"]));
    assert_eq!(second.header("link"), "", "the last page has no next");

    // A bad `n` is the relay's own error; the registry never sees it.
    let bad = get(&companion.registry_url(&host, "_catalog?n=0")).await;
    bad.error_message(400, "INVALID_QUERY");
    Ok(())
}
