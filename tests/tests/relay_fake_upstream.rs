//! The companion against a fake upstream, for behavior Distribution 2.8 cannot show:
//! a blob redirected to storage on another host name (which must not see the token),
//! and tags/list pagination with `Link` rewritten to the relay.

use strata_tests::companion::start_companion_for;
use strata_tests::fake_registry::{FAKE_TOKEN, FakeRegistry};
use strata_tests::image::sha256_digest;

async fn get(url: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let client = strata_tests::companion::client();
    let resp = client
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    (
        resp.status().as_u16(),
        resp.headers().clone(),
        resp.bytes().await.unwrap().to_vec(),
    )
}

#[tokio::test]
async fn blob_redirect_to_another_host_arrives_without_authorization() {
    let blob = strata_tests::fixtures::data_bin();
    let digest = sha256_digest(&blob);
    let fake = FakeRegistry::start("team/app", &["v1"], [blob.clone()])
        .await
        .unwrap();
    let companion = start_companion_for(&[fake.host(), fake.blob_store_host()])
        .await
        .unwrap();

    let url = companion.registry_url(&fake.host(), &format!("team/app/blobs/{digest}"));
    let (status, _, body) = get(&url).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        sha256_digest(&body),
        digest,
        "blob bytes via relay and redirect"
    );

    // The registry got the token; the blob store on the other host name did not.
    let bearer = format!("Bearer {FAKE_TOKEN}");
    let to_registry = fake.registry_requests();
    assert!(
        to_registry
            .iter()
            .any(|r| r.path.contains("/blobs/")
                && r.authorization.as_deref() == Some(bearer.as_str())),
        "the blob request to the registry should carry the token: {to_registry:?}"
    );
    let to_store = fake.blob_store_requests();
    assert!(!to_store.is_empty(), "the redirect was not followed");
    for request in &to_store {
        assert_eq!(
            request.authorization, None,
            "Authorization leaked to the blob store"
        );
        assert!(
            request.path.ends_with("?signature=fake"),
            "the query must survive: {request:?}"
        );
    }

    // A blob the registry does not know: its 404 passes through.
    let missing = sha256_digest(b"missing");
    let url = companion.registry_url(&fake.host(), &format!("team/app/blobs/{missing}"));
    assert_eq!(get(&url).await.0, 404);
}

#[tokio::test]
async fn tags_pages_link_to_the_relay() {
    let fake = FakeRegistry::start("team/app", &["a", "b", "c"], [])
        .await
        .unwrap();
    let companion = start_companion_for(&[fake.host(), fake.blob_store_host()])
        .await
        .unwrap();

    let (status, headers, body) =
        get(&companion.registry_url(&fake.host(), "team/app/tags/list?n=2")).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let page: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(page["tags"], serde_json::json!(["a", "b"]));
    let link = headers
        .get("link")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let target = link
        .strip_prefix('<')
        .and_then(|l| l.split_once('>'))
        .map(|(t, _)| t.to_owned())
        .unwrap_or_else(|| panic!("no Link target in {link:?}"));
    let prefix = format!("/api/registry/{}/v2/team/app/tags/list?", fake.host());
    assert!(
        target.starts_with(&prefix),
        "Link not rewritten to the relay: {link}"
    );
    assert!(link.contains("rel=\"next\""), "{link}");

    let (status, headers, body) = get(&format!("{}{target}", companion.url())).await;
    assert_eq!(status, 200);
    let page: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(page["tags"], serde_json::json!(["c"]));
    assert!(headers.get("link").is_none(), "the last page has no Link");
}
