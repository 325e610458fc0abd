//! The companion relaying the real Distribution registry: manifests by tag and digest,
//! blobs (with Range), tags/list, registry errors passed through,
//! its own errors when the registry is down, and the anonymous token dance against a
//! realm on another host name. Every byte is checked against its digest here.

use strata_shared::manifest::{Document, ParsedDocument};
use strata_tests::companion::{Companion, start_companion_for};
use strata_tests::fixtures;
use strata_tests::http::{Fetched, fetch, get, get_manifest};
use strata_tests::image::{ACCEPT_ALL_MANIFESTS, Format, sha256_digest};
use strata_tests::push::{self, PushedImage};
use strata_tests::registry::Registry;
use strata_tests::tap::TcpTap;
use strata_tests::token_server::{TokenServer, TokenServerConfig};

/// Fetches `reference` of `pushed` through the relay and checks it against the digest.
async fn relayed_manifest(
    companion: &Companion,
    host: &str,
    pushed: &PushedImage,
    reference: &str,
) -> Fetched {
    let url = companion.registry_url(host, &format!("{}/manifests/{reference}", pushed.name));
    let got = get_manifest(&url).await;
    assert_eq!(
        got.status,
        200,
        "{url}: {}",
        String::from_utf8_lossy(&got.body)
    );
    assert_eq!(
        sha256_digest(&got.body),
        pushed.manifest_digest,
        "manifest bytes via relay"
    );
    assert_eq!(got.header("docker-content-digest"), pushed.manifest_digest);
    assert_eq!(got.header("content-type"), pushed.manifest_media_type);
    got
}

/// Fetches every blob of `pushed` through the relay and checks each digest.
async fn relayed_blobs(companion: &Companion, host: &str, pushed: &PushedImage) {
    let config_url = companion.registry_url(
        host,
        &format!("{}/blobs/{}", pushed.name, pushed.config_digest),
    );
    let config = get(&config_url).await;
    assert_eq!(config.status, 200, "{config_url}");
    assert_eq!(
        sha256_digest(&config.body),
        pushed.config_digest,
        "config bytes via relay"
    );
    assert_eq!(config.body, pushed.config_bytes);
    for layer in &pushed.layers {
        let url = companion.registry_url(host, &format!("{}/blobs/{}", pushed.name, layer.digest));
        let blob = get(&url).await;
        assert_eq!(blob.status, 200, "{url}");
        assert_eq!(blob.body.len() as u64, layer.size);
        assert_eq!(
            sha256_digest(&blob.body),
            layer.digest,
            "layer bytes via relay"
        );
    }
}

#[tokio::test]
async fn relay_serves_manifests_blobs_and_tags() {
    let registry = Registry::start().await.unwrap();
    let host = registry.host();
    let spec = fixtures::three_layer_image();
    let pushed = push::push_image(&registry, "team/app", "v1", &spec, Format::Oci)
        .await
        .unwrap();
    push::push_image(&registry, "team/app", "v2", &spec, Format::Docker)
        .await
        .unwrap();
    let companion = start_companion_for(std::slice::from_ref(&host))
        .await
        .unwrap();

    assert_eq!(
        get(&format!("{}/api/health", companion.url())).await.status,
        200
    );

    // Manifest by tag and by digest: exact bytes, digest header passed through.
    let by_tag = relayed_manifest(&companion, &host, &pushed, "v1").await;
    let parsed =
        ParsedDocument::parse(by_tag.body.clone(), Some(by_tag.header("content-type"))).unwrap();
    assert!(matches!(parsed.document, Document::Manifest(ref m) if m.layers.len() == 3));
    let by_digest = relayed_manifest(&companion, &host, &pushed, &pushed.manifest_digest).await;
    assert_eq!(by_digest.body, by_tag.body);

    // HEAD: digest and length without a body.
    let url = companion.registry_url(&host, "team/app/manifests/v1");
    let head = fetch(
        reqwest::Method::HEAD,
        &url,
        &[("Accept", ACCEPT_ALL_MANIFESTS)],
    )
    .await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("docker-content-digest"), pushed.manifest_digest);
    assert_eq!(
        head.header("content-length"),
        pushed.manifest_bytes.len().to_string()
    );
    assert!(head.body.is_empty());

    // Config and layer blobs.
    relayed_blobs(&companion, &host, &pushed).await;

    // Range passes through.
    let layer = &pushed.layers[2];
    let url = companion.registry_url(&host, &format!("team/app/blobs/{}", layer.digest));
    let full = get(&url).await.body;
    let part = fetch(reqwest::Method::GET, &url, &[("Range", "bytes=0-99")]).await;
    assert_eq!(part.status, 206, "Range must pass through");
    assert_eq!(part.body, full[..100]);

    // tags/list (Distribution 2.8 neither sorts nor paginates tags: see relay_fake_upstream
    // for the Link rewriting).
    let tags = get(&companion.registry_url(&host, "team/app/tags/list")).await;
    assert_eq!(tags.status, 200);
    assert_eq!(tags.json()["name"], "team/app");
    assert_eq!(sorted_tags(&tags), ["v1", "v2"]);
}

fn sorted_tags(fetched: &Fetched) -> Vec<String> {
    let mut tags: Vec<String> = serde_json::from_value(fetched.json()["tags"].clone())
        .unwrap_or_else(|e| panic!("tags/list without tags ({e}): {:?}", fetched.json()));
    tags.sort();
    tags
}

#[tokio::test]
async fn relay_serves_index_and_platform_manifests() {
    let registry = Registry::start().await.unwrap();
    let host = registry.host();
    let pushed = push::push_index(&registry, "team/multi", "latest", Format::Oci)
        .await
        .unwrap();
    let companion = start_companion_for(std::slice::from_ref(&host))
        .await
        .unwrap();

    let index = get_manifest(&companion.registry_url(&host, "team/multi/manifests/latest")).await;
    assert_eq!(index.status, 200);
    assert_eq!(sha256_digest(&index.body), pushed.digest);
    assert_eq!(index.header("docker-content-digest"), pushed.digest);
    let parsed =
        ParsedDocument::parse(index.body.clone(), Some(index.header("content-type"))).unwrap();
    let Document::Index(idx) = parsed.document else {
        panic!("expected an index")
    };
    assert_eq!(idx.entries().platforms.len(), 2);
    for (_, image) in &pushed.images {
        relayed_manifest(&companion, &host, image, &image.manifest_digest).await;
        relayed_blobs(&companion, &host, image).await;
    }
    relayed_manifest(
        &companion,
        &host,
        &pushed.attestation,
        &pushed.attestation.manifest_digest,
    )
    .await;
}

#[tokio::test]
async fn relay_passes_manifest_unknown_through() {
    let registry = Registry::start().await.unwrap();
    let host = registry.host();
    push::push_three_layer_image(&registry, "team/app", "v1")
        .await
        .unwrap();
    let companion = start_companion_for(std::slice::from_ref(&host))
        .await
        .unwrap();

    let missing = get_manifest(&companion.registry_url(&host, "team/app/manifests/nope")).await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.json()["errors"][0]["code"],
        "MANIFEST_UNKNOWN",
        "{:?}",
        missing.json()
    );

    let unknown_repo = get_manifest(&companion.registry_url(&host, "team/none/manifests/v1")).await;
    assert_eq!(unknown_repo.status, 404);
    let code = unknown_repo.json()["errors"][0]["code"].clone();
    assert!(
        code == "NAME_UNKNOWN" || code == "MANIFEST_UNKNOWN",
        "{code}"
    );

    let blob = sha256_digest(b"never pushed");
    let missing_blob = get(&companion.registry_url(&host, &format!("team/app/blobs/{blob}"))).await;
    assert_eq!(missing_blob.status, 404);
}

#[tokio::test]
async fn relay_reports_a_registry_that_is_down() {
    // Start a registry to learn a port that just served, then stop it.
    let registry = Registry::start().await.unwrap();
    let host = registry.host();
    drop(registry);
    let companion = start_companion_for(std::slice::from_ref(&host))
        .await
        .unwrap();

    let got = get_manifest(&companion.registry_url(&host, "team/app/manifests/v1")).await;
    assert_eq!(got.status, 502, "{}", String::from_utf8_lossy(&got.body));
    let body = got.json();
    assert_eq!(body["code"], "UPSTREAM_UNREACHABLE", "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn relay_completes_the_anonymous_token_dance() {
    let token_server = TokenServer::start(TokenServerConfig::default())
        .await
        .unwrap();
    let registry = token_server.start_registry().await.unwrap();
    let host = registry.host();
    let pushed = push::push_three_layer_image(&registry, "team/app", "v1")
        .await
        .unwrap();
    let pushes = token_server.requests().len();

    // The realm is on `localhost`, the registry on `127.0.0.1`: both are named insecure.
    let realm_host = format!("localhost:{}", token_server.addr().port());
    let companion = start_companion_for(&[host.clone(), realm_host])
        .await
        .unwrap();

    relayed_manifest(&companion, &host, &pushed, "v1").await;
    relayed_blobs(&companion, &host, &pushed).await;
    let tags = get(&companion.registry_url(&host, "team/app/tags/list")).await;
    assert_eq!(tags.status, 200, "{}", String::from_utf8_lossy(&tags.body));
    assert_eq!(sorted_tags(&tags), ["v1"]);

    let asked = &token_server.requests()[pushes..];
    assert!(
        !asked.is_empty(),
        "the companion never asked the token server"
    );
    for request in asked {
        assert!(
            !request.had_authorization,
            "anonymous dance must send no credentials: {request:?}"
        );
        assert_eq!(request.service.as_deref(), Some(token_server.service()));
        assert_eq!(request.scopes, ["repository:team/app:pull"], "{request:?}");
        assert_eq!(request.status, 200);
    }
    // One token serves the manifest, the blobs and the tags (cached per registry + scope).
    assert_eq!(asked.len(), 1, "tokens should be cached: {asked:?}");
}

/// Connection reuse: a whole pull — ping, manifest by tag and by digest, config and every
/// layer — goes to the real registry over one TCP connection (a counting tap sits in
/// front of it), instead of a connection per request.
#[tokio::test]
async fn relay_reuses_one_upstream_connection_for_a_pull() {
    let registry = Registry::start().await.unwrap();
    let pushed = push::push_three_layer_image(&registry, "team/app", "v1")
        .await
        .unwrap();
    let tap = TcpTap::start(registry.host().parse().unwrap())
        .await
        .unwrap();
    let host = tap.host();
    let companion = start_companion_for(std::slice::from_ref(&host))
        .await
        .unwrap();
    relayed_manifest(&companion, &host, &pushed, "v1").await;
    relayed_manifest(&companion, &host, &pushed, &pushed.manifest_digest).await;
    relayed_blobs(&companion, &host, &pushed).await;
    assert_eq!(
        tap.connections(),
        1,
        "{} requests over one connection",
        3 + pushed.layers.len() + 1
    );
}
