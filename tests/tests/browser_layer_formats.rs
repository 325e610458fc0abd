//! Real-browser tests of the layer formats met in the wild (issue 16, item 4): a foreign
//! layer is listed with its URLs and never fetched, an ocicrypt layer is shown as
//! encrypted with its recipients' key types, and eStargz and zstd:chunked layers are
//! labelled — none of them counted as a failure. Also the overview's distribution facts
//! (item 3). The manifests are written here, descriptor by descriptor, and pushed to the
//! real Distribution registry; a foreign layer's blob is never pushed.

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use strata_tests::browser::{
    Browser, attributes, save_screenshot, start_app, visible_text, wait_for_state,
};
use strata_tests::image::{Entry, LayerSpec, gzip, sha256_digest};
use strata_tests::lazy_layers::zstd;
use strata_tests::push::{RawLayer, push_raw_image as push};
use strata_tests::registry::Registry;

const TIMEOUT: Duration = Duration::from_secs(60);
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const DOCKER_FOREIGN: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const OCI_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
/// Nothing listens on the discard port of loopback: were the page to follow the URL,
/// the layer would fail.
const FOREIGN_URL: &str = "http://127.0.0.1:9/windows/base-layer.tar.gz";

/// The tar of one file.
fn tar_of(path: &str, contents: &str) -> anyhow::Result<Vec<u8>> {
    LayerSpec::new("COPY", vec![Entry::file(path, contents, 0o644)]).tar()
}

/// A layer stored in the registry, with `annotations` on its descriptor.
fn stored(media_type: &str, tar: Vec<u8>, blob: Vec<u8>, annotations: Value) -> RawLayer {
    let mut descriptor = json!({
        "mediaType": media_type,
        "digest": sha256_digest(&blob),
        "size": blob.len(),
    });
    if annotations.as_object().is_some_and(|a| !a.is_empty()) {
        descriptor["annotations"] = annotations;
    }
    RawLayer {
        descriptor,
        diff_id: sha256_digest(&tar),
        blob: Some(blob),
    }
}

fn gzip_layer(path: &str, annotations: Value) -> anyhow::Result<RawLayer> {
    let tar = tar_of(path, path)?;
    Ok(stored(OCI_GZIP, tar.clone(), gzip(&tar)?, annotations))
}

async fn rows(client: &Client, attribute: &str) -> anyhow::Result<Vec<String>> {
    attributes(client, "tr[data-layer-digest]", attribute).await
}

async fn fact(client: &Client, name: &str) -> anyhow::Result<String> {
    visible_text(
        client,
        &format!("[data-distribution-facts] [data-fact={name}]"),
    )
    .await
}

async fn assert_nothing_failed(client: &Client) -> anyhow::Result<()> {
    assert!(
        client
            .find_all(Locator::Css(
                "[data-strata-failures], [data-partly-verified], [data-layer-error]"
            ))
            .await?
            .is_empty(),
        "a layer that is not fetched is no failure: {}",
        visible_text(client, "main").await?
    );
    Ok(())
}

#[tokio::test]
async fn a_foreign_layer_is_listed_with_its_urls_and_never_fetched() -> anyhow::Result<()> {
    let registry = Registry::start().await?;
    let base = tar_of("/etc/base", "base")?;
    let foreign_tar = tar_of("/Windows/System32/kernel32.dll", "not here")?;
    let foreign_blob = gzip(&foreign_tar)?;
    let top = tar_of("/app/run", "run")?;
    let layers = [
        stored(DOCKER_LAYER, base.clone(), gzip(&base)?, json!({})),
        RawLayer {
            descriptor: json!({
                "mediaType": DOCKER_FOREIGN,
                "digest": sha256_digest(&foreign_blob),
                "size": foreign_blob.len(),
                "urls": [FOREIGN_URL],
            }),
            diff_id: sha256_digest(&foreign_tar),
            blob: None,
        },
        stored(DOCKER_LAYER, top.clone(), gzip(&top)?, json!({})),
    ];
    push(
        &registry,
        "team/foreign",
        "v1",
        DOCKER_MANIFEST,
        DOCKER_CONFIG,
        &layers,
    )
    .await?;
    let app = start_app(&registry).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    let page = format!("{}/image/{}/team/foreign:v1", app.url(), registry.host());
    client.goto(&page).await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;

    assert_eq!(
        rows(&client, "data-layer-state").await?,
        ["verified", "not-fetched", "verified"]
    );
    assert_eq!(
        rows(&client, "data-layer-format").await?,
        ["", "foreign", ""]
    );
    assert_eq!(
        attributes(
            &client,
            "[data-layer-foreign-url]",
            "data-layer-foreign-url"
        )
        .await?,
        [FOREIGN_URL]
    );
    let row = visible_text(&client, "tr[data-layer-format=foreign]").await?;
    assert!(
        row.contains("foreign layer: not distributed by this registry")
            && row.contains(FOREIGN_URL),
        "{row}"
    );
    assert_nothing_failed(&client).await?;
    save_screenshot(&client, "layer_formats_foreign").await?;

    let longevity = fact(&client, "longevity").await?;
    assert!(longevity.contains("opened by tag v1"), "{longevity}");
    let registry_fact = fact(&client, "registry").await?;
    assert!(registry_fact.contains(&registry.host()), "{registry_fact}");
    let integrity = fact(&client, "integrity").await?;
    assert!(
        integrity.contains("2 of 3 layers verified") && integrity.contains("1 not fetched"),
        "{integrity}"
    );
    let transport = fact(&client, "transport").await?;
    assert!(
        transport.contains("gzip × 3") && transport.contains("1 layer from other hosts"),
        "{transport}"
    );

    // The merged tree has the two fetched layers' files and says the third's are unknown.
    client.goto(&format!("{page}?tab=files")).await?;
    let note = client
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::Css("[data-unfetched-layers]"))
        .await?;
    assert_eq!(
        note.attr("data-unfetched-layers").await?.as_deref(),
        Some("1")
    );
    assert!(note.text().await?.contains("files are unknown"));
    client.close().await?;
    Ok(())
}

#[tokio::test]
async fn encrypted_estargz_and_zstd_chunked_layers_are_recognized() -> anyhow::Result<()> {
    use base64::Engine as _;
    let registry = Registry::start().await?;
    let estargz = gzip_layer(
        "/lazy/estargz",
        json!({"containerd.io/snapshot/stargz/toc.digest": sha256_digest(b"toc")}),
    )?;
    let chunked_tar = tar_of("/lazy/chunked", "chunked")?;
    let chunked = stored(
        OCI_ZSTD,
        chunked_tar.clone(),
        zstd(&chunked_tar)?,
        json!({"io.github.containers.zstd-chunked.manifest-checksum": sha256_digest(b"manifest")}),
    );
    let older_tar = tar_of("/lazy/older", "older")?;
    let older = stored(
        OCI_ZSTD,
        older_tar.clone(),
        zstd(&older_tar)?,
        json!({"io.containers.zstd-chunked.manifest-checksum": sha256_digest(b"older")}),
    );
    // ocicrypt's shape: the ciphertext as the blob, the wrapped keys per scheme in
    // annotations, and the public options (the cipher) in base64 JSON.
    let secret_tar = tar_of("/secret/key", "secret")?;
    let pubopts = base64::engine::general_purpose::STANDARD
        .encode(br#"{"cipher":"AES_256_CTR_HMAC_SHA256","hmac":"aGk=","cipheroptions":{}}"#);
    let encrypted = stored(
        &format!("{OCI_GZIP}+encrypted"),
        secret_tar,
        b"ciphertext: not gzip, not a tar".to_vec(),
        json!({
            "org.opencontainers.image.enc.keys.jwe": "eyJwcm90ZWN0ZWQiOiIuLi4ifQ==",
            "org.opencontainers.image.enc.keys.pkcs7": "MIIB...",
            "org.opencontainers.image.enc.pubopts": pubopts,
        }),
    );
    let digest = push(
        &registry,
        "team/formats",
        "v1",
        OCI_MANIFEST,
        OCI_CONFIG,
        &[estargz, chunked, older, encrypted],
    )
    .await?;
    let app = start_app(&registry).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    client
        .goto(&format!(
            "{}/image/{}/team/formats@{digest}",
            app.url(),
            registry.host()
        ))
        .await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;

    assert_eq!(
        rows(&client, "data-layer-state").await?,
        ["verified", "verified", "verified", "not-fetched"]
    );
    assert_eq!(
        rows(&client, "data-layer-format").await?,
        ["estargz", "zstd-chunked", "zstd-chunked", "encrypted"]
    );
    let labels = visible_text(&client, "tr[data-layer-digest] .badge.format").await?;
    assert_eq!(labels, "eStargz | zstd:chunked | zstd:chunked | encrypted");
    assert_eq!(
        attributes(
            &client,
            "[data-encryption-recipients]",
            "data-encryption-recipients"
        )
        .await?,
        ["jwe,pkcs7"]
    );
    let row = visible_text(&client, "tr[data-layer-format=encrypted]").await?;
    assert!(
        row.contains("encrypted: contents not readable, digest not checked")
            && row.contains("jwe, pkcs7")
            && row.contains("AES_256_CTR_HMAC_SHA256")
            && !row.contains("decompress"),
        "{row}"
    );
    assert_nothing_failed(&client).await?;
    save_screenshot(&client, "layer_formats_encrypted").await?;
    let badge = visible_text(&client, ".image-header .badge.ok").await?;
    assert!(badge.contains("1 layer not fetched"), "{badge}");

    let confidentiality = client
        .find(Locator::Css("[data-fact=confidentiality]"))
        .await?;
    assert_eq!(
        confidentiality
            .attr("data-encrypted-layers")
            .await?
            .as_deref(),
        Some("1")
    );
    let text = confidentiality.text().await?;
    assert!(text.contains("jwe, pkcs7"), "{text}");
    let longevity = fact(&client, "longevity").await?;
    assert!(longevity.contains("opened by digest"), "{longevity}");
    let transport = fact(&client, "transport").await?;
    assert!(
        transport.contains("1 eStargz") && transport.contains("2 zstd:chunked"),
        "{transport}"
    );
    client.close().await?;
    Ok(())
}
