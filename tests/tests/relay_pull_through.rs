//! Against real Distribution registries on loopback:
//! - the team setup of issue 5: a Distribution registry in pull-through-cache mode
//!   (`proxy.remoteurl`) in front of another one, used by the companion via `--mirror
//!   docker.io=…`; the second pull is served by the cache with the upstream stopped;
//! - the referrers fallback on Distribution 2.8, which has no referrers API: the relay
//!   reads the OCI 1.1 `sha256-<hex>` tag instead.

use strata_companion::CredentialsSource;
use strata_tests::companion::{Companion, Config, start_companion};
use strata_tests::image::{ACCEPT_ALL_MANIFESTS, OCI_INDEX, OCI_MANIFEST, sha256_digest};
use strata_tests::pull_through::PullThroughCache;
use strata_tests::push::{self, PushedImage, Pusher};
use strata_tests::registry::Registry;

async fn get(url: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let client = strata_tests::companion::client();
    let r = client
        .get(url)
        .header("Accept", ACCEPT_ALL_MANIFESTS)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.unwrap().to_vec())
}

/// Pulls `docker.io/hello:v1` (by tag, then by digest) and every blob through the relay,
/// checking each against its digest.
async fn pull(companion: &Companion, pushed: &PushedImage) {
    for reference in ["v1", pushed.manifest_digest.as_str()] {
        let url = companion.registry_url("docker.io", &format!("hello/manifests/{reference}"));
        let (status, headers, body) = get(&url).await;
        assert_eq!(status, 200, "{url}: {}", String::from_utf8_lossy(&body));
        assert_eq!(sha256_digest(&body), pushed.manifest_digest, "{url}");
        assert_eq!(
            headers["docker-content-digest"],
            pushed.manifest_digest.as_str()
        );
    }
    let digests =
        std::iter::once(&pushed.config_digest).chain(pushed.layers.iter().map(|l| &l.digest));
    for digest in digests {
        let url = companion.registry_url("docker.io", &format!("hello/blobs/{digest}"));
        let (status, _, body) = get(&url).await;
        assert_eq!(status, 200, "{url}");
        assert_eq!(&sha256_digest(&body), digest, "{url}");
    }
}

#[tokio::test]
async fn second_pull_is_served_by_the_pull_through_cache() {
    // The upstream plays Docker Hub: official images under library/.
    let upstream = Registry::start().await.unwrap();
    let pushed = push::push_three_layer_image(&upstream, "library/hello", "v1")
        .await
        .unwrap();
    let cache = PullThroughCache::start(&upstream.url()).await.unwrap();
    let companion = start_companion(Config {
        mirrors: vec![("docker.io".into(), cache.url())],
        // Docker Hub's API host is the upstream here (there is no network): when the
        // mirror fails, the relay falls back to it — so once it is stopped, only the
        // cache can answer.
        endpoint_overrides: vec![("docker.io".into(), upstream.url())],
        credentials: CredentialsSource::None,
        ..Config::default()
    })
    .await
    .unwrap();

    // First pull: the cache fetches from the upstream and keeps what it served.
    pull(&companion, &pushed).await;
    let blobs: Vec<String> = std::iter::once(pushed.config_digest.clone())
        .chain(pushed.layers.iter().map(|l| l.digest.clone()))
        .collect();
    cache.wait_for_blobs(&blobs).await.unwrap();

    // Second pull with the upstream gone: every byte comes from the cache.
    drop(upstream);
    pull(&companion, &pushed).await;
    assert!(
        cache.log().contains("/v2/library/hello/blobs/"),
        "the cache served the blobs:\n{}",
        cache.log()
    );
}

#[tokio::test]
async fn referrers_fall_back_to_the_tag_on_distribution_2_8() {
    let registry = Registry::start().await.unwrap();
    let pushed = push::push_three_layer_image(&registry, "team/app", "v1")
        .await
        .unwrap();
    // An artifact index under the tag schema: `sha256-<hex of the subject>`.
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{
            "mediaType": OCI_MANIFEST,
            "digest": pushed.manifest_digest,
            "size": pushed.manifest_bytes.len(),
            "artifactType": "application/vnd.example.sbom",
        }],
    }))
    .unwrap();
    let tag = pushed.manifest_digest.replace(':', "-");
    Pusher::for_registry(&registry)
        .unwrap()
        .push_manifest("team/app", &tag, OCI_INDEX, &index)
        .await
        .unwrap();
    let companion = start_companion(Config {
        insecure_registries: vec![registry.host()],
        credentials: CredentialsSource::None,
        ..Config::default()
    })
    .await
    .unwrap();

    let url = companion.registry_url(
        &registry.host(),
        &format!("team/app/referrers/{}", pushed.manifest_digest),
    );
    let (status, headers, body) = get(&url).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["strata-referrers-fallback"], "tag");
    assert_eq!(body, index);

    // A subject without referrers: an empty index, not an error.
    let url = companion.registry_url(
        &registry.host(),
        &format!("team/app/referrers/{}", pushed.config_digest),
    );
    let (status, _, body) = get(&url).await;
    assert_eq!(status, 200);
    let empty: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(empty["manifests"], serde_json::json!([]));
}
