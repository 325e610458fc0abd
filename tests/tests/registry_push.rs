//! Images built in code, pushed to the real Distribution registry, read back by tag and
//! digest, parsed by `strata_shared::manifest`, and cross-checked with skopeo.

use strata_shared::manifest::{Document, ImageConfig, ParsedDocument, layer_history};
use strata_shared::{Digest, MediaType};
use strata_tests::fixtures;
use strata_tests::image::{self, Format, IN_TOTO, PREDICATE_TYPE, SLSA_PROVENANCE_V02};
use strata_tests::push::{self, PushedImage, Pusher};
use strata_tests::registry::Registry;
use strata_tests::token_server::{TokenServer, TokenServerConfig};
use strata_tests::tools;

/// Reads `name:reference` back and checks it byte for byte against what was pushed.
async fn read_back(registry: &Registry, pushed: &PushedImage, reference: &str) -> ParsedDocument {
    let pusher = Pusher::for_registry(registry).unwrap();
    let (status, headers, body) = pusher.get_manifest(&pushed.name, reference).await.unwrap();
    assert_eq!(
        status,
        200,
        "GET manifest {reference}: {}",
        String::from_utf8_lossy(&body)
    );
    let header = |h: &str| {
        headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    assert_eq!(header("docker-content-digest"), pushed.manifest_digest);
    assert_eq!(header("content-type"), pushed.manifest_media_type);
    assert_eq!(
        body, pushed.manifest_bytes,
        "registry must serve the exact bytes pushed"
    );
    let parsed = ParsedDocument::parse(body, Some(header("content-type"))).unwrap();
    assert_eq!(parsed.digest().to_string(), pushed.manifest_digest);
    parsed
}

async fn image_round_trip(format: Format) {
    let registry = Registry::start().await.unwrap();
    let spec = fixtures::three_layer_image();
    let pushed = push::push_image(&registry, "team/app", "v1", &spec, format)
        .await
        .unwrap();

    // By tag, then by digest: same bytes, same digest.
    let parsed = read_back(&registry, &pushed, "v1").await;
    read_back(&registry, &pushed, &pushed.manifest_digest).await;

    assert_eq!(parsed.media_type, MediaType::parse(format.manifest_type()));
    let Document::Manifest(manifest) = &parsed.document else {
        panic!("expected an image manifest, got {:?}", parsed.document);
    };
    assert_eq!(manifest.config.digest.to_string(), pushed.config_digest);
    assert_eq!(
        manifest.config.media_type,
        MediaType::parse(format.config_type())
    );
    let layer_digests: Vec<String> = manifest
        .layers
        .iter()
        .map(|l| l.digest.to_string())
        .collect();
    let pushed_digests: Vec<String> = pushed.layers.iter().map(|l| l.digest.clone()).collect();
    assert_eq!(layer_digests, pushed_digests);
    for (descriptor, layer) in manifest.layers.iter().zip(&pushed.layers) {
        assert_eq!(descriptor.size, layer.size);
        assert_eq!(descriptor.media_type, MediaType::parse(format.layer_type()));
    }

    // The config blob as served parses, and its diff_ids are the layers' diff_ids.
    let pusher = Pusher::for_registry(&registry).unwrap();
    let (status, config_bytes) = pusher
        .get_blob("team/app", &pushed.config_digest)
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(image::sha256_digest(&config_bytes), pushed.config_digest);
    let config = ImageConfig::parse(&config_bytes).unwrap();
    assert_eq!(
        (config.os.as_str(), config.architecture.as_str()),
        ("linux", "amd64")
    );
    let diff_ids: Vec<String> = config
        .rootfs
        .diff_ids
        .iter()
        .map(Digest::to_string)
        .collect();
    let pushed_diff_ids: Vec<String> = pushed.layers.iter().map(|l| l.diff_id.clone()).collect();
    assert_eq!(diff_ids, pushed_diff_ids);
    let runtime = config.config.as_ref().expect("runtime config");
    assert_eq!(runtime.user.as_deref(), Some("1000:1000"));
    assert_eq!(runtime.working_dir.as_deref(), Some("/srv"));
    assert!(
        runtime
            .env
            .as_ref()
            .unwrap()
            .contains(&"APP_MODE=test".to_owned())
    );
    assert!(
        runtime
            .exposed_ports
            .as_ref()
            .unwrap()
            .contains_key("8080/tcp")
    );
    assert_eq!(runtime.labels.as_ref().unwrap(), &fixtures::labels());
    // Five history steps: layer, ENV (empty), layer, layer, CMD (empty).
    assert_eq!(config.history.len(), 5);
    assert_eq!(
        layer_history(&config.history, 3),
        vec![Some(0), Some(2), Some(3)]
    );

    // Every layer blob as served hashes to its digest, and unpacks to its diff_id.
    for layer in &pushed.layers {
        let (status, blob) = pusher.get_blob("team/app", &layer.digest).await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(image::sha256_digest(&blob), layer.digest);
        let mut tar = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&blob[..]), &mut tar).unwrap();
        assert_eq!(image::sha256_digest(&tar), layer.diff_id);
    }

    // skopeo reads the same manifest.
    let skopeo = tools::skopeo_inspect_digest(&registry.host(), "team/app", "v1")
        .await
        .unwrap();
    assert_eq!(skopeo, pushed.manifest_digest);
}

#[tokio::test]
async fn oci_image_round_trips() {
    image_round_trip(Format::Oci).await;
}

#[tokio::test]
async fn docker_image_round_trips() {
    image_round_trip(Format::Docker).await;
}

async fn index_round_trip(format: Format) {
    let registry = Registry::start().await.unwrap();
    let pushed = push::push_index(&registry, "team/multi", "latest", format)
        .await
        .unwrap();
    let pusher = Pusher::for_registry(&registry).unwrap();

    let (status, headers, body) = pusher.get_manifest("team/multi", "latest").await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        headers["docker-content-digest"].to_str().unwrap(),
        pushed.digest
    );
    assert_eq!(
        headers["content-type"].to_str().unwrap(),
        format.index_type()
    );
    assert_eq!(body, pushed.bytes);

    let parsed = ParsedDocument::parse(body, Some(format.index_type())).unwrap();
    assert_eq!(parsed.digest().to_string(), pushed.digest);
    let Document::Index(index) = &parsed.document else {
        panic!("expected an index, got {:?}", parsed.document);
    };
    assert_eq!(index.manifests.len(), 3);
    let entries = index.entries();
    let platforms: Vec<String> = entries
        .platforms
        .iter()
        .map(|p| {
            let p = p.platform();
            format!(
                "{}/{}{}",
                p.os,
                p.architecture,
                p.variant.map(|v| format!("/{v}")).unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64/v8"]);
    assert!(entries.orphan_attestations.is_empty());
    let amd64 = &entries.platforms[0];
    assert_eq!(
        amd64.descriptor.digest.to_string(),
        pushed.images[0].1.manifest_digest
    );
    assert_eq!(
        amd64.attestations.len(),
        1,
        "the attestation belongs to linux/amd64"
    );
    assert!(entries.platforms[1].attestations.is_empty());
    assert_eq!(
        amd64.attestations[0].digest.to_string(),
        pushed.attestation.manifest_digest
    );

    // Each platform manifest reads back by digest; the two differ.
    for (_, image) in &pushed.images {
        read_back(&registry, image, &image.manifest_digest).await;
    }
    assert_ne!(
        pushed.images[0].1.manifest_digest,
        pushed.images[1].1.manifest_digest
    );

    // The attestation manifest: one in-toto layer with the SLSA predicate annotation,
    // whose statement names the amd64 manifest.
    let attestation = read_back(
        &registry,
        &pushed.attestation,
        &pushed.attestation.manifest_digest,
    )
    .await;
    let Document::Manifest(att) = &attestation.document else {
        panic!("attestation is a manifest")
    };
    assert_eq!(att.layers.len(), 1);
    assert_eq!(att.layers[0].media_type, MediaType::parse(IN_TOTO));
    assert_eq!(
        att.layers[0].annotation(PREDICATE_TYPE),
        Some(SLSA_PROVENANCE_V02)
    );
    let (status, statement) = pusher
        .get_blob("team/multi", &att.layers[0].digest.to_string())
        .await
        .unwrap();
    assert_eq!(status, 200);
    let statement: serde_json::Value = serde_json::from_slice(&statement).unwrap();
    assert_eq!(statement["predicateType"], SLSA_PROVENANCE_V02);
    let subject = format!(
        "sha256:{}",
        statement["subject"][0]["digest"]["sha256"]
            .as_str()
            .unwrap()
    );
    assert_eq!(subject, pushed.images[0].1.manifest_digest);

    let skopeo = tools::skopeo_inspect_digest(&registry.host(), "team/multi", "latest")
        .await
        .unwrap();
    assert_eq!(skopeo, pushed.digest);
}

#[tokio::test]
async fn oci_index_with_attestation_round_trips() {
    index_round_trip(Format::Oci).await;
}

#[tokio::test]
async fn docker_manifest_list_with_attestation_round_trips() {
    index_round_trip(Format::Docker).await;
}

#[tokio::test]
async fn missing_tag_is_manifest_unknown() {
    let registry = Registry::start().await.unwrap();
    let pusher = Pusher::for_registry(&registry).unwrap();
    let (status, _, body) = pusher.get_manifest("team/app", "nope").await.unwrap();
    assert_eq!(status, 404);
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["errors"][0]["code"], "MANIFEST_UNKNOWN", "{body}");
}

#[tokio::test]
async fn token_auth_registry_demands_tokens_and_skopeo_completes_the_dance() {
    let token_server = TokenServer::start(TokenServerConfig::default())
        .await
        .unwrap();
    let registry = token_server.start_registry().await.unwrap();

    // Anonymous requests get a Bearer challenge naming the realm on the other host name.
    let resp = reqwest::get(format!("{}/v2/team/app/manifests/v1", registry.url()))
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let challenge = resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    let params = push::parse_bearer_challenge(&challenge).unwrap();
    assert_eq!(params["realm"], token_server.realm());
    assert!(
        params["realm"].starts_with("http://localhost:"),
        "{challenge}"
    );
    assert_eq!(params["service"], token_server.service());
    assert_eq!(params["scope"], "repository:team/app:pull");

    // The pusher logs in with Basic credentials and gets push rights.
    let pushed = push::push_image(
        &registry,
        "team/app",
        "v1",
        &fixtures::three_layer_image(),
        Format::Oci,
    )
    .await
    .unwrap_or_else(|e| panic!("push through token auth: {e:#}\n{}", registry.log()));
    assert!(token_server.requests().iter().any(|r| r.user.is_some()));

    // An anonymous token grants pull only: pushing with it is refused.
    let anonymous = Pusher::new(&registry.host()).unwrap();
    let err = anonymous
        .push_blob("team/app", &image::sha256_digest(b"x"), b"x")
        .await
        .expect_err("anonymous push must be refused");
    assert!(err.to_string().contains("401"), "{err:#}");
    // …but pulls work.
    let (status, _, body) = anonymous.get_manifest("team/app", "v1").await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(image::sha256_digest(&body), pushed.manifest_digest);

    // A token signed by another key is refused by the registry.
    let other = TokenServer::start(TokenServerConfig::default())
        .await
        .unwrap();
    let forged = other.token_for("team/app", &["pull"]).unwrap();
    let resp = reqwest::Client::new()
        .get(format!("{}/v2/team/app/manifests/v1", registry.url()))
        .bearer_auth(forged)
        .header("Accept", image::OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        401,
        "a token from an untrusted signer must not pass"
    );

    // skopeo completes the anonymous token dance against the other host name.
    let before = token_server.requests().len();
    let skopeo = tools::skopeo_inspect_digest(&registry.host(), "team/app", "v1")
        .await
        .unwrap();
    assert_eq!(skopeo, pushed.manifest_digest);
    let after = token_server.requests();
    assert!(
        after[before..]
            .iter()
            .any(|r| r.user.is_none() && r.scopes.iter().any(|s| s == "repository:team/app:pull")),
        "skopeo should have asked for an anonymous pull token: {after:?}"
    );
}
